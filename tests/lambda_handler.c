/* The Lambda handler without the runtime loop: responses for each kind of
 * event, the deadline margin, configuration from the environment, and a
 * real collation into a local store (then its replay). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/buf.h"
#include "core/utctime.h"
#include "lambda/lambda.h"
#include "unit.h"

static lambda_handler *handler_for(const char *store_url)
{
  lambda_config config;
  cl_error err;
  cl_error_clear(&err);
  CHECK_OK(lambda_config_from_env(&config, &err), &err);
  config.store_url = store_url;
  config.pinned_now = 1;
  config.options.now_micros = INT64_C(1763719200000000);
  lambda_handler *handler = NULL;
  CHECK_OK(lambda_handler_create(&config, &handler, &err), &err);
  return handler;
}

typedef struct handler_vector {
  const char *name;
  const char *event;
  cl_status status;
  const char *response_or_error; /* the response, or a substring of the error */
} handler_vector;

static const handler_vector vectors[] = {
  {"test event", "{\"Event\": \"s3:TestEvent\"}", CL_OK,
   "{\"processed\": 0, \"rejected\": 0, \"unchanged\": 0, \"skipped\": 1}"},
  {"empty records", "{\"Records\": []}", CL_OK,
   "{\"processed\": 0, \"rejected\": 0, \"unchanged\": 0, \"skipped\": 0}"},
  {"sqs names only the bad message",
   "{\"Records\": [{\"messageId\": \"ok\", \"eventSource\": \"aws:sqs\", \"body\": \"{\\\"Event\\\": \\\"s3:TestEvent\\\"}\"}, "
   "{\"messageId\": \"bad\", \"eventSource\": \"aws:sqs\", \"body\": \"[]\"}, "
   "{\"messageId\": \"bad2\", \"eventSource\": \"aws:sqs\", \"body\": \"nope\"}]}",
   CL_OK, "{\"batchItemFailures\": [{\"itemIdentifier\": \"bad\"}, {\"itemIdentifier\": \"bad2\"}]}"},
  {"sqs all good", "{\"Records\": [{\"messageId\": \"m\", \"eventSource\": \"aws:sqs\", \"body\": \"{\\\"Records\\\": []}\"}]}",
   CL_OK, "{\"batchItemFailures\": []}"},
  {"malformed", "{\"Records\": 7}", CL_ERR_FORMAT, "Records is not an array"},
  {"not json", "", CL_ERR_FORMAT, "event"},
};

TEST(lambda_handler_responses)
{
  lambda_handler *handler = handler_for(unit_temp_dir());
  for(size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
    const handler_vector *v = &vectors[i];
    buf response = BUF_INIT;
    lambda_outcome outcome;
    cl_error err;
    cl_error_clear(&err);
    cl_status status = lambda_handle_event(handler, v->event, strlen(v->event),
                                           &(lambda_invocation){"req-1", 0}, &response, &outcome,
                                           &err);
    if(status != v->status)
      unit_fail(__FILE__, __LINE__, "%s: %s (%s), expected %s", v->name, cl_status_name(status),
                err.message, cl_status_name(v->status));
    else if(!status && (!response.data || strcmp(response.data, v->response_or_error)))
      unit_fail(__FILE__, __LINE__, "%s: response %s", v->name,
                response.data ? response.data : "(none)");
    else if(status && !strstr(err.message, v->response_or_error))
      unit_fail(__FILE__, __LINE__, "%s: error \"%s\"", v->name, err.message);
    buf_free(&response);
  }
  lambda_handler_free(handler);
}

TEST(lambda_handler_deadline_margin)
{
  lambda_handler *handler = handler_for(unit_temp_dir());
  const char *event = "{\"bucket\": \"b\", \"key\": \"uploads/users/1/s/d/sms_log/f.json\"}";
  buf response = BUF_INIT;
  lambda_outcome outcome;
  cl_error err;
  cl_error_clear(&err);
  /* Five seconds left, ten seconds of margin (the default): not started. */
  int64_t deadline = utc_now_micros() / 1000 + 5000;
  CHECK_STATUS(lambda_handle_event(handler, event, strlen(event),
                                   &(lambda_invocation){"req-2", deadline}, &response, &outcome,
                                   &err),
               CL_ERR_TRANSIENT);
  CHECK(strstr(err.message, "not started") != NULL);
  CHECK_STR(lambda_error_type(CL_ERR_TRANSIENT), "UploadFailed");
  CHECK_INT(outcome.failed, 1);
  CHECK_INT(outcome.processed, 0);
  buf_free(&response);
  lambda_handler_free(handler);
}

TEST(lambda_error_document_matches_runtime_format)
{
  static const struct {
    cl_status status;
    const char *message, *document;
  } cases[] = {
    {CL_ERR_TRANSIENT, "s3: HTTP 503",
     "{\"errorMessage\": \"s3: HTTP 503\", \"errorType\": \"UploadFailed\"}"},
    {CL_ERR_FORMAT, "bad \"key\"\n",
     "{\"errorMessage\": \"bad \\\"key\\\"\\n\", \"errorType\": \"InvalidEvent\"}"},
    {CL_ERR_USAGE, "", "{\"errorMessage\": \"\", \"errorType\": \"InvalidConfiguration\"}"},
  };
  for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    buf out = BUF_INIT;
    lambda_error_document(cases[i].status, cases[i].message, &out);
    CHECK_INT(buf_status(&out), CL_OK);
    CHECK_STR(out.data, cases[i].document);
    buf_free(&out);
  }
}

static void write_file(const char *dir, const char *key, const char *text)
{
  char path[1024];
  snprintf(path, sizeof(path), "%s/%s", dir, key);
  for(char *p = path + strlen(dir) + 1; *p; p++)
    if(*p == '/') {
      *p = '\0';
      mkdir(path, 0777);
      *p = '/';
    }
  FILE *file = fopen(path, "wb");
  CHECK(file != NULL);
  if(file) {
    fputs(text, file);
    fclose(file);
  }
}

TEST(lambda_handler_collates_then_unchanged)
{
  const char *dir = unit_temp_dir();
  const char *key = "uploads/users/42/unknown/dev 1/app_packages/a b+c.json";
  write_file(dir, key, "[{\"package_name\": \"com.a\"}, {\"package_name\": \"com.b\"}]");
  lambda_handler *handler = handler_for(dir);
  /* The S3 notification form of the key: "+" for spaces, "%2B" for "+". */
  const char *event =
    "{\"Records\": [{\"eventVersion\": \"2.1\", \"eventSource\": \"aws:s3\", \"eventName\": "
    "\"ObjectCreated:Put\", \"s3\": {\"bucket\": {\"name\": \"b\"}, \"object\": {\"key\": "
    "\"uploads/users/42/unknown/dev+1/app_packages/a+b%2Bc.json\"}}}]}";
  static const char *expected[] = {
    "{\"processed\": 1, \"rejected\": 0, \"unchanged\": 0, \"skipped\": 0}",
    "{\"processed\": 0, \"rejected\": 0, \"unchanged\": 1, \"skipped\": 0}",
  };
  for(int round = 0; round < 2; round++) {
    buf response = BUF_INIT;
    lambda_outcome outcome;
    cl_error err;
    cl_error_clear(&err);
    CHECK_OK(lambda_handle_event(handler, event, strlen(event),
                                 &(lambda_invocation){"req-3", 0}, &response, &outcome, &err),
             &err);
    CHECK_STR(response.data, expected[round]);
    buf_free(&response);
  }
  char path[1024];
  snprintf(path, sizeof(path), "%s/collated_logs/user-42/device-dev 1/collated_app_packages.txt",
           dir);
  struct stat st;
  CHECK(stat(path, &st) == 0);
  lambda_handler_free(handler);
}

TEST(lambda_config_environment)
{
  static const struct {
    const char *role, *margin;
    cl_status status;
    int64_t margin_ms;
  } cases[] = {
    {NULL, NULL, CL_OK, 10000},  {"dlq", "0", CL_OK, 0},         {"primary", "2500", CL_OK, 2500},
    {"both", NULL, CL_ERR_USAGE, 0}, {NULL, "10s", CL_ERR_USAGE, 0}, {NULL, "-5", CL_ERR_USAGE, 0},
  };
  for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    if(cases[i].role)
      setenv("COLLATOR_FUNCTION_ROLE", cases[i].role, 1);
    else
      unsetenv("COLLATOR_FUNCTION_ROLE");
    if(cases[i].margin)
      setenv("COLLATOR_DEADLINE_MARGIN_MS", cases[i].margin, 1);
    else
      unsetenv("COLLATOR_DEADLINE_MARGIN_MS");
    lambda_config config;
    cl_error err;
    cl_error_clear(&err);
    cl_status status = lambda_config_from_env(&config, &err);
    CHECK_INT(status, cases[i].status);
    if(!status) {
      CHECK_INT(config.deadline_margin_ms, cases[i].margin_ms);
      CHECK_STR(config.function_role, cases[i].role ? cases[i].role : "primary");
    }
  }
  unsetenv("COLLATOR_FUNCTION_ROLE");
  unsetenv("COLLATOR_DEADLINE_MARGIN_MS");
}

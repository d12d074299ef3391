/* Event decoding: every shape the function can receive, the fixtures under
 * tests/fixtures/events (run from the repository root), the deadline header
 * and the EMF line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "lambda/lambda.h"
#include "unit.h"

#define MAX_EXPECTED 6

typedef struct expected_item {
  const char *bucket, *key, *message_id; /* key NULL: a failed SQS message */
  lambda_source source;
} expected_item;

typedef struct event_vector {
  const char *name;
  const char *json;
  cl_status status;
  const char *error_contains;
  int is_sqs;
  size_t skipped;
  size_t count;
  expected_item items[MAX_EXPECTED];
} event_vector;

#define S3_RECORD(name, bucket, key)                                                     \
  "{\"eventVersion\": \"2.1\", \"eventSource\": \"aws:s3\", \"eventName\": \"" name     \
  "\", \"s3\": {\"bucket\": {\"name\": \"" bucket "\"}, \"object\": {\"key\": \"" key  \
  "\", \"size\": 1}}}"

static const event_vector vectors[] = {
  {"s3 put", "{\"Records\": [" S3_RECORD("ObjectCreated:Put", "b", "uploads/users/1/s/d/sms_log/f.json") "]}",
   CL_OK, NULL, 0, 0, 1, {{"b", "uploads/users/1/s/d/sms_log/f.json", NULL, LAMBDA_SOURCE_S3}}},
  {"s3 key url-decoded",
   "{\"Records\": [" S3_RECORD("ObjectCreated:Post", "b", "uploads/users/1/s/dev+1/sms_log/a+b%2Bc%25.json") "]}",
   CL_OK, NULL, 0, 0, 1, {{"b", "uploads/users/1/s/dev 1/sms_log/a b+c%.json", NULL, LAMBDA_SOURCE_S3}}},
  {"s3 utf-8 key", "{\"Records\": [" S3_RECORD("ObjectCreated:Copy", "b", "uploads/users/1/s/d/sms_log/%C3%A9t%C3%A9.json") "]}",
   CL_OK, NULL, 0, 0, 1, {{"b", "uploads/users/1/s/d/sms_log/\xc3\xa9t\xc3\xa9.json", NULL, LAMBDA_SOURCE_S3}}},
  {"s3 removal skipped", "{\"Records\": [" S3_RECORD("ObjectRemoved:Delete", "b", "k") ", "
   S3_RECORD("ObjectCreated:Put", "b", "k2") "]}",
   CL_OK, NULL, 0, 1, 1, {{"b", "k2", NULL, LAMBDA_SOURCE_S3}}},
  {"s3 empty records", "{\"Records\": []}", CL_OK, NULL, 0, 0, 0, {{0}}},
  {"s3 test event", "{\"Service\": \"Amazon S3\", \"Event\": \"s3:TestEvent\", \"Bucket\": \"b\"}",
   CL_OK, NULL, 0, 1, 0, {{0}}},
  {"sns wrapped",
   "{\"Records\": [{\"EventSource\": \"aws:sns\", \"Sns\": {\"Type\": \"Notification\", \"Message\": "
   "\"{\\\"Records\\\": [{\\\"eventVersion\\\": \\\"2.0\\\", \\\"eventName\\\": \\\"ObjectCreated:Put\\\", "
   "\\\"s3\\\": {\\\"bucket\\\": {\\\"name\\\": \\\"b\\\"}, \\\"object\\\": {\\\"key\\\": \\\"x+y\\\"}}}]}\"}}]}",
   CL_OK, NULL, 0, 0, 1, {{"b", "x y", NULL, LAMBDA_SOURCE_SNS}}},
  {"sns wrapped test event",
   "{\"Records\": [{\"Sns\": {\"Message\": \"{\\\"Event\\\": \\\"s3:TestEvent\\\"}\"}}]}",
   CL_OK, NULL, 0, 1, 0, {{0}}},
  {"sqs s3 body and bad body",
   "{\"Records\": [{\"messageId\": \"m1\", \"eventSource\": \"aws:sqs\", \"body\": "
   "\"{\\\"Records\\\": [{\\\"eventVersion\\\": \\\"2.1\\\", \\\"eventName\\\": \\\"ObjectCreated:Put\\\", "
   "\\\"s3\\\": {\\\"bucket\\\": {\\\"name\\\": \\\"b\\\"}, \\\"object\\\": {\\\"key\\\": \\\"k%201\\\"}}}]}\"}, "
   "{\"messageId\": \"m2\", \"eventSource\": \"aws:sqs\", \"body\": \"{\\\"nope\\\": 1}\"}]}",
   CL_OK, NULL, 1, 0, 2, {{"b", "k 1", "m1", LAMBDA_SOURCE_SQS}, {NULL, NULL, "m2", LAMBDA_SOURCE_SQS}}},
  {"sqs on-failure record",
   "{\"Records\": [{\"messageId\": \"m3\", \"eventSource\": \"aws:sqs\", \"body\": "
   "\"{\\\"requestContext\\\": {\\\"condition\\\": \\\"RetriesExhausted\\\"}, \\\"requestPayload\\\": "
   "{\\\"Records\\\": [{\\\"eventVersion\\\": \\\"2.1\\\", \\\"eventName\\\": \\\"ObjectCreated:Put\\\", "
   "\\\"s3\\\": {\\\"bucket\\\": {\\\"name\\\": \\\"b\\\"}, \\\"object\\\": {\\\"key\\\": \\\"a+b\\\"}}}]}}\"}]}",
   CL_OK, NULL, 1, 0, 1, {{"b", "a b", "m3", LAMBDA_SOURCE_SQS}}},
  {"sqs sns envelope",
   "{\"Records\": [{\"messageId\": \"m4\", \"eventSource\": \"aws:sqs\", \"body\": "
   "\"{\\\"Type\\\": \\\"Notification\\\", \\\"Message\\\": \\\"{\\\\\\\"bucket\\\\\\\": \\\\\\\"b\\\\\\\", "
   "\\\\\\\"key\\\\\\\": \\\\\\\"k\\\\\\\"}\\\"}\"}]}",
   CL_OK, NULL, 1, 0, 1, {{"b", "k", "m4", LAMBDA_SOURCE_SQS}}},
  {"sqs missing messageId", "{\"Records\": [{\"eventSource\": \"aws:sqs\", \"body\": \"{}\"}]}",
   CL_ERR_FORMAT, "messageId", 0, 0, 0, {{0}}},
  {"eventbridge object created",
   "{\"detail-type\": \"Object Created\", \"source\": \"aws.s3\", \"detail\": {\"bucket\": {\"name\": \"b\"}, "
   "\"object\": {\"key\": \"a+b%20c\"}}}",
   CL_OK, NULL, 0, 0, 1, {{"b", "a+b%20c", NULL, LAMBDA_SOURCE_EVENTBRIDGE}}},
  {"eventbridge object deleted skipped",
   "{\"detail-type\": \"Object Deleted\", \"source\": \"aws.s3\", \"detail\": {}}",
   CL_OK, NULL, 0, 1, 0, {{0}}},
  {"eventbridge without key",
   "{\"detail-type\": \"Object Created\", \"source\": \"aws.s3\", \"detail\": {\"bucket\": {\"name\": \"b\"}}}",
   CL_ERR_FORMAT, "detail.object.key", 0, 0, 0, {{0}}},
  {"direct", "{\"bucket\": \"b\", \"key\": \"u/a+b.json\"}", CL_OK, NULL, 0, 0, 1,
   {{"b", "u/a+b.json", NULL, LAMBDA_SOURCE_DIRECT}}},
  {"direct on-failure record",
   "{\"requestContext\": {}, \"requestPayload\": {\"bucket\": \"b\", \"key\": \"k\"}}",
   CL_OK, NULL, 0, 0, 1, {{"b", "k", NULL, LAMBDA_SOURCE_DIRECT}}},
  {"direct key not a string", "{\"bucket\": \"b\", \"key\": 5}", CL_ERR_FORMAT, "\"key\"", 0, 0, 0, {{0}}},
  {"not json", "Records", CL_ERR_FORMAT, NULL, 0, 0, 0, {{0}}},
  {"not an object", "[1, 2]", CL_ERR_FORMAT, "not a JSON object", 0, 0, 0, {{0}}},
  {"unknown shape", "{\"hello\": \"world\"}", CL_ERR_FORMAT, "unrecognised event", 0, 0, 0, {{0}}},
  {"records not an array", "{\"Records\": {}}", CL_ERR_FORMAT, "not an array", 0, 0, 0, {{0}}},
  {"record without s3", "{\"Records\": [{\"eventSource\": \"aws:s3\", \"eventName\": \"ObjectCreated:Put\"}]}",
   CL_ERR_FORMAT, "Records[0]: S3 record has no \"s3\" object", 0, 0, 0, {{0}}},
  {"record of unknown kind", "{\"Records\": [{\"foo\": 1}]}", CL_ERR_FORMAT,
   "neither an S3, SNS nor SQS record", 0, 0, 0, {{0}}},
  {"s3 key without bucket", "{\"Records\": [{\"eventName\": \"ObjectCreated:Put\", \"s3\": {\"object\": {\"key\": \"k\"}}}]}",
   CL_ERR_FORMAT, "s3.bucket.name", 0, 0, 0, {{0}}},
  {"s3 bad percent-encoding", "{\"Records\": [" S3_RECORD("ObjectCreated:Put", "b", "a%zz") "]}",
   CL_ERR_FORMAT, "percent-encoding", 0, 0, 0, {{0}}},
  {"s3 key with NUL", "{\"Records\": [" S3_RECORD("ObjectCreated:Put", "b", "a%00b") "]}",
   CL_ERR_FORMAT, "NUL", 0, 0, 0, {{0}}},
  {"s3 empty key", "{\"Records\": [" S3_RECORD("ObjectCreated:Put", "b", "") "]}",
   CL_ERR_FORMAT, "object key is empty", 0, 0, 0, {{0}}},
  {"s3 event version 1", "{\"Records\": [{\"eventVersion\": \"1.0\", \"eventName\": \"ObjectCreated:Put\", \"s3\": {}}]}",
   CL_ERR_UNSUPPORTED, "eventVersion 1.0", 0, 0, 0, {{0}}},
  {"sns message not json", "{\"Records\": [{\"Sns\": {\"Message\": \"oops\"}}]}", CL_ERR_FORMAT,
   "Sns.Message", 0, 0, 0, {{0}}},
  {"sqs mixed with s3", "{\"Records\": [{\"messageId\": \"m\", \"body\": \"{}\"}, " S3_RECORD("ObjectCreated:Put", "b", "k") "]}",
   CL_ERR_FORMAT, "mixed", 0, 0, 0, {{0}}},
  {"self-nested payload",
   "{\"requestPayload\": {\"requestPayload\": {\"requestPayload\": {\"requestPayload\": {\"requestPayload\": "
   "{\"requestPayload\": {\"requestPayload\": {\"bucket\": \"b\", \"key\": \"k\"}}}}}}}}",
   CL_ERR_FORMAT, "nested", 0, 0, 0, {{0}}},
};

static void check_vector(const event_vector *v, const char *json, size_t len)
{
  lambda_event event;
  cl_error err;
  cl_error_clear(&err);
  cl_status status = lambda_event_decode(json, len, &event, &err);
  if(status != v->status) {
    unit_fail(__FILE__, __LINE__, "%s: status %s (%s), expected %s", v->name,
              cl_status_name(status), err.message, cl_status_name(v->status));
    lambda_event_free(&event);
    return;
  }
  if(status) {
    if(v->error_contains && !strstr(err.message, v->error_contains))
      unit_fail(__FILE__, __LINE__, "%s: message \"%s\" lacks \"%s\"", v->name, err.message,
                v->error_contains);
    CHECK_INT(event.count, 0);
    return;
  }
  if(event.is_sqs != v->is_sqs || event.skipped != v->skipped || event.count != v->count)
    unit_fail(__FILE__, __LINE__, "%s: is_sqs %d skipped %zu count %zu, expected %d %zu %zu",
              v->name, event.is_sqs, event.skipped, event.count, v->is_sqs, v->skipped,
              v->count);
  for(size_t i = 0; i < event.count && i < v->count; i++) {
    const lambda_item *item = &event.items[i];
    const expected_item *want = &v->items[i];
    if(want->key) {
      CHECK_INT(item->decode_status, CL_OK);
      CHECK_STR(item->bucket, want->bucket);
      CHECK_STR(item->key, want->key);
    } else {
      CHECK(item->decode_status != CL_OK);
      CHECK(item->decode_error && *item->decode_error);
      CHECK(!item->key);
    }
    if(want->message_id)
      CHECK_STR(item->message_id, want->message_id);
    else
      CHECK(!item->message_id);
    if(item->source != want->source)
      unit_fail(__FILE__, __LINE__, "%s: item %zu source %s, expected %s", v->name, i,
                lambda_source_name(item->source), lambda_source_name(want->source));
  }
  lambda_event_free(&event);
}

TEST(lambda_event_shapes)
{
  for(size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++)
    check_vector(&vectors[i], vectors[i].json, strlen(vectors[i].json));
}

/* Every prefix of a valid event must fail cleanly (or decode), never crash. */
TEST(lambda_event_truncations)
{
  const char *json = vectors[8].json;
  size_t len = strlen(json);
  for(size_t cut = 0; cut < len; cut++) {
    lambda_event event;
    cl_error err;
    cl_status status = lambda_event_decode(json, cut, &event, &err);
    CHECK(status != CL_OK);
    lambda_event_free(&event);
  }
}

static char *read_fixture(const char *name, size_t *len)
{
  char path[512];
  snprintf(path, sizeof(path), "tests/fixtures/events/%s", name);
  FILE *file = fopen(path, "rb");
  if(!file)
    return NULL;
  buf out = BUF_INIT;
  char chunk[4096];
  size_t got;
  while((got = fread(chunk, 1, sizeof(chunk), file)) > 0)
    buf_append(&out, chunk, got);
  fclose(file);
  return buf_take(&out, len);
}

typedef struct fixture_vector {
  const char *file;
  int is_sqs;
  size_t skipped, count;
  const char *first_key, *last_key;
  const char *last_message_id;
} fixture_vector;

static const fixture_vector fixtures[] = {
  {"s3_put.json", 0, 1, 2, "uploads/users/42/unknown/dev1/sms_log/sms-1.json",
   "uploads/users/42/unknown/dev 1/call_log/calls 2026+11,24.json", NULL},
  {"s3_test_event.json", 0, 1, 0, NULL, NULL, NULL},
  {"sns_s3.json", 0, 0, 1, "uploads/users/7/unknown/devA/contact_list/contacts.json",
   "uploads/users/7/unknown/devA/contact_list/contacts.json", NULL},
  {"sqs_onfailure.json", 1, 0, 1, "uploads/users/9/unknown/devB/app_packages/apps list.json",
   "uploads/users/9/unknown/devB/app_packages/apps list.json",
   "19dd0b57-b21e-4ac1-bd88-01bbb068cb78"},
  {"sqs_mixed.json", 1, 1, 4, "uploads/users/42/unknown/dev1/sms_log/sms-1.json", NULL,
   "msg-bad"},
  {"eventbridge_object_created.json", 0, 0, 1, "uploads/users/42/unknown/dev 1/sms_log/a+b.json",
   "uploads/users/42/unknown/dev 1/sms_log/a+b.json", NULL},
  {"direct.json", 0, 0, 1, "uploads/users/42/unknown/dev1/app_packages/apps.json",
   "uploads/users/42/unknown/dev1/app_packages/apps.json", NULL},
};

TEST(lambda_event_fixtures)
{
  for(size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
    const fixture_vector *f = &fixtures[i];
    size_t len = 0;
    char *json = read_fixture(f->file, &len);
    if(!json) {
      unit_fail(__FILE__, __LINE__, "%s: cannot read (run from the repository root)", f->file);
      continue;
    }
    lambda_event event;
    cl_error err;
    cl_error_clear(&err);
    cl_status status = lambda_event_decode(json, len, &event, &err);
    if(status) {
      unit_fail(__FILE__, __LINE__, "%s: %s", f->file, err.message);
    } else {
      if(event.is_sqs != f->is_sqs || event.skipped != f->skipped || event.count != f->count)
        unit_fail(__FILE__, __LINE__, "%s: is_sqs %d skipped %zu count %zu", f->file,
                  event.is_sqs, event.skipped, event.count);
      if(f->first_key && event.count)
        CHECK_STR(event.items[0].key, f->first_key);
      if(f->last_key && event.count)
        CHECK_STR(event.items[event.count - 1].key, f->last_key);
      if(f->last_message_id && event.count)
        CHECK_STR(event.items[event.count - 1].message_id, f->last_message_id);
    }
    lambda_event_free(&event);
    free(json);
  }
}

TEST(lambda_deadline_header)
{
  static const struct {
    const char *text;
    int64_t expected;
  } cases[] = {
    {"1764000000000", 1764000000000}, {"5000", 0},  {"", 0},         {NULL, 0},
    {"abc", 0},                       {"-1", 0},    {"17640000000001", 17640000000001},
    {"1764000000000x", 0},            {"1764000000000\r\n", 1764000000000},
  };
  for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
    CHECK_INT(lambda_parse_deadline(cases[i].text), cases[i].expected);
}

TEST(lambda_metrics_line)
{
  collate_result result;
  memset(&result, 0, sizeof(result));
  result.outcome = COLLATE_UPDATED;
  snprintf(result.log_type, sizeof(result.log_type), "sms_log");
  result.new_rows = 3;
  result.history_rows = 10;
  result.seconds = 0.25;
  buf out = BUF_INIT;
  CHECK_OK(lambda_metrics_emf(&result, "dlq", 2, 1764000000000, &out), NULL);
  CHECK(strstr(out.data, "\"Namespace\": \"Collator\"") != NULL);
  CHECK(strstr(out.data, "\"Dimensions\": [[\"LogType\", \"FunctionRole\"]]") != NULL);
  CHECK(strstr(out.data, "\"LogType\": \"sms_log\", \"FunctionRole\": \"dlq\"") != NULL);
  CHECK(strstr(out.data, "\"Timestamp\": 1764000000000") != NULL);
  CHECK(strstr(out.data, "\"NewRows\": 3,") != NULL);
  CHECK(strstr(out.data, "\"HistoryRows\": 10,") != NULL);
  CHECK(strstr(out.data, "\"Retries\": 2,") != NULL);
  CHECK(strstr(out.data, "\"RejectedUploads\": 0}") != NULL);
  CHECK(strstr(out.data, "{\"Name\": \"BytesWritten\", \"Unit\": \"Bytes\"}") != NULL);
  buf_free(&out);
}

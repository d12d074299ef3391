#include <curl/curl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/log.h"
#include "core/utctime.h"
#include "lambda/lambda.h"

#define RUNTIME_API_PATH "/2018-06-01/runtime"
/* The Runtime API is on the same host; a POST that takes this long means it
 * is gone, and the sandbox is being torn down anyway. */
#define RUNTIME_POST_TIMEOUT_SECONDS 30L
/* Invocation payloads are at most 6 MB; anything bigger is not from Lambda. */
#define RUNTIME_MAX_EVENT_BYTES ((size_t)16 << 20)
/* Consecutive failed `next` requests before the loop gives up and lets the
 * sandbox restart the process. */
#define RUNTIME_MAX_NEXT_FAILURES 5

typedef struct runtime {
  CURL *curl;
  buf base;        /* http://HOST:PORT/2018-06-01/runtime */
  buf body;        /* the response body of the last request */
  char request_id[256];
  char trace_id[1024];
  char deadline[64];
  char function_arn[512];
} runtime;

int64_t lambda_parse_deadline(const char *text)
{
  if(!text || !*text)
    return 0;
  char *end = NULL;
  long long value = strtoll(text, &end, 10);
  if(*end && *end != '\r' && *end != '\n' && *end != ' ')
    return 0;
  /* Between 2001 and 5138 in epoch milliseconds: a relative or constant
   * value (the local emulator sends 5000) is no deadline at all. */
  if(value < 1000000000000LL || value > 99999999999999LL)
    return 0;
  return value;
}

static size_t write_body(char *data, size_t size, size_t count, void *ctx)
{
  buf *body = ctx;
  if(buf_append(body, data, size * count))
    return 0;
  return size * count;
}

static void copy_header_value(char *dst, size_t cap, const char *value, size_t len)
{
  while(len && (value[len - 1] == '\r' || value[len - 1] == '\n' || value[len - 1] == ' '))
    len--;
  while(len && *value == ' ') {
    value++;
    len--;
  }
  if(len >= cap)
    len = cap - 1;
  memcpy(dst, value, len);
  dst[len] = '\0';
}

static size_t read_header(char *data, size_t size, size_t count, void *ctx)
{
  runtime *rt = ctx;
  size_t len = size * count;
  static const struct {
    const char *name;
    size_t offset, cap;
  } wanted[] = {
    {"Lambda-Runtime-Aws-Request-Id", offsetof(runtime, request_id), sizeof(rt->request_id)},
    {"Lambda-Runtime-Trace-Id", offsetof(runtime, trace_id), sizeof(rt->trace_id)},
    {"Lambda-Runtime-Deadline-Ms", offsetof(runtime, deadline), sizeof(rt->deadline)},
    {"Lambda-Runtime-Invoked-Function-Arn", offsetof(runtime, function_arn),
     sizeof(rt->function_arn)},
  };
  for(size_t i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++) {
    size_t name_len = strlen(wanted[i].name);
    if(len > name_len && data[name_len] == ':' && !strncasecmp(data, wanted[i].name, name_len))
      copy_header_value((char *)rt + wanted[i].offset, wanted[i].cap, data + name_len + 1,
                        len - name_len - 1);
  }
  return len;
}

/* One request on the shared handle (keep-alive to the Runtime API). body
 * NULL is a GET; otherwise a POST of body. Fills rt->body. */
static cl_status runtime_request(runtime *rt, const char *path, const char *body,
                                 size_t body_len, const char *error_type, long *http_status,
                                 cl_error *err)
{
  CURL *curl = rt->curl;
  buf url = BUF_INIT;
  buf_printf(&url, "%s%s", rt->base.data, path);
  if(buf_status(&url)) {
    buf_free(&url);
    return cl_fail(err, CL_ERR_NOMEM, "runtime API: out of memory");
  }
  buf_clear(&rt->body);
  struct curl_slist *headers = NULL, *grown;
  /* Without this curl waits a second for "100 Continue" on larger bodies. */
  headers = curl_slist_append(NULL, "Expect:");
  buf header = BUF_INIT;
  if(headers && body) {
    grown = curl_slist_append(headers, "Content-Type: application/json");
    headers = grown ? grown : headers;
  }
  if(headers && error_type) {
    buf_printf(&header, "Lambda-Runtime-Function-Error-Type: %s", error_type);
    grown = buf_status(&header) ? NULL : curl_slist_append(headers, header.data);
    headers = grown ? grown : headers;
  }
  curl_easy_setopt(curl, CURLOPT_URL, url.data);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, write_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &rt->body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, read_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, rt);
  if(body) {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, RUNTIME_POST_TIMEOUT_SECONDS);
  } else {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    /* `next` blocks until an invocation arrives, however long that is. */
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 0L);
  }
  CURLcode code = curl_easy_perform(curl);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, NULL);
  curl_slist_free_all(headers);
  buf_free(&header);
  cl_status status = CL_OK;
  if(code != CURLE_OK)
    status = cl_fail(err, CL_ERR_IO, "runtime API %s: %s", url.data, curl_easy_strerror(code));
  else if(buf_status(&rt->body))
    status = cl_fail(err, CL_ERR_LIMIT, "runtime API %s: response over %zu bytes", url.data,
                     rt->body.limit);
  else
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, http_status);
  buf_free(&url);
  return status;
}

static cl_status post_json(runtime *rt, const char *path, const char *body, size_t len,
                           const char *error_type, cl_error *err)
{
  long http_status = 0;
  cl_status status = runtime_request(rt, path, body, len, error_type, &http_status, err);
  if(status)
    return status;
  if(http_status < 200 || http_status > 299)
    return cl_fail(err, http_status == 413 ? CL_ERR_LIMIT : CL_ERR_REMOTE,
                   "runtime API POST %s: HTTP %ld: %.200s", path, http_status,
                   rt->body.data ? rt->body.data : "");
  return CL_OK;
}

static cl_status post_error(runtime *rt, const char *path, cl_status failure,
                            const char *message, cl_error *err)
{
  buf body = BUF_INIT;
  lambda_error_document(failure, message, &body);
  cl_status status = buf_status(&body);
  if(status)
    status = cl_fail(err, status, "runtime API: out of memory");
  else
    status = post_json(rt, path, body.data, body.len, lambda_error_type(failure), err);
  buf_free(&body);
  return status;
}

/* Request ids go into a URL path: refuse anything that would change it. */
static int request_id_is_safe(const char *id)
{
  if(!*id)
    return 0;
  for(const char *p = id; *p; p++)
    if(!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
         *p == '-' || *p == '_' || *p == '.'))
      return 0;
  return 1;
}

static void invoke_once(runtime *rt, lambda_handler *handler)
{
  cl_error err;
  cl_error_clear(&err);
  /* X-Ray and the SDKs read the trace id from the environment; a stale one
   * from the previous invocation would attach our calls to the wrong trace. */
  if(rt->trace_id[0])
    setenv("_X_AMZN_TRACE_ID", rt->trace_id, 1);
  else
    unsetenv("_X_AMZN_TRACE_ID");
  lambda_invocation invocation = {rt->request_id, lambda_parse_deadline(rt->deadline)};
  if(log_enabled(LOG_DEBUG)) {
    const char *trace = getenv("_X_AMZN_TRACE_ID");
    log_message(LOG_DEBUG, "invocation %s: deadline %" PRId64 " (header '%s'), trace %s",
                rt->request_id, invocation.deadline_ms, rt->deadline, trace ? trace : "-");
  }
  buf response = BUF_INIT;
  lambda_outcome outcome;
  /* rt->body is reused by the POST below, so the handler works on a copy. */
  size_t event_len = rt->body.len;
  char *event = buf_take(&rt->body, NULL);
  cl_status status = event ? lambda_handle_event(handler, event, event_len, &invocation,
                                                 &response, &outcome, &err)
                           : cl_fail(&err, CL_ERR_NOMEM, "event: out of memory");
  free(event);
  buf path = BUF_INIT;
  if(!status) {
    buf_printf(&path, "/invocation/%s/response", rt->request_id);
    status = buf_status(&path) ? cl_fail(&err, CL_ERR_NOMEM, "runtime API: out of memory")
                               : post_json(rt, path.data, response.data, response.len, NULL,
                                           &err);
    if(status)
      log_message(LOG_ERROR, "request %s: posting the response: %s", rt->request_id,
                  err.message);
  }
  if(status) {
    const char *type = lambda_error_type(status);
    log_message(LOG_ERROR, "request %s failed (%s): %s", rt->request_id, type, err.message);
    buf_clear(&path);
    buf_printf(&path, "/invocation/%s/error", rt->request_id);
    cl_error post_err;
    cl_error_clear(&post_err);
    if(buf_status(&path) || post_error(rt, path.data, status, err.message, &post_err))
      log_message(LOG_ERROR, "request %s: posting the error: %s", rt->request_id,
                  post_err.message);
  }
  buf_free(&path);
  buf_free(&response);
}

/* Also drops the reference lambda_runtime_run took on curl's globals. */
static void runtime_free(runtime *rt)
{
  if(rt->curl)
    curl_easy_cleanup(rt->curl);
  buf_free(&rt->base);
  buf_free(&rt->body);
  curl_global_cleanup();
}

cl_status lambda_runtime_run(cl_error *err)
{
  double started = utc_monotonic_seconds();
  const char *api = getenv("AWS_LAMBDA_RUNTIME_API");
  if(!api || !*api)
    return cl_fail(err, CL_ERR_USAGE,
                   "AWS_LAMBDA_RUNTIME_API is not set: `collator lambda` runs inside Lambda "
                   "(use `collator event` to handle an event locally)");
  if(curl_global_init(CURL_GLOBAL_DEFAULT))
    return cl_fail(err, CL_ERR_INTERNAL, "curl_global_init failed");
  runtime rt;
  memset(&rt, 0, sizeof(rt));
  buf_init(&rt.body, RUNTIME_MAX_EVENT_BYTES);
  buf_printf(&rt.base, "http://%s" RUNTIME_API_PATH, api);
  rt.curl = curl_easy_init();
  if(!rt.curl || buf_status(&rt.base)) {
    runtime_free(&rt);
    return cl_fail(err, CL_ERR_NOMEM, "runtime API client: out of memory");
  }
  curl_easy_setopt(rt.curl, CURLOPT_NOSIGNAL, 1L);
  /* The Runtime API is local: an HTTP proxy from the environment must not
   * see it. */
  curl_easy_setopt(rt.curl, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(rt.curl, CURLOPT_TCP_NODELAY, 1L);

  lambda_config config;
  lambda_handler *handler = NULL;
  cl_status status = lambda_config_from_env(&config, err);
  if(!status)
    status = lambda_handler_create(&config, &handler, err);
  if(status) {
    cl_error post_err;
    cl_error_clear(&post_err);
    if(post_error(&rt, "/init/error", status, err->message, &post_err))
      log_message(LOG_ERROR, "reporting the init error: %s", post_err.message);
    cl_error_prefix(err, "init");
    runtime_free(&rt);
    return status;
  }

  /* The cold-start budget (design: well under 10 ms to the first `next`). */
  log_message(LOG_DEBUG, "runtime: initialised in %.3f ms",
              (utc_monotonic_seconds() - started) * 1000.0);
  unsigned next_failures = 0;
  for(;;) {
    rt.request_id[0] = rt.trace_id[0] = rt.deadline[0] = rt.function_arn[0] = '\0';
    long http_status = 0;
    cl_error next_err;
    cl_error_clear(&next_err);
    status = runtime_request(&rt, "/invocation/next", NULL, 0, NULL, &http_status, &next_err);
    if(!status && (http_status != 200 || !request_id_is_safe(rt.request_id)))
      status = cl_fail(&next_err, CL_ERR_REMOTE,
                       "runtime API next: HTTP %ld, request id '%s'", http_status,
                       rt.request_id);
    if(status) {
      log_message(LOG_ERROR, "%s", next_err.message);
      if(++next_failures >= RUNTIME_MAX_NEXT_FAILURES) {
        *err = next_err;
        break;
      }
      nanosleep(&(struct timespec){0, 100 * 1000 * 1000}, NULL);
      continue;
    }
    next_failures = 0;
    invoke_once(&rt, handler);
  }
  lambda_handler_free(handler);
  runtime_free(&rt);
  return status;
}

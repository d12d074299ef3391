/*
 * The Runtime API client speaks HTTP/1.1 over one kept-alive socket itself
 * rather than through libcurl: the API is plain HTTP on the local host, and
 * initialising curl (and with it OpenSSL) before the first `next` took about
 * 3 ms of the 10 ms cold-start budget. libcurl is not even linked: when
 * the function's store is S3, a background thread loads it (store_s3_preload)
 * while the first `next` waits for an event.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/utctime.h"
#include "lambda/lambda.h"

#define RUNTIME_API_PATH "/2018-06-01/runtime"
/* The Runtime API is on the same host; a POST that takes this long means it
 * is gone, and the sandbox is being torn down anyway. */
#define RUNTIME_POST_TIMEOUT_SECONDS 30.0
/* Invocation payloads are at most 6 MB; anything bigger is not from Lambda. */
#define RUNTIME_MAX_EVENT_BYTES ((size_t)16 << 20)
/* Consecutive failed `next` requests before the loop gives up and lets the
 * sandbox restart the process. */
#define RUNTIME_MAX_NEXT_FAILURES 5
/* Holds any header line the API sends (a trace id is well under 1 KB). */
#define RUNTIME_READ_BUFFER 16384
/* All header lines of one response together. */
#define RUNTIME_MAX_HEADER_BYTES ((size_t)64 << 10)

typedef struct runtime {
  char api[256];   /* AWS_LAMBDA_RUNTIME_API (host:port): the Host header */
  struct sockaddr_storage address;
  socklen_t address_len;
  int fd;          /* the kept-alive connection, -1 when there is none */
  double exchange_deadline; /* monotonic seconds the request in flight must end by; 0: none */
  int got_response_bytes;
  char in[RUNTIME_READ_BUFFER];
  size_t in_start, in_end;
  buf head;        /* the request line and headers being sent */
  buf body;        /* the response body of the last request */
  char request_id[256];
  char trace_id[1024];
  char deadline_header[64];
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

/* host:port, host:port with an IPv6 literal in brackets, or a name. */
static cl_status runtime_resolve(runtime *rt, const char *api, cl_error *err)
{
  size_t len = strlen(api);
  if(len >= sizeof(rt->api))
    return cl_fail(err, CL_ERR_USAGE, "AWS_LAMBDA_RUNTIME_API is over %zu bytes",
                   sizeof(rt->api) - 1);
  memcpy(rt->api, api, len + 1);
  char host[sizeof(rt->api)];
  memcpy(host, api, len + 1);
  char *colon = strrchr(host, ':');
  if(!colon || colon == host || !colon[1] || strspn(colon + 1, "0123456789") != strlen(colon + 1))
    return cl_fail(err, CL_ERR_USAGE, "AWS_LAMBDA_RUNTIME_API=%s: expected HOST:PORT", api);
  *colon = '\0';
  const char *port = colon + 1;
  char *name = host;
  if(*name == '[' && colon[-1] == ']') {
    name++;
    colon[-1] = '\0';
  }
  /* Lambda gives an address: a numeric lookup never touches the resolver. */
  struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
                           .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV};
  struct addrinfo *found = NULL;
  int failed = getaddrinfo(name, port, &hints, &found);
  if(failed == EAI_NONAME) {
    hints.ai_flags = AI_NUMERICSERV;
    failed = getaddrinfo(name, port, &hints, &found);
  }
  if(failed)
    return cl_fail(err, CL_ERR_IO, "AWS_LAMBDA_RUNTIME_API=%s: %s", api, gai_strerror(failed));
  memcpy(&rt->address, found->ai_addr, found->ai_addrlen);
  rt->address_len = found->ai_addrlen;
  freeaddrinfo(found);
  return CL_OK;
}

static void connection_close(runtime *rt)
{
  if(rt->fd >= 0)
    close(rt->fd);
  rt->fd = -1;
  rt->in_start = rt->in_end = 0;
}

static cl_status connection_open(runtime *rt, cl_error *err)
{
  rt->fd = socket(rt->address.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if(rt->fd < 0)
    return cl_fail(err, CL_ERR_IO, "socket: %s", strerror(errno));
  /* Loopback: the connection is accepted or refused at once (an
   * interrupted connect fails this attempt; the loop tries again). */
  if(connect(rt->fd, (struct sockaddr *)&rt->address, rt->address_len)) {
    cl_status status = cl_fail(err, CL_ERR_IO, "connect: %s", strerror(errno));
    connection_close(rt);
    return status;
  }
  /* Each request is written in at most two sends; without this the body
   * would wait for the ACK of the head. */
  int on = 1;
  setsockopt(rt->fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
  return CL_OK;
}

static cl_status wait_for(runtime *rt, short events, cl_error *err)
{
  for(;;) {
    int timeout_ms = -1;
    if(rt->exchange_deadline > 0) {
      double left = rt->exchange_deadline - utc_monotonic_seconds();
      if(left <= 0)
        return cl_fail(err, CL_ERR_IO, "timed out after %.0f s", RUNTIME_POST_TIMEOUT_SECONDS);
      timeout_ms = (int)(left * 1000.0) + 1;
    }
    struct pollfd wanted = {rt->fd, events, 0};
    int ready = poll(&wanted, 1, timeout_ms);
    if(ready > 0)
      return CL_OK;
    if(ready < 0 && errno != EINTR)
      return cl_fail(err, CL_ERR_IO, "poll: %s", strerror(errno));
  }
}

static cl_status send_all(runtime *rt, const char *data, size_t len, cl_error *err)
{
  while(len) {
    ssize_t sent = send(rt->fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if(sent > 0) {
      data += sent;
      len -= (size_t)sent;
      continue;
    }
    if(sent < 0 && errno == EINTR)
      continue;
    if(sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      cl_status status = wait_for(rt, POLLOUT, err);
      if(status)
        return status;
      continue;
    }
    return cl_fail(err, CL_ERR_IO, "send: %s", sent < 0 ? strerror(errno) : "no progress");
  }
  return CL_OK;
}

/* Reads more of the response into rt->in (after what is buffered); *eof
 * says the peer closed the connection instead. */
static cl_status fill(runtime *rt, int *eof, cl_error *err)
{
  *eof = 0;
  if(rt->in_start == rt->in_end)
    rt->in_start = rt->in_end = 0;
  if(rt->in_end == sizeof(rt->in)) {
    if(!rt->in_start)
      return cl_fail(err, CL_ERR_INTERNAL, "runtime API read buffer full");
    memmove(rt->in, rt->in + rt->in_start, rt->in_end - rt->in_start);
    rt->in_end -= rt->in_start;
    rt->in_start = 0;
  }
  for(;;) {
    ssize_t got = recv(rt->fd, rt->in + rt->in_end, sizeof(rt->in) - rt->in_end, MSG_DONTWAIT);
    if(got > 0) {
      rt->in_end += (size_t)got;
      rt->got_response_bytes = 1;
      return CL_OK;
    }
    if(got == 0) {
      *eof = 1;
      return CL_OK;
    }
    if(errno == EINTR)
      continue;
    if(errno != EAGAIN && errno != EWOULDBLOCK)
      return cl_fail(err, CL_ERR_IO, "recv: %s", strerror(errno));
    cl_status status = wait_for(rt, POLLIN, err);
    if(status)
      return status;
  }
}

/* The next line of the response head, without its line end. */
static cl_status read_line(runtime *rt, char **line, size_t *len, cl_error *err)
{
  for(;;) {
    char *start = rt->in + rt->in_start;
    char *newline = memchr(start, '\n', rt->in_end - rt->in_start);
    if(newline) {
      *line = start;
      *len = (size_t)(newline - start);
      if(*len && start[*len - 1] == '\r')
        (*len)--;
      rt->in_start += (size_t)(newline - start) + 1;
      return CL_OK;
    }
    if(rt->in_start == 0 && rt->in_end == sizeof(rt->in))
      return cl_fail(err, CL_ERR_REMOTE, "a response header line over %zu bytes", sizeof(rt->in));
    int eof;
    cl_status status = fill(rt, &eof, err);
    if(status)
      return status;
    if(eof)
      return cl_fail(err, CL_ERR_IO, "the connection closed in the response head");
  }
}

/* Moves n body bytes (or, with n == UINT64_MAX, all until the connection
 * closes) from the connection to rt->body. */
static cl_status read_body(runtime *rt, uint64_t n, cl_error *err)
{
  while(n) {
    if(rt->in_start == rt->in_end) {
      int eof;
      cl_status status = fill(rt, &eof, err);
      if(status)
        return status;
      if(eof) {
        if(n == UINT64_MAX)
          return CL_OK;
        return cl_fail(err, CL_ERR_IO, "the connection closed in the response body");
      }
    }
    size_t take = rt->in_end - rt->in_start;
    if((uint64_t)take > n)
      take = (size_t)n;
    buf_append(&rt->body, rt->in + rt->in_start, take);
    rt->in_start += take;
    if(n != UINT64_MAX)
      n -= take;
    if(buf_status(&rt->body))
      return cl_fail(err, CL_ERR_LIMIT, "response over %zu bytes", rt->body.limit);
  }
  return CL_OK;
}

static cl_status read_chunked_body(runtime *rt, cl_error *err)
{
  char *line;
  size_t len;
  for(;;) {
    cl_status status = read_line(rt, &line, &len, err);
    if(status)
      return status;
    char *end = line;
    /* Stops at a chunk extension (";..."), which carries nothing we use. */
    uint64_t size = len && isxdigit((unsigned char)*line) ? strtoull(line, &end, 16) : 0;
    if(end == line || (end < line + len && *end != ';' && *end != ' ' && *end != '\t'))
      return cl_fail(err, CL_ERR_REMOTE, "a bad chunk size line '%.*s'", (int)(len < 40 ? len : 40),
                     line);
    if(!size)
      break;
    if(size > RUNTIME_MAX_EVENT_BYTES)
      return cl_fail(err, CL_ERR_LIMIT, "response over %zu bytes", rt->body.limit);
    status = read_body(rt, size, err);
    if(!status)
      status = read_line(rt, &line, &len, err);
    if(!status && len)
      status = cl_fail(err, CL_ERR_REMOTE, "a chunk longer than its size");
    if(status)
      return status;
  }
  /* Trailer fields, up to the empty line. */
  size_t trailer_bytes = 0;
  do {
    cl_status status = read_line(rt, &line, &len, err);
    if(status)
      return status;
    trailer_bytes += len;
    if(trailer_bytes > RUNTIME_MAX_HEADER_BYTES)
      return cl_fail(err, CL_ERR_REMOTE, "trailers over %zu bytes", RUNTIME_MAX_HEADER_BYTES);
  } while(len);
  return CL_OK;
}

static void copy_header_value(char *dst, size_t cap, const char *value, size_t len)
{
  while(len && (value[len - 1] == ' ' || value[len - 1] == '\t'))
    len--;
  while(len && (*value == ' ' || *value == '\t')) {
    value++;
    len--;
  }
  if(len >= cap)
    len = cap - 1;
  memcpy(dst, value, len);
  dst[len] = '\0';
}

static int header_is(const char *line, size_t len, const char *name)
{
  size_t name_len = strlen(name);
  return len > name_len && line[name_len] == ':' && !strncasecmp(line, name, name_len);
}

/* Does a comma-separated header value hold this token (any case)? */
static int value_has_token(const char *value, size_t len, const char *token)
{
  size_t token_len = strlen(token);
  for(size_t i = 0; i + token_len <= len; i++)
    if(!strncasecmp(value + i, token, token_len) &&
       (i == 0 || value[i - 1] == ' ' || value[i - 1] == ',' || value[i - 1] == ':') &&
       (i + token_len == len || value[i + token_len] == ' ' || value[i + token_len] == ','))
      return 1;
  return 0;
}

static cl_status read_response(runtime *rt, long *http_status, cl_error *err)
{
  static const struct {
    const char *name;
    size_t offset, cap;
  } wanted[] = {
    {"Lambda-Runtime-Aws-Request-Id", offsetof(runtime, request_id),
     sizeof(((runtime *)0)->request_id)},
    {"Lambda-Runtime-Trace-Id", offsetof(runtime, trace_id), sizeof(((runtime *)0)->trace_id)},
    {"Lambda-Runtime-Deadline-Ms", offsetof(runtime, deadline_header),
     sizeof(((runtime *)0)->deadline_header)},
    {"Lambda-Runtime-Invoked-Function-Arn", offsetof(runtime, function_arn),
     sizeof(((runtime *)0)->function_arn)},
  };
  int code, minor, chunked, close_after;
  uint64_t content_length;
  char *line;
  size_t len;
  /* Interim (1xx) responses precede the real one. */
  do {
    cl_status status = read_line(rt, &line, &len, err);
    if(status)
      return status;
    if(len < 12 || memcmp(line, "HTTP/1.", 7) || !isdigit((unsigned char)line[7]) ||
       line[8] != ' ' || !isdigit((unsigned char)line[9]) || !isdigit((unsigned char)line[10]) ||
       !isdigit((unsigned char)line[11]) || (len > 12 && line[12] != ' '))
      return cl_fail(err, CL_ERR_REMOTE, "not an HTTP/1.x response: '%.*s'",
                     (int)(len < 60 ? len : 60), line);
    minor = line[7] - '0';
    code = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
    chunked = 0;
    close_after = minor == 0;
    content_length = UINT64_MAX;
    size_t header_bytes = 0;
    for(;;) {
      status = read_line(rt, &line, &len, err);
      if(status)
        return status;
      if(!len)
        break;
      header_bytes += len;
      if(header_bytes > RUNTIME_MAX_HEADER_BYTES)
        return cl_fail(err, CL_ERR_REMOTE, "response headers over %zu bytes",
                       RUNTIME_MAX_HEADER_BYTES);
      for(size_t i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++) {
        size_t name_len = strlen(wanted[i].name);
        if(header_is(line, len, wanted[i].name))
          copy_header_value((char *)rt + wanted[i].offset, wanted[i].cap, line + name_len + 1,
                            len - name_len - 1);
      }
      if(header_is(line, len, "Content-Length")) {
        char value[32];
        copy_header_value(value, sizeof(value), line + 15, len - 15);
        char *end;
        errno = 0;
        content_length = strtoull(value, &end, 10);
        if(errno || !isdigit((unsigned char)value[0]) || *end)
          return cl_fail(err, CL_ERR_REMOTE, "a bad Content-Length '%s'", value);
      } else if(header_is(line, len, "Transfer-Encoding")) {
        chunked = value_has_token(line + 18, len - 18, "chunked");
      } else if(header_is(line, len, "Connection")) {
        if(value_has_token(line + 11, len - 11, "close"))
          close_after = 1;
        else if(value_has_token(line + 11, len - 11, "keep-alive"))
          close_after = 0;
      }
    }
  } while(code < 200);
  *http_status = code;

  cl_status status = CL_OK;
  if(code == 204 || code == 304)
    status = CL_OK;
  else if(chunked)
    status = read_chunked_body(rt, err);
  else if(content_length != UINT64_MAX)
    status = content_length > rt->body.limit
               ? cl_fail(err, CL_ERR_LIMIT, "response over %zu bytes", rt->body.limit)
               : read_body(rt, content_length, err);
  else {
    /* Neither length nor chunks: the body ends with the connection. */
    close_after = 1;
    status = read_body(rt, UINT64_MAX, err);
  }
  if(!status && close_after)
    connection_close(rt);
  return status;
}

/* One request on the kept-alive connection to the Runtime API. body NULL
 * is a GET; otherwise a POST of body. Fills rt->body and the invocation
 * headers. */
static cl_status runtime_request(runtime *rt, const char *path, const char *body,
                                 size_t body_len, const char *error_type, long *http_status,
                                 cl_error *err)
{
  const char *method = body ? "POST" : "GET";
  buf_clear(&rt->head);
  buf_printf(&rt->head,
             "%s " RUNTIME_API_PATH "%s HTTP/1.1\r\nHost: %s\r\nUser-Agent: collator\r\n", method,
             path, rt->api);
  if(body)
    buf_printf(&rt->head, "Content-Type: application/json\r\nContent-Length: %zu\r\n", body_len);
  if(error_type)
    buf_printf(&rt->head, "Lambda-Runtime-Function-Error-Type: %s\r\n", error_type);
  buf_append_str(&rt->head, "\r\n");
  if(buf_status(&rt->head))
    return cl_fail(err, CL_ERR_NOMEM, "runtime API: out of memory");
  /* `next` blocks until an invocation arrives, however long that is. */
  rt->exchange_deadline = body ? utc_monotonic_seconds() + RUNTIME_POST_TIMEOUT_SECONDS : 0;
  /* Bytes after the last response are not an answer to this request. */
  if(rt->in_start != rt->in_end)
    connection_close(rt);
  for(int attempt = 0;; attempt++) {
    int reused = rt->fd >= 0;
    cl_error attempt_err;
    cl_error_clear(&attempt_err);
    cl_status status = reused ? CL_OK : connection_open(rt, &attempt_err);
    rt->got_response_bytes = 0;
    buf_clear(&rt->body);
    *http_status = 0;
    if(!status)
      status = send_all(rt, rt->head.data, rt->head.len, &attempt_err);
    if(!status && body_len)
      status = send_all(rt, body, body_len, &attempt_err);
    if(!status)
      status = read_response(rt, http_status, &attempt_err);
    if(!status)
      return CL_OK;
    connection_close(rt);
    /* The API may have closed a kept-alive connection while we were busy:
     * a request that saw no answer on it is tried once more on a new one. */
    if(!reused || rt->got_response_bytes || attempt)
      return cl_fail(err, status, "runtime API %s http://%s" RUNTIME_API_PATH "%s: %s", method,
                     rt->api, path, attempt_err.message);
  }
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
   * from the previous invocation would attach our calls to the wrong trace.
   * Empty when there is none, not unset: overwriting a variable that
   * exists (see lambda_runtime_run) never moves the environment's array,
   * which getenv on the thread loading libcurl may be reading; adding or
   * removing one would. */
  setenv("_X_AMZN_TRACE_ID", rt->trace_id, 1);
  lambda_invocation invocation = {rt->request_id, lambda_parse_deadline(rt->deadline_header)};
  if(log_enabled(LOG_DEBUG))
    log_message(LOG_DEBUG, "invocation %s: deadline %" PRId64 " (header '%s'), trace %s",
                rt->request_id, invocation.deadline_ms, rt->deadline_header,
                rt->trace_id[0] ? rt->trace_id : "-");
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

static void runtime_free(runtime *rt)
{
  connection_close(rt);
  buf_free(&rt->head);
  buf_free(&rt->body);
}

cl_status lambda_runtime_run(cl_error *err)
{
  double started = utc_monotonic_seconds();
  const char *api = getenv("AWS_LAMBDA_RUNTIME_API");
  if(!api || !*api)
    return cl_fail(err, CL_ERR_USAGE,
                   "AWS_LAMBDA_RUNTIME_API is not set: `collator lambda` runs inside Lambda "
                   "(use `collator event` to handle an event locally)");
  runtime rt;
  memset(&rt, 0, sizeof(rt));
  rt.fd = -1;
  buf_init(&rt.body, RUNTIME_MAX_EVENT_BYTES);
  cl_status status = runtime_resolve(&rt, api, err);
  if(status) {
    runtime_free(&rt);
    return status;
  }

  lambda_config config;
  lambda_handler *handler = NULL;
  status = lambda_config_from_env(&config, err);
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

  /* Before any thread starts: from now on invoke_once only overwrites it. */
  if(!getenv("_X_AMZN_TRACE_ID"))
    setenv("_X_AMZN_TRACE_ID", "", 1);
  if(!config.store_url || !strncmp(config.store_url, "s3://", 5))
    store_s3_preload();
  /* The cold-start budget (design: well under 10 ms to the first `next`). */
  log_message(LOG_DEBUG, "runtime: initialised in %.3f ms",
              (utc_monotonic_seconds() - started) * 1000.0);
  unsigned next_failures = 0;
  for(;;) {
    rt.request_id[0] = rt.trace_id[0] = rt.deadline_header[0] = rt.function_arn[0] = '\0';
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

/* The runtime loop's own HTTP/1.1 client against a scripted Runtime API in
 * a child process: chunked, sized, interim and close-delimited responses,
 * one kept-alive connection (re-opened when the API closes it, and retried
 * once when it was dropped silently), error and init-error posts, bad
 * AWS_LAMBDA_RUNTIME_API values, and responses the loop must refuse. */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lambda/lambda.h"
#include "unit.h"

typedef struct api_server {
  pid_t pid;
  int transcript; /* read end: one line per request the server saw */
} api_server;

static int listen_loopback(void)
{
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in address = {.sin_family = AF_INET,
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t length = sizeof(address);
  if(fd < 0 || bind(fd, (struct sockaddr *)&address, sizeof(address)) || listen(fd, 8) ||
     getsockname(fd, (struct sockaddr *)&address, &length))
    return -1;
  char api[32];
  snprintf(api, sizeof(api), "127.0.0.1:%d", ntohs(address.sin_port));
  setenv("AWS_LAMBDA_RUNTIME_API", api, 1);
  return fd;
}

/* One request (head and Content-Length body) into out; 0 at end of stream. */
static size_t read_request(int fd, char *out, size_t cap)
{
  size_t len = 0;
  char *head_end = NULL;
  while(!head_end) {
    ssize_t got = read(fd, out + len, cap - 1 - len);
    if(got <= 0)
      return 0;
    len += (size_t)got;
    out[len] = '\0';
    head_end = strstr(out, "\r\n\r\n");
  }
  size_t want = (size_t)(head_end + 4 - out);
  for(char *p = out; p < head_end; p = strstr(p, "\r\n") + 2)
    if(!strncasecmp(p, "Content-Length:", 15))
      want += strtoul(p + 15, NULL, 10);
  while(len < want && len < cap - 1) {
    ssize_t got = read(fd, out + len, cap - 1 - len);
    if(got <= 0)
      return 0;
    len += (size_t)got;
  }
  out[len] = '\0';
  return len;
}

/* "REQUEST-LINE|ERROR-TYPE|BODY\n" for the transcript. */
static void record(int transcript, const char *request)
{
  char line[4096];
  const char *line_end = strstr(request, "\r\n");
  const char *type = strcasestr(request, "\r\nLambda-Runtime-Function-Error-Type: ");
  const char *body = strstr(request, "\r\n\r\n") + 4;
  int n = snprintf(line, sizeof(line), "%.*s|%.*s|%s\n", (int)(line_end - request), request,
                   type ? (int)strcspn(type + 38, "\r") : 0, type ? type + 38 : "", body);
  if(n > 0 && write(transcript, line, (size_t)n) < 0)
    _exit(3);
}

static void reply(int fd, const char *response)
{
  if(write(fd, response, strlen(response)) < 0)
    _exit(3);
}

static int expect_request(int fd, int transcript)
{
  static char request[65536];
  if(!read_request(fd, request, sizeof(request)))
    _exit(4);
  record(transcript, request);
  return fd;
}

#define ACCEPTED "HTTP/1.1 202 Accepted\r\nContent-Length: 15\r\n\r\n{\"status\":\"OK\"}"

/* Four invocations, each answered differently, then the API goes away. */
static void serve_invocations(int listener, int transcript)
{
  int conn = accept(listener, NULL, NULL);
  expect_request(conn, transcript);
  reply(conn, "HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: r1\r\n"
              "Lambda-Runtime-Deadline-Ms: 5000\r\nTransfer-Encoding: chunked\r\n\r\n"
              "a;ext=1\r\n{\"Event\": \r\nf\r\n\"s3:TestEvent\"}\r\n0\r\nX-Trailer: 1\r\n\r\n");
  expect_request(conn, transcript);
  reply(conn, ACCEPTED);

  expect_request(conn, transcript);
  reply(conn, "HTTP/1.1 200 OK\r\nlambda-runtime-aws-request-id: r2\r\nContent-Length: 12\r\n\r\n"
              "{\"hello\": 1}");
  expect_request(conn, transcript);
  reply(conn, "HTTP/1.1 202 Accepted\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
  close(conn);

  conn = accept(listener, NULL, NULL);
  expect_request(conn, transcript);
  reply(conn, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\n"
              "Lambda-Runtime-Aws-Request-Id: r3\r\n\r\n{\"Event\": \"s3:TestEvent\"}");
  close(conn);

  conn = accept(listener, NULL, NULL);
  expect_request(conn, transcript);
  reply(conn, ACCEPTED);
  /* Dropped without a word: the next `next` must be retried elsewhere. */
  close(conn);

  conn = accept(listener, NULL, NULL);
  expect_request(conn, transcript);
  reply(conn, "HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: r4\r\n"
              "Lambda-Runtime-Trace-Id:  Root=1-abc;Sampled=1 \r\nContent-Length: 25\r\n\r\n"
              "{\"Event\": \"s3:TestEvent\"}");
  expect_request(conn, transcript);
  reply(conn, ACCEPTED);
  close(conn);
}

/* An invocation with a trace id, then one without, then the API goes away. */
static void serve_trace_then_none(int listener, int transcript)
{
  int conn = accept(listener, NULL, NULL);
  expect_request(conn, transcript);
  reply(conn, "HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: t1\r\n"
              "Lambda-Runtime-Trace-Id: Root=1-def\r\nContent-Length: 25\r\n\r\n"
              "{\"Event\": \"s3:TestEvent\"}");
  expect_request(conn, transcript);
  reply(conn, ACCEPTED);
  expect_request(conn, transcript);
  reply(conn, "HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: t2\r\nContent-Length: 25\r\n\r\n"
              "{\"Event\": \"s3:TestEvent\"}");
  expect_request(conn, transcript);
  reply(conn, ACCEPTED);
  close(conn);
}

/* The same answer to every request, on a fresh connection each time. */
static const char *fixed_answer;
static void serve_fixed_answer(int listener, int transcript)
{
  for(int i = 0; i < 5; i++) {
    int conn = accept(listener, NULL, NULL);
    expect_request(conn, transcript);
    reply(conn, fixed_answer);
    close(conn);
  }
}

static void serve_init_error(int listener, int transcript)
{
  int conn = accept(listener, NULL, NULL);
  expect_request(conn, transcript);
  reply(conn, ACCEPTED);
  close(conn);
}

static api_server start_server(void (*serve)(int listener, int transcript))
{
  api_server server = {-1, -1};
  int listener = listen_loopback();
  int pipe_fds[2];
  CHECK(listener >= 0);
  CHECK(!pipe(pipe_fds));
  fflush(NULL);
  server.pid = fork();
  CHECK(server.pid >= 0);
  if(server.pid == 0) {
    /* Never outlive a test run that died half-way. */
    alarm(30);
    close(pipe_fds[0]);
    serve(listener, pipe_fds[1]);
    _exit(0);
  }
  /* Once the server exits nothing listens: the loop's connects fail. */
  close(listener);
  close(pipe_fds[1]);
  server.transcript = pipe_fds[0];
  return server;
}

/* Waits for the server and returns what it saw (malloc'd). */
static char *finish_server(api_server server)
{
  int status = 0;
  CHECK(waitpid(server.pid, &status, 0) == server.pid);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  size_t cap = 1 << 16, len = 0;
  char *text = malloc(cap);
  ssize_t got;
  while(text && len < cap - 1 && (got = read(server.transcript, text + len, cap - 1 - len)) > 0)
    len += (size_t)got;
  close(server.transcript);
  if(text)
    text[len] = '\0';
  return text;
}

/* Each expected line occurs in the transcript, in this order. */
static void check_in_order(const char *transcript, const char *const *expected, size_t count)
{
  const char *at = transcript;
  for(size_t i = 0; i < count; i++) {
    const char *found = strstr(at, expected[i]);
    if(!found) {
      CHECK_STR(at, expected[i]);
      return;
    }
    at = found + strlen(expected[i]);
  }
}

TEST(runtime_answers_each_kind_of_response_on_kept_alive_connections)
{
  api_server server = start_server(serve_invocations);
  cl_error err;
  cl_error_clear(&err);
  CHECK_INT(lambda_runtime_run(&err), CL_ERR_IO);
  CHECK(strstr(err.message, "runtime API GET http://127.0.0.1:") != NULL);
  char *transcript = finish_server(server);
  CHECK(transcript != NULL);
  static const char *const expected[] = {
    "GET /2018-06-01/runtime/invocation/next HTTP/1.1||\n",
    ("POST /2018-06-01/runtime/invocation/r1/response HTTP/1.1||"
     "{\"processed\": 0, \"rejected\": 0, \"unchanged\": 0, \"skipped\": 1}\n"),
    "GET /2018-06-01/runtime/invocation/next HTTP/1.1||\n",
    "POST /2018-06-01/runtime/invocation/r2/error HTTP/1.1|InvalidEvent|{\"errorMessage\": ",
    "\"errorType\": \"InvalidEvent\"}\n",
    "GET /2018-06-01/runtime/invocation/next HTTP/1.1||\n",
    ("POST /2018-06-01/runtime/invocation/r3/response HTTP/1.1||"
     "{\"processed\": 0, \"rejected\": 0, \"unchanged\": 0, \"skipped\": 1}\n"),
    "GET /2018-06-01/runtime/invocation/next HTTP/1.1||\n",
    ("POST /2018-06-01/runtime/invocation/r4/response HTTP/1.1||"
     "{\"processed\": 0, \"rejected\": 0, \"unchanged\": 0, \"skipped\": 1}\n"),
  };
  if(transcript)
    check_in_order(transcript, expected, sizeof(expected) / sizeof(expected[0]));
  /* The trace id of the last invocation, trimmed, is in the environment. */
  const char *trace = getenv("_X_AMZN_TRACE_ID");
  CHECK_STR(trace ? trace : "(unset)", "Root=1-abc;Sampled=1");
  unsetenv("_X_AMZN_TRACE_ID");
  unsetenv("AWS_LAMBDA_RUNTIME_API");
  free(transcript);
}

TEST(runtime_clears_the_trace_id_of_an_invocation_without_one)
{
  /* Empty rather than unset: the variable is made before the libcurl
   * loading thread starts and only overwritten afterwards. */
  unsetenv("_X_AMZN_TRACE_ID");
  api_server server = start_server(serve_trace_then_none);
  cl_error err;
  cl_error_clear(&err);
  CHECK_INT(lambda_runtime_run(&err), CL_ERR_IO);
  char *transcript = finish_server(server);
  static const char *const expected[] = {
    "POST /2018-06-01/runtime/invocation/t1/response HTTP/1.1||",
    "POST /2018-06-01/runtime/invocation/t2/response HTTP/1.1||",
  };
  if(transcript)
    check_in_order(transcript, expected, 2);
  const char *trace = getenv("_X_AMZN_TRACE_ID");
  CHECK_STR(trace ? trace : "(unset)", "");
  unsetenv("_X_AMZN_TRACE_ID");
  unsetenv("AWS_LAMBDA_RUNTIME_API");
  free(transcript);
}

TEST(runtime_reports_a_bad_configuration_to_init_error)
{
  static const struct {
    const char *name, *value, *message;
  } bad[] = {
    {"COLLATOR_FUNCTION_ROLE", "sidekick", "init: COLLATOR_FUNCTION_ROLE=sidekick"},
    /* Checked at init, not at the first upload's store_open. */
    {"COLLATOR_STORE", "s3://bucket/prefix", "init: COLLATOR_STORE: store URL 's3://bucket/"},
    {"COLLATOR_STORE", "ftp://x", "unknown scheme"},
    {"COLLATOR_LOG_LEVEL", "loud", "COLLATOR_LOG_LEVEL=loud: expected debug, info, warn or error"},
  };
  for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    setenv(bad[i].name, bad[i].value, 1);
    api_server server = start_server(serve_init_error);
    cl_error err;
    cl_error_clear(&err);
    CHECK_INT(lambda_runtime_run(&err), CL_ERR_USAGE);
    if(!strstr(err.message, bad[i].message))
      CHECK_STR(err.message, bad[i].message);
    char *transcript = finish_server(server);
    static const char *const expected[] = {
      "POST /2018-06-01/runtime/init/error HTTP/1.1|InvalidConfiguration|{\"errorMessage\": ",
    };
    if(transcript)
      check_in_order(transcript, expected, 1);
    unsetenv(bad[i].name);
    free(transcript);
  }
  unsetenv("AWS_LAMBDA_RUNTIME_API");
}

typedef struct refused_vector {
  const char *answer;
  cl_status status;
  const char *error;
} refused_vector;

static const refused_vector refused[] = {
  {"SSH-2.0-OpenSSH_9.2\r\n", CL_ERR_REMOTE, "not an HTTP/1.x response: 'SSH-2.0"},
  {"HTTP/1.1 200 OK\r\nContent-Length: 99999999\r\n\r\n", CL_ERR_LIMIT, "response over"},
  {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", CL_ERR_REMOTE,
   "a bad chunk size line 'zz'"},
  {"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{}", CL_ERR_IO, "closed in the response body"},
  {"HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n", CL_ERR_REMOTE, "a bad Content-Length"},
  {"HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n", CL_ERR_REMOTE, "next: HTTP 503"},
  {"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: ../x\r\nContent-Length: 2\r\n\r\n{}",
   CL_ERR_REMOTE, "request id '../x'"},
};

TEST(runtime_gives_up_on_responses_it_cannot_use)
{
  for(size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
    fixed_answer = refused[i].answer;
    api_server server = start_server(serve_fixed_answer);
    cl_error err;
    cl_error_clear(&err);
    CHECK_INT(lambda_runtime_run(&err), refused[i].status);
    if(!strstr(err.message, refused[i].error))
      CHECK_STR(err.message, refused[i].error);
    free(finish_server(server));
  }
  unsetenv("AWS_LAMBDA_RUNTIME_API");
}

TEST(runtime_refuses_a_bad_runtime_api_address)
{
  static const char *const bad[] = {"", "127.0.0.1", "127.0.0.1:", ":9001", "127.0.0.1:90x1",
                                    "[::1]"};
  for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    setenv("AWS_LAMBDA_RUNTIME_API", bad[i], 1);
    cl_error err;
    cl_error_clear(&err);
    CHECK_INT(lambda_runtime_run(&err), CL_ERR_USAGE);
  }
  unsetenv("AWS_LAMBDA_RUNTIME_API");
}

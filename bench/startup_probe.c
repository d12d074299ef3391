/*
 * startup_probe: how long `collator lambda` takes from process creation to
 * its first Runtime API request, the cold-start cost the binary adds inside
 * Lambda.
 *
 *   startup_probe [-n RUNS] [-b BASELINE] [-e FILE] -- COMMAND [ARG...]
 *
 * Measuring from node (bench/lambda_startup.mjs did) adds node's own spawn,
 * about 30 ms here, three times the budget being measured. This probe is a
 * plain C process: per run it listens on a fresh 127.0.0.1 port, sets
 * AWS_LAMBDA_RUNTIME_API (and the variables Lambda always provides) to it,
 * reads CLOCK_MONOTONIC, starts COMMAND with posix_spawn (vfork + exec, what
 * a sandbox's init does), accepts the connection and stops the clock when
 * the request line `GET /2018-06-01/runtime/invocation/next` has arrived.
 * The request is never answered (a real `next` may block for minutes too);
 * the child is killed.
 *
 * -i also answers that `next` with an S3 event and stops a second clock
 * when the invocation's result arrives (a POST): a cold start's first
 * invocation, including the wait for whatever the runtime loads in the
 * background. The S3 endpoint is a closed loopback port with one attempt,
 * so the invocation opens its store (libcurl), fails to connect and
 * reports the error at once. Prints "invocation_ms=...".
 *
 * -b BASELINE also times spawning BASELINE (e.g. /bin/true) until it exits,
 * RUNS times: the floor that process creation, exec and the dynamic linker
 * set on this machine. -e FILE keeps the child's stderr (default: discarded
 * unless a run fails, when its tail is reported).
 *
 * Prints "startup_ms=M1,M2,..." (one figure per run), "startup_cpu_ms=..."
 * (the child's user + system CPU time at the kill, which a busy machine
 * inflates far less than the wall time) and, with -b,
 * "baseline_ms=B1,B2,..."; or "startup_error=WHY" when the command exits,
 * sends something else first, or stays silent for 5 s (exit status 1).
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PROBE_TIMEOUT_MS 5000
#define NEXT_REQUEST_LINE "GET /2018-06-01/runtime/invocation/next HTTP/1."
#define RESULT_REQUEST "POST /2018-06-01/runtime/invocation/probe-request/"
#define PROBE_EVENT                                                                       \
  "{\"Records\":[{\"eventSource\":\"aws:s3\",\"eventName\":\"ObjectCreated:Put\",\"s3\":{\"bucket\":{\"name\":\"probe\"},"   \
  "\"object\":{\"key\":\"uploads/users/1/serial/device/sms_log/1.json\"}}}]}"
#define MAX_RUNS 1000

extern char **environ;

static double elapsed_ms(const struct timespec *start, const struct timespec *end)
{
  return (double)(end->tv_sec - start->tv_sec) * 1e3 +
         (double)(end->tv_nsec - start->tv_nsec) / 1e6;
}

static int remaining_ms(const struct timespec *start)
{
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  double left = PROBE_TIMEOUT_MS - elapsed_ms(start, &now);
  return left > 0 ? (int)left : 0;
}

/* A listening socket on 127.0.0.1 with a port of the kernel's choosing. */
static int listen_loopback(int *port)
{
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if(fd < 0)
    return -1;
  struct sockaddr_in address = {.sin_family = AF_INET,
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t length = sizeof(address);
  if(bind(fd, (struct sockaddr *)&address, sizeof(address)) || listen(fd, 8) ||
     getsockname(fd, (struct sockaddr *)&address, &length)) {
    close(fd);
    return -1;
  }
  *port = ntohs(address.sin_port);
  return fd;
}

/* Starts argv with stdout discarded and stderr to stderr_fd (or discarded). */
static int spawn_child(char **argv, int stderr_fd, pid_t *child)
{
  posix_spawn_file_actions_t actions;
  if(posix_spawn_file_actions_init(&actions))
    return -1;
  int failed = posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  if(!failed && stderr_fd >= 0)
    failed = posix_spawn_file_actions_adddup2(&actions, stderr_fd, STDERR_FILENO);
  else if(!failed)
    failed = posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  if(!failed)
    failed = posix_spawn(child, argv[0], &actions, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  errno = failed;
  return failed ? -1 : 0;
}

static double cpu_ms(const struct rusage *usage)
{
  return (double)(usage->ru_utime.tv_sec + usage->ru_stime.tv_sec) * 1e3 +
         (double)(usage->ru_utime.tv_usec + usage->ru_stime.tv_usec) / 1e3;
}

/* The child's CPU time stays put while it waits for the answer to `next`,
 * so its total at the kill is what start-up cost. */
static double kill_and_reap(pid_t child)
{
  struct rusage usage;
  memset(&usage, 0, sizeof(usage));
  kill(child, SIGKILL);
  while(wait4(child, NULL, 0, &usage) < 0 && errno == EINTR) {
  }
  return cpu_ms(&usage);
}

/* One measurement; on failure, why in `why` and -1. */
/* Answer `next` with PROBE_EVENT; 0 when all of it was written. */
static int send_event(int connection)
{
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  long long deadline_ms = (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000 + 60000;
  char response[1024];
  int len = snprintf(response, sizeof(response),
                     "HTTP/1.1 200 OK\r\n"
                     "Lambda-Runtime-Aws-Request-Id: probe-request\r\n"
                     "Lambda-Runtime-Deadline-Ms: %lld\r\n"
                     "Lambda-Runtime-Invoked-Function-Arn: "
                     "arn:aws:lambda:us-east-1:000000000000:function:collator-bench\r\n"
                     "Content-Type: application/json\r\n"
                     "Content-Length: %zu\r\n\r\n%s",
                     deadline_ms, strlen(PROBE_EVENT), PROBE_EVENT);
  return write(connection, response, (size_t)len) == len ? 0 : -1;
}

/* One measurement: spawn to `next` in *ms and, when invoke_ms is set, spawn
 * to the first invocation's result in *invoke_ms; on failure, why in `why`
 * and -1. */
static int measure_once(char **argv, int stderr_fd, double *ms, double *invoke_ms, double *cpu,
                        char *why, size_t why_cap)
{
  int port = 0;
  int server = listen_loopback(&port);
  if(server < 0) {
    snprintf(why, why_cap, "cannot listen on 127.0.0.1: %s", strerror(errno));
    return -1;
  }
  char api[32];
  snprintf(api, sizeof(api), "127.0.0.1:%d", port);
  setenv("AWS_LAMBDA_RUNTIME_API", api, 1);

  struct timespec start, end;
  pid_t child;
  clock_gettime(CLOCK_MONOTONIC, &start);
  if(spawn_child(argv, stderr_fd, &child)) {
    snprintf(why, why_cap, "cannot run %s: %s", argv[0], strerror(errno));
    close(server);
    return -1;
  }

  int result = -1, connection = -1, invoked = 0;
  char request[4096];
  size_t received = 0;
  why[0] = '\0';
  for(;;) {
    int status;
    if(waitpid(child, &status, WNOHANG) == child) {
      snprintf(why, why_cap, "%s exited with %d before %s", argv[0],
               WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
               invoked ? "the invocation's result" : "its first request");
      child = -1;
      break;
    }
    /* Short slices so that a child that exits early is noticed; a request
     * ends the wait as soon as it arrives. */
    struct pollfd wanted = {connection >= 0 ? connection : server, POLLIN, 0};
    int left = remaining_ms(&start);
    if(!left) {
      snprintf(why, why_cap, "no %s within %d ms", invoked ? "result" : "request",
               PROBE_TIMEOUT_MS);
      break;
    }
    if(poll(&wanted, 1, left < 20 ? left : 20) <= 0)
      continue;
    if(connection < 0) {
      connection = accept4(server, NULL, NULL, SOCK_CLOEXEC);
      continue;
    }
    ssize_t got = read(connection, request + received, sizeof(request) - 1 - received);
    if(got <= 0) {
      snprintf(why, why_cap, "the connection closed before %s",
               invoked ? "the invocation's result" : "a request line");
      break;
    }
    received += (size_t)got;
    request[received] = '\0';
    if(invoked) {
      clock_gettime(CLOCK_MONOTONIC, &end);
      if(strstr(request, RESULT_REQUEST)) {
        *invoke_ms = elapsed_ms(&start, &end);
        result = 0;
        break;
      }
      if(received > sizeof(request) / 2) { /* keep a tail that may hold a split line */
        memmove(request, request + received - 64, 64);
        received = 64;
      }
      continue;
    }
    char *line_end = strstr(request, "\r\n");
    if(!line_end && received < sizeof(request) - 1)
      continue;
    clock_gettime(CLOCK_MONOTONIC, &end);
    if(strncmp(request, NEXT_REQUEST_LINE, strlen(NEXT_REQUEST_LINE))) {
      if(line_end)
        *line_end = '\0';
      snprintf(why, why_cap, "the first request was not `next`: %.200s", request);
      break;
    }
    *ms = elapsed_ms(&start, &end);
    if(!invoke_ms) {
      result = 0;
      break;
    }
    if(send_event(connection)) {
      snprintf(why, why_cap, "cannot answer `next`: %s", strerror(errno));
      break;
    }
    invoked = 1;
    received = 0;
  }
  if(child > 0)
    *cpu = kill_and_reap(child);
  if(connection >= 0)
    close(connection);
  close(server);
  return result;
}

/* Spawn to exit of a command that does nothing. */
static int baseline_once(const char *path, double *ms)
{
  char *argv[] = {(char *)path, NULL};
  struct timespec start, end;
  pid_t child;
  int status;
  clock_gettime(CLOCK_MONOTONIC, &start);
  if(spawn_child(argv, -1, &child))
    return -1;
  while(waitpid(child, &status, 0) < 0)
    if(errno != EINTR)
      return -1;
  clock_gettime(CLOCK_MONOTONIC, &end);
  *ms = elapsed_ms(&start, &end);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* The tail of the captured stderr, for the error line. */
static void stderr_tail(int fd, char *out, size_t cap)
{
  out[0] = '\0';
  off_t size = lseek(fd, 0, SEEK_END);
  if(size <= 0)
    return;
  off_t from = size > (off_t)cap - 1 ? size - (off_t)cap + 1 : 0;
  ssize_t got = pread(fd, out, cap - 1, from);
  out[got > 0 ? got : 0] = '\0';
  for(char *p = out; *p; p++)
    if(*p == '\n' || *p == '\r')
      *p = ' ';
}

static int usage(void)
{
  fprintf(stderr,
          "usage: startup_probe [-n RUNS] [-b BASELINE] [-e FILE] [-i] -- COMMAND [ARG...]\n");
  return 2;
}

int main(int argc, char **argv)
{
  int runs = 5, i = 1, invoke = 0;
  const char *baseline = NULL, *stderr_path = NULL;
  for(; i < argc; i++) {
    if(!strcmp(argv[i], "--")) {
      i++;
      break;
    }
    if(!strcmp(argv[i], "-i")) {
      invoke = 1;
      continue;
    }
    if(i + 1 >= argc)
      return usage();
    if(!strcmp(argv[i], "-n"))
      runs = atoi(argv[++i]);
    else if(!strcmp(argv[i], "-b"))
      baseline = argv[++i];
    else if(!strcmp(argv[i], "-e"))
      stderr_path = argv[++i];
    else
      return usage();
  }
  if(i >= argc || runs < 1 || runs > MAX_RUNS)
    return usage();
  char **command = argv + i;

  /* What the Lambda service always sets; the runtime needs nothing else. */
  setenv("AWS_LAMBDA_FUNCTION_NAME", "collator-bench", 1);
  setenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512", 1);
  setenv("AWS_REGION", getenv("AWS_REGION") ? getenv("AWS_REGION") : "us-east-1", 1);
  setenv("_HANDLER", "handler", 1);
  if(invoke) {
    /* Port 1 on loopback refuses at once: the invocation fails fast after
     * opening its S3 store. */
    setenv("S3_ENDPOINT", "http://127.0.0.1:1", 1);
    setenv("COLLATOR_S3_MAX_ATTEMPTS", "1", 1);
    setenv("AWS_ACCESS_KEY_ID", "probe", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "probe", 1);
    unsetenv("COLLATOR_STORE");
  }

  int stderr_fd = stderr_path ? open(stderr_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)
                              : open("/dev/null", O_WRONLY | O_CLOEXEC);
  char template[] = "/tmp/startup_probe.XXXXXX";
  if(!stderr_path && stderr_fd >= 0) {
    /* Kept so that a failed run can say why. */
    close(stderr_fd);
    stderr_fd = mkostemp(template, O_CLOEXEC);
    if(stderr_fd >= 0)
      unlink(template);
  }
  if(stderr_fd < 0) {
    printf("startup_error=cannot open a file for the child's stderr: %s\n", strerror(errno));
    return 1;
  }

  double figures[MAX_RUNS], invoke_figures[MAX_RUNS], cpu_figures[MAX_RUNS];
  char why[512], tail[201];
  for(int run = 0; run < runs; run++) {
    if(measure_once(command, stderr_fd, &figures[run], invoke ? &invoke_figures[run] : NULL,
                    &cpu_figures[run], why, sizeof(why))) {
      stderr_tail(stderr_fd, tail, sizeof(tail));
      printf("startup_error=%s%s%s\n", why, tail[0] ? "; stderr: " : "", tail);
      return 1;
    }
  }
  printf("startup_ms=");
  for(int run = 0; run < runs; run++)
    printf("%s%.3f", run ? "," : "", figures[run]);
  printf("\nstartup_cpu_ms=");
  for(int run = 0; run < runs; run++)
    printf("%s%.3f", run ? "," : "", cpu_figures[run]);
  printf("\n");
  if(invoke) {
    printf("invocation_ms=");
    for(int run = 0; run < runs; run++)
      printf("%s%.3f", run ? "," : "", invoke_figures[run]);
    printf("\n");
  }

  if(baseline) {
    for(int run = 0; run < runs; run++)
      if(baseline_once(baseline, &figures[run])) {
        printf("baseline_error=%s did not run and exit 0\n", baseline);
        return 1;
      }
    printf("baseline_ms=");
    for(int run = 0; run < runs; run++)
      printf("%s%.3f", run ? "," : "", figures[run]);
    printf("\n");
  }
  close(stderr_fd);
  return 0;
}

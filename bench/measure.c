/*
 * measure: run a command and report its wall time and peak RSS.
 *
 *   measure [-o FILE] [-i FILE] [-e FILE] -- COMMAND [ARG...]
 *
 * The benchmarks need the peak resident memory of exactly the process under
 * test, which the shell cannot give and GNU time is not installed by
 * default. The child's rusage from wait4() carries ru_maxrss (KiB) of the
 * child (and of descendants it waited for); wall time is CLOCK_MONOTONIC
 * around fork and wait. -i and -e redirect the child's stdin and stderr.
 * The report is one line, "wall_s=S maxrss_kb=K exit=N user_s=U sys_s=Y",
 * written to FILE (-o) or stderr. measure exits with the child's status
 * (128+signal when killed) so callers can tell a failed run; it never
 * judges the figures.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double seconds_between(const struct timespec *start, const struct timespec *end)
{
  return (double)(end->tv_sec - start->tv_sec) + (double)(end->tv_nsec - start->tv_nsec) / 1e9;
}

static double timeval_seconds(const struct timeval *t)
{
  return (double)t->tv_sec + (double)t->tv_usec / 1e6;
}

static int redirect(const char *path, int fd, int flags)
{
  int opened = open(path, flags, 0644);
  if(opened < 0)
    return -1;
  if(dup2(opened, fd) < 0) {
    close(opened);
    return -1;
  }
  close(opened);
  return 0;
}

static int usage(void)
{
  fprintf(stderr, "usage: measure [-o FILE] [-i FILE] [-e FILE] -- COMMAND [ARG...]\n");
  return 2;
}

int main(int argc, char **argv)
{
  const char *report_path = NULL, *stdin_path = NULL, *stderr_path = NULL;
  int i = 1;
  for(; i < argc; i++) {
    if(!strcmp(argv[i], "--")) {
      i++;
      break;
    }
    if(i + 1 >= argc)
      return usage();
    if(!strcmp(argv[i], "-o"))
      report_path = argv[++i];
    else if(!strcmp(argv[i], "-i"))
      stdin_path = argv[++i];
    else if(!strcmp(argv[i], "-e"))
      stderr_path = argv[++i];
    else
      return usage();
  }
  if(i >= argc)
    return usage();

  struct timespec start, end;
  clock_gettime(CLOCK_MONOTONIC, &start);
  pid_t child = fork();
  if(child < 0) {
    fprintf(stderr, "measure: fork failed: %s\n", strerror(errno));
    return 1;
  }
  if(child == 0) {
    if(stdin_path && redirect(stdin_path, STDIN_FILENO, O_RDONLY) < 0) {
      fprintf(stderr, "measure: cannot open %s: %s\n", stdin_path, strerror(errno));
      _exit(127);
    }
    if(stderr_path && redirect(stderr_path, STDERR_FILENO, O_WRONLY | O_CREAT | O_TRUNC) < 0) {
      fprintf(stderr, "measure: cannot open %s: %s\n", stderr_path, strerror(errno));
      _exit(127);
    }
    execvp(argv[i], argv + i);
    fprintf(stderr, "measure: cannot run %s: %s\n", argv[i], strerror(errno));
    _exit(127);
  }
  int status;
  struct rusage usage_of_child;
  while(wait4(child, &status, 0, &usage_of_child) < 0) {
    if(errno != EINTR) {
      fprintf(stderr, "measure: wait failed: %s\n", strerror(errno));
      return 1;
    }
  }
  clock_gettime(CLOCK_MONOTONIC, &end);
  int exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);

  FILE *report = stderr;
  if(report_path && !(report = fopen(report_path, "w"))) {
    fprintf(stderr, "measure: cannot write %s: %s\n", report_path, strerror(errno));
    return 1;
  }
  fprintf(report, "wall_s=%.6f maxrss_kb=%ld exit=%d user_s=%.3f sys_s=%.3f\n",
          seconds_between(&start, &end), usage_of_child.ru_maxrss, exit_code,
          timeval_seconds(&usage_of_child.ru_utime), timeval_seconds(&usage_of_child.ru_stime));
  if(report != stderr && fclose(report)) {
    fprintf(stderr, "measure: writing %s failed\n", report_path);
    return 1;
  }
  return exit_code;
}

#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static log_level threshold = LOG_INFO;

void log_set_level(log_level level)
{
  threshold = level;
}

cl_status log_init_from_env(cl_error *err)
{
  static const char *const names[] = {"debug", "info", "warn", "error"};
  const char *value = getenv("COLLATOR_LOG_LEVEL");
  if(!value || !*value) {
    threshold = LOG_INFO;
    return CL_OK;
  }
  for(size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
    if(!strcmp(value, names[i])) {
      threshold = (log_level)i;
      return CL_OK;
    }
  return cl_fail(err, CL_ERR_USAGE, "COLLATOR_LOG_LEVEL=%s: expected debug, info, warn or error",
                 value);
}

int log_enabled(log_level level)
{
  return level >= threshold;
}

static void write_all(const char *data, size_t len)
{
  while(len) {
    ssize_t n = write(STDERR_FILENO, data, len);
    if(n < 0 && errno == EINTR)
      continue;
    /* Nowhere left to report a failing stderr: drop the line. */
    if(n <= 0)
      return;
    data += n;
    len -= (size_t)n;
  }
}

void log_message(log_level level, const char *fmt, ...)
{
  static const char *const names[] = {"debug", "info", "warning", "error"};
  char line[2048];
  int n;
  va_list ap;

  if(!log_enabled(level))
    return;
  n = snprintf(line, sizeof(line), "collator: %s: ", names[level]);
  va_start(ap, fmt);
  n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
  va_end(ap);
  if(n > (int)sizeof(line) - 2)
    n = (int)sizeof(line) - 2;
  line[n++] = '\n';
  write_all(line, (size_t)n);
}

void log_json_line(const char *json, size_t len)
{
  char *line = malloc(len + 1);
  if(!line) {
    write_all(json, len);
    write_all("\n", 1);
    return;
  }
  memcpy(line, json, len);
  line[len] = '\n';
  write_all(line, len + 1);
  free(line);
}

/*
 * log: diagnostics on stderr, one line per call.
 *
 * Text lines ("collator: error: ...") for people; log_json_line() for the
 * structured per-upload record that CloudWatch parses. Each line goes out in a
 * single write so lines from concurrent workers never interleave. The level
 * threshold comes from COLLATOR_LOG_LEVEL (debug, info, warn, error).
 */
#ifndef COLLATOR_CORE_LOG_H
#define COLLATOR_CORE_LOG_H

#include <stddef.h>

#include "error.h"

typedef enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR } log_level;

void log_set_level(log_level level);
/* The level COLLATOR_LOG_LEVEL names (unset or empty: info). Any other
 * value is CL_ERR_USAGE, and the level stays as it was. */
cl_status log_init_from_env(cl_error *err);
int log_enabled(log_level level);

void log_message(log_level level, const char *fmt, ...)
  __attribute__((format(printf, 2, 3)));

/* Write a complete JSON object (no newline) as one line on stderr. */
void log_json_line(const char *json, size_t len);

#endif

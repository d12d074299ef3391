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

typedef enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR } log_level;

void log_set_level(log_level level);
/* Read COLLATOR_LOG_LEVEL; unknown values leave the default (info). */
void log_init_from_env(void);
int log_enabled(log_level level);

void log_message(log_level level, const char *fmt, ...)
  __attribute__((format(printf, 2, 3)));

/* Write a complete JSON object (no newline) as one line on stderr. */
void log_json_line(const char *json, size_t len);

#endif

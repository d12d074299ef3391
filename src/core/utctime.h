/*
 * utctime: UTC civil time without the C library's time zone machinery.
 *
 * The collator's ids contain Python's str() of naive UTC datetimes, so every
 * conversion here is pure arithmetic on the proleptic Gregorian calendar and
 * never consults TZ (design.md item 8). Instants are microseconds since
 * 1970-01-01T00:00:00Z in an int64_t.
 */
#ifndef COLLATOR_CORE_UTCTIME_H
#define COLLATOR_CORE_UTCTIME_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define UTC_MICROS_PER_SECOND INT64_C(1000000)
#define UTC_MICROS_PER_DAY INT64_C(86400000000)

typedef struct utc_civil {
  int64_t year;   /* proleptic Gregorian; may be outside 1..9999 */
  int month;      /* 1..12 */
  int day;        /* 1..31 */
  int hour, minute, second;
  int microsecond;
} utc_civil;

/* Days since 1970-01-01 of a calendar date (valid for any int64 year that fits). */
int64_t utc_days_from_civil(int64_t year, int month, int day);
void utc_civil_from_days(int64_t days, int64_t *year, int *month, int *day);

/* a / b rounded toward negative infinity (b != 0), so that an instant before
 * 1970 splits into the unit it lies in (day, second, microsecond) and a
 * non-negative remainder, where C's division would round toward zero. */
int64_t utc_floor_div(int64_t a, int64_t b);

void utc_civil_from_micros(int64_t micros, utc_civil *out);
/* Fails with CL_ERR_LIMIT when the result does not fit in int64 microseconds. */
cl_status utc_micros_from_civil(const utc_civil *civil, int64_t *micros);

/* Python str(datetime): "YYYY-MM-DD HH:MM:SS", plus ".ffffff" when the
 * microsecond is non-zero. Years outside 1..9999 are written with as many
 * digits as they need, so dst needs 27 bytes, or 30 for any int64. These
 * formatters return the length written, which a short dst truncates. */
size_t utc_format_python(int64_t micros, char *dst, size_t cap);

/* "YYYY-MM-DD". dst needs 11 bytes, or 14 for any int64. */
size_t utc_format_date(int64_t micros, char *dst, size_t cap);

/* ISO 8601 with a fixed six-digit fraction, "YYYY-MM-DDTHH:MM:SS.ffffffZ",
 * so timestamps written into records sort as text. dst needs 28 bytes, or
 * 31 for any int64. */
size_t utc_format_iso8601(int64_t micros, char *dst, size_t cap);

/* ISO 8601 / RFC 3339: "2026-11-24T10:00:00Z", optional fraction, "Z" or
 * "+HH:MM" offset, a space instead of "T", or a date alone (midnight UTC). */
cl_status utc_parse_iso8601(const char *text, int64_t *micros, cl_error *err);

int64_t utc_now_micros(void);
/* Monotonic clock in seconds, for durations. */
double utc_monotonic_seconds(void);

#endif

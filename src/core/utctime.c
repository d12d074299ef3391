#include "utctime.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Howard Hinnant's days_from_civil / civil_from_days, with 400-year eras. */
int64_t utc_days_from_civil(int64_t year, int month, int day)
{
  int64_t y = year - (month <= 2);
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t mp = (month + 9) % 12;
  int64_t doy = (153 * mp + 2) / 5 + day - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void utc_civil_from_days(int64_t days, int64_t *year, int *month, int *day)
{
  int64_t z = days + 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int d = (int)(doy - (153 * mp + 2) / 5 + 1);
  int m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *year = yoe + era * 400 + (m <= 2);
  *month = m;
  *day = d;
}

int64_t utc_floor_div(int64_t a, int64_t b)
{
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

void utc_civil_from_micros(int64_t micros, utc_civil *out)
{
  int64_t days = utc_floor_div(micros, UTC_MICROS_PER_DAY);
  /* Not micros - days * a day: near INT64_MIN that product overflows. */
  int64_t rest = micros % UTC_MICROS_PER_DAY;
  if(rest < 0)
    rest += UTC_MICROS_PER_DAY;
  int64_t secs = rest / UTC_MICROS_PER_SECOND;

  utc_civil_from_days(days, &out->year, &out->month, &out->day);
  out->hour = (int)(secs / 3600);
  out->minute = (int)(secs / 60 % 60);
  out->second = (int)(secs % 60);
  out->microsecond = (int)(rest % UTC_MICROS_PER_SECOND);
}

cl_status utc_micros_from_civil(const utc_civil *c, int64_t *micros)
{
  int64_t days, secs;
  /* 292,000 years either side of 1970 fit in int64 microseconds. */
  if(c->year < -290000 || c->year > 290000)
    return CL_ERR_LIMIT;
  days = utc_days_from_civil(c->year, c->month, c->day);
  secs = days * 86400 + c->hour * 3600 + c->minute * 60 + c->second;
  *micros = secs * UTC_MICROS_PER_SECOND + c->microsecond;
  return CL_OK;
}

/* What snprintf wrote, not what it wanted to. */
static size_t written(int n, size_t cap)
{
  if(n < 0 || cap == 0)
    return 0;
  return (size_t)n < cap ? (size_t)n : cap - 1;
}

size_t utc_format_python(int64_t micros, char *dst, size_t cap)
{
  utc_civil c;
  int n;
  utc_civil_from_micros(micros, &c);
  if(c.microsecond)
    n = snprintf(dst, cap, "%04" PRId64 "-%02d-%02d %02d:%02d:%02d.%06d", c.year,
                 c.month, c.day, c.hour, c.minute, c.second, c.microsecond);
  else
    n = snprintf(dst, cap, "%04" PRId64 "-%02d-%02d %02d:%02d:%02d", c.year,
                 c.month, c.day, c.hour, c.minute, c.second);
  return written(n, cap);
}

size_t utc_format_date(int64_t micros, char *dst, size_t cap)
{
  utc_civil c;
  int n;
  utc_civil_from_micros(micros, &c);
  n = snprintf(dst, cap, "%04" PRId64 "-%02d-%02d", c.year, c.month, c.day);
  return written(n, cap);
}

size_t utc_format_iso8601(int64_t micros, char *dst, size_t cap)
{
  utc_civil c;
  int n;
  utc_civil_from_micros(micros, &c);
  n = snprintf(dst, cap, "%04" PRId64 "-%02d-%02dT%02d:%02d:%02d.%06dZ", c.year, c.month,
               c.day, c.hour, c.minute, c.second, c.microsecond);
  return written(n, cap);
}

static int read_digits(const char **p, int count, int *value)
{
  int v = 0;
  for(int i = 0; i < count; i++) {
    if(!isdigit((unsigned char)(*p)[i]))
      return 0;
    v = v * 10 + ((*p)[i] - '0');
  }
  *p += count;
  *value = v;
  return 1;
}

static int days_in_month(int64_t year, int month)
{
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : days[month - 1];
}

cl_status utc_parse_iso8601(const char *text, int64_t *micros, cl_error *err)
{
  const char *p = text;
  utc_civil c = {0};
  int year, offset_h = 0, offset_m = 0, sign = 0;

  if(!read_digits(&p, 4, &year) || *p++ != '-' || !read_digits(&p, 2, &c.month) ||
     *p++ != '-' || !read_digits(&p, 2, &c.day))
    goto bad;
  c.year = year;
  if(c.month < 1 || c.month > 12 || c.day < 1 || c.day > days_in_month(c.year, c.month))
    goto bad;
  if(*p == 'T' || *p == 't' || *p == ' ') {
    p++;
    if(!read_digits(&p, 2, &c.hour) || *p++ != ':' || !read_digits(&p, 2, &c.minute))
      goto bad;
    if(*p == ':') {
      p++;
      if(!read_digits(&p, 2, &c.second))
        goto bad;
      if(*p == '.' || *p == ',') {
        int digits = 0;
        p++;
        if(!isdigit((unsigned char)*p))
          goto bad;
        for(; isdigit((unsigned char)*p); p++, digits++)
          if(digits < 6)
            c.microsecond = c.microsecond * 10 + (*p - '0');
        for(; digits < 6; digits++)
          c.microsecond *= 10;
      }
    }
    if(c.hour > 23 || c.minute > 59 || c.second > 59)
      goto bad;
    if(*p == 'Z' || *p == 'z')
      p++;
    else if(*p == '+' || *p == '-') {
      sign = *p++ == '+' ? 1 : -1;
      if(!read_digits(&p, 2, &offset_h))
        goto bad;
      if(*p == ':')
        p++;
      if(!read_digits(&p, 2, &offset_m) || offset_h > 23 || offset_m > 59)
        goto bad;
    }
  }
  if(*p)
    goto bad;
  if(utc_micros_from_civil(&c, micros))
    goto bad;
  *micros -= (int64_t)sign * (offset_h * 3600 + offset_m * 60) * UTC_MICROS_PER_SECOND;
  return CL_OK;
bad:
  return cl_fail(err, CL_ERR_USAGE,
                 "'%s' is not an ISO 8601 time (like 2026-11-24T10:00:00Z)", text);
}

int64_t utc_now_micros(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * UTC_MICROS_PER_SECOND + ts.tv_nsec / 1000;
}

double utc_monotonic_seconds(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#include "pystr.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "core/utctime.h"
#include "normalize.h"

/* CPython 3.10.7+ refuses int() of strings with more digits than this. */
#define PYINT_MAX_STR_DIGITS 4300

void pyval_from_json(const json_value *value, pyval *out)
{
  memset(out, 0, sizeof(*out));
  out->type = PY_NONE;
  if(!value)
    return;
  switch(value->type) {
  case JSON_NULL:
    break;
  case JSON_BOOL:
    out->type = PY_BOOL;
    out->i = value->u.boolean ? 1 : 0;
    out->fits = 1;
    break;
  case JSON_INT:
    out->type = PY_INT;
    out->fits = value->u.integer.fits;
    out->i = value->u.integer.value;
    out->s = value->u.integer.text;
    out->len = value->u.integer.text_len;
    break;
  case JSON_FLOAT:
    out->type = PY_FLOAT;
    out->f = value->u.number.value;
    out->s = value->u.number.text;
    out->len = value->u.number.text_len;
    break;
  case JSON_STRING:
    out->type = PY_STR;
    out->s = value->u.string.data;
    out->len = value->u.string.len;
    break;
  case JSON_ARRAY:
  case JSON_OBJECT:
    out->type = PY_JSON;
    out->json = value;
    break;
  }
}

static int is_printable(int32_t cp)
{
  if(cp < 0)
    return 0;
  switch(utf8proc_category(cp)) {
  case UTF8PROC_CATEGORY_CC:
  case UTF8PROC_CATEGORY_CF:
  case UTF8PROC_CATEGORY_CS:
  case UTF8PROC_CATEGORY_CO:
  case UTF8PROC_CATEGORY_CN:
  case UTF8PROC_CATEGORY_ZL:
  case UTF8PROC_CATEGORY_ZP:
  case UTF8PROC_CATEGORY_ZS:
    return 0;
  default:
    return cp < 0xd800 || cp > 0xdfff;
  }
}

/* unicode_repr: prefer single quotes unless the text has ' and no ". */
static cl_status repr_string(buf *out, const char *s, size_t len)
{
  char quote = '\'';
  size_t pos = 0;
  if(memchr(s, '\'', len) && !memchr(s, '"', len))
    quote = '"';
  buf_putc(out, quote);
  while(pos < len) {
    size_t start = pos;
    int32_t cp = normalize_next(s, len, &pos);
    if(cp == quote || cp == '\\') {
      buf_putc(out, '\\');
      buf_putc(out, (char)cp);
    }
    else if(cp == '\t')
      buf_append(out, "\\t", 2);
    else if(cp == '\n')
      buf_append(out, "\\n", 2);
    else if(cp == '\r')
      buf_append(out, "\\r", 2);
    else if(cp >= 0 && (cp < 0x20 || cp == 0x7f))
      buf_printf(out, "\\x%02x", (unsigned)cp);
    else if(cp >= 0 && cp < 0x7f)
      buf_putc(out, (char)cp);
    else if(is_printable(cp))
      buf_append(out, s + start, pos - start);
    else if(cp < 0)
      buf_printf(out, "\\x%02x", (unsigned)(unsigned char)s[start]);
    else if(cp <= 0xff)
      buf_printf(out, "\\x%02x", (unsigned)cp);
    else if(cp <= 0xffff)
      buf_printf(out, "\\u%04x", (unsigned)cp);
    else
      buf_printf(out, "\\U%08x", (unsigned)cp);
  }
  buf_putc(out, quote);
  return buf_status(out);
}

cl_status pyrepr_append_json(buf *out, const json_value *value)
{
  switch(value->type) {
  case JSON_NULL:
    return buf_append(out, "None", 4);
  case JSON_BOOL:
    return value->u.boolean ? buf_append(out, "True", 4) : buf_append(out, "False", 5);
  case JSON_INT:
    return buf_append(out, value->u.integer.text, value->u.integer.text_len);
  case JSON_FLOAT:
    return buf_append(out, value->u.number.text, value->u.number.text_len);
  case JSON_STRING:
    return repr_string(out, value->u.string.data, value->u.string.len);
  case JSON_ARRAY:
    buf_putc(out, '[');
    for(size_t k = 0; k < value->u.array.count; k++) {
      if(k)
        buf_append(out, ", ", 2);
      pyrepr_append_json(out, value->u.array.items[k]);
    }
    return buf_putc(out, ']');
  case JSON_OBJECT:
    buf_putc(out, '{');
    for(size_t k = 0; k < value->u.object.count; k++) {
      const json_member *m = &value->u.object.members[k];
      if(k)
        buf_append(out, ", ", 2);
      repr_string(out, m->key, m->key_len);
      buf_append(out, ": ", 2);
      pyrepr_append_json(out, m->value);
    }
    return buf_putc(out, '}');
  }
  return buf_status(out);
}

/* Every id formats a user id, an item id and often a datetime: snprintf
 * showed in profiles, so these format digits directly. */
static size_t format_i64(int64_t v, char *dst)
{
  char rev[24];
  size_t n = 0, len = 0;
  uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
  do {
    rev[n++] = (char)('0' + u % 10);
    u /= 10;
  } while(u);
  if(v < 0)
    dst[len++] = '-';
  while(n)
    dst[len++] = rev[--n];
  return len;
}

static void put2(char *dst, int v)
{
  dst[0] = (char)('0' + v / 10);
  dst[1] = (char)('0' + v % 10);
}

static size_t format_datetime(int64_t micros, char *dst, size_t cap)
{
  utc_civil c;
  utc_civil_from_micros(micros, &c);
  if(c.year < 1 || c.year > 9999)
    return utc_format_python(micros, dst, cap);
  put2(dst, (int)(c.year / 100));
  put2(dst + 2, (int)(c.year % 100));
  dst[4] = '-';
  put2(dst + 5, c.month);
  dst[7] = '-';
  put2(dst + 8, c.day);
  dst[10] = ' ';
  put2(dst + 11, c.hour);
  dst[13] = ':';
  put2(dst + 14, c.minute);
  dst[16] = ':';
  put2(dst + 17, c.second);
  if(!c.microsecond)
    return 19;
  dst[19] = '.';
  put2(dst + 20, c.microsecond / 10000);
  put2(dst + 22, c.microsecond / 100 % 100);
  put2(dst + 24, c.microsecond % 100);
  return 26;
}

/* Ids and row hashes join about ten short pieces per entry: appending in
 * place when they fit keeps a call into buf.c (and its checks) per piece
 * off that path; anything else goes through buf_append as before. */
static inline cl_status put(buf *out, const char *s, size_t len)
{
  if(!out->failed && out->cap - out->len > len && (!out->limit || out->len + len <= out->limit)) {
    memcpy(out->data + out->len, s, len);
    out->len += len;
    out->data[out->len] = '\0';
    return CL_OK;
  }
  return buf_append(out, s, len);
}

cl_status pystr_append(buf *out, const pyval *value)
{
  char text[40];
  size_t n;
  switch(value->type) {
  case PY_NONE:
    return put(out, "None", 4);
  case PY_BOOL:
    return value->i ? put(out, "True", 4) : put(out, "False", 5);
  case PY_INT:
    if(!value->fits || value->s)
      return put(out, value->s, value->len);
    n = format_i64(value->i, text);
    return put(out, text, n);
  case PY_FLOAT:
    if(value->s)
      return put(out, value->s, value->len);
    n = json_format_python_float(value->f, text, sizeof(text));
    return put(out, text, n);
  case PY_STR:
    return put(out, value->s, value->len);
  case PY_BYTES:
    /* str(bytes) is its repr; no hashed field holds bytes, but be exact. */
    buf_putc(out, 'b');
    return repr_string(out, value->s, value->len);
  case PY_DATETIME:
    n = format_datetime(value->i, text, sizeof(text));
    return put(out, text, n);
  case PY_JSON:
    return pyrepr_append_json(out, value->json);
  }
  return buf_status(out);
}

/* The exact decimal digits of an integral double (|d| >= 2^63 included). */
static size_t integral_double(double d, char *dst, size_t cap)
{
  /* Base 1e9 limbs, least significant first: 2^1024 needs 35 of them. */
  uint32_t limbs[40];
  size_t count = 1, n = 0;
  int exponent;
  double mantissa;
  uint64_t m;
  char tmp[400];
  size_t t = 0;

  if(fabs(d) < 9223372036854775808.0) {
    int w = snprintf(dst, cap, "%" PRId64, (int64_t)d);
    return w < 0 ? 0 : (size_t)w;
  }
  mantissa = frexp(fabs(d), &exponent);
  m = (uint64_t)ldexp(mantissa, 53);
  exponent -= 53;
  limbs[0] = (uint32_t)(m % 1000000000u);
  m /= 1000000000u;
  while(m) {
    limbs[count++] = (uint32_t)(m % 1000000000u);
    m /= 1000000000u;
  }
  for(int k = 0; k < exponent; k++) {
    uint32_t carry = 0;
    for(size_t j = 0; j < count; j++) {
      uint64_t v = (uint64_t)limbs[j] * 2 + carry;
      limbs[j] = (uint32_t)(v % 1000000000u);
      carry = (uint32_t)(v / 1000000000u);
    }
    if(carry)
      limbs[count++] = carry;
  }
  if(d < 0)
    tmp[t++] = '-';
  t += (size_t)snprintf(tmp + t, sizeof(tmp) - t, "%u", limbs[count - 1]);
  for(size_t j = count - 1; j-- > 0;)
    t += (size_t)snprintf(tmp + t, sizeof(tmp) - t, "%09u", limbs[j]);
  n = t < cap ? t : cap - 1;
  memcpy(dst, tmp, n);
  dst[n] = '\0';
  return n;
}

/* The common case of int(str): ASCII digits that fit int64, with optional
 * ASCII spaces and sign. 0 when the general parser has to decide. */
static int int_from_ascii(const char *s, size_t len, pyval *out)
{
  size_t pos = 0, end = len, count = 0;
  int negative = 0;
  uint64_t magnitude = 0;

  while(pos < end && (s[pos] == ' ' || (s[pos] >= '\t' && s[pos] <= '\r')))
    pos++;
  while(end > pos && (s[end - 1] == ' ' || (s[end - 1] >= '\t' && s[end - 1] <= '\r')))
    end--;
  if(pos < end && (s[pos] == '+' || s[pos] == '-'))
    negative = s[pos++] == '-';
  for(; pos < end; pos++, count++) {
    if(s[pos] < '0' || s[pos] > '9' || count >= 18)
      return 0;
    magnitude = magnitude * 10 + (uint64_t)(s[pos] - '0');
  }
  if(!count)
    return 0;
  out->type = PY_INT;
  out->fits = 1;
  out->i = negative ? -(int64_t)magnitude : (int64_t)magnitude;
  return 1;
}

/* int(str): CPython maps Unicode whitespace to spaces and Nd digits to ASCII,
 * then parses base 10 with single underscores between digits. */
static pyint_status int_from_string(const char *s, size_t len, buf *digits, pyval *out)
{
  size_t pos = 0, end = len, count = 0, text_start;
  int negative = 0, prev_digit = 0, pending_underscore = 0;
  uint64_t magnitude = 0;
  int overflow = 0;

  /* Strip trailing whitespace by finding the end of the last non-space. */
  {
    size_t scan = 0, last_end = 0;
    int seen = 0;
    while(scan < len) {
      int32_t cp = normalize_next(s, len, &scan);
      if(!normalize_is_space(cp)) {
        last_end = scan;
        seen = 1;
      }
    }
    if(!seen)
      return PYINT_VALUE_ERROR;
    end = last_end;
  }
  while(pos < end) {
    size_t before = pos;
    if(!normalize_is_space(normalize_next(s, end, &pos))) {
      pos = before;
      break;
    }
  }
  if(s[pos] == '+' || s[pos] == '-') {
    negative = s[pos] == '-';
    pos++;
  }
  text_start = digits->len;
  if(negative)
    buf_putc(digits, '-');
  while(pos < end) {
    int32_t cp = normalize_next(s, end, &pos);
    int value;
    if(cp == '_') {
      if(!prev_digit)
        return PYINT_VALUE_ERROR;
      prev_digit = 0;
      pending_underscore = 1;
      continue;
    }
    value = normalize_decimal_value(cp);
    if(value < 0)
      return PYINT_VALUE_ERROR;
    prev_digit = 1;
    pending_underscore = 0;
    count++;
    if(magnitude > (UINT64_MAX - (uint64_t)value) / 10)
      overflow = 1;
    else
      magnitude = magnitude * 10 + (uint64_t)value;
    /* Canonical digits: no leading zeros. */
    if(value || digits->len > text_start + (size_t)negative)
      buf_putc(digits, (char)('0' + value));
  }
  if(!count || pending_underscore)
    return PYINT_VALUE_ERROR;
  if(count > PYINT_MAX_STR_DIGITS)
    return PYINT_VALUE_ERROR;
  out->type = PY_INT;
  if(!overflow && (negative ? magnitude <= (uint64_t)INT64_MAX + 1 : magnitude <= INT64_MAX)) {
    out->fits = 1;
    out->i = negative ? (int64_t)(0 - magnitude) : (int64_t)magnitude;
    out->s = NULL;
    out->len = 0;
    buf_truncate(digits, text_start);
    return PYINT_OK;
  }
  out->fits = 0;
  if(buf_status(digits))
    return PYINT_VALUE_ERROR;
  out->s = digits->data + text_start;
  out->len = digits->len - text_start;
  return PYINT_OK;
}

pyint_status pyint(const pyval *value, buf *digits, pyval *out)
{
  memset(out, 0, sizeof(*out));
  switch(value->type) {
  case PY_INT:
  case PY_BOOL:
    *out = *value;
    out->type = PY_INT;
    if(value->type == PY_BOOL)
      out->s = NULL;
    return PYINT_OK;
  case PY_FLOAT: {
    double t;
    char text[400];
    size_t n, start;
    if(isnan(value->f))
      return PYINT_VALUE_ERROR;
    if(isinf(value->f))
      return PYINT_OVERFLOW_ERROR;
    t = trunc(value->f);
    out->type = PY_INT;
    if(t >= -9223372036854775808.0 && t < 9223372036854775808.0) {
      out->fits = 1;
      out->i = (int64_t)t;
      return PYINT_OK;
    }
    n = integral_double(t, text, sizeof(text));
    start = digits->len;
    if(buf_append(digits, text, n))
      return PYINT_VALUE_ERROR;
    out->fits = 0;
    out->s = digits->data + start;
    out->len = n;
    return PYINT_OK;
  }
  case PY_STR:
    if(int_from_ascii(value->s, value->len, out))
      return PYINT_OK;
    return int_from_string(value->s, value->len, digits, out);
  case PY_BYTES:
    /* int(b"12") parses ASCII digits too, but never arises: bytes are derived. */
    return int_from_string(value->s, value->len, digits, out);
  case PY_NONE:
  case PY_DATETIME:
  case PY_JSON:
    return PYINT_TYPE_ERROR;
  }
  return PYINT_TYPE_ERROR;
}

/* 0001-01-02T00:00:00 and 9999-12-31T23:59:59 in seconds since the epoch. */
#define FIRST_SAFE_SECOND (INT64_C(-62135596800) + 86400)
#define LAST_SAFE_SECOND INT64_C(253402300799)

/* datetime.fromtimestamp(seconds + us) in UTC, with CPython 3.10's checks:
 * localtime_r fails (OSError) when the year does not fit tm_year; the
 * datetime then needs year 1..9999, and the fold probe one day earlier
 * needs it too, which is why 0001-01-01 itself gives ValueError. */
static pydt_status from_seconds(int64_t seconds, int64_t us, int64_t *micros)
{
  int64_t year, probe_year;
  int month, day;

  /* Every real timestamp is well inside 0001-01-02 .. 9999-12-31, where
   * all the checks below pass: skip the calendar arithmetic for those. */
  if(seconds >= FIRST_SAFE_SECOND && seconds <= LAST_SAFE_SECOND) {
    *micros = seconds * UTC_MICROS_PER_SECOND + us;
    return PYDT_OK;
  }
  utc_civil_from_days(utc_floor_div(seconds, 86400), &year, &month, &day);
  if(year - 1900 > INT32_MAX || year - 1900 < INT32_MIN)
    return PYDT_CRASH;
  if(year < 1 || year > 9999)
    return PYDT_NONE;
  if(year == 1) {
    utc_civil_from_days(utc_floor_div(seconds - 86400, 86400), &probe_year, &month, &day);
    if(probe_year < 1)
      return PYDT_NONE;
  }
  *micros = seconds * UTC_MICROS_PER_SECOND + us;
  return PYDT_OK;
}

/* _PyTime_ObjectToTimeval with ROUND_HALF_EVEN: modf, round the fraction to
 * microseconds, carry. */
static pydt_status from_double(double d, int64_t *micros)
{
  double intpart, frac, rounded;
  if(isnan(d))
    return PYDT_NONE;
  frac = modf(d, &intpart);
  frac *= 1e6;
  rounded = round(frac);
  if(fabs(frac - rounded) == 0.5)
    rounded = 2.0 * round(frac / 2.0);
  if(rounded >= 1e6) {
    rounded -= 1e6;
    intpart += 1.0;
  }
  else if(rounded < 0) {
    rounded += 1e6;
    intpart -= 1.0;
  }
  if(!(intpart >= -9223372036854775808.0 && intpart < 9223372036854775808.0))
    return PYDT_CRASH;
  return from_seconds((int64_t)intpart, (int64_t)rounded, micros);
}

pydt_status pydatetime_parse(const pyval *raw, int64_t *micros)
{
  switch(raw->type) {
  case PY_BOOL:
    return from_seconds(raw->i, 0, micros);
  case PY_INT: {
    double value;
    if(!raw->fits) {
      /* len(str) > 10: int / 1000, OverflowError when it exceeds a double. */
      value = strtod(raw->s, NULL);
      if(isinf(value))
        return PYDT_CRASH;
      return from_double(value / 1000.0, micros);
    }
    /* len(str(x)) > 10 without formatting: |x| >= 10^10, or < -999999999. */
    if(raw->i >= INT64_C(10000000000) || raw->i < INT64_C(-999999999)) {
      /* Python's int/int is correctly rounded; so is this for |ms| < 2^53,
       * and larger values land far beyond year 9999 either way. */
      value = (double)raw->i / 1000.0;
      return from_double(value, micros);
    }
    return from_seconds(raw->i, 0, micros);
  }
  case PY_FLOAT: {
    char text[40];
    size_t n = raw->s ? raw->len : json_format_python_float(raw->f, text, sizeof(text));
    if(n > 10)
      return from_double(raw->f / 1000.0, micros);
    return from_double(raw->f, micros);
  }
  case PY_NONE:
  case PY_STR:
  case PY_BYTES:
  case PY_DATETIME:
  case PY_JSON:
    return PYDT_CRASH;
  }
  return PYDT_CRASH;
}

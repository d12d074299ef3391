/* json.dumps formatting and Python's float repr. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "json/json.h"

/* The shortest decimal that reads back as value: Python's repr digits.
 * Writes the significant digits (no trailing zeros) to digits and returns
 * their count; *exponent10 is the exponent of the first digit, so
 * value = 0.d1d2... * 10^(exponent10 + 1). value must be finite and > 0. */
static int shortest_digits(double value, char *digits, int *exponent10)
{
  char text[40];
  int precision;

  for(precision = 1; precision <= 17; precision++) {
    uint64_t mantissa = 0;
    int exponent, i, n;
    char *e;
    int64_t delta;

    snprintf(text, sizeof(text), "%.*e", precision - 1, value);
    if(strtod(text, NULL) == value)
      goto found;
    /* The correctly rounded candidate can miss while a neighbour one unit
     * away fits: at a power of two the round-trip interval is lopsided. */
    e = strchr(text, 'e');
    exponent = atoi(e + 1);
    for(i = 0; text + i < e; i++)
      if(text[i] != '.')
        mantissa = mantissa * 10 + (uint64_t)(text[i] - '0');
    for(delta = -1; delta <= 1; delta += 2) {
      uint64_t candidate = mantissa + (uint64_t)delta;
      char digit_text[24];
      if(candidate == 0)
        continue;
      n = snprintf(digit_text, sizeof(digit_text), "%" PRIu64, candidate);
      if(n != precision)
        continue; /* carried into another digit count: covered elsewhere */
      snprintf(text, sizeof(text), "%c.%se%d", digit_text[0], digit_text + 1, exponent);
      if(strtod(text, NULL) == value)
        goto found;
    }
    continue;
  found:
    {
      int count = 0;
      e = strchr(text, 'e');
      for(i = 0; text + i < e; i++)
        if(text[i] != '.')
          digits[count++] = text[i];
      while(count > 1 && digits[count - 1] == '0')
        count--;
      digits[count] = '\0';
      *exponent10 = atoi(e + 1);
      return count;
    }
  }
  /* %.17e always round-trips, so this is unreachable for finite values. */
  snprintf(text, sizeof(text), "%.16e", value);
  digits[0] = text[0];
  memcpy(digits + 1, text + 2, 16);
  digits[17] = '\0';
  *exponent10 = atoi(strchr(text, 'e') + 1);
  return 17;
}

size_t json_format_python_float(double value, char *dst, size_t cap)
{
  char out[48], digits[24];
  size_t len = 0;
  int count, exponent, i;

  if(isnan(value)) {
    memcpy(out, "nan", 3);
    len = 3;
  } else if(isinf(value)) {
    len = value < 0 ? 4 : 3;
    memcpy(out, value < 0 ? "-inf" : "inf", len);
  } else {
    if(signbit(value)) {
      out[len++] = '-';
      value = -value;
    }
    if(value == 0) {
      memcpy(out + len, "0.0", 3);
      len += 3;
    } else {
      count = shortest_digits(value, digits, &exponent);
      if(exponent < -4 || exponent >= 16) {
        /* Scientific like "1e-05", "1.5e+300". */
        out[len++] = digits[0];
        if(count > 1) {
          out[len++] = '.';
          memcpy(out + len, digits + 1, (size_t)count - 1);
          len += (size_t)count - 1;
        }
        len += (size_t)snprintf(out + len, sizeof(out) - len, "e%c%02d",
                                exponent < 0 ? '-' : '+', abs(exponent));
      } else if(exponent < 0) {
        /* "0.0001" */
        out[len++] = '0';
        out[len++] = '.';
        for(i = -1; i > exponent; i--)
          out[len++] = '0';
        memcpy(out + len, digits, (size_t)count);
        len += (size_t)count;
      } else {
        /* "15.0", "123456789012345.0", "1.5" */
        for(i = 0; i <= exponent; i++)
          out[len++] = i < count ? digits[i] : '0';
        out[len++] = '.';
        if(count > exponent + 1) {
          memcpy(out + len, digits + exponent + 1, (size_t)(count - exponent - 1));
          len += (size_t)(count - exponent - 1);
        } else {
          out[len++] = '0';
        }
      }
    }
  }
  if(cap) {
    size_t n = len < cap - 1 ? len : cap - 1;
    memcpy(dst, out, n);
    dst[n] = '\0';
  }
  return len;
}

cl_status json_write_float(buf *out, double value)
{
  char text[48];
  size_t len;

  if(isnan(value))
    return buf_append_str(out, "NaN");
  if(isinf(value))
    return buf_append_str(out, value < 0 ? "-Infinity" : "Infinity");
  len = json_format_python_float(value, text, sizeof(text));
  return buf_append(out, text, len);
}

/* Which ASCII bytes json.dumps escapes, and how: 0 = as is, 'u' = \u00XX.
 * DEL is escaped only with ensure_ascii (Python's ESCAPE_ASCII is [^\ -~]). */
static const char ascii_escape[128] = {
  'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'b', 't', 'n', 'u', 'f', 'r', 'u', 'u',
  'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u',
  0, 0, '"', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, '\\', 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 'u',
};

/* Index of the first byte at or after i that json.dumps may not copy as
 * is: below 0x20, '"', '\\', DEL or non-ASCII; len when there is none.
 * Message bodies are most of a txt, so this looks at 16 (or 8) bytes a step. */
static size_t plain_run(const unsigned char *s, size_t i, size_t len)
{
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\');
  const __m128i control = _mm_set1_epi8(0x1f), del = _mm_set1_epi8(0x7f);
  while(len - i >= 16) {
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
    __m128i hit = _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash));
    /* Unsigned v <= 0x1f and v >= 0x7f, by way of min and max. */
    hit = _mm_or_si128(hit, _mm_cmpeq_epi8(_mm_min_epu8(v, control), v));
    hit = _mm_or_si128(hit, _mm_cmpeq_epi8(_mm_max_epu8(v, del), v));
    unsigned mask = (unsigned)_mm_movemask_epi8(hit);
    if(mask)
      return i + (size_t)__builtin_ctz(mask);
    i += 16;
  }
#endif
  while(i < len && s[i] < 0x7f && !ascii_escape[s[i]])
    i++;
  return i;
}

/* buf_append without the call when the bytes fit: json_write_string
 * reserves the common case up front, so its pieces nearly always do. */
static inline void put(buf *out, const void *data, size_t len)
{
  if(!out->failed && out->cap - out->len > len && (!out->limit || out->len + len <= out->limit)) {
    memcpy(out->data + out->len, data, len);
    out->len += len;
    out->data[out->len] = '\0';
    return;
  }
  buf_append(out, data, len);
}

static const char hex_digits[] = "0123456789abcdef";

static void put_u_escape(char *dst, unsigned unit)
{
  dst[0] = '\\';
  dst[1] = 'u';
  dst[2] = hex_digits[(unit >> 12) & 15];
  dst[3] = hex_digits[(unit >> 8) & 15];
  dst[4] = hex_digits[(unit >> 4) & 15];
  dst[5] = hex_digits[unit & 15];
}

/* Decode one WTF-8 sequence (UTF-8 plus 3-byte surrogates, which is how the
 * reader stores lone surrogates) at s; returns its length, or 0 when the
 * bytes are not well formed. */
static size_t decode_wtf8(const unsigned char *s, size_t avail, unsigned *code_point)
{
  unsigned c = s[0];
  if(c >= 0xc2 && c <= 0xdf && avail >= 2 && (s[1] & 0xc0) == 0x80) {
    *code_point = ((c & 0x1fu) << 6) | (s[1] & 0x3fu);
    return 2;
  }
  if(c >= 0xe0 && c <= 0xef && avail >= 3 && (s[1] & 0xc0) == 0x80 &&
     (s[2] & 0xc0) == 0x80 && !(c == 0xe0 && s[1] < 0xa0)) {
    *code_point = ((c & 0x0fu) << 12) | ((s[1] & 0x3fu) << 6) | (s[2] & 0x3fu);
    return 3;
  }
  if(c >= 0xf0 && c <= 0xf4 && avail >= 4 && (s[1] & 0xc0) == 0x80 &&
     (s[2] & 0xc0) == 0x80 && (s[3] & 0xc0) == 0x80 && !(c == 0xf0 && s[1] < 0x90) &&
     !(c == 0xf4 && s[1] > 0x8f)) {
    *code_point = ((c & 0x07u) << 18) | ((s[1] & 0x3fu) << 12) | ((s[2] & 0x3fu) << 6) |
                  (s[3] & 0x3fu);
    return 4;
  }
  return 0;
}

cl_status json_write_string(buf *out, const char *utf8, size_t len, int ensure_ascii)
{
  const unsigned char *s = (const unsigned char *)utf8;
  size_t i = 0, run;
  cl_status status;

  /* Worst case is 12 output bytes per 4 input bytes plus quotes; reserving
   * the common case up front keeps the loop free of growth checks. */
  status = buf_reserve(out, len + 2);
  if(status)
    return status;
  buf_putc(out, '"');
  while(i < len) {
    run = plain_run(s, i, len);
    if(run > i) {
      put(out, s + i, run - i);
      i = run;
      if(i == len)
        break;
    }
    if(s[i] == 0x7f && !ensure_ascii) {
      buf_putc(out, 0x7f);
      i++;
    } else if(s[i] < 0x80) {
      char escape = ascii_escape[s[i]];
      char text[6];
      if(escape == 'u') {
        put_u_escape(text, s[i]);
        put(out, text, 6);
      } else {
        text[0] = '\\';
        text[1] = escape;
        put(out, text, 2);
      }
      i++;
    } else {
      unsigned code_point;
      size_t n = decode_wtf8(s + i, len - i, &code_point);
      char text[12];
      int valid = n != 0;
      if(!valid) {
        code_point = 0xfffd;
        n = 1;
      }
      if(code_point >= 0xd800 && code_point <= 0xdfff) {
        /* A lone surrogate has no UTF-8 form: always escape it. */
        put_u_escape(text, code_point);
        put(out, text, 6);
      } else if(!ensure_ascii) {
        if(!valid)
          put(out, "\xef\xbf\xbd", 3);
        else
          put(out, s + i, n);
      } else if(code_point >= 0x10000) {
        unsigned v = code_point - 0x10000;
        put_u_escape(text, 0xd800 | (v >> 10));
        put_u_escape(text + 6, 0xdc00 | (v & 0x3ff));
        put(out, text, 12);
      } else {
        put_u_escape(text, code_point);
        put(out, text, 6);
      }
      i += n;
    }
  }
  buf_putc(out, '"');
  return buf_status(out);
}

static cl_status dump_value(const json_value *value, buf *out)
{
  size_t i;
  char text[32];
  int n;

  switch(value->type) {
  case JSON_NULL:
    return buf_append(out, "null", 4);
  case JSON_BOOL:
    return value->u.boolean ? buf_append(out, "true", 4) : buf_append(out, "false", 5);
  case JSON_INT:
    if(value->u.integer.text)
      return buf_append(out, value->u.integer.text, value->u.integer.text_len);
    n = snprintf(text, sizeof(text), "%" PRId64, value->u.integer.value);
    return buf_append(out, text, (size_t)n);
  case JSON_FLOAT:
    return json_write_float(out, value->u.number.value);
  case JSON_STRING:
    return json_write_string(out, value->u.string.data, value->u.string.len, 1);
  case JSON_ARRAY:
    buf_putc(out, '[');
    for(i = 0; i < value->u.array.count; i++) {
      if(i)
        buf_append(out, ", ", 2);
      dump_value(value->u.array.items[i], out);
    }
    return buf_putc(out, ']');
  case JSON_OBJECT:
    buf_putc(out, '{');
    for(i = 0; i < value->u.object.count; i++) {
      const json_member *member = &value->u.object.members[i];
      if(i)
        buf_append(out, ", ", 2);
      json_write_string(out, member->key, member->key_len, 1);
      buf_append(out, ": ", 2);
      dump_value(member->value, out);
    }
    return buf_putc(out, '}');
  }
  return buf_status(out);
}

cl_status json_dumps(const json_value *value, buf *out)
{
  dump_value(value, out);
  return buf_status(out);
}

#include "cli/parquet_values.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/utctime.h"
#include "json/json.h"

/* One value lifted out of its physical storage, so that vectors and
 * statistics share the formatting below. */
typedef enum cell_kind {
  CELL_NULL,
  CELL_BOOL,
  CELL_INT,
  CELL_UINT,
  CELL_FLOAT,
  CELL_DOUBLE,
  CELL_TIMESTAMP,
  CELL_DATE,
  CELL_STRING, /* annotated UTF-8 */
  CELL_BYTES   /* binary: shown as text when it happens to be UTF-8 */
} cell_kind;

typedef struct cell {
  cell_kind kind;
  union {
    int boolean;
    int64_t i;
    uint64_t u;
    float f32;
    double f64;
    struct {
      int64_t micros;
      int nanos; /* 0..999 beyond micros */
    } timestamp;
    int32_t days;
    parquet_bytes bytes;
  } v;
} cell;

#define JULIAN_DAY_OF_EPOCH INT64_C(2440588)

static uint64_t load_u64le(const uint8_t *p)
{
  uint64_t v = 0;
  for(int i = 7; i >= 0; i--)
    v = (v << 8) | p[i];
  return v;
}

static uint32_t load_u32le(const uint8_t *p)
{
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Floor division keeps pre-1970 instants on the right second. */
static void timestamp_from_nanos(int64_t nanos, cell *c)
{
  int64_t micros = utc_floor_div(nanos, 1000);
  int64_t rest = nanos - micros * 1000;
  c->kind = CELL_TIMESTAMP;
  c->v.timestamp.micros = micros;
  c->v.timestamp.nanos = (int)rest;
}

/* INT96 is decoded here rather than through nanoseconds since the epoch,
 * which saturate outside 1677..2262 while microseconds do not. Like Arrow
 * and DuckDB, the Julian day is unsigned and the nanoseconds signed; a value
 * outside int64 microseconds is left as its 12 raw bytes. */
static void timestamp_from_int96(const uint8_t *bytes, cell *c)
{
  int64_t nanos_of_day = (int64_t)load_u64le(bytes);
  int64_t days = (int64_t)load_u32le(bytes + 8) - JULIAN_DAY_OF_EPOCH;
  int64_t micros_of_day = nanos_of_day / 1000, rest = nanos_of_day % 1000;
  int64_t micros;
  if(rest < 0) {
    micros_of_day--;
    rest += 1000;
  }
  if(__builtin_mul_overflow(days, UTC_MICROS_PER_DAY, &micros) ||
     __builtin_add_overflow(micros, micros_of_day, &micros)) {
    c->kind = CELL_BYTES;
    return;
  }
  c->kind = CELL_TIMESTAMP;
  c->v.timestamp.micros = micros;
  c->v.timestamp.nanos = (int)rest;
}

static void timestamp_from_int64(const parquet_column_schema *column, int64_t value, cell *c)
{
  int64_t micros;
  switch(column->unit) {
  case PARQUET_MILLIS:
    if(__builtin_mul_overflow(value, 1000, &micros)) {
      c->kind = CELL_INT;
      c->v.i = value;
      return;
    }
    c->kind = CELL_TIMESTAMP;
    c->v.timestamp.micros = micros;
    c->v.timestamp.nanos = 0;
    return;
  case PARQUET_MICROS:
    c->kind = CELL_TIMESTAMP;
    c->v.timestamp.micros = value;
    c->v.timestamp.nanos = 0;
    return;
  case PARQUET_NANOS:
    timestamp_from_nanos(value, c);
    return;
  }
  c->kind = CELL_INT;
  c->v.i = value;
}

static void cell_from_int32(const parquet_column_schema *column, int32_t value, cell *c)
{
  if(column->logical == PARQUET_LOGICAL_DATE) {
    c->kind = CELL_DATE;
    c->v.days = value;
  } else if(column->logical == PARQUET_LOGICAL_INTEGER && !column->is_signed) {
    c->kind = CELL_UINT;
    c->v.u = (uint32_t)value;
  } else {
    c->kind = CELL_INT;
    c->v.i = value;
  }
}

static void cell_from_int64(const parquet_column_schema *column, int64_t value, cell *c)
{
  if(column->logical == PARQUET_LOGICAL_TIMESTAMP) {
    timestamp_from_int64(column, value, c);
  } else if(column->logical == PARQUET_LOGICAL_INTEGER && !column->is_signed) {
    c->kind = CELL_UINT;
    c->v.u = (uint64_t)value;
  } else {
    c->kind = CELL_INT;
    c->v.i = value;
  }
}

static void cell_from_bytes(const parquet_column_schema *column, parquet_bytes bytes, cell *c)
{
  c->kind = column->logical == PARQUET_LOGICAL_STRING ? CELL_STRING : CELL_BYTES;
  c->v.bytes = bytes;
}

static void cell_from_vector(const parquet_column_schema *column,
                             const parquet_column_vector *vector, size_t row, cell *c)
{
  if((vector->defined && !vector->defined[row]) || column->logical == PARQUET_LOGICAL_NULL) {
    c->kind = CELL_NULL;
    return;
  }
  switch(column->physical) {
  case PARQUET_BOOLEAN:
    c->kind = CELL_BOOL;
    c->v.boolean = vector->values.boolean[row] != 0;
    return;
  case PARQUET_INT32:
    cell_from_int32(column, vector->values.i32[row], c);
    return;
  case PARQUET_INT64:
    cell_from_int64(column, vector->values.i64[row], c);
    return;
  case PARQUET_INT96:
    timestamp_from_int96(vector->values.i96[row].bytes, c);
    if(c->kind == CELL_BYTES)
      c->v.bytes = (parquet_bytes){vector->values.i96[row].bytes, 12};
    return;
  case PARQUET_FLOAT:
    c->kind = CELL_FLOAT;
    c->v.f32 = vector->values.f32[row];
    return;
  case PARQUET_DOUBLE:
    c->kind = CELL_DOUBLE;
    c->v.f64 = vector->values.f64[row];
    return;
  case PARQUET_BYTE_ARRAY:
  case PARQUET_FIXED_LEN_BYTE_ARRAY:
    cell_from_bytes(column, vector->values.bytes[row], c);
    return;
  }
  c->kind = CELL_NULL;
}

/* Statistics are plain-encoded without the BYTE_ARRAY length prefix. A
 * size that does not match the type is returned as raw bytes. */
static void cell_from_plain(const parquet_column_schema *column, parquet_bytes plain, cell *c)
{
  uint32_t len = plain.len;
  const uint8_t *p = plain.data;
  c->kind = CELL_BYTES;
  c->v.bytes = plain;
  switch(column->physical) {
  case PARQUET_BOOLEAN:
    if(len == 1) {
      c->kind = CELL_BOOL;
      c->v.boolean = p[0] != 0;
    }
    return;
  case PARQUET_INT32:
    if(len == 4)
      cell_from_int32(column, (int32_t)load_u32le(p), c);
    return;
  case PARQUET_INT64:
    if(len == 8)
      cell_from_int64(column, (int64_t)load_u64le(p), c);
    return;
  case PARQUET_INT96:
    if(len == 12) {
      timestamp_from_int96(p, c);
      if(c->kind == CELL_BYTES)
        c->v.bytes = plain;
    }
    return;
  case PARQUET_FLOAT:
    if(len == 4) {
      uint32_t bits = load_u32le(p);
      c->kind = CELL_FLOAT;
      memcpy(&c->v.f32, &bits, 4);
    }
    return;
  case PARQUET_DOUBLE:
    if(len == 8) {
      uint64_t bits = load_u64le(p);
      c->kind = CELL_DOUBLE;
      memcpy(&c->v.f64, &bits, 8);
    }
    return;
  case PARQUET_BYTE_ARRAY:
  case PARQUET_FIXED_LEN_BYTE_ARRAY:
    cell_from_bytes(column, plain, c);
    return;
  }
}

int parquet_value_is_utf8(const uint8_t *s, size_t len)
{
  size_t i = 0;
  while(i < len) {
    uint8_t b = s[i];
    size_t n;
    uint32_t cp, min;
    if(b < 0x80) {
      i++;
      continue;
    } else if((b & 0xE0) == 0xC0) {
      n = 1, cp = b & 0x1F, min = 0x80;
    } else if((b & 0xF0) == 0xE0) {
      n = 2, cp = b & 0x0F, min = 0x800;
    } else if((b & 0xF8) == 0xF0) {
      n = 3, cp = b & 0x07, min = 0x10000;
    } else {
      return 0;
    }
    if(len - i - 1 < n)
      return 0;
    for(size_t k = 1; k <= n; k++) {
      if((s[i + k] & 0xC0) != 0x80)
        return 0;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    if(cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      return 0;
    i += n + 1;
  }
  return 1;
}

static void append_base64(buf *out, const uint8_t *data, size_t len)
{
  static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  char quad[4];
  for(size_t i = 0; i < len; i += 3) {
    uint32_t v = (uint32_t)data[i] << 16;
    if(i + 1 < len)
      v |= (uint32_t)data[i + 1] << 8;
    if(i + 2 < len)
      v |= data[i + 2];
    quad[0] = alphabet[(v >> 18) & 63];
    quad[1] = alphabet[(v >> 12) & 63];
    quad[2] = i + 1 < len ? alphabet[(v >> 6) & 63] : '=';
    quad[3] = i + 2 < len ? alphabet[v & 63] : '=';
    buf_append(out, quad, 4);
  }
}

/* The fewest significant digits that read back as the same value. */
static void append_shortest_double(buf *out, double value)
{
  char text[40];
  for(int precision = 1; precision <= 17; precision++) {
    snprintf(text, sizeof(text), "%.*g", precision, value);
    if(strtod(text, NULL) == value)
      break;
  }
  buf_append_str(out, text);
}

static void append_shortest_float(buf *out, float value)
{
  char text[40];
  for(int precision = 1; precision <= 9; precision++) {
    snprintf(text, sizeof(text), "%.*g", precision, (double)value);
    if(strtof(text, NULL) == value)
      break;
  }
  buf_append_str(out, text);
}

static void append_float(buf *out, parquet_value_style style, double value, int single)
{
  const char *special = isnan(value) ? "NaN" : isinf(value) ? (value < 0 ? "-Infinity" : "Infinity")
                                                             : NULL;
  if(special) {
    if(style == PARQUET_VALUE_JSON)
      buf_printf(out, "\"%s\"", special);
    else
      buf_append_str(out, special);
  } else if(single) {
    append_shortest_float(out, (float)value);
  } else {
    append_shortest_double(out, value);
  }
}

static void append_timestamp(buf *out, int64_t micros, int nanos)
{
  char text[40];
  int64_t fraction = micros % UTC_MICROS_PER_SECOND;
  if(fraction < 0)
    fraction += UTC_MICROS_PER_SECOND;
  /* The fraction is written below, with the nanoseconds; utc_format_python
   * adds ".ffffff" when it is not zero. (Formatting micros - fraction
   * instead overflows near INT64_MIN.) */
  size_t len = utc_format_python(micros, text, sizeof(text));
  buf_append(out, text, fraction ? len - 7 : len);
  if(nanos)
    buf_printf(out, ".%06d%03d", (int)fraction, nanos);
  else if(fraction)
    buf_printf(out, ".%06d", (int)fraction);
}

static void append_date(buf *out, int32_t days)
{
  int64_t year;
  int month, day;
  utc_civil_from_days(days, &year, &month, &day);
  buf_printf(out, "%04" PRId64 "-%02d-%02d", year, month, day);
}

static cl_status append_cell(buf *out, parquet_value_style style, const cell *c)
{
  int json = style == PARQUET_VALUE_JSON;
  switch(c->kind) {
  case CELL_NULL:
    if(json)
      buf_append_str(out, "null");
    break;
  case CELL_BOOL:
    buf_append_str(out, c->v.boolean ? "true" : "false");
    break;
  case CELL_INT:
    buf_printf(out, "%" PRId64, c->v.i);
    break;
  case CELL_UINT:
    buf_printf(out, "%" PRIu64, c->v.u);
    break;
  case CELL_FLOAT:
    append_float(out, style, c->v.f32, 1);
    break;
  case CELL_DOUBLE:
    append_float(out, style, c->v.f64, 0);
    break;
  case CELL_TIMESTAMP:
    if(json)
      buf_putc(out, '"');
    append_timestamp(out, c->v.timestamp.micros, c->v.timestamp.nanos);
    if(json)
      buf_putc(out, '"');
    break;
  case CELL_DATE:
    if(json)
      buf_putc(out, '"');
    append_date(out, c->v.days);
    if(json)
      buf_putc(out, '"');
    break;
  case CELL_STRING:
  case CELL_BYTES: {
    const parquet_bytes *b = &c->v.bytes;
    int text = c->kind == CELL_STRING || parquet_value_is_utf8(b->data, b->len);
    if(json && text) {
      cl_status status = json_write_string(out, (const char *)b->data, b->len, 0);
      if(status)
        return status;
    } else if(json) {
      buf_append_str(out, "{\"base64\": \"");
      append_base64(out, b->data, b->len);
      buf_append_str(out, "\"}");
    } else if(text) {
      buf_append(out, b->data, b->len);
    } else {
      buf_append_str(out, "base64:");
      append_base64(out, b->data, b->len);
    }
    break;
  }
  }
  return buf_status(out);
}

cl_status parquet_value_append(buf *out, parquet_value_style style,
                               const parquet_column_schema *column,
                               const parquet_column_vector *vector, size_t row)
{
  cell c;
  cell_from_vector(column, vector, row, &c);
  return append_cell(out, style, &c);
}

cl_status parquet_value_append_plain(buf *out, const parquet_column_schema *column,
                                     parquet_bytes plain)
{
  cell c;
  cell_from_plain(column, plain, &c);
  if(c.kind == CELL_STRING || c.kind == CELL_BYTES) {
    /* Quoted, so that an empty minimum or trailing spaces stay visible. */
    if(parquet_value_is_utf8(plain.data, plain.len))
      return json_write_string(out, (const char *)plain.data, plain.len, 0);
    buf_append_str(out, "0x");
    for(uint32_t i = 0; i < plain.len; i++)
      buf_printf(out, "%02x", plain.data[i]);
    return buf_status(out);
  }
  return append_cell(out, PARQUET_VALUE_TEXT, &c);
}

void parquet_value_logical_name(const parquet_column_schema *column, char *dst, size_t cap)
{
  static const char *const units[] = {"MILLIS", "MICROS", "NANOS"};
  switch(column->logical) {
  case PARQUET_LOGICAL_NONE:
    snprintf(dst, cap, "%s", "");
    return;
  case PARQUET_LOGICAL_STRING:
    snprintf(dst, cap, "STRING");
    return;
  case PARQUET_LOGICAL_TIMESTAMP:
    if(column->physical == PARQUET_INT96)
      snprintf(dst, cap, "TIMESTAMP(INT96,NANOS)");
    else
      snprintf(dst, cap, "TIMESTAMP(%s,%s)",
               column->unit <= PARQUET_NANOS ? units[column->unit] : "?",
               column->utc_adjusted ? "UTC" : "local");
    return;
  case PARQUET_LOGICAL_INTEGER:
    snprintf(dst, cap, "INT(%d,%s)", column->bit_width, column->is_signed ? "signed" : "unsigned");
    return;
  case PARQUET_LOGICAL_DATE:
    snprintf(dst, cap, "DATE");
    return;
  case PARQUET_LOGICAL_NULL:
    snprintf(dst, cap, "NULL");
    return;
  case PARQUET_LOGICAL_OTHER:
    snprintf(dst, cap, "OTHER");
    return;
  }
  snprintf(dst, cap, "?");
}

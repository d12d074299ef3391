/*
 * parquet_gen: writes Parquet files through the collator's writer for every
 * configuration the interop tests cover, and prints what each file holds.
 *
 * Usage: parquet_gen OUTDIR [SEED]. For each case it writes OUTDIR/NAME.parquet
 * and prints one JSON line {"file", "rows", "row_groups", "columns", "values"}
 * where "values" maps each column to an array of its rows in a form every
 * reader's output can be normalised to: int32/float/double/bool as JSON
 * numbers/booleans (non-finite floats as "NaN", "Infinity", "-Infinity"),
 * int64 and timestamps as decimal strings (timestamps in microseconds since
 * the epoch, also for INT96 and MILLIS; ts_nanos in nanoseconds), dates as
 * days since the epoch, strings as JSON strings, binary (and fixed-length)
 * as lower-case hex, null as null. Values come from a seeded PRNG, so a run is repeatable.
 * Built by tests/node/parquet_interop.test.mjs against build/gcc/libcollator.a.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/stream.h"
#include "parquet/parquet.h"

typedef enum gen_type {
  GEN_BOOL,
  GEN_INT32,
  GEN_INT64,
  GEN_FLOAT,
  GEN_DOUBLE,
  GEN_STRING,
  GEN_BINARY,
  GEN_TS_MICROS,
  GEN_TS_INT96,
  /* annotations the legacy pyarrow files use and `collator cat` must print */
  GEN_TS_MILLIS,
  GEN_TS_NANOS,
  GEN_DATE,
  GEN_INT8,
  GEN_UINT16,
  GEN_UINT32,
  GEN_UINT64,
  GEN_FIXED4,
  GEN_NULL
} gen_type;

static const char *const gen_type_names[] = {
  "bool",      "int32",    "int64", "float", "double", "string",  "binary", "ts_micros",
  "ts_int96",  "ts_millis", "ts_nanos", "date", "int8", "uint16", "uint32", "uint64",
  "fixed4",    "null"};

typedef enum gen_nulls { NULLS_NONE, NULLS_SOME, NULLS_ALL } gen_nulls;

/* Values drawn from a few dozen distinct ones (dictionary-friendly) or
 * mostly unique (pushes dictionaries past their limit). */
typedef enum gen_cardinality { CARD_LOW, CARD_HIGH } gen_cardinality;

typedef struct gen_column {
  const char *name;
  gen_type type;
  int optional;
  gen_nulls nulls;
  gen_cardinality cardinality;
} gen_column;

typedef struct gen_case {
  const char *name;
  parquet_codec codec;
  int dictionary;
  size_t dictionary_page_limit; /* 0: default */
  size_t page_size;             /* 0: default */
  size_t row_groups;
  size_t rows_per_group;
  const gen_column *columns;
  size_t column_count;
  int micros;                   /* INT96 timestamps written as INT64 MICROS instead,
                                   as COLLATOR_TIMESTAMP=micros does */
} gen_case;

/* ---- PRNG (splitmix64) ---- */

static uint64_t rng_state;

static uint64_t rng_next(void)
{
  uint64_t z = (rng_state += UINT64_C(0x9E3779B97F4A7C15));
  z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
  return z ^ (z >> 31);
}

static uint64_t rng_below(uint64_t n)
{
  return n ? rng_next() % n : 0;
}

/* ---- value generation ---- */

/* Pieces that exercise UTF-8 of every length, JSON escapes and CSV quoting. */
static const char *const string_pieces[] = {
  "a", "hello", "Zürich", "日本語", "😀", "ñ", "\"q\"", "back\\slash", "line\nbreak",
  "tab\t", ",", " ", "ĳ", "Ελληνικά", "\x7f", "\x01", "z", "0123456789", "€", "ß"};

static void gen_string(buf *out, gen_cardinality cardinality)
{
  size_t pieces = cardinality == CARD_LOW ? rng_below(3) : 1 + rng_below(6);
  uint64_t pick = rng_below(cardinality == CARD_LOW ? 40 : UINT64_MAX);
  if(cardinality == CARD_LOW && pick == 0)
    return; /* the empty string */
  for(size_t i = 0; i < pieces; i++)
    buf_append_str(out, string_pieces[(pick + i * 7) % (sizeof(string_pieces) / sizeof(string_pieces[0]))]);
  if(cardinality == CARD_HIGH)
    buf_printf(out, "#%" PRIu64, rng_next() % 1000000000);
  else
    buf_printf(out, "%" PRIu64, pick);
}

static void gen_binary(buf *out, gen_cardinality cardinality)
{
  static const char *const samples[] = {
    "plain ascii", "caf\xc3\xa9", "\xff\xfe", "\xc3", "\xed\xa0\x80", "\xc0\xaf", "\xf4\x90\x80\x80",
    "ok \xe2\x82", ""};
  size_t n = sizeof(samples) / sizeof(samples[0]);
  uint64_t pick = rng_below(cardinality == CARD_LOW ? n : n + 4);
  if(pick < n) {
    buf_append_str(out, samples[pick]);
    if(cardinality == CARD_HIGH)
      buf_printf(out, "%" PRIu64, rng_next() % 100000);
    return;
  }
  size_t len = rng_below(40);
  for(size_t i = 0; i < len; i++)
    buf_putc(out, (char)rng_below(256));
  if(rng_below(4) == 0)
    buf_putc(out, '\0');
}

/* 1900-01-01 .. 2200-01-01: inside what every reader represents (arrow-rs
 * reads INT96 as int64 nanoseconds, which end in 2262). */
#define TS_MIN INT64_C(-2208988800000000)
#define TS_MAX INT64_C(7258118400000000)

static int64_t gen_timestamp(gen_cardinality cardinality)
{
  static const int64_t edges[] = {0, -1, 1, 999999, -1000000, INT64_C(1700000000123456),
                                  INT64_C(1700000000000000), TS_MIN, TS_MAX - 1,
                                  INT64_C(951782400000000) /* 2000-02-29 */};
  uint64_t pick = rng_below(cardinality == CARD_LOW ? 30 : 100);
  if(pick < sizeof(edges) / sizeof(edges[0]))
    return edges[pick];
  if(cardinality == CARD_LOW)
    return INT64_C(1600000000000000) + (int64_t)pick * 86400 * 1000000;
  int64_t t = TS_MIN + (int64_t)rng_below((uint64_t)(TS_MAX - TS_MIN));
  switch(rng_below(3)) {
  case 0: /* whole seconds */
    return t - ((t % 1000000) + 1000000) % 1000000;
  case 1: /* whole milliseconds */
    return t - ((t % 1000) + 1000) % 1000;
  default:
    return t;
  }
}

static int64_t gen_int64(gen_cardinality cardinality)
{
  static const int64_t edges[] = {0, 1, -1, INT64_MAX, INT64_MIN, INT64_C(9007199254740993),
                                  INT64_C(-9007199254740993), 4294967296};
  uint64_t pick = rng_below(cardinality == CARD_LOW ? 25 : 50);
  if(pick < sizeof(edges) / sizeof(edges[0]))
    return edges[pick];
  if(cardinality == CARD_LOW)
    return (int64_t)pick * 1000003;
  return (int64_t)rng_next();
}

static int32_t gen_int32(gen_cardinality cardinality)
{
  static const int32_t edges[] = {0, 1, -1, INT32_MAX, INT32_MIN};
  uint64_t pick = rng_below(cardinality == CARD_LOW ? 25 : 50);
  if(pick < sizeof(edges) / sizeof(edges[0]))
    return edges[pick];
  if(cardinality == CARD_LOW)
    return (int32_t)pick * 7;
  return (int32_t)(uint32_t)rng_next();
}

static double gen_double(gen_cardinality cardinality)
{
  static const double edges[] = {0.0, -0.0, 1.5, -2.25, 1e300, -1e-300, 5e-324, 0.1,
                                 INFINITY, -INFINITY, NAN};
  uint64_t pick = rng_below(cardinality == CARD_LOW ? 30 : 60);
  if(pick < sizeof(edges) / sizeof(edges[0]))
    return edges[pick];
  if(cardinality == CARD_LOW)
    return (double)pick / 8.0;
  uint64_t bits = rng_next();
  double value;
  memcpy(&value, &bits, sizeof(value));
  return isfinite(value) ? value : (double)(int64_t)bits / 3.0;
}

static float gen_float(gen_cardinality cardinality)
{
  static const float edges[] = {0.0f, -0.0f, 1.5f, 0.1f, 3.4028235e38f, 1e-45f,
                                INFINITY, -INFINITY, NAN};
  uint64_t pick = rng_below(cardinality == CARD_LOW ? 30 : 60);
  if(pick < sizeof(edges) / sizeof(edges[0]))
    return edges[pick];
  if(cardinality == CARD_LOW)
    return (float)pick / 4.0f;
  uint32_t bits = (uint32_t)rng_next();
  float value;
  memcpy(&value, &bits, sizeof(value));
  return isfinite(value) ? value : (float)(int32_t)bits;
}

/* ---- JSON output ---- */

static void json_string(buf *out, const char *s, size_t len)
{
  buf_putc(out, '"');
  for(size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if(c == '"' || c == '\\')
      buf_printf(out, "\\%c", c);
    else if(c < 0x20 || c == 0x7f)
      buf_printf(out, "\\u%04x", c);
    else
      buf_putc(out, (char)c);
  }
  buf_putc(out, '"');
}

static void json_double(buf *out, double value)
{
  if(isnan(value))
    buf_append_str(out, "\"NaN\"");
  else if(isinf(value))
    buf_append_str(out, value < 0 ? "\"-Infinity\"" : "\"Infinity\"");
  else
    buf_printf(out, "%.17g", value);
}

/* ---- one column of one row group ---- */

typedef struct gen_vector {
  parquet_column_vector vector;
  uint8_t *defined;
  void *values;
  buf bytes;                 /* BYTE_ARRAY contents */
  size_t *offsets;           /* into bytes, fixed up once bytes stops moving */
} gen_vector;

static int is_null(const gen_column *column, size_t row)
{
  if(column->type == GEN_NULL)
    return 1;
  if(!column->optional || column->nulls == NULLS_NONE)
    return 0;
  if(column->nulls == NULLS_ALL)
    return 1;
  (void)row;
  return rng_below(5) == 0;
}

static size_t value_size(gen_type type)
{
  switch(type) {
  case GEN_BOOL:
    return 1;
  case GEN_INT32:
  case GEN_DATE:
  case GEN_INT8:
  case GEN_UINT16:
  case GEN_UINT32:
  case GEN_NULL:
    return 4;
  case GEN_FLOAT:
    return 4;
  case GEN_INT64:
  case GEN_TS_MICROS:
  case GEN_TS_MILLIS:
  case GEN_TS_NANOS:
  case GEN_UINT64:
    return 8;
  case GEN_FIXED4:
    return sizeof(parquet_bytes);
  case GEN_DOUBLE:
    return 8;
  case GEN_TS_INT96:
    return sizeof(parquet_int96);
  case GEN_STRING:
  case GEN_BINARY:
    return sizeof(parquet_bytes);
  }
  return 8;
}

static void fill_vector(const gen_column *column, size_t rows, gen_vector *g, buf *json)
{
  memset(g, 0, sizeof(*g));
  g->defined = calloc(rows ? rows : 1, 1);
  g->values = calloc(rows ? rows : 1, value_size(column->type));
  g->offsets = calloc(rows + 1, sizeof(size_t));
  if(!g->defined || !g->values || !g->offsets) {
    fprintf(stderr, "parquet_gen: out of memory\n");
    exit(1);
  }
  buf_init(&g->bytes, 0);
  for(size_t row = 0; row < rows; row++) {
    if(row || (json->len && json->data[json->len - 1] != '['))
      buf_putc(json, ',');
    g->offsets[row] = g->bytes.len;
    if(is_null(column, row)) {
      buf_append_str(json, "null");
      continue;
    }
    g->defined[row] = 1;
    switch(column->type) {
    case GEN_BOOL: {
      uint8_t v = (uint8_t)(column->cardinality == CARD_LOW ? rng_below(8) == 0 : rng_below(2));
      ((uint8_t *)g->values)[row] = v;
      buf_append_str(json, v ? "true" : "false");
      break;
    }
    case GEN_INT32: {
      int32_t v = gen_int32(column->cardinality);
      ((int32_t *)g->values)[row] = v;
      buf_printf(json, "%" PRId32, v);
      break;
    }
    case GEN_INT64: {
      int64_t v = gen_int64(column->cardinality);
      ((int64_t *)g->values)[row] = v;
      buf_printf(json, "\"%" PRId64 "\"", v);
      break;
    }
    case GEN_FLOAT: {
      float v = gen_float(column->cardinality);
      ((float *)g->values)[row] = v;
      json_double(json, v);
      break;
    }
    case GEN_DOUBLE: {
      double v = gen_double(column->cardinality);
      ((double *)g->values)[row] = v;
      json_double(json, v);
      break;
    }
    case GEN_TS_MICROS: {
      int64_t v = gen_timestamp(column->cardinality);
      ((int64_t *)g->values)[row] = v;
      buf_printf(json, "\"%" PRId64 "\"", v);
      break;
    }
    case GEN_TS_INT96: {
      int64_t v = gen_timestamp(column->cardinality);
      ((parquet_int96 *)g->values)[row] = parquet_int96_from_nanos(v * 1000);
      buf_printf(json, "\"%" PRId64 "\"", v);
      break;
    }
    case GEN_TS_MILLIS: {
      int64_t v = gen_timestamp(column->cardinality);
      v -= ((v % 1000) + 1000) % 1000;
      ((int64_t *)g->values)[row] = v / 1000;
      buf_printf(json, "\"%" PRId64 "\"", v);
      break;
    }
    case GEN_TS_NANOS: {
      int64_t v = gen_timestamp(column->cardinality) * 1000 + (int64_t)rng_below(1000);
      ((int64_t *)g->values)[row] = v;
      buf_printf(json, "\"%" PRId64 "\"", v);
      break;
    }
    case GEN_DATE: {
      /* 0001-01-01 .. 9999-12-31, and the epoch's neighbours */
      static const int32_t edges[] = {0, -1, 1, -719162, 2932896, 11016};
      uint64_t pick = rng_below(20);
      int32_t v = pick < 6 ? edges[pick] : (int32_t)rng_below(2932896 + 719163) - 719162;
      ((int32_t *)g->values)[row] = v;
      buf_printf(json, "%" PRId32, v);
      break;
    }
    case GEN_INT8: {
      int32_t v = (int32_t)(int8_t)rng_next();
      ((int32_t *)g->values)[row] = v;
      buf_printf(json, "%" PRId32, v);
      break;
    }
    case GEN_UINT16: {
      int32_t v = (int32_t)(uint16_t)rng_next();
      ((int32_t *)g->values)[row] = v;
      buf_printf(json, "%" PRId32, v);
      break;
    }
    case GEN_UINT32: {
      uint32_t v = rng_below(4) ? (uint32_t)rng_next() : UINT32_MAX;
      ((int32_t *)g->values)[row] = (int32_t)v;
      buf_printf(json, "%" PRIu32, v);
      break;
    }
    case GEN_UINT64: {
      uint64_t v = rng_below(4) ? rng_next() : UINT64_MAX;
      ((int64_t *)g->values)[row] = (int64_t)v;
      buf_printf(json, "\"%" PRIu64 "\"", v);
      break;
    }
    case GEN_FIXED4: {
      for(int i = 0; i < 4; i++)
        buf_putc(&g->bytes, (char)rng_below(256));
      buf_putc(json, '"');
      for(size_t i = g->offsets[row]; i < g->bytes.len; i++)
        buf_printf(json, "%02x", (unsigned char)g->bytes.data[i]);
      buf_putc(json, '"');
      break;
    }
    case GEN_NULL:
      break;
    case GEN_STRING: {
      gen_string(&g->bytes, column->cardinality);
      json_string(json, g->bytes.data + g->offsets[row], g->bytes.len - g->offsets[row]);
      break;
    }
    case GEN_BINARY: {
      gen_binary(&g->bytes, column->cardinality);
      buf_putc(json, '"');
      for(size_t i = g->offsets[row]; i < g->bytes.len; i++)
        buf_printf(json, "%02x", (unsigned char)g->bytes.data[i]);
      buf_putc(json, '"');
      break;
    }
    }
  }
  g->offsets[rows] = g->bytes.len;
  if(buf_status(&g->bytes) || buf_status(json)) {
    fprintf(stderr, "parquet_gen: out of memory\n");
    exit(1);
  }
  if(column->type == GEN_STRING || column->type == GEN_BINARY || column->type == GEN_FIXED4) {
    parquet_bytes *values = g->values;
    /* An all-null column never appended, so its buffer is still NULL. */
    const uint8_t *base = g->bytes.data ? (const uint8_t *)g->bytes.data : (const uint8_t *)"";
    for(size_t row = 0; row < rows; row++)
      values[row] = (parquet_bytes){base + g->offsets[row],
                                    (uint32_t)(g->offsets[row + 1] - g->offsets[row])};
  }
  g->vector.count = rows;
  g->vector.defined = column->optional ? g->defined : NULL;
  g->vector.values.boolean = g->values;
}

static void free_vector(gen_vector *g)
{
  free(g->defined);
  free(g->values);
  free(g->offsets);
  buf_free(&g->bytes);
}

static void column_schema(const gen_column *column, parquet_column_schema *out)
{
  memset(out, 0, sizeof(*out));
  out->name = (char *)column->name;
  out->optional = column->optional;
  switch(column->type) {
  case GEN_BOOL:
    out->physical = PARQUET_BOOLEAN;
    break;
  case GEN_INT32:
    out->physical = PARQUET_INT32;
    break;
  case GEN_INT64:
    out->physical = PARQUET_INT64;
    break;
  case GEN_FLOAT:
    out->physical = PARQUET_FLOAT;
    break;
  case GEN_DOUBLE:
    out->physical = PARQUET_DOUBLE;
    break;
  case GEN_STRING:
    out->physical = PARQUET_BYTE_ARRAY;
    out->logical = PARQUET_LOGICAL_STRING;
    break;
  case GEN_BINARY:
    out->physical = PARQUET_BYTE_ARRAY;
    break;
  case GEN_TS_MICROS:
    out->physical = PARQUET_INT64;
    out->logical = PARQUET_LOGICAL_TIMESTAMP;
    out->unit = PARQUET_MICROS;
    out->utc_adjusted = 1;
    break;
  case GEN_TS_INT96:
    out->physical = PARQUET_INT96;
    out->logical = PARQUET_LOGICAL_TIMESTAMP;
    out->unit = PARQUET_NANOS;
    break;
  case GEN_TS_MILLIS:
  case GEN_TS_NANOS:
    out->physical = PARQUET_INT64;
    out->logical = PARQUET_LOGICAL_TIMESTAMP;
    out->unit = column->type == GEN_TS_MILLIS ? PARQUET_MILLIS : PARQUET_NANOS;
    out->utc_adjusted = 1;
    break;
  case GEN_DATE:
    out->physical = PARQUET_INT32;
    out->logical = PARQUET_LOGICAL_DATE;
    break;
  case GEN_INT8:
  case GEN_UINT16:
  case GEN_UINT32:
    out->physical = PARQUET_INT32;
    out->logical = PARQUET_LOGICAL_INTEGER;
    out->bit_width = column->type == GEN_INT8 ? 8 : column->type == GEN_UINT16 ? 16 : 32;
    out->is_signed = column->type == GEN_INT8;
    break;
  case GEN_UINT64:
    out->physical = PARQUET_INT64;
    out->logical = PARQUET_LOGICAL_INTEGER;
    out->bit_width = 64;
    break;
  case GEN_FIXED4:
    out->physical = PARQUET_FIXED_LEN_BYTE_ARRAY;
    out->type_length = 4;
    break;
  case GEN_NULL:
    out->physical = PARQUET_INT32;
    out->logical = PARQUET_LOGICAL_NULL;
    out->optional = 1;
    break;
  }
}

/* ---- one file ---- */

typedef struct file_sink {
  FILE *file;
  const char *path;
} file_sink;

static cl_status file_sink_write(void *ctx, const void *data, size_t len, cl_error *err)
{
  file_sink *sink = ctx;
  if(fwrite(data, 1, len, sink->file) != len)
    return cl_fail(err, CL_ERR_IO, "%s: write failed", sink->path);
  return CL_OK;
}

static int write_case(const char *dir, const gen_case *c)
{
  char path[4096];
  cl_error err;
  cl_status status;
  parquet_writer *writer = NULL;
  parquet_column_schema columns[32];
  parquet_schema schema = {c->column_count, columns};
  parquet_writer_options options;
  buf *values = calloc(c->column_count, sizeof(buf));
  gen_vector *vectors = calloc(c->column_count, sizeof(gen_vector));

  if(!values || !vectors || c->column_count > 32) {
    fprintf(stderr, "parquet_gen: out of memory\n");
    exit(1);
  }
  gen_column case_columns[32];
  for(size_t i = 0; i < c->column_count; i++) {
    case_columns[i] = c->columns[i];
    if(c->micros && case_columns[i].type == GEN_TS_INT96)
      case_columns[i].type = GEN_TS_MICROS;
  }
  cl_error_clear(&err);
  snprintf(path, sizeof(path), "%s/%s.parquet", dir, c->name);
  FILE *file = fopen(path, "wb");
  if(!file) {
    perror(path);
    exit(1);
  }
  file_sink sink = {file, path};
  for(size_t i = 0; i < c->column_count; i++) {
    column_schema(&case_columns[i], &columns[i]);
    buf_init(&values[i], 0);
    buf_putc(&values[i], '[');
  }
  parquet_writer_options_default(&options);
  options.codec = c->codec;
  options.dictionary = c->dictionary;
  if(c->dictionary_page_limit)
    options.dictionary_page_limit = c->dictionary_page_limit;
  if(c->page_size)
    options.page_size = c->page_size;
  parquet_key_value metadata[] = {{"generator", "tests/tools/parquet_gen"}, {"case", c->name}};
  options.metadata = metadata;
  options.metadata_count = 2;

  status = parquet_writer_create((stream_sink){file_sink_write, &sink}, &schema, &options,
                                 &writer, &err);
  for(size_t g = 0; !status && g < c->row_groups; g++) {
    parquet_column_vector cols[32];
    for(size_t i = 0; i < c->column_count; i++) {
      fill_vector(&case_columns[i], c->rows_per_group, &vectors[i], &values[i]);
      cols[i] = vectors[i].vector;
    }
    status = parquet_writer_add_row_group(writer, c->rows_per_group, cols, &err);
    for(size_t i = 0; i < c->column_count; i++)
      free_vector(&vectors[i]);
  }
  if(!status)
    status = parquet_writer_finish(writer, &err);
  parquet_writer_free(writer);
  if(fclose(file) && !status)
    status = cl_fail(&err, CL_ERR_IO, "%s: close failed", path);
  if(status) {
    fprintf(stderr, "parquet_gen: %s: %s\n", path, err.message);
    exit(1);
  }

  buf line = BUF_INIT;
  buf_printf(&line, "{\"file\": \"%s.parquet\", \"case\": \"%s\", \"codec\": \"%s\", "
                    "\"rows\": %zu, \"row_groups\": %zu, \"columns\": [",
             c->name, c->name, parquet_codec_name(c->codec), c->row_groups * c->rows_per_group,
             c->row_groups);
  for(size_t i = 0; i < c->column_count; i++)
    buf_printf(&line, "%s{\"name\": \"%s\", \"type\": \"%s\", \"optional\": %s}", i ? ", " : "",
               case_columns[i].name, gen_type_names[case_columns[i].type],
               case_columns[i].optional ? "true" : "false");
  buf_append_str(&line, "], \"values\": {");
  for(size_t i = 0; i < c->column_count; i++) {
    buf_putc(&values[i], ']');
    buf_printf(&line, "%s\"%s\": ", i ? ", " : "", case_columns[i].name);
    buf_append(&line, values[i].data, values[i].len);
    buf_free(&values[i]);
  }
  buf_append_str(&line, "}}\n");
  if(buf_status(&line)) {
    fprintf(stderr, "parquet_gen: out of memory\n");
    exit(1);
  }
  fwrite(line.data, 1, line.len, stdout);
  buf_free(&line);
  free(values);
  free(vectors);
  return 0;
}

/* ---- the cases ---- */

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Every type, required and optional, some nulls. */
static const gen_column mixed_columns[] = {
  {"i64", GEN_INT64, 1, NULLS_SOME, CARD_HIGH},
  {"i64_req", GEN_INT64, 0, NULLS_NONE, CARD_LOW},
  {"i32", GEN_INT32, 1, NULLS_SOME, CARD_HIGH},
  {"i32_req", GEN_INT32, 0, NULLS_NONE, CARD_LOW},
  {"flag", GEN_BOOL, 1, NULLS_SOME, CARD_HIGH},
  {"flag_req", GEN_BOOL, 0, NULLS_NONE, CARD_LOW},
  {"f64", GEN_DOUBLE, 1, NULLS_SOME, CARD_HIGH},
  {"f32", GEN_FLOAT, 1, NULLS_SOME, CARD_LOW},
  {"text", GEN_STRING, 1, NULLS_SOME, CARD_LOW},
  {"text_unique", GEN_STRING, 1, NULLS_SOME, CARD_HIGH},
  {"text_req", GEN_STRING, 0, NULLS_NONE, CARD_LOW},
  {"blob", GEN_BINARY, 1, NULLS_SOME, CARD_HIGH},
  {"ts_micros", GEN_TS_MICROS, 1, NULLS_SOME, CARD_HIGH},
  {"ts_int96", GEN_TS_INT96, 1, NULLS_SOME, CARD_HIGH},
  {"ts_int96_req", GEN_TS_INT96, 0, NULLS_NONE, CARD_LOW},
};

/* Null patterns: none, some and all, per type. */
static const gen_column null_columns[] = {
  {"none_i64", GEN_INT64, 1, NULLS_NONE, CARD_LOW},
  {"some_i64", GEN_INT64, 1, NULLS_SOME, CARD_LOW},
  {"all_i64", GEN_INT64, 1, NULLS_ALL, CARD_LOW},
  {"none_text", GEN_STRING, 1, NULLS_NONE, CARD_LOW},
  {"some_text", GEN_STRING, 1, NULLS_SOME, CARD_LOW},
  {"all_text", GEN_STRING, 1, NULLS_ALL, CARD_LOW},
  {"all_bool", GEN_BOOL, 1, NULLS_ALL, CARD_LOW},
  {"all_double", GEN_DOUBLE, 1, NULLS_ALL, CARD_LOW},
  {"all_ts_int96", GEN_TS_INT96, 1, NULLS_ALL, CARD_LOW},
  {"all_ts_micros", GEN_TS_MICROS, 1, NULLS_ALL, CARD_LOW},
  {"all_blob", GEN_BINARY, 1, NULLS_ALL, CARD_LOW},
};

/* The collator's sms_log current/diff schema (design.md), INT96 timestamps. */
static const gen_column sms_columns[] = {
  {"user_id", GEN_INT64, 1, NULLS_NONE, CARD_LOW},
  {"device_id", GEN_STRING, 1, NULLS_NONE, CARD_LOW},
  {"id", GEN_STRING, 1, NULLS_NONE, CARD_HIGH},
  {"row_hash", GEN_STRING, 1, NULLS_NONE, CARD_HIGH},
  {"is_deleted", GEN_BOOL, 1, NULLS_NONE, CARD_LOW},
  {"ts_updated", GEN_TS_INT96, 1, NULLS_NONE, CARD_LOW},
  {"message_body", GEN_BINARY, 1, NULLS_SOME, CARD_HIGH},
  {"body_hash", GEN_STRING, 1, NULLS_SOME, CARD_HIGH},
  {"sms_type", GEN_STRING, 1, NULLS_SOME, CARD_LOW},
  {"thread_id", GEN_INT64, 1, NULLS_SOME, CARD_LOW},
  {"contact_id", GEN_INT64, 1, NULLS_SOME, CARD_HIGH},
  {"item_id", GEN_INT64, 1, NULLS_SOME, CARD_HIGH},
  {"sms_address", GEN_STRING, 1, NULLS_SOME, CARD_LOW},
  {"normalized_sms_address", GEN_STRING, 1, NULLS_SOME, CARD_LOW},
  {"datetime", GEN_TS_INT96, 1, NULLS_SOME, CARD_HIGH},
};


/* What legacy pyarrow files hold besides our own types. */
static const gen_column logical_columns[] = {
  {"ts_millis", GEN_TS_MILLIS, 1, NULLS_SOME, CARD_HIGH},
  {"ts_nanos", GEN_TS_NANOS, 1, NULLS_SOME, CARD_HIGH},
  {"day", GEN_DATE, 1, NULLS_SOME, CARD_HIGH},
  {"i8", GEN_INT8, 1, NULLS_SOME, CARD_HIGH},
  {"u16", GEN_UINT16, 0, NULLS_NONE, CARD_HIGH},
  {"u32", GEN_UINT32, 1, NULLS_SOME, CARD_HIGH},
  {"u64", GEN_UINT64, 1, NULLS_SOME, CARD_HIGH},
  {"fixed", GEN_FIXED4, 1, NULLS_SOME, CARD_HIGH},
  {"nothing", GEN_NULL, 1, NULLS_ALL, CARD_LOW},
};

#define CASE(name, codec, dict, dict_limit, page, groups, rows, cols) \
  {name, codec, dict, dict_limit, page, groups, rows, cols, COUNT(cols), 0}
#define CASE_MICROS(name, codec, dict, dict_limit, page, groups, rows, cols) \
  {name, codec, dict, dict_limit, page, groups, rows, cols, COUNT(cols), 1}

static const gen_case cases[] = {
  CASE("mixed_none", PARQUET_CODEC_NONE, 1, 0, 0, 1, 600, mixed_columns),
  CASE("mixed_snappy", PARQUET_CODEC_SNAPPY, 1, 0, 0, 1, 600, mixed_columns),
  CASE("mixed_gzip", PARQUET_CODEC_GZIP, 1, 0, 0, 1, 600, mixed_columns),
  CASE("mixed_zstd", PARQUET_CODEC_ZSTD, 1, 0, 0, 1, 600, mixed_columns),
  /* dictionary off: every column PLAIN */
  CASE("plain_snappy", PARQUET_CODEC_SNAPPY, 0, 0, 0, 1, 600, mixed_columns),
  CASE("plain_zstd", PARQUET_CODEC_ZSTD, 0, 0, 0, 1, 600, mixed_columns),
  /* a dictionary limit the unique columns overflow: fallback to PLAIN mid-chunk */
  CASE("dict_fallback_snappy", PARQUET_CODEC_SNAPPY, 1, 2048, 1024, 1, 3000, mixed_columns),
  CASE("dict_fallback_gzip", PARQUET_CODEC_GZIP, 1, 2048, 1024, 2, 1500, mixed_columns),
  CASE("nulls_snappy", PARQUET_CODEC_SNAPPY, 1, 0, 0, 1, 500, null_columns),
  CASE("nulls_none", PARQUET_CODEC_NONE, 0, 0, 0, 2, 100, null_columns),
  /* many row groups, each of many small pages */
  CASE("multi_group_snappy", PARQUET_CODEC_SNAPPY, 1, 0, 2048, 5, 2000, mixed_columns),
  CASE("multi_group_zstd_plain", PARQUET_CODEC_ZSTD, 0, 0, 4096, 4, 2500, mixed_columns),
  CASE("single_row", PARQUET_CODEC_SNAPPY, 1, 0, 0, 1, 1, mixed_columns),
  CASE("zero_row_groups", PARQUET_CODEC_SNAPPY, 1, 0, 0, 0, 0, mixed_columns),
  CASE("sms_int96_snappy", PARQUET_CODEC_SNAPPY, 1, 0, 0, 2, 1000, sms_columns),
  CASE_MICROS("sms_micros_snappy", PARQUET_CODEC_SNAPPY, 1, 0, 0, 2, 1000, sms_columns),
  CASE("sms_int96_gzip", PARQUET_CODEC_GZIP, 1, 0, 0, 1, 1000, sms_columns),
  CASE_MICROS("sms_micros_zstd", PARQUET_CODEC_ZSTD, 1, 0, 0, 1, 1000, sms_columns),
  CASE("sms_int96_none", PARQUET_CODEC_NONE, 1, 0, 0, 1, 1000, sms_columns),
  CASE("logical_snappy", PARQUET_CODEC_SNAPPY, 1, 0, 0, 2, 500, logical_columns),
  CASE("logical_plain_zstd", PARQUET_CODEC_ZSTD, 0, 0, 1024, 1, 800, logical_columns),
};

int main(int argc, char **argv)
{
  if(argc < 2 || argc > 3) {
    fprintf(stderr, "usage: parquet_gen OUTDIR [SEED]\n");
    return 2;
  }
  uint64_t seed = argc == 3 ? strtoull(argv[2], NULL, 0) : 20261124;
  for(size_t i = 0; i < COUNT(cases); i++) {
    /* Each case has its own stream, so adding a case leaves the others alone. */
    rng_state = seed * 1000003u + i;
    write_case(argv[1], &cases[i]);
  }
  return 0;
}

/* PLAIN encoding straight into the page buffer, checked byte for byte
 * against a value-by-value reference for every physical type, null pattern
 * and row selection (dictionary pages pass row indexes); and single RLE runs. */
#include <stdlib.h>

#include "parquet/encoding.h"
#include "unit.h"

static uint64_t rng_state = 0x3243f6a8885a308dULL;
static uint64_t next_random(void)
{
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

/* The format's definition of PLAIN, one value at a time. */
static void reference_value(buf *out, parquet_physical_type type, int32_t type_length,
                            const parquet_column_vector *v, size_t row)
{
  switch(type) {
  case PARQUET_INT32: buf_append(out, &v->values.i32[row], 4); break;
  case PARQUET_INT64: buf_append(out, &v->values.i64[row], 8); break;
  case PARQUET_INT96: buf_append(out, v->values.i96[row].bytes, 12); break;
  case PARQUET_FLOAT: buf_append(out, &v->values.f32[row], 4); break;
  case PARQUET_DOUBLE: buf_append(out, &v->values.f64[row], 8); break;
  case PARQUET_BYTE_ARRAY: {
    uint32_t l = v->values.bytes[row].len;
    uint8_t le[4] = {(uint8_t)l, (uint8_t)(l >> 8), (uint8_t)(l >> 16), (uint8_t)(l >> 24)};
    buf_append(out, le, 4);
    buf_append(out, v->values.bytes[row].data, l);
    break;
  }
  case PARQUET_FIXED_LEN_BYTE_ARRAY:
    buf_append(out, v->values.bytes[row].data, (size_t)type_length);
    break;
  default: break;
  }
}

static void reference_encode(buf *out, parquet_physical_type type, int32_t type_length,
                             const parquet_column_vector *v, size_t begin, size_t end,
                             const uint32_t *rows, size_t n)
{
  if(type == PARQUET_BOOLEAN) {
    size_t k = 0;
    uint8_t byte = 0;
    for(size_t i = 0; i < (rows ? n : end - begin); i++) {
      size_t row = rows ? rows[i] : begin + i;
      if(!rows && v->defined && !v->defined[row])
        continue;
      byte |= (uint8_t)((v->values.boolean[row] != 0) << (k & 7));
      if((++k & 7) == 0) {
        buf_putc(out, (char)byte);
        byte = 0;
      }
    }
    if(k & 7)
      buf_putc(out, (char)byte);
    return;
  }
  if(rows) {
    for(size_t i = 0; i < n; i++)
      reference_value(out, type, type_length, v, rows[i]);
    return;
  }
  for(size_t row = begin; row < end; row++)
    if(!v->defined || v->defined[row])
      reference_value(out, type, type_length, v, row);
}

TEST(plain_encode_matches_the_reference)
{
  static const struct {
    parquet_physical_type type;
    int32_t type_length;
  } types[] = {
    {PARQUET_BOOLEAN, 0}, {PARQUET_INT32, 0}, {PARQUET_INT64, 0}, {PARQUET_INT96, 0},
    {PARQUET_FLOAT, 0},   {PARQUET_DOUBLE, 0}, {PARQUET_BYTE_ARRAY, 0},
    {PARQUET_FIXED_LEN_BYTE_ARRAY, 5}, {PARQUET_FIXED_LEN_BYTE_ARRAY, 16},
  };
  enum { ROWS = 300 };
  static const struct {
    const char *name;
    int null_percent; /* -1: no defined[] at all */
    size_t begin, end;
    int by_rows;      /* encode a selection of row indexes, as dictionary pages do */
  } cases[] = {
    {"dense, no defined[]", -1, 0, ROWS, 0},
    {"all defined", 0, 0, ROWS, 0},
    {"some nulls", 20, 0, ROWS, 0},
    {"mostly nulls", 90, 0, ROWS, 0},
    {"all null", 100, 0, ROWS, 0},
    {"a middle range", 30, 17, 211, 0},
    {"an empty range", 30, 40, 40, 0},
    {"row indexes", 50, 0, 0, 1},
  };
  uint8_t *pool = malloc(ROWS * 16);
  for(size_t i = 0; i < ROWS * 16; i++)
    pool[i] = (uint8_t)next_random();
  int64_t raw[ROWS * 2];
  parquet_bytes bytes[ROWS];
  uint8_t defined[ROWS];
  uint32_t rows[ROWS];
  for(size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
    for(size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
      for(size_t i = 0; i < ROWS * 2; i++)
        raw[i] = (int64_t)next_random();
      for(size_t i = 0; i < ROWS; i++) {
        size_t len = types[t].type == PARQUET_FIXED_LEN_BYTE_ARRAY
                       ? (size_t)types[t].type_length
                       : (size_t)(next_random() % 17);
        bytes[i] = (parquet_bytes){pool + i * 16, (uint32_t)len};
        defined[i] = (int)(next_random() % 100) >= cases[k].null_percent;
        rows[i] = (uint32_t)(next_random() % ROWS);
      }
      parquet_column_vector v = {.count = ROWS, .defined = cases[k].null_percent < 0 ? NULL : defined};
      if(types[t].type == PARQUET_BYTE_ARRAY || types[t].type == PARQUET_FIXED_LEN_BYTE_ARRAY)
        v.values.bytes = bytes;
      else
        v.values.i64 = raw; /* every fixed-width type reads its own view of the bytes */
      buf got = BUF_INIT, want = BUF_INIT;
      /* Something already in the page (levels) must be kept. */
      buf_append(&got, "lv", 2);
      buf_append(&want, "lv", 2);
      const uint32_t *selection = cases[k].by_rows ? rows : NULL;
      size_t n = cases[k].by_rows ? ROWS : 0;
      pq_plain_encode(&got, types[t].type, types[t].type_length, &v, cases[k].begin, cases[k].end,
                      selection, n);
      reference_encode(&want, types[t].type, types[t].type_length, &v, cases[k].begin,
                       cases[k].end, selection, n);
      CHECK_INT(buf_status(&got), CL_OK);
      if(got.len != want.len || memcmp(got.data, want.data, want.len))
        unit_fail(__FILE__, __LINE__, "%s, type %d length %d: %zu bytes, expected %zu",
                  cases[k].name, (int)types[t].type, (int)types[t].type_length, got.len, want.len);
      CHECK_INT(got.data[got.len], 0); /* a buf stays NUL-terminated */
      buf_free(&got);
      buf_free(&want);
    }
  }
  free(pool);
}

TEST(plain_encode_respects_the_buffer_cap)
{
  int64_t values[4] = {1, 2, 3, 4};
  parquet_column_vector v = {.count = 4, .values.i64 = values};
  buf b;
  buf_init(&b, 16);
  pq_plain_encode(&b, PARQUET_INT64, 0, &v, 0, 4, NULL, 0);
  CHECK_INT(buf_status(&b), CL_ERR_LIMIT);
  buf_free(&b);
}

TEST(rle_single_run_equals_the_general_encoder)
{
  static const struct {
    size_t n;
    int bit_width;
    uint32_t value;
  } runs[] = {
    {1, 1, 1}, {1, 1, 0}, {7, 1, 1}, {8, 1, 1}, {9, 1, 0}, {63, 3, 5}, {64, 1, 1},
    {1000, 9, 300}, {1u << 20, 1, 1}, {5, 17, 70000}, {100, 32, 0xffffffffu}, {3, 0, 0},
  };
  for(size_t r = 0; r < sizeof(runs) / sizeof(runs[0]); r++) {
    uint32_t *values = malloc(runs[r].n * sizeof(uint32_t));
    for(size_t i = 0; i < runs[r].n; i++)
      values[i] = runs[r].value;
    buf general = BUF_INIT, single = BUF_INIT;
    pq_rle_encode(&general, values, runs[r].n, runs[r].bit_width);
    pq_rle_encode_run(&single, runs[r].value, runs[r].n, runs[r].bit_width);
    if(general.len != single.len || memcmp(general.data, single.data, general.len))
      unit_fail(__FILE__, __LINE__, "run of %zu at width %d differs", runs[r].n,
                runs[r].bit_width);
    buf_free(&general);
    buf_free(&single);
    free(values);
  }
}

/* When the writer chooses a dictionary and when PLAIN (the cardinality
 * sample, the previous chunk's outcome, the size comparison), that both read
 * back identically, and byte-array statistics against a brute-force min/max. */
#include <stdio.h>
#include <stdlib.h>

#include "parquet/parquet.h"
#include "unit.h"

#define RLE_DICTIONARY_BIT (1u << 8)

static uint64_t rng = 0x13198a2e03707344ULL;
static uint64_t rnd(void)
{
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

typedef enum pattern {
  LOW_CARDINALITY,      /* 50 distinct values */
  ALL_DISTINCT,         /* every row its own value */
  DISTINCT_THEN_REPEAT, /* the first 5000 rows distinct, the rest repeat them */
  LONG_DISTINCT_THEN_REPEAT /* the same after 10000 distinct rows, more than the sample */
} pattern;

/* One chunk's values: 36-byte strings (like the collator's ids) or int64. */
typedef struct chunk_values {
  size_t rows;
  int64_t *ints;
  parquet_bytes *bytes;
  uint8_t *text;
  parquet_column_vector vector;
} chunk_values;

static void make_chunk(chunk_values *cv, int strings, size_t rows, pattern p, uint64_t salt)
{
  memset(cv, 0, sizeof(*cv));
  cv->rows = rows;
  cv->vector.count = rows;
  if(strings) {
    cv->bytes = malloc(rows * sizeof(parquet_bytes));
    cv->text = malloc(rows * 36 + 1);
    cv->vector.values.bytes = cv->bytes;
  } else {
    cv->ints = malloc(rows * sizeof(int64_t));
    cv->vector.values.i64 = cv->ints;
  }
  for(size_t i = 0; i < rows; i++) {
    size_t stretch = p == DISTINCT_THEN_REPEAT ? 5000 : 10000;
    uint64_t key = p == LOW_CARDINALITY ? rnd() % 50
                   : p == ALL_DISTINCT  ? i
                   : i < stretch        ? i
                                        : rnd() % stretch;
    key = (key + salt) * 0x9e3779b97f4a7c15ULL;
    if(strings) {
      snprintf((char *)cv->text + i * 36, 37, "%016llx%016llx-abc",
               (unsigned long long)key, (unsigned long long)(key ^ salt));
      cv->bytes[i] = (parquet_bytes){cv->text + i * 36, 36};
    } else
      cv->ints[i] = (int64_t)key;
  }
}

static void free_chunk(chunk_values *cv)
{
  free(cv->ints);
  free(cv->bytes);
  free(cv->text);
}

static int same_values(const parquet_column_vector *a, const chunk_values *b, int strings)
{
  if(a->count != b->rows)
    return 0;
  for(size_t i = 0; i < b->rows; i++) {
    if(strings ? (a->values.bytes[i].len != 36 ||
                  memcmp(a->values.bytes[i].data, b->bytes[i].data, 36))
               : a->values.i64[i] != b->ints[i])
      return 0;
  }
  return 1;
}

TEST(dictionary_choice_follows_cardinality_and_history)
{
  static const struct {
    const char *name;
    int strings;
    size_t rows[2];
    pattern patterns[2];
    int dictionary[2]; /* expected per chunk */
  } cases[] = {
    {"low cardinality strings", 1, {20000, 20000}, {LOW_CARDINALITY, LOW_CARDINALITY}, {1, 1}},
    {"low cardinality ints", 0, {20000, 20000}, {LOW_CARDINALITY, LOW_CARDINALITY}, {1, 1}},
    /* A dictionary of distinct values is as large as PLAIN plus the indices. */
    {"distinct ints", 0, {20000, 20000}, {ALL_DISTINCT, ALL_DISTINCT}, {0, 0}},
    {"distinct strings under the limit", 1, {20000, 20000}, {ALL_DISTINCT, ALL_DISTINCT}, {0, 0}},
    /* Plain values over the limit: the sample decides without history. */
    {"distinct strings over the limit", 1, {40000, 40000}, {ALL_DISTINCT, ALL_DISTINCT}, {0, 0}},
    /* Values distinct nearby but repeating further on keep their
     * dictionary, whether the sample looks (strings) or not (ints)... */
    {"strings repeating after a distinct stretch", 1, {40000, 40000},
     {DISTINCT_THEN_REPEAT, DISTINCT_THEN_REPEAT}, {1, 1}},
    {"ints repeating after a distinct stretch", 0, {40000, 40000},
     {DISTINCT_THEN_REPEAT, DISTINCT_THEN_REPEAT}, {1, 1}},
    /* ...and a longer distinct stretch keeps it while the sample does not
     * look (ints under the limit)... */
    {"ints repeating after a long distinct stretch", 0, {40000, 40000},
     {LONG_DISTINCT_THEN_REPEAT, LONG_DISTINCT_THEN_REPEAT}, {1, 1}},
    {"a short distinct stretch after a PLAIN chunk", 0, {20000, 40000},
     {ALL_DISTINCT, DISTINCT_THEN_REPEAT}, {0, 1}},
    /* ...but after a PLAIN chunk the sample looks and settles for PLAIN. */
    {"a long distinct stretch after a PLAIN chunk", 0, {20000, 40000},
     {ALL_DISTINCT, LONG_DISTINCT_THEN_REPEAT}, {0, 0}},
    {"low cardinality after a PLAIN chunk", 1, {20000, 20000}, {ALL_DISTINCT, LOW_CARDINALITY},
     {0, 1}},
    /* Small chunks keep their dictionary whatever it saves. */
    {"small distinct chunk", 1, {3000, 3000}, {ALL_DISTINCT, ALL_DISTINCT}, {1, 1}},
  };
  for(size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
    parquet_column_schema column = {
      .name = "v", .physical = cases[k].strings ? PARQUET_BYTE_ARRAY : PARQUET_INT64};
    parquet_schema schema = {1, &column};
    buf file = BUF_INIT;
    cl_error err = {0};
    parquet_writer *writer;
    chunk_values chunks[2];
    CHECK_OK(parquet_writer_create(stream_sink_to_buf(&file), &schema, NULL, &writer, &err), &err);
    for(int g = 0; g < 2; g++) {
      make_chunk(&chunks[g], cases[k].strings, cases[k].rows[g], cases[k].patterns[g],
                 (uint64_t)g * 1000003);
      CHECK_OK(parquet_writer_add_row_group(writer, chunks[g].rows, &chunks[g].vector, &err),
               &err);
    }
    CHECK_OK(parquet_writer_finish(writer, &err), &err);
    parquet_writer_free(writer);
    stream_memory memory = {(const uint8_t *)file.data, file.len, 0};
    parquet_reader *reader;
    CHECK_OK(parquet_reader_open(stream_file_from_memory(&memory, cases[k].name), NULL, &reader,
                                 &err),
             &err);
    for(int g = 0; reader && g < 2; g++) {
      const parquet_column_chunk_info *info = &parquet_reader_info(reader)->row_groups[g].columns[0];
      int dictionary = (info->encodings & RLE_DICTIONARY_BIT) != 0;
      if(dictionary != cases[k].dictionary[g])
        unit_fail(__FILE__, __LINE__, "%s, chunk %d: dictionary %d, expected %d", cases[k].name,
                  g, dictionary, cases[k].dictionary[g]);
      parquet_column_vector back;
      CHECK_OK(parquet_reader_read_column(reader, (size_t)g, 0, &back, &err), &err);
      if(!same_values(&back, &chunks[g], cases[k].strings))
        unit_fail(__FILE__, __LINE__, "%s, chunk %d: values differ", cases[k].name, g);
      parquet_column_vector_free(&back);
    }
    parquet_reader_free(reader);
    for(int g = 0; g < 2; g++)
      free_chunk(&chunks[g]);
    buf_free(&file);
  }
}

static int unsigned_less(parquet_bytes a, parquet_bytes b)
{
  size_t n = a.len < b.len ? a.len : b.len;
  for(size_t i = 0; i < n; i++)
    if(a.data[i] != b.data[i])
      return a.data[i] < b.data[i];
  return a.len < b.len;
}

TEST(dictionary_byte_array_statistics_match_brute_force)
{
  /* Short strings over a tiny alphabet with 0x00 and 0xff, so values share
   * long prefixes, differ only past byte 8, or only in length. */
  static const uint8_t alphabet[] = {0x00, 'a', 'b', 0xff};
  enum { ROWS = 5000 };
  uint8_t *text = malloc(ROWS * 12);
  parquet_bytes values[ROWS];
  uint8_t defined[ROWS];
  for(int trial = 0; trial < 24; trial++) {
    size_t prefix = (size_t)(trial % 12);
    for(size_t i = 0; i < ROWS; i++) {
      size_t len = prefix + (size_t)(rnd() % (13 - prefix));
      for(size_t j = 0; j < len; j++)
        text[i * 12 + j] = j < prefix ? 'p' : alphabet[rnd() % 4];
      values[i] = (parquet_bytes){text + i * 12, (uint32_t)len};
      defined[i] = rnd() % 10 != 0;
    }
    parquet_bytes lo = {0}, hi = {0};
    int any = 0;
    for(size_t i = 0; i < ROWS; i++) {
      if(!defined[i])
        continue;
      if(!any || unsigned_less(values[i], lo))
        lo = values[i];
      if(!any || unsigned_less(hi, values[i]))
        hi = values[i];
      any = 1;
    }
    parquet_column_schema column = {.name = "s", .physical = PARQUET_BYTE_ARRAY, .optional = 1};
    parquet_schema schema = {1, &column};
    parquet_writer_options options;
    parquet_writer_options_default(&options);
    options.dictionary = trial & 1; /* statistics over the dictionary and over the rows */
    parquet_column_vector v = {.count = ROWS, .defined = defined, .values.bytes = values};
    buf file = BUF_INIT;
    cl_error err = {0};
    parquet_writer *writer;
    CHECK_OK(parquet_writer_create(stream_sink_to_buf(&file), &schema, &options, &writer, &err),
             &err);
    CHECK_OK(parquet_writer_add_row_group(writer, ROWS, &v, &err), &err);
    CHECK_OK(parquet_writer_finish(writer, &err), &err);
    parquet_writer_free(writer);
    stream_memory memory = {(const uint8_t *)file.data, file.len, 0};
    parquet_reader *reader;
    CHECK_OK(parquet_reader_open(stream_file_from_memory(&memory, "stats"), NULL, &reader, &err),
             &err);
    if(reader) {
      const parquet_statistics *s = &parquet_reader_info(reader)->row_groups[0].columns[0].statistics;
      CHECK(s->has_min_max);
      CHECK_MEM(s->min_value.data, s->min_value.len, lo.data, lo.len);
      CHECK_MEM(s->max_value.data, s->max_value.len, hi.data, hi.len);
      parquet_reader_free(reader);
    }
    buf_free(&file);
  }
  free(text);
}

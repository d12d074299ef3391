/* Parquet encodings: vectors from Encodings.md, boundaries and round trips. */
#include <stdlib.h>

#include "parquet/encoding.h"
#include "unit.h"

/* A small deterministic PRNG so failures reproduce. */
static uint64_t rng_state = 0x243f6a8885a308d3ULL;
static uint64_t next_random(void)
{
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

TEST(encoding_rle_spec_vector)
{
  /* Encodings.md: 0..7 bit-packed with width 3 is 10001000 11000110 11111010. */
  static const uint32_t values[] = {0, 1, 2, 3, 4, 5, 6, 7};
  static const uint8_t packed[] = {0x03, 0x88, 0xc6, 0xfa};
  buf b = BUF_INIT;
  pq_rle_encode(&b, values, 8, 3);
  CHECK_MEM(b.data, b.len, packed, sizeof(packed));
  uint32_t out[8];
  pq_rle_decoder d;
  pq_rle_init(&d, packed, sizeof(packed), 3);
  CHECK(pq_rle_decode(&d, out, 8) == NULL);
  CHECK_MEM(out, sizeof(out), values, sizeof(values));
  buf_free(&b);
  /* An RLE run: 100 copies of 5 at width 3 is header 200 (varint c8 01), value 05. */
  static const uint8_t run[] = {0xc8, 0x01, 0x05};
  uint32_t many[100];
  pq_rle_init(&d, run, sizeof(run), 3);
  CHECK(pq_rle_decode(&d, many, 100) == NULL);
  CHECK_INT(many[0], 5);
  CHECK_INT(many[99], 5);
  CHECK(pq_rle_decode(&d, many, 1) != NULL); /* nothing left */
}

TEST(encoding_rle_round_trips_every_width_and_boundary)
{
  static const size_t lengths[] = {0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 511, 512, 513, 1000};
  uint32_t *values = malloc(2000 * sizeof(uint32_t)), *out = malloc(2000 * sizeof(uint32_t));
  for(int width = 0; width <= 32; width++) {
    uint64_t mask = width == 32 ? 0xffffffffu : ((1ULL << width) - 1);
    for(size_t li = 0; li < sizeof(lengths) / sizeof(lengths[0]); li++) {
      for(int pattern = 0; pattern < 4; pattern++) {
        size_t n = lengths[li];
        for(size_t i = 0; i < n; i++) {
          uint64_t r = next_random();
          switch(pattern) {
          case 0: values[i] = (uint32_t)(r & mask); break;                 /* noise */
          case 1: values[i] = (uint32_t)((i / 7) & mask); break;           /* runs of 7 */
          case 2: values[i] = (uint32_t)((i / 9) * 3 & mask); break;       /* runs of 9 */
          default: values[i] = (uint32_t)(i % 100 < 50 ? mask : (r & mask)); /* mixed */
          }
        }
        buf b = BUF_INIT;
        pq_rle_encode(&b, values, n, width);
        pq_rle_decoder d;
        pq_rle_init(&d, (const uint8_t *)b.data, b.len, width);
        const char *why = pq_rle_decode(&d, out, n);
        if(why || (n && memcmp(values, out, n * sizeof(uint32_t))))
          unit_fail(__FILE__, __LINE__, "width %d length %zu pattern %d: %s", width, n, pattern,
                    why ? why : "values differ");
        buf_free(&b);
      }
    }
  }
  free(values);
  free(out);
}

TEST(encoding_levels_round_trip_and_reject_high_levels)
{
  uint8_t levels[300], out[300];
  for(size_t i = 0; i < sizeof(levels); i++)
    levels[i] = (uint8_t)(i % 13 < 9 ? 1 : (next_random() & 1));
  buf b = BUF_INIT;
  pq_rle_encode_levels(&b, levels, sizeof(levels), 1);
  pq_rle_decoder d;
  pq_rle_init(&d, (const uint8_t *)b.data, b.len, 1);
  CHECK(pq_rle_decode_levels(&d, out, sizeof(out), 1) == NULL);
  CHECK_MEM(out, sizeof(out), levels, sizeof(levels));
  buf_free(&b);
  static const uint8_t two[] = {0x10, 0x02}; /* run of 8 at level 2 */
  pq_rle_init(&d, two, sizeof(two), 2);
  CHECK(pq_rle_decode_levels(&d, out, 8, 1) != NULL);
}

TEST(encoding_rle_truncated_bit_packed_run_yields_only_present_values)
{
  /* Header claims 2 groups (16 values) of width 8 but only 3 bytes follow. */
  static const uint8_t data[] = {0x05, 1, 2, 3};
  uint32_t out[4];
  pq_rle_decoder d;
  pq_rle_init(&d, data, sizeof(data), 8);
  CHECK(pq_rle_decode(&d, out, 3) == NULL);
  CHECK_INT(out[2], 3);
  CHECK(pq_rle_decode(&d, out, 1) != NULL);
}

TEST(encoding_plain_round_trips)
{
  int32_t i32[5] = {1, -2, INT32_MAX, INT32_MIN, 0};
  parquet_bytes bytes[3] = {{(const uint8_t *)"", 0}, {(const uint8_t *)"abc", 3},
                            {(const uint8_t *)"\0\xff", 2}};
  uint8_t bools[11] = {1, 0, 1, 1, 0, 0, 0, 1, 1, 0, 1};
  uint8_t defined[5] = {1, 0, 1, 1, 1};
  parquet_column_vector v = {0};
  buf b = BUF_INIT;
  size_t used;

  v.count = 5;
  v.values.i32 = i32;
  v.defined = defined;
  pq_plain_encode(&b, PARQUET_INT32, 0, &v, 0, 5, NULL, 0);
  CHECK_INT(b.len, 16);
  int32_t i32_out[4];
  CHECK(pq_plain_decode(PARQUET_INT32, 0, (const uint8_t *)b.data, b.len, 4, i32_out, &used) == NULL);
  CHECK_INT(i32_out[1], INT32_MAX);
  CHECK(pq_plain_decode(PARQUET_INT32, 0, (const uint8_t *)b.data, b.len, 5, i32_out, &used) != NULL);

  buf_clear(&b);
  v.count = 3;
  v.defined = NULL;
  v.values.bytes = bytes;
  pq_plain_encode(&b, PARQUET_BYTE_ARRAY, 0, &v, 0, 3, NULL, 0);
  static const uint8_t expected[] = {0, 0, 0, 0, 3, 0, 0, 0, 'a', 'b', 'c', 2, 0, 0, 0, 0, 0xff};
  CHECK_MEM(b.data, b.len, expected, sizeof(expected));
  parquet_bytes bytes_out[3];
  CHECK(pq_plain_decode(PARQUET_BYTE_ARRAY, 0, (const uint8_t *)b.data, b.len, 3, bytes_out, &used) == NULL);
  CHECK_MEM(bytes_out[1].data, bytes_out[1].len, "abc", 3);
  CHECK(pq_plain_decode(PARQUET_BYTE_ARRAY, 0, (const uint8_t *)b.data, b.len - 1, 3, bytes_out, &used) != NULL);

  buf_clear(&b);
  v.count = 11;
  v.values.boolean = bools;
  pq_plain_encode(&b, PARQUET_BOOLEAN, 0, &v, 0, 11, NULL, 0);
  CHECK_INT(b.len, 2);
  CHECK_INT((uint8_t)b.data[0], 0x8d);
  uint8_t bools_out[11];
  CHECK(pq_plain_decode(PARQUET_BOOLEAN, 0, (const uint8_t *)b.data, b.len, 11, bools_out, &used) == NULL);
  CHECK_MEM(bools_out, 11, bools, 11);
  buf_free(&b);
}

static void check_delta_round_trip(const int64_t *values, size_t n, int is64)
{
  buf b = BUF_INIT;
  pq_delta_binary_encode(&b, values, n);
  int64_t *o64 = malloc((n + 1) * sizeof(int64_t));
  int32_t *o32 = malloc((n + 1) * sizeof(int32_t));
  size_t used = 0;
  const char *why = pq_delta_binary_decode((const uint8_t *)b.data, b.len, n, is64,
                                           is64 ? (void *)o64 : (void *)o32, &used);
  if(why)
    unit_fail(__FILE__, __LINE__, "delta round trip of %zu values: %s", n, why);
  else {
    CHECK_INT(used, b.len);
    for(size_t i = 0; i < n; i++)
      if(is64 ? o64[i] != values[i] : o32[i] != (int32_t)values[i]) {
        unit_fail(__FILE__, __LINE__, "delta value %zu of %zu differs", i, n);
        break;
      }
  }
  free(o64);
  free(o32);
  buf_free(&b);
}

TEST(encoding_delta_binary_packed_round_trips)
{
  static const size_t lengths[] = {0, 1, 2, 31, 32, 33, 128, 129, 200, 1000};
  int64_t *values = malloc(1000 * sizeof(int64_t));
  for(size_t li = 0; li < sizeof(lengths) / sizeof(lengths[0]); li++) {
    size_t n = lengths[li];
    for(int pattern = 0; pattern < 5; pattern++) {
      for(size_t i = 0; i < n; i++) {
        uint64_t r = next_random();
        switch(pattern) {
        case 0: values[i] = (int64_t)i * 3 - 50; break;            /* constant delta */
        case 1: values[i] = 1000 - (int64_t)i * 7; break;          /* negative deltas */
        case 2: values[i] = (int64_t)(r % 2001) - 1000; break;      /* noise, min delta negative */
        case 3: values[i] = (i & 1) ? INT64_MAX : INT64_MIN; break; /* 64-bit wide deltas */
        default: values[i] = (int64_t)r; break;
        }
      }
      check_delta_round_trip(values, n, 1);
      if(pattern != 3 && pattern != 4)
        check_delta_round_trip(values, n, 0);
    }
  }
  free(values);
  /* INT32 arithmetic wraps: INT32_MAX + 1 is INT32_MIN. Header 128 4 2,
   * first value zigzag(INT32_MAX) = fe ff ff ff 0f, min delta 1, widths 0. */
  static const uint8_t wrap[] = {0x80, 0x01, 0x04, 0x02, 0xfe, 0xff, 0xff, 0xff, 0x0f,
                                 0x02, 0, 0, 0, 0};
  int32_t out[2];
  size_t used;
  CHECK(pq_delta_binary_decode(wrap, sizeof(wrap), 2, 0, out, &used) == NULL);
  CHECK_INT(out[0], INT32_MAX);
  CHECK_INT(out[1], INT32_MIN);
}

TEST(encoding_delta_binary_packed_spec_vector)
{
  /* Encodings.md example 1: 1 2 3 4 5 -> header 128 4 5 1, block min delta
   * 1, widths 0 0 0 0 and no miniblock bytes. */
  static const uint8_t data[] = {0x80, 0x01, 0x04, 0x05, 0x02, 0x02, 0, 0, 0, 0};
  int32_t out[5];
  size_t used;
  CHECK(pq_delta_binary_decode(data, sizeof(data), 5, 0, out, &used) == NULL);
  for(int i = 0; i < 5; i++)
    CHECK_INT(out[i], i + 1);
  CHECK_INT(used, sizeof(data));
  static const uint8_t bad_width[] = {0x80, 0x01, 0x04, 0x05, 0x02, 0x02, 33, 0, 0, 0};
  CHECK(pq_delta_binary_decode(bad_width, sizeof(bad_width), 5, 0, out, &used) != NULL);
  static const uint8_t bad_block[] = {0x81, 0x01, 0x04, 0x05, 0x02};
  CHECK(pq_delta_binary_decode(bad_block, sizeof(bad_block), 5, 0, out, &used) != NULL);
  CHECK(pq_delta_binary_decode(data, sizeof(data), 6, 0, out, &used) != NULL);
}

TEST(encoding_delta_length_and_delta_byte_array)
{
  /* DELTA_LENGTH_BYTE_ARRAY of "Hello", "World", "Foobar", "ABCDEF". */
  static const char *words[] = {"Hello", "World", "Foobar", "ABCDEF"};
  int64_t lengths[4];
  buf b = BUF_INIT;
  for(int i = 0; i < 4; i++)
    lengths[i] = (int64_t)strlen(words[i]);
  pq_delta_binary_encode(&b, lengths, 4);
  for(int i = 0; i < 4; i++)
    buf_append_str(&b, words[i]);
  parquet_bytes out[4];
  size_t used;
  CHECK(pq_delta_length_decode((const uint8_t *)b.data, b.len, 4, out, &used) == NULL);
  CHECK_INT(used, b.len);
  for(int i = 0; i < 4; i++)
    CHECK_MEM(out[i].data, out[i].len, words[i], strlen(words[i]));
  CHECK(pq_delta_length_decode((const uint8_t *)b.data, b.len - 1, 4, out, &used) != NULL);
  buf_free(&b);

  /* DELTA_BYTE_ARRAY of axis, axle, babble, babyhood: prefixes 0 2 0 3. */
  static const char *full[] = {"axis", "axle", "babble", "babyhood"};
  static const char *suffixes[] = {"axis", "le", "babble", "yhood"};
  static const int64_t prefixes[] = {0, 2, 0, 3};
  int64_t suffix_lengths[4];
  buf c = BUF_INIT;
  pq_delta_binary_encode(&c, prefixes, 4);
  for(int i = 0; i < 4; i++)
    suffix_lengths[i] = (int64_t)strlen(suffixes[i]);
  pq_delta_binary_encode(&c, suffix_lengths, 4);
  for(int i = 0; i < 4; i++)
    buf_append_str(&c, suffixes[i]);
  uint8_t *heap = NULL;
  CHECK(pq_delta_byte_array_decode((const uint8_t *)c.data, c.len, 4, 1000, out, &heap) == NULL);
  for(int i = 0; i < 4; i++)
    CHECK_MEM(out[i].data, out[i].len, full[i], strlen(full[i]));
  free(heap);
  /* The same values refused when they expand past the limit. */
  CHECK(pq_delta_byte_array_decode((const uint8_t *)c.data, c.len, 4, 20, out, &heap) != NULL);
  CHECK(heap == NULL);
  buf_free(&c);

  /* A first prefix longer than nothing is malformed. */
  static const int64_t bad_prefix[] = {1};
  static const int64_t one[] = {1};
  buf d = BUF_INIT;
  pq_delta_binary_encode(&d, bad_prefix, 1);
  pq_delta_binary_encode(&d, one, 1);
  buf_append_str(&d, "x");
  CHECK(pq_delta_byte_array_decode((const uint8_t *)d.data, d.len, 1, 1000, out, &heap) != NULL);
  CHECK(heap == NULL);
  buf_free(&d);
}

TEST(encoding_byte_stream_split)
{
  /* Two floats 1.0f (00 00 80 3f) and -2.0f (00 00 00 c0), split by byte. */
  static const uint8_t data[] = {0x00, 0x00, 0x00, 0x00, 0x80, 0x00, 0x3f, 0xc0};
  float out[2];
  CHECK(pq_byte_stream_split_decode(data, sizeof(data), 2, 4, (uint8_t *)out) == NULL);
  CHECK(out[0] == 1.0f);
  CHECK(out[1] == -2.0f);
  CHECK(pq_byte_stream_split_decode(data, 7, 2, 4, (uint8_t *)out) != NULL);
  CHECK(pq_byte_stream_split_decode(data, sizeof(data), 3, 4, (uint8_t *)out) != NULL);
}

TEST(encoding_bit_width)
{
  static const struct {
    uint64_t max;
    int width;
  } cases[] = {{0, 0}, {1, 1}, {2, 2}, {3, 2}, {4, 3}, {255, 8}, {256, 9}, {UINT32_MAX, 32},
               {UINT64_MAX, 64}};
  for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
    CHECK_INT(pq_bit_width(cases[i].max), cases[i].width);
}

/* Thrift compact protocol and Parquet metadata: round trips and hostile input. */
#include <stdlib.h>

#include "parquet/metadata.h"
#include "parquet/thrift.h"
#include "unit.h"

TEST(thrift_varints_round_trip)
{
  static const int64_t values[] = {0, 1, -1, 63, -64, 64, 300, -300, INT32_MAX, INT32_MIN,
                                   INT64_MAX, INT64_MIN, 1LL << 40, -(1LL << 40)};
  for(size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
    buf b = BUF_INIT;
    thrift_writer w;
    thrift_writer_init(&w, &b);
    thrift_write_zigzag(&w, values[i]);
    thrift_reader r;
    thrift_reader_init(&r, b.data, b.len);
    CHECK(thrift_read_varint_zigzag(&r) == values[i]);
    CHECK_INT(thrift_reader_status(&r), CL_OK);
    CHECK(r.pos == r.end);
    buf_free(&b);
  }
}

TEST(thrift_known_bytes)
{
  /* struct { 1: i32 = 1, 20: i64 = -2, 21: binary "ab", 22: true } */
  buf b = BUF_INIT;
  thrift_writer w;
  thrift_writer_init(&w, &b);
  thrift_write_struct_begin(&w);
  thrift_write_i32_field(&w, 1, 1);
  thrift_write_i64_field(&w, 20, -2);
  thrift_write_binary_field(&w, 21, "ab", 2);
  thrift_write_bool_field(&w, 22, 1);
  thrift_write_struct_end(&w);
  static const uint8_t expected[] = {0x15, 0x02, 0x06, 0x28, 0x03, 0x18, 0x02, 'a', 'b', 0x11, 0x00};
  CHECK_MEM(b.data, b.len, expected, sizeof(expected));
  buf_free(&b);
}

TEST(thrift_fields_lists_and_skips_round_trip)
{
  buf b = BUF_INIT;
  thrift_writer w;
  thrift_writer_init(&w, &b);
  thrift_write_struct_begin(&w);
  thrift_write_i32_field(&w, 1, 42);
  thrift_write_field(&w, 2, THRIFT_LIST);
  thrift_write_list_begin(&w, THRIFT_I32, 20);
  for(int i = 0; i < 20; i++)
    thrift_write_zigzag(&w, i - 10);
  thrift_write_field(&w, 3, THRIFT_STRUCT); /* unknown to the reader below: skipped */
  thrift_write_struct_begin(&w);
  thrift_write_binary_field(&w, 1, "x", 1);
  thrift_write_bool_field(&w, 2, 0);
  thrift_write_field(&w, 3, THRIFT_LIST);
  thrift_write_list_begin(&w, THRIFT_STRUCT, 2);
  thrift_write_struct_begin(&w);
  thrift_write_struct_end(&w);
  thrift_write_struct_begin(&w);
  thrift_write_i64_field(&w, 7, 1);
  thrift_write_struct_end(&w);
  thrift_write_struct_end(&w);
  thrift_write_i64_field(&w, 300, 99); /* a long field id delta */
  thrift_write_struct_end(&w);

  thrift_reader r;
  int16_t id;
  int type, elem;
  uint32_t count;
  int32_t first = 0;
  int64_t last = 0, sum = 0;
  thrift_reader_init(&r, b.data, b.len);
  thrift_struct_begin(&r);
  while(thrift_next_field(&r, &id, &type)) {
    if(id == 1)
      first = thrift_read_i32(&r, type);
    else if(id == 2 && thrift_read_list(&r, type, &elem, &count)) {
      CHECK_INT(count, 20);
      for(uint32_t i = 0; i < count; i++)
        sum += thrift_read_i32(&r, elem);
    } else if(id == 300)
      last = thrift_read_i64(&r, type);
    else
      thrift_skip(&r, type);
  }
  thrift_struct_end(&r);
  CHECK_INT(thrift_reader_status(&r), CL_OK);
  CHECK_INT(first, 42);
  CHECK_INT(sum, -10);
  CHECK_INT(last, 99);
  CHECK(r.pos == r.end);
  buf_free(&b);
}

static cl_status skip_all(const uint8_t *data, size_t len)
{
  thrift_reader r;
  thrift_reader_init(&r, data, len);
  thrift_skip(&r, THRIFT_STRUCT);
  return thrift_reader_status(&r);
}

TEST(thrift_malformed_input_fails_cleanly)
{
  static const struct {
    const char *what;
    uint8_t bytes[16];
    size_t len;
  } cases[] = {
    {"empty", {0}, 0},
    {"truncated i32", {0x15, 0x80}, 2},
    {"binary past the end", {0x18, 0x10, 'a'}, 3},
    {"list count past the end", {0x19, 0xf5, 0xff, 0xff, 0xff, 0x0f}, 6},
    {"invalid type", {0x1d}, 1},
    {"varint too long", {0x16, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, 12},
    {"no stop", {0x15, 0x02}, 2},
    {"map count past the end", {0x1b, 0x7f}, 2},
  };
  for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
    if(skip_all(cases[i].bytes, cases[i].len) != CL_ERR_FORMAT)
      unit_fail(__FILE__, __LINE__, "case \"%s\" did not fail", cases[i].what);
}

TEST(thrift_nesting_bomb_is_refused)
{
  /* 10000 nested struct fields: the depth limit must stop it, not the stack. */
  size_t n = 10000;
  uint8_t *bomb = malloc(n);
  memset(bomb, 0x1c, n);
  CHECK_INT(skip_all(bomb, n), CL_ERR_FORMAT);
  memset(bomb, 0x19, n); /* lists of lists */
  for(size_t i = 1; i < n; i += 2)
    bomb[i] = 0x19;
  CHECK_INT(skip_all(bomb, n), CL_ERR_FORMAT);
  free(bomb);
}

TEST(thrift_page_header_round_trip)
{
  pq_page_header h = {0}, back;
  size_t used;
  cl_error err = {0};
  h.type = PQ_PAGE_DATA;
  h.uncompressed_size = 1000;
  h.compressed_size = 600;
  h.num_values = 77;
  h.encoding = PQ_ENC_RLE_DICTIONARY;
  buf b = BUF_INIT;
  pq_page_header_encode(&b, &h);
  CHECK_OK(pq_page_header_decode((const uint8_t *)b.data, b.len, &back, &used, &err), &err);
  CHECK_INT(used, b.len);
  CHECK_INT(back.type, PQ_PAGE_DATA);
  CHECK_INT(back.uncompressed_size, 1000);
  CHECK_INT(back.compressed_size, 600);
  CHECK_INT(back.num_values, 77);
  CHECK_INT(back.encoding, PQ_ENC_RLE_DICTIONARY);
  CHECK_INT(back.def_encoding, PQ_ENC_RLE);
  /* Every truncation fails cleanly. */
  for(size_t len = 0; len < b.len; len++)
    CHECK_INT(pq_page_header_decode((const uint8_t *)b.data, len, &back, &used, &err),
              CL_ERR_FORMAT);
  buf_free(&b);
}

TEST(thrift_footer_round_trip)
{
  parquet_column_schema columns[] = {
    {.name = "a", .physical = PARQUET_INT64, .logical = PARQUET_LOGICAL_TIMESTAMP,
     .unit = PARQUET_MILLIS, .utc_adjusted = 1, .optional = 1},
    {.name = "s", .physical = PARQUET_BYTE_ARRAY, .logical = PARQUET_LOGICAL_STRING},
    {.name = "n", .physical = PARQUET_INT32, .logical = PARQUET_LOGICAL_NULL, .optional = 1},
    {.name = "i", .physical = PARQUET_INT32, .logical = PARQUET_LOGICAL_INTEGER, .bit_width = 16,
     .is_signed = 1},
  };
  parquet_schema schema = {4, columns};
  pq_chunk_out chunks[4];
  memset(chunks, 0, sizeof(chunks));
  for(int i = 0; i < 4; i++) {
    chunks[i].type = (int32_t)columns[i].physical;
    chunks[i].name = columns[i].name;
    chunks[i].encodings = 1u << PQ_ENC_PLAIN | 1u << PQ_ENC_RLE;
    chunks[i].codec = PARQUET_CODEC_ZSTD;
    chunks[i].num_values = 5;
    chunks[i].data_page_offset = 4 + 100 * i;
    chunks[i].dictionary_page_offset = i == 1 ? 4 + 100 * i - 50 : -1;
    chunks[i].total_compressed_size = 90;
    chunks[i].has_statistics = 1;
    chunks[i].statistics.has_null_count = 1;
    chunks[i].statistics.null_count = i;
  }
  chunks[1].statistics.has_min_max = 1;
  chunks[1].statistics.min_value = (parquet_bytes){(const uint8_t *)"aa", 2};
  chunks[1].statistics.max_value = (parquet_bytes){(const uint8_t *)"zzz", 3};
  pq_row_group_out group = {chunks, 5, 400, 4, 360};
  parquet_key_value kv[] = {{"k", "v"}, {"empty", ""}};
  buf b = BUF_INIT;
  pq_footer_encode(&b, &schema, &group, 1, kv, 2, "me");
  pq_footer f;
  cl_error err = {0};
  CHECK_OK(pq_footer_decode((const uint8_t *)b.data, b.len, UINT64_MAX, &f, &err), &err);
  CHECK_INT(f.version, 2);
  CHECK_INT(f.num_rows, 5);
  CHECK_INT(f.schema_count, 5);
  CHECK_STR(f.schema[1].name, "a");
  CHECK_INT(f.schema[1].logical, PQ_LT_TIMESTAMP);
  CHECK_INT(f.schema[1].ts_unit, PARQUET_MILLIS);
  CHECK_INT(f.schema[1].ts_utc, 1);
  CHECK_INT(f.schema[1].converted, PQ_CT_TIMESTAMP_MILLIS);
  CHECK_INT(f.schema[2].converted, PQ_CT_UTF8);
  CHECK_INT(f.schema[3].logical, PQ_LT_UNKNOWN);
  CHECK_INT(f.schema[4].int_bits, 16);
  CHECK_INT(f.schema[4].int_signed, 1);
  CHECK_INT(f.row_group_count, 1);
  CHECK_INT(f.row_groups[0].column_count, 4);
  const pq_chunk_meta *m = &f.row_groups[0].columns[1];
  CHECK_INT(m->codec, PARQUET_CODEC_ZSTD);
  CHECK_INT(m->data_page_offset, 104);
  CHECK_INT(m->has_dictionary_page_offset, 1);
  CHECK_INT(m->dictionary_page_offset, 54);
  CHECK_INT(m->statistics.null_count, 1);
  CHECK_MEM(m->statistics.max_value.data, m->statistics.max_value.len, "zzz", 3);
  CHECK_STR(m->path[0], "s");
  CHECK_INT(f.metadata_count, 2);
  CHECK_STR(f.metadata[1].key, "empty");
  CHECK_STR(f.created_by, "me");
  pq_footer_free(&f);
  /* Every truncation and every single-byte corruption fails cleanly or decodes. */
  for(size_t len = 0; len < b.len; len++) {
    cl_status status = pq_footer_decode((const uint8_t *)b.data, len, UINT64_MAX, &f, &err);
    CHECK(status == CL_ERR_FORMAT);
  }
  for(size_t at = 0; at < b.len; at++) {
    char saved = b.data[at];
    b.data[at] = (char)(saved ^ 0x5a);
    if(pq_footer_decode((const uint8_t *)b.data, b.len, UINT64_MAX, &f, &err) == CL_OK)
      pq_footer_free(&f);
    b.data[at] = saved;
  }
  buf_free(&b);
}

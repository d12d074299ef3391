/* Writer -> reader round trips over random schemas and values, appending
 * by copying row groups, compaction, and the writer's refusals. */
#include <stdio.h>
#include <math.h>
#include <stdlib.h>

#include "parquet/metadata.h"
#include "parquet/parquet.h"
#include "unit.h"

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}
static size_t rnd_below(size_t n)
{
  return n ? (size_t)(rnd() % n) : 0;
}

/* One generated column: the vector plus the memory it borrows. */
typedef struct gen_column {
  parquet_column_vector vector;
  void *values;
  uint8_t *defined;
  uint8_t *pool;
} gen_column;

static void gen_free(gen_column *g)
{
  free(g->values);
  free(g->defined);
  free(g->pool);
  memset(g, 0, sizeof(*g));
}

static void random_column_schema(parquet_column_schema *c, size_t index, char *name)
{
  memset(c, 0, sizeof(*c));
  snprintf(name, 16, "col%zu", index);
  c->name = name;
  c->physical = (parquet_physical_type)rnd_below(8);
  c->optional = (int)rnd_below(2);
  c->logical = PARQUET_LOGICAL_NONE;
  switch(c->physical) {
  case PARQUET_BYTE_ARRAY:
    if(rnd_below(2))
      c->logical = PARQUET_LOGICAL_STRING;
    break;
  case PARQUET_FIXED_LEN_BYTE_ARRAY: c->type_length = 1 + (int32_t)rnd_below(20); break;
  case PARQUET_INT96:
    c->logical = PARQUET_LOGICAL_TIMESTAMP;
    c->unit = PARQUET_NANOS;
    break;
  case PARQUET_INT64:
    if(rnd_below(3) == 0) {
      c->logical = PARQUET_LOGICAL_TIMESTAMP;
      c->unit = (parquet_time_unit)rnd_below(3);
      c->utc_adjusted = (int)rnd_below(2);
    } else if(rnd_below(3) == 0) {
      c->logical = PARQUET_LOGICAL_INTEGER;
      c->bit_width = 64;
      c->is_signed = (int)rnd_below(2);
    }
    break;
  case PARQUET_INT32:
    switch(rnd_below(5)) {
    case 0: c->logical = PARQUET_LOGICAL_DATE; break;
    case 1:
      c->logical = PARQUET_LOGICAL_INTEGER;
      c->bit_width = 8 << rnd_below(3);
      c->is_signed = (int)rnd_below(2);
      break;
    case 2:
      c->logical = PARQUET_LOGICAL_NULL;
      c->optional = 1;
      break;
    default: break;
    }
    break;
  default: break;
  }
}

/* Values of a given cardinality (distinct count) so that both dictionary
 * and plain pages occur. */
static void generate(const parquet_column_schema *c, size_t rows, size_t cardinality,
                     int null_percent, gen_column *g)
{
  memset(g, 0, sizeof(*g));
  size_t size = c->physical == PARQUET_BOOLEAN ? 1
                : c->physical == PARQUET_INT32 || c->physical == PARQUET_FLOAT ? 4
                : c->physical == PARQUET_INT64 || c->physical == PARQUET_DOUBLE ? 8
                : c->physical == PARQUET_INT96 ? sizeof(parquet_int96)
                                               : sizeof(parquet_bytes);
  g->values = calloc(rows ? rows : 1, size);
  g->vector.count = rows;
  g->vector.values.boolean = g->values;
  if(c->optional) {
    g->defined = malloc(rows ? rows : 1);
    for(size_t i = 0; i < rows; i++)
      g->defined[i] = c->logical == PARQUET_LOGICAL_NULL ? 0 : (int)rnd_below(100) >= null_percent;
    g->vector.defined = g->defined;
  }
  size_t max_len = c->physical == PARQUET_FIXED_LEN_BYTE_ARRAY ? (size_t)c->type_length : 40;
  g->pool = malloc(cardinality * max_len + 1);
  for(size_t k = 0; k < cardinality * max_len; k++)
    g->pool[k] = (uint8_t)rnd();
  for(size_t i = 0; i < rows; i++) {
    size_t k = rnd_below(cardinality);
    uint64_t v = k * 0x9e3779b97f4a7c15ULL;
    switch(c->physical) {
    case PARQUET_BOOLEAN: g->vector.values.boolean[i] = (uint8_t)(k & 1); break;
    case PARQUET_INT32: g->vector.values.i32[i] = (int32_t)(uint32_t)(v >> 32); break;
    case PARQUET_INT64: g->vector.values.i64[i] = (int64_t)v; break;
    case PARQUET_INT96:
      g->vector.values.i96[i] = parquet_int96_from_nanos((int64_t)(v >> 2) - (int64_t)(v >> 3));
      break;
    case PARQUET_FLOAT: g->vector.values.f32[i] = k == 3 ? -0.0f : (float)(int64_t)v / 1e9f; break;
    case PARQUET_DOUBLE: g->vector.values.f64[i] = k == 5 ? 0.0 / 0.0 : (double)(int64_t)v / 7.0; break;
    default: {
      size_t len = c->physical == PARQUET_FIXED_LEN_BYTE_ARRAY ? max_len : k % (max_len + 1);
      g->vector.values.bytes[i] = (parquet_bytes){g->pool + k * max_len, (uint32_t)len};
    }
    }
  }
}

static int same_values(const parquet_column_schema *c, const parquet_column_vector *a, size_t ai,
                       const parquet_column_vector *b, size_t bi)
{
  int da = (!a->defined || a->defined[ai]) && c->logical != PARQUET_LOGICAL_NULL;
  int db = !b->defined || b->defined[bi];
  if(da != db)
    return 0;
  if(!da)
    return 1;
  switch(c->physical) {
  case PARQUET_BOOLEAN: return a->values.boolean[ai] == b->values.boolean[bi];
  case PARQUET_INT32: return a->values.i32[ai] == b->values.i32[bi];
  case PARQUET_INT64: return a->values.i64[ai] == b->values.i64[bi];
  case PARQUET_INT96: return !memcmp(&a->values.i96[ai], &b->values.i96[bi], 12);
  case PARQUET_FLOAT: return !memcmp(&a->values.f32[ai], &b->values.f32[bi], 4);
  case PARQUET_DOUBLE: return !memcmp(&a->values.f64[ai], &b->values.f64[bi], 8);
  default:
    return a->values.bytes[ai].len == b->values.bytes[bi].len &&
           (!a->values.bytes[ai].len ||
            !memcmp(a->values.bytes[ai].data, b->values.bytes[bi].data, a->values.bytes[ai].len));
  }
}

/* Read row group g of reader and compare it with the generated columns. */
static int check_group(parquet_reader *reader, size_t g, const parquet_schema *schema,
                       gen_column *columns, size_t rows, size_t offset, const char *what)
{
  int ok = 1;
  cl_error err = {0};
  const parquet_file_info *info = parquet_reader_info(reader);
  if(info->row_groups[g].row_count != (int64_t)rows) {
    unit_fail(__FILE__, __LINE__, "%s: row group %zu has %lld rows, expected %zu", what, g,
              (long long)info->row_groups[g].row_count, rows);
    return 0;
  }
  for(size_t c = 0; c < schema->column_count && ok; c++) {
    parquet_column_vector v;
    cl_status status = parquet_reader_read_column(reader, g, c, &v, &err);
    if(status) {
      unit_fail(__FILE__, __LINE__, "%s: reading row group %zu column %zu: %s", what, g, c,
                err.message);
      return 0;
    }
    CHECK_INT(v.count, rows);
    int64_t nulls = 0;
    for(size_t i = 0; i < rows && ok; i++) {
      nulls += v.defined && !v.defined[i];
      if(!same_values(&schema->columns[c], &columns[c].vector, offset + i, &v, i)) {
        unit_fail(__FILE__, __LINE__, "%s: row group %zu column %s (%s) row %zu differs", what, g,
                  schema->columns[c].name, parquet_physical_type_name(schema->columns[c].physical),
                  i);
        ok = 0;
      }
    }
    const parquet_statistics *s = &info->row_groups[g].columns[c].statistics;
    if(s->has_null_count && s->null_count != nulls) {
      unit_fail(__FILE__, __LINE__, "%s: column %zu null_count %lld, expected %lld", what, c,
                (long long)s->null_count, (long long)nulls);
      ok = 0;
    }
    if(s->has_min_max && schema->columns[c].physical == PARQUET_INT32 &&
       schema->columns[c].logical != PARQUET_LOGICAL_INTEGER) {
      int32_t lo, hi;
      memcpy(&lo, s->min_value.data, 4);
      memcpy(&hi, s->max_value.data, 4);
      for(size_t i = 0; i < rows; i++)
        if((!v.defined || v.defined[i]) && (v.values.i32[i] < lo || v.values.i32[i] > hi)) {
          unit_fail(__FILE__, __LINE__, "%s: column %zu value outside min/max", what, c);
          ok = 0;
          break;
        }
    }
    parquet_column_vector_free(&v);
  }
  return ok;
}

TEST(writer_random_round_trips)
{
  static const parquet_codec codecs[] = {PARQUET_CODEC_NONE, PARQUET_CODEC_SNAPPY,
                                         PARQUET_CODEC_GZIP, PARQUET_CODEC_ZSTD};
  for(int trial = 0; trial < 60; trial++) {
    size_t column_count = 1 + rnd_below(8), group_count = rnd_below(4);
    parquet_column_schema columns[8];
    char names[8][16];
    for(size_t c = 0; c < column_count; c++)
      random_column_schema(&columns[c], c, names[c]);
    parquet_schema schema = {column_count, columns};
    parquet_writer_options options;
    parquet_writer_options_default(&options);
    options.codec = codecs[trial % 4];
    options.page_size = 16 + rnd_below(4096);
    options.dictionary = trial % 5 != 0;
    options.dictionary_page_limit = rnd_below(2) ? 1u << 20 : 64 + rnd_below(512);
    options.statistics = trial % 7 != 0;
    buf file = BUF_INIT;
    parquet_writer *writer;
    cl_error err = {0};
    CHECK_OK(parquet_writer_create(stream_sink_to_buf(&file), &schema, &options, &writer, &err),
             &err);
    if(!writer)
      continue;
    gen_column gen[4][8];
    size_t rows[4];
    for(size_t g = 0; g < group_count; g++) {
      rows[g] = rnd_below(5) == 0 ? 1 + rnd_below(3) : 1 + rnd_below(3000);
      size_t cardinality = rnd_below(2) ? 1 + rnd_below(20) : 1 + rnd_below(rows[g] * 2);
      parquet_column_vector vectors[8];
      for(size_t c = 0; c < column_count; c++) {
        generate(&columns[c], rows[g], cardinality, (int)rnd_below(60), &gen[g][c]);
        vectors[c] = gen[g][c].vector;
      }
      CHECK_OK(parquet_writer_add_row_group(writer, rows[g], vectors, &err), &err);
    }
    CHECK_OK(parquet_writer_finish(writer, &err), &err);
    CHECK_INT(parquet_writer_bytes_written(writer), file.len);
    parquet_writer_free(writer);

    char what[64];
    snprintf(what, sizeof(what), "trial %d (%s)", trial, parquet_codec_name(options.codec));
    stream_memory memory = {(const uint8_t *)file.data, file.len, 0};
    parquet_reader *reader;
    CHECK_OK(parquet_reader_open(stream_file_from_memory(&memory, what), NULL, &reader, &err), &err);
    if(reader) {
      const parquet_schema *read_schema = parquet_reader_schema(reader);
      CHECK_INT(read_schema->column_count, column_count);
      for(size_t c = 0; c < column_count && c < read_schema->column_count; c++) {
        const parquet_column_schema *x = &read_schema->columns[c], *y = &columns[c];
        CHECK_STR(x->name, y->name);
        CHECK_INT(x->physical, y->physical);
        CHECK_INT(x->optional, y->optional);
        CHECK_INT(x->logical, y->logical);
        if(y->logical == PARQUET_LOGICAL_TIMESTAMP)
          CHECK_INT(x->unit, y->unit);
        if(y->logical == PARQUET_LOGICAL_INTEGER) {
          CHECK_INT(x->bit_width, y->bit_width);
          CHECK_INT(x->is_signed, y->is_signed);
        }
      }
      CHECK_INT(parquet_reader_info(reader)->row_group_count, group_count);
      for(size_t g = 0; g < group_count; g++)
        check_group(reader, g, &schema, gen[g], rows[g], 0, what);
      parquet_reader_free(reader);
    }
    for(size_t g = 0; g < group_count; g++)
      for(size_t c = 0; c < column_count; c++)
        gen_free(&gen[g][c]);
    buf_free(&file);
  }
}

/* A fixed schema covering the collator's column kinds. */
static parquet_column_schema fixed_columns[] = {
  {.name = "id", .physical = PARQUET_BYTE_ARRAY, .logical = PARQUET_LOGICAL_STRING},
  {.name = "n", .physical = PARQUET_INT64, .optional = 1},
  {.name = "ts", .physical = PARQUET_INT96, .logical = PARQUET_LOGICAL_TIMESTAMP,
   .unit = PARQUET_NANOS, .optional = 1},
  {.name = "gone", .physical = PARQUET_INT32, .logical = PARQUET_LOGICAL_NULL, .optional = 1},
};
static const parquet_schema fixed_schema = {4, fixed_columns};

static void write_fixed(buf *file, size_t groups, size_t rows, gen_column gen[][4],
                        parquet_codec codec)
{
  parquet_writer_options options;
  parquet_writer_options_default(&options);
  options.codec = codec;
  options.page_size = 512;
  parquet_writer *writer;
  cl_error err = {0};
  CHECK_OK(parquet_writer_create(stream_sink_to_buf(file), &fixed_schema, &options, &writer, &err),
           &err);
  for(size_t g = 0; g < groups; g++) {
    parquet_column_vector vectors[4];
    for(size_t c = 0; c < 4; c++) {
      generate(&fixed_columns[c], rows, 50, 20, &gen[g][c]);
      vectors[c] = gen[g][c].vector;
    }
    CHECK_OK(parquet_writer_add_row_group(writer, rows, vectors, &err), &err);
  }
  CHECK_OK(parquet_writer_finish(writer, &err), &err);
  parquet_writer_free(writer);
}

TEST(writer_copy_row_groups_appends_byte_for_byte)
{
  gen_column old_gen[2][4], new_gen[1][4];
  buf old_file = BUF_INIT, new_file = BUF_INIT;
  cl_error err = {0};
  write_fixed(&old_file, 2, 700, old_gen, PARQUET_CODEC_SNAPPY);

  stream_memory old_memory = {(const uint8_t *)old_file.data, old_file.len, 0};
  parquet_reader *old_reader;
  CHECK_OK(parquet_reader_open(stream_file_from_memory(&old_memory, "old"), NULL, &old_reader, &err),
           &err);
  parquet_writer_options options;
  parquet_writer_options_default(&options);
  options.codec = PARQUET_CODEC_ZSTD;
  parquet_writer *writer;
  CHECK_OK(parquet_writer_create(stream_sink_to_buf(&new_file), &fixed_schema, &options, &writer,
                                 &err), &err);
  CHECK_OK(parquet_writer_copy_row_groups(writer, old_reader, 0, 2, &err), &err);
  parquet_column_vector vectors[4];
  for(size_t c = 0; c < 4; c++) {
    generate(&fixed_columns[c], 300, 10, 30, &new_gen[0][c]);
    vectors[c] = new_gen[0][c].vector;
  }
  CHECK_OK(parquet_writer_add_row_group(writer, 300, vectors, &err), &err);
  CHECK_STATUS(parquet_writer_copy_row_groups(writer, old_reader, 1, 2, &err), CL_ERR_USAGE);
  CHECK_OK(parquet_writer_finish(writer, &err), &err);
  parquet_writer_free(writer);

  stream_memory new_memory = {(const uint8_t *)new_file.data, new_file.len, 0};
  parquet_reader *reader;
  CHECK_OK(parquet_reader_open(stream_file_from_memory(&new_memory, "new"), NULL, &reader, &err),
           &err);
  const parquet_file_info *info = parquet_reader_info(reader);
  const parquet_file_info *old_info = parquet_reader_info(old_reader);
  CHECK_INT(info->row_group_count, 3);
  CHECK_INT(info->row_count, 1700);
  check_group(reader, 0, &fixed_schema, old_gen[0], 700, 0, "copied group 0");
  check_group(reader, 1, &fixed_schema, old_gen[1], 700, 0, "copied group 1");
  check_group(reader, 2, &fixed_schema, new_gen[0], 300, 0, "new group");
  for(size_t g = 0; g < 2; g++)
    for(size_t c = 0; c < 4; c++) {
      const parquet_column_chunk_info *a = &old_info->row_groups[g].columns[c];
      const parquet_column_chunk_info *b = &info->row_groups[g].columns[c];
      int64_t a_start = a->dictionary_page_offset >= 0 ? a->dictionary_page_offset : a->data_page_offset;
      int64_t b_start = b->dictionary_page_offset >= 0 ? b->dictionary_page_offset : b->data_page_offset;
      CHECK_INT(b->total_compressed_size, a->total_compressed_size);
      CHECK_INT(b->codec, PARQUET_CODEC_SNAPPY);
      CHECK_INT(b->data_page_offset - b_start, a->data_page_offset - a_start);
      CHECK_MEM(new_file.data + b_start, (size_t)b->total_compressed_size,
                old_file.data + a_start, (size_t)a->total_compressed_size);
      CHECK_INT(b->statistics.null_count, a->statistics.null_count);
    }
  CHECK_INT(info->row_groups[2].columns[0].codec, PARQUET_CODEC_ZSTD);
  parquet_reader_free(reader);

  /* A writer with another schema refuses the copy. */
  parquet_column_schema other_columns[] = {{.name = "id", .physical = PARQUET_INT64}};
  parquet_schema other = {1, other_columns};
  buf scratch = BUF_INIT;
  CHECK_OK(parquet_writer_create(stream_sink_to_buf(&scratch), &other, NULL, &writer, &err), &err);
  CHECK_STATUS(parquet_writer_copy_row_groups(writer, old_reader, 0, 1, &err), CL_ERR_USAGE);
  parquet_writer_free(writer);
  buf_free(&scratch);

  parquet_reader_free(old_reader);
  for(size_t c = 0; c < 4; c++) {
    gen_free(&old_gen[0][c]);
    gen_free(&old_gen[1][c]);
    gen_free(&new_gen[0][c]);
  }
  buf_free(&old_file);
  buf_free(&new_file);
}

TEST(writer_rewrite_compacts_row_groups)
{
  gen_column gen[10][4];
  buf file = BUF_INIT, compact = BUF_INIT;
  cl_error err = {0};
  write_fixed(&file, 10, 7, gen, PARQUET_CODEC_GZIP);
  stream_memory memory = {(const uint8_t *)file.data, file.len, 0};
  parquet_reader *source;
  CHECK_OK(parquet_reader_open(stream_file_from_memory(&memory, "small groups"), NULL, &source, &err),
           &err);
  parquet_writer *writer;
  CHECK_OK(parquet_writer_create(stream_sink_to_buf(&compact), &fixed_schema, NULL, &writer, &err),
           &err);
  CHECK_OK(parquet_rewrite(source, 0, 10, writer, 25, &err), &err);
  CHECK_OK(parquet_writer_finish(writer, &err), &err);
  parquet_writer_free(writer);

  stream_memory compact_memory = {(const uint8_t *)compact.data, compact.len, 0};
  parquet_reader *reader;
  CHECK_OK(parquet_reader_open(stream_file_from_memory(&compact_memory, "compacted"), NULL, &reader,
                               &err), &err);
  const parquet_file_info *info = parquet_reader_info(reader);
  CHECK_INT(info->row_group_count, 3);
  CHECK_INT(info->row_count, 70);
  /* Row r of the output is row r % 7 of source group r / 7. */
  size_t row = 0;
  for(size_t g = 0; g < info->row_group_count; g++) {
    for(size_t c = 0; c < 4; c++) {
      parquet_column_vector v;
      CHECK_OK(parquet_reader_read_column(reader, g, c, &v, &err), &err);
      for(size_t i = 0; i < v.count; i++) {
        size_t r = row + i;
        if(!same_values(&fixed_columns[c], &gen[r / 7][c].vector, r % 7, &v, i)) {
          unit_fail(__FILE__, __LINE__, "compacted row %zu column %zu differs", r, c);
          break;
        }
      }
      parquet_column_vector_free(&v);
    }
    row += (size_t)info->row_groups[g].row_count;
  }
  parquet_reader_free(reader);
  parquet_reader_free(source);
  for(size_t g = 0; g < 10; g++)
    for(size_t c = 0; c < 4; c++)
      gen_free(&gen[g][c]);
  buf_free(&file);
  buf_free(&compact);
}

TEST(writer_zero_row_groups_is_a_valid_file)
{
  buf file = BUF_INIT;
  parquet_writer *writer;
  cl_error err = {0};
  parquet_key_value kv[] = {{"origin", "test"}};
  parquet_writer_options options;
  parquet_writer_options_default(&options);
  options.metadata = kv;
  options.metadata_count = 1;
  options.created_by = "unit test";
  CHECK_OK(parquet_writer_create(stream_sink_to_buf(&file), &fixed_schema, &options, &writer, &err),
           &err);
  CHECK_OK(parquet_writer_add_row_group(writer, 0, NULL, &err), &err);
  CHECK_OK(parquet_writer_finish(writer, &err), &err);
  CHECK_STATUS(parquet_writer_finish(writer, &err), CL_ERR_USAGE);
  parquet_writer_free(writer);
  CHECK(!memcmp(file.data, "PAR1", 4));
  CHECK(!memcmp(file.data + file.len - 4, "PAR1", 4));
  stream_memory memory = {(const uint8_t *)file.data, file.len, 0};
  parquet_reader *reader;
  CHECK_OK(parquet_reader_open(stream_file_from_memory(&memory, "empty"), NULL, &reader, &err), &err);
  if(reader) {
    const parquet_file_info *info = parquet_reader_info(reader);
    CHECK_INT(info->row_group_count, 0);
    CHECK_INT(info->row_count, 0);
    CHECK_INT(info->version, 2);
    CHECK_STR(info->created_by, "unit test");
    CHECK_INT(info->metadata_count, 1);
    CHECK_STR(info->metadata[0].value, "test");
    CHECK_INT(parquet_reader_schema(reader)->column_count, 4);
    CHECK_INT(parquet_reader_find_column(reader, "ts"), 2);
    CHECK_INT(parquet_reader_find_column(reader, "nope"), -1);
    parquet_reader_free(reader);
  }
  buf_free(&file);
}

TEST(writer_refuses_bad_schemas_and_values)
{
  static const parquet_column_schema bad[] = {
    {.name = "s", .physical = PARQUET_INT32, .logical = PARQUET_LOGICAL_STRING},
    {.name = "f", .physical = PARQUET_FIXED_LEN_BYTE_ARRAY, .type_length = 0},
    {.name = "n", .physical = PARQUET_INT64, .logical = PARQUET_LOGICAL_NULL, .optional = 1},
    {.name = "i", .physical = PARQUET_INT32, .logical = PARQUET_LOGICAL_INTEGER, .bit_width = 64},
    {.name = "", .physical = PARQUET_INT32},
  };
  buf file = BUF_INIT;
  cl_error err = {0};
  parquet_writer *writer;
  for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    parquet_schema schema = {1, (parquet_column_schema *)&bad[i]};
    CHECK_STATUS(parquet_writer_create(stream_sink_to_buf(&file), &schema, NULL, &writer, &err),
                 CL_ERR_USAGE);
  }
  parquet_writer_options options;
  parquet_writer_options_default(&options);
  options.codec = PARQUET_CODEC_LZO;
  CHECK_STATUS(parquet_writer_create(stream_sink_to_buf(&file), &fixed_schema, &options, &writer,
                                     &err), CL_ERR_USAGE);

  parquet_column_schema required[] = {{.name = "r", .physical = PARQUET_INT32}};
  parquet_schema schema = {1, required};
  CHECK_OK(parquet_writer_create(stream_sink_to_buf(&file), &schema, NULL, &writer, &err), &err);
  int32_t values[2] = {1, 2};
  uint8_t defined[2] = {1, 0};
  parquet_column_vector v = {.count = 2, .defined = defined, .values.i32 = values};
  CHECK_STATUS(parquet_writer_add_row_group(writer, 2, &v, &err), CL_ERR_USAGE);
  parquet_writer_free(writer);
  buf_free(&file);
}

TEST(writer_statistics_follow_the_format_rules)
{
  parquet_column_schema columns[] = {
    {.name = "s", .physical = PARQUET_BYTE_ARRAY, .optional = 1},
    {.name = "u", .physical = PARQUET_INT32, .logical = PARQUET_LOGICAL_INTEGER, .bit_width = 32},
    {.name = "d", .physical = PARQUET_DOUBLE, .optional = 1},
    {.name = "t", .physical = PARQUET_INT96, .logical = PARQUET_LOGICAL_TIMESTAMP,
     .unit = PARQUET_NANOS},
  };
  parquet_schema schema = {4, columns};
  parquet_bytes s[3] = {{(const uint8_t *)"\xff", 1}, {(const uint8_t *)"a", 1},
                        {(const uint8_t *)"ab", 2}};
  uint8_t s_defined[3] = {1, 1, 1};
  int32_t u[3] = {-1, 5, 0};
  double d[3] = {0.0, 0.0 / 0.0, 2.5};
  uint8_t d_defined[3] = {1, 1, 0};
  parquet_int96 t[3] = {parquet_int96_from_nanos(0), parquet_int96_from_nanos(1),
                        parquet_int96_from_nanos(2)};
  parquet_column_vector vectors[4] = {
    {.count = 3, .defined = s_defined, .values.bytes = s},
    {.count = 3, .values.i32 = u},
    {.count = 3, .defined = d_defined, .values.f64 = d},
    {.count = 3, .values.i96 = t},
  };
  buf file = BUF_INIT;
  cl_error err = {0};
  parquet_writer *writer;
  CHECK_OK(parquet_writer_create(stream_sink_to_buf(&file), &schema, NULL, &writer, &err), &err);
  CHECK_OK(parquet_writer_add_row_group(writer, 3, vectors, &err), &err);
  CHECK_OK(parquet_writer_finish(writer, &err), &err);
  parquet_writer_free(writer);
  stream_memory memory = {(const uint8_t *)file.data, file.len, 0};
  parquet_reader *reader;
  CHECK_OK(parquet_reader_open(stream_file_from_memory(&memory, "stats"), NULL, &reader, &err), &err);
  const parquet_column_chunk_info *c = parquet_reader_info(reader)->row_groups[0].columns;
  /* Unsigned byte order: "a" < "ab" < "\xff". */
  CHECK_MEM(c[0].statistics.min_value.data, c[0].statistics.min_value.len, "a", 1);
  CHECK_MEM(c[0].statistics.max_value.data, c[0].statistics.max_value.len, "\xff", 1);
  /* UINT_32 compares unsigned: 0 is the minimum, 0xffffffff the maximum. */
  uint32_t lo, hi;
  memcpy(&lo, c[1].statistics.min_value.data, 4);
  memcpy(&hi, c[1].statistics.max_value.data, 4);
  CHECK_INT(lo, 0);
  CHECK_INT(hi, 0xffffffffu);
  /* NaN ignored; a zero minimum is -0.0 and a zero maximum +0.0. */
  double dlo, dhi;
  memcpy(&dlo, c[2].statistics.min_value.data, 8);
  memcpy(&dhi, c[2].statistics.max_value.data, 8);
  CHECK(dlo == 0.0 && signbit(dlo));
  CHECK(dhi == 0.0 && !signbit(dhi));
  CHECK_INT(c[2].statistics.null_count, 1);
  CHECK_INT(c[3].statistics.has_min_max, 0);
  CHECK(c[0].encodings & (1u << 8)); /* RLE_DICTIONARY */
  parquet_reader_free(reader);
  buf_free(&file);
}

/* One optional string column written from `values`, read back. */
static parquet_reader *write_strings(buf *file, stream_memory *memory, parquet_bytes *values,
                                     size_t count, uint8_t *defined)
{
  static parquet_column_schema column = {.name = "s", .physical = PARQUET_BYTE_ARRAY,
                                         .logical = PARQUET_LOGICAL_STRING, .optional = 1};
  parquet_schema schema = {1, &column};
  parquet_column_vector vector = {.count = count, .defined = defined, .values.bytes = values};
  cl_error err = {0};
  parquet_writer *writer;
  parquet_reader *reader = NULL;
  CHECK_OK(parquet_writer_create(stream_sink_to_buf(file), &schema, NULL, &writer, &err), &err);
  CHECK_OK(parquet_writer_add_row_group(writer, count, &vector, &err), &err);
  CHECK_OK(parquet_writer_finish(writer, &err), &err);
  parquet_writer_free(writer);
  *memory = (stream_memory){(const uint8_t *)file->data, file->len, 0};
  CHECK_OK(parquet_reader_open(stream_file_from_memory(memory, "strings"), NULL, &reader, &err),
           &err);
  return reader;
}

TEST(writer_statistics_leave_out_long_values)
{
  enum { LONG = PARQUET_STATISTICS_MAX_VALUE_BYTES + 1 };
  char *text = malloc(LONG);
  CHECK(text != NULL);
  memset(text, 'x', LONG);
  uint8_t defined[3] = {1, 0, 1};
  cl_error err = {0};

  /* Values of the cap's length still have their min and max. */
  parquet_bytes fits[3] = {{(const uint8_t *)text, LONG - 1}, {NULL, 0}, {(const uint8_t *)"a", 1}};
  buf file = BUF_INIT;
  stream_memory memory;
  parquet_reader *reader = write_strings(&file, &memory, fits, 3, defined);
  const parquet_statistics *s = &parquet_reader_info(reader)->row_groups[0].columns[0].statistics;
  CHECK_INT(s->has_min_max, 1);
  CHECK_INT(s->max_value.len, LONG - 1);
  parquet_reader_free(reader);
  buf_free(&file);

  /* One value over it: no min and max (the footer would carry it twice in
   * every row group), the null count as always. */
  parquet_bytes over[3] = {{(const uint8_t *)text, LONG}, {NULL, 0}, {(const uint8_t *)"a", 1}};
  reader = write_strings(&file, &memory, over, 3, defined);
  const parquet_file_info *info = parquet_reader_info(reader);
  s = &info->row_groups[0].columns[0].statistics;
  CHECK_INT(s->has_min_max, 0);
  CHECK_INT(s->has_null_count, 1);
  CHECK_INT(s->null_count, 1);

  /* A copied row group whose file has such a min and max (another writer's,
   * or this one's before the cap) loses them too. The file is re-footed
   * with them, its pages untouched. */
  const parquet_column_chunk_info *c = &info->row_groups[0].columns[0];
  pq_chunk_out chunk = {
    .type = PARQUET_BYTE_ARRAY, .encodings = c->encodings, .codec = c->codec, .name = "s",
    .num_values = c->value_count, .total_uncompressed_size = c->total_uncompressed_size,
    .total_compressed_size = c->total_compressed_size, .data_page_offset = c->data_page_offset,
    .dictionary_page_offset = c->dictionary_page_offset, .has_statistics = 1,
    .statistics = {.has_min_max = 1, .min_value = {(const uint8_t *)"a", 1},
                   .max_value = {(const uint8_t *)text, LONG}, .has_null_count = 1,
                   .null_count = 1}};
  const parquet_row_group_info *g = &info->row_groups[0];
  pq_row_group_out group = {&chunk, g->row_count, g->total_byte_size, g->file_offset,
                            g->compressed_size};
  buf old = BUF_INIT, footer = BUF_INIT;
  size_t pages_end = file.len - 8 - (size_t)info->footer_length;
  pq_footer_encode(&footer, parquet_reader_schema(reader), &group, 1, NULL, 0, "test");
  CHECK_OK(buf_append(&old, file.data, pages_end), NULL);
  CHECK_OK(buf_append(&old, footer.data, footer.len), NULL);
  uint8_t tail[8] = {(uint8_t)footer.len, (uint8_t)(footer.len >> 8), (uint8_t)(footer.len >> 16),
                     (uint8_t)(footer.len >> 24), 'P', 'A', 'R', '1'};
  CHECK_OK(buf_append(&old, tail, 8), NULL);
  parquet_reader_free(reader);
  stream_memory old_memory = {(const uint8_t *)old.data, old.len, 0};
  parquet_reader *old_reader;
  CHECK_OK(parquet_reader_open(stream_file_from_memory(&old_memory, "old"), NULL, &old_reader,
                               &err), &err);
  CHECK_INT(parquet_reader_info(old_reader)->row_groups[0].columns[0].statistics.max_value.len,
            LONG);
  buf copy = BUF_INIT;
  parquet_writer *writer;
  CHECK_OK(parquet_writer_create(stream_sink_to_buf(&copy), parquet_reader_schema(old_reader),
                                 NULL, &writer, &err), &err);
  CHECK_OK(parquet_writer_copy_row_groups(writer, old_reader, 0, 1, &err), &err);
  CHECK_OK(parquet_writer_finish(writer, &err), &err);
  parquet_writer_free(writer);
  stream_memory copy_memory = {(const uint8_t *)copy.data, copy.len, 0};
  CHECK_OK(parquet_reader_open(stream_file_from_memory(&copy_memory, "copy"), NULL, &reader,
                               &err), &err);
  s = &parquet_reader_info(reader)->row_groups[0].columns[0].statistics;
  CHECK_INT(s->has_min_max, 0);
  CHECK_INT(s->null_count, 1);
  parquet_column_vector back;
  CHECK_OK(parquet_reader_read_column(reader, 0, 0, &back, &err), &err);
  CHECK_INT(back.count, 3);
  CHECK_MEM(back.values.bytes[0].data, back.values.bytes[0].len, text, LONG);
  parquet_column_vector_free(&back);
  parquet_reader_free(reader);
  parquet_reader_free(old_reader);
  buf_free(&copy);
  buf_free(&old);
  buf_free(&footer);
  buf_free(&file);
  free(text);
}

TEST(values_timestamps_convert)
{
  static const int64_t nanos[] = {0, 1, -1, 86399999999999LL, -86400000000000LL,
                                  -86400000000001LL, 1700000000123456789LL,
                                  -2208988800000000000LL};
  for(size_t i = 0; i < sizeof(nanos) / sizeof(nanos[0]); i++)
    CHECK(parquet_int96_to_nanos(parquet_int96_from_nanos(nanos[i])) == nanos[i]);
  parquet_int96 epoch = parquet_int96_from_nanos(0);
  static const uint8_t epoch_bytes[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0x8c, 0x3d, 0x25, 0x00};
  CHECK_MEM(epoch.bytes, 12, epoch_bytes, 12);

  parquet_column_schema ts96 = {.physical = PARQUET_INT96, .logical = PARQUET_LOGICAL_TIMESTAMP,
                                .unit = PARQUET_NANOS};
  parquet_int96 values96[1] = {parquet_int96_from_nanos(-1500)};
  parquet_column_vector v96 = {.count = 1, .values.i96 = values96};
  CHECK_INT(parquet_timestamp_micros(&ts96, &v96, 0), -2);
  parquet_column_schema ms = {.physical = PARQUET_INT64, .logical = PARQUET_LOGICAL_TIMESTAMP,
                              .unit = PARQUET_MILLIS};
  int64_t values64[1] = {-3};
  parquet_column_vector v64 = {.count = 1, .values.i64 = values64};
  CHECK_INT(parquet_timestamp_micros(&ms, &v64, 0), -3000);
  ms.unit = PARQUET_NANOS;
  CHECK_INT(parquet_timestamp_micros(&ms, &v64, 0), -1);
  ms.unit = PARQUET_MICROS;
  CHECK_INT(parquet_timestamp_micros(&ms, &v64, 0), -3);

  parquet_codec codec;
  cl_error err = {0};
  CHECK_OK(parquet_codec_from_name("ZSTD", &codec, &err), &err);
  CHECK_INT(codec, PARQUET_CODEC_ZSTD);
  CHECK_OK(parquet_codec_from_name("uncompressed", &codec, &err), &err);
  CHECK_INT(codec, PARQUET_CODEC_NONE);
  CHECK_STATUS(parquet_codec_from_name("lzo", &codec, &err), CL_ERR_USAGE);
  CHECK_STR(parquet_codec_name(PARQUET_CODEC_SNAPPY), "SNAPPY");
  CHECK_STR(parquet_physical_type_name(PARQUET_INT96), "INT96");
}

/* The reader against the Apache conformance files (values checked with
 * DuckDB) and against malformed files, which must fail cleanly. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "parquet/parquet.h"
#include "unit.h"

typedef struct opened {
  uint8_t *data;
  size_t len;
  stream_memory memory;
  char name[512];
  parquet_reader *reader;
  cl_status status;
  cl_error err;
} opened;

static int load(const char *dir, const char *file, opened *o)
{
  memset(o, 0, sizeof(*o));
  snprintf(o->name, sizeof(o->name), "%s/parquet-testing/%s/%s", unit_testdata_dir(), dir, file);
  FILE *f = fopen(o->name, "rb");
  if(!f) {
    unit_fail(__FILE__, __LINE__, "cannot open %s", o->name);
    return 0;
  }
  fseek(f, 0, SEEK_END);
  o->len = (size_t)ftell(f);
  fseek(f, 0, SEEK_SET);
  o->data = malloc(o->len ? o->len : 1);
  if(fread(o->data, 1, o->len, f) != o->len)
    o->len = 0;
  fclose(f);
  return 1;
}

static void open_loaded(opened *o)
{
  o->memory = (stream_memory){o->data, o->len, 0};
  o->status = parquet_reader_open(stream_file_from_memory(&o->memory, o->name), NULL, &o->reader,
                                  &o->err);
}

static void close_opened(opened *o)
{
  parquet_reader_free(o->reader);
  free(o->data);
  memset(o, 0, sizeof(*o));
}

static int clean_failure(cl_status status)
{
  return status == CL_OK || status == CL_ERR_FORMAT || status == CL_ERR_UNSUPPORTED ||
         status == CL_ERR_LIMIT;
}

/* Read every column of every row group; returns the number of failures
 * and checks that each is a clean one naming the file. */
static int read_everything(opened *o)
{
  int failures = 0;
  const parquet_file_info *info = parquet_reader_info(o->reader);
  const parquet_schema *schema = parquet_reader_schema(o->reader);
  for(size_t g = 0; g < info->row_group_count; g++)
    for(size_t c = 0; c < schema->column_count; c++) {
      parquet_column_vector v;
      cl_error err = {0};
      cl_status status = parquet_reader_read_column(o->reader, g, c, &v, &err);
      if(status) {
        failures++;
        if(!clean_failure(status))
          unit_fail(__FILE__, __LINE__, "%s column %zu: %s", o->name, c, err.message);
        if(!strstr(err.message, o->name))
          unit_fail(__FILE__, __LINE__, "message does not name the file: %s", err.message);
        if(schema->columns[c].nested && status != CL_ERR_UNSUPPORTED)
          unit_fail(__FILE__, __LINE__, "nested column %s: %s", schema->columns[c].name,
                    err.message);
      } else {
        CHECK_INT(v.count, info->row_groups[g].row_count);
        parquet_column_vector_free(&v);
      }
    }
  return failures;
}

TEST(reader_opens_and_decodes_every_conformance_file)
{
  char path[512];
  snprintf(path, sizeof(path), "%s/parquet-testing/data", unit_testdata_dir());
  DIR *dir = opendir(path);
  if(!dir) {
    unit_fail(__FILE__, __LINE__, "no test data in %s", path);
    return;
  }
  struct dirent *entry;
  int files = 0;
  while((entry = readdir(dir))) {
    if(!strstr(entry->d_name, ".parquet"))
      continue;
    opened o;
    if(!load("data", entry->d_name, &o))
      continue;
    files++;
    open_loaded(&o);
    if(o.status) {
      unit_fail(__FILE__, __LINE__, "%s does not open: %s", entry->d_name, o.err.message);
      close_opened(&o);
      continue;
    }
    int failures = read_everything(&o);
    const parquet_schema *schema = parquet_reader_schema(o.reader);
    int nested = 0;
    for(size_t c = 0; c < schema->column_count; c++)
      nested += schema->columns[c].nested;
    /* nation.dict-malformed is malformed on purpose (its two string columns). */
    int expected = !strcmp(entry->d_name, "nation.dict-malformed.parquet") ? 2 : 0;
    if(failures != expected + nested * (int)parquet_reader_info(o.reader)->row_group_count)
      unit_fail(__FILE__, __LINE__, "%s: %d columns failed", entry->d_name, failures);
    close_opened(&o);
  }
  closedir(dir);
  CHECK(files >= 25);
}

enum aggregate { COUNT, SUM, SUM_LEN, ROWS };

static const struct conformance_case {
  const char *file, *column;
  enum aggregate aggregate;
  long long expected;
} conformance_cases[] = {
  /* Expected values from DuckDB: SELECT count(c), sum(c), sum(length(c)), count(*). */
  {"alltypes_plain.parquet", "id", SUM, 28},
  {"alltypes_plain.parquet", "id", ROWS, 8},
  {"alltypes_dictionary.parquet", "bigint_col", SUM, 10},
  {"alltypes_tiny_pages_plain.parquet", "id", SUM, 26641350},
  {"alltypes_tiny_pages_plain.parquet", "string_col", COUNT, 7300},
  {"alltypes_tiny_pages_plain.parquet", "bigint_col", SUM, 328500},
  {"alltypes_tiny_pages_plain.parquet", "date_string_col", SUM_LEN, 58400},
  {"delta_binary_packed.parquet", "int_value", SUM, -10114055485LL},
  {"delta_binary_packed.parquet", "bitwidth33", SUM, 1811114420908LL},
  {"delta_byte_array.parquet", "c_login", COUNT, 0},
  {"delta_byte_array.parquet", "c_email_address", SUM_LEN, 26562},
  {"delta_byte_array.parquet", "c_last_name", COUNT, 976},
  {"delta_length_byte_array.parquet", "FRUIT", SUM_LEN, 23537},
  {"byte_stream_split.zstd.parquet", "f32", COUNT, 300},
  {"rle_boolean_encoding.parquet", "datatype_boolean", COUNT, 62},
  {"rle_boolean_encoding.parquet", "datatype_boolean", SUM, 36},
  {"datapage_v2.snappy.parquet", "b", SUM, 15},
  {"datapage_v2.snappy.parquet", "a", COUNT, 4},
  {"datapage_v2.snappy.parquet", "d", SUM, 4},
  {"concatenated_gzip_members.parquet", "long_col", SUM, 131841},
  {"dict-page-offset-zero.parquet", "l_partkey", SUM, 60528},
  {"lz4_raw_compressed.parquet", "c0", SUM, 6374419202LL},
  {"int32_with_null_pages.parquet", "int32_field", COUNT, 725},
  {"int32_with_null_pages.parquet", "int32_field", SUM, -12383254597LL},
  {"page_v2_empty_compressed.parquet", "integer_column", ROWS, 10},
  {"page_v2_empty_compressed.parquet", "integer_column", COUNT, 0},
  {"datapage_v2_empty_datapage.snappy.parquet", "value", COUNT, 0},
  {"plain-dict-uncompressed-checksum.parquet", "binary_field", COUNT, 1000},
  {"rle-dict-snappy-checksum.parquet", "long_field", SUM, 0},
  {"binary.parquet", "foo", SUM_LEN, 12},
  {"column_chunk_key_value_metadata.parquet", "column1", ROWS, 0},
};

TEST(reader_conformance_values_match_duckdb)
{
  for(size_t i = 0; i < sizeof(conformance_cases) / sizeof(conformance_cases[0]); i++) {
    const struct conformance_case *t = &conformance_cases[i];
    opened o;
    if(!load("data", t->file, &o))
      continue;
    open_loaded(&o);
    if(o.status) {
      unit_fail(__FILE__, __LINE__, "%s: %s", t->file, o.err.message);
      close_opened(&o);
      continue;
    }
    int column = parquet_reader_find_column(o.reader, t->column);
    const parquet_column_schema *s = &parquet_reader_schema(o.reader)->columns[column < 0 ? 0 : column];
    const parquet_file_info *info = parquet_reader_info(o.reader);
    long long result = 0;
    for(size_t g = 0; column >= 0 && g < info->row_group_count; g++) {
      parquet_column_vector v;
      cl_error err = {0};
      if(parquet_reader_read_column(o.reader, g, (size_t)column, &v, &err)) {
        unit_fail(__FILE__, __LINE__, "%s: %s", t->file, err.message);
        break;
      }
      for(size_t r = 0; r < v.count; r++) {
        if(t->aggregate == ROWS) {
          result++;
          continue;
        }
        if(v.defined && !v.defined[r])
          continue;
        if(t->aggregate == COUNT)
          result++;
        else if(t->aggregate == SUM_LEN)
          result += v.values.bytes[r].len;
        else if(s->physical == PARQUET_INT32)
          result += v.values.i32[r];
        else if(s->physical == PARQUET_INT64)
          result += v.values.i64[r];
        else if(s->physical == PARQUET_BOOLEAN)
          result += v.values.boolean[r];
      }
      parquet_column_vector_free(&v);
    }
    if(column < 0)
      unit_fail(__FILE__, __LINE__, "%s has no column %s", t->file, t->column);
    else if(result != t->expected)
      unit_fail(__FILE__, __LINE__, "%s %s: %lld, expected %lld", t->file, t->column, result,
                t->expected);
    close_opened(&o);
  }
}

TEST(reader_types_and_annotations)
{
  opened o;
  if(!load("data", "int96_from_spark.parquet", &o))
    return;
  open_loaded(&o);
  CHECK_OK(o.status, &o.err);
  if(!o.status) {
    const parquet_column_schema *a = &parquet_reader_schema(o.reader)->columns[0];
    CHECK_INT(a->physical, PARQUET_INT96);
    CHECK_INT(a->logical, PARQUET_LOGICAL_TIMESTAMP);
    CHECK_INT(a->unit, PARQUET_NANOS);
    parquet_column_vector v;
    cl_error err = {0};
    CHECK_OK(parquet_reader_read_column(o.reader, 0, 0, &v, &err), &err);
    if(v.count == 6) {
      /* DuckDB: epoch_us(a) */
      CHECK(parquet_timestamp_micros(a, &v, 0) == 1704141296123456LL);
      CHECK(parquet_timestamp_micros(a, &v, 1) == 1704070800000000LL);
      CHECK(parquet_timestamp_micros(a, &v, 2) == 253402225200000000LL);
      CHECK(v.defined && !v.defined[4]);
    }
    parquet_column_vector_free(&v);
  }
  close_opened(&o);

  if(!load("data", "alltypes_tiny_pages_plain.parquet", &o))
    return;
  open_loaded(&o);
  CHECK_OK(o.status, &o.err);
  if(!o.status) {
    const parquet_schema *s = parquet_reader_schema(o.reader);
    int string_col = parquet_reader_find_column(o.reader, "string_col");
    int tinyint = parquet_reader_find_column(o.reader, "tinyint_col");
    CHECK(string_col >= 0 && s->columns[string_col].logical == PARQUET_LOGICAL_STRING);
    CHECK(tinyint >= 0 && s->columns[tinyint].logical == PARQUET_LOGICAL_INTEGER &&
          s->columns[tinyint].bit_width == 8 && s->columns[tinyint].is_signed);
  }
  close_opened(&o);

  /* Nested columns are listed, marked and refused by name; flat ones read. */
  if(!load("data", "datapage_v2.snappy.parquet", &o))
    return;
  open_loaded(&o);
  CHECK_OK(o.status, &o.err);
  if(!o.status) {
    const parquet_schema *s = parquet_reader_schema(o.reader);
    CHECK_INT(s->column_count, 5);
    CHECK_STR(s->columns[4].name, "e.list.element");
    CHECK_INT(s->columns[4].nested, 1);
    CHECK_INT(parquet_reader_find_column(o.reader, "e.list.element"), -1);
    parquet_column_vector v;
    cl_error err = {0};
    CHECK_STATUS(parquet_reader_read_column(o.reader, 0, 4, &v, &err), CL_ERR_UNSUPPORTED);
    CHECK(strstr(err.message, "e.list.element") != NULL);
    CHECK_STATUS(parquet_reader_read_column(o.reader, 1, 0, &v, &err), CL_ERR_USAGE);
  }
  close_opened(&o);
}

TEST(reader_refuses_every_bad_file_cleanly)
{
  char path[512];
  snprintf(path, sizeof(path), "%s/parquet-testing/bad_data", unit_testdata_dir());
  DIR *dir = opendir(path);
  if(!dir) {
    unit_fail(__FILE__, __LINE__, "no test data in %s", path);
    return;
  }
  struct dirent *entry;
  while((entry = readdir(dir))) {
    if(!strstr(entry->d_name, ".parquet"))
      continue;
    opened o;
    if(!load("bad_data", entry->d_name, &o))
      continue;
    open_loaded(&o);
    int failures = o.status ? 1 : 0;
    if(o.status) {
      if(!clean_failure(o.status))
        unit_fail(__FILE__, __LINE__, "%s: %s", entry->d_name, o.err.message);
    } else
      failures += read_everything(&o);
    /* ARROW-GH-43605 holds readable values (DuckDB agrees); every other
     * bad file must be refused somewhere. */
    if(!failures && strcmp(entry->d_name, "ARROW-GH-43605.parquet"))
      unit_fail(__FILE__, __LINE__, "%s was read without complaint", entry->d_name);
    close_opened(&o);
  }
  closedir(dir);
}

TEST(reader_survives_corrupted_and_truncated_files)
{
  static const char *files[] = {"alltypes_plain.snappy.parquet", "datapage_v2.snappy.parquet",
                                "delta_length_byte_array.parquet"};
  for(size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
    opened o;
    if(!load("data", files[f], &o))
      continue;
    uint8_t *copy = malloc(o.len);
    for(size_t at = 0; at < o.len; at += (f == 2 ? 7 : 1)) {
      memcpy(copy, o.data, o.len);
      copy[at] ^= (uint8_t)(0x55 + at);
      stream_memory memory = {copy, o.len, 0};
      parquet_reader *reader = NULL;
      cl_error err = {0};
      cl_status status = parquet_reader_open(stream_file_from_memory(&memory, "corrupt"), NULL,
                                             &reader, &err);
      if(!clean_failure(status))
        unit_fail(__FILE__, __LINE__, "%s byte %zu: %s", files[f], at, err.message);
      if(!status) {
        opened view = {.reader = reader};
        strcpy(view.name, "corrupt");
        read_everything(&view);
        parquet_reader_free(reader);
      }
    }
    for(size_t len = 0; len < o.len; len += 13) {
      stream_memory memory = {o.data, len, 0};
      parquet_reader *reader = NULL;
      cl_error err = {0};
      CHECK(parquet_reader_open(stream_file_from_memory(&memory, "short"), NULL, &reader, &err) ==
            CL_ERR_FORMAT);
    }
    free(copy);
    close_opened(&o);
  }
}

TEST(reader_limits_are_enforced)
{
  opened o;
  if(!load("data", "alltypes_tiny_pages_plain.parquet", &o))
    return;
  parquet_reader_options options;
  parquet_reader_options_default(&options);
  options.max_footer_bytes = 100;
  o.memory = (stream_memory){o.data, o.len, 0};
  CHECK_STATUS(parquet_reader_open(stream_file_from_memory(&o.memory, o.name), &options, &o.reader,
                                   &o.err), CL_ERR_LIMIT);
  parquet_reader_options_default(&options);
  options.max_column_values = 1000;
  CHECK_OK(parquet_reader_open(stream_file_from_memory(&o.memory, o.name), &options, &o.reader,
                               &o.err), &o.err);
  if(o.reader) {
    parquet_column_vector v;
    CHECK_STATUS(parquet_reader_read_column(o.reader, 0, 0, &v, &o.err), CL_ERR_LIMIT);
  }
  close_opened(&o);
}

/* One column's file written by our writer into file. */
static void write_one_column(buf *file, const parquet_column_schema *column,
                             const parquet_writer_options *options, size_t rows,
                             const parquet_column_vector *vector)
{
  parquet_schema schema = {1, (parquet_column_schema *)column};
  parquet_writer *writer = NULL;
  cl_error err = {0};
  buf_init(file, 0);
  CHECK_OK(parquet_writer_create(stream_sink_to_buf(file), &schema, options, &writer, &err), &err);
  if(writer) {
    CHECK_OK(parquet_writer_add_row_group(writer, rows, vector, &err), &err);
    CHECK_OK(parquet_writer_finish(writer, &err), &err);
  }
  parquet_writer_free(writer);
}

static cl_status read_first_column(const buf *file, cl_error *err)
{
  stream_memory memory = {(const uint8_t *)file->data, file->len, 0};
  parquet_reader *reader = NULL;
  cl_status status = parquet_reader_open(stream_file_from_memory(&memory, "bomb.parquet"), NULL,
                                         &reader, err);
  if(!status) {
    parquet_column_vector v;
    status = parquet_reader_read_column(reader, 0, 0, &v, err);
    if(!status)
      parquet_column_vector_free(&v);
  }
  parquet_reader_free(reader);
  return status;
}

/* A run of nulls, or a zstd page of one repeated value, takes a few bytes of
 * the file for any number of values: the memory a read may take grows with
 * the file, so a small file cannot make it allocate gigabytes. */
TEST(reader_memory_is_bounded_by_the_file_size)
{
  static const parquet_column_schema nulls = {.name = "gone", .physical = PARQUET_INT32,
                                              .logical = PARQUET_LOGICAL_NULL, .optional = 1};
  static const struct {
    size_t rows;
    cl_status expected;
  } null_cases[] = {
    {1u << 22, CL_OK},          /* 20 MiB of values and flags */
    {1u << 24, CL_ERR_LIMIT},   /* 80 MiB from a file of a few hundred bytes */
  };
  for(size_t i = 0; i < sizeof(null_cases) / sizeof(null_cases[0]); i++) {
    buf file;
    parquet_column_vector ignored = {0};
    write_one_column(&file, &nulls, NULL, null_cases[i].rows, &ignored);
    CHECK(file.len < 4096);
    cl_error err = {0};
    CHECK_STATUS(read_first_column(&file, &err), null_cases[i].expected);
    if(null_cases[i].expected)
      CHECK(strstr(err.message, "bomb.parquet: row group 0, column gone: decoding needs more than"));
    buf_free(&file);
  }

  /* 80 zstd pages of 1 MiB, each one string repeated, kept because
   * values point into them. */
  static const parquet_column_schema text = {.name = "text", .physical = PARQUET_BYTE_ARRAY,
                                             .logical = PARQUET_LOGICAL_STRING};
  enum { value_bytes = 64 << 10, rows = 1280 };
  uint8_t *value = calloc(1, value_bytes);
  parquet_bytes *values = malloc(rows * sizeof(*values));
  for(size_t i = 0; i < rows; i++)
    values[i] = (parquet_bytes){value, value_bytes};
  parquet_column_vector vector = {.count = rows, .values.bytes = values};
  parquet_writer_options options;
  parquet_writer_options_default(&options);
  options.codec = PARQUET_CODEC_ZSTD;
  options.dictionary = 0;
  buf file;
  write_one_column(&file, &text, &options, rows, &vector);
  CHECK(file.len < (1u << 20));
  cl_error err = {0};
  CHECK_STATUS(read_first_column(&file, &err), CL_ERR_LIMIT);
  CHECK(strstr(err.message, "column text: decoding needs more than"));
  buf_free(&file);
  free(values);
  free(value);
}

/* A footer whose one row group lists a million column chunks of five bytes
 * each (a data_page_offset and nothing else), each decoding to a structure
 * of 176 bytes: 176 MB from a 5 MB file, over its 64 MiB + 16 x 5 MB. */
TEST(reader_footer_memory_is_bounded_by_the_file_size)
{
  static const uint8_t head[] = {
    'P', 'A', 'R', '1',
    0x15, 0x02,                                     /* version 1 */
    0x19, 0x2c,                                     /* schema: two elements */
    0x48, 0x01, 's', 0x15, 0x02, 0x00,              /* root "s", one child */
    0x15, 0x02, 0x25, 0x02, 0x18, 0x01, 'a', 0x00,  /* INT32 OPTIONAL "a" */
    0x16, 0x00,                                     /* num_rows 0 */
    0x19, 0x1c,                                     /* row_groups: one */
    0x19, 0xfc, 0xc0, 0x84, 0x3d,                   /* columns: 1,000,000 */
  };
  static const uint8_t chunk[] = {0x3c, 0x96, 0x08, 0x00, 0x00};
  static const uint8_t tail[] = {0x16, 0x00, 0x16, 0x00, 0x00, 0x00};
  enum { chunks = 1000000 };
  size_t footer = sizeof(head) - 4 + (size_t)chunks * sizeof(chunk) + sizeof(tail);
  buf file;
  buf_init(&file, 0);
  CHECK(!buf_append(&file, head, sizeof(head)));
  for(size_t i = 0; i < chunks; i++)
    CHECK(!buf_append(&file, chunk, sizeof(chunk)));
  uint8_t end[8] = {(uint8_t)footer, (uint8_t)(footer >> 8), (uint8_t)(footer >> 16),
                    (uint8_t)(footer >> 24), 'P', 'A', 'R', '1'};
  CHECK(!buf_append(&file, tail, sizeof(tail)));
  CHECK(!buf_append(&file, end, sizeof(end)));
  stream_memory memory = {(const uint8_t *)file.data, file.len, 0};
  parquet_reader *reader = NULL;
  cl_error err = {0};
  CHECK_STATUS(parquet_reader_open(stream_file_from_memory(&memory, "wide.parquet"), NULL, &reader,
                                   &err), CL_ERR_LIMIT);
  CHECK(strstr(err.message, "wide.parquet: footer: decoding needs more memory than the file's "
                            "size allows"));
  parquet_reader_free(reader);
  buf_free(&file);
}

TEST(reader_reads_from_a_file_descriptor)
{
  char path[600];
  snprintf(path, sizeof(path), "%s/parquet-testing/data/alltypes_plain.parquet", unit_testdata_dir());
  int fd = open(path, O_RDONLY);
  struct stat st;
  CHECK(fd >= 0 && fstat(fd, &st) == 0);
  if(fd < 0)
    return;
  stream_fd sfd = {.fd = fd, .name = path};
  parquet_reader *reader;
  cl_error err = {0};
  CHECK_OK(parquet_reader_open(stream_file_from_fd(&sfd, (uint64_t)st.st_size), NULL, &reader, &err),
           &err);
  if(reader) {
    parquet_column_vector v;
    CHECK_OK(parquet_reader_read_column(reader, 0, 9, &v, &err), &err);
    CHECK_INT(v.count, 8);
    if(v.count == 8)
      CHECK_MEM(v.values.bytes[0].data, v.values.bytes[0].len, "0", 1);
    parquet_column_vector_free(&v);
    parquet_reader_free(reader);
  }
  close(fd);
}

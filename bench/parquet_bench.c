/*
 * parquet_bench: encode and decode throughput of the collator's Parquet
 * writer and reader on an SMS-shaped table (design.md's sms_log columns:
 * md5-like ids, message bodies, int64s, INT96 timestamps).
 *
 *   parquet_bench encode FILE [ROWS] [ROWS_PER_GROUP]   build the table in
 *       memory (not timed), write it to FILE with snappy (timed), read FILE
 *       back decoding every column (timed)
 *   parquet_bench decode FILE   decode every column of any flat file (timed)
 *
 * Prints one JSON line: rows, raw_bytes (the table's values: string bytes,
 * 8 per int64, 12 per INT96, 1 per boolean, non-null only), file_bytes, and
 * encode/decode wall seconds and CPU seconds. bench/parquet.sh runs it beside DuckDB.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/stream.h"
#include "core/utctime.h"
#include "parquet/parquet.h"

enum {
  COL_USER_ID,
  COL_DEVICE_ID,
  COL_ID,
  COL_ROW_HASH,
  COL_IS_DELETED,
  COL_TS_UPDATED,
  COL_MESSAGE_BODY,
  COL_BODY_HASH,
  COL_SMS_TYPE,
  COL_THREAD_ID,
  COL_CONTACT_ID,
  COL_ITEM_ID,
  COL_SMS_ADDRESS,
  COL_NORMALIZED_SMS_ADDRESS,
  COL_DATETIME,
  COLUMN_COUNT
};

static const struct {
  const char *name;
  parquet_physical_type physical;
  parquet_logical_kind logical;
} sms_columns[COLUMN_COUNT] = {
  {"user_id", PARQUET_INT64, PARQUET_LOGICAL_NONE},
  {"device_id", PARQUET_BYTE_ARRAY, PARQUET_LOGICAL_STRING},
  {"id", PARQUET_BYTE_ARRAY, PARQUET_LOGICAL_STRING},
  {"row_hash", PARQUET_BYTE_ARRAY, PARQUET_LOGICAL_STRING},
  {"is_deleted", PARQUET_BOOLEAN, PARQUET_LOGICAL_NONE},
  {"ts_updated", PARQUET_INT96, PARQUET_LOGICAL_TIMESTAMP},
  {"message_body", PARQUET_BYTE_ARRAY, PARQUET_LOGICAL_NONE},
  {"body_hash", PARQUET_BYTE_ARRAY, PARQUET_LOGICAL_STRING},
  {"sms_type", PARQUET_BYTE_ARRAY, PARQUET_LOGICAL_STRING},
  {"thread_id", PARQUET_INT64, PARQUET_LOGICAL_NONE},
  {"contact_id", PARQUET_INT64, PARQUET_LOGICAL_NONE},
  {"item_id", PARQUET_INT64, PARQUET_LOGICAL_NONE},
  {"sms_address", PARQUET_BYTE_ARRAY, PARQUET_LOGICAL_STRING},
  {"normalized_sms_address", PARQUET_BYTE_ARRAY, PARQUET_LOGICAL_STRING},
  {"datetime", PARQUET_INT96, PARQUET_LOGICAL_TIMESTAMP},
};

/* CPU seconds of this process: on a loaded machine wall time measures the
 * neighbours too. */
static double cpu_seconds(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct timing {
  double wall, cpu;
} timing;

static uint64_t rng_state = 42;

static uint64_t rng_next(void)
{
  uint64_t z = (rng_state += UINT64_C(0x9E3779B97F4A7C15));
  z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
  return z ^ (z >> 31);
}

static void die(const char *what, const cl_error *err)
{
  fprintf(stderr, "parquet_bench: %s: %s\n", what, err ? err->message : "out of memory");
  exit(1);
}

/* The table: one vector per column over all rows; strings live in one arena
 * per column, addressed by offsets until the arena stops growing. */
typedef struct table {
  size_t rows;
  parquet_column_vector columns[COLUMN_COUNT];
  buf text[COLUMN_COUNT];
  uint64_t *offsets[COLUMN_COUNT];
  uint8_t *defined[COLUMN_COUNT];
  uint64_t raw_bytes;
} table;

static const char *const words[] = {"ok", "see you", "tomorrow", "at", "the", "station",
                                    "thanks!", "call me", "when", "you", "are", "free", "😀",
                                    "Zürich", "meeting", "moved", "to", "3pm", "your code is",
                                    "1234", "love", "running late", "where are you?"};

static void append_text(table *t, int column, size_t row)
{
  buf *b = &t->text[column];
  switch(column) {
  case COL_DEVICE_ID:
    buf_printf(b, "device-%02" PRIu64, rng_next() % 3);
    break;
  case COL_ID:
  case COL_ROW_HASH:
  case COL_BODY_HASH:
    buf_printf(b, "%016" PRIx64 "%016" PRIx64, rng_next(), rng_next());
    break;
  case COL_SMS_TYPE:
    buf_printf(b, "%" PRIu64, 1 + rng_next() % 2);
    break;
  case COL_SMS_ADDRESS:
    buf_printf(b, "+1 (555) %03" PRIu64 "-%04" PRIu64, rng_next() % 50, (uint64_t)row % 7);
    break;
  case COL_NORMALIZED_SMS_ADDRESS:
    buf_printf(b, "1555%03" PRIu64 "%04" PRIu64, rng_next() % 50, (uint64_t)row % 7);
    break;
  case COL_MESSAGE_BODY: {
    size_t n = 3 + rng_next() % 30;
    for(size_t i = 0; i < n; i++) {
      if(i)
        buf_putc(b, ' ');
      buf_append_str(b, words[rng_next() % (sizeof(words) / sizeof(words[0]))]);
    }
    break;
  }
  default:
    break;
  }
}

static void *alloc_or_die(size_t n, size_t size)
{
  void *p = calloc(n ? n : 1, size);
  if(!p)
    die("allocating the table", NULL);
  return p;
}

static void build_table(table *t, size_t rows)
{
  memset(t, 0, sizeof(*t));
  t->rows = rows;
  int64_t base = INT64_C(1700000000000000);
  for(int c = 0; c < COLUMN_COUNT; c++) {
    parquet_column_vector *v = &t->columns[c];
    v->count = rows;
    t->defined[c] = alloc_or_die(rows, 1);
    memset(t->defined[c], 1, rows);
    v->defined = t->defined[c];
    buf_init(&t->text[c], 0);
    switch(sms_columns[c].physical) {
    case PARQUET_INT64:
      v->values.i64 = alloc_or_die(rows, sizeof(int64_t));
      break;
    case PARQUET_INT96:
      v->values.i96 = alloc_or_die(rows, sizeof(parquet_int96));
      break;
    case PARQUET_BOOLEAN:
      v->values.boolean = alloc_or_die(rows, 1);
      break;
    default:
      v->values.bytes = alloc_or_die(rows, sizeof(parquet_bytes));
      t->offsets[c] = alloc_or_die(rows + 1, sizeof(uint64_t));
      break;
    }
  }
  for(size_t row = 0; row < rows; row++) {
    for(int c = 0; c < COLUMN_COUNT; c++) {
      parquet_column_vector *v = &t->columns[c];
      /* The optional SMS fields are null now and then, as in real uploads. */
      int nullable = c == COL_CONTACT_ID || c == COL_MESSAGE_BODY || c == COL_BODY_HASH;
      if(nullable && rng_next() % 20 == 0)
        t->defined[c][row] = 0;
      switch(c) {
      case COL_USER_ID:
        v->values.i64[row] = 1000 + (int64_t)(row / 250000);
        break;
      case COL_THREAD_ID:
        v->values.i64[row] = (int64_t)(rng_next() % 500);
        break;
      case COL_CONTACT_ID:
        v->values.i64[row] = (int64_t)(rng_next() % 2000);
        break;
      case COL_ITEM_ID:
        v->values.i64[row] = (int64_t)row + 1;
        break;
      case COL_IS_DELETED:
        v->values.boolean[row] = rng_next() % 50 == 0;
        break;
      case COL_TS_UPDATED:
        v->values.i96[row] = parquet_int96_from_nanos((base + (int64_t)(row / 1000) * 1000000) * 1000);
        break;
      case COL_DATETIME:
        v->values.i96[row] =
          parquet_int96_from_nanos((base - (int64_t)(rng_next() % (86400ull * 365 * 1000000))) * 1000);
        break;
      default:
        t->offsets[c][row] = t->text[c].len;
        if(t->defined[c][row])
          append_text(t, c, row);
        break;
      }
      if(t->defined[c][row]) {
        switch(sms_columns[c].physical) {
        case PARQUET_INT64:
          t->raw_bytes += 8;
          break;
        case PARQUET_INT96:
          t->raw_bytes += 12;
          break;
        case PARQUET_BOOLEAN:
          t->raw_bytes += 1;
          break;
        default:
          break;
        }
      }
    }
  }
  for(int c = 0; c < COLUMN_COUNT; c++) {
    if(!t->offsets[c])
      continue;
    if(buf_status(&t->text[c]))
      die("building the table", NULL);
    t->offsets[c][rows] = t->text[c].len;
    t->raw_bytes += t->text[c].len;
    for(size_t row = 0; row < rows; row++)
      t->columns[c].values.bytes[row] =
        (parquet_bytes){(const uint8_t *)t->text[c].data + t->offsets[c][row],
                        (uint32_t)(t->offsets[c][row + 1] - t->offsets[c][row])};
  }
}

static void free_table(table *t)
{
  for(int c = 0; c < COLUMN_COUNT; c++) {
    free(t->columns[c].values.i64);
    free(t->defined[c]);
    free(t->offsets[c]);
    buf_free(&t->text[c]);
  }
}

static timing encode(const table *t, const char *path, size_t rows_per_group)
{
  parquet_column_schema columns[COLUMN_COUNT];
  for(int c = 0; c < COLUMN_COUNT; c++) {
    memset(&columns[c], 0, sizeof(columns[c]));
    columns[c].name = (char *)sms_columns[c].name;
    columns[c].physical = sms_columns[c].physical;
    columns[c].logical = sms_columns[c].logical;
    columns[c].unit = PARQUET_NANOS;
    columns[c].optional = 1;
  }
  parquet_schema schema = {COLUMN_COUNT, columns};
  parquet_writer_options options;
  parquet_writer_options_default(&options);
  options.codec = PARQUET_CODEC_SNAPPY;
  cl_error err;
  cl_error_clear(&err);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if(fd < 0) {
    perror(path);
    exit(1);
  }
  stream_fd out = {.fd = fd, .name = path};
  parquet_writer *writer = NULL;
  double start = utc_monotonic_seconds(), start_cpu = cpu_seconds();
  if(parquet_writer_create(stream_sink_to_fd(&out), &schema, &options, &writer, &err))
    die(path, &err);
  for(size_t first = 0; first < t->rows; first += rows_per_group) {
    size_t n = t->rows - first < rows_per_group ? t->rows - first : rows_per_group;
    parquet_column_vector slice[COLUMN_COUNT];
    for(int c = 0; c < COLUMN_COUNT; c++) {
      const parquet_column_vector *v = &t->columns[c];
      slice[c] = (parquet_column_vector){.count = n, .defined = v->defined + first};
      switch(sms_columns[c].physical) {
      case PARQUET_INT64:
        slice[c].values.i64 = v->values.i64 + first;
        break;
      case PARQUET_INT96:
        slice[c].values.i96 = v->values.i96 + first;
        break;
      case PARQUET_BOOLEAN:
        slice[c].values.boolean = v->values.boolean + first;
        break;
      default:
        slice[c].values.bytes = v->values.bytes + first;
        break;
      }
    }
    if(parquet_writer_add_row_group(writer, n, slice, &err))
      die(path, &err);
  }
  if(parquet_writer_finish(writer, &err))
    die(path, &err);
  parquet_writer_free(writer);
  close(fd);
  return (timing){utc_monotonic_seconds() - start, cpu_seconds() - start_cpu};
}

/* Decode every flat column of every row group; returns seconds. */
static timing decode(const char *path, uint64_t *rows_out, uint64_t *file_bytes)
{
  struct stat st;
  cl_error err;
  cl_error_clear(&err);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if(fd < 0 || fstat(fd, &st) < 0) {
    perror(path);
    exit(1);
  }
  stream_fd in = {.fd = fd, .name = path};
  stream_file file = stream_file_from_fd(&in, (uint64_t)st.st_size);
  parquet_reader_options options;
  parquet_reader_options_default(&options);
  parquet_reader *reader = NULL;
  double start = utc_monotonic_seconds(), start_cpu = cpu_seconds();
  if(parquet_reader_open(file, &options, &reader, &err))
    die(path, &err);
  const parquet_schema *schema = parquet_reader_schema(reader);
  const parquet_file_info *info = parquet_reader_info(reader);
  for(size_t g = 0; g < info->row_group_count; g++) {
    for(size_t c = 0; c < schema->column_count; c++) {
      if(schema->columns[c].nested)
        continue;
      parquet_column_vector v = {0};
      if(parquet_reader_read_column(reader, g, c, &v, &err))
        die(path, &err);
      parquet_column_vector_free(&v);
    }
  }
  timing spent = {utc_monotonic_seconds() - start, cpu_seconds() - start_cpu};
  *rows_out = (uint64_t)info->row_count;
  *file_bytes = (uint64_t)st.st_size;
  parquet_reader_free(reader);
  close(fd);
  return spent;
}

int main(int argc, char **argv)
{
  if(argc >= 3 && !strcmp(argv[1], "decode")) {
    uint64_t rows, file_bytes;
    timing spent = decode(argv[2], &rows, &file_bytes);
    printf("{\"rows\": %" PRIu64 ", \"file_bytes\": %" PRIu64 ", \"decode_seconds\": %.6f, "
           "\"decode_cpu_seconds\": %.6f}\n", rows, file_bytes, spent.wall, spent.cpu);
    return 0;
  }
  if(argc < 3 || strcmp(argv[1], "encode")) {
    fprintf(stderr, "usage: parquet_bench encode FILE [ROWS] [ROWS_PER_GROUP] | decode FILE\n");
    return 2;
  }
  size_t rows = argc > 3 ? (size_t)strtoull(argv[3], NULL, 10) : 1000000;
  size_t per_group = argc > 4 ? (size_t)strtoull(argv[4], NULL, 10) : 122880;
  if(per_group == 0)
    per_group = rows ? rows : 1;
  table t;
  build_table(&t, rows);
  timing encoded = encode(&t, argv[2], per_group);
  uint64_t raw_bytes = t.raw_bytes;
  free_table(&t);
  uint64_t read_rows, file_bytes;
  timing decoded = decode(argv[2], &read_rows, &file_bytes);
  printf("{\"rows\": %" PRIu64 ", \"raw_bytes\": %" PRIu64 ", \"file_bytes\": %" PRIu64
         ", \"encode_seconds\": %.6f, \"encode_cpu_seconds\": %.6f, \"decode_seconds\": %.6f"
         ", \"decode_cpu_seconds\": %.6f}\n",
         read_rows, raw_bytes, file_bytes, encoded.wall, encoded.cpu, decoded.wall, decoded.cpu);
  return 0;
}

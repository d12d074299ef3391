#include "collate/history.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json/json.h"

cl_status history_schema_create(const collate_type *type, int timestamp_micros,
                                parquet_schema *out, cl_error *err)
{
  out->column_count = type->column_count;
  out->columns = calloc(type->column_count, sizeof(*out->columns));
  if(!out->columns)
    return cl_fail(err, CL_ERR_NOMEM, "schema of %s: out of memory", type->name);
  for(size_t i = 0; i < type->column_count; i++) {
    parquet_column_schema *c = &out->columns[i];
    /* The name is only borrowed from the static type table. */
    c->name = (char *)(uintptr_t)type->columns[i].name;
    c->optional = 1;
    switch(type->columns[i].kind) {
    case COLLATE_KIND_INT64:
      c->physical = PARQUET_INT64;
      c->logical = PARQUET_LOGICAL_NONE;
      break;
    case COLLATE_KIND_STRING:
      c->physical = PARQUET_BYTE_ARRAY;
      c->logical = PARQUET_LOGICAL_STRING;
      break;
    case COLLATE_KIND_BINARY:
      c->physical = PARQUET_BYTE_ARRAY;
      c->logical = PARQUET_LOGICAL_NONE;
      break;
    case COLLATE_KIND_BOOL:
      c->physical = PARQUET_BOOLEAN;
      c->logical = PARQUET_LOGICAL_NONE;
      break;
    case COLLATE_KIND_TIMESTAMP:
      if(timestamp_micros) {
        c->physical = PARQUET_INT64;
        c->logical = PARQUET_LOGICAL_TIMESTAMP;
        c->unit = PARQUET_MICROS;
        c->utc_adjusted = 0; /* naive datetimes, as pyarrow wrote them */
      } else {
        /* The reader reports INT96 as a nanosecond timestamp; the footer
         * carries no annotation for it either way. */
        c->physical = PARQUET_INT96;
        c->logical = PARQUET_LOGICAL_TIMESTAMP;
        c->unit = PARQUET_NANOS;
      }
      break;
    }
  }
  return CL_OK;
}

void history_schema_free(parquet_schema *schema)
{
  free(schema->columns);
  schema->columns = NULL;
  schema->column_count = 0;
}

static int column_equal(const parquet_column_schema *a, const parquet_column_schema *b)
{
  if(strcmp(a->name, b->name) || a->physical != b->physical || a->logical != b->logical ||
     a->optional != b->optional || a->nested || b->nested)
    return 0;
  if(a->logical == PARQUET_LOGICAL_TIMESTAMP)
    return a->unit == b->unit && a->utc_adjusted == b->utc_adjusted;
  return 1;
}

/* Legacy files may lack columns of their type, but never have columns of
 * another type, and always have the id. A file that fails this is some
 * other log type's history (or not a history at all) stored under this
 * key: reading it as this type would rewrite it with its values dropped. */
static cl_status check_columns_of_type(const history_file *h, const parquet_schema *theirs,
                                       cl_error *err)
{
  int has_id = 0;
  for(size_t i = 0; i < theirs->column_count; i++) {
    const char *name = theirs->columns[i].name;
    if(!strcmp(name, "__index_level_0__"))
      continue;
    int col = collate_type_column(h->type, name);
    if(col < 0)
      return cl_fail(err, CL_ERR_FORMAT,
                     "unreadable history %s: column '%s' is not a column of %s", h->name, name,
                     h->type->name);
    if(col == h->type->col_id)
      has_id = 1;
  }
  if(!has_id)
    return cl_fail(err, CL_ERR_FORMAT, "unreadable history %s: no id column", h->name);
  return CL_OK;
}

/* A reader's failure as the history's: CL_ERR_FORMAT, the history named
 * once (the reader names its file already). */
static cl_status unreadable(const history_file *h, cl_error *err)
{
  if(cl_error_after_name(err, h->name))
    cl_error_prefix(err, "unreadable history");
  else
    cl_error_prefix(err, "unreadable history %s", h->name);
  return err ? (err->status = CL_ERR_FORMAT) : CL_ERR_FORMAT;
}

/* h->file must be set up: over h->fd, or over memory. */
static cl_status open_reader(history_file *h, const parquet_schema *ours, cl_error *err)
{
  parquet_reader_options options;
  parquet_reader_options_default(&options);
  cl_status status = parquet_reader_open(h->file, &options, &h->reader, err);
  if(status) {
    h->reader = NULL;
    if(status == CL_ERR_NOMEM || status == CL_ERR_IO)
      return status;
    return unreadable(h, err);
  }
  /* A run of nulls or of one repeated value takes a few bytes for any number
   * of rows, while a real history row holds an MD5 id and row_hash, 16
   * bytes of entropy each: a file with more rows than bytes is forged or
   * corrupt, and decoding it would take time out of all proportion to its
   * size (a 1 MB file of 2^27 null rows: a minute). */
  const parquet_file_info *info = parquet_reader_info(h->reader);
  uint64_t rows = 0;
  for(size_t g = 0; g < info->row_group_count && rows <= h->file.size; g++)
    if(info->row_groups[g].row_count > 0)
      rows += (uint64_t)info->row_groups[g].row_count;
  if(rows > h->file.size)
    return cl_fail(err, CL_ERR_FORMAT,
                   "unreadable history %s: %" PRIu64 " rows in %" PRIu64 " bytes, more rows than "
                   "bytes", h->name, rows, h->file.size);
  const parquet_schema *theirs = parquet_reader_schema(h->reader);
  status = check_columns_of_type(h, theirs, err);
  if(status)
    return status;
  for(size_t i = 0; i < h->type->column_count; i++)
    h->map[i] = parquet_reader_find_column(h->reader, h->type->columns[i].name);
  for(size_t i = 0; i < h->type->column_count; i++)
    if(h->map[i] >= 0 && theirs->columns[h->map[i]].nested)
      h->map[i] = -1;
  h->exact = theirs->column_count == ours->column_count;
  for(size_t i = 0; h->exact && i < ours->column_count; i++)
    h->exact = column_equal(&theirs->columns[i], &ours->columns[i]);
  return CL_OK;
}

static cl_status open_fd_reader(history_file *h, const parquet_schema *ours, cl_error *err)
{
  h->sfd.fd = h->fd;
  h->sfd.name = h->name;
  h->sfd.written = 0;
  h->file = stream_file_from_fd(&h->sfd, h->size);
  h->file.name = h->name;
  return open_reader(h, ours, err);
}

static void history_reset(history_file *h, const collate_type *type)
{
  memset(h, 0, sizeof(*h));
  h->fd = -1;
  h->type = type;
  for(size_t i = 0; i < COLLATE_MAX_COLUMNS; i++)
    h->map[i] = -1;
}

cl_status history_fetch(store *s, const char *key, const collate_type *type,
                        const parquet_schema *ours, history_file *out, cl_error *err)
{
  history_reset(out, type);
  out->name = strdup(key);
  if(!out->name)
    return cl_fail(err, CL_ERR_NOMEM, "%s: out of memory", key);
  cl_status status = store_get_fd(s, key, &out->fd, &out->info, err);
  if(status == CL_ERR_NOT_FOUND) {
    cl_error_clear(err);
    return CL_OK;
  }
  if(status)
    return status;
  off_t end = lseek(out->fd, 0, SEEK_END);
  if(end < 0)
    return cl_fail(err, CL_ERR_IO, "%s: temp file: %s", key, strerror(errno));
  out->size = (uint64_t)end;
  out->exists = 1;
  return open_fd_reader(out, ours, err);
}

cl_status history_open_fd(int fd, const char *name, const collate_type *type,
                          const parquet_schema *ours, history_file *out, cl_error *err)
{
  history_reset(out, type);
  out->fd = fd;
  out->name = strdup(name);
  if(!out->name)
    return cl_fail(err, CL_ERR_NOMEM, "%s: out of memory", name);
  off_t end = lseek(fd, 0, SEEK_END);
  if(end < 0)
    return cl_fail(err, CL_ERR_IO, "%s: %s", name, strerror(errno));
  out->size = (uint64_t)end;
  out->exists = 1;
  return open_fd_reader(out, ours, err);
}

cl_status history_open_memory(const uint8_t *data, size_t len, const char *name,
                              const collate_type *type, const parquet_schema *ours,
                              history_file *out, cl_error *err)
{
  history_reset(out, type);
  out->name = strdup(name);
  if(!out->name)
    return cl_fail(err, CL_ERR_NOMEM, "%s: out of memory", name);
  out->size = len;
  out->exists = 1;
  out->memory = (stream_memory){data, len, 0};
  out->file = stream_file_from_memory(&out->memory, out->name);
  return open_reader(out, ours, err);
}

void history_close(history_file *h)
{
  parquet_reader_free(h->reader);
  h->reader = NULL;
  if(h->fd >= 0)
    close(h->fd);
  h->fd = -1;
  free(h->name);
  h->name = NULL;
  h->exists = 0;
}

size_t history_row_group_count(const history_file *h)
{
  return h->reader ? parquet_reader_info(h->reader)->row_group_count : 0;
}

uint64_t history_row_count(const history_file *h)
{
  return h->reader ? (uint64_t)parquet_reader_info(h->reader)->row_count : 0;
}

void history_batch_init(history_batch *batch)
{
  memset(batch, 0, sizeof(*batch));
}

static void release_vectors(history_batch *batch)
{
  for(size_t i = 0; i < COLLATE_MAX_COLUMNS; i++)
    if(batch->loaded[i]) {
      parquet_column_vector_free(&batch->vectors[i]);
      batch->loaded[i] = 0;
    }
}

void history_batch_free(history_batch *batch)
{
  release_vectors(batch);
  collate_scratch_free(batch->scratch);
  memset(batch, 0, sizeof(*batch));
}

static int parse_decimal(const uint8_t *s, size_t len, int64_t *out)
{
  size_t i = 0;
  int negative = 0;
  uint64_t v = 0;
  if(i < len && (s[i] == '-' || s[i] == '+'))
    negative = s[i++] == '-';
  if(i == len)
    return 0;
  for(; i < len; i++) {
    if(s[i] < '0' || s[i] > '9' || v > (UINT64_MAX - 9) / 10)
      return 0;
    v = v * 10 + (uint64_t)(s[i] - '0');
  }
  if(v > (uint64_t)INT64_MAX + (uint64_t)negative)
    return 0;
  *out = negative ? (int64_t)(0 - v) : (int64_t)v;
  return 1;
}

static int is_timestamp(const parquet_column_schema *c)
{
  return c->physical == PARQUET_INT96 || c->logical == PARQUET_LOGICAL_TIMESTAMP;
}

/* One file value as one cell of our column kind (legacy drift coerced the way
 * the rules module coerces raw values). Returns 0 when it had to become null. */
static int coerce_cell(const parquet_column_schema *c, const parquet_column_vector *v,
                       size_t row, collate_kind kind, collate_scratch *scratch,
                       collate_cell *cell)
{
  memset(cell, 0, sizeof(*cell));
  cell->type = COLLATE_CELL_NULL;
  if(c->logical == PARQUET_LOGICAL_NULL || (v->defined && !v->defined[row]))
    return 1;
  int64_t i = 0;
  int have_int = 0;
  switch(c->physical) {
  case PARQUET_INT64:
    i = v->values.i64[row];
    have_int = !is_timestamp(c);
    break;
  case PARQUET_INT32:
    i = v->values.i32[row];
    have_int = c->logical != PARQUET_LOGICAL_DATE;
    break;
  case PARQUET_BOOLEAN:
    i = v->values.boolean[row] != 0;
    have_int = 1;
    break;
  default:
    break;
  }
  switch(kind) {
  case COLLATE_KIND_INT64:
  case COLLATE_KIND_BOOL:
    if(have_int) {
      cell->type = COLLATE_CELL_INT;
      cell->i = kind == COLLATE_KIND_BOOL ? i != 0 : i;
      return 1;
    }
    if(c->physical == PARQUET_DOUBLE || c->physical == PARQUET_FLOAT) {
      double d = c->physical == PARQUET_DOUBLE ? v->values.f64[row] : v->values.f32[row];
      if(isfinite(d) && d == floor(d) && d >= -9.2e18 && d <= 9.2e18) {
        cell->type = COLLATE_CELL_INT;
        cell->i = kind == COLLATE_KIND_BOOL ? d != 0 : (int64_t)d;
        return 1;
      }
      return 0;
    }
    if(c->physical == PARQUET_BYTE_ARRAY) {
      const parquet_bytes *b = &v->values.bytes[row];
      if(kind == COLLATE_KIND_BOOL) {
        if(b->len == 4 && (!memcmp(b->data, "True", 4) || !memcmp(b->data, "true", 4))) {
          cell->type = COLLATE_CELL_INT;
          cell->i = 1;
          return 1;
        }
        if(b->len == 5 && (!memcmp(b->data, "False", 5) || !memcmp(b->data, "false", 5))) {
          cell->type = COLLATE_CELL_INT;
          return 1;
        }
        return 0;
      }
      if(parse_decimal(b->data, b->len, &cell->i)) {
        cell->type = COLLATE_CELL_INT;
        return 1;
      }
    }
    return 0;
  case COLLATE_KIND_TIMESTAMP:
    if(is_timestamp(c)) {
      cell->type = COLLATE_CELL_TIMESTAMP;
      cell->i = parquet_timestamp_micros(c, v, row);
      return 1;
    }
    return 0;
  case COLLATE_KIND_STRING:
  case COLLATE_KIND_BINARY: {
    char text[40];
    size_t len = 0;
    if(c->physical == PARQUET_BYTE_ARRAY || c->physical == PARQUET_FIXED_LEN_BYTE_ARRAY) {
      cell->type = COLLATE_CELL_BYTES;
      cell->s = (const char *)v->values.bytes[row].data;
      cell->len = v->values.bytes[row].len;
      if(!cell->s)
        cell->s = "";
      return 1;
    }
    if(have_int && c->physical == PARQUET_BOOLEAN)
      len = (size_t)snprintf(text, sizeof(text), "%s", i ? "True" : "False");
    else if(have_int)
      len = (size_t)snprintf(text, sizeof(text), "%lld", (long long)i);
    else if(c->physical == PARQUET_DOUBLE)
      len = json_format_python_float(v->values.f64[row], text, sizeof(text));
    else if(c->physical == PARQUET_FLOAT)
      len = json_format_python_float(v->values.f32[row], text, sizeof(text));
    else
      return 0;
    const char *copy = collate_scratch_copy(scratch, text, len);
    if(!copy)
      return 0;
    cell->type = COLLATE_CELL_BYTES;
    cell->s = copy;
    cell->len = len;
    return 1;
  }
  }
  return 0;
}

cl_status history_read_group(history_file *h, size_t row_group, uint32_t columns,
                             history_batch *batch, cl_error *err)
{
  cl_status status;
  const parquet_file_info *info = parquet_reader_info(h->reader);
  if(row_group >= info->row_group_count)
    return cl_fail(err, CL_ERR_INTERNAL, "%s: row group %zu of %zu", h->name, row_group,
                   info->row_group_count);
  size_t count = (size_t)info->row_groups[row_group].row_count;
  release_vectors(batch);
  if(!batch->scratch && !(batch->scratch = collate_scratch_create()))
    return cl_fail(err, CL_ERR_NOMEM, "%s: out of memory", h->name);
  collate_scratch_reset(batch->scratch);
  batch->count = count;
  batch->type = h->type;
  const parquet_schema *theirs = parquet_reader_schema(h->reader);
  for(size_t col = 0; col < h->type->column_count; col++) {
    batch->file_columns[col] = NULL;
    if(!(columns & (UINT32_C(1) << col)) || h->map[col] < 0)
      continue;
    parquet_column_vector *v = &batch->vectors[col];
    memset(v, 0, sizeof(*v));
    status = parquet_reader_read_column(h->reader, row_group, (size_t)h->map[col], v, err);
    if(status) {
      if(status == CL_ERR_NOMEM || status == CL_ERR_IO)
        return status;
      return unreadable(h, err);
    }
    batch->loaded[col] = 1;
    if(v->count != count)
      return cl_fail(err, CL_ERR_FORMAT, "unreadable history %s: column %s has %zu values "
                     "in a row group of %zu rows", h->name, h->type->columns[col].name,
                     v->count, count);
    batch->file_columns[col] = &theirs->columns[h->map[col]];
  }
  return CL_OK;
}

void history_cell(history_batch *batch, size_t col, size_t r, collate_cell *cell)
{
  if(!batch->file_columns[col]) {
    memset(cell, 0, sizeof(*cell));
    cell->type = COLLATE_CELL_NULL;
    return;
  }
  if(!coerce_cell(batch->file_columns[col], &batch->vectors[col], r,
                  batch->type->columns[col].kind, batch->scratch, cell))
    batch->coerced_nulls++;
}

void history_row(history_batch *batch, size_t r, collate_row *row)
{
  for(size_t col = 0; col < batch->type->column_count; col++)
    history_cell(batch, col, r, &row->cells[col]);
}

static size_t value_width(const parquet_column_schema *c)
{
  switch(c->physical) {
  case PARQUET_BOOLEAN: return 1;
  case PARQUET_INT64: return sizeof(int64_t);
  case PARQUET_INT96: return sizeof(parquet_int96);
  default: return sizeof(parquet_bytes);
  }
}

cl_status history_rows_init(history_rows *rows, const collate_type *type,
                            const parquet_schema *schema, size_t capacity, cl_error *err)
{
  memset(rows, 0, sizeof(*rows));
  rows->type = type;
  rows->schema = schema;
  rows->capacity = capacity ? capacity : 1;
  for(size_t col = 0; col < type->column_count; col++) {
    size_t width = value_width(&schema->columns[col]), n = rows->capacity;
    /* One block per column, never touched beyond the rows put: pages of a
     * small group stay unmapped. */
    uint8_t *block = malloc(n * (width + 1));
    if(!block) {
      history_rows_free(rows);
      return cl_fail(err, CL_ERR_NOMEM, "encoding %zu rows: out of memory", n);
    }
    rows->blocks[col] = block;
    parquet_column_vector *v = &rows->vectors[col];
    /* Aligned storage for the values: put them first when wider than a byte. */
    v->values.boolean = block;
    v->defined = block + n * width;
  }
  return CL_OK;
}

void history_rows_put(history_rows *rows, const collate_row *row)
{
  size_t r = rows->count++;
  for(size_t col = 0; col < rows->type->column_count; col++) {
    const parquet_column_schema *c = &rows->schema->columns[col];
    parquet_column_vector *v = &rows->vectors[col];
    const collate_cell *cell = &row->cells[col];
    int ok = 0;
    switch(c->physical) {
    case PARQUET_BOOLEAN:
      ok = cell->type == COLLATE_CELL_INT;
      v->values.boolean[r] = ok && cell->i != 0;
      break;
    case PARQUET_INT64:
      ok = cell->type == COLLATE_CELL_INT || cell->type == COLLATE_CELL_TIMESTAMP;
      v->values.i64[r] = ok ? cell->i : 0;
      break;
    case PARQUET_INT96:
      ok = cell->type == COLLATE_CELL_TIMESTAMP;
      if(ok) {
        /* Beyond +-292 years the nanoseconds of INT96 do not fit int64. */
        int64_t micros = cell->i;
        if(micros > INT64_MAX / 1000 || micros < INT64_MIN / 1000)
          ok = 0;
        else
          v->values.i96[r] = parquet_int96_from_nanos(micros * 1000);
      }
      break;
    default:
      ok = cell->type == COLLATE_CELL_BYTES;
      v->values.bytes[r].data = ok ? (const uint8_t *)cell->s : NULL;
      v->values.bytes[r].len = ok ? (uint32_t)cell->len : 0;
      break;
    }
    v->defined[r] = (uint8_t)ok;
  }
}

void history_rows_get(const history_rows *rows, size_t r, uint32_t columns, collate_row *row)
{
  for(size_t col = 0; col < rows->type->column_count; col++) {
    collate_cell *cell = &row->cells[col];
    if(!(columns >> col & 1)) {
      memset(cell, 0, sizeof(*cell));
      cell->type = COLLATE_CELL_NULL;
      continue;
    }
    /* Values put are already of the column's kind: none is converted, so
     * none needs a scratch for its text. */
    coerce_cell(&rows->schema->columns[col], &rows->vectors[col], r,
                rows->type->columns[col].kind, NULL, cell);
  }
}

cl_status history_rows_write(history_rows *rows, parquet_writer *writer, cl_error *err)
{
  for(size_t col = 0; col < rows->type->column_count; col++)
    rows->vectors[col].count = rows->count;
  cl_status status = parquet_writer_add_row_group(writer, rows->count, rows->vectors, err);
  rows->count = 0;
  return status;
}

void history_rows_free(history_rows *rows)
{
  for(size_t col = 0; col < COLLATE_MAX_COLUMNS; col++)
    free(rows->blocks[col]);
  memset(rows, 0, sizeof(*rows));
}

cl_status history_write_rows(parquet_writer *writer, const collate_type *type,
                             const parquet_schema *schema, const collate_row *rows,
                             size_t count, cl_error *err)
{
  history_rows group;
  cl_status status = history_rows_init(&group, type, schema, count, err);
  if(status)
    return status;
  for(size_t r = 0; r < count; r++)
    history_rows_put(&group, &rows[r]);
  status = history_rows_write(&group, writer, err);
  history_rows_free(&group);
  return status;
}

/*
 * history: collated Parquet files (current, diff, and the engine's own spool
 * of new rows) as rows of a log type, and rows back into Parquet.
 *
 * Files written by the legacy collator come in whatever schema pyarrow
 * inferred: other column order, missing or null-typed columns, INT64
 * timestamps in any unit, drifted types (an int photo_id), a
 * __index_level_0__ column. Reading maps columns by name and coerces each
 * value into our column kind, so the engine sees one row shape whatever the
 * file; `exact` tells whether the file's schema is byte-for-byte ours, in
 * which case its row groups can be copied instead of re-encoded. Files are
 * local files (downloaded from the store, or written here) or, when small
 * and just written here, memory: the Parquet reader wants random access,
 * and the store may be remote.
 */
#ifndef COLLATOR_COLLATE_HISTORY_H
#define COLLATOR_COLLATE_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "collate/logtype.h"
#include "core/error.h"
#include "core/stream.h"
#include "parquet/parquet.h"
#include "store/store.h"

/* Our schema for a type: the logtype columns, all OPTIONAL, timestamps INT96
 * or INT64 TIMESTAMP(MICROS). Free with history_schema_free. */
cl_status history_schema_create(const collate_type *type, int timestamp_micros,
                                parquet_schema *out, cl_error *err);
void history_schema_free(parquet_schema *schema);


typedef struct history_file {
  int exists;           /* 0: the object was missing (nothing else is set) */
  int fd;               /* -1 when not open */
  char *name;           /* the store key or a description, for messages */
  uint64_t size;
  store_info info;      /* ETag of what was downloaded */
  stream_fd sfd;
  stream_memory memory; /* history_open_memory: the borrowed bytes */
  stream_file file;
  parquet_reader *reader;
  const collate_type *type;
  int map[COLLATE_MAX_COLUMNS]; /* file column of each type column, -1 when absent */
  int exact;            /* the file's schema equals ours: row groups can be copied */
} history_file;

/* Download key into a temp file and open it. A missing object gives
 * exists = 0 and CL_OK; a file that is not readable Parquet of this type
 * fails with CL_ERR_FORMAT naming the key. */
cl_status history_fetch(store *s, const char *key, const collate_type *type,
                        const parquet_schema *ours, history_file *out, cl_error *err);
/* Open a local file the caller wrote (fd is taken: closed by history_close). */
cl_status history_open_fd(int fd, const char *name, const collate_type *type,
                          const parquet_schema *ours, history_file *out, cl_error *err);
/* Open a file held in memory (borrowed: it must outlive history_close), as
 * the engine's small spool and new current are, so reading them back costs
 * no syscall. */
cl_status history_open_memory(const uint8_t *data, size_t len, const char *name,
                              const collate_type *type, const parquet_schema *ours,
                              history_file *out, cl_error *err);
void history_close(history_file *h);

size_t history_row_group_count(const history_file *h);
uint64_t history_row_count(const history_file *h);

/* One row group's decoded columns; rows are materialised one at a time with
 * history_row / history_cell, so a row group of a million rows costs its
 * column vectors, not a million collate_rows. Cells point into the vectors
 * and the batch's scratch, valid until the next read into the same batch. */
typedef struct history_batch {
  size_t count;           /* rows in the row group read last */
  parquet_column_vector vectors[COLLATE_MAX_COLUMNS];
  int loaded[COLLATE_MAX_COLUMNS];
  const parquet_column_schema *file_columns[COLLATE_MAX_COLUMNS];
  const collate_type *type;
  collate_scratch *scratch;
  uint64_t coerced_nulls; /* values that did not fit our column kind */
} history_batch;

void history_batch_init(history_batch *batch);
void history_batch_free(history_batch *batch);
/* Bit i of columns selects type column i; columns not read are null cells. */
#define HISTORY_ALL_COLUMNS UINT32_MAX
cl_status history_read_group(history_file *h, size_t row_group, uint32_t columns,
                             history_batch *batch, cl_error *err);
/* Column col of row r of the last group read, coerced to our column kind. */
void history_cell(history_batch *batch, size_t col, size_t r, collate_cell *cell);
/* Every column of row r (unread columns are null). */
void history_row(history_batch *batch, size_t r, collate_row *row);

/* Rows gathered column by column into the vectors the writer encodes, for
 * a row group built one row at a time: the storage is allocated once for
 * capacity rows and reused by every group, so buffering a row costs its
 * values rather than a whole collate_row, and later groups fault no fresh
 * pages. Strings are borrowed: they must live until history_rows_write. */
typedef struct history_rows {
  const collate_type *type;
  const parquet_schema *schema;
  size_t count, capacity;
  parquet_column_vector vectors[COLLATE_MAX_COLUMNS];
  uint8_t *blocks[COLLATE_MAX_COLUMNS];
} history_rows;

cl_status history_rows_init(history_rows *rows, const collate_type *type,
                            const parquet_schema *schema, size_t capacity, cl_error *err);
/* Requires count < capacity. */
void history_rows_put(history_rows *rows, const collate_row *row);
/* Row r of those put so far as a reader of the written file gets it back
 * (history_row): a value the column cannot hold is null. Only the columns
 * selected (bit i = type column i) are filled, the others are null. */
void history_rows_get(const history_rows *rows, size_t r, uint32_t columns, collate_row *row);
/* Encode the rows put so far as one row group of writer; count restarts at 0. */
cl_status history_rows_write(history_rows *rows, parquet_writer *writer, cl_error *err);
void history_rows_free(history_rows *rows);

/* Encode rows as one row group of writer (whose schema is history_schema_create's). */
cl_status history_write_rows(parquet_writer *writer, const collate_type *type,
                             const parquet_schema *schema, const collate_row *rows,
                             size_t count, cl_error *err);

#endif

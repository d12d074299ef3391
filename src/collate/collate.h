/*
 * collate: merge one upload into a user's history, the product itself.
 *
 * For an upload key uploads/users/{user}/{serial}/{device}/{log_type}/{file}
 * it streams the raw JSON (gzip detected by magic), turns each entry into a
 * row with the legacy id and row_hash, decides what is new, changed or
 * deleted against the current history, and writes the day's diff, the
 * device's txt and last the new current history (old row groups copied, new
 * ones appended); diff and current with conditional writes, the whole round
 * re-applied on a lost race. Current goes last because it decides what is
 * new: a replay after a crash redoes every earlier write. legacy.md has the
 * rules; design.md lists where we depart on purpose.
 */
#ifndef COLLATOR_COLLATE_COLLATE_H
#define COLLATOR_COLLATE_COLLATE_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"
#include "parquet/parquet.h"
#include "store/store.h"

typedef struct collate_limits {
  uint64_t max_upload_bytes;    /* decompressed; COLLATOR_MAX_UPLOAD_BYTES */
  uint64_t max_entries;         /* COLLATOR_MAX_ENTRIES */
  uint64_t max_history_rows;    /* COLLATOR_MAX_HISTORY_ROWS */
  size_t max_string_bytes;      /* COLLATOR_MAX_STRING_BYTES */
  size_t max_depth;             /* COLLATOR_MAX_JSON_DEPTH */
} collate_limits;

/* Test seams; all NULL in production. */
typedef struct collate_hooks {
  /* Called right before each conditional write of current or diff with its
   * key; a failure status fails that write as the store would have (a test
   * changes the object here, or returns CL_ERR_CONFLICT). */
  cl_status (*before_write)(void *ctx, const char *key, cl_error *err);
  void *ctx;
} collate_hooks;

typedef struct collate_options {
  int64_t now_micros;           /* ts_updated of new rows */
  int write_txt;                /* WRITE_TXT, default true */
  int timestamp_micros;         /* COLLATOR_TIMESTAMP=micros: INT64 instead of INT96 */
  parquet_codec codec;          /* COLLATOR_COMPRESSION, default snappy */
  unsigned max_attempts;        /* rounds on conflict; COLLATOR_MAX_ATTEMPTS, default 8 */
  unsigned threads;             /* 2: row groups are encoded on a second thread (0 and 1: not);
                                 * COLLATOR_THREADS, default 2 when the process may run on
                                 * two CPUs or more */
  collate_limits limits;
  collate_hooks hooks;          /* tests only; zeroed by collate_options_from_env */
} collate_options;

/* Defaults, then the environment variables named above; now = the clock. */
cl_status collate_options_from_env(collate_options *options, cl_error *err);

typedef enum collate_outcome {
  COLLATE_UPDATED,   /* rows were added; outputs written */
  COLLATE_UNCHANGED, /* nothing new: nothing written */
  COLLATE_REJECTED,  /* a permanent input error, recorded under collated_logs/rejected/ */
  COLLATE_FAILED     /* a transient failure: the caller should fail and retry */
} collate_outcome;

typedef struct collate_result {
  collate_outcome outcome;
  char user_id[32];
  char device_id[256];
  char log_type[32];
  uint64_t history_rows;     /* rows of the current file before (all versions) */
  uint64_t unique_rows;      /* ids in it */
  uint64_t new_rows;         /* new or changed rows appended */
  uint64_t deleted_rows;     /* deletion markers appended */
  uint64_t rejected_entries; /* entries skipped (missing field, wrong kind) */
  uint64_t coerced_nulls;    /* values stored as null because they did not fit the column */
  uint64_t duplicate_entries;/* repeats inside the upload, appended once */
  uint64_t total_rows;       /* rows of the current file after */
  uint64_t attempts;         /* read-modify-write rounds (1 without conflicts) */
  uint64_t bytes_read, bytes_written;
  double seconds;
  char reason[CL_ERROR_MESSAGE_MAX]; /* why, for REJECTED and FAILED */
} collate_result;

/* Collate one upload key. Returns CL_OK for UPDATED, UNCHANGED and a
 * recorded REJECTED; a failure status (and FAILED) when the caller should
 * retry (store errors, or a history that cannot be read, which is never
 * overwritten). */
cl_status collate_upload(store *s, const char *key, const collate_options *options,
                         collate_result *result, cl_error *err);

/* The one JSON log line of an upload. request_id may be NULL. */
cl_status collate_result_to_json(const collate_result *result, const char *key,
                                 const char *request_id, buf *out);

const char *collate_outcome_name(collate_outcome outcome);

#endif

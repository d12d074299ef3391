/*
 * logtype: the four log types as data, and the legacy rules that turn one
 * raw upload entry into one collated row.
 *
 * A collate_type describes a log type once: its columns (name, kind, the
 * Parquet type they are written as), which raw keys it accepts and their
 * aliases, which are required, how each column is derived, which fields feed
 * id and row_hash and how each is stringified (Python str(), None dropped or
 * kept as "None"), whether deletions are detected, and how its txt renders.
 * Everything else in collate is generic over this table.
 *
 * Rows are arrays of cells aligned with the type's columns. Strings in a row
 * point into a scratch buffer the caller owns (collate_scratch), so a row is
 * valid until that scratch is reset.
 */
#ifndef COLLATOR_COLLATE_LOGTYPE_H
#define COLLATOR_COLLATE_LOGTYPE_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/stream.h"
#include "core/worker.h"
#include "json/json.h"

#define COLLATE_MAX_COLUMNS 16

typedef enum collate_kind {
  COLLATE_KIND_INT64,     /* INT64 */
  COLLATE_KIND_STRING,    /* BYTE_ARRAY UTF-8 */
  COLLATE_KIND_BINARY,    /* BYTE_ARRAY (sms message_body) */
  COLLATE_KIND_BOOL,      /* BOOLEAN */
  COLLATE_KIND_TIMESTAMP  /* INT96 (default) or INT64 TIMESTAMP(MICROS); micros in cells */
} collate_kind;

typedef enum collate_cell_type {
  COLLATE_CELL_NULL,
  COLLATE_CELL_INT,       /* i: INT64 values and booleans (0/1) */
  COLLATE_CELL_TIMESTAMP, /* i: microseconds since the epoch, UTC */
  COLLATE_CELL_BYTES      /* s, len: STRING and BINARY */
} collate_cell_type;

typedef struct collate_cell {
  collate_cell_type type;
  int64_t i;
  const char *s;
  size_t len;
} collate_cell;

typedef struct collate_row {
  collate_cell cells[COLLATE_MAX_COLUMNS];
} collate_row;

typedef struct collate_column {
  const char *name;
  collate_kind kind;
} collate_column;

typedef enum collate_type_id {
  COLLATE_SMS_LOG,
  COLLATE_CALL_LOG,
  COLLATE_CONTACT_LIST,
  COLLATE_APP_PACKAGES
} collate_type_id;

typedef struct collate_type {
  collate_type_id id;
  const char *name;             /* "sms_log", ... as in the key */
  size_t column_count;
  const collate_column *columns; /* file column order = legacy row key order */
  /* Indices of the common columns in columns[]. */
  int col_user_id, col_device_id, col_is_deleted, col_id, col_row_hash, col_ts_updated;
  int col_datetime;             /* sms/call datetime, -1 for others */
  int detects_deletions;        /* 0 for sms_log: devices upload only new SMS */
  int clamps_future_datetime;   /* 1 for sms_log (legacy §3.5 step 2) */
} collate_type;

/* NULL when the name is not one of the four log types. */
const collate_type *collate_type_find(const char *name);
const collate_type *collate_type_get(collate_type_id id);
/* Index of the named column in type->columns, -1 when it has none. */
int collate_type_column(const collate_type *type, const char *name);
/* The int code of a call_type / sms_type name ("rejected" -> 5); 0 when the
 * name is not one of the type's codes ("unknown", or a type without codes). */
int collate_type_code(const collate_type *type, const char *name, size_t len, int64_t *code);

/* Memory for the strings of rows built from entries; reset per batch. */
typedef struct collate_scratch collate_scratch;
collate_scratch *collate_scratch_create(void);
void collate_scratch_reset(collate_scratch *scratch);
void collate_scratch_free(collate_scratch *scratch);
/* Copy bytes into the scratch (NUL-terminated); NULL when out of memory. */
const char *collate_scratch_copy(collate_scratch *scratch, const void *data, size_t len);

typedef struct collate_entry_outcome {
  int rejected;              /* the entry produces no row */
  char reason[160];          /* why, for the log ("item_id missing", ...) */
  unsigned coerced_nulls;    /* values that did not fit their column, stored null */
  unsigned unexpected_keys;  /* raw keys the type does not accept (warned, ignored) */
} collate_entry_outcome;

/* Apply the type's collate step to one raw entry (a JSON object) of a
 * device's upload: fills every column except ts_updated (left null),
 * including id and row_hash. A rejected entry (legacy "return false", a
 * missing required key, a value of the wrong kind; design.md item 1) sets
 * outcome->rejected and returns CL_OK; only out-of-memory fails. */
cl_status collate_entry_to_row(const collate_type *type, const json_value *entry,
                               int64_t user_id, const char *device_id,
                               collate_scratch *scratch, collate_row *row,
                               collate_entry_outcome *outcome);

/* The most entries collate_entries_to_rows converts side by side; more are
 * taken in parts of this many. */
#define COLLATE_BATCH_MAX 32

/* collate_entry_to_row for count entries at once: rows[i] and outcomes[i]
 * are exactly what collate_entry_to_row gives for entries[i], but each of
 * the three md5 steps (body_hash, id, row_hash) runs for all entries side
 * by side (digest_md5_hex_many), several times faster than one by one.
 * Every row points into scratch, so it must not be reset before the last
 * row is used. On failure (only out of memory) *failed is the index of the
 * entry that failed and the batch's rows and outcomes are unspecified. */
cl_status collate_entries_to_rows(const collate_type *type, size_t count,
                                  const json_value *const entries[], int64_t user_id,
                                  const char *device_id, collate_scratch *scratch,
                                  collate_row rows[], collate_entry_outcome outcomes[],
                                  size_t *failed);

/* The id of an entry collate_entries_to_rows rejected, when the values it
 * is made of are valid (another value was not): the entry is still on the
 * device, so a snapshot upload must not take its row for deleted. *has_id
 * is 0 when the id cannot be made either (or needs a derived column, as
 * sms's body_hash; sms has no deletions). Only out-of-memory fails. */
cl_status collate_rejected_entry_id(const collate_type *type, const json_value *entry,
                                   int64_t user_id, const char *device_id,
                                   collate_scratch *scratch, char hex[33], int *has_id);

/* Turn a row (as read back from Parquet) into its deletion marker:
 * is_deleted = true and row_hash recomputed from the row's own values. */
cl_status collate_row_mark_deleted(const collate_type *type, collate_row *row,
                                   collate_scratch *scratch);

/* The legacy row_hash of a row from its own cell values, stringified as the
 * legacy saw them read back from Parquet (STRING cells as text, INT64 as
 * decimal, TIMESTAMP as Python str(datetime), BOOL as True/False; a NULL
 * dropped or "None" per field). hex gets 32 lower-case characters and a NUL. */
cl_status collate_row_hash(const collate_type *type, const collate_row *row,
                           collate_scratch *scratch, char hex[33]);

/* The sms future-timestamp rule (legacy §3.5 step 2) on one row: datetime
 * = ts_updated when it is later. id and row_hash keep the original; a null
 * datetime is left alone (design.md item 10). No-op for other types. */
void collate_row_clamp_future(const collate_type *type, collate_row *row);

/* The legacy batch date of ts_updated: quarter start before 2016-01-01,
 * month start before 2017-07-01, else the day. dst gets "YYYY-MM-DD". */
void collate_batch_date(int64_t ts_updated_micros, char dst[11]);

/* The device's txt (legacy §5, design.md item 9), built incrementally: add
 * every history row in file order (old rows, then new ones), then finish.
 * The latest row of each id wins; app and contacts keep this device's ids
 * whose latest row is not deleted, sms and call keep every device's rows.
 * sms rows should already have collate_row_clamp_future applied (the txt
 * shows the clamped datetime). The txt keeps its own copies of what it
 * needs, so rows may point into a scratch that is reset between calls.
 * Memory: sms and call rows are sorted in runs spilled to an unlinked temp
 * file under $TMPDIR and merged, so they cost the run budget, about 1.4
 * bytes per row (one key in 32, to cut the merge into ranges) and 24 bytes
 * per id whose datetime was clamped; app and contacts cost 24 bytes per id
 * and this device's rendered rows. */
typedef struct collate_txt collate_txt;
collate_txt *collate_txt_create(const collate_type *type, const char *device_id);
/* A hint: about this many rows will be added (room for the ids of app and
 * contacts now, not by growing). */
void collate_txt_reserve(collate_txt *txt, uint64_t rows);
/* Memory for rendered sms and call rows before they are sorted and spilled
 * to a temp file as a run (default 4 MB); the txt is the same whatever the
 * value, a smaller one costs more runs to merge. */
void collate_txt_set_run_bytes(collate_txt *txt, size_t bytes);
cl_status collate_txt_add_row(collate_txt *txt, const collate_row *row, cl_error *err);
/* Rows rendered ahead of being added, in two steps that can run on two
 * threads: collate_txt_batch_render reads only what collate_txt_create
 * set, so one thread may render a batch while another adds rows or a batch
 * to the same txt; collate_txt_add_batch adds the batch's rows in order,
 * as collate_txt_add_row would have, and empties it. The rows' text is
 * copied: they may go away after rendering. */
typedef struct collate_txt_batch collate_txt_batch;
collate_txt_batch *collate_txt_batch_create(void);
void collate_txt_batch_free(collate_txt_batch *batch); /* accepts NULL */
cl_status collate_txt_batch_render(const collate_txt *txt, collate_txt_batch *batch,
                                   const collate_row *row, cl_error *err);
cl_status collate_txt_add_batch(collate_txt *txt, collate_txt_batch *batch, cl_error *err);
/* The columns (bit i = type column i) the txt reads from a row; the others
 * may be left null, so a reader can skip decoding them. */
uint32_t collate_txt_columns(const collate_txt *txt);
/* Appends the JSON array text (json.dumps formatting, no newline) to out. */
cl_status collate_txt_finish(collate_txt *txt, buf *out, cl_error *err);
/* The same text written to sink in pieces, so a txt of hundreds of MB is
 * never held whole (write_txt streams it to a temp file). helper (may be
 * NULL) is an idle worker thread this call may use until it returns: an sms
 * or call txt of several runs is then merged on both threads, in ranges of
 * a quarter of run_bytes, one held in memory by each. */
cl_status collate_txt_finish_to(collate_txt *txt, stream_sink sink, worker *helper,
                                cl_error *err);
void collate_txt_free(collate_txt *txt);

#endif

/*
 * thrift: the Thrift compact protocol, as far as the Parquet footer and page
 * headers need it.
 *
 * The decoder is a bounds-checked cursor over a byte range: every read checks
 * the remaining length, unknown fields are skipped (so files from newer
 * writers open), and nesting is capped so a hostile footer cannot recurse the
 * stack away. Errors are sticky: after the first failure every read returns
 * zero and thrift_reader_status() reports the failure, so struct decoders can
 * read a field and check once. The encoder appends to a core/buf and tracks
 * the last field id per nesting level for the compact delta encoding.
 */
#ifndef COLLATOR_PARQUET_THRIFT_H
#define COLLATOR_PARQUET_THRIFT_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"

enum {
  THRIFT_STOP = 0,
  THRIFT_TRUE = 1,
  THRIFT_FALSE = 2,
  THRIFT_BYTE = 3,
  THRIFT_I16 = 4,
  THRIFT_I32 = 5,
  THRIFT_I64 = 6,
  THRIFT_DOUBLE = 7,
  THRIFT_BINARY = 8,
  THRIFT_LIST = 9,
  THRIFT_SET = 10,
  THRIFT_MAP = 11,
  THRIFT_STRUCT = 12
};

#define THRIFT_MAX_DEPTH 32

typedef struct thrift_reader {
  const uint8_t *pos;
  const uint8_t *end;
  int depth;
  int16_t last_field[THRIFT_MAX_DEPTH];
  cl_status failed;
  const char *what; /* first failure, a static string */
} thrift_reader;

void thrift_reader_init(thrift_reader *r, const void *data, size_t len);
cl_status thrift_reader_status(const thrift_reader *r);
/* Record a failure (the first one sticks); returns CL_ERR_FORMAT. */
cl_status thrift_reader_fail(thrift_reader *r, const char *what);

/* Struct framing: begin before the first field, end after THRIFT_STOP. */
void thrift_struct_begin(thrift_reader *r);
void thrift_struct_end(thrift_reader *r);
/* Next field header; returns 0 at THRIFT_STOP or on failure. A boolean
 * field's value is in the type (THRIFT_TRUE/THRIFT_FALSE): use
 * thrift_read_bool_field(). */
int thrift_next_field(thrift_reader *r, int16_t *id, int *type);

int64_t thrift_read_varint_zigzag(thrift_reader *r);
uint64_t thrift_read_varint(thrift_reader *r);
int32_t thrift_read_i32(thrift_reader *r, int type);
int64_t thrift_read_i64(thrift_reader *r, int type);
int thrift_read_bool_field(thrift_reader *r, int type);
/* A binary value borrowed from the input. */
const uint8_t *thrift_read_binary(thrift_reader *r, int type, uint32_t *len);
/* List header; the count is checked against the bytes left (every element
 * takes at least one byte, except booleans in a list which take one too). */
int thrift_read_list(thrift_reader *r, int type, int *elem_type, uint32_t *count);
/* Skip one value of the given type, nested structures included. */
void thrift_skip(thrift_reader *r, int type);

/* ---- encoder ---- */

typedef struct thrift_writer {
  buf *out;
  int depth;
  int16_t last_field[THRIFT_MAX_DEPTH];
} thrift_writer;

void thrift_writer_init(thrift_writer *w, buf *out);
void thrift_write_struct_begin(thrift_writer *w);
/* Writes THRIFT_STOP and leaves the struct. */
void thrift_write_struct_end(thrift_writer *w);
void thrift_write_field(thrift_writer *w, int16_t id, int type);
void thrift_write_i32_field(thrift_writer *w, int16_t id, int32_t value);
void thrift_write_i64_field(thrift_writer *w, int16_t id, int64_t value);
void thrift_write_byte_field(thrift_writer *w, int16_t id, int8_t value);
void thrift_write_bool_field(thrift_writer *w, int16_t id, int value);
void thrift_write_binary_field(thrift_writer *w, int16_t id, const void *data, size_t len);
/* An empty struct field (the Parquet unions' marker structs). */
void thrift_write_empty_struct_field(thrift_writer *w, int16_t id);
void thrift_write_list_begin(thrift_writer *w, int elem_type, uint32_t count);
void thrift_write_varint(thrift_writer *w, uint64_t value);
void thrift_write_zigzag(thrift_writer *w, int64_t value);
void thrift_write_binary(thrift_writer *w, const void *data, size_t len);

#endif

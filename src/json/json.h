/*
 * json: a streaming JSON reader with Python json.loads semantics, and a
 * writer with Python json.dumps formatting.
 *
 * Uploads can be a gigabyte, so the reader pulls bytes from a stream_source
 * and hands out the elements of the top-level array one at a time, each built
 * as a small tree in an arena that the caller resets between elements; memory
 * is bounded by the largest element, not the file. What it accepts is what
 * Python's json.loads(bytes) accepts (NaN/Infinity literals, big integers,
 * lone surrogate escapes, a UTF-8 BOM, UTF-16/32 input), because the legacy
 * collator's ids depend on those values. The writer reproduces json.dumps
 * defaults byte for byte (", " and ": " separators, ensure_ascii escapes with
 * surrogate pairs, key order as read), because Rails parses its output.
 */
#ifndef COLLATOR_JSON_JSON_H
#define COLLATOR_JSON_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/stream.h"

typedef struct json_limits {
  size_t max_depth;       /* nesting of arrays/objects, counting the top level */
  size_t max_string;      /* bytes of one decoded string or key */
  size_t max_value_bytes; /* arena bytes one element (or one json_parse) may use */
} json_limits;

/* Defaults: depth 64, strings 16 MiB, values 64 MiB. */
void json_limits_default(json_limits *limits);

typedef enum json_type {
  JSON_NULL,
  JSON_BOOL,
  JSON_INT,   /* a JSON number without fraction or exponent: a Python int */
  JSON_FLOAT, /* any other number, and NaN/Infinity/-Infinity: a Python float */
  JSON_STRING,
  JSON_ARRAY,
  JSON_OBJECT
} json_type;

typedef struct json_value json_value;

typedef struct json_member {
  const char *key; /* UTF-8, NUL-terminated */
  size_t key_len;
  json_value *value;
} json_member;

struct json_value {
  json_type type;
  union {
    int boolean;
    struct {
      int64_t value;     /* clamped to INT64_MIN/INT64_MAX when !fits */
      int fits;          /* 0 when the integer is outside int64 */
      const char *text;  /* Python str(): canonical decimal ("-0" reads as "0") */
      size_t text_len;
    } integer;
    struct {
      double value;      /* inf for overflow like float("1e400") */
      const char *text;  /* Python str(): "15.0", "1e+16", "inf", "nan" */
      size_t text_len;
    } number;
    struct {
      const char *data;   /* UTF-8, NUL-terminated (may contain NUL bytes) */
      size_t len;
      int lone_surrogate; /* a \uD800-\uDFFF escape without its pair; such a
                             code point is stored as its 3-byte WTF-8 form */
    } string;
    struct {
      json_value **items;
      size_t count;
    } array;
    struct {
      json_member *members; /* in first-seen order; a repeated key keeps its
                               first position and its last value, like a dict */
      size_t count;
    } object;
  } u;
};

/* Look up a member of an object by key (NULL when absent or not an object). */
const json_value *json_object_get(const json_value *object, const char *key);

/* Arena for parsed values: everything one element needs, freed at once.
 * limit caps the bytes handed out between resets (0: no cap); going over
 * fails the parse with CL_ERR_LIMIT. Reset keeps one block for reuse. */
typedef struct json_arena json_arena;
json_arena *json_arena_create(size_t limit);
void json_arena_reset(json_arena *arena);
void json_arena_free(json_arena *arena);

/* Parse a whole document (events, small files). limits may be NULL for the
 * defaults. Like json.loads(bytes), the encoding is detected (UTF-8 with or
 * without BOM, UTF-16/32) and malformed UTF-8 anywhere is reported as
 * Python's decoder would, before any syntax error. On failure *out is NULL
 * and the arena may hold partial allocations until its next reset. */
cl_status json_parse(const char *text, size_t len, const json_limits *limits,
                     json_arena *arena, json_value **out, cl_error *err);

/* Streaming reader over the elements of a top-level array. It reads the
 * source in 64 KiB chunks; its own memory is bounded by the limits (the
 * window grows only for a number longer than a chunk, up to max_string).
 * A failure mid-array leaves the elements already returned valid, but the
 * document as a whole is then invalid, as it was for json.loads. The process
 * must keep the C locale for LC_NUMERIC (strtod and printf are used). */
typedef struct json_reader json_reader;

/* NULL when out of memory; limits may be NULL for the defaults. */
json_reader *json_reader_create(stream_source source, const json_limits *limits);
void json_reader_free(json_reader *reader);
/* Consume the opening "[". When the document is not an array, fail with
 * CL_ERR_FORMAT saying what it is ("top-level value is an object"). */
cl_status json_reader_begin_array(json_reader *reader, cl_error *err);
/* The next element, built in arena. *item is NULL after the closing "]",
 * once the rest of the input is verified to be only whitespace. Syntax
 * errors are CL_ERR_FORMAT with the byte offset, like Python's messages
 * ("Expecting ',' delimiter: line 1 column 12 (char 11)"). */
cl_status json_reader_next(json_reader *reader, json_arena *arena, json_value **item,
                           cl_error *err);
/* Bytes of input consumed so far (after any decoding from UTF-16/32, and
 * not counting a UTF-8 byte order mark). Error messages' "char N" is this
 * offset, so it counts UTF-8 bytes where Python counts characters. */
uint64_t json_reader_offset(const json_reader *reader);

/* json.dumps(value) with default arguments. */
cl_status json_dumps(const json_value *value, buf *out);
/* A JSON string literal as json.dumps writes it (ensure_ascii=1) or with
 * non-ASCII kept as UTF-8 (ensure_ascii=0; invalid UTF-8 becomes U+FFFD).
 * A lone surrogate (3-byte WTF-8 form) is written as its \udXXX escape in
 * both modes; DEL is escaped only with ensure_ascii, as Python does. */
cl_status json_write_string(buf *out, const char *utf8, size_t len, int ensure_ascii);
/* Python repr()/str() of a float: shortest round-trip digits, "15.0",
 * "1e-05", "1e+16", "inf", "-inf", "nan". Returns the length; dst needs 32 bytes. */
size_t json_format_python_float(double value, char *dst, size_t cap);
/* A float as json.dumps writes it: like the above but NaN, Infinity, -Infinity. */
cl_status json_write_float(buf *out, double value);

#endif

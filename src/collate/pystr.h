/*
 * pystr: the few Python 3.10 semantics the legacy ids depend on, over
 * json_value trees: str() and repr() of JSON-born values, int(), and the
 * legacy parse_datetime (datetime.fromtimestamp in UTC, with CPython's
 * rounding and its exact error classes). Internal to collate: logtype.c
 * builds ids and row hashes from these, and the unit tests pin them down.
 *
 * Errors here are Python's, not the project's: a legacy ValueError or
 * TypeError decides whether an entry is rejected or a field becomes None, so
 * they are returned as values (pyint_status, pydt_status), never cl_fail'ed.
 */
#ifndef COLLATOR_COLLATE_PYSTR_H
#define COLLATOR_COLLATE_PYSTR_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "json/json.h"

/* A Python-level value: what the legacy code held in a row dict. */
typedef enum pyval_type {
  PY_NONE,
  PY_BOOL,     /* i: 0/1 */
  PY_INT,      /* i when fits; s/len: canonical decimal when it does not */
  PY_FLOAT,    /* f */
  PY_STR,      /* s/len: UTF-8 (WTF-8 when it holds a lone surrogate) */
  PY_BYTES,    /* s/len */
  PY_DATETIME, /* i: microseconds since the epoch, naive UTC */
  PY_JSON      /* json: a list or dict, str() is its repr */
} pyval_type;

typedef struct pyval {
  pyval_type type;
  int fits;              /* PY_INT: i is the value; otherwise s holds the digits */
  int64_t i;
  double f;
  const char *s;
  size_t len;
  const json_value *json;
} pyval;

/* The Python value of a JSON value; NULL (an absent key) and null are None. */
void pyval_from_json(const json_value *value, pyval *out);

/* Append Python str(value). Strings are appended as is, list/dict as repr. */
cl_status pystr_append(buf *out, const pyval *value);
/* Append Python repr() of a JSON value ('single' quotes, True/False/None). */
cl_status pyrepr_append_json(buf *out, const json_value *value);

typedef enum pyint_status {
  PYINT_OK,
  PYINT_VALUE_ERROR,    /* int("x"), int(nan) */
  PYINT_TYPE_ERROR,     /* int(None), int([]) */
  PYINT_OVERFLOW_ERROR  /* int(inf) */
} pyint_status;

/* Python int(value). A result outside int64 is returned with fits = 0 and
 * its canonical decimal digits appended to digits (out->s points there, so
 * digits must not move until the value is used). */
pyint_status pyint(const pyval *value, buf *digits, pyval *out);

typedef enum pydt_status {
  PYDT_OK,     /* *micros holds the datetime */
  PYDT_NONE,   /* legacy ValueError: parse_datetime returned None */
  PYDT_CRASH   /* TypeError, OverflowError, OSError: legacy failed the upload */
} pydt_status;

/* The legacy parse_datetime(raw): milliseconds when len(str(raw)) > 10,
 * else seconds, then datetime.fromtimestamp with TZ=UTC. */
pydt_status pydatetime_parse(const pyval *raw, int64_t *micros);

#endif

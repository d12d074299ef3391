/*
 * parquet_values: how `collator cat` and `collator schema` spell Parquet
 * values, so JSON lines, CSV, the table and the statistics agree.
 *
 * A value is read from a decoded column vector (or from the plain-encoded
 * min/max of the footer statistics) and written either as JSON (integers
 * and finite floats as numbers, "NaN"/"Infinity"/"-Infinity" as strings,
 * binary that is not UTF-8 as {"base64": "..."}) or as plain text for CSV
 * and tables (NaN bare, binary that is not UTF-8 as "base64:..."; null is
 * empty). Timestamps are UTC "YYYY-MM-DD HH:MM:SS" with a 6-digit fraction
 * when it is non-zero, 9 digits only when a nanosecond column has a
 * sub-microsecond part; floats use the shortest digits that round-trip.
 */
#ifndef COLLATOR_CLI_PARQUET_VALUES_H
#define COLLATOR_CLI_PARQUET_VALUES_H

#include <stddef.h>

#include "core/buf.h"
#include "parquet/parquet.h"

typedef enum parquet_value_style {
  PARQUET_VALUE_JSON,
  PARQUET_VALUE_TEXT
} parquet_value_style;

/* Append row `row` of vector (a column of `column`'s type) to out. */
cl_status parquet_value_append(buf *out, parquet_value_style style,
                               const parquet_column_schema *column,
                               const parquet_column_vector *vector, size_t row);

/* Append a plain-encoded statistics value (min or max) as text: strings
 * quoted as JSON, bytes that are not UTF-8 or do not fit the column's
 * physical type as 0x-prefixed hex. */
cl_status parquet_value_append_plain(buf *out, const parquet_column_schema *column,
                                     parquet_bytes plain);

/* "STRING", "TIMESTAMP(MICROS,UTC)", "INT(16,signed)", "DATE", "NULL", ... or "" */
void parquet_value_logical_name(const parquet_column_schema *column, char *dst, size_t cap);

/* 1 when the bytes are well-formed UTF-8 (no overlongs, no surrogates). */
int parquet_value_is_utf8(const uint8_t *data, size_t len);

#endif

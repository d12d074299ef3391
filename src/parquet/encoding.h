/*
 * encoding: Parquet value and level encodings.
 *
 * Decoders take a byte range and a value count the caller has already
 * bounded, check every read against the range, and report malformed input
 * with a short static reason (the caller adds file, column and page). They
 * write compact arrays of non-null values in the reader's layout (BOOLEAN as
 * one byte per value, BYTE_ARRAY as parquet_bytes pointing into the input or
 * into a heap the decoder allocates). Encoders append to a core/buf.
 */
#ifndef COLLATOR_PARQUET_ENCODING_H
#define COLLATOR_PARQUET_ENCODING_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "parquet/parquet.h"

/* Bits needed for values up to max_value (0 for 0). */
int pq_bit_width(uint64_t max_value);

/* ---- RLE / bit-packed hybrid ---- */

typedef struct pq_rle_decoder {
  const uint8_t *pos, *end;
  int bit_width;
  int packed;              /* current run is bit-packed */
  uint64_t remaining;      /* values left in the current run */
  uint32_t value;          /* RLE run value */
  const uint8_t *run;      /* bit-packed run data */
  size_t run_len;
  uint64_t run_bit;        /* next bit in the bit-packed run */
} pq_rle_decoder;

void pq_rle_init(pq_rle_decoder *d, const uint8_t *data, size_t len, int bit_width);
/* Decode exactly n values; NULL on success, else the reason. */
const char *pq_rle_decode(pq_rle_decoder *d, uint32_t *out, size_t n);
/* Decode n levels (each <= max_level) as bytes. */
const char *pq_rle_decode_levels(pq_rle_decoder *d, uint8_t *out, size_t n, int max_level);
/* Append the hybrid encoding of values (each < 2^bit_width) without a length prefix. */
void pq_rle_encode(buf *out, const uint32_t *values, size_t n, int bit_width);
/* The same for bytes (definition levels). */
void pq_rle_encode_levels(buf *out, const uint8_t *levels, size_t n, int bit_width);
/* Append one RLE run of n (> 0) copies of value: what the encoders above
 * produce for n equal values, without an array to scan. */
void pq_rle_encode_run(buf *out, uint32_t value, size_t n, int bit_width);

/* ---- PLAIN ---- */

/* Bytes one value takes in PLAIN, 0 for BYTE_ARRAY (variable) and BOOLEAN (bits). */
size_t pq_plain_width(parquet_physical_type type, int32_t type_length);
/* Decode n values into out (the element type of the column vector union);
 * *used is the number of input bytes consumed. */
const char *pq_plain_decode(parquet_physical_type type, int32_t type_length,
                            const uint8_t *data, size_t len, size_t n, void *out, size_t *used);
/* Append the non-null values of rows [begin, end) of vector, or when rows is
 * not NULL the values of those n row indexes. */
void pq_plain_encode(buf *out, parquet_physical_type type, int32_t type_length,
                     const parquet_column_vector *vector, size_t begin, size_t end,
                     const uint32_t *rows, size_t n);

/* ---- DELTA_* and BYTE_STREAM_SPLIT ---- */

/* INT32 (is64 = 0, out int32_t[]) or INT64 (out int64_t[]). The stream must
 * hold at least n values; *used ends after the last miniblock read. */
const char *pq_delta_binary_decode(const uint8_t *data, size_t len, size_t n, int is64,
                                   void *out, size_t *used);
/* Append DELTA_BINARY_PACKED for n int64 values (block 128, 4 miniblocks). */
void pq_delta_binary_encode(buf *out, const int64_t *values, size_t n);
/* Values point into data. */
const char *pq_delta_length_decode(const uint8_t *data, size_t len, size_t n,
                                   parquet_bytes *out, size_t *used);
/* Values point into *heap, which the caller frees with free(). Shared
 * prefixes let a small page expand enormously, so the decoded bytes are
 * capped at limit. */
const char *pq_delta_byte_array_decode(const uint8_t *data, size_t len, size_t n,
                                       uint64_t limit, parquet_bytes *out, uint8_t **heap);
/* width bytes per value; for FIXED_LEN_BYTE_ARRAY out is a byte array of
 * n * width that the caller points parquet_bytes into. */
const char *pq_byte_stream_split_decode(const uint8_t *data, size_t len, size_t n,
                                        size_t width, uint8_t *out);

#endif

/*
 * metadata: the Parquet footer (FileMetaData and everything under it) and
 * page headers, decoded from and encoded to Thrift compact bytes.
 *
 * Decoding validates what later code relies on (counts, non-negative sizes,
 * known enum values where they matter) and keeps only the fields the reader,
 * the writer and the appender use; everything else is skipped. Decoded
 * strings are NUL-terminated copies owned by a pq_footer; binary statistics
 * borrow the footer bytes, which the footer keeps. Encoding writes the same
 * structures, so an appended file re-emits copied column chunks faithfully.
 */
#ifndef COLLATOR_PARQUET_METADATA_H
#define COLLATOR_PARQUET_METADATA_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"
#include "parquet/parquet.h"

enum {
  PQ_ENC_PLAIN = 0,
  PQ_ENC_PLAIN_DICTIONARY = 2,
  PQ_ENC_RLE = 3,
  PQ_ENC_BIT_PACKED = 4,
  PQ_ENC_DELTA_BINARY_PACKED = 5,
  PQ_ENC_DELTA_LENGTH_BYTE_ARRAY = 6,
  PQ_ENC_DELTA_BYTE_ARRAY = 7,
  PQ_ENC_RLE_DICTIONARY = 8,
  PQ_ENC_BYTE_STREAM_SPLIT = 9
};

enum {
  PQ_PAGE_DATA = 0,
  PQ_PAGE_INDEX = 1,
  PQ_PAGE_DICTIONARY = 2,
  PQ_PAGE_DATA_V2 = 3
};

enum { PQ_REQUIRED = 0, PQ_OPTIONAL = 1, PQ_REPEATED = 2 };

/* ConvertedType values from parquet.thrift. */
enum {
  PQ_CT_UTF8 = 0,
  PQ_CT_DATE = 6,
  PQ_CT_TIMESTAMP_MILLIS = 9,
  PQ_CT_TIMESTAMP_MICROS = 10,
  PQ_CT_UINT_8 = 11,
  PQ_CT_INT_8 = 15,
  PQ_CT_INT_64 = 18,
  /* Not in parquet.thrift: early parquet-cpp wrote its internal "NA" value
   * for all-null columns. */
  PQ_CT_ARROW_NA = 25
};

/* LogicalType union members from parquet.thrift. */
enum {
  PQ_LT_NONE = 0,
  PQ_LT_STRING = 1,
  PQ_LT_DATE = 6,
  PQ_LT_TIMESTAMP = 8,
  PQ_LT_INTEGER = 10,
  PQ_LT_UNKNOWN = 11
};

typedef struct pq_schema_element {
  char *name;
  int has_type;
  int32_t type;
  int32_t type_length;
  int has_repetition;
  int32_t repetition;
  int32_t num_children;
  int has_converted;
  int32_t converted;
  int logical;            /* PQ_LT_*, or another member id, 0 when absent */
  int ts_utc;             /* TIMESTAMP */
  int ts_unit;            /* parquet_time_unit */
  int int_bits, int_signed; /* INTEGER */
} pq_schema_element;

typedef struct pq_chunk_meta {
  int32_t type;
  uint32_t encodings;       /* bit per encoding */
  parquet_codec codec;
  int64_t num_values;
  int64_t total_uncompressed_size;
  int64_t total_compressed_size;
  int64_t data_page_offset;
  int has_dictionary_page_offset;
  int64_t dictionary_page_offset;
  int has_statistics;
  int legacy_min_max;       /* min/max came from the deprecated fields 1/2 */
  parquet_statistics statistics;
  char **path;              /* path_in_schema */
  uint32_t path_count;
  int64_t file_offset;      /* ColumnChunk.file_offset */
  int has_file_path;        /* data in another file: unsupported */
} pq_chunk_meta;

typedef struct pq_row_group {
  pq_chunk_meta *columns;
  uint32_t column_count;
  int64_t total_byte_size;
  int64_t num_rows;
  int has_file_offset;
  int64_t file_offset;
  int has_total_compressed_size;
  int64_t total_compressed_size;
} pq_row_group;

/* Every allocation of a decoded footer, freed together. */
typedef struct pq_arena_block pq_arena_block;

typedef struct pq_footer {
  int32_t version;
  pq_schema_element *schema;
  uint32_t schema_count;
  int64_t num_rows;
  pq_row_group *row_groups;
  uint32_t row_group_count;
  parquet_key_value *metadata;
  uint32_t metadata_count;
  char *created_by;
  int encrypted;
  pq_arena_block *arena;
} pq_footer;

/* Decode a footer; binary statistics borrow data, which must outlive it.
 * Its structures may take at most max_memory bytes (CL_ERR_LIMIT). */
cl_status pq_footer_decode(const uint8_t *data, size_t len, uint64_t max_memory, pq_footer *out,
                           cl_error *err);
void pq_footer_free(pq_footer *footer);

typedef struct pq_page_header {
  int32_t type;
  int32_t uncompressed_size;
  int32_t compressed_size;
  int32_t num_values;
  int32_t encoding;
  int32_t def_encoding;
  /* v2 */
  int32_t num_nulls;
  int32_t num_rows;
  int32_t def_length;
  int32_t rep_length;
  int is_compressed;
} pq_page_header;

/* Decode one page header at data; *used is its length in bytes. */
cl_status pq_page_header_decode(const uint8_t *data, size_t len, pq_page_header *out,
                                size_t *used, cl_error *err);
void pq_page_header_encode(buf *out, const pq_page_header *header);

/* ---- footer encoding: the writer builds these descriptions ---- */

typedef struct pq_chunk_out {
  int32_t type;
  uint32_t encodings;
  parquet_codec codec;
  const char *name;           /* path_in_schema of a flat column */
  int64_t num_values;
  int64_t total_uncompressed_size;
  int64_t total_compressed_size;
  int64_t data_page_offset;
  int64_t dictionary_page_offset; /* -1 when absent */
  int has_statistics;
  int legacy_min_max;
  parquet_statistics statistics;
  uint8_t *stats_storage;     /* owned copy of min/max bytes, may be NULL */
} pq_chunk_out;

typedef struct pq_row_group_out {
  pq_chunk_out *columns;
  int64_t num_rows;
  int64_t total_byte_size;
  int64_t file_offset;
  int64_t total_compressed_size;
} pq_row_group_out;

void pq_footer_encode(buf *out, const parquet_schema *schema, const pq_row_group_out *groups,
                      size_t group_count, const parquet_key_value *metadata,
                      size_t metadata_count, const char *created_by);

#endif

/*
 * parquet: reader and writer for flat Parquet files.
 *
 * No C Parquet library exists in Debian, so this module implements what the
 * collator needs of apache/parquet-format: the Thrift compact footer,
 * PLAIN/dictionary/RLE/delta/byte-stream-split encodings, data pages v1 and
 * v2, and the snappy, gzip, zstd and lz4_raw codecs. Values travel as column
 * vectors: for one row group, one dense array per column indexed by row, with
 * a defined[] flag per row for nulls. Values are physical (INT96 stays 12
 * bytes, a TIMESTAMP(MILLIS) column stays milliseconds); the helpers at the end
 * convert timestamps. Appending copies existing row groups byte for byte and
 * rewrites only the footer, so updating a large history does not re-encode it.
 */
#ifndef COLLATOR_PARQUET_PARQUET_H
#define COLLATOR_PARQUET_PARQUET_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/stream.h"

/* Values match the Thrift enums of parquet.thrift. */
typedef enum parquet_physical_type {
  PARQUET_BOOLEAN = 0,
  PARQUET_INT32 = 1,
  PARQUET_INT64 = 2,
  PARQUET_INT96 = 3,
  PARQUET_FLOAT = 4,
  PARQUET_DOUBLE = 5,
  PARQUET_BYTE_ARRAY = 6,
  PARQUET_FIXED_LEN_BYTE_ARRAY = 7
} parquet_physical_type;

typedef enum parquet_logical_kind {
  PARQUET_LOGICAL_NONE,      /* plain physical values (BYTE_ARRAY = binary) */
  PARQUET_LOGICAL_STRING,    /* UTF-8 BYTE_ARRAY */
  PARQUET_LOGICAL_TIMESTAMP, /* INT64 with unit, or INT96 (always nanoseconds) */
  PARQUET_LOGICAL_INTEGER,   /* INT32/INT64 with bit width and signedness */
  PARQUET_LOGICAL_DATE,      /* INT32 days since 1970-01-01 */
  PARQUET_LOGICAL_NULL,      /* always null (pyarrow's null type: INT32, all null) */
  PARQUET_LOGICAL_OTHER      /* an annotation we pass through but do not interpret */
} parquet_logical_kind;

typedef enum parquet_time_unit {
  PARQUET_MILLIS,
  PARQUET_MICROS,
  PARQUET_NANOS
} parquet_time_unit;

typedef enum parquet_codec {
  PARQUET_CODEC_NONE = 0,
  PARQUET_CODEC_SNAPPY = 1,
  PARQUET_CODEC_GZIP = 2,
  PARQUET_CODEC_LZO = 3,
  PARQUET_CODEC_BROTLI = 4,
  PARQUET_CODEC_LZ4 = 5,
  PARQUET_CODEC_ZSTD = 6,
  PARQUET_CODEC_LZ4_RAW = 7
} parquet_codec;

typedef struct parquet_column_schema {
  char *name;
  parquet_physical_type physical;
  int32_t type_length;      /* FIXED_LEN_BYTE_ARRAY only */
  parquet_logical_kind logical;
  parquet_time_unit unit;   /* TIMESTAMP */
  int utc_adjusted;         /* TIMESTAMP isAdjustedToUTC */
  int bit_width;            /* INTEGER: 8, 16, 32, 64 */
  int is_signed;            /* INTEGER */
  int optional;             /* 1 OPTIONAL, 0 REQUIRED */
  int nested;               /* reader only: part of a group/repeated field we do not read */
} parquet_column_schema;

typedef struct parquet_schema {
  size_t column_count;
  parquet_column_schema *columns;
} parquet_schema;

typedef struct parquet_bytes {
  const uint8_t *data;
  uint32_t len;
} parquet_bytes;

/* INT96 as stored: 8 bytes of nanoseconds within the day, then 4 bytes of
 * Julian day number, both little-endian. */
typedef struct parquet_int96 {
  uint8_t bytes[12];
} parquet_int96;

/* One column of one row group, dense by row. When the reader fills a vector
 * it owns the arrays (and the bytes values point into); release them with
 * parquet_column_vector_free(). A vector the caller fills for the writer
 * has storage == NULL and is only borrowed by the writer. */
typedef struct parquet_column_vector {
  size_t count;
  uint8_t *defined; /* count flags, 1 = non-null; NULL means every row is non-null */
  union {
    uint8_t *boolean;
    int32_t *i32;
    int64_t *i64;
    float *f32;
    double *f64;
    parquet_int96 *i96;
    parquet_bytes *bytes; /* BYTE_ARRAY and FIXED_LEN_BYTE_ARRAY */
  } values;               /* count entries; entries of null rows are ignored */
  void *storage;          /* reader-owned memory; NULL for caller-filled vectors */
} parquet_column_vector;

void parquet_column_vector_free(parquet_column_vector *vector);

/* ---- writer ---------------------------------------------------------- */

typedef struct parquet_key_value {
  const char *key;
  const char *value;
} parquet_key_value;

typedef struct parquet_writer_options {
  parquet_codec codec;           /* default SNAPPY; NONE, GZIP, ZSTD also written */
  int compression_level;         /* 0 = the codec's default */
  size_t page_size;              /* target bytes of one data page before encoding; default 1 MiB */
  size_t dictionary_page_limit;  /* a column falls back to PLAIN past this; default 1 MiB */
  int dictionary;                /* try dictionary encoding; default 1 */
  int statistics;                /* write min/max/null_count; default 1. A min or max
                                  * over PARQUET_STATISTICS_MAX_VALUE_BYTES is left out
                                  * (so is a copied one): one long string in every row
                                  * group would otherwise grow the footer without bound */
  const char *created_by;        /* default "collator version X (build Y)" */
  const parquet_key_value *metadata; /* file key-value metadata, borrowed */
  size_t metadata_count;
} parquet_writer_options;

void parquet_writer_options_default(parquet_writer_options *options);

/* Arrow's default cap on a statistics value too. */
#define PARQUET_STATISTICS_MAX_VALUE_BYTES 4096

typedef struct parquet_writer parquet_writer;
typedef struct parquet_reader parquet_reader;

/* Starts the file (writes "PAR1"). The schema is copied. */
cl_status parquet_writer_create(stream_sink sink, const parquet_schema *schema,
                                const parquet_writer_options *options,
                                parquet_writer **out, cl_error *err);
/* Encode one row group from one vector per schema column. Each vector
 * holds row_count values (a null-typed column's vector is ignored: it is
 * written all null). A row_count of 0 adds nothing. */
cl_status parquet_writer_add_row_group(parquet_writer *writer, size_t row_count,
                                       const parquet_column_vector *columns, cl_error *err);
/* Copy row groups [first, first + count) of an open file byte for byte and
 * reference them from the new footer with rewritten offsets. The source's
 * schema must equal the writer's (CL_ERR_USAGE otherwise). */
cl_status parquet_writer_copy_row_groups(parquet_writer *writer, parquet_reader *source,
                                         size_t first, size_t count, cl_error *err);
/* Compaction: re-encode row groups [first, first + count) of source into
 * writer, merging consecutive row groups until each new one holds at least
 * target_rows rows (the last may hold fewer). Unlike copying, this decodes
 * and re-encodes, so the output uses the writer's codec and options. The
 * schemas must be equal (CL_ERR_USAGE otherwise). Memory is bounded by the
 * decoded size of one output row group. */
cl_status parquet_rewrite(parquet_reader *source, size_t first, size_t count,
                          parquet_writer *writer, size_t target_rows, cl_error *err);
/* Write the footer. The writer must still be freed. */
cl_status parquet_writer_finish(parquet_writer *writer, cl_error *err);
void parquet_writer_free(parquet_writer *writer);
uint64_t parquet_writer_bytes_written(const parquet_writer *writer);

/* ---- reader ---------------------------------------------------------- */

typedef struct parquet_reader_options {
  uint64_t max_footer_bytes;    /* default 64 MiB */
  uint64_t max_page_bytes;      /* one page, compressed or not; default 256 MiB */
  /* Rows one parquet_reader_read_column() may return; default 2^27. */
  uint64_t max_column_values;
  /* Memory that decoding the footer, or one parquet_reader_read_column(),
   * may allocate: max_read_bytes + max_read_bytes_per_file_byte x the
   * file's size; default 64 MiB + 16x. A run of nulls or of one dictionary
   * index, or a compressed page of zeros, takes a few bytes of the file for
   * any number of values, and a footer structure of ~200 bytes takes five,
   * so a bound that does not grow with the input would refuse real files
   * and one that ignores the input lets a 100-byte file take gigabytes. */
  uint64_t max_read_bytes;
  uint64_t max_read_bytes_per_file_byte;
} parquet_reader_options;

void parquet_reader_options_default(parquet_reader_options *options);

/* Statistics and layout, for `collator schema` and for tests. */
typedef struct parquet_statistics {
  int has_min_max;
  parquet_bytes min_value, max_value; /* plain-encoded, as in the footer */
  int has_null_count;
  int64_t null_count;
  int has_distinct_count;
  int64_t distinct_count;
} parquet_statistics;

typedef struct parquet_column_chunk_info {
  parquet_codec codec;
  uint32_t encodings;            /* bit (1 << encoding) for each encoding listed */
  int64_t value_count;
  int64_t total_compressed_size;
  int64_t total_uncompressed_size;
  int64_t data_page_offset;
  int64_t dictionary_page_offset; /* -1 when absent */
  parquet_statistics statistics;
} parquet_column_chunk_info;

typedef struct parquet_row_group_info {
  int64_t row_count;
  int64_t total_byte_size;
  int64_t file_offset;           /* first byte of the row group's pages */
  int64_t compressed_size;       /* bytes from file_offset the pages span */
  parquet_column_chunk_info *columns; /* one per schema column */
} parquet_row_group_info;

typedef struct parquet_file_info {
  int32_t version;
  int64_t row_count;
  const char *created_by;        /* NULL when absent */
  size_t row_group_count;
  const parquet_row_group_info *row_groups;
  size_t metadata_count;
  const parquet_key_value *metadata;
  uint64_t footer_length;
} parquet_file_info;

/* Open a file: reads and validates the footer. The stream_file is borrowed
 * and must outlive the reader. Every failure names file->name. */
cl_status parquet_reader_open(stream_file file, const parquet_reader_options *options,
                              parquet_reader **out, cl_error *err);
void parquet_reader_free(parquet_reader *reader);

const parquet_schema *parquet_reader_schema(const parquet_reader *reader);
const parquet_file_info *parquet_reader_info(const parquet_reader *reader);
/* Index of a top-level flat column by name, or -1. */
int parquet_reader_find_column(const parquet_reader *reader, const char *name);
/* Decode one column of one row group into out (which the caller frees with
 * parquet_column_vector_free). Nested columns fail with CL_ERR_UNSUPPORTED
 * naming the column. */
cl_status parquet_reader_read_column(parquet_reader *reader, size_t row_group, size_t column,
                                     parquet_column_vector *out, cl_error *err);

/* ---- values ---------------------------------------------------------- */

parquet_int96 parquet_int96_from_nanos(int64_t nanos_since_epoch);
/* Nanoseconds since the epoch; saturates outside int64. */
int64_t parquet_int96_to_nanos(parquet_int96 value);
/* A timestamp column's value (INT96 or INT64 in any unit) in microseconds,
 * truncated toward negative infinity like pandas-to-datetime does. */
int64_t parquet_timestamp_micros(const parquet_column_schema *column,
                                 const parquet_column_vector *vector, size_t row);

const char *parquet_codec_name(parquet_codec codec);
const char *parquet_physical_type_name(parquet_physical_type type);
/* Parse "snappy", "zstd", "gzip", "none"/"uncompressed". */
cl_status parquet_codec_from_name(const char *name, parquet_codec *codec, cl_error *err);

#endif

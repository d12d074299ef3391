/*
 * internal: what the writer needs from an open reader (the decoded footer
 * and the file) to copy row groups byte for byte, and the column vector
 * storage the reader hands out. Not part of the public contract.
 */
#ifndef COLLATOR_PARQUET_INTERNAL_H
#define COLLATOR_PARQUET_INTERNAL_H

#include "parquet/metadata.h"
#include "parquet/parquet.h"

const pq_footer *pq_reader_footer(const parquet_reader *reader);
const stream_file *pq_reader_file(const parquet_reader *reader);
/* Byte range of a column chunk's pages, checked against the file. */
cl_status pq_reader_chunk_range(const parquet_reader *reader, size_t row_group, size_t column,
                                uint64_t *start, uint64_t *len, cl_error *err);

/* Size of one entry of a vector's values array for a physical type. */
size_t pq_value_size(parquet_physical_type type);

#endif

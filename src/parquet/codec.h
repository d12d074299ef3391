/*
 * codec: page compression. Decompression produces exactly the size the page
 * header announces (anything else is a malformed page); compression appends
 * to a core/buf. Wraps snappy, zlib (gzip, also concatenated members), zstd
 * and lz4 (raw blocks, and the deprecated Hadoop-framed LZ4 codec).
 */
#ifndef COLLATOR_PARQUET_CODEC_H
#define COLLATOR_PARQUET_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"
#include "parquet/parquet.h"

/* Decompress src into dst, which holds exactly dst_len bytes. */
cl_status pq_decompress(parquet_codec codec, const uint8_t *src, size_t src_len, uint8_t *dst,
                        size_t dst_len, cl_error *err);
/* Append the compressed form of src; NONE copies. */
cl_status pq_compress(parquet_codec codec, int level, const uint8_t *src, size_t src_len,
                      buf *out, cl_error *err);
/* NONE, SNAPPY, GZIP and ZSTD. */
int pq_codec_writable(parquet_codec codec);

#endif

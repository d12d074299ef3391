/*
 * upload: the raw bytes of an upload as a stream the JSON reader pulls from.
 *
 * The legacy gunzipped the body when it started with the gzip magic and used
 * it as is otherwise; this does the same while streaming, so a gigabyte
 * upload is never held whole. Multi-member gzip and zero padding after a
 * member are accepted (Python's gzip.decompress does), and so are reserved
 * header flag bits (Python ignored them); a truncated member, a bad header
 * CRC, CRC-32 or length, or junk after a member are CL_ERR_FORMAT. ISA-L
 * inflates, ~2.7x faster than zlib (README "Benchmarks"); whatever zlib
 * decodes it decodes to the same bytes (fuzz/gunzip_fuzz.c). Decompressed
 * bytes are counted against a limit so that a gzip bomb stops with
 * CL_ERR_LIMIT. Both are permanent input errors.
 */
#ifndef COLLATOR_COLLATE_UPLOAD_H
#define COLLATOR_COLLATE_UPLOAD_H

#include <stdint.h>

#include "core/error.h"
#include "core/stream.h"

typedef struct upload_source upload_source;

/* raw is borrowed and must outlive the upload_source. max_bytes limits the
 * bytes handed out (after decompression); 0 means no limit. */
cl_status upload_source_create(stream_source raw, uint64_t max_bytes, upload_source **out,
                               cl_error *err);
void upload_source_free(upload_source *upload);
stream_source upload_source_stream(upload_source *upload);
int upload_source_is_gzip(const upload_source *upload);
uint64_t upload_source_bytes_in(const upload_source *upload);  /* raw bytes read */
uint64_t upload_source_bytes_out(const upload_source *upload); /* bytes handed out */

#endif

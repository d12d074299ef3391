/*
 * stream: the byte-stream interfaces that connect modules without coupling them.
 *
 * A stream_source hands out bytes on demand (an upload being read from the
 * store, a gunzip layer over it); the JSON reader pulls from one, so an upload
 * is never held whole. A stream_sink takes bytes (the Parquet writer writes
 * into one: a temp file, a buffer, a multipart upload). A stream_file gives
 * random access (the Parquet reader reads a footer, then column chunks).
 * Each is a function pointer and a context; the context's owner frees it.
 * A stream_buffer sits in front of a sink to turn many small writes into
 * few large ones.
 */
#ifndef COLLATOR_CORE_STREAM_H
#define COLLATOR_CORE_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"

typedef struct stream_source {
  /* Copy up to cap bytes into dst and set *got; *got == 0 means end of stream. */
  cl_status (*read)(void *ctx, void *dst, size_t cap, size_t *got, cl_error *err);
  void *ctx;
} stream_source;

typedef struct stream_sink {
  /* Take all len bytes or fail. */
  cl_status (*write)(void *ctx, const void *data, size_t len, cl_error *err);
  void *ctx;
} stream_sink;

typedef struct stream_file {
  /* Read exactly len bytes at offset into dst, or fail (short reads are
   * errors). The message does not name the file: the caller prefixes name. */
  cl_status (*read_at)(void *ctx, uint64_t offset, void *dst, size_t len, cl_error *err);
  void *ctx;
  uint64_t size;
  const char *name; /* for messages: a path or a store key */
} stream_file;

/* Adapters over memory and open file descriptors (borrowed, not closed). */
typedef struct stream_memory {
  const uint8_t *data;
  size_t len;
  size_t pos;
} stream_memory;

stream_source stream_source_from_memory(stream_memory *memory);
/* The same memory handed out at most step bytes a read (0: no limit), as a
 * network read may split it: for checking that a reader resumes anywhere. */
typedef struct stream_trickle {
  stream_memory memory;
  size_t step;
} stream_trickle;
stream_source stream_source_from_trickle(stream_trickle *trickle);
/* Random access over the same memory; memory->pos is not used. */
stream_file stream_file_from_memory(stream_memory *memory, const char *name);
stream_sink stream_sink_to_buf(buf *out);
/* fd is passed through the context pointer; name is used in messages.
 * writeback_every: when non-zero, each time that many more bytes have been
 * written the kernel is asked to start writing them to disk
 * (sync_file_range), so that the fsync of a large file that is about to be
 * stored finds most of it written while the writer was busy; written counts
 * from the file's offset 0. */
typedef struct stream_fd {
  int fd;
  const char *name;
  uint64_t written;
  uint64_t writeback_every;
  uint64_t writeback_started; /* bytes handed to writeback so far */
} stream_fd;
stream_source stream_source_from_fd(stream_fd *fd);
stream_sink stream_sink_to_fd(stream_fd *fd);
/* Appends bytes [0, size) of the file `from` to `to` at its file offset,
 * as its sink would (written and the writeback hint advance), in the
 * kernel (copy_file_range) where the two files allow it, else through
 * memory. A source shorter than size is CL_ERR_IO. */
cl_status stream_fd_copy_from(stream_fd *to, int from, uint64_t size, cl_error *err);
/* Random access over an fd whose size is given. */
stream_file stream_file_from_fd(stream_fd *fd, uint64_t size);

/* Gathers a stream's small writes (a Parquet writer's page headers and
 * pages, a few dozen bytes each) into large ones to `inner`, so a small
 * file costs one write() rather than one per piece. While the whole stream
 * is at most `capacity` bytes nothing reaches `inner` until
 * stream_buffer_flush, and the bytes stay readable afterwards
 * (stream_buffer_whole): a small output can be read back, or need no file
 * at all, without a syscall. A single write larger than the capacity goes
 * straight through after what is held. */
typedef struct stream_buffer {
  stream_sink inner;
  buf held;         /* bytes [offset, offset + held.len) of the stream */
  size_t sent;      /* of held, the bytes already handed to inner */
  uint64_t offset;  /* stream position of held.data[0]: 0 while it is all held */
  size_t capacity;
} stream_buffer;

void stream_buffer_init(stream_buffer *b, stream_sink inner, size_t capacity);
/* Its writes fail with the inner sink's failure, or CL_ERR_NOMEM. */
stream_sink stream_sink_to_buffer(stream_buffer *b);
/* Hand everything held to inner; the bytes stay held until the next write
 * needs the room. */
cl_status stream_buffer_flush(stream_buffer *b, cl_error *err);
/* The whole stream so far when it is all still held (its length in *len),
 * else NULL; valid until the next write or free. */
const uint8_t *stream_buffer_whole(const stream_buffer *b, size_t *len);
/* Bytes written so far, flushed or not. */
uint64_t stream_buffer_size(const stream_buffer *b);
void stream_buffer_free(stream_buffer *b);

/* An unlinked temp file under $TMPDIR (default /tmp): the descriptor is its
 * only handle, so a crash leaves nothing behind. */
cl_status stream_temp_fd(int *fd, cl_error *err);

#endif

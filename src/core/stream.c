#include "stream.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static cl_status memory_read(void *ctx, void *dst, size_t cap, size_t *got, cl_error *err)
{
  stream_memory *m = ctx;
  size_t n = m->len - m->pos < cap ? m->len - m->pos : cap;
  (void)err;
  if(n)
    memcpy(dst, m->data + m->pos, n);
  m->pos += n;
  *got = n;
  return CL_OK;
}

stream_source stream_source_from_memory(stream_memory *memory)
{
  return (stream_source){memory_read, memory};
}

static cl_status trickle_read(void *ctx, void *dst, size_t cap, size_t *got, cl_error *err)
{
  stream_trickle *t = ctx;
  return memory_read(&t->memory, dst, t->step && cap > t->step ? t->step : cap, got, err);
}

stream_source stream_source_from_trickle(stream_trickle *trickle)
{
  return (stream_source){trickle_read, trickle};
}

static cl_status memory_read_at(void *ctx, uint64_t offset, void *dst, size_t len,
                                cl_error *err)
{
  const stream_memory *m = ctx;
  if(offset > m->len || len > m->len - offset)
    return cl_fail(err, CL_ERR_FORMAT,
                   "read of %zu bytes at offset %llu is past the end (%zu bytes)", len,
                   (unsigned long long)offset, m->len);
  if(len)
    memcpy(dst, m->data + offset, len);
  return CL_OK;
}

stream_file stream_file_from_memory(stream_memory *memory, const char *name)
{
  return (stream_file){memory_read_at, memory, memory->len, name};
}

static cl_status buf_write(void *ctx, const void *data, size_t len, cl_error *err)
{
  buf *out = ctx;
  cl_status status = buf_append(out, data, len);
  if(status)
    return cl_fail(err, status, "buffering %zu bytes: %s", len, cl_status_name(status));
  return CL_OK;
}

stream_sink stream_sink_to_buf(buf *out)
{
  return (stream_sink){buf_write, out};
}

static cl_status fd_read(void *ctx, void *dst, size_t cap, size_t *got, cl_error *err)
{
  stream_fd *f = ctx;
  for(;;) {
    ssize_t n = read(f->fd, dst, cap);
    if(n >= 0) {
      *got = (size_t)n;
      return CL_OK;
    }
    if(errno != EINTR)
      return cl_fail(err, CL_ERR_IO, "%s: read: %s", f->name, strerror(errno));
  }
}

stream_source stream_source_from_fd(stream_fd *fd)
{
  return (stream_source){fd_read, fd};
}

static void start_writeback(stream_fd *f)
{
  if(f->writeback_every && f->written - f->writeback_started >= f->writeback_every) {
    /* A hint: a failure here shows again at the fsync that matters. */
    sync_file_range(f->fd, (off_t)f->writeback_started,
                    (off_t)(f->written - f->writeback_started), SYNC_FILE_RANGE_WRITE);
    f->writeback_started = f->written;
  }
}

static cl_status fd_write(void *ctx, const void *data, size_t len, cl_error *err)
{
  stream_fd *f = ctx;
  const char *p = data;
  while(len) {
    ssize_t n = write(f->fd, p, len);
    if(n < 0) {
      if(errno == EINTR)
        continue;
      return cl_fail(err, CL_ERR_IO, "%s: write: %s", f->name, strerror(errno));
    }
    p += n;
    len -= (size_t)n;
    f->written += (uint64_t)n;
  }
  start_writeback(f);
  return CL_OK;
}

stream_sink stream_sink_to_fd(stream_fd *fd)
{
  return (stream_sink){fd_write, fd};
}

/* A copy through memory goes in pieces of this size; one in the kernel in
 * calls of at most this many pieces, so that the writeback hint is given
 * along the way. */
#define COPY_PIECE_BYTES (256u << 10)
#define COPY_KERNEL_PIECES 32

static cl_status source_ended(const stream_fd *to, uint64_t done, uint64_t size, cl_error *err)
{
  return cl_fail(err, CL_ERR_IO, "%s: copy: the source ended at %llu bytes of %llu", to->name,
                 (unsigned long long)done, (unsigned long long)size);
}

/* Copies through memory, for files copy_file_range cannot take. */
static cl_status copy_by_reading(stream_fd *to, int from, uint64_t done, uint64_t size,
                                 cl_error *err)
{
  char *chunk = malloc(COPY_PIECE_BYTES);
  if(!chunk)
    return cl_fail(err, CL_ERR_NOMEM, "%s: copy: out of memory", to->name);
  cl_status status = CL_OK;
  while(done < size && !status) {
    size_t want = size - done < COPY_PIECE_BYTES ? (size_t)(size - done) : COPY_PIECE_BYTES;
    ssize_t n = pread(from, chunk, want, (off_t)done);
    if(n < 0 && errno == EINTR)
      continue;
    if(n < 0)
      status = cl_fail(err, CL_ERR_IO, "%s: copy: reading the source: %s", to->name,
                       strerror(errno));
    else if(n == 0)
      status = source_ended(to, done, size, err);
    else
      status = fd_write(to, chunk, (size_t)n, err);
    if(n > 0)
      done += (uint64_t)n;
  }
  free(chunk);
  return status;
}

cl_status stream_fd_copy_from(stream_fd *to, int from, uint64_t size, cl_error *err)
{
  uint64_t done = 0;
  while(done < size) {
    loff_t offset = (loff_t)done;
    uint64_t most = (uint64_t)COPY_PIECE_BYTES * COPY_KERNEL_PIECES;
    size_t want = (size_t)(size - done < most ? size - done : most);
    ssize_t n = copy_file_range(from, &offset, to->fd, NULL, want, 0);
    if(n < 0 && errno == EINTR)
      continue;
    /* Not possible between these two files (other filesystems on older
     * kernels, special files): the rest goes through memory. */
    if(n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS ||
                 errno == EOPNOTSUPP || errno == EBADF))
      return copy_by_reading(to, from, done, size, err);
    if(n < 0)
      return cl_fail(err, CL_ERR_IO, "%s: copy: %s", to->name, strerror(errno));
    if(n == 0)
      return source_ended(to, done, size, err);
    done += (uint64_t)n;
    to->written += (uint64_t)n;
    start_writeback(to);
  }
  return CL_OK;
}

static cl_status fd_read_at(void *ctx, uint64_t offset, void *dst, size_t len, cl_error *err)
{
  stream_fd *f = ctx;
  char *p = dst;
  while(len) {
    ssize_t n = pread(f->fd, p, len, (off_t)offset);
    if(n < 0) {
      if(errno == EINTR)
        continue;
      return cl_fail(err, CL_ERR_IO, "read at %llu: %s", (unsigned long long)offset,
                     strerror(errno));
    }
    if(n == 0)
      return cl_fail(err, CL_ERR_FORMAT, "unexpected end of file at offset %llu",
                     (unsigned long long)offset);
    p += n;
    len -= (size_t)n;
    offset += (uint64_t)n;
  }
  return CL_OK;
}

stream_file stream_file_from_fd(stream_fd *fd, uint64_t size)
{
  return (stream_file){fd_read_at, fd, size, fd->name};
}

void stream_buffer_init(stream_buffer *b, stream_sink inner, size_t capacity)
{
  memset(b, 0, sizeof(*b));
  b->inner = inner;
  b->capacity = capacity;
}

cl_status stream_buffer_flush(stream_buffer *b, cl_error *err)
{
  if(b->sent == b->held.len)
    return CL_OK;
  cl_status status = b->inner.write(b->inner.ctx, b->held.data + b->sent, b->held.len - b->sent,
                                    err);
  if(status)
    return status;
  b->sent = b->held.len;
  return CL_OK;
}

/* Forget the held bytes once they have all gone to inner. */
static cl_status buffer_drain(stream_buffer *b, cl_error *err)
{
  cl_status status = stream_buffer_flush(b, err);
  if(status)
    return status;
  b->offset += b->held.len;
  buf_clear(&b->held);
  b->sent = 0;
  return CL_OK;
}

static cl_status buffer_write(void *ctx, const void *data, size_t len, cl_error *err)
{
  stream_buffer *b = ctx;
  cl_status status;
  if(b->held.len + len > b->capacity) {
    status = buffer_drain(b, err);
    if(status)
      return status;
    if(len > b->capacity) {
      status = b->inner.write(b->inner.ctx, data, len, err);
      if(!status)
        b->offset += len;
      return status;
    }
  }
  status = buf_append(&b->held, data, len);
  if(status)
    return cl_fail(err, status, "buffering %zu bytes: %s", len, cl_status_name(status));
  return CL_OK;
}

stream_sink stream_sink_to_buffer(stream_buffer *b)
{
  return (stream_sink){buffer_write, b};
}

const uint8_t *stream_buffer_whole(const stream_buffer *b, size_t *len)
{
  if(b->offset)
    return NULL;
  *len = b->held.len;
  /* An empty stream has no allocation, but is still whole. */
  return b->held.data ? (const uint8_t *)b->held.data : (const uint8_t *)"";
}

uint64_t stream_buffer_size(const stream_buffer *b)
{
  return b->offset + b->held.len;
}

void stream_buffer_free(stream_buffer *b)
{
  buf_free(&b->held);
  b->sent = 0;
  b->offset = 0;
}

cl_status stream_temp_fd(int *fd, cl_error *err)
{
  const char *tmpdir = getenv("TMPDIR");
  const char *dir = tmpdir && *tmpdir ? tmpdir : "/tmp";
  char path[PATH_MAX];
  int len = snprintf(path, sizeof(path), "%s/collator-XXXXXX", dir);
  if(len < 0 || (size_t)len >= sizeof(path))
    return cl_fail(err, CL_ERR_IO, "temp file in %s: directory name too long", dir);
  *fd = mkstemp(path);
  if(*fd < 0)
    return cl_fail(err, CL_ERR_IO, "temp file in %s: %s", dir, strerror(errno));
  unlink(path);
  return CL_OK;
}

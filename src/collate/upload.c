#include "collate/upload.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define UPLOAD_CHUNK 65536

typedef enum gzip_state {
  GZIP_UNDECIDED,  /* first bytes not seen yet */
  GZIP_PLAIN,      /* not gzip: raw bytes pass through */
  GZIP_MEMBER,     /* inside a gzip member */
  GZIP_BETWEEN,    /* after a member: zero padding, another member or the end */
  GZIP_DONE
} gzip_state;

struct upload_source {
  stream_source raw;
  uint64_t max_bytes;
  uint64_t bytes_in, bytes_out;
  gzip_state state;
  int is_gzip;
  int raw_eof;
  z_stream z;
  int z_ready;
  uint8_t *in;       /* UPLOAD_CHUNK bytes of raw input */
  size_t in_pos, in_len;
};

static cl_status fill_input(upload_source *u, cl_error *err)
{
  if(u->in_pos < u->in_len || u->raw_eof)
    return CL_OK;
  size_t got = 0;
  cl_status status = u->raw.read(u->raw.ctx, u->in, UPLOAD_CHUNK, &got, err);
  if(status)
    return status;
  u->in_pos = 0;
  u->in_len = got;
  u->bytes_in += got;
  if(!got)
    u->raw_eof = 1;
  return CL_OK;
}

/* Read at least two bytes (or up to the end) to decide on the gzip magic. */
static cl_status decide(upload_source *u, cl_error *err)
{
  while(u->in_len < 2 && !u->raw_eof) {
    size_t got = 0;
    cl_status status = u->raw.read(u->raw.ctx, u->in + u->in_len, UPLOAD_CHUNK - u->in_len,
                                   &got, err);
    if(status)
      return status;
    u->bytes_in += got;
    u->in_len += got;
    if(!got)
      u->raw_eof = 1;
  }
  if(u->in_len >= 2 && u->in[0] == 0x1f && u->in[1] == 0x8b) {
    u->is_gzip = 1;
    u->state = GZIP_MEMBER;
    if(inflateInit2(&u->z, 16 + MAX_WBITS) != Z_OK)
      return cl_fail(err, CL_ERR_NOMEM, "gzip: cannot initialise zlib");
    u->z_ready = 1;
  } else
    u->state = GZIP_PLAIN;
  return CL_OK;
}

static cl_status over_limit(upload_source *u, cl_error *err)
{
  return cl_fail(err, CL_ERR_LIMIT, "upload larger than %llu bytes%s",
                 (unsigned long long)u->max_bytes, u->is_gzip ? " after gunzip" : "");
}

/* Hand out at most cap bytes, clipped to what the limit still allows plus one
 * byte, so that crossing the limit is detected without decompressing more. */
static size_t clip(const upload_source *u, size_t cap)
{
  if(!u->max_bytes)
    return cap;
  uint64_t room = u->max_bytes - u->bytes_out + 1;
  return room < cap ? (size_t)room : cap;
}

static cl_status read_plain(upload_source *u, uint8_t *dst, size_t cap, size_t *got,
                            cl_error *err)
{
  cl_status status;
  if(u->in_pos == u->in_len && !u->raw_eof) {
    /* Nothing buffered: read straight into the caller's buffer rather than
     * copying every byte of a plain upload once more. */
    size_t n = 0;
    status = u->raw.read(u->raw.ctx, dst, cap, &n, err);
    if(status)
      return status;
    u->bytes_in += n;
    if(!n)
      u->raw_eof = 1;
    *got = n;
    return CL_OK;
  }
  status = fill_input(u, err);
  if(status)
    return status;
  size_t n = u->in_len - u->in_pos;
  if(n > cap)
    n = cap;
  memcpy(dst, u->in + u->in_pos, n);
  u->in_pos += n;
  *got = n;
  return CL_OK;
}

static cl_status read_gzip(upload_source *u, uint8_t *dst, size_t cap, size_t *got,
                           cl_error *err)
{
  cl_status status;
  *got = 0;
  while(*got == 0) {
    if(u->state == GZIP_DONE)
      return CL_OK;
    status = fill_input(u, err);
    if(status)
      return status;
    if(u->state == GZIP_BETWEEN) {
      while(u->in_pos < u->in_len && u->in[u->in_pos] == 0)
        u->in_pos++;
      if(u->in_pos == u->in_len) {
        if(u->raw_eof)
          u->state = GZIP_DONE;
        continue;
      }
      if(u->in[u->in_pos] != 0x1f)
        return cl_fail(err, CL_ERR_FORMAT, "gzip: trailing data after member (not a "
                                           "gzipped file)");
      if(inflateReset(&u->z) != Z_OK)
        return cl_fail(err, CL_ERR_INTERNAL, "gzip: inflateReset failed");
      u->state = GZIP_MEMBER;
    }
    if(u->in_pos == u->in_len && u->raw_eof)
      return cl_fail(err, CL_ERR_FORMAT, "truncated gzip: end of input inside a member");
    u->z.next_in = u->in + u->in_pos;
    u->z.avail_in = (uInt)(u->in_len - u->in_pos);
    u->z.next_out = dst;
    u->z.avail_out = (uInt)cap;
    int rc = inflate(&u->z, Z_NO_FLUSH);
    u->in_pos = u->in_len - u->z.avail_in;
    *got = cap - u->z.avail_out;
    if(rc == Z_STREAM_END)
      u->state = GZIP_BETWEEN;
    else if(rc == Z_MEM_ERROR)
      return cl_fail(err, CL_ERR_NOMEM, "gzip: out of memory");
    else if(rc == Z_DATA_ERROR || rc == Z_NEED_DICT || rc == Z_STREAM_ERROR)
      return cl_fail(err, CL_ERR_FORMAT, "gzip: %s at input byte %llu",
                     u->z.msg ? u->z.msg : "invalid data",
                     (unsigned long long)(u->bytes_in - (u->in_len - u->in_pos)));
    else if(rc == Z_BUF_ERROR && u->raw_eof && u->in_pos == u->in_len)
      return cl_fail(err, CL_ERR_FORMAT, "truncated gzip: end of input inside a member");
  }
  return CL_OK;
}

static cl_status upload_read(void *ctx, void *dst, size_t cap, size_t *got, cl_error *err)
{
  upload_source *u = ctx;
  cl_status status;
  *got = 0;
  if(u->state == GZIP_UNDECIDED) {
    status = decide(u, err);
    if(status)
      return status;
  }
  size_t want = clip(u, cap);
  if(u->state == GZIP_PLAIN)
    status = read_plain(u, dst, want, got, err);
  else
    status = read_gzip(u, dst, want, got, err);
  if(status)
    return status;
  u->bytes_out += *got;
  if(u->max_bytes && u->bytes_out > u->max_bytes)
    return over_limit(u, err);
  return CL_OK;
}

cl_status upload_source_create(stream_source raw, uint64_t max_bytes, upload_source **out,
                               cl_error *err)
{
  upload_source *u = calloc(1, sizeof(*u));
  if(u)
    u->in = malloc(UPLOAD_CHUNK);
  if(!u || !u->in) {
    upload_source_free(u);
    return cl_fail(err, CL_ERR_NOMEM, "upload: out of memory");
  }
  u->raw = raw;
  u->max_bytes = max_bytes;
  *out = u;
  return CL_OK;
}

void upload_source_free(upload_source *upload)
{
  if(!upload)
    return;
  if(upload->z_ready)
    inflateEnd(&upload->z);
  free(upload->in);
  free(upload);
}

stream_source upload_source_stream(upload_source *upload)
{
  stream_source source = {upload_read, upload};
  return source;
}

int upload_source_is_gzip(const upload_source *upload)
{
  return upload->is_gzip;
}

uint64_t upload_source_bytes_in(const upload_source *upload)
{
  return upload->bytes_in;
}

uint64_t upload_source_bytes_out(const upload_source *upload)
{
  return upload->bytes_out;
}

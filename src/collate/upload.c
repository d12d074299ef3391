#include "collate/upload.h"

#include <stdlib.h>
#include <string.h>
#include <isa-l/igzip_lib.h>

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
  struct inflate_state *inflater; /* ISA-L's, ~85 KB: allocated for gzip only */
  struct isal_gzip_header gzip_header;
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
    u->inflater = malloc(sizeof(*u->inflater));
    if(!u->inflater)
      return cl_fail(err, CL_ERR_NOMEM, "gzip: out of memory");
    isal_inflate_init(u->inflater);
    u->inflater->crc_flag = ISAL_GZIP;
    isal_gzip_header_init(&u->gzip_header);
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

/* ISA-L's errors in zlib's words, which the messages used before. */
static const char *inflate_error_text(int rc)
{
  switch(rc) {
  case ISAL_INVALID_BLOCK:
    return "invalid block";
  case ISAL_INVALID_SYMBOL:
    return "invalid code";
  case ISAL_INVALID_LOOKBACK:
    return "invalid distance too far back";
  case ISAL_INVALID_WRAPPER:
    return "incorrect header check";
  case ISAL_UNSUPPORTED_METHOD:
    return "unknown compression method";
  case ISAL_INCORRECT_CHECKSUM:
    return "header crc mismatch";
  default:
    return "invalid data";
  }
}

static uint64_t input_offset(const upload_source *u)
{
  return u->bytes_in - (u->in_len - u->in_pos);
}

/* One step of a member: its header (read here rather than inside
 * isal_inflate, which forgets the header's flags when the header is split
 * across two calls), then its blocks and trailer. */
static int inflate_step(upload_source *u, uint8_t *dst, size_t cap, size_t *got)
{
  struct inflate_state *z = u->inflater;
  z->next_in = u->in + u->in_pos;
  z->avail_in = (uint32_t)(u->in_len - u->in_pos);
  int rc;
  if(!z->wrapper_flag) {
    rc = isal_read_gzip_header(z, &u->gzip_header);
    if(rc > 0)
      rc = ISAL_DECOMP_OK; /* the header goes on in the next input */
  } else {
    z->next_out = dst;
    z->avail_out = (uint32_t)cap;
    rc = isal_inflate(z);
    *got = cap - z->avail_out;
  }
  u->in_pos = u->in_len - z->avail_in;
  return rc;
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
      isal_inflate_reset(u->inflater);
      isal_gzip_header_init(&u->gzip_header);
      u->state = GZIP_MEMBER;
    }
    size_t in_before = u->in_pos;
    int rc = inflate_step(u, dst, cap, got);
    if(rc == ISAL_INCORRECT_CHECKSUM && u->inflater->block_state == ISAL_BLOCK_FINISH)
      return cl_fail(err, CL_ERR_FORMAT, "gzip: incorrect data check (CRC-32 or length) of "
                                         "the member ending at input byte %llu",
                     (unsigned long long)input_offset(u));
    if(rc < 0)
      return cl_fail(err, CL_ERR_FORMAT, "gzip: %s at input byte %llu",
                     inflate_error_text(rc), (unsigned long long)input_offset(u));
    if(u->inflater->block_state == ISAL_BLOCK_FINISH)
      u->state = GZIP_BETWEEN;
    else if(*got == 0 && u->in_pos == in_before && u->in_pos == u->in_len && u->raw_eof)
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
  free(upload->inflater);
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

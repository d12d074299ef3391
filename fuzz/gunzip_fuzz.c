/* libFuzzer target: the streaming gunzip of uploads (upload.c, over ISA-L)
 * against zlib, which gunzipped them before and which the legacy's Python
 * used. ISA-L may be the more lenient of the two on damaged streams, but
 * never the stricter one: whatever zlib decodes, the upload source must
 * decode to the same bytes, however the input is split.
 *
 * The first byte picks the mode and the raw read size. Mode 0 takes the
 * rest as an upload body (zero padding and members as upload.c accepts
 * them). Mode 1 takes the rest as a payload, gzips it with zlib at a level
 * and strategy from the byte, and checks that it comes back unchanged. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "collate/upload.h"
#include "core/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define LIMIT (1u << 20)

/* 0 and the bytes in out, or -1 with a message in err. */
static int gunzip_upload(const uint8_t *data, size_t size, size_t step, buf *out, cl_error *err)
{
  stream_trickle raw = {{data, size, 0}, step};
  upload_source *upload = NULL;
  if(upload_source_create(stream_source_from_trickle(&raw), LIMIT, &upload, err))
    return -1;
  stream_source source = upload_source_stream(upload);
  uint8_t chunk[4096];
  cl_status status;
  for(;;) {
    size_t got = 0;
    status = source.read(source.ctx, chunk, sizeof(chunk), &got, err);
    if(status || !got)
      break;
    buf_append(out, chunk, got);
  }
  upload_source_free(upload);
  if(status && !err->message[0])
    abort();
  return status ? -1 : 0;
}

/* zlib's reading of a gzip body: members, each followed by optional zero
 * padding. 0 when it all decodes within LIMIT bytes. */
static int gunzip_zlib(const uint8_t *data, size_t size, buf *out)
{
  size_t pos = 0;
  while(pos < size) {
    z_stream z;
    memset(&z, 0, sizeof(z));
    if(inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
      abort();
    z.next_in = (Bytef *)(uintptr_t)(data + pos);
    z.avail_in = (uInt)(size - pos);
    int rc = Z_OK;
    while(rc == Z_OK) {
      uint8_t chunk[4096];
      z.next_out = chunk;
      z.avail_out = sizeof(chunk);
      rc = inflate(&z, Z_NO_FLUSH);
      buf_append(out, chunk, sizeof(chunk) - z.avail_out);
      if(out->len > LIMIT)
        rc = Z_BUF_ERROR;
    }
    pos = size - z.avail_in;
    inflateEnd(&z);
    if(rc != Z_STREAM_END)
      return -1;
    while(pos < size && data[pos] == 0)
      pos++;
    if(pos < size && data[pos] != 0x1f)
      return -1;
  }
  return 0;
}

static void gzip_zlib(const uint8_t *data, size_t size, int level, int strategy, buf *out)
{
  z_stream z;
  memset(&z, 0, sizeof(z));
  if(deflateInit2(&z, level, Z_DEFLATED, 16 + MAX_WBITS, 8, strategy) != Z_OK)
    abort();
  size_t bound = deflateBound(&z, (uLong)size) + 32;
  buf_reserve(out, bound);
  z.next_in = (Bytef *)(uintptr_t)data;
  z.avail_in = (uInt)size;
  z.next_out = (Bytef *)out->data + out->len;
  z.avail_out = (uInt)bound;
  if(deflate(&z, Z_FINISH) != Z_STREAM_END)
    abort();
  out->len += bound - z.avail_out;
  deflateEnd(&z);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const int strategies[] = {Z_DEFAULT_STRATEGY, Z_FILTERED, Z_HUFFMAN_ONLY, Z_RLE,
                                   Z_FIXED};
  if(size < 1 || size > LIMIT)
    return 0;
  unsigned mode = data[0] & 1;
  size_t step = (data[0] >> 1) & 7; /* 0: whole chunks; else 1..7 bytes a read */
  buf body = BUF_INIT, expected = BUF_INIT, got = BUF_INIT;
  cl_error err;
  cl_error_clear(&err);
  int zlib_ok;
  if(mode == 0) {
    buf_append(&body, data + 1, size - 1);
    zlib_ok = body.len >= 2 && body.data[0] == 0x1f && (uint8_t)body.data[1] == 0x8b &&
              gunzip_zlib((const uint8_t *)body.data, body.len, &expected) == 0;
  } else {
    int level = (data[0] >> 4) % 10;
    int strategy = strategies[(data[0] >> 4) % 5];
    buf_append(&expected, data + 1, size - 1);
    gzip_zlib(data + 1, size - 1, level, strategy, &body);
    zlib_ok = 1;
  }
  int ours = gunzip_upload((const uint8_t *)body.data, body.len, step, &got, &err);
  if(zlib_ok && (ours != 0 || got.len != expected.len ||
                 memcmp(got.data ? got.data : "", expected.data ? expected.data : "", got.len)))
    abort(); /* zlib decodes it, so must we, to the same bytes */
  buf_free(&body);
  buf_free(&expected);
  buf_free(&got);
  return 0;
}

#include "parquet/codec.h"

#include <lz4.h>
#include <snappy-c.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

static cl_status gunzip(const uint8_t *src, size_t src_len, uint8_t *dst, size_t dst_len,
                        cl_error *err)
{
  z_stream z;
  memset(&z, 0, sizeof(z));
  /* 15 + 32: accept both gzip and zlib headers, as writers differ. */
  if(inflateInit2(&z, 15 + 32) != Z_OK)
    return cl_fail(err, CL_ERR_NOMEM, "gzip: cannot initialise zlib");
  z.next_in = (Bytef *)(uintptr_t)src;
  z.next_out = dst;
  size_t in_left = src_len, out_left = dst_len;
  cl_status status = CL_OK;
  for(;;) {
    uInt in_chunk = in_left > UINT32_MAX ? UINT32_MAX : (uInt)in_left;
    uInt out_chunk = out_left > UINT32_MAX ? UINT32_MAX : (uInt)out_left;
    z.avail_in = in_chunk;
    z.avail_out = out_chunk;
    int rc = inflate(&z, Z_NO_FLUSH);
    in_left -= in_chunk - z.avail_in;
    out_left -= out_chunk - z.avail_out;
    if(rc == Z_STREAM_END) {
      /* Some writers emit one gzip member per block: keep going while
       * input remains. */
      if(in_left == 0)
        break;
      if(inflateReset(&z) != Z_OK) {
        status = cl_fail(err, CL_ERR_FORMAT, "gzip: cannot reset for the next member");
        break;
      }
      continue;
    }
    if(rc == Z_OK && (z.avail_in || z.avail_out) && (in_left || out_left))
      continue;
    if(rc == Z_BUF_ERROR && out_left == 0) {
      status = cl_fail(err, CL_ERR_FORMAT, "gzip: data decompresses past the page size %zu", dst_len);
      break;
    }
    status = cl_fail(err, CL_ERR_FORMAT, "gzip: %s", z.msg ? z.msg : "truncated or corrupt data");
    break;
  }
  inflateEnd(&z);
  if(!status && out_left)
    status = cl_fail(err, CL_ERR_FORMAT, "gzip: %zu bytes short of the page size %zu", out_left,
                     dst_len);
  return status;
}

/* Hadoop's LZ4 framing: big-endian uncompressed and compressed block sizes
 * before each raw block. Returns 0 when the data does not parse as such. */
static int hadoop_lz4(const uint8_t *src, size_t src_len, uint8_t *dst, size_t dst_len)
{
  size_t in = 0, out = 0;
  while(in < src_len) {
    if(src_len - in < 8)
      return 0;
    uint32_t raw = (uint32_t)src[in] << 24 | (uint32_t)src[in + 1] << 16 |
                   (uint32_t)src[in + 2] << 8 | src[in + 3];
    uint32_t packed = (uint32_t)src[in + 4] << 24 | (uint32_t)src[in + 5] << 16 |
                      (uint32_t)src[in + 6] << 8 | src[in + 7];
    in += 8;
    if(packed > src_len - in || raw > dst_len - out || packed > INT32_MAX || raw > INT32_MAX)
      return 0;
    int got = LZ4_decompress_safe((const char *)src + in, (char *)dst + out, (int)packed, (int)raw);
    if(got < 0 || (uint32_t)got != raw)
      return 0;
    in += packed;
    out += raw;
  }
  return out == dst_len;
}

cl_status pq_decompress(parquet_codec codec, const uint8_t *src, size_t src_len, uint8_t *dst,
                        size_t dst_len, cl_error *err)
{
  switch(codec) {
  case PARQUET_CODEC_NONE:
    if(src_len != dst_len)
      return cl_fail(err, CL_ERR_FORMAT, "uncompressed page of %zu bytes announces %zu", src_len,
                     dst_len);
    if(src_len)
      memcpy(dst, src, src_len);
    return CL_OK;
  case PARQUET_CODEC_SNAPPY: {
    size_t n = 0;
    if(snappy_uncompressed_length((const char *)src, src_len, &n) != SNAPPY_OK)
      return cl_fail(err, CL_ERR_FORMAT, "snappy: corrupt header");
    if(n != dst_len)
      return cl_fail(err, CL_ERR_FORMAT, "snappy: data holds %zu bytes, page header says %zu", n,
                     dst_len);
    if(dst_len == 0)
      return CL_OK;
    n = dst_len;
    if(snappy_uncompress((const char *)src, src_len, (char *)dst, &n) != SNAPPY_OK || n != dst_len)
      return cl_fail(err, CL_ERR_FORMAT, "snappy: corrupt data");
    return CL_OK;
  }
  case PARQUET_CODEC_GZIP:
    return gunzip(src, src_len, dst, dst_len, err);
  case PARQUET_CODEC_ZSTD: {
    size_t n = ZSTD_decompress(dst, dst_len, src, src_len);
    if(ZSTD_isError(n))
      return cl_fail(err, CL_ERR_FORMAT, "zstd: %s", ZSTD_getErrorName(n));
    if(n != dst_len)
      return cl_fail(err, CL_ERR_FORMAT, "zstd: data holds %zu bytes, page header says %zu", n,
                     dst_len);
    return CL_OK;
  }
  case PARQUET_CODEC_LZ4:
    if(hadoop_lz4(src, src_len, dst, dst_len))
      return CL_OK;
    /* Older writers put raw LZ4 blocks under this codec id. */
    /* fall through */
  case PARQUET_CODEC_LZ4_RAW: {
    if(src_len > INT32_MAX || dst_len > INT32_MAX)
      return cl_fail(err, CL_ERR_LIMIT, "lz4: page too large");
    if(dst_len == 0 && src_len <= 1)
      return CL_OK;
    int n = LZ4_decompress_safe((const char *)src, (char *)dst, (int)src_len, (int)dst_len);
    if(n < 0)
      return cl_fail(err, CL_ERR_FORMAT, "lz4: corrupt data");
    if((size_t)n != dst_len)
      return cl_fail(err, CL_ERR_FORMAT, "lz4: data holds %d bytes, page header says %zu", n,
                     dst_len);
    return CL_OK;
  }
  default:
    return cl_fail(err, CL_ERR_UNSUPPORTED, "codec %s is not supported",
                   parquet_codec_name(codec));
  }
}

int pq_codec_writable(parquet_codec codec)
{
  return codec == PARQUET_CODEC_NONE || codec == PARQUET_CODEC_SNAPPY ||
         codec == PARQUET_CODEC_GZIP || codec == PARQUET_CODEC_ZSTD;
}

cl_status pq_compress(parquet_codec codec, int level, const uint8_t *src, size_t src_len,
                      buf *out, cl_error *err)
{
  cl_status status;
  switch(codec) {
  case PARQUET_CODEC_NONE:
    status = buf_append(out, src, src_len);
    if(status)
      return cl_fail(err, status, "buffering a page of %zu bytes", src_len);
    return CL_OK;
  case PARQUET_CODEC_SNAPPY: {
    size_t cap = snappy_max_compressed_length(src_len);
    size_t at = out->len;
    if((status = buf_reserve(out, cap)))
      return cl_fail(err, status, "snappy: buffering %zu bytes", cap);
    size_t n = cap;
    if(snappy_compress((const char *)src, src_len, out->data + at, &n) != SNAPPY_OK)
      return cl_fail(err, CL_ERR_INTERNAL, "snappy: compression failed");
    out->len = at + n;
    out->data[out->len] = 0;
    return CL_OK;
  }
  case PARQUET_CODEC_GZIP: {
    z_stream z;
    memset(&z, 0, sizeof(z));
    /* 15 + 16: a gzip header, which every Parquet reader expects for GZIP. */
    if(deflateInit2(&z, level ? level : Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
                    Z_DEFAULT_STRATEGY) != Z_OK)
      return cl_fail(err, CL_ERR_NOMEM, "gzip: cannot initialise zlib");
    size_t cap = deflateBound(&z, (uLong)src_len);
    size_t at = out->len;
    if((status = buf_reserve(out, cap))) {
      deflateEnd(&z);
      return cl_fail(err, status, "gzip: buffering %zu bytes", cap);
    }
    z.next_in = (Bytef *)(uintptr_t)src;
    z.avail_in = (uInt)src_len;
    z.next_out = (Bytef *)out->data + at;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    size_t n = cap - z.avail_out;
    deflateEnd(&z);
    if(rc != Z_STREAM_END)
      return cl_fail(err, CL_ERR_INTERNAL, "gzip: compression failed");
    out->len = at + n;
    out->data[out->len] = 0;
    return CL_OK;
  }
  case PARQUET_CODEC_ZSTD: {
    size_t cap = ZSTD_compressBound(src_len);
    size_t at = out->len;
    if((status = buf_reserve(out, cap)))
      return cl_fail(err, status, "zstd: buffering %zu bytes", cap);
    size_t n = ZSTD_compress(out->data + at, cap, src, src_len, level ? level : 3);
    if(ZSTD_isError(n))
      return cl_fail(err, CL_ERR_INTERNAL, "zstd: %s", ZSTD_getErrorName(n));
    out->len = at + n;
    out->data[out->len] = 0;
    return CL_OK;
  }
  default:
    return cl_fail(err, CL_ERR_UNSUPPORTED, "cannot write codec %s", parquet_codec_name(codec));
  }
}

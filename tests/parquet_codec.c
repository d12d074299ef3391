/* Page codecs: round trips, the LZ4 framings, and corrupt or mis-sized pages. */
#include <lz4.h>
#include <stdlib.h>

#include "parquet/codec.h"
#include "unit.h"

static uint8_t *sample(size_t n)
{
  uint8_t *data = malloc(n ? n : 1);
  uint32_t x = 12345;
  for(size_t i = 0; i < n; i++) {
    x = x * 1103515245u + 12345u;
    data[i] = (uint8_t)(i % 97 < 60 ? 'a' + i % 7 : x >> 24);
  }
  return data;
}

TEST(codec_round_trips)
{
  static const parquet_codec codecs[] = {PARQUET_CODEC_NONE, PARQUET_CODEC_SNAPPY,
                                         PARQUET_CODEC_GZIP, PARQUET_CODEC_ZSTD};
  static const size_t sizes[] = {0, 1, 100, 65536, 300001};
  for(size_t c = 0; c < sizeof(codecs) / sizeof(codecs[0]); c++)
    for(size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
      size_t n = sizes[s];
      uint8_t *data = sample(n), *back = malloc(n ? n : 1);
      buf packed = BUF_INIT;
      cl_error err = {0};
      CHECK(pq_codec_writable(codecs[c]));
      CHECK_OK(pq_compress(codecs[c], 0, data, n, &packed, &err), &err);
      CHECK_OK(pq_decompress(codecs[c], (const uint8_t *)packed.data, packed.len, back, n, &err),
               &err);
      CHECK(n == 0 || !memcmp(data, back, n));
      if(n > 10 && codecs[c] != PARQUET_CODEC_NONE) {
        /* A page header announcing the wrong size is a format error. */
        CHECK_STATUS(pq_decompress(codecs[c], (const uint8_t *)packed.data, packed.len, back,
                                   n - 1, &err), CL_ERR_FORMAT);
        /* So is corrupt or truncated data. */
        CHECK_STATUS(pq_decompress(codecs[c], (const uint8_t *)packed.data, packed.len / 2, back, n,
                                   &err), CL_ERR_FORMAT);
      }
      free(data);
      free(back);
      buf_free(&packed);
    }
}

TEST(codec_gzip_concatenated_members)
{
  uint8_t *data = sample(5000), back[5000];
  buf packed = BUF_INIT;
  cl_error err = {0};
  CHECK_OK(pq_compress(PARQUET_CODEC_GZIP, 0, data, 2000, &packed, &err), &err);
  CHECK_OK(pq_compress(PARQUET_CODEC_GZIP, 9, data + 2000, 3000, &packed, &err), &err);
  CHECK_OK(pq_decompress(PARQUET_CODEC_GZIP, (const uint8_t *)packed.data, packed.len, back, 5000,
                         &err), &err);
  CHECK(!memcmp(back, data, 5000));
  free(data);
  buf_free(&packed);
}

TEST(codec_lz4_raw_and_hadoop_framing)
{
  size_t n = 10000;
  uint8_t *data = sample(n), *back = malloc(n);
  int cap = LZ4_compressBound((int)n);
  uint8_t *raw = malloc((size_t)cap + 8);
  int packed = LZ4_compress_default((const char *)data, (char *)raw + 8, (int)n, cap);
  cl_error err = {0};
  CHECK(packed > 0);
  CHECK_OK(pq_decompress(PARQUET_CODEC_LZ4_RAW, raw + 8, (size_t)packed, back, n, &err), &err);
  CHECK(!memcmp(back, data, n));
  /* The deprecated LZ4 codec: Hadoop framing first, raw blocks as fallback. */
  memset(back, 0, n);
  CHECK_OK(pq_decompress(PARQUET_CODEC_LZ4, raw + 8, (size_t)packed, back, n, &err), &err);
  CHECK(!memcmp(back, data, n));
  uint32_t sizes[2] = {(uint32_t)n, (uint32_t)packed};
  for(int i = 0; i < 2; i++)
    for(int b = 0; b < 4; b++)
      raw[i * 4 + b] = (uint8_t)(sizes[i] >> (24 - 8 * b));
  memset(back, 0, n);
  CHECK_OK(pq_decompress(PARQUET_CODEC_LZ4, raw, (size_t)packed + 8, back, n, &err), &err);
  CHECK(!memcmp(back, data, n));
  CHECK_STATUS(pq_decompress(PARQUET_CODEC_LZ4_RAW, raw + 8, (size_t)packed / 2, back, n, &err),
               CL_ERR_FORMAT);
  CHECK_STATUS(pq_decompress(PARQUET_CODEC_BROTLI, raw, 10, back, n, &err), CL_ERR_UNSUPPORTED);
  CHECK(strstr(err.message, "BROTLI") != NULL);
  CHECK(!pq_codec_writable(PARQUET_CODEC_LZ4_RAW));
  free(data);
  free(back);
  free(raw);
}

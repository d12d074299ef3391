/* The low-level MD5/SHA256 calls are deprecated in OpenSSL 3 in favour of
 * EVP, but EVP costs an allocation and a provider lookup per digest, which
 * shows at three MD5s per row; the low-level ones are still supported. */
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "digest.h"

#include <openssl/md5.h>
#include <openssl/sha.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* Every id and row hash is an md5 turned into hex, and history keys turn
 * hex back into bytes: a table of digit pairs and one of digit values keep
 * both to a load or two per byte. */
static const char hex_pairs[513] =
  "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
  "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
  "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
  "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
  "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
  "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
  "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
  "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

/* 16 marks a byte that is not a lower-case hex digit. */
static const unsigned char hex_value[256] = {
  16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
  16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
  16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 16, 16, 16, 16, 16,
  16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
  16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
  16, 10, 11, 12, 13, 14, 15, 16, 16, 16, 16, 16, 16, 16, 16, 16,
  16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
  16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
  16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
  16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
  16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
  16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
  16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
  16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
  16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
};

void digest_to_hex(const unsigned char *raw, size_t len, char *hex)
{
  for(size_t i = 0; i < len; i++)
    memcpy(hex + 2 * i, hex_pairs + 2 * raw[i], 2);
  hex[2 * len] = '\0';
}

int digest_md5_from_hex(const char *text, size_t len, unsigned char raw[DIGEST_MD5_LEN])
{
  const unsigned char *s = (const unsigned char *)text;
  unsigned bad = 0;
  if(len != DIGEST_MD5_HEX_LEN)
    return 0;
#if defined(__SSE2__)
  {
    /* Signed compares: bytes from 0x80 are negative and fail both ranges. */
    const __m128i below_zero = _mm_set1_epi8('0' - 1), above_nine = _mm_set1_epi8('9' + 1);
    const __m128i below_a = _mm_set1_epi8('a' - 1), above_f = _mm_set1_epi8('f' + 1);
    const __m128i zero = _mm_set1_epi8('0'), letter_gap = _mm_set1_epi8('a' - '0' - 10);
    const __m128i low_byte = _mm_set1_epi16(0x00ff);
    __m128i halves[2];
    int valid = 0xffff;
    for(int h = 0; h < 2; h++) {
      __m128i c = _mm_loadu_si128((const __m128i *)(const void *)(s + 16 * h));
      __m128i digit = _mm_and_si128(_mm_cmpgt_epi8(c, below_zero), _mm_cmplt_epi8(c, above_nine));
      __m128i letter = _mm_and_si128(_mm_cmpgt_epi8(c, below_a), _mm_cmplt_epi8(c, above_f));
      __m128i v = _mm_sub_epi8(_mm_sub_epi8(c, zero), _mm_and_si128(letter, letter_gap));
      valid &= _mm_movemask_epi8(_mm_or_si128(digit, letter));
      /* Each 16-bit lane holds a high digit (first, low byte) and a low one. */
      halves[h] = _mm_or_si128(_mm_slli_epi16(_mm_and_si128(v, low_byte), 4), _mm_srli_epi16(v, 8));
    }
    _mm_storeu_si128((__m128i *)(void *)raw, _mm_packus_epi16(halves[0], halves[1]));
    return valid == 0xffff;
  }
#endif
  for(size_t i = 0; i < DIGEST_MD5_LEN; i++) {
    unsigned hi = hex_value[s[2 * i]], lo = hex_value[s[2 * i + 1]];
    bad |= hi | lo;
    raw[i] = (unsigned char)(hi << 4 | (lo & 15));
  }
  return !(bad & 16);
}

/* MD5 (RFC 1321) for the one-shot digests, written out here rather than
 * called through OpenSSL: ids and row hashes are a block or two each, and
 * MD5_Init/Update/Final around those blocks (buffering, and the
 * OPENSSL_cleanse of every context) cost as much again as the blocks. The
 * incremental digest below, for files, stays with OpenSSL. */

static uint32_t load_le32(const unsigned char *p)
{
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void store_le32(unsigned char *p, uint32_t v)
{
  p[0] = (unsigned char)v;
  p[1] = (unsigned char)(v >> 8);
  p[2] = (unsigned char)(v >> 16);
  p[3] = (unsigned char)(v >> 24);
}

#define MD5_ROTL(x, s) ((x) << (s) | (x) >> (32 - (s)))
/* The four auxiliary functions in their usual reduced forms. */
#define MD5_F(b, c, d) ((d) ^ ((b) & ((c) ^ (d))))
#define MD5_G(b, c, d) ((c) ^ ((d) & ((b) ^ (c))))
#define MD5_H(b, c, d) ((b) ^ (c) ^ (d))
#define MD5_I(b, c, d) ((c) ^ ((b) | ~(d)))
#define MD5_STEP(f, a, b, c, d, k, s, t)                                     \
  do {                                                                       \
    (a) += f((b), (c), (d)) + x[k] + (uint32_t)(t);                          \
    (a) = (b) + MD5_ROTL((a), (s));                                          \
  } while(0)

static void md5_block(uint32_t state[4], const unsigned char *block)
{
  uint32_t x[16];
  uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
  for(int i = 0; i < 16; i++)
    x[i] = load_le32(block + 4 * i);

  MD5_STEP(MD5_F, a, b, c, d, 0, 7, 0xd76aa478);
  MD5_STEP(MD5_F, d, a, b, c, 1, 12, 0xe8c7b756);
  MD5_STEP(MD5_F, c, d, a, b, 2, 17, 0x242070db);
  MD5_STEP(MD5_F, b, c, d, a, 3, 22, 0xc1bdceee);
  MD5_STEP(MD5_F, a, b, c, d, 4, 7, 0xf57c0faf);
  MD5_STEP(MD5_F, d, a, b, c, 5, 12, 0x4787c62a);
  MD5_STEP(MD5_F, c, d, a, b, 6, 17, 0xa8304613);
  MD5_STEP(MD5_F, b, c, d, a, 7, 22, 0xfd469501);
  MD5_STEP(MD5_F, a, b, c, d, 8, 7, 0x698098d8);
  MD5_STEP(MD5_F, d, a, b, c, 9, 12, 0x8b44f7af);
  MD5_STEP(MD5_F, c, d, a, b, 10, 17, 0xffff5bb1);
  MD5_STEP(MD5_F, b, c, d, a, 11, 22, 0x895cd7be);
  MD5_STEP(MD5_F, a, b, c, d, 12, 7, 0x6b901122);
  MD5_STEP(MD5_F, d, a, b, c, 13, 12, 0xfd987193);
  MD5_STEP(MD5_F, c, d, a, b, 14, 17, 0xa679438e);
  MD5_STEP(MD5_F, b, c, d, a, 15, 22, 0x49b40821);

  MD5_STEP(MD5_G, a, b, c, d, 1, 5, 0xf61e2562);
  MD5_STEP(MD5_G, d, a, b, c, 6, 9, 0xc040b340);
  MD5_STEP(MD5_G, c, d, a, b, 11, 14, 0x265e5a51);
  MD5_STEP(MD5_G, b, c, d, a, 0, 20, 0xe9b6c7aa);
  MD5_STEP(MD5_G, a, b, c, d, 5, 5, 0xd62f105d);
  MD5_STEP(MD5_G, d, a, b, c, 10, 9, 0x02441453);
  MD5_STEP(MD5_G, c, d, a, b, 15, 14, 0xd8a1e681);
  MD5_STEP(MD5_G, b, c, d, a, 4, 20, 0xe7d3fbc8);
  MD5_STEP(MD5_G, a, b, c, d, 9, 5, 0x21e1cde6);
  MD5_STEP(MD5_G, d, a, b, c, 14, 9, 0xc33707d6);
  MD5_STEP(MD5_G, c, d, a, b, 3, 14, 0xf4d50d87);
  MD5_STEP(MD5_G, b, c, d, a, 8, 20, 0x455a14ed);
  MD5_STEP(MD5_G, a, b, c, d, 13, 5, 0xa9e3e905);
  MD5_STEP(MD5_G, d, a, b, c, 2, 9, 0xfcefa3f8);
  MD5_STEP(MD5_G, c, d, a, b, 7, 14, 0x676f02d9);
  MD5_STEP(MD5_G, b, c, d, a, 12, 20, 0x8d2a4c8a);

  MD5_STEP(MD5_H, a, b, c, d, 5, 4, 0xfffa3942);
  MD5_STEP(MD5_H, d, a, b, c, 8, 11, 0x8771f681);
  MD5_STEP(MD5_H, c, d, a, b, 11, 16, 0x6d9d6122);
  MD5_STEP(MD5_H, b, c, d, a, 14, 23, 0xfde5380c);
  MD5_STEP(MD5_H, a, b, c, d, 1, 4, 0xa4beea44);
  MD5_STEP(MD5_H, d, a, b, c, 4, 11, 0x4bdecfa9);
  MD5_STEP(MD5_H, c, d, a, b, 7, 16, 0xf6bb4b60);
  MD5_STEP(MD5_H, b, c, d, a, 10, 23, 0xbebfbc70);
  MD5_STEP(MD5_H, a, b, c, d, 13, 4, 0x289b7ec6);
  MD5_STEP(MD5_H, d, a, b, c, 0, 11, 0xeaa127fa);
  MD5_STEP(MD5_H, c, d, a, b, 3, 16, 0xd4ef3085);
  MD5_STEP(MD5_H, b, c, d, a, 6, 23, 0x04881d05);
  MD5_STEP(MD5_H, a, b, c, d, 9, 4, 0xd9d4d039);
  MD5_STEP(MD5_H, d, a, b, c, 12, 11, 0xe6db99e5);
  MD5_STEP(MD5_H, c, d, a, b, 15, 16, 0x1fa27cf8);
  MD5_STEP(MD5_H, b, c, d, a, 2, 23, 0xc4ac5665);

  MD5_STEP(MD5_I, a, b, c, d, 0, 6, 0xf4292244);
  MD5_STEP(MD5_I, d, a, b, c, 7, 10, 0x432aff97);
  MD5_STEP(MD5_I, c, d, a, b, 14, 15, 0xab9423a7);
  MD5_STEP(MD5_I, b, c, d, a, 5, 21, 0xfc93a039);
  MD5_STEP(MD5_I, a, b, c, d, 12, 6, 0x655b59c3);
  MD5_STEP(MD5_I, d, a, b, c, 3, 10, 0x8f0ccc92);
  MD5_STEP(MD5_I, c, d, a, b, 10, 15, 0xffeff47d);
  MD5_STEP(MD5_I, b, c, d, a, 1, 21, 0x85845dd1);
  MD5_STEP(MD5_I, a, b, c, d, 8, 6, 0x6fa87e4f);
  MD5_STEP(MD5_I, d, a, b, c, 15, 10, 0xfe2ce6e0);
  MD5_STEP(MD5_I, c, d, a, b, 6, 15, 0xa3014314);
  MD5_STEP(MD5_I, b, c, d, a, 13, 21, 0x4e0811a1);
  MD5_STEP(MD5_I, a, b, c, d, 4, 6, 0xf7537e82);
  MD5_STEP(MD5_I, d, a, b, c, 11, 10, 0xbd3af235);
  MD5_STEP(MD5_I, c, d, a, b, 2, 15, 0x2ad7d2bb);
  MD5_STEP(MD5_I, b, c, d, a, 9, 21, 0xeb86d391);

  state[0] += a;
  state[1] += b;
  state[2] += c;
  state[3] += d;
}

void digest_md5_raw(const void *data, size_t len, unsigned char raw[DIGEST_MD5_LEN])
{
  uint32_t state[4] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};
  const unsigned char *p = data;
  unsigned char tail[128];
  size_t full = len / 64 * 64, rest = len - full, tail_len = rest < 56 ? 64 : 128;
  uint64_t bits = (uint64_t)len * 8;

  for(size_t at = 0; at < full; at += 64)
    md5_block(state, p + at);
  /* The padding: 0x80, zeros, and the length in bits, little-endian. */
  if(rest)
    memcpy(tail, p + full, rest);
  tail[rest] = 0x80;
  memset(tail + rest + 1, 0, tail_len - rest - 1 - 8);
  store_le32(tail + tail_len - 8, (uint32_t)bits);
  store_le32(tail + tail_len - 4, (uint32_t)(bits >> 32));
  md5_block(state, tail);
  if(tail_len == 128)
    md5_block(state, tail + 64);
  for(int i = 0; i < 4; i++)
    store_le32(raw + 4 * i, state[i]);
}

/* 16 bytes to 32 hex digits in a few vector steps: three per SMS row. */
static void md5_to_hex(const unsigned char raw[DIGEST_MD5_LEN], char hex[DIGEST_MD5_HEX_LEN + 1])
{
#if defined(__SSE2__)
  const __m128i low_nibble = _mm_set1_epi8(0x0f), nine = _mm_set1_epi8(9);
  const __m128i zero = _mm_set1_epi8('0'), letter_gap = _mm_set1_epi8('a' - '0' - 10);
  __m128i v = _mm_loadu_si128((const __m128i *)(const void *)raw);
  __m128i hi = _mm_and_si128(_mm_srli_epi16(v, 4), low_nibble);
  __m128i lo = _mm_and_si128(v, low_nibble);
  __m128i first = _mm_unpacklo_epi8(hi, lo), second = _mm_unpackhi_epi8(hi, lo);
  /* digit + '0', plus the gap up to 'a' for 10..15 */
  first = _mm_add_epi8(_mm_add_epi8(first, zero),
                       _mm_and_si128(_mm_cmpgt_epi8(first, nine), letter_gap));
  second = _mm_add_epi8(_mm_add_epi8(second, zero),
                        _mm_and_si128(_mm_cmpgt_epi8(second, nine), letter_gap));
  _mm_storeu_si128((__m128i *)(void *)hex, first);
  _mm_storeu_si128((__m128i *)(void *)(hex + 16), second);
  hex[DIGEST_MD5_HEX_LEN] = '\0';
#else
  digest_to_hex(raw, DIGEST_MD5_LEN, hex);
#endif
}

void digest_md5_hex(const void *data, size_t len, char hex[DIGEST_MD5_HEX_LEN + 1])
{
  unsigned char raw[DIGEST_MD5_LEN];
  digest_md5_raw(data, len, raw);
  md5_to_hex(raw, hex);
}

void digest_sha256_hex(const void *data, size_t len, char hex[DIGEST_SHA256_HEX_LEN + 1])
{
  /* Not the one-shot SHA256(): in OpenSSL 3 it goes through EVP_Q_digest,
   * which drags the whole provider machinery into a static link (17,000
   * start-up relocations, ~3 ms of every process start). */
  SHA256_CTX ctx;
  unsigned char raw[SHA256_DIGEST_LENGTH];
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, data, len);
  SHA256_Final(raw, &ctx);
  digest_to_hex(raw, sizeof(raw), hex);
}

struct digest_sha256 {
  SHA256_CTX ctx;
};

digest_sha256 *digest_sha256_create(void)
{
  digest_sha256 *d = malloc(sizeof(*d));
  if(d)
    SHA256_Init(&d->ctx);
  return d;
}

void digest_sha256_update(digest_sha256 *d, const void *data, size_t len)
{
  SHA256_Update(&d->ctx, data, len);
}

void digest_sha256_final_hex(digest_sha256 *d, char hex[DIGEST_SHA256_HEX_LEN + 1])
{
  unsigned char raw[SHA256_DIGEST_LENGTH];
  SHA256_Final(raw, &d->ctx);
  digest_to_hex(raw, sizeof(raw), hex);
}

void digest_sha256_free(digest_sha256 *d)
{
  free(d);
}

struct digest_md5 {
  MD5_CTX ctx;
};

digest_md5 *digest_md5_create(void)
{
  digest_md5 *d = malloc(sizeof(*d));
  if(d)
    MD5_Init(&d->ctx);
  return d;
}

void digest_md5_update(digest_md5 *d, const void *data, size_t len)
{
  MD5_Update(&d->ctx, data, len);
}

void digest_md5_final_hex(digest_md5 *d, char hex[DIGEST_MD5_HEX_LEN + 1])
{
  unsigned char raw[MD5_DIGEST_LENGTH];
  MD5_Final(raw, &d->ctx);
  digest_to_hex(raw, sizeof(raw), hex);
}

void digest_md5_free(digest_md5 *d)
{
  free(d);
}

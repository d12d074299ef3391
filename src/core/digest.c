/* The low-level MD5/SHA256 calls are deprecated in OpenSSL 3 in favour of
 * EVP, but EVP costs an allocation and a provider lookup per digest, which
 * shows at three MD5s per row; the low-level ones are still supported. */
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "digest.h"
#include "digest_lanes.h"
#include "log.h"

#include <openssl/md5.h>
#include <openssl/sha.h>
#include <stdatomic.h>
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
#define MD5_STEP(r, a, b, c, d, k, s, t)                                     \
  do {                                                                       \
    (a) += MD5_##r((b), (c), (d)) + x[k] + (uint32_t)(t);                    \
    (a) = (b) + MD5_ROTL((a), (s));                                          \
  } while(0)

static void md5_block(uint32_t state[4], const unsigned char *block)
{
  uint32_t x[16];
  uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
  for(int i = 0; i < 16; i++)
    x[i] = load_le32(block + 4 * i);

  DIGEST_MD5_STEPS(MD5_STEP);

  state[0] += a;
  state[1] += b;
  state[2] += c;
  state[3] += d;
}

static const uint32_t md5_initial[4] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};

/* The bytes after a message's last full block, then the padding (0x80,
 * zeros, the length in bits, little-endian) in one or two blocks of tail;
 * returns how many. */
static size_t md5_pad(const unsigned char *data, size_t len, unsigned char tail[128])
{
  size_t full = len / 64 * 64, rest = len - full, tail_len = rest < 56 ? 64 : 128;
  uint64_t bits = (uint64_t)len * 8;
  /* A fixed-size clear is a few inline stores; a sized one is a call. */
  memset(tail, 0, 128);
  if(rest)
    memcpy(tail, data + full, rest);
  tail[rest] = 0x80;
  store_le32(tail + tail_len - 8, (uint32_t)bits);
  store_le32(tail + tail_len - 4, (uint32_t)(bits >> 32));
  return tail_len / 64;
}

void digest_md5_raw(const void *data, size_t len, unsigned char raw[DIGEST_MD5_LEN])
{
  uint32_t state[4] = {md5_initial[0], md5_initial[1], md5_initial[2], md5_initial[3]};
  const unsigned char *p = data;
  unsigned char tail[128];
  size_t full = len / 64 * 64, tail_blocks = md5_pad(p, len, tail);

  for(size_t at = 0; at < full; at += 64)
    md5_block(state, p + at);
  for(size_t t = 0; t < tail_blocks; t++)
    md5_block(state, tail + 64 * t);
  for(int i = 0; i < 4; i++)
    store_le32(raw + 4 * i, state[i]);
}

/* ---- several messages side by side (digest_lanes.h) ---- */

/* One lane's message: its full blocks are read in place, the rest from
 * tail. message is SIZE_MAX once the lane has nothing left to hash. */
typedef struct md5_lane {
  const unsigned char *data;
  size_t full, blocks, at, message;
  unsigned char tail[128];
} md5_lane;

/* What an idle lane hashes while the others finish: its state is never
 * read back. */
static const unsigned char md5_idle_block[64];

/* Start lane l on a message: its state, and its first block in *block. */
static void lane_start(md5_lane *lane, uint32_t *state, size_t lanes, size_t l, size_t message,
                       const void *data, size_t len, const unsigned char **block)
{
  lane->data = data;
  lane->full = len / 64;
  lane->blocks = lane->full + md5_pad(data, len, lane->tail);
  lane->at = 0;
  lane->message = message;
  for(size_t r = 0; r < 4; r++)
    state[r * lanes + l] = md5_initial[r];
  *block = lane->full ? lane->data : lane->tail;
}

/* A lane takes the next message as soon as its own ends, so messages of
 * 1 and 5 blocks mix without lanes waiting on the longest of a group. */
static void md5_many_in_lanes(digest_md5_lanes_fn fn, size_t lanes, size_t count,
                              const void *const data[], const size_t len[],
                              unsigned char (*raw)[DIGEST_MD5_LEN])
{
  _Alignas(64) uint32_t state[4 * DIGEST_MD5_MAX_LANES];
  md5_lane lane[DIGEST_MD5_MAX_LANES];
  const unsigned char *blocks[DIGEST_MD5_MAX_LANES];
  size_t next = 0, busy = 0;

  for(size_t l = 0; l < lanes; l++) {
    if(next < count) {
      lane_start(&lane[l], state, lanes, l, next, data[next], len[next], &blocks[l]);
      next++;
      busy++;
    }
    else {
      lane[l].message = SIZE_MAX;
      blocks[l] = md5_idle_block;
    }
  }
  while(busy) {
    fn(state, blocks);
    for(size_t l = 0; l < lanes; l++) {
      md5_lane *ln = &lane[l];
      if(ln->message == SIZE_MAX)
        continue;
      if(++ln->at < ln->blocks) {
        blocks[l] = ln->at < ln->full ? ln->data + 64 * ln->at
                                      : ln->tail + 64 * (ln->at - ln->full);
        continue;
      }
      for(size_t r = 0; r < 4; r++)
        store_le32(raw[ln->message] + 4 * r, state[r * lanes + l]);
      if(next < count) {
        lane_start(ln, state, lanes, l, next, data[next], len[next], &blocks[l]);
        next++;
      }
      else {
        ln->message = SIZE_MAX;
        blocks[l] = md5_idle_block;
        busy--;
      }
    }
  }
}

/* What each path needs of the CPU beyond x86-64's SSE2 (or the build's
 * baseline elsewhere). */
enum { NEEDS_BASELINE, NEEDS_AVX2, NEEDS_AVX512F, NEEDS_AVX512VL };

typedef struct path_info {
  const char *name;
  size_t lanes;
  const digest_md5_lanes_fn *fn; /* NULL for auto and scalar */
  int needs;
} path_info;

static const path_info paths[DIGEST_MD5_PATH_COUNT] = {
  {"auto", 1, NULL, NEEDS_BASELINE},
  {"scalar", 1, NULL, NEEDS_BASELINE},
  {"vec4", 4, &digest_md5_lanes_vec4, NEEDS_BASELINE},
  {"vec4x2", 8, &digest_md5_lanes_vec4x2, NEEDS_BASELINE},
  {"avx2", 8, &digest_md5_lanes_avx2, NEEDS_AVX2},
  {"avx2x2", 16, &digest_md5_lanes_avx2x2, NEEDS_AVX2},
  {"avx512vl", 8, &digest_md5_lanes_avx512vl, NEEDS_AVX512VL},
  {"avx512vlx2", 16, &digest_md5_lanes_avx512vlx2, NEEDS_AVX512VL},
  {"avx512", 16, &digest_md5_lanes_avx512, NEEDS_AVX512F},
  {"avx512x2", 32, &digest_md5_lanes_avx512x2, NEEDS_AVX512F},
};

const char *digest_md5_path_name(digest_md5_path path)
{
  return (unsigned)path < DIGEST_MD5_PATH_COUNT ? paths[path].name : "unknown";
}

size_t digest_md5_path_lanes(digest_md5_path path)
{
  return (unsigned)path < DIGEST_MD5_PATH_COUNT ? paths[path].lanes : 1;
}

static int cpu_has(int needs)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  /* The CPU's flags, and (inside these checks) whether the OS saves the
   * wider registers. */
  __builtin_cpu_init();
  switch(needs) {
  case NEEDS_AVX2:
    return __builtin_cpu_supports("avx2") != 0;
  case NEEDS_AVX512F:
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("avx512f");
  case NEEDS_AVX512VL:
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("avx512f") &&
           __builtin_cpu_supports("avx512vl");
  default:
    return 1;
  }
#else
  return needs == NEEDS_BASELINE;
#endif
}

int digest_md5_lanes_check(digest_md5_lanes_fn fn, size_t lanes)
{
  /* Every padding case (55, 56 and 64 bytes mark where a second block
   * starts), several blocks, more messages than lanes so lanes are
   * refilled, and a few idle lanes at the end. */
  static const size_t lengths[] = {0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 200};
  enum { LENGTHS = sizeof(lengths) / sizeof(lengths[0]), MOST = 2 * DIGEST_MD5_MAX_LANES + 5 };
  unsigned char text[208], got[MOST][DIGEST_MD5_LEN], want[DIGEST_MD5_LEN];
  const void *data[MOST];
  size_t len[MOST], count = 2 * lanes + 5;
  if(lanes == 0 || lanes > DIGEST_MD5_MAX_LANES)
    return 0;
  for(size_t i = 0; i < sizeof(text); i++)
    text[i] = (unsigned char)(i * 131 + 7);
  for(size_t i = 0; i < count; i++) {
    data[i] = text + i % 8;
    len[i] = lengths[i % LENGTHS];
  }
  md5_many_in_lanes(fn, lanes, count, data, len, got);
  for(size_t i = 0; i < count; i++) {
    digest_md5_raw(data[i], len[i], want);
    if(memcmp(got[i], want, DIGEST_MD5_LEN))
      return 0;
  }
  return 1;
}

/* Whether a path computed known digests on this CPU: 0 not yet asked, 1
 * yes, 2 no. The AVX-512 paths cannot run on the machines that test this
 * project, and a wrong digest would be stored as an id for good, so a
 * path is trusted only once it agrees with OpenSSL's MD5 here. */
static _Atomic unsigned char path_verdict[DIGEST_MD5_PATH_COUNT];

static int path_agrees(digest_md5_path path)
{
  unsigned char verdict = atomic_load_explicit(&path_verdict[path], memory_order_relaxed);
  if(!verdict) {
    verdict = digest_md5_lanes_check(*paths[path].fn, paths[path].lanes) ? 1 : 2;
    atomic_store_explicit(&path_verdict[path], verdict, memory_order_relaxed);
    if(verdict == 2)
      log_message(LOG_WARN, "md5: the %s path got a known digest wrong on this CPU; not used",
                  paths[path].name);
  }
  return verdict == 1;
}

int digest_md5_path_available(digest_md5_path path)
{
  if((unsigned)path >= DIGEST_MD5_PATH_COUNT)
    return 0;
  if(!paths[path].fn)
    return 1;
  return *paths[path].fn != NULL && cpu_has(paths[path].needs) && path_agrees(path);
}

/* The paths auto uses for a batch, decided once: `narrow` up to
 * narrow_count messages (a wide path with most lanes idle costs as much as
 * when they are full), `wide` beyond. COLLATOR_MD5_LANES names one path for
 * every batch instead. Packed in one atomic word so that threads racing to
 * decide first publish the same value without a lock. */
#define CHOICE_MADE 1u
#define CHOICE(narrow, wide, narrow_count)                                   \
  (CHOICE_MADE | (unsigned)(narrow) << 1 | (unsigned)(wide) << 5 | (unsigned)(narrow_count) << 9)
_Static_assert(DIGEST_MD5_PATH_COUNT <= 16, "a path fits 4 bits of a choice");

static _Atomic unsigned path_choice;

static unsigned choose_paths(void)
{
  const char *forced = getenv("COLLATOR_MD5_LANES");
  if(forced && *forced) {
    for(int p = DIGEST_MD5_PATH_SCALAR; p < DIGEST_MD5_PATH_COUNT; p++)
      if(!strcmp(forced, paths[p].name) && digest_md5_path_available((digest_md5_path)p))
        return CHOICE(p, p, 0);
  }
  if(digest_md5_path_available(DIGEST_MD5_PATH_AVX512X2)) {
    if(digest_md5_path_available(DIGEST_MD5_PATH_AVX512VLX2))
      return CHOICE(DIGEST_MD5_PATH_AVX512VLX2, DIGEST_MD5_PATH_AVX512X2, 16);
    return CHOICE(DIGEST_MD5_PATH_AVX512X2, DIGEST_MD5_PATH_AVX512X2, 0);
  }
  if(digest_md5_path_available(DIGEST_MD5_PATH_AVX2X2))
    return CHOICE(DIGEST_MD5_PATH_VEC4X2, DIGEST_MD5_PATH_AVX2X2, 8);
  if(digest_md5_path_available(DIGEST_MD5_PATH_VEC4X2))
    return CHOICE(DIGEST_MD5_PATH_VEC4X2, DIGEST_MD5_PATH_VEC4X2, 0);
  return CHOICE(DIGEST_MD5_PATH_SCALAR, DIGEST_MD5_PATH_SCALAR, 0);
}

static digest_md5_path auto_path(size_t count)
{
  unsigned c = atomic_load_explicit(&path_choice, memory_order_relaxed);
  if(!c) {
    c = choose_paths();
    atomic_store_explicit(&path_choice, c, memory_order_relaxed);
  }
  return (digest_md5_path)(count <= (c >> 9) ? c >> 1 & 15 : c >> 5 & 15);
}

void digest_md5_raw_many_on(digest_md5_path path, size_t count, const void *const data[],
                            const size_t len[], unsigned char (*raw)[DIGEST_MD5_LEN])
{
  if(path == DIGEST_MD5_PATH_AUTO)
    path = count > 1 ? auto_path(count) : DIGEST_MD5_PATH_SCALAR;
  /* auto only ever picks a path the CPU runs */
  else if(!digest_md5_path_available(path))
    path = DIGEST_MD5_PATH_SCALAR;
  if((unsigned)path >= DIGEST_MD5_PATH_COUNT || !paths[path].fn) {
    for(size_t i = 0; i < count; i++)
      digest_md5_raw(data[i], len[i], raw[i]);
    return;
  }
  md5_many_in_lanes(*paths[path].fn, paths[path].lanes, count, data, len, raw);
}

void digest_md5_raw_many(size_t count, const void *const data[], const size_t len[],
                         unsigned char (*raw)[DIGEST_MD5_LEN])
{
  digest_md5_raw_many_on(DIGEST_MD5_PATH_AUTO, count, data, len, raw);
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

void digest_md5_hex_many(size_t count, const void *const data[], const size_t len[],
                         char (*hex)[DIGEST_MD5_HEX_LEN + 1])
{
  /* In slices, so the raw digests stay on the stack; a slice is many times
   * the widest path's lanes, so slicing leaves few lanes idle. */
  enum { SLICE = 64 };
  unsigned char raw[SLICE][DIGEST_MD5_LEN];
  for(size_t first = 0; first < count; first += SLICE) {
    size_t n = count - first < SLICE ? count - first : SLICE;
    digest_md5_raw_many(n, data + first, len + first, raw);
    for(size_t i = 0; i < n; i++)
      md5_to_hex(raw[i], hex[first + i]);
  }
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

/* Over SHA256_CTX rather than OpenSSL's HMAC(), which goes through EVP
 * (see digest_sha256_hex). */
void digest_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                        unsigned char out[DIGEST_SHA256_LEN])
{
  enum { BLOCK = 64 };
  unsigned char block_key[BLOCK] = {0}, pad[BLOCK], inner[SHA256_DIGEST_LENGTH];
  SHA256_CTX ctx;
  if(key_len > BLOCK) {
    SHA256_Init(&ctx);
    SHA256_Update(&ctx, key, key_len);
    SHA256_Final(block_key, &ctx);
  } else if(key_len) {
    memcpy(block_key, key, key_len);
  }
  for(int i = 0; i < BLOCK; i++)
    pad[i] = block_key[i] ^ 0x36;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, pad, BLOCK);
  SHA256_Update(&ctx, data, len);
  SHA256_Final(inner, &ctx);
  for(int i = 0; i < BLOCK; i++)
    pad[i] = block_key[i] ^ 0x5c;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, pad, BLOCK);
  SHA256_Update(&ctx, inner, sizeof(inner));
  SHA256_Final(out, &ctx);
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

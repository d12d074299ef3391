/* The MD5 block functions over vector lanes (see digest_lanes.h).
 *
 * Every function expands the same DIGEST_MD5_STEPS with one instruction
 * set's vector operations. Vector operations have longer latencies than
 * scalar ones, so one group of lanes is still a chain that waits on itself;
 * the x2 functions run two independent groups step by step, which measured
 * 1.5-2x the blocks per second of one group (bench/digest_bench.c). The
 * x86-64 ones beyond SSE2 are compiled for their instruction sets with
 * target attributes and only ever called after digest.c has asked the CPU.
 * Blocks arrive as one pointer per lane; each group first turns its lanes'
 * rows of 16 words into 16 vectors (word k of every lane). */
#include "digest_lanes.h"

#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define LANES_X86 1
#endif

/* One step over G groups: x[g][k] + t + a is summed first and pinned by an
 * empty asm, since compilers otherwise reassociate the sum so that the
 * round function's result waits on two more additions. */
#define LANES_STEP(P, r, a, b, c, d, k, s, t)                                  \
  do {                                                                       \
    const P##_vec k_ = P##_set1(t);                                          \
    _Pragma("GCC unroll 4") for(int g = 0; g < G; g++) {                     \
      P##_vec sum_ = P##_add(a[g], P##_add(x[g][k], k_));                    \
      P##_pin(sum_);                                                         \
      a[g] = P##_add(b[g], P##_rotl(P##_add(sum_, P##_##r(b[g], c[g], d[g])), s)); \
    }                                                                        \
  } while(0)

/* A block function name over G groups of instruction set P; ATTR is its
 * target attribute. State vector r of group g is at state + (r * G + g) *
 * P_lanes, so the state of lane l is at state[r * G * P_lanes + l]. */
#define DEFINE_LANES(name, P, G_, ATTR)                                        \
  ATTR static void name(uint32_t *state, const unsigned char *const *blocks) \
  {                                                                          \
    enum { G = G_, L = P##_lanes };                                          \
    P##_vec x[G][16], a[G], b[G], c[G], d[G];                                \
    for(int g = 0; g < G; g++) {                                             \
      P##_words(x[g], blocks + g * L);                                       \
      a[g] = P##_load(state + (0 * G + g) * L);                              \
      b[g] = P##_load(state + (1 * G + g) * L);                              \
      c[g] = P##_load(state + (2 * G + g) * L);                              \
      d[g] = P##_load(state + (3 * G + g) * L);                              \
    }                                                                        \
    DIGEST_MD5_STEPS(P##_step);                                              \
    for(int g = 0; g < G; g++) {                                             \
      P##_store(state + (0 * G + g) * L, P##_add(a[g], P##_load(state + (0 * G + g) * L))); \
      P##_store(state + (1 * G + g) * L, P##_add(b[g], P##_load(state + (1 * G + g) * L))); \
      P##_store(state + (2 * G + g) * L, P##_add(c[g], P##_load(state + (2 * G + g) * L))); \
      P##_store(state + (3 * G + g) * L, P##_add(d[g], P##_load(state + (3 * G + g) * L))); \
    }                                                                        \
  }

/* ---- 4 lanes in the compiler's generic vectors: SSE2 or NEON ---- */

#if defined(__x86_64__) || defined(__aarch64__)

typedef uint32_t v4_vec __attribute__((vector_size(16)));
#define v4_lanes 4

static uint32_t le32(const unsigned char *p)
{
  uint32_t v;
  memcpy(&v, p, sizeof(v));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap32(v);
#endif
  return v;
}

static v4_vec v4_load(const uint32_t *p)
{
  v4_vec v;
  memcpy(&v, p, sizeof(v));
  return v;
}

static void v4_store(uint32_t *p, v4_vec v)
{
  memcpy(p, &v, sizeof(v));
}

static void v4_words(v4_vec x[16], const unsigned char *const *blocks)
{
  for(int k = 0; k < 16; k++)
    x[k] = (v4_vec){le32(blocks[0] + 4 * k), le32(blocks[1] + 4 * k), le32(blocks[2] + 4 * k),
                    le32(blocks[3] + 4 * k)};
}

#if defined(__x86_64__)
#define v4_pin(v) __asm__("" : "+x"(v))
#else
#define v4_pin(v) __asm__("" : "+w"(v))
#endif
#define v4_set1(t) ((v4_vec){(uint32_t)(t), (uint32_t)(t), (uint32_t)(t), (uint32_t)(t)})
#define v4_add(x, y) ((x) + (y))
#define v4_rotl(x, s) ((x) << (s) | (x) >> (32 - (s)))
#define v4_F(b, c, d) ((d) ^ ((b) & ((c) ^ (d))))
#define v4_G(b, c, d) ((c) ^ ((d) & ((b) ^ (c))))
#define v4_H(b, c, d) ((b) ^ (c) ^ (d))
#define v4_I(b, c, d) ((c) ^ ((b) | ~(d)))
#define v4_step(...) LANES_STEP(v4, __VA_ARGS__)

DEFINE_LANES(md5_lanes_vec4, v4, 1, )
DEFINE_LANES(md5_lanes_vec4x2, v4, 2, )

const digest_md5_lanes_fn digest_md5_lanes_vec4 = md5_lanes_vec4;
const digest_md5_lanes_fn digest_md5_lanes_vec4x2 = md5_lanes_vec4x2;

#else

const digest_md5_lanes_fn digest_md5_lanes_vec4 = NULL;
const digest_md5_lanes_fn digest_md5_lanes_vec4x2 = NULL;

#endif

#if defined(LANES_X86)

/* Words first..first+7 of 8 lanes' blocks into out[0..7], one word of all
 * eight lanes per vector: an 8x8 transpose in three shuffle stages. A
 * macro, so that it takes the instruction set of whichever function uses
 * it. */
#define TRANSPOSE8(out, blocks, first)                                          \
  do {                                                                        \
    __m256i r_[8], t_[8], u_[8];                                              \
    for(int l_ = 0; l_ < 8; l_++)                                             \
      r_[l_] = _mm256_loadu_si256((const __m256i *)(const void *)((blocks)[l_] + 4 * (first))); \
    for(int p_ = 0; p_ < 4; p_++) {                                           \
      t_[2 * p_] = _mm256_unpacklo_epi32(r_[2 * p_], r_[2 * p_ + 1]);         \
      t_[2 * p_ + 1] = _mm256_unpackhi_epi32(r_[2 * p_], r_[2 * p_ + 1]);     \
    }                                                                         \
    for(int h_ = 0; h_ < 2; h_++) {                                           \
      u_[4 * h_] = _mm256_unpacklo_epi64(t_[4 * h_], t_[4 * h_ + 2]);         \
      u_[4 * h_ + 1] = _mm256_unpackhi_epi64(t_[4 * h_], t_[4 * h_ + 2]);     \
      u_[4 * h_ + 2] = _mm256_unpacklo_epi64(t_[4 * h_ + 1], t_[4 * h_ + 3]); \
      u_[4 * h_ + 3] = _mm256_unpackhi_epi64(t_[4 * h_ + 1], t_[4 * h_ + 3]); \
    }                                                                         \
    for(int w_ = 0; w_ < 4; w_++) {                                           \
      (out)[w_] = _mm256_permute2x128_si256(u_[w_], u_[w_ + 4], 0x20);        \
      (out)[w_ + 4] = _mm256_permute2x128_si256(u_[w_], u_[w_ + 4], 0x31);    \
    }                                                                         \
  } while(0)

/* ---- 8 lanes, AVX2 ---- */

#define TARGET_AVX2 __attribute__((target("avx2")))
typedef __m256i v8_vec;
#define v8_lanes 8
#define v8_load(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))
#define v8_store(p, v) _mm256_storeu_si256((__m256i *)(void *)(p), (v))
#define v8_words(x, blocks)                                                    \
  do {                                                                       \
    TRANSPOSE8((x), (blocks), 0);                                            \
    TRANSPOSE8((x) + 8, (blocks), 8);                                        \
  } while(0)
#define v8_pin(v) __asm__("" : "+x"(v))
#define v8_set1(t) _mm256_set1_epi32((int)(uint32_t)(t))
#define v8_add(x, y) _mm256_add_epi32((x), (y))
#define v8_rotl(x, s) _mm256_or_si256(_mm256_slli_epi32((x), (s)), _mm256_srli_epi32((x), 32 - (s)))
#define v8_F(b, c, d) _mm256_xor_si256((d), _mm256_and_si256((b), _mm256_xor_si256((c), (d))))
#define v8_G(b, c, d) _mm256_xor_si256((c), _mm256_and_si256((d), _mm256_xor_si256((b), (c))))
#define v8_H(b, c, d) _mm256_xor_si256(_mm256_xor_si256((b), (c)), (d))
/* c ^ (b | ~d), with ~d as d ^ all ones */
#define v8_I(b, c, d)                                                          \
  _mm256_xor_si256((c), _mm256_or_si256((b), _mm256_xor_si256((d), _mm256_set1_epi32(-1))))
#define v8_step(...) LANES_STEP(v8, __VA_ARGS__)

DEFINE_LANES(md5_lanes_avx2, v8, 1, TARGET_AVX2)
DEFINE_LANES(md5_lanes_avx2x2, v8, 2, TARGET_AVX2)

/* ---- 8 lanes, AVX-512VL: one instruction per round function and rotate ---- */

/* vpternlogd truth tables over (b, c, d): F = b ? c : d; G = d ? b : c;
 * H = b ^ c ^ d; I = c ^ (b | ~d). */
#define TERN_F 0xca
#define TERN_G 0xe4
#define TERN_H 0x96
#define TERN_I 0x39

#define TARGET_AVX512VL __attribute__((target("avx2,avx512f,avx512vl")))
typedef __m256i w8_vec;
#define w8_lanes 8
#define w8_load v8_load
#define w8_store v8_store
#define w8_words v8_words
#define w8_pin(v) __asm__("" : "+v"(v))
#define w8_set1 v8_set1
#define w8_add v8_add
#define w8_rotl(x, s) _mm256_rol_epi32((x), (s))
#define w8_F(b, c, d) _mm256_ternarylogic_epi32((b), (c), (d), TERN_F)
#define w8_G(b, c, d) _mm256_ternarylogic_epi32((b), (c), (d), TERN_G)
#define w8_H(b, c, d) _mm256_ternarylogic_epi32((b), (c), (d), TERN_H)
#define w8_I(b, c, d) _mm256_ternarylogic_epi32((b), (c), (d), TERN_I)
#define w8_step(...) LANES_STEP(w8, __VA_ARGS__)

DEFINE_LANES(md5_lanes_avx512vl, w8, 1, TARGET_AVX512VL)
DEFINE_LANES(md5_lanes_avx512vlx2, w8, 2, TARGET_AVX512VL)

/* ---- 16 lanes, AVX-512F ---- */

#define TARGET_AVX512 __attribute__((target("avx2,avx512f")))
typedef __m512i v16_vec;
#define v16_lanes 16
#define v16_load(p) _mm512_loadu_si512((const void *)(p))
#define v16_store(p, v) _mm512_storeu_si512((void *)(p), (v))
/* Two 8x8 transposes per half of the lanes, joined per word. */
#define v16_words(x, blocks)                                                   \
  do {                                                                       \
    __m256i low_[16], high_[16];                                             \
    v8_words(low_, (blocks));                                                \
    v8_words(high_, (blocks) + 8);                                           \
    for(int k_ = 0; k_ < 16; k_++)                                           \
      (x)[k_] = _mm512_inserti64x4(_mm512_castsi256_si512(low_[k_]), high_[k_], 1); \
  } while(0)
#define v16_pin(v) __asm__("" : "+v"(v))
#define v16_set1(t) _mm512_set1_epi32((int)(uint32_t)(t))
#define v16_add(x, y) _mm512_add_epi32((x), (y))
#define v16_rotl(x, s) _mm512_rol_epi32((x), (s))
#define v16_F(b, c, d) _mm512_ternarylogic_epi32((b), (c), (d), TERN_F)
#define v16_G(b, c, d) _mm512_ternarylogic_epi32((b), (c), (d), TERN_G)
#define v16_H(b, c, d) _mm512_ternarylogic_epi32((b), (c), (d), TERN_H)
#define v16_I(b, c, d) _mm512_ternarylogic_epi32((b), (c), (d), TERN_I)
#define v16_step(...) LANES_STEP(v16, __VA_ARGS__)

DEFINE_LANES(md5_lanes_avx512, v16, 1, TARGET_AVX512)
DEFINE_LANES(md5_lanes_avx512x2, v16, 2, TARGET_AVX512)

const digest_md5_lanes_fn digest_md5_lanes_avx2 = md5_lanes_avx2;
const digest_md5_lanes_fn digest_md5_lanes_avx2x2 = md5_lanes_avx2x2;
const digest_md5_lanes_fn digest_md5_lanes_avx512vl = md5_lanes_avx512vl;
const digest_md5_lanes_fn digest_md5_lanes_avx512vlx2 = md5_lanes_avx512vlx2;
const digest_md5_lanes_fn digest_md5_lanes_avx512 = md5_lanes_avx512;
const digest_md5_lanes_fn digest_md5_lanes_avx512x2 = md5_lanes_avx512x2;

#else

const digest_md5_lanes_fn digest_md5_lanes_avx2 = NULL;
const digest_md5_lanes_fn digest_md5_lanes_avx2x2 = NULL;
const digest_md5_lanes_fn digest_md5_lanes_avx512vl = NULL;
const digest_md5_lanes_fn digest_md5_lanes_avx512vlx2 = NULL;
const digest_md5_lanes_fn digest_md5_lanes_avx512 = NULL;
const digest_md5_lanes_fn digest_md5_lanes_avx512x2 = NULL;

#endif

/*
 * digest_lanes (internal to src/core): MD5 of several messages side by side
 * in the lanes of vector registers, behind digest_md5_raw_many.
 *
 * One MD5 is a chain of 64 dependent steps, so a core mostly waits on it;
 * independent messages hashed in the lanes of one vector share those waits.
 * Each path is a block function over L lanes (state and one 64-byte block
 * per lane); digest.c feeds the lanes, refilling a lane with the next
 * message as soon as its own ends. The widest path the CPU runs is chosen
 * once at run time (the build has no -march), so the binary still runs on
 * any x86-64. Tests and bench/digest_bench.c name a path to check or time
 * each one; COLLATOR_MD5_LANES (a path name) overrides the choice.
 */
#ifndef COLLATOR_CORE_DIGEST_LANES_H
#define COLLATOR_CORE_DIGEST_LANES_H

#include <stddef.h>
#include <stdint.h>

#include "digest.h"

/* The x2 paths run two independent groups of lanes in each call: vector
 * operations are slow enough to wait on that a second chain nearly doubles
 * the throughput of one. */
typedef enum digest_md5_path {
  DIGEST_MD5_PATH_AUTO,       /* the run-time choice, by CPU and batch size */
  DIGEST_MD5_PATH_SCALAR,     /* one message after another */
  DIGEST_MD5_PATH_VEC4,       /* 4 lanes: SSE2 on x86-64, NEON on aarch64 */
  DIGEST_MD5_PATH_VEC4X2,     /* 2 x 4 lanes */
  DIGEST_MD5_PATH_AVX2,       /* 8 lanes */
  DIGEST_MD5_PATH_AVX2X2,     /* 2 x 8 lanes */
  DIGEST_MD5_PATH_AVX512VL,   /* 8 lanes with vprold and vpternlogd */
  DIGEST_MD5_PATH_AVX512VLX2, /* 2 x 8 lanes with vprold and vpternlogd */
  DIGEST_MD5_PATH_AVX512,     /* 16 lanes with vprold and vpternlogd */
  DIGEST_MD5_PATH_AVX512X2,   /* 2 x 16 lanes */
  DIGEST_MD5_PATH_COUNT
} digest_md5_path;

/* The most lanes of any path. */
#define DIGEST_MD5_MAX_LANES 32

/* The path's name as COLLATOR_MD5_LANES takes it: "auto", "scalar",
 * "vec4", "vec4x2", "avx2", "avx2x2", "avx512vl", "avx512vlx2", "avx512",
 * "avx512x2"; "unknown" for any other value. */
const char *digest_md5_path_name(digest_md5_path path);
/* 1 when this build and this CPU can run the path (AUTO and SCALAR always)
 * and it computed known digests right here, checked once per path. */
int digest_md5_path_available(digest_md5_path path);
/* Lanes of a path (1 for SCALAR and AUTO). */
size_t digest_md5_path_lanes(digest_md5_path path);
/* digest_md5_raw_many on the named path; an unavailable path is scalar. */
void digest_md5_raw_many_on(digest_md5_path path, size_t count, const void *const data[],
                            const size_t len[], unsigned char (*raw)[DIGEST_MD5_LEN]);

/* A block function over L lanes: state holds a, b, c, d of every lane
 * (state[r * L + lane]); blocks[lane] points at that lane's 64 bytes (any
 * alignment). */
typedef void (*digest_md5_lanes_fn)(uint32_t *state, const unsigned char *const *blocks);

/* 1 when fn over `lanes` lanes gives OpenSSL's MD5 for messages of every
 * padding case, several blocks and more messages than lanes. */
int digest_md5_lanes_check(digest_md5_lanes_fn fn, size_t lanes);

/* The block functions of digest_lanes.c; NULL where the build has none. */
extern const digest_md5_lanes_fn digest_md5_lanes_vec4, digest_md5_lanes_vec4x2,
  digest_md5_lanes_avx2, digest_md5_lanes_avx2x2, digest_md5_lanes_avx512vl,
  digest_md5_lanes_avx512vlx2, digest_md5_lanes_avx512, digest_md5_lanes_avx512x2;

/* The 64 steps of RFC 1321 for every implementation to expand with its own
 * STEP(round, a, b, c, d, word, shift, constant); round is F, G, H or I. */
#define DIGEST_MD5_STEPS(STEP)                                                 \
  STEP(F, a, b, c, d, 0, 7, 0xd76aa478); STEP(F, d, a, b, c, 1, 12, 0xe8c7b756);  \
  STEP(F, c, d, a, b, 2, 17, 0x242070db); STEP(F, b, c, d, a, 3, 22, 0xc1bdceee); \
  STEP(F, a, b, c, d, 4, 7, 0xf57c0faf); STEP(F, d, a, b, c, 5, 12, 0x4787c62a);  \
  STEP(F, c, d, a, b, 6, 17, 0xa8304613); STEP(F, b, c, d, a, 7, 22, 0xfd469501); \
  STEP(F, a, b, c, d, 8, 7, 0x698098d8); STEP(F, d, a, b, c, 9, 12, 0x8b44f7af);  \
  STEP(F, c, d, a, b, 10, 17, 0xffff5bb1); STEP(F, b, c, d, a, 11, 22, 0x895cd7be); \
  STEP(F, a, b, c, d, 12, 7, 0x6b901122); STEP(F, d, a, b, c, 13, 12, 0xfd987193); \
  STEP(F, c, d, a, b, 14, 17, 0xa679438e); STEP(F, b, c, d, a, 15, 22, 0x49b40821); \
  STEP(G, a, b, c, d, 1, 5, 0xf61e2562); STEP(G, d, a, b, c, 6, 9, 0xc040b340);   \
  STEP(G, c, d, a, b, 11, 14, 0x265e5a51); STEP(G, b, c, d, a, 0, 20, 0xe9b6c7aa); \
  STEP(G, a, b, c, d, 5, 5, 0xd62f105d); STEP(G, d, a, b, c, 10, 9, 0x02441453);  \
  STEP(G, c, d, a, b, 15, 14, 0xd8a1e681); STEP(G, b, c, d, a, 4, 20, 0xe7d3fbc8); \
  STEP(G, a, b, c, d, 9, 5, 0x21e1cde6); STEP(G, d, a, b, c, 14, 9, 0xc33707d6);  \
  STEP(G, c, d, a, b, 3, 14, 0xf4d50d87); STEP(G, b, c, d, a, 8, 20, 0x455a14ed); \
  STEP(G, a, b, c, d, 13, 5, 0xa9e3e905); STEP(G, d, a, b, c, 2, 9, 0xfcefa3f8);  \
  STEP(G, c, d, a, b, 7, 14, 0x676f02d9); STEP(G, b, c, d, a, 12, 20, 0x8d2a4c8a); \
  STEP(H, a, b, c, d, 5, 4, 0xfffa3942); STEP(H, d, a, b, c, 8, 11, 0x8771f681);  \
  STEP(H, c, d, a, b, 11, 16, 0x6d9d6122); STEP(H, b, c, d, a, 14, 23, 0xfde5380c); \
  STEP(H, a, b, c, d, 1, 4, 0xa4beea44); STEP(H, d, a, b, c, 4, 11, 0x4bdecfa9);  \
  STEP(H, c, d, a, b, 7, 16, 0xf6bb4b60); STEP(H, b, c, d, a, 10, 23, 0xbebfbc70); \
  STEP(H, a, b, c, d, 13, 4, 0x289b7ec6); STEP(H, d, a, b, c, 0, 11, 0xeaa127fa); \
  STEP(H, c, d, a, b, 3, 16, 0xd4ef3085); STEP(H, b, c, d, a, 6, 23, 0x04881d05); \
  STEP(H, a, b, c, d, 9, 4, 0xd9d4d039); STEP(H, d, a, b, c, 12, 11, 0xe6db99e5); \
  STEP(H, c, d, a, b, 15, 16, 0x1fa27cf8); STEP(H, b, c, d, a, 2, 23, 0xc4ac5665); \
  STEP(I, a, b, c, d, 0, 6, 0xf4292244); STEP(I, d, a, b, c, 7, 10, 0x432aff97);  \
  STEP(I, c, d, a, b, 14, 15, 0xab9423a7); STEP(I, b, c, d, a, 5, 21, 0xfc93a039); \
  STEP(I, a, b, c, d, 12, 6, 0x655b59c3); STEP(I, d, a, b, c, 3, 10, 0x8f0ccc92); \
  STEP(I, c, d, a, b, 10, 15, 0xffeff47d); STEP(I, b, c, d, a, 1, 21, 0x85845dd1); \
  STEP(I, a, b, c, d, 8, 6, 0x6fa87e4f); STEP(I, d, a, b, c, 15, 10, 0xfe2ce6e0); \
  STEP(I, c, d, a, b, 6, 15, 0xa3014314); STEP(I, b, c, d, a, 13, 21, 0x4e0811a1); \
  STEP(I, a, b, c, d, 4, 6, 0xf7537e82); STEP(I, d, a, b, c, 11, 10, 0xbd3af235); \
  STEP(I, c, d, a, b, 2, 15, 0x2ad7d2bb); STEP(I, b, c, d, a, 9, 21, 0xeb86d391)

#endif

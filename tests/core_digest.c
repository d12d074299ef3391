/* core/digest: the hand-written one-shot MD5 against RFC 1321's vectors
 * and against OpenSSL's incremental MD5 at every length around the block
 * and padding boundaries, the batch MD5 on every lane path this machine
 * runs against the one-shot, and the hex encoder and decoder. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/digest.h"
#include "core/digest_lanes.h"
#include "unit.h"

TEST(digest_md5_rfc1321_vectors)
{
  static const struct {
    const char *text;
    const char *md5;
  } vectors[] = {
    {"", "d41d8cd98f00b204e9800998ecf8427e"},
    {"a", "0cc175b9c0f1b6a831c399e269772661"},
    {"abc", "900150983cd24fb0d6963f7d28e17f72"},
    {"message digest", "f96b697d7cb7938d525a2f31aaf161d0"},
    {"abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"},
    {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
     "d174ab98d277d9f5a5611c2c9f419d9f"},
    {"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
     "57edf4a22be3c955ac49da2e2107b67a"},
  };
  for(size_t k = 0; k < sizeof(vectors) / sizeof(vectors[0]); k++) {
    char hex[DIGEST_MD5_HEX_LEN + 1];
    digest_md5_hex(vectors[k].text, strlen(vectors[k].text), hex);
    if(strcmp(hex, vectors[k].md5))
      unit_fail(__FILE__, __LINE__, "vectors[%zu]: md5 %s, expected %s", k, hex,
                vectors[k].md5);
  }
}

/* Every length from 0 to 300 bytes crosses the 55/56 and 63/64 padding
 * cases several times; OpenSSL's incremental MD5 is the reference. */
TEST(digest_md5_matches_openssl_at_every_length)
{
  unsigned char data[301];
  uint32_t seed = 12345;
  for(size_t i = 0; i < sizeof(data); i++) {
    seed = seed * 1103515245u + 12345u;
    data[i] = (unsigned char)(seed >> 16);
  }
  for(size_t len = 0; len < sizeof(data); len++) {
    char mine[DIGEST_MD5_HEX_LEN + 1], reference[DIGEST_MD5_HEX_LEN + 1];
    digest_md5 *d = digest_md5_create();
    CHECK(d != NULL);
    if(!d)
      return;
    digest_md5_update(d, data, len);
    digest_md5_final_hex(d, reference);
    digest_md5_free(d);
    digest_md5_hex(data, len, mine);
    if(strcmp(mine, reference))
      unit_fail(__FILE__, __LINE__, "length %zu: md5 %s, OpenSSL %s", len, mine, reference);
  }
}

TEST(digest_md5_raw_and_hex_round_trip)
{
  unsigned char raw[DIGEST_MD5_LEN], back[DIGEST_MD5_LEN];
  char hex[DIGEST_MD5_HEX_LEN + 1];
  digest_md5_raw("abc", 3, raw);
  digest_to_hex(raw, sizeof(raw), hex);
  CHECK_STR(hex, "900150983cd24fb0d6963f7d28e17f72");
  CHECK(digest_md5_from_hex(hex, strlen(hex), back));
  CHECK_MEM(back, sizeof(back), raw, sizeof(raw));

  static const unsigned char all_bytes[4] = {0x00, 0x7f, 0x80, 0xff};
  digest_to_hex(all_bytes, sizeof(all_bytes), hex);
  CHECK_STR(hex, "007f80ff");
}

TEST(digest_md5_from_hex_refuses_what_is_not_lowercase_hex)
{
  static const char *const bad[] = {
    "900150983cd24fb0d6963f7d28e17f7",   /* 31 characters */
    "900150983cd24fb0d6963f7d28e17f722", /* 33 */
    "900150983CD24FB0D6963F7D28E17F72",  /* upper case */
    "900150983cd24fb0d6963f7d28e17f7g",
    "z00150983cd24fb0d6963f7d28e17f72",
    "900150983cd24fb0 6963f7d28e17f72",
    "",
  };
  /* Every byte that is not a lower-case hex digit, at both ends of both
   * 16-character halves. */
  static const size_t positions[] = {0, 1, 15, 16, 17, 31};
  for(int byte = 0; byte < 256; byte++) {
    if((byte >= '0' && byte <= '9') || (byte >= 'a' && byte <= 'f'))
      continue;
    for(size_t p = 0; p < sizeof(positions) / sizeof(positions[0]); p++) {
      char text[DIGEST_MD5_HEX_LEN + 1] = "0123456789abcdef0123456789abcdef";
      unsigned char out[DIGEST_MD5_LEN];
      text[positions[p]] = (char)byte;
      if(digest_md5_from_hex(text, DIGEST_MD5_HEX_LEN, out))
        unit_fail(__FILE__, __LINE__, "byte 0x%02x at %zu decoded", byte, positions[p]);
    }
  }
  /* Every digit value in every position decodes to its nibble. */
  for(int value = 0; value < 16; value++) {
    char text[DIGEST_MD5_HEX_LEN + 1];
    unsigned char out[DIGEST_MD5_LEN];
    memset(text, "0123456789abcdef"[value], DIGEST_MD5_HEX_LEN);
    text[DIGEST_MD5_HEX_LEN] = '\0';
    CHECK(digest_md5_from_hex(text, DIGEST_MD5_HEX_LEN, out));
    for(size_t i = 0; i < DIGEST_MD5_LEN; i++)
      if(out[i] != value * 17)
        unit_fail(__FILE__, __LINE__, "value %d: byte %zu is 0x%02x", value, i, out[i]);
  }
  unsigned char raw[DIGEST_MD5_LEN];
  for(size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++)
    if(digest_md5_from_hex(bad[k], strlen(bad[k]), raw))
      unit_fail(__FILE__, __LINE__, "bad[%zu] \"%s\" decoded", k, bad[k]);
  CHECK(digest_md5_from_hex("0123456789abcdef0123456789abcdef", 32, raw));
  CHECK_INT(raw[0], 0x01);
  CHECK_INT(raw[7], 0xef);
  CHECK_INT(raw[15], 0xef);
}

/* ---- digest_md5_raw_many / digest_md5_hex_many ---- */

#define MANY_MAX 320

static unsigned char many_bytes[8 + 300 + 64];

static void many_fill(void)
{
  uint32_t seed = 777;
  for(size_t i = 0; i < sizeof(many_bytes); i++) {
    seed = seed * 1103515245u + 12345u;
    many_bytes[i] = (unsigned char)(seed >> 16);
  }
}

/* Run one batch on path and compare each digest with digest_md5_raw; the
 * digest after the last must be left alone. */
static void check_batch(digest_md5_path path, size_t count, const void *const data[],
                        const size_t len[], const char *what)
{
  static unsigned char raw[MANY_MAX + 1][DIGEST_MD5_LEN];
  memset(raw, 0xa5, sizeof(raw));
  digest_md5_raw_many_on(path, count, data, len, raw);
  for(size_t i = 0; i < count; i++) {
    unsigned char expected[DIGEST_MD5_LEN];
    digest_md5_raw(data[i], len[i], expected);
    if(memcmp(raw[i], expected, DIGEST_MD5_LEN)) {
      unit_fail(__FILE__, __LINE__, "%s path %s, count %zu: message %zu (%zu bytes) differs",
                what, digest_md5_path_name(path), count, i, len[i]);
      return;
    }
  }
  for(size_t b = 0; b < DIGEST_MD5_LEN; b++)
    if(raw[count][b] != 0xa5) {
      unit_fail(__FILE__, __LINE__, "%s path %s, count %zu: wrote past the last digest", what,
                digest_md5_path_name(path), count);
      return;
    }
}

/* The lanes of vec4, then one bit of lane 2's state flipped: a path that
 * is wrong for one lane only. */
static void vec4_with_a_bad_lane(uint32_t *state, const unsigned char *const *blocks)
{
  digest_md5_lanes_vec4(state, blocks);
  state[2] ^= 1;
}

/* A path is trusted only after it agrees with OpenSSL on this CPU; the
 * AVX-512 ones cannot run on the machines that test this project, so what
 * is not run here is said, not passed over. */
TEST(digest_md5_paths_prove_themselves_before_use)
{
  if(!digest_md5_lanes_vec4)
    return;
  CHECK(digest_md5_lanes_check(digest_md5_lanes_vec4, 4));
  CHECK(!digest_md5_lanes_check(vec4_with_a_bad_lane, 4));
  CHECK(!digest_md5_lanes_check(digest_md5_lanes_vec4, 0));
  char skipped[200] = "";
  for(int p = DIGEST_MD5_PATH_VEC4; p < DIGEST_MD5_PATH_COUNT; p++)
    if(!digest_md5_path_available((digest_md5_path)p)) {
      strncat(skipped, " ", sizeof(skipped) - strlen(skipped) - 1);
      strncat(skipped, digest_md5_path_name((digest_md5_path)p),
              sizeof(skipped) - strlen(skipped) - 1);
    }
  if(*skipped)
    fprintf(stderr, "digest: lane paths this CPU cannot run, so not tested here:%s\n", skipped);
}

TEST(digest_md5_paths_are_described)
{
  CHECK(digest_md5_path_available(DIGEST_MD5_PATH_AUTO));
  CHECK(digest_md5_path_available(DIGEST_MD5_PATH_SCALAR));
#if defined(__x86_64__) || defined(__aarch64__)
  CHECK(digest_md5_path_available(DIGEST_MD5_PATH_VEC4));
#endif
  CHECK_STR(digest_md5_path_name(DIGEST_MD5_PATH_AVX512), "avx512");
  CHECK_STR(digest_md5_path_name(DIGEST_MD5_PATH_COUNT), "unknown");
  CHECK_INT(digest_md5_path_lanes(DIGEST_MD5_PATH_SCALAR), 1);
  CHECK_INT(digest_md5_path_lanes(DIGEST_MD5_PATH_VEC4), 4);
  CHECK_INT(digest_md5_path_lanes(DIGEST_MD5_PATH_AVX2), 8);
  CHECK_INT(digest_md5_path_lanes(DIGEST_MD5_PATH_AVX512VL), 8);
  CHECK_INT(digest_md5_path_lanes(DIGEST_MD5_PATH_AVX512), 16);
}

/* Every length 0..300 in one batch: each padding case lands in every lane
 * position as the lanes refill. */
TEST(digest_md5_many_at_every_length_on_every_path)
{
  static const void *data[301];
  static size_t len[301];
  many_fill();
  for(int p = 0; p < DIGEST_MD5_PATH_COUNT; p++) {
    if(!digest_md5_path_available((digest_md5_path)p))
      continue;
    for(size_t n = 0; n < 301; n++) {
      data[n] = many_bytes;
      len[n] = n;
    }
    check_batch((digest_md5_path)p, 301, data, len, "ascending");
    for(size_t n = 0; n < 301; n++)
      len[n] = 300 - n;
    check_batch((digest_md5_path)p, 301, data, len, "descending");
  }
}

/* Batches of every count 0..40 with mixed lengths around the 1..5-block
 * pre-images, at every pointer alignment. */
TEST(digest_md5_many_mixed_batches_on_every_path)
{
  static const size_t lengths[] = {0, 1, 40, 55, 56, 57, 63, 64, 65, 90, 119, 120, 128, 130,
                                   183, 184, 250, 255, 256, 300};
  static const void *data[MANY_MAX];
  static size_t len[MANY_MAX];
  const size_t nl = sizeof(lengths) / sizeof(lengths[0]);
  many_fill();
  for(int p = 0; p < DIGEST_MD5_PATH_COUNT; p++) {
    if(!digest_md5_path_available((digest_md5_path)p))
      continue;
    for(size_t count = 0; count <= 40; count++) {
      for(size_t i = 0; i < count; i++) {
        len[i] = lengths[(i * 7 + count * 3) % nl];
        data[i] = many_bytes + (i + count) % 8;
      }
      check_batch((digest_md5_path)p, count, data, len, "mixed");
      /* All one length: lanes end together. */
      for(size_t i = 0; i < count; i++)
        len[i] = lengths[count % nl];
      check_batch((digest_md5_path)p, count, data, len, "uniform");
    }
  }
}

/* Messages that end at the end of a page of their own: a path must never
 * read past a message (its padding comes from a copy). */
TEST(digest_md5_many_reads_only_the_messages)
{
  static const void *data[20];
  static size_t len[20];
  many_fill();
  for(int p = 0; p < DIGEST_MD5_PATH_COUNT; p++) {
    if(!digest_md5_path_available((digest_md5_path)p))
      continue;
    unsigned char *copies[20];
    for(size_t i = 0; i < 20; i++) {
      len[i] = (i * 37) % 200;
      copies[i] = malloc(len[i] ? len[i] : 1);
      CHECK(copies[i] != NULL);
      if(!copies[i])
        return;
      memcpy(copies[i], many_bytes, len[i]);
      data[i] = copies[i];
    }
    check_batch((digest_md5_path)p, 20, data, len, "heap");
    for(size_t i = 0; i < 20; i++)
      free(copies[i]);
  }
}

TEST(digest_md5_many_auto_and_hex)
{
  static const void *data[MANY_MAX];
  static size_t len[MANY_MAX];
  static char hex[MANY_MAX + 1][DIGEST_MD5_HEX_LEN + 1];
  static const size_t counts[] = {0, 1, 2, 3, 4, 5, 8, 9, 16, 17, 63, 64, 65, 130, 300};
  many_fill();
  for(size_t k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
    size_t count = counts[k];
    for(size_t i = 0; i < count; i++) {
      len[i] = (i * 13 + k) % 301;
      data[i] = many_bytes + i % 8;
    }
    check_batch(DIGEST_MD5_PATH_AUTO, count, data, len, "auto");
    memset(hex, 'x', sizeof(hex));
    digest_md5_hex_many(count, data, len, hex);
    for(size_t i = 0; i < count; i++) {
      char expected[DIGEST_MD5_HEX_LEN + 1];
      digest_md5_hex(data[i], len[i], expected);
      if(strcmp(hex[i], expected))
        unit_fail(__FILE__, __LINE__, "count %zu: hex %zu is %.33s, expected %s", count, i,
                  hex[i], expected);
    }
    CHECK(hex[count][0] == 'x');
  }
  /* The RFC 1321 vectors in one batch. */
  const void *texts[3] = {"", "abc", "message digest"};
  size_t text_len[3] = {0, 3, 14};
  digest_md5_hex_many(3, texts, text_len, hex);
  CHECK_STR(hex[0], "d41d8cd98f00b204e9800998ecf8427e");
  CHECK_STR(hex[1], "900150983cd24fb0d6963f7d28e17f72");
  CHECK_STR(hex[2], "f96b697d7cb7938d525a2f31aaf161d0");
}

/* RFC 4231, test cases 1, 2 and 6 (a key longer than the block). */
TEST(digest_hmac_sha256_rfc4231_vectors)
{
  unsigned char key20[20], key131[131], out[DIGEST_SHA256_LEN];
  char hex[2 * DIGEST_SHA256_LEN + 1];
  memset(key20, 0x0b, sizeof(key20));
  memset(key131, 0xaa, sizeof(key131));
  const char *big = "Test Using Larger Than Block-Size Key - Hash Key First";
  const struct {
    const void *key;
    size_t key_len;
    const char *data, *expected;
  } vectors[] = {
    {key20, sizeof(key20), "Hi There",
     "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
    {"Jefe", 4, "what do ya want for nothing?",
     "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
    {key131, sizeof(key131), big,
     "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
  };
  for(size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
    digest_hmac_sha256(vectors[i].key, vectors[i].key_len, vectors[i].data,
                       strlen(vectors[i].data), out);
    digest_to_hex(out, sizeof(out), hex);
    CHECK_STR(hex, vectors[i].expected);
  }
}

/* core/digest: the hand-written one-shot MD5 against RFC 1321's vectors
 * and against OpenSSL's incremental MD5 at every length around the block
 * and padding boundaries, and the hex encoder and decoder. */
#include <string.h>

#include "core/digest.h"
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

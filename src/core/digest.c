/* The low-level MD5/SHA256 calls are deprecated in OpenSSL 3 in favour of
 * EVP, but EVP costs an allocation and a provider lookup per digest, which
 * shows at three MD5s per row; the low-level ones are still supported. */
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "digest.h"

#include <openssl/md5.h>
#include <openssl/sha.h>
#include <stdlib.h>

static void to_hex(const unsigned char *raw, size_t len, char *hex)
{
  static const char digits[] = "0123456789abcdef";
  for(size_t i = 0; i < len; i++) {
    hex[2 * i] = digits[raw[i] >> 4];
    hex[2 * i + 1] = digits[raw[i] & 15];
  }
  hex[2 * len] = '\0';
}

/* A stack context rather than MD5(): the one-shot also wipes its context
 * (OPENSSL_cleanse), which ids and row hashes of public data do not need. */
void digest_md5_hex(const void *data, size_t len, char hex[DIGEST_MD5_HEX_LEN + 1])
{
  unsigned char raw[MD5_DIGEST_LENGTH];
  MD5_CTX ctx;
  MD5_Init(&ctx);
  MD5_Update(&ctx, data, len);
  MD5_Final(raw, &ctx);
  to_hex(raw, sizeof(raw), hex);
}

void digest_sha256_hex(const void *data, size_t len, char hex[DIGEST_SHA256_HEX_LEN + 1])
{
  unsigned char raw[SHA256_DIGEST_LENGTH];
  SHA256(data, len, raw);
  to_hex(raw, sizeof(raw), hex);
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
  to_hex(raw, sizeof(raw), hex);
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
  to_hex(raw, sizeof(raw), hex);
}

void digest_md5_free(digest_md5 *d)
{
  free(d);
}

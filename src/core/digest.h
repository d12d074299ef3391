/*
 * digest: MD5 and SHA-256 as lower-case hex, over OpenSSL's libcrypto.
 *
 * MD5 makes every id, row_hash and body_hash (three per SMS row, so it sits
 * on the hot path); SHA-256 hashes S3 payloads for SigV4. The one-shot
 * functions write into caller-provided arrays and cannot fail. The one-shot
 * MD5 is our own code, and its batch form hashes many rows' messages side
 * by side in vector lanes (digest_lanes.h); the incremental ones are
 * OpenSSL's.
 */
#ifndef COLLATOR_CORE_DIGEST_H
#define COLLATOR_CORE_DIGEST_H

#include <stddef.h>

#define DIGEST_MD5_LEN 16
#define DIGEST_MD5_HEX_LEN 32
#define DIGEST_SHA256_HEX_LEN 64

/* hex receives 32 characters and a NUL. */
void digest_md5_hex(const void *data, size_t len, char hex[DIGEST_MD5_HEX_LEN + 1]);
/* The same md5 as 16 raw bytes (half the memory of the hex in sets). */
void digest_md5_raw(const void *data, size_t len, unsigned char raw[DIGEST_MD5_LEN]);
/* The md5 of count messages at once (data[i], len[i] -> raw[i] or hex[i]):
 * independent messages are hashed side by side in vector lanes, several
 * times the throughput of one digest_md5_raw after another for the short
 * pre-images of ids and row hashes. Any count (0 does nothing), any
 * lengths, any alignment; the results equal digest_md5_raw's. */
void digest_md5_raw_many(size_t count, const void *const data[], const size_t len[],
                         unsigned char (*raw)[DIGEST_MD5_LEN]);
void digest_md5_hex_many(size_t count, const void *const data[], const size_t len[],
                         char (*hex)[DIGEST_MD5_HEX_LEN + 1]);
/* len raw bytes as 2 * len lower-case hex characters and a NUL. */
void digest_to_hex(const unsigned char *raw, size_t len, char *hex);
/* Decode exactly 32 lower-case hex characters into 16 bytes; 0 (raw
 * unspecified) when text is any other length or holds any other byte. */
int digest_md5_from_hex(const char *text, size_t len, unsigned char raw[DIGEST_MD5_LEN]);
/* hex receives 64 characters and a NUL. */
void digest_sha256_hex(const void *data, size_t len, char hex[DIGEST_SHA256_HEX_LEN + 1]);

/* HMAC-SHA-256 (RFC 2104) of data under key, as 32 raw bytes (SigV4). */
#define DIGEST_SHA256_LEN 32
void digest_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                        unsigned char out[DIGEST_SHA256_LEN]);

/* Incremental SHA-256 for payloads streamed from files. */
typedef struct digest_sha256 digest_sha256;
digest_sha256 *digest_sha256_create(void);
void digest_sha256_update(digest_sha256 *ctx, const void *data, size_t len);
void digest_sha256_final_hex(digest_sha256 *ctx, char hex[DIGEST_SHA256_HEX_LEN + 1]);
void digest_sha256_free(digest_sha256 *ctx);

/* Incremental MD5 (S3 ETags of files we wrote, Content-MD5). */
typedef struct digest_md5 digest_md5;
digest_md5 *digest_md5_create(void);
void digest_md5_update(digest_md5 *ctx, const void *data, size_t len);
void digest_md5_final_hex(digest_md5 *ctx, char hex[DIGEST_MD5_HEX_LEN + 1]);
void digest_md5_free(digest_md5 *ctx);

#endif

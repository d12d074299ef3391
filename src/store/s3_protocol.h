/*
 * s3_protocol: the pure parts of talking to S3 (internal to src/store).
 *
 * Kept apart from the libcurl code in store_s3.c so that they can be unit
 * tested without a server: the minimal XML reading S3 responses need
 * (element text, entity decoding), escaping for request bodies, the
 * classification of a response or transport failure into a cl_status and
 * whether to retry it, the full-jitter backoff delay, the shared
 * credentials file, and SigV4 signing.
 */
#ifndef COLLATOR_STORE_S3_PROTOCOL_H
#define COLLATOR_STORE_S3_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"

/* Find the next element <tag>...</tag> (or <tag/>) at or after *pos in xml;
 * on success point content at its raw (still escaped) text, move *pos past
 * the end tag and return 1; return 0 when there is none. Nested elements of
 * the same name are not supported (S3 responses have none). */
int s3_xml_find(const char *xml, size_t len, const char *tag, size_t *pos,
                const char **content, size_t *content_len);

/* Decode the five predefined entities and numeric references (&#N; &#xH;)
 * into UTF-8; anything else after '&' is CL_ERR_FORMAT. Appends to out. */
cl_status s3_xml_unescape(const char *text, size_t len, buf *out, cl_error *err);

/* The text of the first <tag> in xml, unescaped, into out (cleared first);
 * returns 0 when the element is absent or malformed. */
int s3_xml_text(const char *xml, size_t len, const char *tag, buf *out);

/* Escape &, <, >, " and ' for element text. Appends to out. */
cl_status s3_xml_escape(const char *text, size_t len, buf *out);

/* What a finished request means. http_status is 0 when no response came
 * back (then transport_failed says whether the failure was a reset, timeout
 * or similar worth retrying); code is the S3 error code from the body or "". */
typedef struct s3_outcome {
  cl_status status; /* CL_OK for 2xx */
  int retry;        /* worth another attempt */
} s3_outcome;
s3_outcome s3_classify(long http_status, const char *code, int transport_failed);

/* A request to sign with SigV4 (AWS4-HMAC-SHA256, service s3), as it will
 * be sent: path and query exactly as in the URL (S3 signs them as sent),
 * every header in `headers` ("Name: value" lines, host and x-amz-date
 * among them) signed. */
typedef struct s3_signing {
  const char *method;
  const char *path;
  const char *query; /* sorted and encoded, or "" */
  const char *const *headers;
  size_t header_count;
  const char *payload_hash; /* as in x-amz-content-sha256 */
  const char *amz_date;     /* YYYYMMDDTHHMMSSZ, as in x-amz-date */
  const char *region;
  const char *access_key;
  const char *secret_key;
} s3_signing;

/* The Authorization header's value, appended to out. Header names are
 * lower-cased and sorted by name alone, values trimmed with inner runs of
 * blanks made one space. */
cl_status s3_sign(const s3_signing *request, buf *out);

/* Keys of one profile of an AWS shared credentials file (INI). */
typedef struct s3_credentials {
  char access_key[256];
  char secret_key[256];
  char session_token[4096];
} s3_credentials;

/* The ETag S3 gives an object made by CompleteMultipartUpload from parts
 * whose MD5s are part_md5s (16 bytes each, in part order): the MD5 of those
 * bytes in hex, "-", the part count; no quotes. */
#define S3_MULTIPART_ETAG_MAX 48
void s3_multipart_etag(const unsigned char *part_md5s, unsigned parts,
                       char out[S3_MULTIPART_ETAG_MAX]);

/* Parse `text` (a credentials file) for [profile]; CL_ERR_NOT_FOUND when the
 * profile or its access key pair is missing. */
cl_status s3_parse_credentials(const char *text, size_t len, const char *profile,
                               s3_credentials *out, cl_error *err);

#endif

/* The server-free parts of the S3 backend: XML reading and escaping, error
 * classification, backoff bounds, the shared credentials file, and what
 * store_open does with S3 configuration from the environment. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/digest.h"
#include "store/s3_protocol.h"
#include "store/store.h"
#include "unit.h"

/* The GET Object example of Amazon's SigV4 documentation for S3, with the
 * headers in another order and case, and blanks to trim. */
TEST(store_s3_sign_matches_the_documented_example)
{
  const char *headers[] = {
    "x-amz-date: 20130524T000000Z",
    "Range:  bytes=0-9 ",
    "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "Host: examplebucket.s3.amazonaws.com",
  };
  s3_signing request = {
    "GET", "/test.txt", "", headers, 4,
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "20130524T000000Z",
    "us-east-1", "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"};
  buf out = BUF_INIT;
  CHECK_INT(s3_sign(&request, &out), CL_OK);
  CHECK_STR(out.data, "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
                      "aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
                      "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  buf_free(&out);
}

/* A name that extends another's sorts after it: libcurl before 8.10 put
 * x-amz-copy-source-if-match first ('-' sorts before ':'). */
TEST(store_s3_sign_sorts_by_name_alone)
{
  const char *headers[] = {
    "x-amz-copy-source-if-match: \"abc\"",
    "x-amz-copy-source: /b/k",
    "host: h",
  };
  s3_signing request = {"PUT", "/b/k2", "", headers, 3, "UNSIGNED-PAYLOAD", "20260101T000000Z",
                        "us-east-1", "A", "S"};
  buf out = BUF_INIT;
  CHECK_INT(s3_sign(&request, &out), CL_OK);
  CHECK(strstr(out.data, "SignedHeaders=host;x-amz-copy-source;x-amz-copy-source-if-match, ") !=
        NULL);
  buf_free(&out);
}

TEST(store_s3_xml_find_and_unescape)
{
  static const char xml[] =
    "<?xml version=\"1.0\"?><ListBucketResult><KeyCount>2</KeyCount>"
    "<Contents><Key>a&amp;b &lt;c&gt; &quot;d&quot; &apos;e&apos;</Key><Size>3</Size>"
    "<ETag>&quot;abc&quot;</ETag></Contents>"
    "<Contents ><Key>&#233;&#x4E2D;&#x1F600;</Key><Size>10</Size><ETag/></Contents>"
    "<IsTruncated>false</IsTruncated></ListBucketResult>";
  size_t pos = 0, len = sizeof(xml) - 1;
  const char *content;
  size_t content_len;
  buf text = BUF_INIT;
  cl_error err;

  CHECK(s3_xml_find(xml, len, "Contents", &pos, &content, &content_len));
  CHECK(s3_xml_text(content, content_len, "Key", &text));
  CHECK_STR(text.data, "a&b <c> \"d\" 'e'");
  CHECK(s3_xml_text(content, content_len, "ETag", &text));
  CHECK_STR(text.data, "\"abc\"");
  CHECK(s3_xml_find(xml, len, "Contents", &pos, &content, &content_len));
  CHECK(s3_xml_text(content, content_len, "Key", &text));
  CHECK_STR(text.data, "\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80");
  CHECK(s3_xml_text(content, content_len, "ETag", &text));
  CHECK_STR(text.data, "");
  CHECK(!s3_xml_find(xml, len, "Contents", &pos, &content, &content_len));

  /* <Key> must not match <KeyCount>. */
  CHECK(s3_xml_text(xml, len, "KeyCount", &text));
  CHECK_STR(text.data, "2");
  CHECK(s3_xml_text(xml, len, "IsTruncated", &text));
  CHECK_STR(text.data, "false");
  CHECK(!s3_xml_text(xml, len, "NextContinuationToken", &text));
  CHECK(!s3_xml_text("<Key>unterminated", 17, "Key", &text));

  static const char *bad[] = {"&bogus;", "&#;", "&#xZZ;", "&#55296;", "&amp", "&#x110000;"};
  for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    buf_clear(&text);
    CHECK_STATUS(s3_xml_unescape(bad[i], strlen(bad[i]), &text, &err), CL_ERR_FORMAT);
  }
  buf_clear(&text);
  CHECK_OK(s3_xml_escape("<a&'\">", 6, &text), NULL);
  CHECK_STR(text.data, "&lt;a&amp;&apos;&quot;&gt;");
  buf_free(&text);
}

TEST(store_s3_classification)
{
  static const struct {
    long http;
    const char *code;
    int transport_failed;
    cl_status status;
    int retry;
  } cases[] = {
    {200, "", 0, CL_OK, 0},
    {206, "", 0, CL_OK, 0},
    {204, "", 0, CL_OK, 0},
    {500, "InternalError", 0, CL_ERR_TRANSIENT, 1},
    {502, "", 0, CL_ERR_TRANSIENT, 1},
    {503, "SlowDown", 0, CL_ERR_TRANSIENT, 1},
    {504, "", 0, CL_ERR_TRANSIENT, 1},
    {400, "RequestTimeout", 0, CL_ERR_TRANSIENT, 1},
    {501, "NotImplemented", 0, CL_ERR_TRANSIENT, 0},
    {404, "NoSuchKey", 0, CL_ERR_NOT_FOUND, 0},
    {404, "NoSuchBucket", 0, CL_ERR_NOT_FOUND, 0},
    {412, "PreconditionFailed", 0, CL_ERR_CONFLICT, 0},
    {409, "ConditionalRequestConflict", 0, CL_ERR_CONFLICT, 0},
    {403, "SignatureDoesNotMatch", 0, CL_ERR_REMOTE, 0},
    {400, "InvalidArgument", 0, CL_ERR_REMOTE, 0},
    {405, "MethodNotAllowed", 0, CL_ERR_REMOTE, 0},
    {416, "InvalidRange", 0, CL_ERR_FORMAT, 0},
    {0, "", 1, CL_ERR_TRANSIENT, 1},
    {0, "", 0, CL_ERR_IO, 0},
  };
  for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    s3_outcome outcome = s3_classify(cases[i].http, cases[i].code, cases[i].transport_failed);
    if(outcome.status != cases[i].status || outcome.retry != cases[i].retry)
      unit_fail(__FILE__, __LINE__, "HTTP %ld %s: %s retry=%d, expected %s retry=%d",
                cases[i].http, cases[i].code, cl_status_name(outcome.status), outcome.retry,
                cl_status_name(cases[i].status), cases[i].retry);
  }
}

TEST(store_s3_credentials_file)
{
  static const char file[] =
    "# comment\n"
    "[default]\n"
    "aws_access_key_id = AKIDEFAULT\n"
    "aws_secret_access_key=secret/default+\r\n"
    "\n"
    "[ ci ]\n"
    "region = eu-west-1\n"
    "aws_access_key_id=AKICI\n"
    "aws_secret_access_key = s3cr3t\n"
    "aws_session_token = tok==\n"
    "[broken]\n"
    "aws_access_key_id=only\n";
  s3_credentials c;
  cl_error err;
  CHECK_OK(s3_parse_credentials(file, sizeof(file) - 1, "default", &c, &err), &err);
  CHECK_STR(c.access_key, "AKIDEFAULT");
  CHECK_STR(c.secret_key, "secret/default+");
  CHECK_STR(c.session_token, "");
  CHECK_OK(s3_parse_credentials(file, sizeof(file) - 1, "ci", &c, &err), &err);
  CHECK_STR(c.access_key, "AKICI");
  CHECK_STR(c.secret_key, "s3cr3t");
  CHECK_STR(c.session_token, "tok==");
  CHECK_STATUS(s3_parse_credentials(file, sizeof(file) - 1, "broken", &c, &err),
               CL_ERR_NOT_FOUND);
  CHECK_STATUS(s3_parse_credentials(file, sizeof(file) - 1, "nope", &c, &err),
               CL_ERR_NOT_FOUND);
  CHECK(strstr(err.message, "nope") != NULL);
}

/* store_open reads its S3 configuration from the environment; keep the
 * caller's environment intact around each case. */
typedef struct saved_env {
  const char *name;
  char *value;
} saved_env;

static const char *s3_env_names[] = {
  "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
  "AWS_SHARED_CREDENTIALS_FILE", "S3_ENDPOINT", "AWS_ENDPOINT_URL_S3", "HOME",
};
#define S3_ENV_COUNT (sizeof(s3_env_names) / sizeof(s3_env_names[0]))

static void save_env(saved_env saved[S3_ENV_COUNT])
{
  for(size_t i = 0; i < S3_ENV_COUNT; i++) {
    const char *value = getenv(s3_env_names[i]);
    saved[i].name = s3_env_names[i];
    saved[i].value = value ? strdup(value) : NULL;
    unsetenv(s3_env_names[i]);
  }
}

static void restore_env(saved_env saved[S3_ENV_COUNT])
{
  for(size_t i = 0; i < S3_ENV_COUNT; i++) {
    if(saved[i].value)
      setenv(saved[i].name, saved[i].value, 1);
    else
      unsetenv(saved[i].name);
    free(saved[i].value);
  }
}

TEST(store_s3_open_reads_the_environment)
{
  saved_env saved[S3_ENV_COUNT];
  save_env(saved);
  store *s = NULL;
  cl_error err;
  const char *dir = unit_temp_dir();
  setenv("HOME", dir, 1);

  /* No credentials anywhere: a usage error that says so. */
  CHECK_STATUS(store_open("s3://bucket", &s, &err), CL_ERR_USAGE);
  CHECK(strstr(err.message, "credentials") != NULL);
  setenv("AWS_ACCESS_KEY_ID", "AKID", 1);
  CHECK_STATUS(store_open("s3://bucket", &s, &err), CL_ERR_USAGE);
  CHECK(strstr(err.message, "AWS_SECRET_ACCESS_KEY") != NULL);

  setenv("AWS_SECRET_ACCESS_KEY", "very-secret", 1);
  CHECK_OK(store_open("s3://bucket/", &s, &err), &err);
  CHECK_STR(store_name(s), "s3://bucket");
  store_free(s);

  /* From a profile of a shared credentials file. */
  unsetenv("AWS_ACCESS_KEY_ID");
  unsetenv("AWS_SECRET_ACCESS_KEY");
  char path[700];
  snprintf(path, sizeof(path), "%s/credentials", dir);
  FILE *f = fopen(path, "w");
  CHECK(f != NULL);
  if(f) {
    fputs("[default]\naws_access_key_id=A\naws_secret_access_key=B\n", f);
    fclose(f);
  }
  setenv("AWS_SHARED_CREDENTIALS_FILE", path, 1);
  CHECK_OK(store_open("s3://bucket", &s, &err), &err);
  store_free(s);
  setenv("AWS_PROFILE", "missing", 1);
  CHECK_STATUS(store_open("s3://bucket", &s, &err), CL_ERR_USAGE);
  CHECK(strstr(err.message, "missing") != NULL);
  CHECK(strstr(err.message, "very-secret") == NULL);

  /* The endpoint must be an http(s) URL. */
  unsetenv("AWS_PROFILE");
  setenv("S3_ENDPOINT", "127.0.0.1:9000", 1);
  CHECK_STATUS(store_open("s3://bucket", &s, &err), CL_ERR_USAGE);
  CHECK(strstr(err.message, "127.0.0.1:9000") != NULL);

  /* Nothing listens on port 1: a transport failure, retried, then transient. */
  setenv("S3_ENDPOINT", "http://127.0.0.1:1/", 1);
  setenv("COLLATOR_S3_MAX_ATTEMPTS", "2", 1);
  CHECK_OK(store_open("s3://bucket", &s, &err), &err);
  if(s) {
    CHECK_STATUS(store_head(s, "k", NULL, &err), CL_ERR_TRANSIENT);
    CHECK(strstr(err.message, "s3://bucket/k") != NULL);
    store_stats stats;
    store_get_stats(s, &stats);
    CHECK_INT(stats.requests, 2);
    CHECK_INT(stats.retries, 1);
    store_free(s);
  }
  unsetenv("COLLATOR_S3_MAX_ATTEMPTS");
  restore_env(saved);
}

TEST(store_s3_multipart_etag)
{
  /* As S3 derives it (python3: hashlib.md5(md5(p1) + md5(p2)).hexdigest() + "-2"). */
  unsigned char md5s[2 * DIGEST_MD5_LEN];
  digest_md5_raw("part one", 8, md5s);
  digest_md5_raw("part two", 8, md5s + DIGEST_MD5_LEN);
  char etag[S3_MULTIPART_ETAG_MAX];
  s3_multipart_etag(md5s, 2, etag);
  CHECK_STR(etag, "0732917abc3288784e318ac0aab1757a-2");
  s3_multipart_etag(md5s, 1, etag);
  CHECK_STR(etag, "a675974b8fb9bfea1d5007ce26896811-1");
}

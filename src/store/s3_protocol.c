#include "s3_protocol.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/digest.h"
#include "core/url.h"

int s3_xml_find(const char *xml, size_t len, const char *tag, size_t *pos,
                const char **content, size_t *content_len)
{
  size_t tag_len = strlen(tag);
  size_t i = *pos;
  while(i < len) {
    const char *open = memchr(xml + i, '<', len - i);
    if(!open)
      return 0;
    size_t at = (size_t)(open - xml);
    size_t after = at + 1 + tag_len;
    if(after >= len)
      return 0;
    /* The name must end right after the tag: <Key> but not <KeyCount>. */
    if(memcmp(open + 1, tag, tag_len) ||
       (xml[after] != '>' && xml[after] != ' ' && xml[after] != '/' && xml[after] != '\t' &&
        xml[after] != '\n' && xml[after] != '\r')) {
      i = at + 1;
      continue;
    }
    const char *gt = memchr(xml + after, '>', len - after);
    if(!gt)
      return 0;
    size_t body = (size_t)(gt - xml) + 1;
    if(gt[-1] == '/') { /* <Tag/> */
      *content = xml + body;
      *content_len = 0;
      *pos = body;
      return 1;
    }
    for(size_t j = body; j + 3 + tag_len <= len; j++) {
      const char *close = memchr(xml + j, '<', len - j);
      if(!close)
        return 0;
      j = (size_t)(close - xml);
      if(j + 3 + tag_len <= len && close[1] == '/' && !memcmp(close + 2, tag, tag_len) &&
         close[2 + tag_len] == '>') {
        *content = xml + body;
        *content_len = j - body;
        *pos = j + 3 + tag_len;
        return 1;
      }
    }
    return 0;
  }
  return 0;
}

static void put_utf8(buf *out, unsigned long cp)
{
  char bytes[4];
  size_t n;
  if(cp < 0x80) {
    bytes[0] = (char)cp;
    n = 1;
  } else if(cp < 0x800) {
    bytes[0] = (char)(0xC0 | cp >> 6);
    bytes[1] = (char)(0x80 | (cp & 0x3F));
    n = 2;
  } else if(cp < 0x10000) {
    bytes[0] = (char)(0xE0 | cp >> 12);
    bytes[1] = (char)(0x80 | (cp >> 6 & 0x3F));
    bytes[2] = (char)(0x80 | (cp & 0x3F));
    n = 3;
  } else {
    bytes[0] = (char)(0xF0 | cp >> 18);
    bytes[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    bytes[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    bytes[3] = (char)(0x80 | (cp & 0x3F));
    n = 4;
  }
  buf_append(out, bytes, n);
}

cl_status s3_xml_unescape(const char *text, size_t len, buf *out, cl_error *err)
{
  static const struct {
    const char *name;
    char c;
  } named[] = {{"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}};
  for(size_t i = 0; i < len; i++) {
    if(text[i] != '&') {
      buf_putc(out, text[i]);
      continue;
    }
    const char *semi = memchr(text + i, ';', len - i);
    if(!semi || semi - (text + i) > 12)
      return cl_fail(err, CL_ERR_FORMAT, "XML: unterminated entity at byte %zu", i);
    const char *name = text + i + 1;
    size_t name_len = (size_t)(semi - name);
    int done = 0;
    if(name_len > 1 && name[0] == '#') {
      int hex = name[1] == 'x' || name[1] == 'X';
      const char *digits = name + 1 + hex;
      size_t digits_len = name_len - 1 - (size_t)hex;
      unsigned long cp = 0;
      size_t d;
      for(d = 0; d < digits_len; d++) {
        char c = digits[d];
        int v = hex ? url_hex_digit((unsigned char)c) : c >= '0' && c <= '9' ? c - '0' : -1;
        if(v < 0)
          break;
        cp = cp * (hex ? 16 : 10) + (unsigned long)v;
        if(cp > 0x10FFFF)
          break;
      }
      if(digits_len && d == digits_len && cp && (cp < 0xD800 || cp > 0xDFFF)) {
        put_utf8(out, cp);
        done = 1;
      }
    } else {
      for(size_t k = 0; k < sizeof(named) / sizeof(named[0]); k++)
        if(strlen(named[k].name) == name_len && !memcmp(named[k].name, name, name_len)) {
          buf_putc(out, named[k].c);
          done = 1;
          break;
        }
    }
    if(!done)
      return cl_fail(err, CL_ERR_FORMAT, "XML: unknown entity '&%.*s;'", (int)name_len, name);
    i = (size_t)(semi - text);
  }
  if(buf_status(out))
    return cl_fail(err, buf_status(out), "XML: out of memory");
  return CL_OK;
}

int s3_xml_text(const char *xml, size_t len, const char *tag, buf *out)
{
  size_t pos = 0;
  const char *content;
  size_t content_len;
  buf_clear(out);
  if(!s3_xml_find(xml, len, tag, &pos, &content, &content_len))
    return 0;
  return s3_xml_unescape(content, content_len, out, NULL) == CL_OK;
}

cl_status s3_xml_escape(const char *text, size_t len, buf *out)
{
  for(size_t i = 0; i < len; i++) {
    switch(text[i]) {
    case '&': buf_append_str(out, "&amp;"); break;
    case '<': buf_append_str(out, "&lt;"); break;
    case '>': buf_append_str(out, "&gt;"); break;
    case '"': buf_append_str(out, "&quot;"); break;
    case '\'': buf_append_str(out, "&apos;"); break;
    default: buf_putc(out, text[i]);
    }
  }
  return buf_status(out);
}

s3_outcome s3_classify(long http_status, const char *code, int transport_failed)
{
  static const char *transient_codes[] = {
    "SlowDown", "RequestTimeout", "InternalError", "ServiceUnavailable",
    "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequests",
  };
  if(http_status == 0)
    return (s3_outcome){transport_failed ? CL_ERR_TRANSIENT : CL_ERR_IO, transport_failed};
  if(http_status >= 200 && http_status < 300)
    return (s3_outcome){CL_OK, 0};
  for(size_t i = 0; code && i < sizeof(transient_codes) / sizeof(transient_codes[0]); i++)
    if(!strcmp(code, transient_codes[i]))
      return (s3_outcome){CL_ERR_TRANSIENT, 1};
  switch(http_status) {
  case 500:
  case 502:
  case 503:
  case 504:
    return (s3_outcome){CL_ERR_TRANSIENT, 1};
  case 404:
    return (s3_outcome){CL_ERR_NOT_FOUND, 0};
  case 409:
  case 412:
    return (s3_outcome){CL_ERR_CONFLICT, 0};
  case 416:
    return (s3_outcome){CL_ERR_FORMAT, 0};
  default:
    /* Other 5xx are server trouble too, but the standard retry mode retries
     * only the listed ones; report them as transient for the layer above. */
    if(http_status >= 500)
      return (s3_outcome){CL_ERR_TRANSIENT, 0};
    return (s3_outcome){CL_ERR_REMOTE, 0};
  }
}

static void trim(const char **start, const char **end)
{
  while(*start < *end && (**start == ' ' || **start == '\t'))
    (*start)++;
  while(*end > *start && ((*end)[-1] == ' ' || (*end)[-1] == '\t' || (*end)[-1] == '\r'))
    (*end)--;
}

static int copy_value(char *dst, size_t cap, const char *start, const char *end)
{
  size_t n = (size_t)(end - start);
  if(n >= cap)
    return 0;
  memcpy(dst, start, n);
  dst[n] = '\0';
  return 1;
}

cl_status s3_parse_credentials(const char *text, size_t len, const char *profile,
                               s3_credentials *out, cl_error *err)
{
  memset(out, 0, sizeof(*out));
  const char *p = text, *end = text + len;
  int in_profile = 0, found_profile = 0;
  while(p < end) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    const char *line_end = eol ? eol : end;
    const char *a = p, *b = line_end;
    trim(&a, &b);
    p = eol ? eol + 1 : end;
    if(a == b || *a == '#' || *a == ';')
      continue;
    if(*a == '[') {
      const char *close = memchr(a, ']', (size_t)(b - a));
      if(!close)
        continue;
      const char *name = a + 1, *name_end = close;
      trim(&name, &name_end);
      in_profile = strlen(profile) == (size_t)(name_end - name) &&
                   !memcmp(name, profile, (size_t)(name_end - name));
      found_profile |= in_profile;
      continue;
    }
    if(!in_profile)
      continue;
    const char *eq = memchr(a, '=', (size_t)(b - a));
    if(!eq)
      continue;
    const char *key = a, *key_end = eq, *value = eq + 1, *value_end = b;
    trim(&key, &key_end);
    trim(&value, &value_end);
    size_t key_len = (size_t)(key_end - key);
    int ok = 1;
    if(key_len == 17 && !memcmp(key, "aws_access_key_id", 17))
      ok = copy_value(out->access_key, sizeof(out->access_key), value, value_end);
    else if(key_len == 21 && !memcmp(key, "aws_secret_access_key", 21))
      ok = copy_value(out->secret_key, sizeof(out->secret_key), value, value_end);
    else if(key_len == 17 && !memcmp(key, "aws_session_token", 17))
      ok = copy_value(out->session_token, sizeof(out->session_token), value, value_end);
    if(!ok)
      return cl_fail(err, CL_ERR_USAGE, "credentials profile '%s': value of '%.*s' too long",
                     profile, (int)key_len, key);
  }
  if(!found_profile)
    return cl_fail(err, CL_ERR_NOT_FOUND, "credentials profile '%s' not found", profile);
  if(!out->access_key[0] || !out->secret_key[0])
    return cl_fail(err, CL_ERR_NOT_FOUND,
                   "credentials profile '%s' lacks aws_access_key_id or aws_secret_access_key",
                   profile);
  return CL_OK;
}

/* ---- SigV4 ----------------------------------------------------------------
 *
 * For CopyObject, which libcurl (CURLOPT_AWS_SIGV4) signs everything else:
 * libcurl before 8.10 sorts whole "name:value" lines, so a header whose name
 * extends another's (x-amz-copy-source-if-match after x-amz-copy-source)
 * lands first, and S3 rejects the signature. */

typedef struct s3_signed_header {
  char *line; /* "name:value", canonical */
  size_t name_len;
} s3_signed_header;

static int by_name(const void *a, const void *b)
{
  const s3_signed_header *x = a, *y = b;
  size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
  int cmp = memcmp(x->line, y->line, n);
  if(cmp)
    return cmp;
  return x->name_len < y->name_len ? -1 : x->name_len > y->name_len;
}

/* "Name:  a  b " -> "name:a b" into out; the name's length, or 0 when the
 * line has no colon. */
static size_t canonical_header(const char *line, buf *out)
{
  const char *colon = strchr(line, ':');
  if(!colon || colon == line)
    return 0;
  for(const char *p = line; p < colon; p++)
    buf_putc(out, (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p));
  buf_putc(out, ':');
  const char *v = colon + 1;
  while(*v == ' ' || *v == '\t')
    v++;
  int blank = 0;
  for(; *v; v++) {
    if(*v == ' ' || *v == '\t') {
      blank = 1;
      continue;
    }
    if(blank)
      buf_putc(out, ' ');
    blank = 0;
    buf_putc(out, *v);
  }
  return (size_t)(colon - line);
}

static void hmac_text(const unsigned char *key, size_t key_len, const char *text,
                      unsigned char out[DIGEST_SHA256_LEN])
{
  digest_hmac_sha256(key, key_len, text, strlen(text), out);
}

cl_status s3_sign(const s3_signing *r, buf *out)
{
  s3_signed_header *headers = calloc(r->header_count ? r->header_count : 1, sizeof(*headers));
  buf canonical = BUF_INIT, line = BUF_INIT, names = BUF_INIT, to_sign = BUF_INIT;
  cl_status status = headers ? CL_OK : CL_ERR_NOMEM;
  size_t count = 0;
  for(size_t i = 0; !status && i < r->header_count; i++) {
    buf_clear(&line);
    size_t name_len = canonical_header(r->headers[i], &line);
    if(!name_len)
      continue;
    headers[count].name_len = name_len;
    if(!(headers[count].line = buf_take(&line, NULL)))
      status = CL_ERR_NOMEM;
    else
      count++;
  }
  if(!status) {
    qsort(headers, count, sizeof(*headers), by_name);
    buf_printf(&canonical, "%s\n%s\n%s\n", r->method, r->path, r->query);
    for(size_t i = 0; i < count; i++) {
      buf_printf(&canonical, "%s\n", headers[i].line);
      buf_printf(&names, "%s%.*s", i ? ";" : "", (int)headers[i].name_len, headers[i].line);
    }
    buf_printf(&canonical, "\n%s\n%s", names.data ? names.data : "", r->payload_hash);
    status = buf_status(&canonical) ? buf_status(&canonical) : buf_status(&names);
  }
  if(!status) {
    char date[9], hash[DIGEST_SHA256_HEX_LEN + 1], signature[2 * DIGEST_SHA256_LEN + 1];
    snprintf(date, sizeof(date), "%.8s", r->amz_date);
    digest_sha256_hex(canonical.data, canonical.len, hash);
    buf_printf(&to_sign, "AWS4-HMAC-SHA256\n%s\n%s/%s/s3/aws4_request\n%s", r->amz_date, date,
               r->region, hash);
    /* The signing key: the secret, then the scope's parts, each an HMAC key. */
    unsigned char key[DIGEST_SHA256_LEN];
    buf secret = BUF_INIT;
    buf_printf(&secret, "AWS4%s", r->secret_key);
    status = buf_status(&secret) ? buf_status(&secret) : buf_status(&to_sign);
    if(!status) {
      hmac_text((const unsigned char *)secret.data, secret.len, date, key);
      hmac_text(key, sizeof(key), r->region, key);
      hmac_text(key, sizeof(key), "s3", key);
      hmac_text(key, sizeof(key), "aws4_request", key);
      digest_hmac_sha256(key, sizeof(key), to_sign.data, to_sign.len, key);
      digest_to_hex(key, sizeof(key), signature);
      buf_printf(out, "AWS4-HMAC-SHA256 Credential=%s/%s/%s/s3/aws4_request, SignedHeaders=%s, "
                 "Signature=%s", r->access_key, date, r->region, names.data ? names.data : "",
                 signature);
      status = buf_status(out);
    }
    /* explicit_bzero: a plain memset right before free may be optimised away. */
    explicit_bzero(key, sizeof(key));
    if(secret.data)
      explicit_bzero(secret.data, secret.len);
    buf_free(&secret);
  }
  for(size_t i = 0; i < count; i++)
    free(headers[i].line);
  free(headers);
  buf_free(&canonical);
  buf_free(&line);
  buf_free(&names);
  buf_free(&to_sign);
  return status;
}

void s3_multipart_etag(const unsigned char *part_md5s, unsigned parts,
                       char out[S3_MULTIPART_ETAG_MAX])
{
  unsigned char raw[DIGEST_MD5_LEN];
  char hex[DIGEST_MD5_HEX_LEN + 1];
  digest_md5_raw(parts ? (const void *)part_md5s : "", (size_t)parts * DIGEST_MD5_LEN, raw);
  digest_to_hex(raw, sizeof(raw), hex);
  snprintf(out, S3_MULTIPART_ETAG_MAX, "%s-%u", hex, parts);
}

/* The S3 backend over libcurl (reached through s3_curl.h: the binary does
 * not link it, so it is loaded by the first S3 store of a process).
 *
 * Requests are signed by libcurl (CURLOPT_AWS_SIGV4, "aws:amz:REGION:s3").
 * libcurl 7.88 signs exactly what it is given, so this file sends
 * x-amz-content-sha256 itself (the real hash of bodies held in memory,
 * UNSIGNED-PAYLOAD for bodies streamed from a file), writes query strings
 * already sorted and RFC 3986-encoded, and passes a session token as the
 * x-amz-security-token header. The exception is CopyObject, signed here
 * (s3_sign): libcurl before 8.10 sorts whole header lines, so it signs
 * x-amz-copy-source-if-match before x-amz-copy-source, which S3 rejects.
 *
 * Every transfer runs on one curl multi handle per store, so all of them
 * share its connection cache: blocking calls reuse the store's easy handle
 * (and its connection), streaming readers get their own easy handle and
 * pause the transfer (CURL_WRITEFUNC_PAUSE) whenever the caller has not
 * taken the previous chunk, so memory stays bounded by one chunk.
 *
 * Retries follow the SDKs' "standard" mode: up to COLLATOR_S3_MAX_ATTEMPTS
 * (3) attempts with full-jitter exponential backoff (100 ms base, 20 s cap)
 * on 500/502/503/504, throttling and timeout codes, and connection
 * failures; never on other 4xx. A download that breaks midway resumes with a
 * Range request pinned to the ETag it started with (If-Match), so a reader
 * never mixes two versions: a replaced object fails with CL_ERR_CONFLICT.
 * Objects larger than 64 MiB given to store_put_fd go up as a multipart
 * upload with parts of at least 8 MiB, one part in memory at a time.
 */
#include "store_backend.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/digest.h"
#include "core/env.h"
#include "core/log.h"
#include "core/retry.h"
#include "core/url.h"
#include "s3_curl.h"
#include "s3_protocol.h"

#define S3_MULTIPART_THRESHOLD (64ull << 20)
#define S3_MIN_PART_SIZE (8ull << 20)
#define S3_MAX_PARTS 10000
/* The SDKs' "standard" retry mode makes 3 attempts; past 100 a retry loop
 * (up to 20 s a wait) would outlive any Lambda timeout. */
#define S3_DEFAULT_ATTEMPTS 3
#define S3_MAX_ATTEMPTS_CAP 100
#define S3_BACKOFF_BASE_MS 100
#define S3_BACKOFF_CAP_MS 20000
#define S3_ERROR_BODY_LIMIT (64 * 1024)
#define S3_READER_BUFFER (1024 * 1024) /* a streaming reader's read-ahead */
#define S3_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"

typedef struct s3_store {
  store base;
  char *bucket;
  char *base_url; /* "http://host:port/bucket" or "https://bucket.s3.REGION.amazonaws.com" */
  char region[64];
  char sigv4[128]; /* "aws:amz:REGION:s3" for libcurl */
  s3_credentials credentials;
  unsigned max_attempts;
  uint64_t rng;
  CURLM *multi;
  CURL *easy; /* blocking calls */
} s3_store;

typedef enum s3_sink {
  SINK_DISCARD, /* HEAD, DELETE, PUT: headers only */
  SINK_BUF,     /* append the body to `out` */
  SINK_FD,      /* write the body to `out_fd` */
  SINK_RANGE,   /* copy the body into dst */
  SINK_READER   /* hand the body to a streaming reader, pausing when it is full */
} s3_sink;

typedef struct s3_call {
  /* request */
  const char *method;
  const char *key;   /* NULL for requests on the bucket */
  const char *query; /* sorted and encoded, or NULL */
  const char *content_type;
  const store_precondition *precondition;
  const char *if_match; /* GET/HEAD: only this version */
  const char *copy_source;          /* CopyObject: "/bucket/encoded-key", and */
  const char *copy_source_if_match; /* the source version it must still be */
  int has_range;
  uint64_t range_first, range_last; /* inclusive; range_last UINT64_MAX: to the end */
  const void *body;                 /* memory body, or */
  int body_fd;                      /* >= 0: body_len bytes from body_fd at body_offset */
  uint64_t body_offset, body_len;
  const char *payload_hash;
  int error_in_body; /* a 200 may still carry <Error> (CompleteMultipartUpload) */
  /* where the body goes */
  s3_sink sink;
  buf *out;
  int out_fd;
  char *dst;
  uint64_t want_from; /* absolute offset of the first byte the sink wants */
  uint64_t want_len;  /* SINK_RANGE: bytes wanted */
  uint64_t dst_origin; /* SINK_RANGE: absolute offset of dst[0] */
  buf *pending;       /* SINK_READER */
  size_t *pending_pos;
  int paused;
  /* response of the current attempt */
  long http_status;
  char etag[STORE_ETAG_MAX];
  int has_length;
  uint64_t content_length;
  uint64_t range_start; /* from Content-Range, 0 otherwise */
  uint64_t range_total; /* from Content-Range; 0 when absent */
  uint64_t position;    /* absolute offset of the next body byte */
  uint64_t delivered;   /* bytes the sink took in total (across attempts) */
  buf error_body;
  uint64_t upload_pos;
  cl_status sink_status;
  cl_error sink_error;
  /* transfer state */
  int done;
  CURLcode result;
  struct curl_slist *headers;
} s3_call;

typedef struct s3_reader {
  store_reader base;
  s3_store *owner;
  CURL *easy;
  s3_call call;
  char *key;
  buf pending;
  size_t pending_pos;
  uint64_t size;
  char etag[STORE_ETAG_MAX];
  unsigned attempts;
  int in_multi;
} s3_reader;

static s3_store *s3_of(store *s)
{
  return (s3_store *)s;
}

/* libcurl's functions (s3_curl.h), set by the first store_s3_open: every
 * other function here runs on a store that open returned. */
static const s3_curl *curl;

/* ---- response callbacks ------------------------------------------------ */

static int is_success(long http_status)
{
  return http_status >= 200 && http_status < 300;
}

static int header_is(const char *line, size_t len, const char *name)
{
  size_t n = strlen(name);
  return len > n && !strncasecmp(line, name, n) && line[n] == ':';
}

static void header_value(const char *line, size_t len, size_t name_len, const char **value,
                         size_t *value_len)
{
  const char *v = line + name_len + 1, *end = line + len;
  while(v < end && (*v == ' ' || *v == '\t'))
    v++;
  while(end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
    end--;
  *value = v;
  *value_len = (size_t)(end - v);
}

static size_t on_header(char *line, size_t size, size_t count, void *ctx)
{
  s3_call *call = ctx;
  size_t len = size * count;
  const char *value;
  size_t value_len;
  if(len > 5 && !memcmp(line, "HTTP/", 5)) {
    /* A new response (after a 100 Continue, say) starts over. */
    const char *space = memchr(line, ' ', len);
    call->http_status = space ? strtol(space + 1, NULL, 10) : 0;
    call->etag[0] = '\0';
    call->has_length = 0;
    call->range_start = call->range_total = 0;
  } else if(header_is(line, len, "etag")) {
    header_value(line, len, 4, &value, &value_len);
    if(value_len < STORE_ETAG_MAX) {
      memcpy(call->etag, value, value_len);
      call->etag[value_len] = '\0';
    }
  } else if(header_is(line, len, "content-length")) {
    header_value(line, len, 14, &value, &value_len);
    call->content_length = strtoull(value, NULL, 10);
    call->has_length = 1;
  } else if(header_is(line, len, "content-range")) {
    /* "bytes FIRST-LAST/TOTAL" */
    header_value(line, len, 13, &value, &value_len);
    char text[96];
    if(value_len < sizeof(text)) {
      memcpy(text, value, value_len);
      text[value_len] = '\0';
      unsigned long long first, last, total;
      if(sscanf(text, "bytes %llu-%llu/%llu", &first, &last, &total) == 3) {
        call->range_start = first;
        call->range_total = total;
      }
    }
  } else if(len <= 2 && is_success(call->http_status)) {
    call->position = call->range_start;
  }
  return len;
}

/* Give the sink the part of [position, position + len) it wants. */
static size_t deliver(s3_call *call, const char *data, size_t len)
{
  uint64_t start = call->position, end = call->position + len;
  uint64_t want_end = call->sink == SINK_RANGE ? call->dst_origin + call->want_len : UINT64_MAX;
  uint64_t from = start > call->want_from ? start : call->want_from;
  uint64_t to = end < want_end ? end : want_end;
  if(from < to) {
    const char *p = data + (from - start);
    size_t n = (size_t)(to - from);
    switch(call->sink) {
    case SINK_BUF:
      if(buf_append(call->out, p, n)) {
        call->sink_status = cl_fail(&call->sink_error, buf_status(call->out),
                                    "buffering the object: %s",
                                    cl_status_name(buf_status(call->out)));
        return 0;
      }
      break;
    case SINK_FD:
      while(n) {
        ssize_t w = write(call->out_fd, p, n);
        if(w < 0 && errno == EINTR)
          continue;
        if(w < 0) {
          call->sink_status = cl_fail(&call->sink_error, CL_ERR_IO,
                                      "writing to the destination file: %s", strerror(errno));
          return 0;
        }
        p += w;
        n -= (size_t)w;
      }
      n = (size_t)(to - from);
      break;
    case SINK_RANGE:
      memcpy(call->dst + (from - call->dst_origin), p, n);
      break;
    default:
      break;
    }
    call->delivered += to - from;
    call->want_from = to;
  }
  call->position = end;
  return len;
}

static size_t on_body(char *data, size_t size, size_t count, void *ctx)
{
  s3_call *call = ctx;
  size_t len = size * count;
  if(!is_success(call->http_status)) {
    if(call->error_body.len < S3_ERROR_BODY_LIMIT)
      buf_append(&call->error_body, data, len);
    return len;
  }
  if(call->sink == SINK_DISCARD)
    return len;
  if(call->sink == SINK_READER) {
    /* Take data while the buffer has room, pause only when it is full: a
     * pause makes libcurl re-deliver in 16 KiB pieces, so pausing per chunk
     * would halve the throughput. */
    buf *pending = call->pending;
    size_t unread = pending->len - *call->pending_pos;
    if(unread && unread + len > S3_READER_BUFFER) {
      call->paused = 1;
      return CURL_WRITEFUNC_PAUSE;
    }
    if(unread && *call->pending_pos > pending->len / 2) {
      memmove(pending->data, pending->data + *call->pending_pos, unread);
      buf_truncate(pending, unread);
      *call->pending_pos = 0;
    } else if(!unread) {
      buf_clear(pending);
      *call->pending_pos = 0;
    }
    /* A server that ignored the Range of a resumed GET sends the start
     * again: skip what the reader already has. */
    uint64_t behind = call->want_from > call->position ? call->want_from - call->position : 0;
    size_t skip = behind < len ? (size_t)behind : len;
    if(buf_append(pending, data + skip, len - skip)) {
      call->sink_status = cl_fail(&call->sink_error, CL_ERR_NOMEM, "buffering: out of memory");
      return 0;
    }
    call->position += len;
    call->delivered += len - skip;
    if(call->want_from < call->position)
      call->want_from = call->position;
    return len;
  }
  return deliver(call, data, len);
}

static size_t on_upload(char *dst, size_t size, size_t count, void *ctx)
{
  s3_call *call = ctx;
  size_t cap = size * count;
  uint64_t left = call->body_len - call->upload_pos;
  size_t n = left < cap ? (size_t)left : cap;
  if(!n)
    return 0;
  if(call->body_fd < 0) {
    memcpy(dst, (const char *)call->body + call->upload_pos, n);
  } else {
    ssize_t got;
    do
      got = pread(call->body_fd, dst, n, (off_t)(call->body_offset + call->upload_pos));
    while(got < 0 && errno == EINTR);
    if(got <= 0) {
      call->sink_status =
        cl_fail(&call->sink_error, CL_ERR_IO, "reading the source file at %llu: %s",
                (unsigned long long)(call->body_offset + call->upload_pos),
                got < 0 ? strerror(errno) : "unexpected end of file");
      return CURL_READFUNC_ABORT;
    }
    n = (size_t)got;
  }
  call->upload_pos += n;
  return n;
}

/* ---- one request ------------------------------------------------------- */

static cl_status build_url(s3_store *s3, const s3_call *call, buf *url)
{
  buf_append_str(url, s3->base_url);
  buf_putc(url, '/');
  if(call->key)
    url_encode(call->key, strlen(call->key), 1, url);
  if(call->query) {
    buf_putc(url, '?');
    buf_append_str(url, call->query);
  }
  return buf_status(url);
}

static cl_status add_header(s3_call *call, const char *fmt, const char *value)
{
  char line[4400];
  snprintf(line, sizeof(line), fmt, value);
  struct curl_slist *grown = curl->slist_append(call->headers, line);
  if(!grown)
    return CL_ERR_NOMEM;
  call->headers = grown;
  return CL_OK;
}

/* SigV4 over every header in call->headers, which gains Host, x-amz-date
 * and Authorization (see s3_sign): for the requests libcurl cannot sign. */
static cl_status sign(s3_store *s3, s3_call *call, const buf *url)
{
  /* url: scheme://authority/path[?query] */
  const char *authority = strstr(url->data, "://") + 3;
  const char *path = strchr(authority, '/');
  char host[512], date[20];
  snprintf(host, sizeof(host), "%.*s", (int)(path - authority), authority);
  time_t now = time(NULL);
  struct tm tm;
  strftime(date, sizeof(date), "%Y%m%dT%H%M%SZ", gmtime_r(&now, &tm));
  cl_status status = add_header(call, "Host: %s", host);
  if(!status)
    status = add_header(call, "x-amz-date: %s", date);
  /* prepare() adds at most 9, and this function 2 before signing. */
  const char *lines[16];
  size_t count = 0;
  for(struct curl_slist *h = call->headers; h; h = h->next) {
    if(count == sizeof(lines) / sizeof(lines[0]))
      return CL_ERR_INTERNAL;
    lines[count++] = h->data;
  }
  const char *query = strchr(path, '?');
  buf path_only = BUF_INIT, authorization = BUF_INIT;
  buf_append(&path_only, path, query ? (size_t)(query - path) : strlen(path));
  s3_signing request = {call->method, path_only.data, query ? query + 1 : "", lines, count,
                        call->payload_hash, date, s3->region,
                        s3->credentials.access_key, s3->credentials.secret_key};
  if(!status)
    status = buf_status(&path_only);
  if(!status)
    status = s3_sign(&request, &authorization);
  if(!status)
    status = add_header(call, "Authorization: %s", authorization.data);
  buf_free(&path_only);
  buf_free(&authorization);
  return status;
}

static cl_status prepare(s3_store *s3, CURL *easy, s3_call *call, buf *url)
{
  cl_status status = build_url(s3, call, url);
  curl->slist_free_all(call->headers);
  call->headers = NULL;
  status = status ? status : add_header(call, "x-amz-content-sha256: %s", call->payload_hash);
  if(!status && s3->credentials.session_token[0])
    status = add_header(call, "x-amz-security-token: %s", s3->credentials.session_token);
  if(!status && call->content_type)
    status = add_header(call, "Content-Type: %s", call->content_type);
  if(!status && call->precondition && call->precondition->condition == STORE_IF_ABSENT)
    status = add_header(call, "If-None-Match: %s", "*");
  if(!status && call->precondition && call->precondition->condition == STORE_IF_MATCH)
    status = add_header(call, "If-Match: %s", call->precondition->etag);
  if(!status && call->if_match)
    status = add_header(call, "If-Match: %s", call->if_match);
  if(!status && call->copy_source)
    status = add_header(call, "x-amz-copy-source: %s", call->copy_source);
  if(!status && call->copy_source_if_match)
    status = add_header(call, "x-amz-copy-source-if-match: %s", call->copy_source_if_match);
  if(!status && call->has_range) {
    char range[80];
    if(call->range_last == UINT64_MAX)
      snprintf(range, sizeof(range), "%llu-", (unsigned long long)call->range_first);
    else
      snprintf(range, sizeof(range), "%llu-%llu", (unsigned long long)call->range_first,
               (unsigned long long)call->range_last);
    status = add_header(call, "Range: bytes=%s", range);
  }
  /* No "Expect:" to suppress 100-continue: libcurl 7.88 would list the
   * removed header among the signed ones and the signature would not match.
   * CopyObject is the one request libcurl cannot sign (see the top). */
  int self_signed = call->copy_source != NULL;
  if(!status && self_signed)
    status = sign(s3, call, url);
  if(status)
    return status;

  curl->easy_reset(easy);
  curl->easy_setopt(easy, CURLOPT_URL, url->data);
  curl->easy_setopt(easy, CURLOPT_PATH_AS_IS, 1L);
  curl->easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  if(!self_signed) {
    curl->easy_setopt(easy, CURLOPT_AWS_SIGV4, s3->sigv4);
    curl->easy_setopt(easy, CURLOPT_USERNAME, s3->credentials.access_key);
    curl->easy_setopt(easy, CURLOPT_PASSWORD, s3->credentials.secret_key);
  }
  curl->easy_setopt(easy, CURLOPT_HTTPHEADER, call->headers);
  curl->easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
  curl->easy_setopt(easy, CURLOPT_HEADERDATA, call);
  curl->easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
  curl->easy_setopt(easy, CURLOPT_WRITEDATA, call);
  curl->easy_setopt(easy, CURLOPT_PRIVATE, call);
  curl->easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
  /* A stalled connection is a timeout to retry, however large the object. */
  curl->easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl->easy_setopt(easy, CURLOPT_LOW_SPEED_TIME, 30L);
  curl->easy_setopt(easy, CURLOPT_BUFFERSIZE, 256L * 1024);
  curl->easy_setopt(easy, CURLOPT_UPLOAD_BUFFERSIZE, 2L * 1024 * 1024);
  curl->easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
  if(!strcmp(call->method, "HEAD")) {
    curl->easy_setopt(easy, CURLOPT_NOBODY, 1L);
  } else if(!strcmp(call->method, "PUT") || !strcmp(call->method, "POST")) {
    curl->easy_setopt(easy, CURLOPT_UPLOAD, 1L);
    curl->easy_setopt(easy, CURLOPT_READFUNCTION, on_upload);
    curl->easy_setopt(easy, CURLOPT_READDATA, call);
    curl->easy_setopt(easy, CURLOPT_INFILESIZE_LARGE, (curl_off_t)call->body_len);
    if(call->method[1] == 'O')
      curl->easy_setopt(easy, CURLOPT_CUSTOMREQUEST, "POST");
  } else if(strcmp(call->method, "GET")) {
    curl->easy_setopt(easy, CURLOPT_CUSTOMREQUEST, call->method);
  }
  return CL_OK;
}

static void reset_response(s3_call *call)
{
  call->http_status = 0;
  call->etag[0] = '\0';
  call->has_length = 0;
  call->content_length = 0;
  call->range_start = call->range_total = 0;
  call->position = 0;
  buf_clear(&call->error_body);
  call->upload_pos = 0;
  call->sink_status = CL_OK;
  call->paused = 0;
  call->done = 0;
  call->result = CURLE_OK;
}

/* One turn of the multi handle: with `wait`, first sleep until a socket is
 * ready or a curl timer is due (never when the caller might already have
 * what it waits for: a paused transfer leaves nothing to wake up on). Then
 * transfers that finished are marked done in their own call, whoever is
 * waiting for them. */
static cl_status drive(s3_store *s3, int wait, cl_error *err)
{
  CURLMcode mc;
  if(wait) {
    mc = curl->multi_poll(s3->multi, NULL, 0, 1000, NULL);
    if(mc != CURLM_OK)
      return cl_fail(err, CL_ERR_INTERNAL, "%s: curl_multi_poll: %s", s3->base.name,
                     curl->multi_strerror(mc));
  }
  int running = 0;
  mc = curl->multi_perform(s3->multi, &running);
  if(mc != CURLM_OK)
    return cl_fail(err, CL_ERR_INTERNAL, "%s: curl_multi_perform: %s", s3->base.name,
                   curl->multi_strerror(mc));
  CURLMsg *msg;
  int left;
  while((msg = curl->multi_info_read(s3->multi, &left))) {
    if(msg->msg != CURLMSG_DONE)
      continue;
    char *private_data = NULL;
    curl->easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &private_data);
    s3_call *call = (s3_call *)private_data;
    if(call) {
      call->done = 1;
      call->result = msg->data.result;
    }
  }
  return CL_OK;
}

static int transport_is_transient(CURLcode code)
{
  switch(code) {
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_CONNECT:
  case CURLE_OPERATION_TIMEDOUT:
  case CURLE_SEND_ERROR:
  case CURLE_RECV_ERROR:
  case CURLE_GOT_NOTHING:
  case CURLE_PARTIAL_FILE:
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_HTTP2:
  case CURLE_HTTP2_STREAM:
  case CURLE_WEIRD_SERVER_REPLY:
    return 1;
  default:
    return 0;
  }
}

/* Describe a failed attempt into err and say whether to retry it. */
static s3_outcome judge(s3_store *s3, s3_call *call, cl_error *err)
{
  const char *object = call->key ? call->key : "";
  if(call->sink_status) {
    cl_error_prefix(&call->sink_error, "%s/%s", s3->base.name, object);
    if(err)
      *err = call->sink_error;
    return (s3_outcome){call->sink_status, 0};
  }
  if(call->result != CURLE_OK) {
    int transient = transport_is_transient(call->result);
    cl_fail(err, transient ? CL_ERR_TRANSIENT : CL_ERR_IO, "%s/%s: %s: %s", s3->base.name,
            object, call->method, curl->easy_strerror(call->result));
    return (s3_outcome){transient ? CL_ERR_TRANSIENT : CL_ERR_IO, transient};
  }
  buf code = BUF_INIT, message = BUF_INIT;
  if(call->error_body.len) {
    s3_xml_text(call->error_body.data, call->error_body.len, "Code", &code);
    s3_xml_text(call->error_body.data, call->error_body.len, "Message", &message);
  }
  /* CompleteMultipartUpload can fail inside a 200 response. */
  if(call->error_in_body && is_success(call->http_status) && call->out && call->out->len &&
     strstr(call->out->data, "<Error>")) {
    s3_xml_text(call->out->data, call->out->len, "Code", &code);
    s3_xml_text(call->out->data, call->out->len, "Message", &message);
    s3_outcome outcome = s3_classify(500, code.data ? code.data : "", 0);
    outcome.retry = outcome.status == CL_ERR_TRANSIENT;
    cl_fail(err, outcome.status, "%s/%s: %s: HTTP 200 with error %s: %s", s3->base.name,
            object, call->method, code.data ? code.data : "?",
            message.data ? message.data : "");
    buf_free(&code);
    buf_free(&message);
    return outcome;
  }
  s3_outcome outcome = s3_classify(call->http_status, code.data ? code.data : "", 0);
  if(outcome.status) {
    const char *what = code.len ? code.data
                       : call->http_status == 404 ? "NoSuchKey"
                       : call->http_status == 412 ? "PreconditionFailed"
                                                  : "no error body";
    cl_fail(err, outcome.status, "%s/%s: %s: HTTP %ld %s%s%s", s3->base.name, object,
            call->method, call->http_status, what, message.len ? ": " : "",
            message.len ? message.data : "");
  }
  buf_free(&code);
  buf_free(&message);
  return outcome;
}

static void sleep_ms(uint64_t ms)
{
  struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
  while(nanosleep(&ts, &ts) && errno == EINTR) {
  }
}

/* Run a call to completion with retries. A body that was partly delivered
 * when the connection broke is resumed from where it stopped, pinned to the
 * ETag that the first response carried. */
static cl_status execute(s3_store *s3, s3_call *call, cl_error *err)
{
  buf url = BUF_INIT;
  size_t out_start = call->out ? call->out->len : 0;
  uint64_t first_wanted = call->want_from;
  char pinned[STORE_ETAG_MAX] = "";
  cl_status status = CL_OK;
  for(unsigned attempt = 1;; attempt++) {
    status = CL_OK;
    reset_response(call);
    buf_clear(&url);
    if(prepare(s3, s3->easy, call, &url)) {
      status = cl_fail(err, CL_ERR_NOMEM, "%s: out of memory", s3->base.name);
      break;
    }
    s3->base.stats.requests++;
    CURLMcode mc = curl->multi_add_handle(s3->multi, s3->easy);
    if(mc != CURLM_OK) {
      status = cl_fail(err, CL_ERR_INTERNAL, "%s: curl_multi_add_handle: %s", s3->base.name,
                       curl->multi_strerror(mc));
      break;
    }
    for(int turn = 0; !call->done && !status; turn++)
      status = drive(s3, turn > 0, err);
    curl->multi_remove_handle(s3->multi, s3->easy);
    if(status)
      break;
    s3->base.stats.bytes_written += call->upload_pos;
    if(is_success(call->http_status) && call->sink != SINK_DISCARD)
      s3->base.stats.bytes_read += call->position - call->range_start;
    if(!pinned[0] && call->etag[0] && is_success(call->http_status))
      snprintf(pinned, sizeof(pinned), "%s", call->etag);
    s3_outcome outcome = judge(s3, call, err);
    status = outcome.status;
    if(!status)
      break;
    if(status == CL_ERR_CONFLICT && call->method[0] == 'P')
      s3->base.stats.conflicts++;
    if(!outcome.retry || attempt >= s3->max_attempts) {
      if(outcome.retry && attempt > 1)
        cl_error_prefix(err, "after %u attempts", attempt);
      break;
    }
    s3->base.stats.retries++;
    sleep_ms(retry_backoff_ms(attempt, S3_BACKOFF_BASE_MS, S3_BACKOFF_CAP_MS, &s3->rng));
    /* Rewind or resume the response body. */
    if(call->sink == SINK_BUF) {
      buf_truncate(call->out, out_start);
      call->want_from = first_wanted;
    } else if(call->sink == SINK_FD && call->want_from > first_wanted && pinned[0]) {
      call->has_range = 1;
      call->range_first = call->want_from;
      call->range_last = UINT64_MAX;
      call->if_match = pinned;
    } else if(call->sink == SINK_RANGE && call->want_from > first_wanted) {
      call->range_first = call->want_from; /* the bytes before are in dst already */
    }
  }
  buf_free(&url);
  curl->slist_free_all(call->headers);
  call->headers = NULL;
  buf_free(&call->error_body);
  return status;
}

static void init_call(s3_call *call, const char *method, const char *key)
{
  memset(call, 0, sizeof(*call));
  call->method = method;
  call->key = key;
  call->body_fd = -1;
  call->out_fd = -1;
  call->payload_hash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
}

static void fill_info(const s3_call *call, uint64_t size, store_info *info)
{
  info->size = size;
  snprintf(info->etag, sizeof(info->etag), "%s", call->etag);
}

/* ---- operations -------------------------------------------------------- */

static cl_status s3_head(store *s, const char *key, store_info *info, cl_error *err)
{
  s3_call call;
  init_call(&call, "HEAD", key);
  cl_status status = execute(s3_of(s), &call, err);
  if(!status)
    fill_info(&call, call.content_length, info);
  return status;
}

static cl_status s3_get(store *s, const char *key, buf *out, store_info *info, cl_error *err)
{
  s3_call call;
  init_call(&call, "GET", key);
  call.sink = SINK_BUF;
  call.out = out;
  size_t start = out->len;
  cl_status status = execute(s3_of(s), &call, err);
  if(!status)
    fill_info(&call, out->len - start, info);
  return status;
}

static cl_status s3_get_to_fd(store *s, const char *key, int fd, store_info *info,
                              cl_error *err)
{
  s3_call call;
  init_call(&call, "GET", key);
  call.sink = SINK_FD;
  call.out_fd = fd;
  cl_status status = execute(s3_of(s), &call, err);
  if(!status)
    fill_info(&call, call.delivered, info);
  return status;
}

static cl_status s3_read_range(store *s, const char *key, const char *etag, uint64_t offset,
                               void *dst, size_t len, cl_error *err)
{
  s3_store *s3 = s3_of(s);
  s3_call call;
  if(!len) {
    /* No empty byte range exists in HTTP: check the version and bounds. */
    init_call(&call, "HEAD", key);
    call.if_match = etag;
    cl_status status = execute(s3, &call, err);
    if(status)
      return status;
    if(offset > call.content_length)
      return cl_fail(err, CL_ERR_FORMAT, "%s/%s: offset %llu is past the end (%llu bytes)",
                     s->name, key, (unsigned long long)offset,
                     (unsigned long long)call.content_length);
    return CL_OK;
  }
  init_call(&call, "GET", key);
  call.if_match = etag;
  call.has_range = 1;
  call.range_first = offset;
  call.range_last = offset + len - 1;
  call.sink = SINK_RANGE;
  call.dst = dst;
  call.want_from = offset;
  call.want_len = len;
  call.dst_origin = offset;
  cl_status status = execute(s3, &call, err);
  if(status)
    return status;
  if(call.delivered != len)
    return cl_fail(err, CL_ERR_FORMAT,
                   "%s/%s: range of %zu bytes at %llu is past the end (got %llu bytes)",
                   s->name, key, len, (unsigned long long)offset,
                   (unsigned long long)call.delivered);
  return CL_OK;
}

static cl_status s3_put(store *s, const char *key, const void *data, size_t len,
                        const store_precondition *precondition, store_info *written,
                        cl_error *err)
{
  s3_store *s3 = s3_of(s);
  char hash[DIGEST_SHA256_HEX_LEN + 1];
  digest_sha256_hex(data, len, hash);
  s3_call call;
  init_call(&call, "PUT", key);
  call.body = data;
  call.body_len = len;
  call.payload_hash = hash;
  call.precondition = precondition;
  cl_status status = execute(s3, &call, err);
  if(!status)
    fill_info(&call, len, written);
  return status;
}

/* An ETag without its quotes (S3 sends them; some servers do not). */
static const char *etag_unquoted(const char *etag, size_t *len)
{
  *len = strlen(etag);
  if(*len >= 2 && etag[0] == '"' && etag[*len - 1] == '"') {
    *len -= 2;
    return etag + 1;
  }
  return etag;
}

/* The MD5 in a part's ETag, or 0 when it holds none (SSE-KMS). */
static int etag_md5(const char *etag, unsigned char raw[DIGEST_MD5_LEN])
{
  size_t len;
  const char *hex = etag_unquoted(etag, &len);
  return digest_md5_from_hex(hex, len, raw);
}

/* len bytes of fd at offset into dst (core/stream's reader); a short file
 * is an I/O failure here, not a malformed input. */
static cl_status read_source(s3_store *s3, const char *key, int fd, uint64_t offset, char *dst,
                             size_t len, cl_error *err)
{
  stream_fd source = {.fd = fd, .name = key};
  stream_file file = stream_file_from_fd(&source, offset + len);
  cl_status status = file.read_at(file.ctx, offset, dst, len, err);
  if(!status)
    return CL_OK;
  cl_error_prefix(err, "%s/%s: reading the source file", s3->base.name, key);
  if(err)
    err->status = CL_ERR_IO;
  return CL_ERR_IO;
}

/* Whether a CompleteMultipartUpload whose answer was lost (a reset, a
 * timeout) took effect before its retry failed (NoSuchUpload, or the
 * precondition it now fails itself): the key then holds the object these
 * parts make. S3 derives its ETag from the parts' (the MD5 of their MD5s,
 * "-", their count); a server that gives the whole object's MD5 instead
 * (s3rver) has it checked against the file, read again in `scratch`. On
 * success written gets the object's ETag. */
static int multipart_took_effect(s3_store *s3, const char *key, int fd, uint64_t size,
                                 char *scratch, size_t scratch_len, const buf *part_md5s,
                                 unsigned parts, store_info *written)
{
  store_info head;
  cl_error ignored;
  if(s3_head(&s3->base, key, &head, &ignored) || head.size != size)
    return 0;
  unsigned char raw[DIGEST_MD5_LEN];
  char expected[S3_MULTIPART_ETAG_MAX], hex[DIGEST_MD5_HEX_LEN + 1];
  s3_multipart_etag((const unsigned char *)part_md5s->data, parts, expected);
  size_t got_len;
  const char *got = etag_unquoted(head.etag, &got_len);
  int same = got_len == strlen(expected) && !memcmp(got, expected, got_len);
  if(!same && digest_md5_from_hex(got, got_len, raw)) {
    digest_md5 *md5 = digest_md5_create();
    cl_status status = md5 ? CL_OK : CL_ERR_NOMEM;
    for(uint64_t offset = 0; !status && offset < size; offset += scratch_len) {
      size_t len = (size_t)(size - offset < scratch_len ? size - offset : scratch_len);
      status = read_source(s3, key, fd, offset, scratch, len, &ignored);
      if(!status)
        digest_md5_update(md5, scratch, len);
    }
    if(md5)
      digest_md5_final_hex(md5, hex);
    digest_md5_free(md5);
    same = !status && !memcmp(got, hex, DIGEST_MD5_HEX_LEN);
  }
  if(same)
    snprintf(written->etag, sizeof(written->etag), "%s", head.etag);
  return same;
}

/* One multipart upload: initiate, parts (each hashed, read into one part
 * buffer), complete with the precondition; abort on any failure. */
static cl_status multipart_put(s3_store *s3, const char *key, int fd, uint64_t size,
                               const store_precondition *precondition, store_info *written,
                               cl_error *err)
{
  uint64_t part_size = S3_MIN_PART_SIZE;
  while((size + part_size - 1) / part_size > S3_MAX_PARTS)
    part_size *= 2;
  buf response = BUF_INIT, upload_id = BUF_INIT, query = BUF_INIT, complete = BUF_INIT;
  buf part_md5s = BUF_INIT; /* each part's MD5, from its ETag */
  int etags_are_md5 = 1;
  char *part = NULL;
  s3_call call;
  init_call(&call, "POST", key);
  call.query = "uploads=";
  call.sink = SINK_BUF;
  call.out = &response;
  call.body = "";
  cl_status status = execute(s3, &call, err);
  if(!status && !s3_xml_text(response.data, response.len, "UploadId", &upload_id))
    status = cl_fail(err, CL_ERR_REMOTE, "%s/%s: no UploadId in the InitiateMultipartUpload "
                     "response", s3->base.name, key);
  if(status)
    goto done;
  part = malloc((size_t)part_size);
  if(!part) {
    status = cl_fail(err, CL_ERR_NOMEM, "%s/%s: out of memory for a %llu-byte part",
                     s3->base.name, key, (unsigned long long)part_size);
    goto abort;
  }
  buf_append_str(&complete, "<CompleteMultipartUpload>");
  unsigned part_number = 1;
  for(uint64_t offset = 0; offset < size; offset += part_size, part_number++) {
    size_t len = (size_t)(size - offset < part_size ? size - offset : part_size);
    status = read_source(s3, key, fd, offset, part, len, err);
    if(status)
      goto abort;
    char hash[DIGEST_SHA256_HEX_LEN + 1];
    digest_sha256_hex(part, len, hash);
    buf_clear(&query);
    buf_printf(&query, "partNumber=%u&uploadId=", part_number);
    url_encode(upload_id.data, upload_id.len, 0, &query);
    if(buf_status(&query)) {
      status = cl_fail(err, CL_ERR_NOMEM, "%s/%s: out of memory", s3->base.name, key);
      goto abort;
    }
    init_call(&call, "PUT", key);
    call.query = query.data;
    call.body = part;
    call.body_len = len;
    call.payload_hash = hash;
    status = execute(s3, &call, err);
    if(status) {
      cl_error_prefix(err, "part %u", part_number);
      goto abort;
    }
    unsigned char md5[DIGEST_MD5_LEN];
    etags_are_md5 = etags_are_md5 && etag_md5(call.etag, md5) &&
                    !buf_append(&part_md5s, md5, sizeof(md5));
    buf_printf(&complete, "<Part><PartNumber>%u</PartNumber><ETag>", part_number);
    s3_xml_escape(call.etag, strlen(call.etag), &complete);
    buf_append_str(&complete, "</ETag></Part>");
  }
  buf_append_str(&complete, "</CompleteMultipartUpload>");
  buf_clear(&query);
  buf_append_str(&query, "uploadId=");
  url_encode(upload_id.data, upload_id.len, 0, &query);
  if(buf_status(&query) || buf_status(&complete)) {
    status = cl_fail(err, CL_ERR_NOMEM, "%s/%s: out of memory", s3->base.name, key);
    goto abort;
  }
  char hash[DIGEST_SHA256_HEX_LEN + 1];
  digest_sha256_hex(complete.data, complete.len, hash);
  buf_clear(&response);
  init_call(&call, "POST", key);
  call.query = query.data;
  call.body = complete.data;
  call.body_len = complete.len;
  call.payload_hash = hash;
  call.content_type = "application/xml";
  call.error_in_body = 1;
  call.precondition = precondition;
  call.sink = SINK_BUF;
  call.out = &response;
  uint64_t retries = s3->base.stats.retries;
  status = execute(s3, &call, err);
  if(status && s3->base.stats.retries > retries && etags_are_md5 &&
     multipart_took_effect(s3, key, fd, size, part, (size_t)part_size, &part_md5s,
                           part_number - 1, written)) {
    log_message(LOG_WARN, "%s/%s: CompleteMultipartUpload: the retry failed (%s), but the "
                "first attempt had completed it", s3->base.name, key, err ? err->message : "-");
    if(err)
      cl_error_clear(err);
    status = CL_OK;
    written->size = size;
    goto done;
  }
  if(status)
    goto abort;
  buf etag = BUF_INIT;
  if(s3_xml_text(response.data, response.len, "ETag", &etag) && etag.len < STORE_ETAG_MAX)
    snprintf(written->etag, sizeof(written->etag), "%s", etag.data);
  else
    written->etag[0] = '\0';
  buf_free(&etag);
  written->size = size;
  goto done;

abort:
  /* Best effort: the upload's parts would otherwise be billed until a
   * lifecycle rule removes them. s3rver answers 405, which is fine. */
  {
    cl_error ignored;
    buf_clear(&query);
    buf_append_str(&query, "uploadId=");
    url_encode(upload_id.data, upload_id.len, 0, &query);
    if(!buf_status(&query)) {
      init_call(&call, "DELETE", key);
      call.query = query.data;
      unsigned attempts = s3->max_attempts;
      s3->max_attempts = 1;
      execute(s3, &call, &ignored);
      s3->max_attempts = attempts;
    }
  }
done:
  free(part);
  buf_free(&part_md5s);
  buf_free(&response);
  buf_free(&upload_id);
  buf_free(&query);
  buf_free(&complete);
  return status;
}

static cl_status s3_put_fd(store *s, const char *key, int fd, uint64_t size,
                           const store_precondition *precondition, store_info *written,
                           cl_error *err)
{
  s3_store *s3 = s3_of(s);
  if(size > S3_MULTIPART_THRESHOLD)
    return multipart_put(s3, key, fd, size, precondition, written, err);
  s3_call call;
  init_call(&call, "PUT", key);
  call.body_fd = fd;
  call.body_len = size;
  call.payload_hash = S3_UNSIGNED_PAYLOAD;
  call.precondition = precondition;
  cl_status status = execute(s3, &call, err);
  if(!status)
    fill_info(&call, size, written);
  return status;
}

/* CopyObject, which can also fail inside a 200 response. A copy source that
 * is gone (404) is a conflict, as a changed one (412) is. */
static cl_status s3_copy(store *s, const char *from, const char *from_etag, const char *key,
                         const store_precondition *precondition, cl_error *err)
{
  s3_store *s3 = s3_of(s);
  buf source = BUF_INIT, response = BUF_INIT;
  buf_printf(&source, "/%s/", s3->bucket);
  url_encode(from, strlen(from), 1, &source);
  if(buf_status(&source)) {
    buf_free(&source);
    return cl_fail(err, CL_ERR_NOMEM, "%s/%s: out of memory", s->name, key);
  }
  s3_call call;
  init_call(&call, "PUT", key);
  call.copy_source = source.data;
  call.copy_source_if_match = from_etag;
  call.precondition = precondition;
  call.error_in_body = 1;
  call.sink = SINK_BUF;
  call.out = &response;
  cl_status status = execute(s3, &call, err);
  if(status == CL_ERR_NOT_FOUND) {
    s->stats.conflicts++;
    status = cl_fail(err, CL_ERR_CONFLICT, "%s/%s: copy source %s is gone", s->name, key,
                     from);
  }
  buf_free(&source);
  buf_free(&response);
  return status;
}

static cl_status s3_remove(store *s, const char *key, cl_error *err)
{
  s3_call call;
  init_call(&call, "DELETE", key);
  cl_status status = execute(s3_of(s), &call, err);
  return status == CL_ERR_NOT_FOUND ? CL_OK : status;
}

static cl_status list_page(s3_store *s3, const char *prefix, const buf *response,
                           store_list_fn fn, void *ctx, cl_error *err)
{
  size_t pos = 0;
  const char *content;
  size_t content_len;
  buf key = BUF_INIT, field = BUF_INIT;
  cl_status status = CL_OK;
  while(!status &&
        s3_xml_find(response->data, response->len, "Contents", &pos, &content, &content_len)) {
    store_info info = {0, ""};
    buf_clear(&key);
    size_t at = 0;
    const char *text;
    size_t text_len;
    if(!s3_xml_find(content, content_len, "Key", &at, &text, &text_len) ||
       s3_xml_unescape(text, text_len, &key, err)) {
      status = cl_fail(err, CL_ERR_REMOTE, "%s: ListObjectsV2 under '%s': an entry without "
                       "a readable Key", s3->base.name, prefix);
      break;
    }
    if(s3_xml_text(content, content_len, "Size", &field))
      info.size = strtoull(field.data, NULL, 10);
    if(s3_xml_text(content, content_len, "ETag", &field) && field.len < STORE_ETAG_MAX)
      memcpy(info.etag, field.data, field.len + 1);
    status = fn(ctx, key.data, &info, err);
  }
  buf_free(&key);
  buf_free(&field);
  return status;
}

static cl_status s3_list(store *s, const char *prefix, store_list_fn fn, void *ctx,
                         cl_error *err)
{
  s3_store *s3 = s3_of(s);
  buf token = BUF_INIT, query = BUF_INIT, response = BUF_INIT, flag = BUF_INIT;
  cl_status status = CL_OK;
  for(;;) {
    /* Parameters in byte order, values RFC 3986-encoded: signed verbatim. */
    buf_clear(&query);
    if(token.len) {
      buf_append_str(&query, "continuation-token=");
      url_encode(token.data, token.len, 0, &query);
      buf_putc(&query, '&');
    }
    buf_append_str(&query, "list-type=2&prefix=");
    url_encode(prefix, strlen(prefix), 0, &query);
    if(buf_status(&query)) {
      status = cl_fail(err, CL_ERR_NOMEM, "%s: out of memory", s->name);
      break;
    }
    buf_clear(&response);
    s3_call call;
    init_call(&call, "GET", NULL);
    call.query = query.data;
    call.sink = SINK_BUF;
    call.out = &response;
    status = execute(s3, &call, err);
    if(status) {
      cl_error_prefix(err, "listing '%s'", prefix);
      break;
    }
    status = list_page(s3, prefix, &response, fn, ctx, err);
    if(status)
      break;
    if(!s3_xml_text(response.data, response.len, "IsTruncated", &flag) ||
       strcmp(flag.data, "true"))
      break;
    if(!s3_xml_text(response.data, response.len, "NextContinuationToken", &token) ||
       !token.len) {
      status = cl_fail(err, CL_ERR_REMOTE, "%s: ListObjectsV2 under '%s' is truncated but "
                       "has no NextContinuationToken", s->name, prefix);
      break;
    }
  }
  buf_free(&token);
  buf_free(&query);
  buf_free(&response);
  buf_free(&flag);
  return status;
}

/* ---- streaming reader -------------------------------------------------- */

static cl_status reader_start(s3_reader *reader, cl_error *err)
{
  s3_store *s3 = reader->owner;
  s3_call *call = &reader->call;
  buf url = BUF_INIT;
  reset_response(call);
  cl_status status = prepare(s3, reader->easy, call, &url);
  buf_free(&url); /* libcurl copies the URL */
  if(status)
    return cl_fail(err, CL_ERR_NOMEM, "%s/%s: out of memory", s3->base.name, reader->key);
  s3->base.stats.requests++;
  CURLMcode mc = curl->multi_add_handle(s3->multi, reader->easy);
  if(mc != CURLM_OK)
    return cl_fail(err, CL_ERR_INTERNAL, "%s: curl_multi_add_handle: %s", s3->base.name,
                   curl->multi_strerror(mc));
  reader->in_multi = 1;
  return CL_OK;
}

static void reader_stop(s3_reader *reader)
{
  if(reader->in_multi) {
    curl->multi_remove_handle(reader->owner->multi, reader->easy);
    reader->in_multi = 0;
  }
}

/* Finish a failed transfer: decide whether to go again from where the
 * caller is, pinned to the version it has been reading. */
static cl_status reader_retry_or_fail(s3_reader *reader, cl_error *err)
{
  s3_store *s3 = reader->owner;
  s3_call *call = &reader->call;
  reader_stop(reader);
  s3_outcome outcome = judge(s3, call, err);
  if(!outcome.status) { /* a 2xx that ended short */
    outcome.status = cl_fail(err, CL_ERR_TRANSIENT, "%s/%s: GET ended after %llu of %llu bytes",
                             s3->base.name, reader->key,
                             (unsigned long long)call->delivered,
                             (unsigned long long)reader->size);
    outcome.retry = 1;
  }
  if(outcome.status == CL_ERR_CONFLICT && reader->etag[0])
    return cl_fail(err, CL_ERR_CONFLICT, "%s/%s: object replaced while being read (was %s)",
                   s3->base.name, reader->key, reader->etag);
  if(!outcome.retry || reader->attempts >= s3->max_attempts) {
    if(outcome.retry && reader->attempts > 1)
      cl_error_prefix(err, "after %u attempts", reader->attempts);
    return outcome.status;
  }
  s3->base.stats.retries++;
  sleep_ms(retry_backoff_ms(reader->attempts, S3_BACKOFF_BASE_MS, S3_BACKOFF_CAP_MS, &s3->rng));
  reader->attempts++;
  if(reader->etag[0]) {
    call->if_match = reader->etag;
    call->has_range = call->delivered > 0;
    call->range_first = call->delivered;
    call->range_last = UINT64_MAX;
  }
  return reader_start(reader, err);
}

/* Drive the transfer until the caller has bytes to take, or it ends. */
static cl_status reader_fill(s3_reader *reader, cl_error *err)
{
  s3_call *call = &reader->call;
  for(int turn = 0;; turn++) {
    if(reader->pending_pos < reader->pending.len)
      return CL_OK;
    if(call->done) {
      int complete = call->result == CURLE_OK && is_success(call->http_status) &&
                     !call->sink_status &&
                     (!reader->size || call->delivered >= reader->size || !call->has_length);
      if(complete)
        return CL_OK;
      cl_status status = reader_retry_or_fail(reader, err);
      if(status)
        return status;
      continue;
    }
    if(call->paused) {
      call->paused = 0;
      turn = -1; /* unpausing may deliver data at once: look before sleeping */
      curl->easy_pause(reader->easy, CURLPAUSE_CONT);
      continue;
    }
    cl_status status = drive(reader->owner, turn > 0, err);
    if(status)
      return status;
  }
}

static cl_status s3_reader_read(void *ctx, void *dst, size_t cap, size_t *got, cl_error *err)
{
  s3_reader *reader = ctx;
  *got = 0;
  cl_status status = reader_fill(reader, err);
  if(status)
    return status;
  size_t left = reader->pending.len - reader->pending_pos;
  size_t n = left < cap ? left : cap;
  if(n) {
    memcpy(dst, reader->pending.data + reader->pending_pos, n);
    reader->pending_pos += n;
    reader->owner->base.stats.bytes_read += n;
  }
  *got = n;
  return CL_OK;
}

static void s3_reader_free(store_reader *base)
{
  s3_reader *reader = (s3_reader *)base;
  reader_stop(reader);
  curl->easy_cleanup(reader->easy);
  curl->slist_free_all(reader->call.headers);
  buf_free(&reader->call.error_body);
  buf_free(&reader->pending);
  free(reader->key);
  free(reader);
}

static cl_status s3_reader_open(store *s, const char *key, store_reader **out,
                                store_info *info, cl_error *err)
{
  s3_store *s3 = s3_of(s);
  s3_reader *reader = calloc(1, sizeof(*reader));
  if(!reader || !(reader->key = strdup(key)) || !(reader->easy = curl->easy_init())) {
    if(reader)
      free(reader->key);
    free(reader);
    return cl_fail(err, CL_ERR_NOMEM, "%s/%s: out of memory", s->name, key);
  }
  reader->base.source = (stream_source){s3_reader_read, reader};
  reader->base.free = s3_reader_free;
  reader->owner = s3;
  reader->attempts = 1;
  init_call(&reader->call, "GET", reader->key);
  reader->call.sink = SINK_READER;
  reader->call.pending = &reader->pending;
  reader->call.pending_pos = &reader->pending_pos;
  /* The headers (status, ETag, length) have arrived once the first bytes
   * are buffered or the transfer is over. */
  cl_status status = reader_start(reader, err);
  for(int turn = 0; !status; turn++) {
    s3_call *call = &reader->call;
    if(call->done && !(call->result == CURLE_OK && is_success(call->http_status))) {
      status = reader_retry_or_fail(reader, err);
      continue;
    }
    if(call->done || reader->pending.len)
      break;
    status = drive(s3, turn > 0, err);
  }
  if(status) {
    s3_reader_free(&reader->base);
    return status;
  }
  snprintf(reader->etag, sizeof(reader->etag), "%s", reader->call.etag);
  reader->size = reader->call.has_length ? reader->call.content_length : reader->pending.len;
  info->size = reader->size;
  snprintf(info->etag, sizeof(info->etag), "%s", reader->etag);
  *out = &reader->base;
  return CL_OK;
}

/* ---- configuration ----------------------------------------------------- */

static void s3_free(store *s)
{
  s3_store *s3 = s3_of(s);
  if(s3->easy)
    curl->easy_cleanup(s3->easy);
  if(s3->multi)
    curl->multi_cleanup(s3->multi);
  free(s3->bucket);
  free(s3->base_url);
  free(s->name);
  /* explicit_bzero: a plain memset right before free may be optimised away. */
  explicit_bzero(&s3->credentials, sizeof(s3->credentials));
  free(s3);
}

static const store_ops s3_ops = {
  s3_head, s3_get, s3_get_to_fd, NULL, s3_reader_open, s3_read_range,
  s3_put,  s3_put_fd, s3_copy, NULL,      s3_remove, s3_list, s3_free,
};

static const char *env(const char *name)
{
  const char *value = getenv(name);
  return value && *value ? value : NULL;
}

static cl_status load_credentials(s3_store *s3, cl_error *err)
{
  const char *access_key = env("AWS_ACCESS_KEY_ID"), *secret = env("AWS_SECRET_ACCESS_KEY");
  s3_credentials *c = &s3->credentials;
  if(access_key || secret) {
    if(!access_key || !secret)
      return cl_fail(err, CL_ERR_USAGE, "%s: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must "
                     "be set together", s3->base.name);
    const char *token = env("AWS_SESSION_TOKEN");
    if(strlen(access_key) >= sizeof(c->access_key) || strlen(secret) >= sizeof(c->secret_key) ||
       (token && strlen(token) >= sizeof(c->session_token)))
      return cl_fail(err, CL_ERR_USAGE, "%s: AWS credentials in the environment are too long",
                     s3->base.name);
    strcpy(c->access_key, access_key);
    strcpy(c->secret_key, secret);
    if(token)
      strcpy(c->session_token, token);
    return CL_OK;
  }
  char path[4096];
  const char *file = env("AWS_SHARED_CREDENTIALS_FILE");
  if(file)
    snprintf(path, sizeof(path), "%s", file);
  else if(env("HOME"))
    snprintf(path, sizeof(path), "%s/.aws/credentials", env("HOME"));
  else
    return cl_fail(err, CL_ERR_USAGE, "%s: no AWS credentials (set AWS_ACCESS_KEY_ID and "
                   "AWS_SECRET_ACCESS_KEY, or a shared credentials file)", s3->base.name);
  FILE *f = fopen(path, "r");
  if(!f)
    return cl_fail(err, CL_ERR_USAGE, "%s: no AWS credentials in the environment, and the "
                   "shared credentials file %s: %s", s3->base.name, path, strerror(errno));
  /* Unbuffered, into room reserved up front, so that no copy of the secret
   * stays behind in stdio's buffer or in a buffer the text outgrew. */
  buf text = BUF_INIT;
  struct stat st;
  setvbuf(f, NULL, _IONBF, 0);
  if(!fstat(fileno(f), &st) && st.st_size > 0)
    buf_reserve(&text, (size_t)st.st_size + 1);
  char chunk[4096];
  size_t n;
  while((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
    buf_append(&text, chunk, n);
  explicit_bzero(chunk, sizeof(chunk));
  fclose(f);
  const char *profile = env("AWS_PROFILE") ? env("AWS_PROFILE") : "default";
  cl_status status = buf_status(&text)
                       ? cl_fail(err, CL_ERR_NOMEM, "reading %s: out of memory", path)
                       : s3_parse_credentials(text.data, text.len, profile, c, err);
  if(text.data)
    explicit_bzero(text.data, text.len);
  buf_free(&text);
  if(status) {
    cl_error_prefix(err, "%s: %s", s3->base.name, path);
    return CL_ERR_USAGE;
  }
  return CL_OK;
}

void store_s3_preload(void)
{
  s3_curl_preload();
}

cl_status store_s3_open(const char *bucket, store **out, cl_error *err)
{
  *out = NULL;
  uint64_t max_attempts;
  cl_status status = env_u64("COLLATOR_S3_MAX_ATTEMPTS", S3_DEFAULT_ATTEMPTS, &max_attempts, err);
  if(status)
    return status;
  status = s3_curl_load(&curl, err);
  if(status) {
    cl_error_prefix(err, "s3://%s", bucket);
    return status;
  }
  s3_store *s3 = calloc(1, sizeof(*s3));
  buf name = BUF_INIT, base_url = BUF_INIT;
  if(!s3)
    return cl_fail(err, CL_ERR_NOMEM, "s3://%s: out of memory", bucket);
  s3->base.ops = &s3_ops;
  cl_status named = buf_printf(&name, "s3://%s", bucket);
  s3->base.name = buf_take(&name, NULL);
  s3->bucket = strdup(bucket);
  status = named || !s3->base.name || !s3->bucket
             ? cl_fail(err, CL_ERR_NOMEM, "s3://%s: out of memory", bucket)
             : load_credentials(s3, err);
  if(status) {
    s3_free(&s3->base);
    return status;
  }
  const char *region = env("AWS_REGION") ? env("AWS_REGION") : env("AWS_DEFAULT_REGION");
  if(!region)
    region = "us-east-1";
  snprintf(s3->region, sizeof(s3->region), "%s", region);
  snprintf(s3->sigv4, sizeof(s3->sigv4), "aws:amz:%s:s3", region);
  const char *endpoint = env("S3_ENDPOINT") ? env("S3_ENDPOINT") : env("AWS_ENDPOINT_URL_S3");
  if(endpoint) {
    if(strncmp(endpoint, "http://", 7) && strncmp(endpoint, "https://", 8)) {
      status = cl_fail(err, CL_ERR_USAGE, "%s: S3 endpoint '%s' is not an http(s) URL",
                       s3->base.name, endpoint);
      s3_free(&s3->base);
      return status;
    }
    size_t len = strlen(endpoint);
    while(len && endpoint[len - 1] == '/')
      len--;
    buf_append(&base_url, endpoint, len);
    buf_putc(&base_url, '/');
    url_encode(bucket, strlen(bucket), 0, &base_url);
  } else {
    buf_printf(&base_url, "https://%s.s3.%s.amazonaws.com", bucket, region);
  }
  s3->max_attempts = max_attempts < 1                     ? 1
                     : max_attempts > S3_MAX_ATTEMPTS_CAP ? S3_MAX_ATTEMPTS_CAP
                                                          : (unsigned)max_attempts;
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  s3->rng = ((uint64_t)now.tv_nsec << 20) ^ (uint64_t)now.tv_sec ^ ((uint64_t)getpid() << 40);
  /* xorshift64 sticks at zero; any odd constant will do instead. */
  if(!s3->rng)
    s3->rng = 0x9E3779B97F4A7C15ull;
  s3->multi = curl->multi_init();
  s3->easy = curl->easy_init();
  if(buf_status(&base_url) || !s3->multi || !s3->easy) {
    buf_free(&base_url);
    s3_free(&s3->base);
    return cl_fail(err, CL_ERR_NOMEM, "s3://%s: out of memory", bucket);
  }
  s3->base_url = buf_take(&base_url, NULL);
  *out = &s3->base;
  return CL_OK;
}

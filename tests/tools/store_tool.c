/*
 * store_tool: a small command-line face of the store API for the node tests
 * (tests/node/store_s3.test.mjs), which drive the C S3 backend against a
 * local S3 server through it. Every command prints one JSON object on
 * stdout: {"ok":true,...} with the result, or {"ok":false,"status":...,
 * "message":...}, and always the handle's "stats". Exit status 0 on
 * success, 1 on a store failure, 2 on bad usage.
 *
 *   store_tool [--store URL] COMMAND ARGS... [--if-match ETAG | --if-absent]
 *     get KEY [--out FILE]     whole object (body inline, or into FILE)
 *     stream KEY               through store_reader; reports size, md5, MB/s
 *     put KEY TEXT             put from memory
 *     put-file KEY FILE        put_fd (multipart above 64 MiB); reports MB/s
 *     copy FROM FROM_ETAG KEY  store_copy (server-side on S3)
 *     head KEY | delete KEY
 *     list [PREFIX] [--quiet]  keys in order (--quiet: count and first/last only)
 *     range KEY OFFSET LEN [--etag ETAG]
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/digest.h"
#include "store/store.h"

static void json_string(buf *out, const char *s, size_t len)
{
  buf_putc(out, '"');
  for(size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if(c == '"' || c == '\\') {
      buf_putc(out, '\\');
      buf_putc(out, (char)c);
    } else if(c < 0x20 || c == 0x7f) {
      buf_printf(out, "\\u%04x", c);
    } else {
      buf_putc(out, (char)c);
    }
  }
  buf_putc(out, '"');
}

static void json_field(buf *out, const char *name, const char *value)
{
  buf_printf(out, ",\"%s\":", name);
  json_string(out, value, strlen(value));
}

static void json_info(buf *out, const store_info *info)
{
  buf_printf(out, ",\"size\":%llu", (unsigned long long)info->size);
  json_field(out, "etag", info->etag);
}

static double now_seconds(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void json_speed(buf *out, uint64_t bytes, double seconds)
{
  buf_printf(out, ",\"seconds\":%.3f,\"mb_per_s\":%.1f", seconds,
             seconds > 0 ? (double)bytes / 1e6 / seconds : 0.0);
}

typedef struct listing {
  buf *out;
  int quiet;
  uint64_t count;
  char first[1024], last[1024];
} listing;

static cl_status list_entry(void *ctx, const char *key, const store_info *info, cl_error *err)
{
  listing *l = ctx;
  (void)err;
  if(!l->count)
    snprintf(l->first, sizeof(l->first), "%s", key);
  snprintf(l->last, sizeof(l->last), "%s", key);
  if(!l->quiet) {
    buf_append_str(l->out, l->count ? ",{" : "{");
    buf_append_str(l->out, "\"key\":");
    json_string(l->out, key, strlen(key));
    buf_printf(l->out, ",\"size\":%llu", (unsigned long long)info->size);
    json_field(l->out, "etag", info->etag);
    buf_putc(l->out, '}');
  }
  l->count++;
  return CL_OK;
}

static int usage(void)
{
  fprintf(stderr, "usage: store_tool [--store URL] get|stream|put|put-file|head|delete|list|"
                  "range ARGS... [--if-match ETAG|--if-absent] [--etag ETAG] [--out FILE] "
                  "[--quiet]\n");
  return 2;
}

int main(int argc, char **argv)
{
  const char *url = NULL, *if_match = NULL, *etag = NULL, *out_path = NULL;
  int if_absent = 0, quiet = 0;
  const char *args[8];
  int nargs = 0;
  for(int i = 1; i < argc; i++) {
    if(!strcmp(argv[i], "--store") && i + 1 < argc)
      url = argv[++i];
    else if(!strcmp(argv[i], "--if-match") && i + 1 < argc)
      if_match = argv[++i];
    else if(!strcmp(argv[i], "--etag") && i + 1 < argc)
      etag = argv[++i];
    else if(!strcmp(argv[i], "--out") && i + 1 < argc)
      out_path = argv[++i];
    else if(!strcmp(argv[i], "--if-absent"))
      if_absent = 1;
    else if(!strcmp(argv[i], "--quiet"))
      quiet = 1;
    else if(nargs < 8)
      args[nargs++] = argv[i];
    else
      return usage();
  }
  if(nargs < 1)
    return usage();
  const char *command = args[0];
  store_precondition precondition = {STORE_ALWAYS, NULL};
  if(if_absent)
    precondition.condition = STORE_IF_ABSENT;
  else if(if_match)
    precondition = (store_precondition){STORE_IF_MATCH, if_match};

  cl_error err = {CL_OK, ""};
  store *s = NULL;
  cl_status status = store_open(url, &s, &err);
  buf out = BUF_INIT;
  buf_append_str(&out, "{\"ok\":");
  buf result = BUF_INIT;
  buf_append_str(&result, "");
  store_info info = {0, ""};
  int bad_usage = 0;

  if(!status) {
    const char *key = nargs > 1 ? args[1] : NULL;
    if(!strcmp(command, "get") && key) {
      if(out_path) {
        int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if(fd < 0) {
          status = cl_fail(&err, CL_ERR_IO, "%s: cannot create", out_path);
        } else {
          double start = now_seconds();
          status = store_get_to_fd(s, key, fd, &info, &err);
          double seconds = now_seconds() - start;
          close(fd);
          if(!status) {
            json_info(&result, &info);
            json_speed(&result, info.size, seconds);
          }
        }
      } else {
        buf body = BUF_INIT;
        status = store_get(s, key, &body, &info, &err);
        if(!status) {
          json_info(&result, &info);
          buf_append_str(&result, ",\"body\":");
          json_string(&result, body.data ? body.data : "", body.len);
        }
        buf_free(&body);
      }
    } else if(!strcmp(command, "stream") && key) {
      store_reader *reader = NULL;
      double start = now_seconds();
      status = store_reader_open(s, key, &reader, &info, &err);
      if(!status) {
        stream_source source = store_reader_source(reader);
        digest_md5 *md5 = digest_md5_create();
        char *chunk = malloc(1 << 16);
        uint64_t total = 0;
        size_t got;
        while(!(status = source.read(source.ctx, chunk, 1 << 16, &got, &err)) && got) {
          digest_md5_update(md5, chunk, got);
          total += got;
        }
        char hex[DIGEST_MD5_HEX_LEN + 1];
        digest_md5_final_hex(md5, hex);
        digest_md5_free(md5);
        free(chunk);
        store_reader_free(reader);
        if(!status) {
          json_info(&result, &info);
          buf_printf(&result, ",\"read\":%llu", (unsigned long long)total);
          json_field(&result, "md5", hex);
          json_speed(&result, total, now_seconds() - start);
        }
      }
    } else if(!strcmp(command, "put") && key && nargs > 2) {
      status = store_put(s, key, args[2], strlen(args[2]), &precondition, &info, &err);
      if(!status)
        json_info(&result, &info);
    } else if(!strcmp(command, "put-file") && key && nargs > 2) {
      int fd = open(args[2], O_RDONLY | O_CLOEXEC);
      struct stat st;
      if(fd < 0 || fstat(fd, &st)) {
        status = cl_fail(&err, CL_ERR_IO, "%s: cannot open", args[2]);
      } else {
        double start = now_seconds();
        status = store_put_fd(s, key, fd, (uint64_t)st.st_size, &precondition, &info, &err);
        if(!status) {
          json_info(&result, &info);
          json_speed(&result, (uint64_t)st.st_size, now_seconds() - start);
        }
      }
      if(fd >= 0)
        close(fd);
    } else if(!strcmp(command, "copy") && key && nargs > 3) {
      status = store_copy(s, key, args[2], args[3], &precondition, &err);
    } else if(!strcmp(command, "head") && key) {
      status = store_head(s, key, &info, &err);
      if(!status)
        json_info(&result, &info);
    } else if(!strcmp(command, "delete") && key) {
      status = store_delete(s, key, &err);
    } else if(!strcmp(command, "list")) {
      listing l = {&result, quiet, 0, "", ""};
      if(!quiet)
        buf_append_str(&result, ",\"keys\":[");
      status = store_list(s, key ? key : "", list_entry, &l, &err);
      if(!quiet)
        buf_putc(&result, ']');
      buf_printf(&result, ",\"count\":%llu", (unsigned long long)l.count);
      json_field(&result, "first", l.first);
      json_field(&result, "last", l.last);
    } else if(!strcmp(command, "range") && key && nargs > 3) {
      uint64_t offset = strtoull(args[2], NULL, 10);
      size_t len = (size_t)strtoull(args[3], NULL, 10);
      char *dst = malloc(len + 1);
      status = dst ? store_read_range(s, key, etag, offset, dst, len, &err)
                   : cl_fail(&err, CL_ERR_NOMEM, "out of memory");
      if(!status) {
        buf_append_str(&result, ",\"body\":");
        json_string(&result, dst, len);
      }
      free(dst);
    } else {
      bad_usage = 1;
    }
  }
  if(bad_usage) {
    store_free(s);
    buf_free(&out);
    buf_free(&result);
    return usage();
  }
  if(status) {
    buf_append_str(&out, "false");
    json_field(&out, "status", cl_status_name(status));
    json_field(&out, "message", err.message);
  } else {
    buf_append_str(&out, "true");
    buf_append(&out, result.data, result.len);
  }
  if(s) {
    store_stats stats;
    store_get_stats(s, &stats);
    buf_printf(&out,
               ",\"stats\":{\"requests\":%llu,\"retries\":%llu,\"bytes_read\":%llu,"
               "\"bytes_written\":%llu,\"conflicts\":%llu}",
               (unsigned long long)stats.requests, (unsigned long long)stats.retries,
               (unsigned long long)stats.bytes_read, (unsigned long long)stats.bytes_written,
               (unsigned long long)stats.conflicts);
  }
  buf_append_str(&out, "}\n");
  fwrite(out.data, 1, out.len, stdout);
  store_free(s);
  buf_free(&out);
  buf_free(&result);
  return status ? 1 : 0;
}

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "collate/upload.h"
#include "core/buf.h"
#include "unit.h"

static void gzip_append(buf *out, const void *data, size_t len)
{
  z_stream z;
  memset(&z, 0, sizeof(z));
  deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  size_t bound = deflateBound(&z, (uLong)len) + 32;
  buf_reserve(out, bound);
  z.next_in = (Bytef *)(uintptr_t)data;
  z.avail_in = (uInt)len;
  z.next_out = (Bytef *)out->data + out->len;
  z.avail_out = (uInt)bound;
  deflate(&z, Z_FINISH);
  out->len += bound - z.avail_out;
  out->data[out->len] = '\0';
  deflateEnd(&z);
}

/* Read everything through an upload_source with a small read size. */
static cl_status drain(const buf *input, uint64_t limit, buf *out, int *is_gzip, cl_error *err)
{
  stream_memory memory = {(const uint8_t *)input->data, input->len, 0};
  upload_source *u = NULL;
  cl_status status = upload_source_create(stream_source_from_memory(&memory), limit, &u, err);
  if(status)
    return status;
  stream_source s = upload_source_stream(u);
  char chunk[777];
  for(;;) {
    size_t got = 0;
    status = s.read(s.ctx, chunk, sizeof(chunk), &got, err);
    if(status || !got)
      break;
    buf_append(out, chunk, got);
  }
  if(is_gzip)
    *is_gzip = upload_source_is_gzip(u);
  upload_source_free(u);
  return status;
}

static const char json_text[] = "[{\"package_name\": \"com.example\"}, {\"package_name\": \"x\"}]";

TEST(collate_upload_plain_passes_through)
{
  buf in = BUF_INIT, out = BUF_INIT;
  cl_error err = {0};
  int gz = -1;
  buf_append_str(&in, json_text);
  CHECK_OK(drain(&in, 0, &out, &gz, &err), &err);
  CHECK_INT(gz, 0);
  CHECK_MEM(out.data, out.len, json_text, strlen(json_text));
  buf_clear(&in);
  buf_clear(&out);
  CHECK_OK(drain(&in, 0, &out, &gz, &err), &err); /* empty body: the JSON reader decides */
  CHECK_INT(out.len, 0);
  buf_append_str(&in, "\x1f");
  CHECK_OK(drain(&in, 0, &out, &gz, &err), &err);
  CHECK_INT(out.len, 1);
  buf_free(&in);
  buf_free(&out);
}

TEST(collate_upload_gzip_single_and_multi_member)
{
  buf in = BUF_INIT, out = BUF_INIT;
  cl_error err = {0};
  int gz = 0;
  gzip_append(&in, json_text, strlen(json_text));
  CHECK_OK(drain(&in, 0, &out, &gz, &err), &err);
  CHECK_INT(gz, 1);
  CHECK_MEM(out.data, out.len, json_text, strlen(json_text));

  buf_clear(&in);
  buf_clear(&out);
  gzip_append(&in, json_text, 10);
  gzip_append(&in, json_text + 10, strlen(json_text) - 10);
  buf_fill(&in, '\0', 5); /* zero padding after the last member is allowed */
  CHECK_OK(drain(&in, 0, &out, &gz, &err), &err);
  CHECK_MEM(out.data, out.len, json_text, strlen(json_text));
  buf_free(&in);
  buf_free(&out);
}

TEST(collate_upload_gzip_damage_is_permanent)
{
  static const struct {
    const char *what;
    int damage; /* 0 truncate, 1 trailing junk, 2 bad crc, 3 truncated second member */
    const char *message;
  } cases[] = {
    {"truncated", 0, "truncated gzip"},
    {"junk", 1, "trailing data"},
    {"bad crc", 2, "gzip"},
    {"second member cut", 3, "truncated gzip"},
  };
  for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    buf in = BUF_INIT, out = BUF_INIT;
    cl_error err = {0};
    gzip_append(&in, json_text, strlen(json_text));
    if(cases[i].damage == 0)
      buf_truncate(&in, in.len - 6);
    else if(cases[i].damage == 1)
      buf_append_str(&in, "junk");
    else if(cases[i].damage == 2)
      in.data[in.len - 8] ^= 0x55;
    else {
      size_t first = in.len;
      gzip_append(&in, json_text, strlen(json_text));
      buf_truncate(&in, first + 12);
    }
    cl_status status = drain(&in, 0, &out, NULL, &err);
    CHECK(cl_status_is_permanent(status));
    CHECK_INT(status, CL_ERR_FORMAT);
    if(!strstr(err.message, cases[i].message))
      unit_fail(__FILE__, __LINE__, "%s: '%s' lacks '%s'", cases[i].what, err.message,
                cases[i].message);
    buf_free(&in);
    buf_free(&out);
  }
}

TEST(collate_upload_bomb_stops_at_limit)
{
  size_t big = 64u << 20; /* 64 MiB of zeros compresses to about 64 KiB */
  char *zeros = calloc(1, big);
  buf in = BUF_INIT, out = BUF_INIT;
  cl_error err = {0};
  gzip_append(&in, zeros, big);
  free(zeros);
  CHECK(in.len < (1u << 20));
  CHECK_STATUS(drain(&in, 1u << 20, &out, NULL, &err), CL_ERR_LIMIT);
  CHECK(out.len <= (1u << 20));
  CHECK(strstr(err.message, "after gunzip") != NULL);
  buf_clear(&out);
  /* Exactly at the limit is fine. */
  buf_clear(&in);
  buf_append_str(&in, json_text);
  CHECK_OK(drain(&in, strlen(json_text), &out, NULL, &err), &err);
  buf_clear(&out);
  CHECK_STATUS(drain(&in, strlen(json_text) - 1, &out, NULL, &err), CL_ERR_LIMIT);
  buf_free(&in);
  buf_free(&out);
}

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "collate/upload.h"
#include "core/buf.h"
#include "unit.h"

/* zlib's deflate of data appended to out: windowBits 16 + 15 makes a gzip
 * member, -15 raw deflate. */
static void deflate_append(buf *out, const void *data, size_t len, int level, int window_bits,
                           int strategy)
{
  z_stream z;
  memset(&z, 0, sizeof(z));
  deflateInit2(&z, level, Z_DEFLATED, window_bits, 8, strategy);
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

static void gzip_append(buf *out, const void *data, size_t len)
{
  deflate_append(out, data, len, 6, 16 + MAX_WBITS, Z_DEFAULT_STRATEGY);
}

/* Read everything through an upload_source, raw_step bytes of input at a
 * time (0: as much as asked for) and 777 bytes of output at a time. */
static cl_status drain_split(const buf *input, size_t raw_step, uint64_t limit, buf *out,
                             int *is_gzip, cl_error *err)
{
  stream_trickle raw = {{(const uint8_t *)input->data, input->len, 0}, raw_step};
  upload_source *u = NULL;
  cl_status status = upload_source_create(stream_source_from_trickle(&raw), limit, &u, err);
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

static cl_status drain(const buf *input, uint64_t limit, buf *out, int *is_gzip, cl_error *err)
{
  return drain_split(input, 0, limit, out, is_gzip, err);
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

/* Deterministic text and noise for payloads (xorshift64). */
static void payload_fill(buf *out, size_t len, int noise)
{
  static const char *const words[] = {"M-PESA", "confirmed", "Ksh", "habari", "yako", "café",
                                      "\xf0\x9f\x98\x80", "balance", "0712345678", "{\"a\":1}"};
  uint64_t x = 0x9e3779b97f4a7c15u ^ len;
  while(out->len < len) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    if(noise) {
      char c = (char)(x >> 24);
      buf_append(out, &c, 1);
    } else {
      buf_append_str(out, words[x % (sizeof(words) / sizeof(words[0]))]);
      buf_append(out, " ", 1);
    }
  }
  buf_truncate(out, len);
}

TEST(collate_upload_gzip_decodes_what_zlib_encodes)
{
  static const size_t sizes[] = {0, 1, 57, 40000, 300000};
  static const struct {
    int level, strategy;
  } encoders[] = {
    {0, Z_DEFAULT_STRATEGY}, {1, Z_DEFAULT_STRATEGY}, {6, Z_FILTERED},
    {9, Z_DEFAULT_STRATEGY}, {6, Z_HUFFMAN_ONLY},     {6, Z_RLE},
    {6, Z_FIXED},
  };
  for(size_t n = 0; n < sizeof(sizes) / sizeof(sizes[0]); n++)
    for(int noise = 0; noise < 2; noise++) {
      buf payload = BUF_INIT;
      payload_fill(&payload, sizes[n], noise);
      for(size_t e = 0; e < sizeof(encoders) / sizeof(encoders[0]); e++) {
        buf in = BUF_INIT;
        deflate_append(&in, payload.data, payload.len, encoders[e].level, 16 + MAX_WBITS,
                       encoders[e].strategy);
        static const size_t steps[] = {0, 1, 7, 4093};
        for(size_t st = 0; st < sizeof(steps) / sizeof(steps[0]); st++) {
          if(steps[st] == 1 && in.len > 50000)
            continue; /* one byte at a time is for the small ones */
          buf out = BUF_INIT;
          cl_error err = {0};
          CHECK_OK(drain_split(&in, steps[st], 0, &out, NULL, &err), &err);
          if(out.len != payload.len || (out.len && memcmp(out.data, payload.data, out.len)))
            unit_fail(__FILE__, __LINE__, "size %zu noise %d level %d strategy %d step %zu: "
                      "%zu bytes out, differs", sizes[n], noise, encoders[e].level,
                      encoders[e].strategy, steps[st], out.len);
          buf_free(&out);
        }
        buf_free(&in);
      }
      buf_free(&payload);
    }
}

static void put_le32(buf *out, uint32_t v)
{
  unsigned char b[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                        (unsigned char)(v >> 24)};
  buf_append(out, b, 4);
}

/* A member with the header given (flags and the optional fields they call
 * for are appended by the caller through extra_header) around raw deflate. */
static void member_append(buf *out, unsigned char method, unsigned char flags,
                          const char *fields, size_t fields_len, int hcrc_delta,
                          const char *data, uint32_t isize_delta)
{
  size_t start = out->len;
  unsigned char base[10] = {0x1f, 0x8b, method, flags, 1, 2, 3, 4, 0, 3};
  buf_append(out, base, sizeof(base));
  buf_append(out, fields, fields_len);
  if(flags & 2) {
    uint32_t crc = (uint32_t)crc32(0, (const Bytef *)out->data + start, (uInt)(out->len - start));
    unsigned char h[2] = {(unsigned char)(crc + hcrc_delta), (unsigned char)(crc >> 8)};
    buf_append(out, h, 2);
  }
  size_t len = strlen(data);
  deflate_append(out, data, len, 6, -MAX_WBITS, Z_DEFAULT_STRATEGY);
  put_le32(out, (uint32_t)crc32(0, (const Bytef *)data, (uInt)len));
  put_le32(out, (uint32_t)len + isize_delta);
}

TEST(collate_upload_gzip_headers_and_trailers)
{
  /* FEXTRA (4) + FNAME (8) + FCOMMENT (16), in that order, as RFC 1952 has them. */
  static const char all_fields[] = "\x05\x00" "abcde" "name.json\0" "a comment\0";
  static const size_t all_len = sizeof(all_fields) - 1;
  static const struct {
    const char *what;
    unsigned char method, flags;
    int hcrc_delta;
    uint32_t isize_delta;
    const char *message; /* NULL: decodes to json_text */
  } cases[] = {
    {"plain header", 8, 0, 0, 0, NULL},
    {"extra, name, comment", 8, 4 | 8 | 16, 0, 0, NULL},
    {"every field and a header crc", 8, 2 | 4 | 8 | 16, 0, 0, NULL},
    /* Python's gzip module ignores the reserved flags, and so does ISA-L. */
    {"reserved flag bits", 8, 0xe0, 0, 0, NULL},
    {"bad header crc", 8, 2 | 4 | 8 | 16, 1, 0, "gzip: header crc mismatch at input byte"},
    {"method 7", 7, 0, 0, 0, "gzip: unknown compression method at input byte"},
    {"length off by one", 8, 0, 0, 1, "gzip: incorrect data check (CRC-32 or length) of the "
                                      "member ending at input byte"},
  };
  for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    buf in = BUF_INIT;
    unsigned char f = cases[i].flags;
    size_t fields_len = ((f & 4) ? 7 : 0) + ((f & 8) ? 10 : 0) + ((f & 16) ? 10 : 0);
    const char *fields = (f & 4) ? all_fields : all_fields + 7;
    member_append(&in, cases[i].method, f, fields, fields_len, cases[i].hcrc_delta, json_text,
                  cases[i].isize_delta);
    CHECK(fields_len <= all_len);
    for(size_t step = 0; step <= 13; step++) {
      buf out = BUF_INIT;
      cl_error err = {0};
      cl_status status = drain_split(&in, step, 0, &out, NULL, &err);
      if(!cases[i].message) {
        CHECK_OK(status, &err);
        CHECK_MEM(out.data, out.len, json_text, strlen(json_text));
      } else if(status != CL_ERR_FORMAT || !strstr(err.message, cases[i].message))
        unit_fail(__FILE__, __LINE__, "%s, step %zu: status %d '%s', want '%s'", cases[i].what,
                  step, (int)status, err.message, cases[i].message);
      buf_free(&out);
    }
    buf_free(&in);
  }
}

TEST(collate_upload_gzip_every_cut_is_truncated)
{
  static const char fields[] = "\x05\x00" "abcde" "name.json\0" "a comment\0";
  buf whole = BUF_INIT;
  member_append(&whole, 8, 2 | 4 | 8 | 16, fields, sizeof(fields) - 1, 0, json_text, 0);
  /* From two bytes on the magic says gzip, so every shorter member is cut. */
  for(size_t len = 2; len < whole.len; len++)
    for(size_t step = 0; step <= 1; step++) {
      buf in = BUF_INIT, out = BUF_INIT;
      cl_error err = {0};
      buf_append(&in, whole.data, len);
      cl_status status = drain_split(&in, step, 0, &out, NULL, &err);
      if(status != CL_ERR_FORMAT || strcmp(err.message, "truncated gzip: end of input inside "
                                                        "a member"))
        unit_fail(__FILE__, __LINE__, "cut at %zu of %zu, step %zu: status %d '%s'", len,
                  whole.len, step, (int)status, err.message);
      CHECK(out.len <= strlen(json_text));
      CHECK(memcmp(out.data ? out.data : "", json_text, out.len) == 0);
      buf_free(&in);
      buf_free(&out);
    }
  buf_free(&whole);
}

TEST(collate_upload_gzip_errors_name_the_place)
{
  buf in = BUF_INIT, out = BUF_INIT;
  cl_error err = {0};
  gzip_append(&in, json_text, strlen(json_text));
  in.data[in.len - 8] ^= 0x55; /* the CRC */
  char want[128];
  snprintf(want, sizeof(want), "gzip: incorrect data check (CRC-32 or length) of the member "
           "ending at input byte %zu", in.len);
  CHECK_STATUS(drain(&in, 0, &out, NULL, &err), CL_ERR_FORMAT);
  CHECK_STR(err.message, want);
  /* A second member whose magic is half right. */
  buf_clear(&in);
  buf_clear(&out);
  gzip_append(&in, json_text, strlen(json_text));
  size_t first = in.len;
  gzip_append(&in, json_text, strlen(json_text));
  in.data[first + 1] = 0;
  CHECK_STATUS(drain(&in, 0, &out, NULL, &err), CL_ERR_FORMAT);
  CHECK(strncmp(err.message, "gzip: incorrect header check at input byte", 42) == 0);
  CHECK_MEM(out.data, out.len, json_text, strlen(json_text));
  /* A block type of 3 does not exist. */
  buf_clear(&in);
  buf_clear(&out);
  static const unsigned char bad_block[] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0x07, 0, 0};
  buf_append(&in, bad_block, sizeof(bad_block));
  CHECK_STATUS(drain(&in, 0, &out, NULL, &err), CL_ERR_FORMAT);
  CHECK(strncmp(err.message, "gzip: invalid block at input byte", 33) == 0);
  buf_free(&in);
  buf_free(&out);
}

#include <stdio.h>
#include <stdlib.h>

#include "core/buf.h"
#include "core/digest.h"
#include "core/stream.h"
#include "core/url.h"
#include "core/utctime.h"
#include "unit.h"

TEST(buf_appends_grow_and_stay_terminated)
{
  buf b = BUF_INIT;
  for(int i = 0; i < 1000; i++)
    buf_printf(&b, "%d,", i);
  CHECK_INT(buf_status(&b), CL_OK);
  CHECK(b.len == strlen(b.data));
  CHECK(!strncmp(b.data, "0,1,2,", 6));
  buf_free(&b);
}

TEST(buf_limit_is_sticky)
{
  buf b;
  buf_init(&b, 8);
  CHECK_INT(buf_append_str(&b, "12345678"), CL_OK);
  CHECK_INT(buf_putc(&b, 'x'), CL_ERR_LIMIT);
  CHECK_INT(buf_append_str(&b, ""), CL_ERR_LIMIT);
  CHECK_INT(buf_status(&b), CL_ERR_LIMIT);
  CHECK_INT(buf_printf(&b, "%d", 1), CL_ERR_LIMIT);
  CHECK_INT(buf_printf(&b, "%ls", L"\x20ac"), CL_ERR_LIMIT); /* an encoding error later */
  CHECK_INT(buf_status(&b), CL_ERR_LIMIT);
  CHECK_STR(b.data, "12345678");
  buf_clear(&b);
  CHECK_INT(buf_status(&b), CL_OK);
  buf_free(&b);
}

TEST(buf_take_hands_over_ownership)
{
  buf b = BUF_INIT;
  size_t len;
  char *empty = buf_take(&b, &len);
  CHECK_STR(empty, "");
  CHECK_INT(len, 0);
  free(empty);
  buf_append_str(&b, "abc");
  char *s = buf_take(&b, &len);
  CHECK_STR(s, "abc");
  CHECK(b.data == NULL);
  free(s);
}

static const struct {
  int64_t micros;
  const char *python;
} python_datetimes[] = {
  {0, "1970-01-01 00:00:00"},
  {INT64_C(1487722326477000), "2017-02-22 00:12:06.477000"},
  {INT64_C(1466176793178000), "2016-06-17 15:19:53.178000"},
  {INT64_C(1528237005000000), "2018-06-05 22:16:45"},
  {INT64_C(-1), "1969-12-31 23:59:59.999999"},
  {INT64_C(-62135596800000000), "0001-01-01 00:00:00"},
  {INT64_C(253402300799999999), "9999-12-31 23:59:59.999999"},
  {INT64_C(951782400000000), "2000-02-29 00:00:00"},
};

TEST(utc_formats_like_python_str)
{
  for(size_t i = 0; i < sizeof(python_datetimes) / sizeof(python_datetimes[0]); i++) {
    char text[40];
    utc_format_python(python_datetimes[i].micros, text, sizeof(text));
    CHECK_STR(text, python_datetimes[i].python);
  }
}

/* The ends of int64: years of six digits and a sign, and no overflow on
 * the way (UBSan checks). A short dst truncates, and the length says so. */
TEST(utc_formats_the_whole_int64_range)
{
  static const struct {
    int64_t micros;
    const char *python, *date, *iso;
  } vectors[] = {
    {INT64_MIN, "-290308-12-21 19:59:05.224192", "-290308-12-21",
     "-290308-12-21T19:59:05.224192Z"},
    {INT64_MAX, "294247-01-10 04:00:54.775807", "294247-01-10", "294247-01-10T04:00:54.775807Z"},
  };
  for(size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
    char text[31];
    CHECK_INT(utc_format_python(vectors[i].micros, text, 30), strlen(vectors[i].python));
    CHECK_STR(text, vectors[i].python);
    CHECK_INT(utc_format_date(vectors[i].micros, text, 14), strlen(vectors[i].date));
    CHECK_STR(text, vectors[i].date);
    CHECK_INT(utc_format_iso8601(vectors[i].micros, text, 31), strlen(vectors[i].iso));
    CHECK_STR(text, vectors[i].iso);
    CHECK_INT(utc_format_python(vectors[i].micros, text, 27), 26);
    CHECK_INT(strlen(text), 26);
    CHECK_INT(utc_format_python(vectors[i].micros, text, 0), 0);
  }
}

TEST(utc_formats_iso8601_with_fixed_fraction)
{
  static const struct {
    int64_t micros;
    const char *iso;
  } vectors[] = {
    {0, "1970-01-01T00:00:00.000000Z"},
    {INT64_C(1763710000000123), "2025-11-21T07:26:40.000123Z"},
    {INT64_C(-1), "1969-12-31T23:59:59.999999Z"},
    {INT64_C(253402300799999999), "9999-12-31T23:59:59.999999Z"},
  };
  for(size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
    char text[28];
    CHECK_INT(utc_format_iso8601(vectors[i].micros, text, sizeof(text)), strlen(vectors[i].iso));
    CHECK_STR(text, vectors[i].iso);
  }
}

TEST(utc_round_trips_days)
{
  for(int64_t days = -800000; days < 800000; days += 997) {
    int64_t y;
    int m, d;
    utc_civil_from_days(days, &y, &m, &d);
    CHECK_INT(utc_days_from_civil(y, m, d), days);
  }
}

TEST(utc_floor_div_rounds_down)
{
  static const struct {
    int64_t a, b, q;
  } cases[] = {
    {7, 2, 3},   {-7, 2, -4}, {7, -2, -4}, {-7, -2, 3}, {-6, 2, -3},
    {0, 5, 0},   {-1, 1000, -1}, {-1000, 1000, -1}, {-1001, 1000, -2},
    {INT64_MIN, 86400, INT64_MIN / 86400 - 1},
  };
  for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
    CHECK_INT(utc_floor_div(cases[i].a, cases[i].b), cases[i].q);
}

TEST(utc_parses_iso8601)
{
  static const struct {
    const char *text;
    int64_t micros;
    int ok;
  } cases[] = {
    {"2026-11-24T10:00:00Z", INT64_C(1795514400000000), 1},
    {"2026-11-24 10:00:00", INT64_C(1795514400000000), 1},
    {"2026-11-24T12:00:00+02:00", INT64_C(1795514400000000), 1},
    {"2026-11-24T10:00:00.5Z", INT64_C(1795514400500000), 1},
    {"2026-11-24", INT64_C(1795478400000000), 1},
    {"2026-02-30T00:00:00Z", 0, 0},
    {"2026-11-24T25:00:00Z", 0, 0},
    {"yesterday", 0, 0},
    {"2026-11-24T10:00:00Zjunk", 0, 0},
  };
  for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    int64_t micros = 0;
    cl_error err;
    cl_status status = utc_parse_iso8601(cases[i].text, &micros, &err);
    CHECK_INT(status == CL_OK, cases[i].ok);
    if(cases[i].ok)
      CHECK_INT(micros, cases[i].micros);
    else
      CHECK(strstr(err.message, cases[i].text) != NULL);
  }
}

TEST(url_decodes_event_keys)
{
  static const struct {
    const char *in, *out;
  } cases[] = {
    {"a+b%2Bc.json", "a b+c.json"},
    {"uploads/users/1/x/y/sms_log/f%20g", "uploads/users/1/x/y/sms_log/f g"},
    {"%e2%82%AC", "\xe2\x82\xac"},
    {"plain", "plain"},
  };
  for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    buf out = BUF_INIT;
    cl_error err;
    CHECK_OK(url_decode_form(cases[i].in, strlen(cases[i].in), &out, &err), &err);
    CHECK_STR(out.data, cases[i].out);
    buf_free(&out);
  }
  static const char *const bad[] = {"%", "%4", "%zz", "a%g0"};
  for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    buf out = BUF_INIT;
    cl_error err;
    CHECK_STATUS(url_decode_form(bad[i], strlen(bad[i]), &out, &err), CL_ERR_FORMAT);
    buf_free(&out);
  }
  buf small;
  buf_init(&small, 3);
  cl_error err;
  CHECK_STATUS(url_decode_form("abcdef", 6, &small, &err), CL_ERR_LIMIT);
  CHECK_STR(err.message, "decoding a key: longer than the limit");
  buf_free(&small);
}

TEST(url_hex_digit_values)
{
  static const struct {
    int c, value;
  } cases[] = {
    {'0', 0}, {'9', 9}, {'a', 10}, {'f', 15}, {'A', 10}, {'F', 15},
    {'g', -1}, {'G', -1}, {'/', -1}, {':', -1}, {'@', -1}, {'`', -1}, {0, -1}, {0xe9, -1},
  };
  for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
    CHECK_INT(url_hex_digit(cases[i].c), cases[i].value);
}

TEST(url_encodes_rfc3986)
{
  buf out = BUF_INIT;
  url_encode("a/b c+~", 7, 0, &out);
  CHECK_STR(out.data, "a%2Fb%20c%2B~");
  buf_clear(&out);
  url_encode("a/b c", 5, 1, &out);
  CHECK_STR(out.data, "a/b%20c");
  buf_free(&out);
}

TEST(digest_md5_and_sha256_vectors)
{
  char md5[33], sha[65];
  digest_md5_hex("", 0, md5);
  CHECK_STR(md5, "d41d8cd98f00b204e9800998ecf8427e");
  digest_md5_hex("123:456:app.name", 16, md5);
  CHECK_STR(md5, "8d11212237eb630501664d6574d9c550");
  digest_sha256_hex("abc", 3, sha);
  CHECK_STR(sha, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  digest_sha256 *d = digest_sha256_create();
  digest_sha256_update(d, "a", 1);
  digest_sha256_update(d, "bc", 2);
  digest_sha256_final_hex(d, sha);
  digest_sha256_free(d);
  CHECK_STR(sha, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(stream_memory_adapters)
{
  stream_memory m = {(const uint8_t *)"hello world", 11, 0};
  stream_source src = stream_source_from_memory(&m);
  char chunk[4];
  size_t got;
  buf all = BUF_INIT;
  do {
    CHECK_OK(src.read(src.ctx, chunk, sizeof(chunk), &got, NULL), (cl_error *)NULL);
    buf_append(&all, chunk, got);
  } while(got);
  CHECK_STR(all.data, "hello world");
  buf_free(&all);

  stream_file file = stream_file_from_memory(&m, "mem");
  char five[5];
  CHECK_OK(file.read_at(file.ctx, 6, five, 5, NULL), (cl_error *)NULL);
  CHECK_MEM(five, 5, "world", 5);
  cl_error err;
  CHECK_STATUS(file.read_at(file.ctx, 8, five, 5, &err), CL_ERR_FORMAT);
}

TEST(error_prefix_and_after_name)
{
  cl_error err;
  cl_error_clear(&err);
  CHECK_INT(cl_fail(&err, CL_ERR_IO, "file:///r/a/b: rename: %s", "EIO"), CL_ERR_IO);
  static const struct {
    const char *name, *rest; /* rest NULL: not named first */
  } cases[] = {
    {"file:///r/a/b", "rename: EIO"},
    {"file:///r/a", NULL},   /* a prefix of the name, not the name */
    {"file:///r/a/b/", NULL},
    {"", NULL},              /* ": " must follow the name */
    {"rename", NULL},
  };
  for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    const char *rest = cl_error_after_name(&err, cases[i].name);
    if(!cases[i].rest)
      CHECK(rest == NULL);
    else
      CHECK_STR(rest, cases[i].rest);
  }
  CHECK(cl_error_after_name(NULL, "x") == NULL);
  cl_error_prefix(&err, "writing %s", "a/b");
  CHECK_STR(err.message, "writing a/b: file:///r/a/b: rename: EIO");
  CHECK_INT(err.status, CL_ERR_IO);
}

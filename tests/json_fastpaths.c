/* The reader's and writer's fast paths against their general ones: compact
 * JSON (no whitespace between tokens), integers of every digit count around
 * the 18-digit fast path, non-ASCII and encoded surrogates inside strings
 * scanned 16 bytes at a time, each streamed in chunks that cut tokens at
 * every offset; and json_write_string with a special byte at every offset
 * of the vector scan. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/json.h"
#include "json_support.h"
#include "unit.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* json.dumps of each element, one per line, streamed in chunks of chunk. */
static cl_status stream_dumps(const char *doc, size_t chunk, buf *out, cl_error *err)
{
  json_test_source s;
  size_t count;
  return json_test_stream_dumps(json_test_chunked(&s, doc, strlen(doc), chunk), NULL, out, &count,
                                err);
}

static void parse_dumps(const char *doc, buf *out)
{
  json_arena *arena = json_arena_create(0);
  json_value *value = NULL;
  cl_error err = {0};
  CHECK_OK(json_parse(doc, strlen(doc), NULL, arena, &value, &err), &err);
  if(value && value->type == JSON_ARRAY)
    for(size_t i = 0; i < value->u.array.count; i++) {
      json_dumps(value->u.array.items[i], out);
      buf_putc(out, '\n');
    }
  json_arena_free(arena);
}

/* Compact SMS-like objects with integers of 1 to 21 digits, both signs,
 * numbers that continue as floats right after 18 digits, and strings whose
 * non-ASCII falls on either side of 16-byte boundaries. */
static void build_compact(buf *doc)
{
  buf_putc(doc, '[');
  for(int digits = 1; digits <= 21; digits++) {
    char number[32];
    for(int d = 0; d < digits; d++)
      number[d] = (char)('1' + (d * 7 + digits) % 9);
    number[digits] = '\0';
    if(digits > 1)
      buf_putc(doc, ',');
    buf_printf(doc,
               "{\"item_id\":%s,\"thread_id\":-%s,\"f\":%s.5,\"e\":%se2,\"z\":0,\"m\":-0,"
               "\"message_body\":\"%.*s\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80%.*s\","
               "\"s\":\"%.*s\xed\xa0\x80\",\"k\":[%s,-%s]}",
               number, number, number, number, digits, "abcdefghijklmnopqrstuvwxyz", 16 - digits % 16,
               "0123456789abcdef", digits, "ABCDEFGHIJKLMNOPQRSTUVWXYZ", number, number);
  }
  buf_append_str(doc, ",9223372036854775807,-9223372036854775808,9223372036854775808,"
                      "-9223372036854775809,999999999999999999,-999999999999999999,"
                      "1000000000000000000,01,-01,1.,1e,\"\"]");
}

TEST(json_compact_stream_matches_parse_for_every_chunking)
{
  buf doc = BUF_INIT, want = BUF_INIT, got = BUF_INIT;
  cl_error err = {0};
  build_compact(&doc);
  /* The invalid tail ("01") makes json_parse fail: compare the valid part. */
  char *cut = strstr(doc.data, ",01,");
  buf valid = BUF_INIT;
  buf_append(&valid, doc.data, (size_t)(cut - doc.data));
  buf_putc(&valid, ']');
  parse_dumps(valid.data, &want);
  CHECK(want.len > 0);
  for(size_t chunk = 1; chunk <= 64; chunk++) {
    buf_clear(&got);
    CHECK_OK(stream_dumps(valid.data, chunk, &got, &err), &err);
    if(got.len != want.len || memcmp(got.data, want.data, want.len))
      unit_fail(__FILE__, __LINE__, "chunk %zu: streamed elements differ from json_parse", chunk);
  }
  /* Python refuses a leading zero: "Expecting ',' delimiter" after the 0. */
  buf_clear(&got);
  CHECK_STATUS(stream_dumps(doc.data, 4096, &got, &err), CL_ERR_FORMAT);
  CHECK(strstr(unit_error_message(&err), "Expecting ',' delimiter") != NULL);
  buf_free(&doc);
  buf_free(&valid);
  buf_free(&want);
  buf_free(&got);
}

TEST(json_integers_around_the_fast_path_keep_value_and_text)
{
  static const struct {
    const char *text;
    int64_t value;
    int fits;
    const char *str;
  } vectors[] = {
    {"7", 7, 1, "7"},
    {"-7", -7, 1, "-7"},
    {"0", 0, 1, "0"},
    {"-0", 0, 1, "0"},
    {"123456789012345678", INT64_C(123456789012345678), 1, "123456789012345678"},
    {"-123456789012345678", INT64_C(-123456789012345678), 1, "-123456789012345678"},
    {"1234567890123456789", INT64_C(1234567890123456789), 1, "1234567890123456789"},
    {"9223372036854775807", INT64_MAX, 1, "9223372036854775807"},
    {"-9223372036854775808", INT64_MIN, 1, "-9223372036854775808"},
    {"9223372036854775808", INT64_MAX, 0, "9223372036854775808"},
    {"-9223372036854775809", INT64_MIN, 0, "-9223372036854775809"},
    {"1737840422111", INT64_C(1737840422111), 1, "1737840422111"},
  };
  json_arena *arena = json_arena_create(0);
  for(size_t k = 0; k < COUNT(vectors); k++) {
    char doc[64];
    json_value *value = NULL;
    cl_error err = {0};
    /* In an array so the number ends inside the window, as in an upload. */
    snprintf(doc, sizeof(doc), "[%s,1]", vectors[k].text);
    json_arena_reset(arena);
    CHECK_OK(json_parse(doc, strlen(doc), NULL, arena, &value, &err), &err);
    if(!value || value->type != JSON_ARRAY || value->u.array.count != 2) {
      unit_fail(__FILE__, __LINE__, "vectors[%zu]: %s did not parse as an array", k, doc);
      continue;
    }
    const json_value *n = value->u.array.items[0];
    if(n->type != JSON_INT || n->u.integer.value != vectors[k].value ||
       n->u.integer.fits != vectors[k].fits || strcmp(n->u.integer.text, vectors[k].str) ||
       n->u.integer.text_len != strlen(vectors[k].str))
      unit_fail(__FILE__, __LINE__, "vectors[%zu]: %s read as %" PRId64 " fits %d text %s", k,
                vectors[k].text, n->u.integer.value, n->u.integer.fits, n->u.integer.text);
  }
  json_arena_free(arena);
}

TEST(json_encoded_surrogate_inside_a_plain_string_is_flagged)
{
  static const char doc[] = "[\"0123456789abcdefghij\xed\xa0\x80xyz\",\"0123456789abcdefghij\xc3\xa9xyz\"]";
  json_arena *arena = json_arena_create(0);
  json_value *value = NULL;
  cl_error err = {0};
  CHECK_OK(json_parse(doc, strlen(doc), NULL, arena, &value, &err), &err);
  if(value && value->type == JSON_ARRAY && value->u.array.count == 2) {
    CHECK_INT(value->u.array.items[0]->u.string.lone_surrogate, 1);
    CHECK_INT(value->u.array.items[0]->u.string.len, 26);
    CHECK_INT(value->u.array.items[1]->u.string.lone_surrogate, 0);
    CHECK_STR(value->u.array.items[1]->u.string.data, "0123456789abcdefghij\xc3\xa9xyz");
  } else {
    CHECK(0);
  }
  json_arena_free(arena);
}

/* The byte-at-a-time rule json.dumps applies to ASCII, as the reference. */
static void reference_escape(buf *out, const unsigned char *s, size_t len, int ensure_ascii)
{
  buf_putc(out, '"');
  for(size_t i = 0; i < len; i++) {
    unsigned char c = s[i];
    if(c == '"')
      buf_append_str(out, "\\\"");
    else if(c == '\\')
      buf_append_str(out, "\\\\");
    else if(c == '\n')
      buf_append_str(out, "\\n");
    else if(c == '\r')
      buf_append_str(out, "\\r");
    else if(c == '\t')
      buf_append_str(out, "\\t");
    else if(c == '\b')
      buf_append_str(out, "\\b");
    else if(c == '\f')
      buf_append_str(out, "\\f");
    else if(c < 0x20 || (c == 0x7f && ensure_ascii))
      buf_printf(out, "\\u%04x", c);
    else
      buf_putc(out, (char)c);
  }
  buf_putc(out, '"');
}

TEST(json_write_string_special_byte_at_every_offset)
{
  static const unsigned char specials[] = {'"', '\\', '\n', 0x01, 0x1f, 0x7f, '\t'};
  buf got = BUF_INIT, want = BUF_INIT;
  unsigned char text[48];
  for(size_t len = 1; len <= sizeof(text); len++)
    for(size_t at = 0; at < len; at++)
      for(size_t k = 0; k < COUNT(specials); k++)
        for(int ensure_ascii = 0; ensure_ascii <= 1; ensure_ascii++) {
          for(size_t i = 0; i < len; i++)
            text[i] = (unsigned char)(' ' + (i * 5) % 95);
          for(size_t i = 0; i < len; i++)
            if(text[i] == '"' || text[i] == '\\')
              text[i] = 'x';
          text[at] = specials[k];
          buf_clear(&got);
          buf_clear(&want);
          json_write_string(&got, (const char *)text, len, ensure_ascii);
          reference_escape(&want, text, len, ensure_ascii);
          if(strcmp(got.data, want.data))
            unit_fail(__FILE__, __LINE__, "len %zu, 0x%02x at %zu, ensure_ascii %d: %s, want %s",
                      len, specials[k], at, ensure_ascii, got.data, want.data);
        }
  /* Non-ASCII after a long plain run, in both modes. */
  buf_clear(&got);
  json_write_string(&got, "0123456789abcdefgh\xc3\xa9\xf0\x9f\x98\x80z", 25, 1);
  CHECK_STR(got.data, "\"0123456789abcdefgh\\u00e9\\ud83d\\ude00z\"");
  buf_clear(&got);
  json_write_string(&got, "0123456789abcdefgh\xc3\xa9\x7fz", 22, 0);
  CHECK_STR(got.data, "\"0123456789abcdefgh\xc3\xa9\x7fz\"");
  buf_free(&got);
  buf_free(&want);
}

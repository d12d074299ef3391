/* The streaming reader: the same elements whatever the chunking or the
 * encoding of the input, and Python's verdict on the top level. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/json.h"
#include "json_support.h"
#include "unit.h"

/* The same through json_parse of the whole document. */
static void parse_dumps(const char *doc, size_t len, buf *out)
{
  json_arena *arena = json_arena_create(0);
  json_value *value = NULL;
  cl_error err = {0};
  size_t i;

  CHECK_OK(json_parse(doc, len, NULL, arena, &value, &err), &err);
  if(value && value->type == JSON_ARRAY) {
    for(i = 0; i < value->u.array.count; i++) {
      json_dumps(value->u.array.items[i], out);
      buf_putc(out, '\n');
    }
  }
  json_arena_free(arena);
}

/* SMS-like rows plus the awkward cases: escapes and non-ASCII straddling
 * chunk ends, a string and a number longer than the reader's 64 KiB reads,
 * surrogates, floats, big integers, nesting and whitespace everywhere. */
static void build_document(buf *doc)
{
  int i;

  buf_append_str(doc, " \n[\r\n");
  for(i = 0; i < 300; i++) {
    buf_printf(doc,
               "%s{\"contact_id\": %d, \"datetime\": %lld, \"item_id\": %d, "
               "\"message_body\": \"Jambo \\\"people\\\" \\u00e9\xc3\xa9 \xf0\x9f\x98\x80 "
               "\\ud83d\\ude00 \\ud800 #%d\\n\", \"sms_address\": \"+075 40269 68\", "
               "\"sms_type\": %d, \"thread_id\": %d, \"f\": %d.%de%d, \"n\": [null, true, "
               "false, {}, [], NaN, -Infinity]}",
               i ? " ,\n\t" : "", i % 7, 1487722326477LL + i, i, i, 1 + i % 6, i * 3, i, i % 10,
               i % 40 - 20);
  }
  buf_append_str(doc, ", \"");
  for(i = 0; i < 100000; i++)
    buf_putc(doc, (char)('a' + i % 26));
  buf_append_str(doc, "\", -");
  for(i = 0; i < 70000; i++)
    buf_putc(doc, (char)('1' + i % 9));
  buf_append_str(doc, ", 123456789012345678901234567890, -0, 0.1, 1e400");
  buf_append_str(doc, ", {\"a\": {\"b\": [1, [2, {\"c\": \"\\u4e2d\"}]]}, \"a\": 2}");
  buf_append_str(doc, "\n]\n\t ");
}

TEST(json_reader_same_elements_for_any_chunking)
{
  static const size_t chunks[] = {1, 2, 3, 7, 0, 4096, 1 << 20};
  buf doc = BUF_INIT, expected = BUF_INIT;
  size_t i, count;

  build_document(&doc);
  parse_dumps(doc.data, doc.len, &expected);
  CHECK(expected.len > 100000);
  for(i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
    json_test_source s;
    buf got = BUF_INIT;
    cl_error err = {0};
    json_reader *reader;

    CHECK_OK(json_test_stream_dumps(json_test_chunked(&s, doc.data, doc.len, chunks[i]), NULL,
                                    &got, &count, &err),
             &err);
    CHECK_INT(count, 307);
    if(got.len != expected.len || memcmp(got.data, expected.data, got.len))
      unit_fail(__FILE__, __LINE__, "chunk %zu: streamed elements differ from json_parse",
                chunks[i]);
    buf_free(&got);

    /* The offset ends at the end of the input. */
    reader = json_reader_create(json_test_chunked(&s, doc.data, doc.len, chunks[i]), NULL);
    json_arena *arena = json_arena_create(0);
    json_value *item = NULL;
    CHECK_OK(json_reader_begin_array(reader, &err), &err);
    CHECK_INT(json_reader_offset(reader), 3);
    do {
      json_arena_reset(arena);
      CHECK_OK(json_reader_next(reader, arena, &item, &err), &err);
    } while(item);
    CHECK_INT(json_reader_offset(reader), doc.len);
    /* Further calls keep saying "done". */
    CHECK_OK(json_reader_next(reader, arena, &item, &err), &err);
    CHECK(item == NULL);
    json_arena_free(arena);
    json_reader_free(reader);
  }
  buf_free(&doc);
  buf_free(&expected);
}

/* UTF-8 (well formed) to UTF-16/32 for the encoding tests. */
static void encode(const char *utf8, size_t len, int unit_size, int big_endian, int bom,
                   buf *out)
{
  const unsigned char *s = (const unsigned char *)utf8;
  size_t i = 0;
  unsigned units[2];
  int n, k, b;

  if(bom) {
    units[0] = 0xfeff;
    n = 1;
    goto emit;
  }
  while(i < len) {
    unsigned c = s[i], cp;
    if(c < 0x80) {
      cp = c;
      i += 1;
    } else if(c < 0xe0) {
      cp = (c & 0x1fu) << 6 | (s[i + 1] & 0x3fu);
      i += 2;
    } else if(c < 0xf0) {
      cp = (c & 0x0fu) << 12 | (s[i + 1] & 0x3fu) << 6 | (s[i + 2] & 0x3fu);
      i += 3;
    } else {
      cp = (c & 0x07u) << 18 | (s[i + 1] & 0x3fu) << 12 | (s[i + 2] & 0x3fu) << 6 |
           (s[i + 3] & 0x3fu);
      i += 4;
    }
    if(unit_size == 2 && cp >= 0x10000) {
      units[0] = 0xd800 | ((cp - 0x10000) >> 10);
      units[1] = 0xdc00 | ((cp - 0x10000) & 0x3ff);
      n = 2;
    } else {
      units[0] = cp;
      n = 1;
    }
  emit:
    for(k = 0; k < n; k++)
      for(b = 0; b < unit_size; b++) {
        int shift = big_endian ? 8 * (unit_size - 1 - b) : 8 * b;
        buf_putc(out, (char)((units[k] >> shift) & 0xff));
      }
    bom = 0;
  }
}

TEST(json_reader_decodes_utf16_and_utf32_and_skips_boms)
{
  static const struct {
    int unit_size, big_endian, bom;
  } encodings[] = {{2, 0, 0}, {2, 1, 0}, {2, 0, 1}, {2, 1, 1},
                   {4, 0, 0}, {4, 1, 0}, {4, 0, 1}, {4, 1, 1}};
  static const char doc[] = "[{\"a\": \"\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80\", \"b\": 1}, "
                            "\"\\ud83d\\ude00\", [1.5, null]]";
  buf expected = BUF_INIT, bom_doc = BUF_INIT;
  size_t i, count;

  parse_dumps(doc, sizeof(doc) - 1, &expected);
  CHECK_STR(expected.data, "{\"a\": \"\\u00e9\\u4e2d\\ud83d\\ude00\", \"b\": 1}\n"
                           "\"\\ud83d\\ude00\"\n[1.5, null]\n");
  for(i = 0; i < sizeof(encodings) / sizeof(encodings[0]); i++) {
    buf encoded = BUF_INIT, got = BUF_INIT, parsed = BUF_INIT;
    json_test_source s;
    cl_error err = {0};
    size_t chunk;

    encode(doc, sizeof(doc) - 1, encodings[i].unit_size, encodings[i].big_endian,
           encodings[i].bom, &encoded);
    for(chunk = 1; chunk <= 5; chunk += 4) {
      buf_clear(&got);
      CHECK_OK(json_test_stream_dumps(json_test_chunked(&s, encoded.data, encoded.len, chunk), NULL,
                                      &got, &count, &err),
               &err);
      CHECK_STR(got.data, expected.data);
    }
    parse_dumps(encoded.data, encoded.len, &parsed);
    CHECK_STR(parsed.data, expected.data);
    buf_free(&encoded);
    buf_free(&got);
    buf_free(&parsed);
  }

  /* A UTF-8 BOM is skipped; offsets count from after it. */
  {
    json_test_source s;
    cl_error err = {0};
    buf got = BUF_INIT;
    buf_append_str(&bom_doc, "\xef\xbb\xbf");
    buf_append(&bom_doc, doc, sizeof(doc) - 1);
    CHECK_OK(json_test_stream_dumps(json_test_chunked(&s, bom_doc.data, bom_doc.len, 1), NULL,
                                    &got, &count, &err),
             &err);
    CHECK_STR(got.data, expected.data);
    buf_free(&got);
  }
  buf_free(&bom_doc);
  buf_free(&expected);
}

typedef struct reader_vector {
  const char *input;
  size_t len;
  size_t elements; /* delivered before the end or the failure */
  cl_status status;
  const char *message; /* "" when status is CL_OK */
} reader_vector;

#define V(s) s, sizeof(s) - 1

static const reader_vector reader_vectors[] = {
  {V("[]"), 0, CL_OK, ""},
  {V(" \t\r\n[ \n] \n"), 0, CL_OK, ""},
  {V("[1, 2, 3]"), 3, CL_OK, ""},
  {V("{\"a\": 1}"), 0, CL_ERR_FORMAT, "top-level value is an object, not an array"},
  {V("\"text\""), 0, CL_ERR_FORMAT, "top-level value is a string, not an array"},
  {V("  12"), 0, CL_ERR_FORMAT, "top-level value is a number, not an array"},
  {V("-1"), 0, CL_ERR_FORMAT, "top-level value is a number, not an array"},
  {V("NaN"), 0, CL_ERR_FORMAT, "top-level value is a number, not an array"},
  {V("true"), 0, CL_ERR_FORMAT, "top-level value is a boolean, not an array"},
  {V("null"), 0, CL_ERR_FORMAT, "top-level value is null, not an array"},
  {V(""), 0, CL_ERR_FORMAT, "Expecting value: line 1 column 1 (char 0)"},
  {V("  \n "), 0, CL_ERR_FORMAT, "Expecting value: line 2 column 2 (char 4)"},
  {V("x"), 0, CL_ERR_FORMAT, "Expecting value: line 1 column 1 (char 0)"},
  {V("\xff[]"), 0, CL_ERR_FORMAT,
   "'utf-8' codec can't decode byte 0xff in position 0: invalid start byte"},
  {V("[1] x"), 1, CL_ERR_FORMAT, "Extra data: line 1 column 5 (char 4)"},
  {V("[1]\n[2]"), 1, CL_ERR_FORMAT, "Extra data: line 2 column 1 (char 4)"},
  {V("[1]]"), 1, CL_ERR_FORMAT, "Extra data: line 1 column 4 (char 3)"},
  {V("[1, 2"), 2, CL_ERR_FORMAT, "Expecting ',' delimiter: line 1 column 6 (char 5)"},
  {V("[1 2]"), 1, CL_ERR_FORMAT, "Expecting ',' delimiter: line 1 column 4 (char 3)"},
  {V("[1,]"), 1, CL_ERR_FORMAT, "Expecting value: line 1 column 4 (char 3)"},
  {V("["), 0, CL_ERR_FORMAT, "Expecting value: line 1 column 2 (char 1)"},
  {V("[,1]"), 0, CL_ERR_FORMAT, "Expecting value: line 1 column 2 (char 1)"},
  {V("[1,\n {\"a\" 1}]"), 1, CL_ERR_FORMAT, "Expecting ':' delimiter: line 2 column 7 (char 10)"},
  {V("[{\"a\": 1,}]"), 0, CL_ERR_FORMAT,
   "Expecting property name enclosed in double quotes: line 1 column 10 (char 9)"},
  {V("[{\"a\": 1"), 0, CL_ERR_FORMAT, "Expecting ',' delimiter: line 1 column 9 (char 8)"},
  {V("[\"abc"), 0, CL_ERR_FORMAT, "Unterminated string starting at: line 1 column 2 (char 1)"},
  {V("[\"a\\"), 0, CL_ERR_FORMAT, "Unterminated string starting at: line 1 column 2 (char 1)"},
  {V("[\"a\\q\"]"), 0, CL_ERR_FORMAT, "Invalid \\escape: line 1 column 4 (char 3)"},
  {V("[\"\\u12x4\"]"), 0, CL_ERR_FORMAT, "Invalid \\uXXXX escape: line 1 column 4 (char 3)"},
  {V("[\"\\ud800\\u12x4\"]"), 0, CL_ERR_FORMAT,
   "Invalid \\uXXXX escape: line 1 column 10 (char 9)"},
  {V("[\"a\tb\"]"), 0, CL_ERR_FORMAT, "Invalid control character at: line 1 column 4 (char 3)"},
  {V("[1, \"\xc3(\"]"), 1, CL_ERR_FORMAT,
   "'utf-8' codec can't decode byte 0xc3 in position 5: invalid continuation byte"},
  {V("[\"\xe2\x82"), 0, CL_ERR_FORMAT,
   "'utf-8' codec can't decode bytes in position 2-3: unexpected end of data"},
  {V("[tru]"), 0, CL_ERR_FORMAT, "Expecting value: line 1 column 2 (char 1)"},
  {V("[-]"), 0, CL_ERR_FORMAT, "Expecting value: line 1 column 2 (char 1)"},
  {V("[01]"), 1, CL_ERR_FORMAT, "Expecting ',' delimiter: line 1 column 3 (char 2)"},
  {V("[1.]"), 1, CL_ERR_FORMAT, "Expecting ',' delimiter: line 1 column 3 (char 2)"},
  {V("[1e5, 2E+2, -0.5e-3]"), 3, CL_OK, ""},
  {V("[\x00" "1\x00]\x00\x00"), 0, CL_ERR_FORMAT,
   "'utf-16-le' codec can't decode byte 0x00 in position 6: truncated data"},
  {V("\xff\xfe\x00\x00[\x00\x00\x00\x00\x00\x11\x00"), 0, CL_ERR_FORMAT,
   "'utf-32-le' codec can't decode bytes in position 8-11: code point not in range(0x110000)"},
};

TEST(json_reader_errors_and_top_level_like_python)
{
  size_t i, chunk;

  for(i = 0; i < sizeof(reader_vectors) / sizeof(reader_vectors[0]); i++) {
    const reader_vector *v = &reader_vectors[i];
    for(chunk = 1; chunk <= 4096; chunk *= 4096) {
      json_test_source s;
      cl_error err = {0};
      buf got = BUF_INIT;
      size_t count;
      cl_status status = json_test_stream_dumps(json_test_chunked(&s, v->input, v->len, chunk),
                                                NULL, &got, &count, &err);
      if(status != v->status || count != v->elements ||
         (status && strcmp(err.message, v->message)))
        unit_fail(__FILE__, __LINE__, "vector %zu (chunk %zu): %s after %zu elements: \"%s\"", i,
                  chunk, cl_status_name(status), count, status ? err.message : "");
      buf_free(&got);
    }
  }
}

TEST(json_reader_limits_per_element)
{
  json_limits limits;
  buf doc = BUF_INIT, got = BUF_INIT;
  json_test_source s;
  cl_error err = {0};
  size_t count;
  int i;

  /* The top-level array counts as one level. */
  json_limits_default(&limits);
  limits.max_depth = 4;
  CHECK_OK(json_test_stream_dumps(json_test_chunked(&s, "[[[[1]]], 2]", 12, 3), &limits, &got,
                                  &count, &err),
           &err);
  CHECK_INT(count, 2);
  CHECK_STATUS(json_test_stream_dumps(json_test_chunked(&s, "[1, [[[[1]]]]]", 14, 3), &limits,
                                      &got, &count, &err),
               CL_ERR_LIMIT);
  CHECK_STR(err.message, "JSON nesting deeper than 4 at byte 7");
  CHECK_INT(count, 1);

  /* Memory is per element: many small elements pass a small budget. */
  json_limits_default(&limits);
  limits.max_value_bytes = 2000;
  buf_putc(&doc, '[');
  for(i = 0; i < 5000; i++)
    buf_printf(&doc, "%s{\"k\": \"value %d\"}", i ? "," : "", i);
  buf_putc(&doc, ']');
  buf_clear(&got);
  CHECK_OK(json_test_stream_dumps(json_test_chunked(&s, doc.data, doc.len, 0), &limits, &got,
                                  &count, &err),
           &err);
  CHECK_INT(count, 5000);
  buf_clear(&doc);
  buf_append_str(&doc, "[1, [");
  for(i = 0; i < 1000; i++)
    buf_append_str(&doc, "1,");
  buf_append_str(&doc, "1]]");
  CHECK_STATUS(json_test_stream_dumps(json_test_chunked(&s, doc.data, doc.len, 0), &limits, &got,
                                      &count, &err),
               CL_ERR_LIMIT);
  CHECK(strstr(err.message, "more than 2000 bytes of memory") != NULL);
  CHECK_INT(count, 1);

  /* Strings are bounded while they stream in, whatever their length. */
  json_limits_default(&limits);
  limits.max_string = 100000;
  buf_clear(&doc);
  buf_append_str(&doc, "[\"");
  buf_fill(&doc, 'x', 100000);
  buf_append_str(&doc, "\", \"");
  buf_fill(&doc, 'y', 100001);
  buf_append_str(&doc, "\"]");
  CHECK_STATUS(json_test_stream_dumps(json_test_chunked(&s, doc.data, doc.len, 1 << 20), &limits,
                                      &got, &count, &err),
               CL_ERR_LIMIT);
  CHECK_STR(err.message, "JSON string longer than 100000 bytes at byte 100005");
  CHECK_INT(count, 1);

  /* So are numbers, which have to fit the window. */
  buf_clear(&doc);
  buf_append_str(&doc, "[1, ");
  buf_fill(&doc, '7', 300000);
  buf_append_str(&doc, "]");
  CHECK_STATUS(json_test_stream_dumps(json_test_chunked(&s, doc.data, doc.len, 0), &limits, &got,
                                      &count, &err),
               CL_ERR_LIMIT);
  CHECK_INT(count, 1);
  buf_free(&doc);
  buf_free(&got);
}

TEST(json_reader_usage_and_source_failures)
{
  json_test_source s;
  cl_error err = {0};
  json_arena *arena = json_arena_create(0);
  json_value *item = NULL;
  json_reader *reader;
  static const char doc[] = "[1, 2, 3, 4, 5, 6]";

  reader = json_reader_create(json_test_chunked(&s, doc, sizeof(doc) - 1, 2), NULL);
  CHECK_STATUS(json_reader_next(reader, arena, &item, &err), CL_ERR_USAGE);
  CHECK_OK(json_reader_begin_array(reader, &err), &err);
  CHECK_STATUS(json_reader_begin_array(reader, &err), CL_ERR_USAGE);
  s.fail_at = 8;
  CHECK_OK(json_reader_next(reader, arena, &item, &err), &err);
  CHECK_INT(item->u.integer.value, 1);
  CHECK_OK(json_reader_next(reader, arena, &item, &err), &err);
  CHECK_STATUS(json_reader_next(reader, arena, &item, &err), CL_ERR_IO);
  CHECK_STR(err.message, "test source: read failed at 8");
  CHECK(item == NULL);
  CHECK_STATUS(json_reader_next(reader, arena, &item, &err), CL_ERR_IO);
  CHECK_STR(err.message, "JSON reader used after it failed");
  json_reader_free(reader);
  json_reader_free(NULL);
  json_arena_free(arena);
  json_arena_free(NULL);
}

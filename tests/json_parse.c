/* json_parse against Python 3 json.loads/json.dumps: each vector's expected
 * output is what `json.dumps(json.loads(input_bytes))` printed (or the
 * JSONDecodeError / UnicodeDecodeError message), generated with CPython. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "json/json.h"
#include "unit.h"

typedef struct python_vector {
  const char *input;
  size_t len;
  cl_status status;
  const char *expected; /* dumps output, or the error message */
} python_vector;

static const python_vector python_vectors[] = {
  {"0", 1, CL_OK, "0"},
  {"-0", 2, CL_OK, "0"},
  {"1", 1, CL_OK, "1"},
  {"-1", 2, CL_OK, "-1"},
  {"123456789", 9, CL_OK, "123456789"},
  {"9223372036854775807", 19, CL_OK, "9223372036854775807"},
  {"-9223372036854775808", 20, CL_OK, "-9223372036854775808"},
  {"9223372036854775808", 19, CL_OK, "9223372036854775808"},
  {"-9223372036854775809", 20, CL_OK, "-9223372036854775809"},
  {"123456789012345678901234567890", 30, CL_OK, "123456789012345678901234567890"},
  {"1.0", 3, CL_OK, "1.0"},
  {"-0.0", 4, CL_OK, "-0.0"},
  {"0.1", 3, CL_OK, "0.1"},
  {"1e400", 5, CL_OK, "Infinity"},
  {"-1e400", 6, CL_OK, "-Infinity"},
  {"1E-7", 4, CL_OK, "1e-07"},
  {"1e-7", 4, CL_OK, "1e-07"},
  {"5e-324", 6, CL_OK, "5e-324"},
  {"1.7976931348623157e308", 22, CL_OK, "1.7976931348623157e+308"},
  {"1e16", 4, CL_OK, "1e+16"},
  {"1e15", 4, CL_OK, "1000000000000000.0"},
  {"1.5e300", 7, CL_OK, "1.5e+300"},
  {"15.0", 4, CL_OK, "15.0"},
  {"0.0001", 6, CL_OK, "0.0001"},
  {"0.00001", 7, CL_OK, "1e-05"},
  {"123456789012345.0", 17, CL_OK, "123456789012345.0"},
  {"1e22", 4, CL_OK, "1e+22"},
  {"2.5E+3", 6, CL_OK, "2500.0"},
  {"1e-400", 6, CL_OK, "0.0"},
  {"NaN", 3, CL_OK, "NaN"},
  {"Infinity", 8, CL_OK, "Infinity"},
  {"-Infinity", 9, CL_OK, "-Infinity"},
  {" [ 1 , 2.50 ] ", 14, CL_OK, "[1, 2.5]"},
  {"4.35", 4, CL_OK, "4.35"},
  {"100000000000000000000.0", 23, CL_OK, "1e+20"},
  {"\"\"", 2, CL_OK, "\"\""},
  {"\"abc\"", 5, CL_OK, "\"abc\""},
  {"\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", 18, CL_OK, "\"\\\"\\\\/\\b\\f\\n\\r\\t\""},
  {"\"\\u00e9\"", 8, CL_OK, "\"\\u00e9\""},
  {"\"\\u00E9\"", 8, CL_OK, "\"\\u00e9\""},
  {"\"\xc3\xa9\"", 4, CL_OK, "\"\\u00e9\""},
  {"\"\\ud83d\\ude00\"", 14, CL_OK, "\"\\ud83d\\ude00\""},
  {"\"\xf0\x9f\x98\x80\"", 6, CL_OK, "\"\\ud83d\\ude00\""},
  {"\"\\ud800\"", 8, CL_OK, "\"\\ud800\""},
  {"\"\\udc00\"", 8, CL_OK, "\"\\udc00\""},
  {"\"\\ud800\\u0041\"", 14, CL_OK, "\"\\ud800A\""},
  {"\"\\ud800x\"", 9, CL_OK, "\"\\ud800x\""},
  {"\"\\udc00\\ud800\"", 14, CL_OK, "\"\\udc00\\ud800\""},
  {"\"\\u0000\"", 8, CL_OK, "\"\\u0000\""},
  {"\"a\\u0000b\"", 10, CL_OK, "\"a\\u0000b\""},
  {"\"\x7f\"", 3, CL_OK, "\"\\u007f\""},
  {"\"\xed\xa0\x80\"", 5, CL_OK, "\"\\ud800\""},
  {"\"\xe2\x80\xa8\"", 5, CL_OK, "\"\\u2028\""},
  {"\"\\u2028\\u001f\"", 14, CL_OK, "\"\\u2028\\u001f\""},
  {"\"\\ud83d\\ude00\\ud83d\"", 20, CL_OK, "\"\\ud83d\\ude00\\ud83d\""},
  {"{\"a\": 1, \"b\": 2, \"a\": 3}", 24, CL_OK, "{\"a\": 3, \"b\": 2}"},
  {"{\"a\": {\"x\": 1}, \"a\": [1]}", 25, CL_OK, "{\"a\": [1]}"},
  {"{}", 2, CL_OK, "{}"},
  {"[]", 2, CL_OK, "[]"},
  {"[[], {}, [[]]]", 14, CL_OK, "[[], {}, [[]]]"},
  {"{\"\": null, \"t\": true, \"f\": false}", 33, CL_OK, "{\"\": null, \"t\": true, \"f\": false}"},
  {"\xef\xbb\xbf[1]", 6, CL_OK, "[1]"},
  {"[{\"item_id\": 417151, \"normalized_phone_number\": \"+254729477015\", \"phone_number\": \"(072) 947-7015\"}, {\"item_id\": 417166, \"normalized_phone_number\": \"+254729477015\", \"phone_number\": \"0729477015\"}]", 194, CL_OK, "[{\"item_id\": 417151, \"normalized_phone_number\": \"+254729477015\", \"phone_number\": \"(072) 947-7015\"}, {\"item_id\": 417166, \"normalized_phone_number\": \"+254729477015\", \"phone_number\": \"0729477015\"}]"},
  {"\xff\xfe[\x00\"\x00\xe9\x00\"\x00,\x00 \x00\"\x00=\xd8\x00\xde\"\x00,\x00 \x00\"\x00-N\"\x00]\x00", 34, CL_OK, "[\"\\u00e9\", \"\\ud83d\\ude00\", \"\\u4e2d\"]"},
  {"{\x00\"\x00k\x00\"\x00:\x00 \x00[\x00""1\x00,\x00 \x00\"\x00\xe9\x00\"\x00]\x00}\x00", 30, CL_OK, "{\"k\": [1, \"\\u00e9\"]}"},
  {"\x00{\x00\"\x00k\x00\"\x00:\x00 \x00[\x00""1\x00,\x00 \x00\"\x00\xe9\x00\"\x00]\x00}", 30, CL_OK, "{\"k\": [1, \"\\u00e9\"]}"},
  {"\xff\xfe\x00\x00[\x00\x00\x00""1\x00\x00\x00,\x00\x00\x00 \x00\x00\x00\"\x00\x00\x00\x00\xf6\x01\x00\"\x00\x00\x00]\x00\x00\x00", 36, CL_OK, "[1, \"\\ud83d\\ude00\"]"},
  {"[\x00\x00\x00""1\x00\x00\x00,\x00\x00\x00 \x00\x00\x00\"\x00\x00\x00\x00\xf6\x01\x00\"\x00\x00\x00]\x00\x00\x00", 32, CL_OK, "[1, \"\\ud83d\\ude00\"]"},
  {"\x00\x00\x00[\x00\x00\x00""1\x00\x00\x00,\x00\x00\x00 \x00\x00\x00\"\x00\x01\xf6\x00\x00\x00\x00\"\x00\x00\x00]", 32, CL_OK, "[1, \"\\ud83d\\ude00\"]"},
  {" \x09\x0d\x0a""1 \x0a", 7, CL_OK, "1"},
  {"", 0, CL_ERR_FORMAT, "Expecting value: line 1 column 1 (char 0)"},
  {" ", 1, CL_ERR_FORMAT, "Expecting value: line 1 column 2 (char 1)"},
  {"[", 1, CL_ERR_FORMAT, "Expecting value: line 1 column 2 (char 1)"},
  {"[1,", 3, CL_ERR_FORMAT, "Expecting value: line 1 column 4 (char 3)"},
  {"[1,]", 4, CL_ERR_FORMAT, "Expecting value: line 1 column 4 (char 3)"},
  {"{\"a\":1,}", 8, CL_ERR_FORMAT, "Expecting property name enclosed in double quotes: line 1 column 8 (char 7)"},
  {"{\"a\"", 4, CL_ERR_FORMAT, "Expecting ':' delimiter: line 1 column 5 (char 4)"},
  {"{\"a\" 1}", 7, CL_ERR_FORMAT, "Expecting ':' delimiter: line 1 column 6 (char 5)"},
  {"{a:1}", 5, CL_ERR_FORMAT, "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"},
  {"[1 2]", 5, CL_ERR_FORMAT, "Expecting ',' delimiter: line 1 column 4 (char 3)"},
  {"\"abc", 4, CL_ERR_FORMAT, "Unterminated string starting at: line 1 column 1 (char 0)"},
  {"\"a\\x\"", 5, CL_ERR_FORMAT, "Invalid \\escape: line 1 column 3 (char 2)"},
  {"\"\\u12\"", 6, CL_ERR_FORMAT, "Invalid \\uXXXX escape: line 1 column 3 (char 2)"},
  {"\"\\u12zz\"", 8, CL_ERR_FORMAT, "Invalid \\uXXXX escape: line 1 column 3 (char 2)"},
  {"\"\\u1234", 7, CL_ERR_FORMAT, "Invalid \\uXXXX escape: line 1 column 3 (char 2)"},
  {"\"\\ud800\\uzzzz\"", 14, CL_ERR_FORMAT, "Invalid \\uXXXX escape: line 1 column 9 (char 8)"},
  {"\"\x01\"", 3, CL_ERR_FORMAT, "Invalid control character at: line 1 column 2 (char 1)"},
  {"\"a\x0a""b\"", 5, CL_ERR_FORMAT, "Invalid control character at: line 1 column 3 (char 2)"},
  {"\"\x09\"", 3, CL_ERR_FORMAT, "Invalid control character at: line 1 column 2 (char 1)"},
  {"-", 1, CL_ERR_FORMAT, "Expecting value: line 1 column 1 (char 0)"},
  {"01", 2, CL_ERR_FORMAT, "Extra data: line 1 column 2 (char 1)"},
  {"1.", 2, CL_ERR_FORMAT, "Extra data: line 1 column 2 (char 1)"},
  {".5", 2, CL_ERR_FORMAT, "Expecting value: line 1 column 1 (char 0)"},
  {"+1", 2, CL_ERR_FORMAT, "Expecting value: line 1 column 1 (char 0)"},
  {"1e", 2, CL_ERR_FORMAT, "Extra data: line 1 column 2 (char 1)"},
  {"1e+", 3, CL_ERR_FORMAT, "Extra data: line 1 column 2 (char 1)"},
  {"1 2", 3, CL_ERR_FORMAT, "Extra data: line 1 column 3 (char 2)"},
  {"[1] x", 5, CL_ERR_FORMAT, "Extra data: line 1 column 5 (char 4)"},
  {"tru", 3, CL_ERR_FORMAT, "Expecting value: line 1 column 1 (char 0)"},
  {"nul", 3, CL_ERR_FORMAT, "Expecting value: line 1 column 1 (char 0)"},
  {"NAN", 3, CL_ERR_FORMAT, "Expecting value: line 1 column 1 (char 0)"},
  {"-Inf", 4, CL_ERR_FORMAT, "Expecting value: line 1 column 1 (char 0)"},
  {"infinity", 8, CL_ERR_FORMAT, "Expecting value: line 1 column 1 (char 0)"},
  {"\"\xff\"", 3, CL_ERR_FORMAT, "'utf-8' codec can't decode byte 0xff in position 1: invalid start byte"},
  {"\"\xe0\x80\"", 4, CL_ERR_FORMAT, "'utf-8' codec can't decode byte 0xe0 in position 1: invalid continuation byte"},
  {"\"\xc3", 2, CL_ERR_FORMAT, "'utf-8' codec can't decode byte 0xc3 in position 1: unexpected end of data"},
  {"\"\xf4\x90\x80\x80\"", 6, CL_ERR_FORMAT, "'utf-8' codec can't decode byte 0xf4 in position 1: invalid continuation byte"},
  {"\"\xe2\x82\"", 4, CL_ERR_FORMAT, "'utf-8' codec can't decode bytes in position 1-2: invalid continuation byte"},
  {"\"\xed\xa0\"", 4, CL_ERR_FORMAT, "'utf-8' codec can't decode byte 0xed in position 1: invalid continuation byte"},
  {"\"\xc0\xaf\"", 4, CL_ERR_FORMAT, "'utf-8' codec can't decode byte 0xc0 in position 1: invalid start byte"},
  {"[1]\xff", 4, CL_ERR_FORMAT, "'utf-8' codec can't decode byte 0xff in position 3: invalid start byte"},
  {"\xff", 1, CL_ERR_FORMAT, "'utf-8' codec can't decode byte 0xff in position 0: invalid start byte"},
  {"[\x00""1\x00]", 5, CL_ERR_FORMAT, "'utf-16-le' codec can't decode byte 0x5d in position 4: truncated data"},
  {"\x00\x00\x00[\x00\x11\x00\x00", 8, CL_ERR_FORMAT, "'utf-32-be' codec can't decode bytes in position 4-7: code point not in range(0x110000)"},
  {"\xef\xbb\xbf", 3, CL_ERR_FORMAT, "Expecting value: line 1 column 1 (char 0)"},
  {"\xef\xbb\xbf\xef\xbb\xbf[]", 8, CL_ERR_FORMAT, "Expecting value: line 1 column 1 (char 0)"},
  {"{\"a\":1}\x0a\x0a  }", 12, CL_ERR_FORMAT, "Extra data: line 3 column 3 (char 11)"},
  {"[\x0a""1,\x0a""2\x0a""3]", 9, CL_ERR_FORMAT, "Expecting ',' delimiter: line 4 column 1 (char 7)"},
  {"[1,\x0a  {\"a\" 2}]", 14, CL_ERR_FORMAT, "Expecting ':' delimiter: line 2 column 8 (char 11)"},
  {"\x0c""1", 2, CL_ERR_FORMAT, "Expecting value: line 1 column 1 (char 0)"},
  {"[1]\x00", 4, CL_ERR_FORMAT, "Extra data: line 1 column 4 (char 3)"},
};

TEST(json_parse_matches_python_loads_and_dumps)
{
  size_t i;
  json_arena *arena = json_arena_create(0);

  for(i = 0; i < sizeof(python_vectors) / sizeof(python_vectors[0]); i++) {
    const python_vector *v = &python_vectors[i];
    json_value *value = NULL;
    cl_error err = {0};
    buf out = BUF_INIT;
    cl_status status = json_parse(v->input, v->len, NULL, arena, &value, &err);

    if(status != v->status) {
      unit_fail(__FILE__, __LINE__, "vector %zu: status %s, expected %s (%s)", i,
                cl_status_name(status), cl_status_name(v->status), err.message);
    } else if(status) {
      if(strcmp(err.message, v->expected))
        unit_fail(__FILE__, __LINE__, "vector %zu: message \"%s\", expected \"%s\"", i,
                  err.message, v->expected);
      CHECK(value == NULL);
    } else {
      CHECK_OK(json_dumps(value, &out), NULL);
      if(!out.data || strcmp(out.data, v->expected))
        unit_fail(__FILE__, __LINE__, "vector %zu: dumps \"%s\", expected \"%s\"", i,
                  out.data ? out.data : "", v->expected);
    }
    buf_free(&out);
    json_arena_reset(arena);
  }
  json_arena_free(arena);
}

typedef struct number_vector {
  const char *input;
  json_type type;
  int fits;
  int64_t int_value;
  double float_value;
  const char *text; /* Python str() of the value */
} number_vector;

static const number_vector number_vectors[] = {
  {"0", JSON_INT, 1, 0, 0, "0"},
  {"-0", JSON_INT, 1, 0, 0, "0"},
  {"42", JSON_INT, 1, 42, 0, "42"},
  {"-17", JSON_INT, 1, -17, 0, "-17"},
  {"1487722326477", JSON_INT, 1, 1487722326477, 0, "1487722326477"},
  {"9223372036854775807", JSON_INT, 1, INT64_MAX, 0, "9223372036854775807"},
  {"-9223372036854775808", JSON_INT, 1, INT64_MIN, 0, "-9223372036854775808"},
  {"9223372036854775808", JSON_INT, 0, INT64_MAX, 0, "9223372036854775808"},
  {"-9223372036854775809", JSON_INT, 0, INT64_MIN, 0, "-9223372036854775809"},
  {"18446744073709551616", JSON_INT, 0, INT64_MAX, 0, "18446744073709551616"},
  {"123456789012345678901234567890", JSON_INT, 0, INT64_MAX, 0,
   "123456789012345678901234567890"},
  {"1.0", JSON_FLOAT, 0, 0, 1.0, "1.0"},
  {"15", JSON_INT, 1, 15, 0, "15"},
  {"15.0", JSON_FLOAT, 0, 0, 15.0, "15.0"},
  {"-0.0", JSON_FLOAT, 0, 0, -0.0, "-0.0"},
  {"0.1", JSON_FLOAT, 0, 0, 0.1, "0.1"},
  {"1e400", JSON_FLOAT, 0, 0, INFINITY, "inf"},
  {"-1e400", JSON_FLOAT, 0, 0, -INFINITY, "-inf"},
  {"1e-400", JSON_FLOAT, 0, 0, 0.0, "0.0"},
  {"1E-7", JSON_FLOAT, 0, 0, 1e-7, "1e-07"},
  {"5e-324", JSON_FLOAT, 0, 0, 5e-324, "5e-324"},
  {"1.7976931348623157e308", JSON_FLOAT, 0, 0, 1.7976931348623157e308,
   "1.7976931348623157e+308"},
  {"1e16", JSON_FLOAT, 0, 0, 1e16, "1e+16"},
  {"1e15", JSON_FLOAT, 0, 0, 1e15, "1000000000000000.0"},
  {"0.0001", JSON_FLOAT, 0, 0, 0.0001, "0.0001"},
  {"0.00001", JSON_FLOAT, 0, 0, 0.00001, "1e-05"},
  {"1528237005.5", JSON_FLOAT, 0, 0, 1528237005.5, "1528237005.5"},
  {"NaN", JSON_FLOAT, 0, 0, NAN, "nan"},
  {"Infinity", JSON_FLOAT, 0, 0, INFINITY, "inf"},
  {"-Infinity", JSON_FLOAT, 0, 0, -INFINITY, "-inf"},
};

TEST(json_parse_numbers_keep_python_values_and_text)
{
  size_t i;
  json_arena *arena = json_arena_create(0);

  for(i = 0; i < sizeof(number_vectors) / sizeof(number_vectors[0]); i++) {
    const number_vector *v = &number_vectors[i];
    json_value *value = NULL;
    cl_error err = {0};

    CHECK_OK(json_parse(v->input, strlen(v->input), NULL, arena, &value, &err), &err);
    if(!value)
      continue;
    CHECK_INT(value->type, v->type);
    if(value->type == JSON_INT) {
      CHECK_INT(value->u.integer.fits, v->fits);
      CHECK_INT(value->u.integer.value, v->int_value);
      CHECK_STR(value->u.integer.text, v->text);
      CHECK_INT(value->u.integer.text_len, strlen(v->text));
    } else if(value->type == JSON_FLOAT) {
      if(isnan(v->float_value))
        CHECK(isnan(value->u.number.value));
      else
        CHECK(memcmp(&value->u.number.value, &v->float_value, sizeof(double)) == 0);
      CHECK_STR(value->u.number.text, v->text);
      CHECK_INT(value->u.number.text_len, strlen(v->text));
    }
    json_arena_reset(arena);
  }
  json_arena_free(arena);
}

typedef struct string_vector {
  const char *input;
  size_t len;
  const char *decoded; /* WTF-8 */
  size_t decoded_len;
  int lone_surrogate;
} string_vector;

static const string_vector string_vectors[] = {
  {"\"\"", 2, "", 0, 0},
  {"\"plain\"", 7, "plain", 5, 0},
  {"\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", 18, "\"\\/\b\f\n\r\t", 8, 0},
  {"\"\\u00e9\"", 8, "\xc3\xa9", 2, 0},
  {"\"\xc3\xa9\"", 4, "\xc3\xa9", 2, 0},
  {"\"\\ud83d\\ude00\"", 14, "\xf0\x9f\x98\x80", 4, 0},
  {"\"\\ud800\"", 8, "\xed\xa0\x80", 3, 1},
  {"\"\\udfff\"", 8, "\xed\xbf\xbf", 3, 1},
  {"\"\\ud800\\u0041\"", 14, "\xed\xa0\x80" "A", 4, 1},
  {"\"\xed\xa0\x80\"", 5, "\xed\xa0\x80", 3, 1},
  {"\"a\\u0000b\"", 10, "a\0b", 3, 0},
  {"\"\\uFFFF\"", 8, "\xef\xbf\xbf", 3, 0},
  {"\"\x7f\"", 3, "\x7f", 1, 0},
};

TEST(json_parse_strings_decode_escapes_and_surrogates)
{
  size_t i;
  json_arena *arena = json_arena_create(0);

  for(i = 0; i < sizeof(string_vectors) / sizeof(string_vectors[0]); i++) {
    const string_vector *v = &string_vectors[i];
    json_value *value = NULL;
    cl_error err = {0};

    CHECK_OK(json_parse(v->input, v->len, NULL, arena, &value, &err), &err);
    if(!value)
      continue;
    CHECK_INT(value->type, JSON_STRING);
    CHECK_MEM(value->u.string.data, value->u.string.len, v->decoded, v->decoded_len);
    CHECK_INT(value->u.string.data[value->u.string.len], 0);
    CHECK_INT(value->u.string.lone_surrogate, v->lone_surrogate);
    json_arena_reset(arena);
  }
  json_arena_free(arena);
}

TEST(json_parse_duplicate_keys_keep_first_position_and_last_value)
{
  static const char doc[] = "{\"b\": 1, \"a\": 2, \"b\": 3, \"c\": 4, \"a\": 5}";
  json_arena *arena = json_arena_create(0);
  json_value *value = NULL;
  cl_error err = {0};
  buf out = BUF_INIT;
  buf big = BUF_INIT;
  int i;

  CHECK_OK(json_parse(doc, strlen(doc), NULL, arena, &value, &err), &err);
  CHECK_OK(json_dumps(value, &out), NULL);
  CHECK_STR(out.data, "{\"b\": 3, \"a\": 5, \"c\": 4}");
  CHECK_INT(json_object_get(value, "a")->u.integer.value, 5);
  CHECK(json_object_get(value, "missing") == NULL);
  CHECK(json_object_get(json_object_get(value, "a"), "a") == NULL);

  /* Past the small-object path: 100 keys, each written twice. */
  buf_putc(&big, '{');
  for(i = 0; i < 200; i++)
    buf_printf(&big, "%s\"k%d\": %d", i ? ", " : "", i % 100, i);
  buf_putc(&big, '}');
  json_arena_reset(arena);
  CHECK_OK(json_parse(big.data, big.len, NULL, arena, &value, &err), &err);
  CHECK_INT(value->u.object.count, 100);
  CHECK_STR(value->u.object.members[7].key, "k7");
  CHECK_INT(value->u.object.members[7].value->u.integer.value, 107);
  CHECK_INT(json_object_get(value, "k99")->u.integer.value, 199);
  buf_free(&big);
  buf_free(&out);
  json_arena_free(arena);
}

TEST(json_parse_limits_depth_strings_and_memory)
{
  json_arena *arena = json_arena_create(0);
  json_value *value = NULL;
  cl_error err = {0};
  json_limits limits;
  buf doc = BUF_INIT;

  json_limits_default(&limits);
  CHECK_INT(limits.max_depth, 64);
  CHECK_INT(limits.max_string, 16 << 20);
  CHECK_INT(limits.max_value_bytes, 64 << 20);

  buf_fill(&doc, '[', 64);
  buf_fill(&doc, ']', 64);
  CHECK_OK(json_parse(doc.data, doc.len, &limits, arena, &value, &err), &err);
  buf_clear(&doc);
  buf_fill(&doc, '[', 65);
  buf_fill(&doc, ']', 65);
  CHECK_STATUS(json_parse(doc.data, doc.len, &limits, arena, &value, &err), CL_ERR_LIMIT);
  CHECK_STR(err.message, "JSON nesting deeper than 64 at byte 64");
  CHECK(value == NULL);

  limits.max_string = 8;
  CHECK_OK(json_parse("\"12345678\"", 10, &limits, arena, &value, &err), &err);
  CHECK_STATUS(json_parse("\"123456789\"", 11, &limits, arena, &value, &err), CL_ERR_LIMIT);
  CHECK_STR(err.message, "JSON string longer than 8 bytes at byte 0");
  CHECK_STATUS(json_parse("[\"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\"]", 34, &limits, arena,
                          &value, &err), CL_ERR_LIMIT);
  CHECK_STR(err.message, "JSON string longer than 8 bytes at byte 1");
  CHECK_STATUS(json_parse("1234567890", 10, &limits, arena, &value, &err), CL_ERR_LIMIT);

  json_limits_default(&limits);
  limits.max_value_bytes = 1000;
  buf_clear(&doc);
  buf_putc(&doc, '[');
  buf_fill(&doc, '1', 1);
  while(doc.len < 400)
    buf_append_str(&doc, ",1");
  buf_putc(&doc, ']');
  CHECK_STATUS(json_parse(doc.data, doc.len, &limits, arena, &value, &err), CL_ERR_LIMIT);
  CHECK(strstr(err.message, "more than 1000 bytes") != NULL);

  /* The arena's own cap applies too. */
  json_arena_free(arena);
  arena = json_arena_create(512);
  json_limits_default(&limits);
  CHECK_STATUS(json_parse(doc.data, doc.len, &limits, arena, &value, &err), CL_ERR_LIMIT);
  json_arena_reset(arena);
  CHECK_OK(json_parse("[1, 2]", 6, &limits, arena, &value, &err), &err);
  buf_free(&doc);
  json_arena_free(arena);
}

TEST(json_parse_text_is_not_read_past_len)
{
  /* Numbers and literals at the very end must not look past len. */
  static const char doc[] = "12345true";
  json_arena *arena = json_arena_create(0);
  json_value *value = NULL;
  cl_error err = {0};

  CHECK_OK(json_parse(doc, 5, NULL, arena, &value, &err), &err);
  CHECK_INT(value->u.integer.value, 12345);
  CHECK_OK(json_parse(doc + 5, 4, NULL, arena, &value, &err), &err);
  CHECK_INT(value->type, JSON_BOOL);
  CHECK_STATUS(json_parse(doc + 5, 3, NULL, arena, &value, &err), CL_ERR_FORMAT);
  CHECK_OK(json_parse("1.5e3x", 5, NULL, arena, &value, &err), &err);
  CHECK_STR(value->u.number.text, "1500.0");
  json_arena_free(arena);
}

TEST(json_parse_string_scan_stops_at_every_special_byte)
{
  /* The string scanner reads eight bytes at a time: put each byte value at
   * each position of a word and around it. */
  json_arena *arena = json_arena_create(0);
  char doc[32], expected[128];
  int byte;
  size_t at;

  for(byte = 1; byte < 256; byte++) {
    for(at = 0; at < 18; at++) {
      json_value *value = NULL;
      cl_error err = {0};
      cl_status status;

      memset(doc, 'a', 20);
      doc[0] = '"';
      doc[1 + at] = (char)byte;
      doc[19] = '"';
      status = json_parse(doc, 20, NULL, arena, &value, &err);
      expected[0] = '\0';
      if(byte == '"')
        snprintf(expected, sizeof(expected), "Extra data: line 1 column %zu (char %zu)", at + 3,
                 at + 2);
      else if(byte == '\\' && at == 17) /* escapes the closing quote */
        snprintf(expected, sizeof(expected),
                 "Unterminated string starting at: line 1 column 1 (char 0)");
      else if(byte == '\\')
        snprintf(expected, sizeof(expected), "Invalid \\escape: line 1 column %zu (char %zu)",
                 at + 2, at + 1);
      else if(byte < 0x20)
        snprintf(expected, sizeof(expected),
                 "Invalid control character at: line 1 column %zu (char %zu)", at + 2, at + 1);
      else if(byte >= 0x80)
        snprintf(expected, sizeof(expected), "'utf-8' codec can't decode byte 0x%02x in "
                 "position %zu: %s", byte, at + 1,
                 byte >= 0xc2 && byte <= 0xf4 ? "invalid continuation byte"
                                              : "invalid start byte");
      if(expected[0]) {
        if(status != CL_ERR_FORMAT || strcmp(err.message, expected))
          unit_fail(__FILE__, __LINE__, "byte 0x%02x at %zu: %s \"%s\"", byte, at,
                    cl_status_name(status), err.message);
      } else if(status || value->u.string.len != 18 ||
                value->u.string.data[at] != (char)byte) {
        unit_fail(__FILE__, __LINE__, "byte 0x%02x at %zu not kept", byte, at);
      }
      json_arena_reset(arena);
    }
  }
  json_arena_free(arena);
}

/* The writer against Python: float repr and json.dumps vectors printed by
 * CPython (repr(x) and json.dumps(x) for the same double). */
#include <math.h>
#include <string.h>

#include "json/json.h"
#include "unit.h"

typedef struct float_vector {
  uint64_t bits;
  const char *repr;  /* repr(x) */
  const char *dumps; /* json.dumps(x) */
} float_vector;

static const float_vector float_vectors[] = {
  {0x0000000000000000ull, "0.0", "0.0"},
  {0x8000000000000000ull, "-0.0", "-0.0"},
  {0x3ff0000000000000ull, "1.0", "1.0"},
  {0x402e000000000000ull, "15.0", "15.0"},
  {0x3fb999999999999aull, "0.1", "0.1"},
  {0x3fd3333333333334ull, "0.30000000000000004", "0.30000000000000004"},
  {0x3ee4f8b588e368f1ull, "1e-05", "1e-05"},
  {0x3f1a36e2eb1c432dull, "0.0001", "0.0001"},
  {0x3f202c9dedbc309dull, "0.0001234", "0.0001234"},
  {0x4341c37937e08000ull, "1e+16", "1e+16"},
  {0x430c6bf526340000ull, "1000000000000000.0", "1000000000000000.0"},
  {0x4341c37937e07fffull, "9999999999999998.0", "9999999999999998.0"},
  {0x42dc12218377de40ull, "123456789012345.0", "123456789012345.0"},
  {0x43118b54f22aeb00ull, "1234567890123456.0", "1234567890123456.0"},
  {0x7e41eb2d66005835ull, "1.5e+300", "1.5e+300"},
  {0x4480f0cf064dd592ull, "1e+22", "1e+22"},
  {0x44b52d02c7e14af6ull, "1e+23", "1e+23"},
  {0x0000000000000001ull, "5e-324", "5e-324"},
  {0x0010000000000000ull, "2.2250738585072014e-308", "2.2250738585072014e-308"},
  {0x7fefffffffffffffull, "1.7976931348623157e+308", "1.7976931348623157e+308"},
  {0x3e7ad7f29abcaf48ull, "1e-07", "1e-07"},
  {0xbe7ad7f29abcaf48ull, "-1e-07", "-1e-07"},
  {0x0000000000000003ull, "1.5e-323", "1.5e-323"},
  {0x43b0000000000000ull, "1.152921504606847e+18", "1.152921504606847e+18"},
  {0x3eb0000000000000ull, "9.5367431640625e-07", "9.5367431640625e-07"},
  {0x41d6c5c2f3600000ull, "1528237005.5", "1528237005.5"},
  {0x4275a632929cd000ull, "1487722326477.0", "1487722326477.0"},
  {0x400921fb54442d18ull, "3.141592653589793", "3.141592653589793"},
  {0xc004000000000000ull, "-2.5", "-2.5"},
  {0x4059000000000000ull, "100.0", "100.0"},
  {0x54b249ad2594c37dull, "1e+100", "1e+100"},
  {0x405edd2f1a9fbe77ull, "123.456", "123.456"},
  {0x3fd3333333333333ull, "0.3", "0.3"},
  {0x7fe0000000000000ull, "8.98846567431158e+307", "8.98846567431158e+307"},
  {0x7ff0000000000000ull, "inf", "Infinity"},
  {0xfff0000000000000ull, "-inf", "-Infinity"},
  {0x7ff8000000000000ull, "nan", "NaN"},
  {0x7953a6f252e6b438ull, "2.7216092808335446e+276", "2.7216092808335446e+276"},
  {0x32899387269e0d37ull, "3.035766360112293e-65", "3.035766360112293e-65"},
  {0x062e3fe8a6a3a450ull, "6.665830898196862e-279", "6.665830898196862e-279"},
  {0x691f8412128b2f33ull, "2.3558459513947972e+198", "2.3558459513947972e+198"},
  {0x0c0c7408892f902bull, "1.2418970069620836e-250", "1.2418970069620836e-250"},
  {0x4a98cc2e5d9dc9f8ull, "2.319469273766672e+51", "2.319469273766672e+51"},
  {0x74712eca0ed90475ull, "7.873531487934826e+252", "7.873531487934826e+252"},
  {0x1b7b3ae681e74ef5ull, "2.6878898238430084e-176", "2.6878898238430084e-176"},
  {0x0b0051ad099950d8ull, "1.086847153644306e-255", "1.086847153644306e-255"},
  {0x3586aa4d6f03675aull, "7.572358053192185e-51", "7.572358053192185e-51"},
  {0x1ece0b9211e20b8full, "2.6713290337373985e-160", "2.6713290337373985e-160"},
  {0x4688b7671738f7d9ull, "6.266356115726005e+31", "6.266356115726005e+31"},
  {0x0790eedb6cad4a26ull, "3.13010388235547e-272", "3.13010388235547e-272"},
  {0x4860c967d3ac94afull, "4.569785438180719e+40", "4.569785438180719e+40"},
  {0x7946082e1fb17c23ull, "1.5255942855744936e+276", "1.5255942855744936e+276"},
  {0x50b8599c39263059ull, "7.218027539944233e+80", "7.218027539944233e+80"},
  {0x4a9fa478a09f76b5ull, "2.959712980820823e+51", "2.959712980820823e+51"},
  {0x07eb1878f29d0da9ull, "1.6027751755097824e-270", "1.6027751755097824e-270"},
  {0x4af3057a93bd04cfull, "1.1386802021941775e+53", "1.1386802021941775e+53"},
  {0x0658f14e658cda14ull, "4.397094309717868e-278", "4.397094309717868e-278"},
};

TEST(json_format_python_float_matches_repr)
{
  size_t i;

  for(i = 0; i < sizeof(float_vectors) / sizeof(float_vectors[0]); i++) {
    const float_vector *v = &float_vectors[i];
    char text[32];
    double value;
    size_t len;
    buf out = BUF_INIT;

    memcpy(&value, &v->bits, sizeof(value));
    len = json_format_python_float(value, text, sizeof(text));
    CHECK_STR(text, v->repr);
    CHECK_INT(len, strlen(v->repr));
    CHECK_OK(json_write_float(&out, value), NULL);
    CHECK_STR(out.data, v->dumps);
    buf_free(&out);
  }
}

TEST(json_format_python_float_truncates_to_cap)
{
  char text[4];
  CHECK_INT(json_format_python_float(0.125, text, sizeof(text)), 5);
  CHECK_STR(text, "0.1");
}

typedef struct string_vector {
  const char *input;
  size_t len;
  int ensure_ascii;
  const char *expected;
} string_vector;

static const string_vector string_vectors[] = {
  {"", 0, 1, "\"\""},
  {"plain text", 10, 1, "\"plain text\""},
  {"\"\\/", 3, 1, "\"\\\"\\\\/\""},
  {"\b\f\n\r\t", 5, 1, "\"\\b\\f\\n\\r\\t\""},
  {"\x00\x01\x1f", 3, 1, "\"\\u0000\\u0001\\u001f\""},
  {"\x7f", 1, 1, "\"\\u007f\""},
  {"\x7f", 1, 0, "\"\x7f\""},
  {"\xc3\xa9", 2, 1, "\"\\u00e9\""},
  {"\xc3\xa9", 2, 0, "\"\xc3\xa9\""},
  {"\xf0\x9f\x98\x80", 4, 1, "\"\\ud83d\\ude00\""},
  {"\xf0\x9f\x98\x80", 4, 0, "\"\xf0\x9f\x98\x80\""},
  {"\xe2\x80\xa8", 3, 1, "\"\\u2028\""},
  {"\xe4\xb8\xad", 3, 1, "\"\\u4e2d\""},
  {"\xef\xbf\xbf", 3, 1, "\"\\uffff\""},
  /* Lone surrogates (WTF-8) have no UTF-8 form: escaped either way. */
  {"\xed\xa0\x80", 3, 1, "\"\\ud800\""},
  {"\xed\xbf\xbf", 3, 0, "\"\\udfff\""},
  /* Bytes that are not UTF-8 become U+FFFD. */
  {"a\xff" "b", 3, 1, "\"a\\ufffdb\""},
  {"a\xff" "b", 3, 0, "\"a\xef\xbf\xbd" "b\""},
  {"\xc3", 1, 1, "\"\\ufffd\""},
  {"\xe0\x80\x80", 3, 1, "\"\\ufffd\\ufffd\\ufffd\""},
  {"\xf4\x90\x80\x80", 4, 0, "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""},
  {"a\0b", 3, 0, "\"a\\u0000b\""},
};

TEST(json_write_string_matches_dumps_escapes)
{
  size_t i;

  for(i = 0; i < sizeof(string_vectors) / sizeof(string_vectors[0]); i++) {
    const string_vector *v = &string_vectors[i];
    buf out = BUF_INIT;
    CHECK_OK(json_write_string(&out, v->input, v->len, v->ensure_ascii), NULL);
    if(!out.data || strcmp(out.data, v->expected))
      unit_fail(__FILE__, __LINE__, "vector %zu: \"%s\", expected \"%s\"", i,
                out.data ? out.data : "", v->expected);
    buf_free(&out);
  }
}

TEST(json_dumps_of_built_values)
{
  /* Values that other modules build by hand: an int without text, nested
   * containers, every scalar; output as json.dumps([...]) prints it. */
  json_value items[8], *array_items[7], nested, *nested_items[1];
  json_member members[2];
  json_value object;
  buf out = BUF_INIT;

  memset(items, 0, sizeof(items));
  items[0].type = JSON_NULL;
  items[1].type = JSON_BOOL;
  items[1].u.boolean = 1;
  items[2].type = JSON_BOOL;
  items[3].type = JSON_INT;
  items[3].u.integer.value = -42;
  items[3].u.integer.fits = 1;
  items[4].type = JSON_FLOAT;
  items[4].u.number.value = 1e16;
  items[5].type = JSON_STRING;
  items[5].u.string.data = "caf\xc3\xa9";
  items[5].u.string.len = 5;
  items[6].type = JSON_FLOAT;
  items[6].u.number.value = -INFINITY;
  memset(&nested, 0, sizeof(nested));
  nested.type = JSON_ARRAY;
  nested_items[0] = &items[0];
  nested.u.array.items = nested_items;
  nested.u.array.count = 0;
  members[0].key = "z";
  members[0].key_len = 1;
  members[0].value = &nested;
  members[1].key = "\xf0\x9f\x98\x80";
  members[1].key_len = 4;
  members[1].value = &items[3];
  memset(&object, 0, sizeof(object));
  object.type = JSON_OBJECT;
  object.u.object.members = members;
  object.u.object.count = 2;
  for(size_t i = 0; i < 7; i++)
    array_items[i] = &items[i];
  items[7].type = JSON_ARRAY;
  items[7].u.array.items = array_items;
  items[7].u.array.count = 7;

  CHECK_OK(json_dumps(&items[7], &out), NULL);
  CHECK_STR(out.data, "[null, true, false, -42, 1e+16, \"caf\\u00e9\", -Infinity]");
  buf_clear(&out);
  CHECK_OK(json_dumps(&object, &out), NULL);
  CHECK_STR(out.data, "{\"z\": [], \"\\ud83d\\ude00\": -42}");
  buf_clear(&out);
  object.u.object.count = 0;
  CHECK_OK(json_dumps(&object, &out), NULL);
  CHECK_STR(out.data, "{}");
  buf_free(&out);
}

TEST(json_dumps_contacts_phone_numbers_vector)
{
  /* legacy.md 8.3: phone_numbers re-serialised by json.dumps. */
  static const char raw[] =
    "[{\"item_id\":417151,\"normalized_phone_number\":\"+254729477015\","
    "\"phone_number\":\"(072) 947-7015\"},{\"item_id\":417166,"
    "\"normalized_phone_number\":\"+254729477015\",\"phone_number\":\"0729477015\"}]";
  static const char expected[] =
    "[{\"item_id\": 417151, \"normalized_phone_number\": \"+254729477015\", "
    "\"phone_number\": \"(072) 947-7015\"}, {\"item_id\": 417166, "
    "\"normalized_phone_number\": \"+254729477015\", \"phone_number\": \"0729477015\"}]";
  json_arena *arena = json_arena_create(0);
  json_value *value = NULL;
  cl_error err = {0};
  buf out = BUF_INIT;

  CHECK_OK(json_parse(raw, strlen(raw), NULL, arena, &value, &err), &err);
  CHECK_OK(json_dumps(value, &out), NULL);
  CHECK_STR(out.data, expected);
  buf_free(&out);
  json_arena_free(arena);
}

TEST(json_dumps_reports_a_full_buffer)
{
  buf out;
  json_value value;

  buf_init(&out, 4);
  memset(&value, 0, sizeof(value));
  value.type = JSON_STRING;
  value.u.string.data = "too long";
  value.u.string.len = 8;
  CHECK_STATUS(json_dumps(&value, &out), CL_ERR_LIMIT);
  buf_free(&out);
}

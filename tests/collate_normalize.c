/* Python str.lower(), str.isspace() and re's \w as the legacy address
 * normaliser and package-name rule used them (expected values from CPython). */
#include <stdlib.h>

#include "collate/normalize.h"
#include "unit.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
  const char *input;
  const char *address;       /* re.sub(r"[\W_]", "", "".join(s.lower().split())) */
  const char *package_name;  /* "".join(s.lower().split()) */
} vectors[] = {
  {"+075 40269 68", "0754026968", "+0754026968"},
  {"App. Name", "appname", "app.name"},
  {"Hello_World-1", "helloworld1", "hello_world-1"},
  {"", "", ""},
  {" \t\n\v\f\r\x1c\x1d\x1e\x1f", "", ""},
  {"\xe0\xa5\xa6\xe0\xa5\xa7\xe0\xa5\xa8", "\xe0\xa5\xa6\xe0\xa5\xa7\xe0\xa5\xa8",
   "\xe0\xa5\xa6\xe0\xa5\xa7\xe0\xa5\xa8"},                            /* Devanagari digits */
  {"\xd9\xa0\xd9\xa1\xd9\xa2", "\xd9\xa0\xd9\xa1\xd9\xa2", "\xd9\xa0\xd9\xa1\xd9\xa2"}, /* Arabic-Indic */
  {"e\xcc\x81", "e", "e\xcc\x81"},                                     /* combining acute removed */
  {"\xc3\x89", "\xc3\xa9", "\xc3\xa9"},                                /* É */
  {"\xc4\xb0", "i", "i\xcc\x87"},                                      /* İ -> i + U+0307 */
  {"\xce\x9f\xce\x94\xce\x9f\xce\xa3", "\xce\xbf\xce\xb4\xce\xbf\xcf\x82",
   "\xce\xbf\xce\xb4\xce\xbf\xcf\x82"},                                /* ΟΔΟΣ: final sigma */
  {"\xce\xa3\xce\x91", "\xcf\x83\xce\xb1", "\xcf\x83\xce\xb1"},        /* ΣΑ */
  {"\xce\xa3", "\xcf\x83", "\xcf\x83"},                                /* Σ alone */
  {"\xce\x91\xce\xa3.\xce\x92", "\xce\xb1\xcf\x83\xce\xb2", "\xce\xb1\xcf\x83.\xce\xb2"}, /* ΑΣ.Β */
  {"\xce\x91\xce\xa3 \xce\x92", "\xce\xb1\xcf\x82\xce\xb2", "\xce\xb1\xcf\x82\xce\xb2"}, /* ΑΣ Β */
  {"\xce\x91\xce\xa3.", "\xce\xb1\xcf\x82", "\xce\xb1\xcf\x82."},      /* ΑΣ. */
  {"x\xcd\x85\xce\xa3", "x\xcf\x82", "x\xcd\x85\xcf\x82"},             /* x U+0345 Σ */
  {"a_b", "ab", "a_b"},
  {"\xe2\x85\xab", "\xe2\x85\xbb", "\xe2\x85\xbb"},                    /* Ⅻ (Nl) */
  {"\xc2\xbd", "\xc2\xbd", "\xc2\xbd"},                                /* ½ (No) */
  {"Stra\xc3\x9f" "e", "stra\xc3\x9f" "e", "stra\xc3\x9f" "e"},
  {"\xc7\x85", "\xc7\x86", "\xc7\x86"},                                /* ǅ titlecase */
  {"\xe2\x80\x83" "ab\xc2\xa0" "cd\xe3\x80\x80", "abcd", "abcd"},      /* Unicode spaces */
  {"\xef\xac\x81", "\xef\xac\x81", "\xef\xac\x81"},                    /* ﬁ has no lowercase */
  {"\xf0\x9f\x98\x80+1", "1", "\xf0\x9f\x98\x80+1"},                   /* emoji is not \w */
  {"a\xed\xa0\x80" "b", "ab", "a\xed\xa0\x80" "b"},                    /* lone surrogate kept by lower() */
  {"(072) 947-7015", "0729477015", "(072)947-7015"},
  {"\xe2\x80\x8b" "1", "1", "\xe2\x80\x8b" "1"},                       /* ZWSP: Cf, not a space */
};

TEST(collate_normalize_matches_python)
{
  buf out = BUF_INIT;
  for(size_t k = 0; k < COUNT(vectors); k++) {
    size_t len = strlen(vectors[k].input);
    buf_clear(&out);
    CHECK_INT(normalize_address(&out, vectors[k].input, len), CL_OK);
    if(strcmp(out.data ? out.data : "", vectors[k].address))
      unit_fail(__FILE__, __LINE__, "address vectors[%zu] = \"%s\", expected \"%s\"", k,
                out.data, vectors[k].address);
    buf_clear(&out);
    CHECK_INT(normalize_lower_strip_space(&out, vectors[k].input, len), CL_OK);
    if(strcmp(out.data ? out.data : "", vectors[k].package_name))
      unit_fail(__FILE__, __LINE__, "package vectors[%zu] = \"%s\", expected \"%s\"", k,
                out.data, vectors[k].package_name);
  }
  buf_free(&out);
}

TEST(collate_normalize_many_sigmas_stay_linear)
{
  /* "ΑΣΣ...Σ": every sigma but the last is followed by a cased letter. */
  size_t count = 200000, len = 2 + 2 * count;
  char *text = malloc(len);
  buf out = BUF_INIT;
  memcpy(text, "\xce\x91", 2);
  for(size_t k = 0; k < count; k++)
    memcpy(text + 2 + 2 * k, "\xce\xa3", 2);
  CHECK_INT(normalize_address(&out, text, len), CL_OK);
  CHECK_INT(out.len, len);
  CHECK(!memcmp(out.data + 2, "\xcf\x83", 2));
  CHECK(!memcmp(out.data + len - 2, "\xcf\x82", 2));
  buf_free(&out);
  free(text);
}

TEST(collate_normalize_space_and_digits)
{
  static const struct {
    int32_t cp;
    int space, digit;
  } cps[] = {
    {' ', 1, -1},     {'\t', 1, -1},    {0x1c, 1, -1},   {0x85, 1, -1},   {0xa0, 1, -1},
    {0x1680, 1, -1},  {0x2000, 1, -1},  {0x200a, 1, -1}, {0x200b, 0, -1}, {0x2028, 1, -1},
    {0x202f, 1, -1},  {0x205f, 1, -1},  {0x3000, 1, -1}, {0xfeff, 0, -1}, {'0', 0, 0},
    {'9', 0, 9},      {0x660, 0, 0},    {0x669, 0, 9},   {0x96f, 0, 9},   {0xff15, 0, 5},
    {0x1d7ce, 0, 0},  {0x1d7d8, 0, 0},  {0x1d7ff, 0, 9}, {0xb2, 0, -1},   {'a', 0, -1},
  };
  for(size_t k = 0; k < COUNT(cps); k++) {
    if(normalize_is_space(cps[k].cp) != cps[k].space)
      unit_fail(__FILE__, __LINE__, "isspace(U+%04X) != %d", (unsigned)cps[k].cp, cps[k].space);
    if(normalize_decimal_value(cps[k].cp) != cps[k].digit)
      unit_fail(__FILE__, __LINE__, "decimal(U+%04X) = %d, expected %d", (unsigned)cps[k].cp,
                normalize_decimal_value(cps[k].cp), cps[k].digit);
  }
}

TEST(collate_normalize_decodes_wtf8)
{
  static const struct {
    const char *bytes;
    int32_t first;
    size_t advance;
  } sequences[] = {
    {"a", 'a', 1},           {"\xc3\xa9", 0xe9, 2},   {"\xe2\x82\xac", 0x20ac, 3},
    {"\xf0\x9f\x98\x80", 0x1f600, 4}, {"\xed\xa0\x80", 0xd800, 3}, {"\xc0\xaf", -1, 1},
    {"\xe0\x80\xaf", -1, 1}, {"\xff", -1, 1},         {"\xe2\x82", -1, 1},
  };
  for(size_t k = 0; k < COUNT(sequences); k++) {
    size_t pos = 0;
    int32_t cp = normalize_next(sequences[k].bytes, strlen(sequences[k].bytes), &pos);
    CHECK_INT(cp, sequences[k].first);
    CHECK_INT(pos, sequences[k].advance);
  }
}

#include "normalize.h"

#include <string.h>
#include <utf8proc.h>

int32_t normalize_next(const char *s, size_t len, size_t *pos)
{
  const unsigned char *p = (const unsigned char *)s + *pos;
  size_t left = len - *pos;
  int32_t cp;
  size_t need;

  if(p[0] < 0x80) {
    *pos += 1;
    return p[0];
  }
  if(p[0] >= 0xc2 && p[0] <= 0xdf) {
    need = 2;
    cp = p[0] & 0x1f;
  }
  else if(p[0] >= 0xe0 && p[0] <= 0xef) {
    need = 3;
    cp = p[0] & 0x0f;
  }
  else if(p[0] >= 0xf0 && p[0] <= 0xf4) {
    need = 4;
    cp = p[0] & 0x07;
  }
  else {
    *pos += 1;
    return -1;
  }
  if(left < need) {
    *pos += 1;
    return -1;
  }
  for(size_t k = 1; k < need; k++) {
    if((p[k] & 0xc0) != 0x80) {
      *pos += 1;
      return -1;
    }
    cp = (cp << 6) | (p[k] & 0x3f);
  }
  /* Overlong forms and values past U+10FFFF are not well-formed; surrogates
   * are, in WTF-8, because the JSON reader stores lone ones that way. */
  if((need == 3 && cp < 0x800) || (need == 4 && (cp < 0x10000 || cp > 0x10ffff))) {
    *pos += 1;
    return -1;
  }
  *pos += need;
  return cp;
}

cl_status normalize_put_cp(buf *out, int32_t cp)
{
  char b[4];
  size_t n;
  if(cp < 0x80) {
    b[0] = (char)cp;
    n = 1;
  }
  else if(cp < 0x800) {
    b[0] = (char)(0xc0 | (cp >> 6));
    b[1] = (char)(0x80 | (cp & 0x3f));
    n = 2;
  }
  else if(cp < 0x10000) {
    b[0] = (char)(0xe0 | (cp >> 12));
    b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
    b[2] = (char)(0x80 | (cp & 0x3f));
    n = 3;
  }
  else {
    b[0] = (char)(0xf0 | (cp >> 18));
    b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    b[3] = (char)(0x80 | (cp & 0x3f));
    n = 4;
  }
  return buf_append(out, b, n);
}

int normalize_is_space(int32_t cp)
{
  /* Python's isspace(): bidirectional class WS, B or S, or category Zs. */
  if(cp < 0x80)
    return (cp >= 0x09 && cp <= 0x0d) || (cp >= 0x1c && cp <= 0x20);
  return cp == 0x85 || cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) ||
         cp == 0x2028 || cp == 0x2029 || cp == 0x202f || cp == 0x205f || cp == 0x3000;
}

static int category_of(int32_t cp)
{
  return cp < 0 ? UTF8PROC_CATEGORY_CN : (int)utf8proc_category(cp);
}

int normalize_decimal_value(int32_t cp)
{
  int32_t first = cp;
  if(cp >= '0' && cp <= '9')
    return cp - '0';
  if(cp < 0x80 || category_of(cp) != UTF8PROC_CATEGORY_ND)
    return -1;
  /* Unicode guarantees Nd digits come in contiguous runs of ten, zero to
   * nine, so the distance from the start of the run gives the value. */
  while(first > 0 && category_of(first - 1) == UTF8PROC_CATEGORY_ND)
    first--;
  return (int)((cp - first) % 10);
}

static int is_word(int32_t cp)
{
  switch(category_of(cp)) {
  case UTF8PROC_CATEGORY_LU:
  case UTF8PROC_CATEGORY_LL:
  case UTF8PROC_CATEGORY_LT:
  case UTF8PROC_CATEGORY_LM:
  case UTF8PROC_CATEGORY_LO:
  case UTF8PROC_CATEGORY_ND:
  case UTF8PROC_CATEGORY_NL:
  case UTF8PROC_CATEGORY_NO:
    return 1;
  default:
    return 0;
  }
}

/* Other_Lowercase and Other_Uppercase: letters by case though not by
 * category, which Python's final-sigma test counts as cased. */
static int is_other_cased(int32_t cp)
{
  static const int32_t ranges[][2] = {
    {0x00aa, 0x00aa}, {0x00ba, 0x00ba}, {0x02b0, 0x02b8}, {0x02c0, 0x02c1},
    {0x02e0, 0x02e4}, {0x0345, 0x0345}, {0x037a, 0x037a}, {0x1d2c, 0x1d6a},
    {0x1d78, 0x1d78}, {0x1d9b, 0x1dbf}, {0x2071, 0x2071}, {0x207f, 0x207f},
    {0x2090, 0x209c}, {0x2160, 0x217f}, {0x24b6, 0x24e9}, {0x2c7c, 0x2c7d},
    {0xa69c, 0xa69d}, {0xa770, 0xa770}, {0xa7f8, 0xa7f9}, {0xab5c, 0xab5f},
    {0x1f130, 0x1f149}, {0x1f150, 0x1f169}, {0x1f170, 0x1f189},
  };
  for(size_t k = 0; k < sizeof(ranges) / sizeof(ranges[0]); k++)
    if(cp >= ranges[k][0] && cp <= ranges[k][1])
      return 1;
  return 0;
}

static int is_cased(int32_t cp)
{
  int cat = category_of(cp);
  return cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LL ||
         cat == UTF8PROC_CATEGORY_LT || is_other_cased(cp);
}

static int is_case_ignorable(int32_t cp)
{
  switch(cp) {
  /* Word_Break MidLetter, MidNumLet and Single_Quote. */
  case 0x27: case 0x2e: case 0x3a: case 0xb7: case 0x387: case 0x55f: case 0x5f4:
  case 0x2018: case 0x2019: case 0x2024: case 0x2027: case 0xfe13: case 0xfe52:
  case 0xfe55: case 0xff07: case 0xff0e: case 0xff1a:
    return 1;
  default:
    break;
  }
  switch(category_of(cp)) {
  case UTF8PROC_CATEGORY_MN:
  case UTF8PROC_CATEGORY_ME:
  case UTF8PROC_CATEGORY_CF:
  case UTF8PROC_CATEGORY_LM:
  case UTF8PROC_CATEGORY_SK:
    return 1;
  default:
    return 0;
  }
}

/* The code point that ends just before s[end], stepping *start back to
 * where it begins; a malformed tail reads as the single byte before end. */
static int32_t previous_cp(const char *s, size_t end, size_t *start)
{
  size_t pos = end - 1, probe;
  int32_t cp;
  while(pos > 0 && end - pos < 4 && ((unsigned char)s[pos] & 0xc0) == 0x80)
    pos--;
  probe = pos;
  cp = normalize_next(s, end, &probe);
  if(probe != end) {
    *start = end - 1;
    return -1;
  }
  *start = pos;
  return cp;
}

/* CPython's handle_capital_sigma: U+03A3 lowers to final sigma when a cased
 * letter precedes it and none follows, skipping case-ignorable characters.
 * Both scans stop at the first other character, so a text of many sigmas
 * stays linear. */
static int32_t lower_sigma(const char *s, size_t len, size_t start, size_t end)
{
  int32_t before = -1, after = -1;
  size_t pos = start;

  while(pos > 0) {
    int32_t cp = previous_cp(s, pos, &pos);
    if(!is_case_ignorable(cp)) {
      before = cp;
      break;
    }
  }
  if(before < 0 || !is_cased(before))
    return 0x3c3;
  pos = end;
  while(pos < len) {
    int32_t cp = normalize_next(s, len, &pos);
    if(!is_case_ignorable(cp)) {
      after = cp;
      break;
    }
  }
  return after >= 0 && is_cased(after) ? 0x3c3 : 0x3c2;
}

static int is_ascii(const char *s, size_t len)
{
  size_t k = 0;
  uint64_t high = 0;
  /* Eight bytes at a time: every SMS address and package name passes here. */
  for(; len - k >= 8; k += 8) {
    uint64_t word;
    memcpy(&word, s + k, 8);
    high |= word;
  }
  for(; k < len; k++)
    high |= (unsigned char)s[k];
  return !(high & UINT64_C(0x8080808080808080));
}

static char ascii_lower(char c)
{
  return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

/* Lowercase each code point as Python's full mapping does and drop
 * whitespace; with address set, also drop everything that is not a
 * letter or digit (underscore and lone surrogates included). */
static cl_status lower_filtered(buf *out, const char *s, size_t len, int address)
{
  size_t pos = 0;
  while(pos < len) {
    size_t start = pos;
    int32_t cp = normalize_next(s, len, &pos);
    int32_t lowered[2];
    size_t count = 1;

    if(cp < 0) {
      /* Only reachable with bytes the JSON reader never produces. */
      if(!address)
        buf_append(out, s + start, pos - start);
      continue;
    }
    if(cp == 0x130) {
      lowered[0] = 'i';
      lowered[1] = 0x307;
      count = 2;
    }
    else if(cp == 0x3a3)
      lowered[0] = lower_sigma(s, len, start, pos);
    else if(cp >= 0xd800 && cp <= 0xdfff)
      lowered[0] = cp;
    else
      lowered[0] = utf8proc_tolower(cp);
    for(size_t k = 0; k < count; k++) {
      int32_t c = lowered[k];
      if(normalize_is_space(c))
        continue;
      if(address && (c == '_' || !is_word(c) || (c >= 0xd800 && c <= 0xdfff)))
        continue;
      normalize_put_cp(out, c);
    }
  }
  return buf_status(out);
}

/* The ASCII members of Python's str.isspace(): \t..\r and the
 * file/group/record/unit separators \x1c..\x1f plus space. */
static int ascii_is_not_space(char c)
{
  return !((c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20));
}

static int ascii_is_lower_alnum(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* ASCII-only input needs no case tables: lowercase byte by byte and keep
 * the lowercased bytes that are letters or digits (address) or that are
 * not whitespace (otherwise). */
static cl_status lower_ascii_filtered(buf *out, const char *s, size_t len, int address)
{
  cl_status status = buf_reserve(out, len);
  if(status)
    return status;
  for(size_t k = 0; k < len; k++) {
    char c = ascii_lower(s[k]);
    if(address ? ascii_is_lower_alnum(c) : ascii_is_not_space(c))
      out->data[out->len++] = c;
  }
  out->data[out->len] = '\0';
  return CL_OK;
}

cl_status normalize_lower_strip_space(buf *out, const char *s, size_t len)
{
  if(is_ascii(s, len))
    return lower_ascii_filtered(out, s, len, 0);
  return lower_filtered(out, s, len, 0);
}

cl_status normalize_address(buf *out, const char *s, size_t len)
{
  if(is_ascii(s, len))
    return lower_ascii_filtered(out, s, len, 1);
  return lower_filtered(out, s, len, 1);
}

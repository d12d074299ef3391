/*
 * The JSON reader: one hand-written recursive-descent parser used both for
 * whole documents in memory (json_parse) and for the elements of a streamed
 * top-level array (json_reader).
 *
 * Input sits in a window: the whole document for json_parse, or a buffer the
 * reader refills from its stream_source. Tokens other than strings are
 * rescanned from their start when they cross the window's end (they are
 * short); strings are decoded into a scratch buffer as they go, so the window
 * never has to hold one whole. Containers collect their children on shared
 * stacks and copy them into the arena when they close, so each node is
 * allocated exactly once.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "core/mem.h"
#include "core/url.h"
#include "json/arena.h"
#include "json/json.h"

#define READ_CHUNK ((size_t)64 * 1024)
#define RAW_CHUNK ((size_t)64 * 1024)
#define WINDOW_FIRST ((size_t)4 * 1024)

typedef enum encoding {
  ENC_UTF8,
  ENC_UTF16LE,
  ENC_UTF16BE,
  ENC_UTF32LE,
  ENC_UTF32BE
} encoding;

typedef enum reader_state {
  READER_START,
  READER_FIRST,   /* after "[": an element or "]" */
  READER_AFTER,   /* after an element: "," or "]" */
  READER_DONE,
  READER_FAILED
} reader_state;

typedef struct parser {
  const uint8_t *data; /* the window */
  size_t len;
  size_t pos;
  uint64_t base;       /* decoded offset of data[0] */
  uint64_t line;       /* newlines before line_start, for messages */
  uint64_t line_start; /* decoded offset just after the last newline */
  int eof;             /* no more bytes will come into the window */
  int syntax_failed;   /* the failure is a syntax error (not codec, limit, I/O) */

  /* Streaming only. */
  stream_source source;
  uint8_t *window;
  size_t window_cap;
  size_t window_limit;
  encoding enc;
  const char *codec;   /* Python's codec name, for messages */
  uint8_t *raw;        /* undecoded UTF-16/32 bytes */
  size_t raw_len;
  size_t raw_pos;
  int raw_eof;
  uint64_t raw_offset; /* input offset of raw[0] */

  json_limits limits;
  json_arena *arena;
  cl_error *err;

  buf text;            /* string being decoded, number being converted */
  json_value **values; /* children of the open arrays */
  size_t values_len;
  size_t values_cap;
  json_member *members; /* children of the open objects */
  size_t members_len;
  size_t members_cap;
  uint32_t *slots;      /* duplicate-key hash table for large objects */
  size_t slots_cap;
} parser;

struct json_reader {
  parser ps;
  reader_state state;
  cl_status failure;
};

/* 1 for the bytes that end the fast scan of a string. */
static const uint8_t string_special[256] = {
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

/* Index of the first byte at or after i that ends a plain run of string
 * bytes (see string_special), or len. Sixteen (or eight) bytes at a time:
 * message bodies are most of an upload. */
static size_t scan_plain(const uint8_t *d, size_t i, size_t len)
{
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\');
  const __m128i control = _mm_set1_epi8(0x1f);
  while(len - i >= 16) {
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(d + i));
    __m128i hit = _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash));
    /* Unsigned v <= 0x1f by way of min; the sign bits are the non-ASCII. */
    hit = _mm_or_si128(hit, _mm_cmpeq_epi8(_mm_min_epu8(v, control), v));
    unsigned mask = (unsigned)(_mm_movemask_epi8(hit) | _mm_movemask_epi8(v));
    if(mask)
      return i + (size_t)__builtin_ctz(mask);
    i += 16;
  }
#elif defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
  while(len - i >= 8) {
    uint64_t x, quote, backslash, hit;
    memcpy(&x, d + i, 8);
    quote = x ^ (ones * '"');
    backslash = x ^ (ones * '\\');
    /* The high bit of a byte ends up set when it is a quote or backslash
     * (zero after the xor), below 0x20, or non-ASCII. Borrows only reach
     * bytes after a real hit, and the first hit is the one taken. */
    hit = ((quote - ones) & ~quote) | ((backslash - ones) & ~backslash) |
          ((x - ones * 0x20) & ~x) | x;
    hit &= highs;
    if(hit)
      return i + (size_t)(__builtin_ctzll(hit) >> 3);
    i += 8;
  }
#endif
  while(i < len && !string_special[d[i]])
    i++;
  return i;
}

static uint64_t offset_at(const parser *ps, size_t pos)
{
  return ps->base + pos;
}

/* A syntax error the way Python words it: "MSG: line L column C (char N)",
 * except that N counts bytes of (decoded) UTF-8 rather than characters. */
static cl_status syntax_error(parser *ps, const char *what, uint64_t offset)
{
  uint64_t line = ps->line + 1, column;

  /* Newlines are only consumed as whitespace, so everything up to offset
   * has been counted unless the error is further back than the last one. */
  column = offset >= ps->line_start ? offset - ps->line_start + 1 : 1;
  ps->syntax_failed = 1;
  return cl_fail(ps->err, CL_ERR_FORMAT, "%s: line %" PRIu64 " column %" PRIu64
                 " (char %" PRIu64 ")", what, line, column, offset);
}

static cl_status memory_error(parser *ps, cl_status status)
{
  if(status == CL_ERR_NOMEM)
    return cl_fail(ps->err, CL_ERR_NOMEM, "JSON: out of memory at byte %" PRIu64,
                   offset_at(ps, ps->pos));
  return cl_fail(ps->err, CL_ERR_LIMIT,
                 "JSON value needs more than %zu bytes of memory at byte %" PRIu64,
                 ps->limits.max_value_bytes, offset_at(ps, ps->pos));
}

/* ---- decoding UTF-16/32 into the window ---------------------------------- */

/* Python's message for bytes its UTF-16/32 decoder rejects. */
static cl_status codec_error(parser *ps, size_t raw_pos, size_t count, const char *reason)
{
  uint64_t at = ps->raw_offset + raw_pos;
  if(count == 1)
    return cl_fail(ps->err, CL_ERR_FORMAT, "'%s' codec can't decode byte 0x%02x in position %"
                   PRIu64 ": %s", ps->codec, ps->raw[raw_pos], at, reason);
  return cl_fail(ps->err, CL_ERR_FORMAT, "'%s' codec can't decode bytes in position %" PRIu64
                 "-%" PRIu64 ": %s", ps->codec, at, at + count - 1, reason);
}

static size_t put_utf8(uint8_t *dst, uint32_t code_point)
{
  if(code_point < 0x80) {
    dst[0] = (uint8_t)code_point;
    return 1;
  }
  if(code_point < 0x800) {
    dst[0] = (uint8_t)(0xc0 | (code_point >> 6));
    dst[1] = (uint8_t)(0x80 | (code_point & 0x3f));
    return 2;
  }
  if(code_point < 0x10000) {
    dst[0] = (uint8_t)(0xe0 | (code_point >> 12));
    dst[1] = (uint8_t)(0x80 | ((code_point >> 6) & 0x3f));
    dst[2] = (uint8_t)(0x80 | (code_point & 0x3f));
    return 3;
  }
  dst[0] = (uint8_t)(0xf0 | (code_point >> 18));
  dst[1] = (uint8_t)(0x80 | ((code_point >> 12) & 0x3f));
  dst[2] = (uint8_t)(0x80 | ((code_point >> 6) & 0x3f));
  dst[3] = (uint8_t)(0x80 | (code_point & 0x3f));
  return 4;
}

static cl_status read_raw(parser *ps)
{
  size_t got = 0;
  cl_status status;

  if(ps->raw_pos) {
    memmove(ps->raw, ps->raw + ps->raw_pos, ps->raw_len - ps->raw_pos);
    ps->raw_offset += ps->raw_pos;
    ps->raw_len -= ps->raw_pos;
    ps->raw_pos = 0;
  }
  status = ps->source.read(ps->source.ctx, ps->raw + ps->raw_len, RAW_CHUNK - ps->raw_len,
                           &got, ps->err);
  if(status)
    return status;
  if(!got)
    ps->raw_eof = 1;
  ps->raw_len += got;
  return CL_OK;
}

/* Transcode into dst (cap >= 4). Lone surrogates pass through as their
 * 3-byte forms, like Python's 'surrogatepass' error handler. */
static cl_status transcode(parser *ps, uint8_t *dst, size_t cap, size_t *produced)
{
  size_t out = 0;
  int wide = ps->enc == ENC_UTF32LE || ps->enc == ENC_UTF32BE;
  int big = ps->enc == ENC_UTF16BE || ps->enc == ENC_UTF32BE;
  cl_status status;

  while(out + 4 <= cap) {
    size_t avail = ps->raw_len - ps->raw_pos;
    const uint8_t *r;
    uint32_t unit;

    if(avail < 4 && !ps->raw_eof) {
      if(out)
        break; /* hand over what we have before blocking on more input */
      status = read_raw(ps);
      if(status)
        return status;
      continue;
    }
    if(!avail)
      break;
    r = ps->raw + ps->raw_pos;
    if(wide) {
      if(avail < 4)
        return codec_error(ps, ps->raw_pos, avail, "truncated data");
      unit = big ? (uint32_t)r[0] << 24 | (uint32_t)r[1] << 16 | (uint32_t)r[2] << 8 | r[3]
                 : (uint32_t)r[3] << 24 | (uint32_t)r[2] << 16 | (uint32_t)r[1] << 8 | r[0];
      if(unit > 0x10ffff)
        return codec_error(ps, ps->raw_pos, 4, "code point not in range(0x110000)");
      ps->raw_pos += 4;
    } else {
      if(avail < 2)
        return codec_error(ps, ps->raw_pos, avail, "truncated data");
      unit = big ? (uint32_t)r[0] << 8 | r[1] : (uint32_t)r[1] << 8 | r[0];
      ps->raw_pos += 2;
      if(unit >= 0xd800 && unit <= 0xdbff && avail >= 4) {
        uint32_t low = big ? (uint32_t)r[2] << 8 | r[3] : (uint32_t)r[3] << 8 | r[2];
        if(low >= 0xdc00 && low <= 0xdfff) {
          unit = 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00);
          ps->raw_pos += 2;
        }
      }
    }
    out += put_utf8(dst + out, unit);
  }
  *produced = out;
  return CL_OK;
}

/* ---- the window ---------------------------------------------------------- */

/* Bring more input into the window, keeping data[pos..len). *got is how
 * many bytes arrived; 0 means the input has ended. */
static cl_status fill(parser *ps, size_t *got)
{
  size_t room, n = 0;
  cl_status status;

  *got = 0;
  if(ps->eof)
    return CL_OK;
  if(ps->pos) {
    memmove(ps->window, ps->window + ps->pos, ps->len - ps->pos);
    ps->base += ps->pos;
    ps->len -= ps->pos;
    ps->pos = 0;
  }
  /* Start small (most documents are small) and grow to two reads' worth
   * once the input proves bigger; beyond that only a long token grows it. */
  if(ps->window_cap - ps->len < 4 ||
     (ps->window_cap - ps->len < READ_CHUNK && ps->window_cap < 2 * READ_CHUNK)) {
    size_t cap = ps->window_cap * 2;
    uint8_t *grown;
    if(cap > ps->window_limit)
      cap = ps->window_limit;
    if(cap - ps->len < 4)
      return cl_fail(ps->err, CL_ERR_LIMIT, "JSON token longer than %zu bytes at byte %" PRIu64,
                     ps->window_limit, offset_at(ps, 0));
    grown = realloc(ps->window, cap);
    if(!grown)
      return memory_error(ps, CL_ERR_NOMEM);
    ps->window = grown;
    ps->window_cap = cap;
  }
  ps->data = ps->window;
  room = ps->window_cap - ps->len;
  if(room > READ_CHUNK)
    room = READ_CHUNK;
  if(ps->enc == ENC_UTF8)
    status = ps->source.read(ps->source.ctx, ps->window + ps->len, room, &n, ps->err);
  else
    status = transcode(ps, ps->window + ps->len, room, &n);
  if(status)
    return status;
  if(!n)
    ps->eof = 1;
  ps->len += n;
  *got = n;
  return CL_OK;
}

/* At least n bytes from pos, unless the input ends first; returns what is there. */
static cl_status ensure(parser *ps, size_t n, size_t *avail)
{
  size_t got;
  cl_status status;

  while(ps->len - ps->pos < n && !ps->eof) {
    status = fill(ps, &got);
    if(status)
      return status;
  }
  *avail = ps->len - ps->pos;
  return CL_OK;
}

/* Skip JSON whitespace; *c is the next byte (not consumed) or -1 at the end. */
static cl_status skip_space(parser *ps, int *c)
{
  size_t got;
  cl_status status;

  for(;;) {
    const uint8_t *d = ps->data;
    size_t pos = ps->pos, len = ps->len;
    while(pos < len) {
      uint8_t ch = d[pos];
      if(ch > ' ') {
        ps->pos = pos;
        *c = ch;
        return CL_OK;
      }
      if(ch == ' ' || ch == '\t' || ch == '\r') {
        pos++;
      } else if(ch == '\n') {
        pos++;
        ps->line++;
        ps->line_start = ps->base + pos;
      } else {
        ps->pos = pos;
        *c = ch;
        return CL_OK;
      }
    }
    ps->pos = pos;
    status = fill(ps, &got);
    if(status)
      return status;
    if(!got) {
      *c = -1;
      return CL_OK;
    }
  }
}

/* skip_space for the usual compact JSON: the byte at pos when it is not
 * whitespace, without a call per token. */
static inline cl_status next_token(parser *ps, int *c)
{
  if(ps->pos < ps->len && ps->data[ps->pos] > ' ') {
    *c = ps->data[ps->pos];
    return CL_OK;
  }
  return skip_space(ps, c);
}

/* ---- UTF-8 validation ---------------------------------------------------- */

/* Length of the well-formed UTF-8 sequence at s, accepting encoded
 * surrogates like Python's 'surrogatepass'; 0 when malformed, with *prefix
 * the number of bytes that were a valid start. */
static size_t utf8_sequence(const uint8_t *s, size_t avail, size_t *prefix, int *surrogate)
{
  uint8_t c = s[0], lo = 0x80, hi = 0xbf;
  size_t need, i;

  *surrogate = 0;
  *prefix = 0;
  if(c >= 0xc2 && c <= 0xdf) {
    need = 2;
  } else if(c >= 0xe0 && c <= 0xef) {
    need = 3;
    if(c == 0xe0)
      lo = 0xa0;
  } else if(c >= 0xf0 && c <= 0xf4) {
    need = 4;
    if(c == 0xf0)
      lo = 0x90;
    if(c == 0xf4)
      hi = 0x8f;
  } else {
    return 0;
  }
  *prefix = 1;
  for(i = 1; i < need; i++) {
    if(i >= avail)
      return 0;
    if(s[i] < (i == 1 ? lo : 0x80) || s[i] > (i == 1 ? hi : 0xbf))
      return 0;
    (*prefix)++;
  }
  if(c == 0xed && s[1] >= 0xa0)
    *surrogate = 1;
  return need;
}

/* Python's message for bytes its UTF-8 decoder rejects. */
static cl_status utf8_error(parser *ps, size_t pos)
{
  size_t prefix, avail = ps->len - pos;
  int surrogate;
  uint64_t at = offset_at(ps, pos);
  const uint8_t *s = ps->data + pos;
  const char *reason;

  utf8_sequence(s, avail, &prefix, &surrogate);
  /* Python's strict decoder stops at ED A0..BF (a surrogate) and only then
   * lets 'surrogatepass' look at it, so that error names the one byte. */
  if(s[0] == 0xed && avail > 1 && s[1] >= 0xa0 && s[1] <= 0xbf)
    prefix = 1;
  if(!prefix)
    reason = "invalid start byte";
  else if(prefix >= avail)
    reason = "unexpected end of data";
  else
    reason = "invalid continuation byte";
  if(prefix > 1)
    return cl_fail(ps->err, CL_ERR_FORMAT,
                   "'utf-8' codec can't decode bytes in position %" PRIu64 "-%" PRIu64 ": %s",
                   at, at + prefix - 1, reason);
  return cl_fail(ps->err, CL_ERR_FORMAT,
                 "'utf-8' codec can't decode byte 0x%02x in position %" PRIu64 ": %s", s[0], at,
                 reason);
}

/* "Expecting value" unless the byte there starts malformed UTF-8, which
 * Python would have rejected while decoding, before parsing. */
static cl_status expecting_value(parser *ps)
{
  size_t avail, prefix;
  int surrogate;
  cl_status status;

  if(ps->pos < ps->len && ps->data[ps->pos] >= 0x80 && ps->enc == ENC_UTF8) {
    status = ensure(ps, 4, &avail);
    if(status)
      return status;
    if(!utf8_sequence(ps->data + ps->pos, avail, &prefix, &surrogate))
      return utf8_error(ps, ps->pos);
  }
  return syntax_error(ps, "Expecting value", offset_at(ps, ps->pos));
}

/* ---- values -------------------------------------------------------------- */

static cl_status new_value(parser *ps, json_type type, json_value **out)
{
  void *memory;
  cl_status status = json_arena_alloc(ps->arena, sizeof(json_value), &memory);
  if(status)
    return memory_error(ps, status);
  *out = memory;
  (*out)->type = type;
  return CL_OK;
}

static cl_status copy_text(parser *ps, const void *data, size_t len, const char **out)
{
  void *memory;
  cl_status status = json_arena_alloc(ps->arena, len + 1, &memory);
  if(status)
    return memory_error(ps, status);
  if(len)
    memcpy(memory, data, len);
  ((char *)memory)[len] = '\0';
  *out = memory;
  return CL_OK;
}

/* copy_text of bytes in the window: keys and numbers are mostly shorter
 * than 16 bytes, and when the window holds 16 from data a fixed-size copy
 * (cut at len) saves the call to memcpy that showed per token. */
static cl_status copy_window_text(parser *ps, const uint8_t *data, size_t len, const char **out)
{
  if(len < 16 && (size_t)(ps->data + ps->len - data) >= 16) {
    void *memory;
    cl_status status = json_arena_alloc(ps->arena, 16, &memory);
    if(status)
      return memory_error(ps, status);
    memcpy(memory, data, 16);
    ((char *)memory)[len] = '\0';
    *out = memory;
    return CL_OK;
  }
  return copy_text(ps, data, len, out);
}

static int hex4(const uint8_t *s, uint32_t *unit)
{
  int i, v;
  *unit = 0;
  for(i = 0; i < 4; i++) {
    v = url_hex_digit(s[i]);
    if(v < 0)
      return 0;
    *unit = *unit << 4 | (uint32_t)v;
  }
  return 1;
}

static cl_status string_too_long(parser *ps, uint64_t start)
{
  return cl_fail(ps->err, CL_ERR_LIMIT, "JSON string longer than %zu bytes at byte %" PRIu64,
                 ps->limits.max_string, start);
}

/* Decode the string whose opening quote is at pos into the arena. */
static cl_status parse_string(parser *ps, const char **out, size_t *out_len, int *lone)
{
  uint64_t start = offset_at(ps, ps->pos);
  const uint8_t *d = ps->data;
  size_t begin = ps->pos + 1, i = begin, len = ps->len, avail;
  cl_status status;

  *lone = 0;
  i = scan_plain(d, i, len);
  /* Well-formed non-ASCII text stays on the fast path; a surrogate, a
   * malformed or cut sequence is left to the decoding loop below. */
  while(i < len && d[i] >= 0x80) {
    size_t n, prefix;
    int surrogate;
    n = utf8_sequence(d + i, len - i, &prefix, &surrogate);
    if(!n || surrogate)
      break;
    i = scan_plain(d, i + n, len);
  }
  if(i < len && d[i] == '"') {
    if(i - begin > ps->limits.max_string)
      return string_too_long(ps, start);
    ps->pos = i + 1;
    *out_len = i - begin;
    return copy_window_text(ps, d + begin, i - begin, out);
  }

  /* Escapes, non-ASCII or the window's end: decode through the scratch. */
  buf_clear(&ps->text);
  buf_append(&ps->text, d + begin, i - begin);
  ps->pos = i;
  for(;;) {
    uint8_t c;

    if(buf_status(&ps->text))
      return memory_error(ps, buf_status(&ps->text));
    if(ps->text.len > ps->limits.max_string)
      return string_too_long(ps, start);
    if(ps->pos == ps->len) {
      size_t got;
      status = fill(ps, &got);
      if(status)
        return status;
      if(!got)
        return syntax_error(ps, "Unterminated string starting at", start);
    }
    d = ps->data;
    c = d[ps->pos];
    if(c == '"') {
      ps->pos++;
      *out_len = ps->text.len;
      return copy_text(ps, ps->text.data ? ps->text.data : "", ps->text.len, out);
    }
    if(c == '\\') {
      uint8_t e;
      status = ensure(ps, 2, &avail);
      if(status)
        return status;
      if(avail < 2)
        return syntax_error(ps, "Unterminated string starting at", start);
      d = ps->data;
      e = d[ps->pos + 1];
      if(e != 'u') {
        char decoded;
        switch(e) {
        case '"': decoded = '"'; break;
        case '\\': decoded = '\\'; break;
        case '/': decoded = '/'; break;
        case 'b': decoded = '\b'; break;
        case 'f': decoded = '\f'; break;
        case 'n': decoded = '\n'; break;
        case 'r': decoded = '\r'; break;
        case 't': decoded = '\t'; break;
        default:
          return syntax_error(ps, "Invalid \\escape", offset_at(ps, ps->pos));
        }
        buf_putc(&ps->text, decoded);
        ps->pos += 2;
      } else {
        uint32_t unit, low;
        uint8_t utf8[4];
        /* Python wants a character after the four digits (else the string
         * is unterminated anyway) and looks for a low surrogate escape only
         * when more than six characters follow. */
        status = ensure(ps, 13, &avail);
        if(status)
          return status;
        d = ps->data;
        if(avail < 7 || !hex4(d + ps->pos + 2, &unit))
          return syntax_error(ps, "Invalid \\uXXXX escape", offset_at(ps, ps->pos + 1));
        ps->pos += 6;
        if(unit >= 0xd800 && unit <= 0xdbff && avail >= 13 && d[ps->pos] == '\\' &&
           d[ps->pos + 1] == 'u') {
          if(!hex4(d + ps->pos + 2, &low))
            return syntax_error(ps, "Invalid \\uXXXX escape", offset_at(ps, ps->pos + 1));
          if(low >= 0xdc00 && low <= 0xdfff) {
            unit = 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00);
            ps->pos += 6;
          }
        }
        if(unit >= 0xd800 && unit <= 0xdfff)
          *lone = 1;
        buf_append(&ps->text, utf8, put_utf8(utf8, unit));
      }
    } else if(c < 0x20) {
      return syntax_error(ps, "Invalid control character at", offset_at(ps, ps->pos));
    } else if(c >= 0x80) {
      size_t n, prefix;
      int surrogate;
      status = ensure(ps, 4, &avail);
      if(status)
        return status;
      d = ps->data;
      n = utf8_sequence(d + ps->pos, avail, &prefix, &surrogate);
      if(!n)
        return utf8_error(ps, ps->pos);
      if(surrogate)
        *lone = 1;
      buf_append(&ps->text, d + ps->pos, n);
      ps->pos += n;
    }
    /* The next run of plain bytes. */
    i = scan_plain(d, ps->pos, ps->len);
    buf_append(&ps->text, d + ps->pos, i - ps->pos);
    ps->pos = i;
  }
}

/* Match a literal such as "true" at pos; 0 when it is not there. */
static cl_status match_literal(parser *ps, const char *word, size_t word_len, int *matched)
{
  size_t avail;
  cl_status status = ensure(ps, word_len, &avail);
  if(status)
    return status;
  *matched = avail >= word_len && !memcmp(ps->data + ps->pos, word, word_len);
  if(*matched)
    ps->pos += word_len;
  return CL_OK;
}

static cl_status set_float_text(parser *ps, json_value *value)
{
  char text[48];
  size_t len = json_format_python_float(value->u.number.value, text, sizeof(text));
  value->u.number.text_len = len;
  return copy_text(ps, text, len, &value->u.number.text);
}

/* A number per Python's NUMBER_RE: -?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)? */
static cl_status parse_number_general(parser *ps, json_value **out)
{
  const uint8_t *d;
  size_t k, avail;
  int is_float, incomplete;
  cl_status status;

  for(;;) {
    d = ps->data + ps->pos;
    avail = ps->len - ps->pos;
    k = 0;
    is_float = 0;
    incomplete = 0;
#define AT(i) ((i) < avail ? (int)d[i] : (incomplete = 1, -1))
    if(AT(k) == '-')
      k++;
    if(AT(k) == '0') {
      k++;
    } else if(AT(k) >= '1' && AT(k) <= '9') {
      while(AT(k) >= '0' && AT(k) <= '9')
        k++;
    } else {
      if(incomplete && !ps->eof)
        goto refill;
      return expecting_value(ps);
    }
    if(AT(k) == '.' && AT(k + 1) >= '0' && AT(k + 1) <= '9') {
      k += 2;
      while(AT(k) >= '0' && AT(k) <= '9')
        k++;
      is_float = 1;
    }
    if(AT(k) == 'e' || AT(k) == 'E') {
      size_t e = k + 1;
      if(AT(e) == '-' || AT(e) == '+')
        e++;
      if(AT(e) >= '0' && AT(e) <= '9') {
        while(AT(e) >= '0' && AT(e) <= '9')
          e++;
        k = e;
        is_float = 1;
      }
    }
#undef AT
    if(!incomplete || ps->eof)
      break;
  refill:
    if(avail > ps->limits.max_string)
      return cl_fail(ps->err, CL_ERR_LIMIT, "JSON number longer than %zu bytes at byte %" PRIu64,
                     ps->limits.max_string, offset_at(ps, ps->pos));
    {
      size_t got;
      status = fill(ps, &got);
      if(status)
        return status;
    }
  }
  if(k > ps->limits.max_string)
    return cl_fail(ps->err, CL_ERR_LIMIT, "JSON number longer than %zu bytes at byte %" PRIu64,
                   ps->limits.max_string, offset_at(ps, ps->pos));

  if(!is_float) {
    json_value *value;
    int negative = d[0] == '-';
    size_t i;
    uint64_t magnitude = 0;
    int fits = 1;

    status = new_value(ps, JSON_INT, &value);
    if(status)
      return status;
    for(i = (size_t)negative; i < k; i++) {
      unsigned digit = d[i] - '0';
      if(magnitude > (UINT64_MAX - digit) / 10) {
        fits = 0;
        break;
      }
      magnitude = magnitude * 10 + digit;
    }
    if(fits && magnitude > (negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX))
      fits = 0;
    value->u.integer.fits = fits;
    if(!fits)
      value->u.integer.value = negative ? INT64_MIN : INT64_MAX;
    else if(negative)
      value->u.integer.value = magnitude ? -(int64_t)(magnitude - 1) - 1 : 0;
    else
      value->u.integer.value = (int64_t)magnitude;
    if(negative && k == 2 && d[1] == '0') {
      value->u.integer.text = "0"; /* Python's int has no negative zero */
      value->u.integer.text_len = 1;
    } else {
      value->u.integer.text_len = k;
      status = copy_text(ps, d, k, &value->u.integer.text);
      if(status)
        return status;
    }
    ps->pos += k;
    *out = value;
    return CL_OK;
  } else {
    json_value *value;
    char small[64], *text = small;

    if(k >= sizeof(small)) {
      buf_clear(&ps->text);
      buf_append(&ps->text, d, k);
      if(buf_status(&ps->text))
        return memory_error(ps, buf_status(&ps->text));
      text = ps->text.data;
    } else {
      memcpy(small, d, k);
      small[k] = '\0';
    }
    status = new_value(ps, JSON_FLOAT, &value);
    if(status)
      return status;
    /* glibc's strtod rounds correctly and gives inf on overflow, like
     * Python's float(); the grammar check above keeps locale out of it. */
    value->u.number.value = strtod(text, NULL);
    ps->pos += k;
    *out = value;
    return set_float_text(ps, value);
  }
}

/* Ids, timestamps and counts are most numbers in an upload: an integer of
 * at most 18 digits (so it fits int64) that ends inside the window is
 * scanned and converted in one pass; everything else, including "-0",
 * leading zeros and a number cut by the window's end, takes the general
 * path above. */
static cl_status parse_number(parser *ps, json_value **out)
{
  const uint8_t *d = ps->data + ps->pos;
  size_t avail = ps->len - ps->pos, k = d[0] == '-', first = k;
  uint64_t magnitude = 0;
  json_value *value;
  cl_status status;

  if(k >= avail || d[k] < '1' || d[k] > '9')
    return parse_number_general(ps, out);
  while(k < avail && k - first < 18 && d[k] >= '0' && d[k] <= '9')
    magnitude = magnitude * 10 + (uint64_t)(d[k++] - '0');
  if(k >= avail || (d[k] >= '0' && d[k] <= '9') || d[k] == '.' || d[k] == 'e' ||
     d[k] == 'E' || k > ps->limits.max_string)
    return parse_number_general(ps, out);
  status = new_value(ps, JSON_INT, &value);
  if(status)
    return status;
  value->u.integer.fits = 1;
  value->u.integer.value = first ? -(int64_t)magnitude : (int64_t)magnitude;
  value->u.integer.text_len = k;
  status = copy_window_text(ps, d, k, &value->u.integer.text);
  if(status)
    return status;
  ps->pos += k;
  *out = value;
  return CL_OK;
}

static cl_status parse_value(parser *ps, size_t depth, int c, json_value **out);

static cl_status push_value(parser *ps, json_value *value)
{
  if(MEM_GROW_ARRAY(ps->values, &ps->values_cap, ps->values_len + 1, 256))
    return memory_error(ps, CL_ERR_NOMEM);
  ps->values[ps->values_len++] = value;
  return CL_OK;
}

static cl_status push_member(parser *ps, const char *key, size_t key_len, json_value *value)
{
  json_member *member;
  if(MEM_GROW_ARRAY(ps->members, &ps->members_cap, ps->members_len + 1, 256))
    return memory_error(ps, CL_ERR_NOMEM);
  member = &ps->members[ps->members_len++];
  member->key = key;
  member->key_len = key_len;
  member->value = value;
  return CL_OK;
}

static cl_status too_deep(parser *ps)
{
  return cl_fail(ps->err, CL_ERR_LIMIT, "JSON nesting deeper than %zu at byte %" PRIu64,
                 ps->limits.max_depth, offset_at(ps, ps->pos));
}

/* After an array item or object member: either the closing bracket (consumed,
 * *closed set) or a ',' and the first byte of the next element in *c. */
static cl_status after_element(parser *ps, int close, int *c, int *closed)
{
  cl_status status = next_token(ps, c);
  if(status)
    return status;
  *closed = *c == close;
  if(*closed) {
    ps->pos++;
    return CL_OK;
  }
  if(*c != ',')
    return syntax_error(ps, "Expecting ',' delimiter", offset_at(ps, ps->pos));
  ps->pos++;
  return next_token(ps, c);
}

static cl_status parse_array(parser *ps, size_t depth, json_value **out)
{
  size_t base = ps->values_len, count;
  json_value *array, *item;
  void *items = NULL;
  int c;
  cl_status status;

  if(depth > ps->limits.max_depth)
    return too_deep(ps);
  status = new_value(ps, JSON_ARRAY, &array);
  if(status)
    return status;
  ps->pos++;
  status = next_token(ps, &c);
  if(status)
    return status;
  if(c == ']') {
    ps->pos++;
  } else {
    for(;;) {
      status = parse_value(ps, depth + 1, c, &item);
      if(status)
        return status;
      status = push_value(ps, item);
      if(status)
        return status;
      int closed;
      status = after_element(ps, ']', &c, &closed);
      if(status)
        return status;
      if(closed)
        break;
    }
  }
  count = ps->values_len - base;
  if(count) {
    status = json_arena_alloc(ps->arena, count * sizeof(json_value *), &items);
    if(status)
      return memory_error(ps, status);
    memcpy(items, ps->values + base, count * sizeof(json_value *));
  }
  ps->values_len = base;
  array->u.array.items = items;
  array->u.array.count = count;
  *out = array;
  return CL_OK;
}

static uint32_t hash_key(const char *key, size_t len)
{
  uint32_t h = 2166136261u;
  size_t i;
  for(i = 0; i < len; i++)
    h = (h ^ (uint8_t)key[i]) * 16777619u;
  return h;
}

/* Fold repeated keys of members[0..count) in place, dict style: the first
 * position keeps the last value. Returns the new count. */
static cl_status dedupe_members(parser *ps, json_member *members, size_t count, size_t *kept)
{
  size_t i, j, n = 0;

  if(count <= 16) {
    for(i = 0; i < count; i++) {
      for(j = 0; j < n; j++)
        if(members[j].key_len == members[i].key_len &&
           !memcmp(members[j].key, members[i].key, members[i].key_len))
          break;
      if(j < n)
        members[j].value = members[i].value;
      else if(n++ != i) /* no repeat so far: members stay where they are */
        members[n - 1] = members[i];
    }
  } else {
    size_t cap = 64, mask;
    while(cap < count * 2)
      cap *= 2;
    /* Both are powers of two of at least 64, so the table grows to cap exactly. */
    if(MEM_GROW_ARRAY(ps->slots, &ps->slots_cap, cap, 64))
      return memory_error(ps, CL_ERR_NOMEM);
    memset(ps->slots, 0xff, cap * sizeof(*ps->slots));
    mask = cap - 1;
    for(i = 0; i < count; i++) {
      size_t slot = hash_key(members[i].key, members[i].key_len) & mask;
      for(;;) {
        uint32_t at = ps->slots[slot];
        if(at == UINT32_MAX) {
          ps->slots[slot] = (uint32_t)n;
          members[n++] = members[i];
          break;
        }
        if(members[at].key_len == members[i].key_len &&
           !memcmp(members[at].key, members[i].key, members[i].key_len)) {
          members[at].value = members[i].value;
          break;
        }
        slot = (slot + 1) & mask;
      }
    }
  }
  *kept = n;
  return CL_OK;
}

static cl_status parse_object(parser *ps, size_t depth, json_value **out)
{
  size_t base = ps->members_len, count;
  json_value *object, *value;
  void *members = NULL;
  int c, lone;
  cl_status status;

  if(depth > ps->limits.max_depth)
    return too_deep(ps);
  status = new_value(ps, JSON_OBJECT, &object);
  if(status)
    return status;
  ps->pos++;
  status = next_token(ps, &c);
  if(status)
    return status;
  if(c == '}') {
    ps->pos++;
  } else {
    for(;;) {
      const char *key;
      size_t key_len;
      if(c != '"')
        return syntax_error(ps, "Expecting property name enclosed in double quotes",
                            offset_at(ps, ps->pos));
      status = parse_string(ps, &key, &key_len, &lone);
      if(status)
        return status;
      status = next_token(ps, &c);
      if(status)
        return status;
      if(c != ':')
        return syntax_error(ps, "Expecting ':' delimiter", offset_at(ps, ps->pos));
      ps->pos++;
      status = next_token(ps, &c);
      if(status)
        return status;
      status = parse_value(ps, depth + 1, c, &value);
      if(status)
        return status;
      status = push_member(ps, key, key_len, value);
      if(status)
        return status;
      int closed;
      status = after_element(ps, '}', &c, &closed);
      if(status)
        return status;
      if(closed)
        break;
    }
  }
  count = ps->members_len - base;
  if(count) {
    status = dedupe_members(ps, ps->members + base, count, &count);
    if(status)
      return status;
    status = json_arena_alloc(ps->arena, count * sizeof(json_member), &members);
    if(status)
      return memory_error(ps, status);
    memcpy(members, ps->members + base, count * sizeof(json_member));
  }
  ps->members_len = base;
  object->u.object.members = members;
  object->u.object.count = count;
  *out = object;
  return CL_OK;
}

static cl_status parse_value(parser *ps, size_t depth, int c, json_value **out)
{
  json_value *value;
  int matched;
  cl_status status;

  switch(c) {
  case '{':
    return parse_object(ps, depth, out);
  case '[':
    return parse_array(ps, depth, out);
  case '"':
    status = new_value(ps, JSON_STRING, &value);
    if(status)
      return status;
    *out = value;
    return parse_string(ps, &value->u.string.data, &value->u.string.len,
                        &value->u.string.lone_surrogate);
  case '0': case '1': case '2': case '3': case '4':
  case '5': case '6': case '7': case '8': case '9':
    return parse_number(ps, out);
  case '-':
    status = match_literal(ps, "-Infinity", 9, &matched);
    if(status)
      return status;
    if(!matched)
      return parse_number(ps, out);
    status = new_value(ps, JSON_FLOAT, &value);
    if(status)
      return status;
    value->u.number.value = -INFINITY;
    value->u.number.text = "-inf";
    value->u.number.text_len = 4;
    *out = value;
    return CL_OK;
  case 't':
  case 'f':
  case 'n':
    status = match_literal(ps, c == 't' ? "true" : c == 'f' ? "false" : "null",
                           c == 'f' ? 5 : 4, &matched);
    if(status)
      return status;
    if(!matched)
      return expecting_value(ps);
    status = new_value(ps, c == 'n' ? JSON_NULL : JSON_BOOL, &value);
    if(status)
      return status;
    value->u.boolean = c == 't';
    *out = value;
    return CL_OK;
  case 'N':
  case 'I':
    status = match_literal(ps, c == 'N' ? "NaN" : "Infinity", c == 'N' ? 3 : 8, &matched);
    if(status)
      return status;
    if(!matched)
      return expecting_value(ps);
    status = new_value(ps, JSON_FLOAT, &value);
    if(status)
      return status;
    value->u.number.value = c == 'N' ? NAN : INFINITY;
    value->u.number.text = c == 'N' ? "nan" : "inf";
    value->u.number.text_len = 3;
    *out = value;
    return CL_OK;
  default:
    return expecting_value(ps);
  }
}

/* ---- encoding detection (json.detect_encoding) --------------------------- */

static encoding detect_encoding(const uint8_t *b, size_t n, size_t *bom, const char **codec)
{
  *bom = 0;
  if(n >= 4 && ((b[0] == 0 && b[1] == 0 && b[2] == 0xfe && b[3] == 0xff) ||
                (b[0] == 0xff && b[1] == 0xfe && b[2] == 0 && b[3] == 0))) {
    *bom = 4;
    *codec = b[0] ? "utf-32-le" : "utf-32-be";
    return b[0] ? ENC_UTF32LE : ENC_UTF32BE;
  }
  if(n >= 2 && ((b[0] == 0xfe && b[1] == 0xff) || (b[0] == 0xff && b[1] == 0xfe))) {
    *bom = 2;
    *codec = b[0] == 0xff ? "utf-16-le" : "utf-16-be";
    return b[0] == 0xff ? ENC_UTF16LE : ENC_UTF16BE;
  }
  if(n >= 3 && b[0] == 0xef && b[1] == 0xbb && b[2] == 0xbf) {
    *bom = 3;
    *codec = "utf-8";
    return ENC_UTF8;
  }
  if(n >= 4) {
    if(!b[0]) {
      *codec = b[1] ? "utf-16-be" : "utf-32-be";
      return b[1] ? ENC_UTF16BE : ENC_UTF32BE;
    }
    if(!b[1]) {
      *codec = b[2] || b[3] ? "utf-16-le" : "utf-32-le";
      return b[2] || b[3] ? ENC_UTF16LE : ENC_UTF32LE;
    }
  } else if(n == 2) {
    if(!b[0]) {
      *codec = "utf-16-be";
      return ENC_UTF16BE;
    }
    if(!b[1]) {
      *codec = "utf-16-le";
      return ENC_UTF16LE;
    }
  }
  *codec = "utf-8";
  return ENC_UTF8;
}

/* ---- setup shared by json_parse and json_reader ------------------------- */

static cl_status parser_init_stream(parser *ps, stream_source source, const json_limits *limits)
{
  memset(ps, 0, sizeof(*ps));
  ps->source = source;
  if(limits)
    ps->limits = *limits;
  else
    json_limits_default(&ps->limits);
  ps->window_cap = WINDOW_FIRST;
  ps->window_limit = ps->limits.max_string < SIZE_MAX / 4
                       ? ps->limits.max_string + 2 * READ_CHUNK
                       : SIZE_MAX / 4;
  if(ps->window_limit < ps->window_cap)
    ps->window_limit = ps->window_cap;
  ps->window = malloc(ps->window_cap);
  if(!ps->window)
    return CL_ERR_NOMEM;
  ps->data = ps->window;
  ps->enc = ENC_UTF8;
  ps->codec = "utf-8";
  buf_init(&ps->text, 0);
  return CL_OK;
}

static void parser_release(parser *ps)
{
  free(ps->window);
  free(ps->raw);
  free(ps->values);
  free(ps->members);
  free(ps->slots);
  buf_free(&ps->text);
}

/* Read the first bytes, pick the encoding and skip any byte order mark. */
static cl_status start_stream(parser *ps)
{
  size_t got, bom;
  cl_status status;
  encoding enc;

  while(ps->len < 4 && !ps->eof) {
    status = ps->source.read(ps->source.ctx, ps->window + ps->len, 4 - ps->len, &got, ps->err);
    if(status)
      return status;
    if(!got)
      ps->eof = 1;
    ps->len += got;
  }
  enc = detect_encoding(ps->window, ps->len, &bom, &ps->codec);
  if(enc == ENC_UTF8) {
    /* Offsets count from after the mark, like Python's decoded string. */
    memmove(ps->window, ps->window + bom, ps->len - bom);
    ps->len -= bom;
    return CL_OK;
  }
  ps->raw = malloc(RAW_CHUNK);
  if(!ps->raw)
    return memory_error(ps, CL_ERR_NOMEM);
  memcpy(ps->raw, ps->window + bom, ps->len - bom);
  ps->raw_len = ps->len - bom;
  ps->raw_offset = bom;
  ps->raw_eof = ps->eof;
  ps->enc = enc;
  ps->len = 0;
  ps->eof = 0;
  return CL_OK;
}

static cl_status parse_document(parser *ps, json_value **out)
{
  int c;
  cl_status status;

  json_arena_begin_budget(ps->arena, ps->limits.max_value_bytes);
  status = skip_space(ps, &c);
  if(status)
    return status;
  status = parse_value(ps, 1, c, out);
  if(status)
    return status;
  status = skip_space(ps, &c);
  if(status)
    return status;
  if(c != -1)
    return syntax_error(ps, "Extra data", offset_at(ps, ps->pos));
  return CL_OK;
}

/* Python decodes the whole document before parsing it, so malformed UTF-8
 * anywhere wins over a syntax error; the window is the whole document here. */
static cl_status report_malformed_utf8(parser *ps, cl_status status)
{
  size_t pos = 0, prefix;
  int surrogate;

  while(pos < ps->len) {
    if(ps->data[pos] < 0x80) {
      pos++;
      continue;
    }
    if(!utf8_sequence(ps->data + pos, ps->len - pos, &prefix, &surrogate))
      return utf8_error(ps, pos);
    pos += prefix;
  }
  return status;
}

cl_status json_parse(const char *text, size_t len, const json_limits *limits,
                     json_arena *arena, json_value **out, cl_error *err)
{
  parser ps;
  size_t bom;
  const char *codec;
  cl_status status;

  *out = NULL;
  if(detect_encoding((const uint8_t *)text, len, &bom, &codec) != ENC_UTF8) {
    stream_memory memory = {(const uint8_t *)text, len, 0};
    status = parser_init_stream(&ps, stream_source_from_memory(&memory), limits);
    if(status) {
      parser_release(&ps);
      return cl_fail(err, status, "JSON: out of memory");
    }
    ps.err = err;
    ps.arena = arena;
    status = start_stream(&ps);
    if(!status)
      status = parse_document(&ps, out);
    parser_release(&ps);
    if(status)
      *out = NULL;
    return status;
  }
  memset(&ps, 0, sizeof(ps));
  if(limits)
    ps.limits = *limits;
  else
    json_limits_default(&ps.limits);
  ps.data = (const uint8_t *)text + bom;
  ps.len = len - bom;
  ps.eof = 1;
  ps.enc = ENC_UTF8;
  ps.codec = "utf-8";
  ps.err = err;
  ps.arena = arena;
  buf_init(&ps.text, 0);
  status = parse_document(&ps, out);
  if(status && ps.syntax_failed)
    status = report_malformed_utf8(&ps, status);
  parser_release(&ps);
  if(status)
    *out = NULL;
  return status;
}

/* ---- the streaming reader ------------------------------------------------ */

json_reader *json_reader_create(stream_source source, const json_limits *limits)
{
  json_reader *reader = calloc(1, sizeof(*reader));
  if(!reader)
    return NULL;
  if(parser_init_stream(&reader->ps, source, limits)) {
    parser_release(&reader->ps);
    free(reader);
    return NULL;
  }
  reader->state = READER_START;
  return reader;
}

void json_reader_free(json_reader *reader)
{
  if(!reader)
    return;
  parser_release(&reader->ps);
  free(reader);
}

uint64_t json_reader_offset(const json_reader *reader)
{
  return offset_at(&reader->ps, reader->ps.pos);
}

static cl_status reader_failed(json_reader *reader, cl_status status)
{
  reader->state = READER_FAILED;
  reader->failure = status;
  return status;
}

static cl_status refuse_after_failure(json_reader *reader, cl_error *err)
{
  return cl_fail(err, reader->failure ? reader->failure : CL_ERR_USAGE,
                 "JSON reader used after it failed");
}

cl_status json_reader_begin_array(json_reader *reader, cl_error *err)
{
  parser *ps = &reader->ps;
  const char *what;
  int c;
  cl_status status;

  if(reader->state == READER_FAILED)
    return refuse_after_failure(reader, err);
  if(reader->state != READER_START)
    return cl_fail(err, CL_ERR_USAGE, "json_reader_begin_array called twice");
  ps->err = err;
  status = start_stream(ps);
  if(!status)
    status = skip_space(ps, &c);
  if(status)
    return reader_failed(reader, status);
  switch(c) {
  case '[':
    ps->pos++;
    reader->state = READER_FIRST;
    return CL_OK;
  case '{': what = "an object"; break;
  case '"': what = "a string"; break;
  case 't': case 'f': what = "a boolean"; break;
  case 'n': what = "null"; break;
  case '-': case 'N': case 'I':
  case '0': case '1': case '2': case '3': case '4':
  case '5': case '6': case '7': case '8': case '9':
    what = "a number";
    break;
  default:
    return reader_failed(reader, expecting_value(ps));
  }
  return reader_failed(reader, cl_fail(err, CL_ERR_FORMAT,
                                       "top-level value is %s, not an array", what));
}

cl_status json_reader_next(json_reader *reader, json_arena *arena, json_value **item,
                           cl_error *err)
{
  parser *ps = &reader->ps;
  int c;
  cl_status status;

  *item = NULL;
  switch(reader->state) {
  case READER_FAILED:
    return refuse_after_failure(reader, err);
  case READER_START:
    return cl_fail(err, CL_ERR_USAGE, "json_reader_next called before json_reader_begin_array");
  case READER_DONE:
    return CL_OK;
  default:
    break;
  }
  ps->err = err;
  ps->arena = arena;
  status = skip_space(ps, &c);
  if(status)
    return reader_failed(reader, status);
  if(c == ']') {
    ps->pos++;
    status = skip_space(ps, &c);
    if(status)
      return reader_failed(reader, status);
    if(c != -1)
      return reader_failed(reader, syntax_error(ps, "Extra data", offset_at(ps, ps->pos)));
    reader->state = READER_DONE;
    return CL_OK;
  }
  if(reader->state == READER_AFTER) {
    if(c != ',')
      return reader_failed(reader,
                           syntax_error(ps, "Expecting ',' delimiter", offset_at(ps, ps->pos)));
    ps->pos++;
    status = skip_space(ps, &c);
    if(status)
      return reader_failed(reader, status);
  }
  json_arena_begin_budget(arena, ps->limits.max_value_bytes);
  status = parse_value(ps, 2, c, item);
  if(status) {
    *item = NULL;
    ps->values_len = 0;
    ps->members_len = 0;
    return reader_failed(reader, status);
  }
  reader->state = READER_AFTER;
  return CL_OK;
}

#include "parquet/encoding.h"

#include <stdlib.h>
#include <string.h>

int pq_bit_width(uint64_t max_value)
{
  int width = 0;
  while(max_value) {
    width++;
    max_value >>= 1;
  }
  return width;
}

static inline uint64_t load_le64(const uint8_t *p)
{
  uint64_t v;
  memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap64(v);
#endif
  return v;
}

static inline uint32_t load_le32(const uint8_t *p)
{
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* width bits (0..64) starting at bit of p[0..len); the caller guarantees the
 * bits lie inside the range. The fast path is one unaligned 64-bit load. */
static inline uint64_t unpack_bits(const uint8_t *p, size_t len, uint64_t bit, int width)
{
  if(width == 0)
    return 0;
  size_t byte = (size_t)(bit >> 3);
  unsigned shift = (unsigned)(bit & 7);
  uint64_t mask = width == 64 ? ~(uint64_t)0 : (((uint64_t)1 << width) - 1);
  if(byte + 8 <= len) {
    uint64_t v = load_le64(p + byte) >> shift;
    if(shift + (unsigned)width > 64)
      v |= (uint64_t)p[byte + 8] << (64 - shift);
    return v & mask;
  }
  uint64_t v = 0;
  unsigned got = 0;
  while(got < (unsigned)width + shift && byte < len) {
    if(got < 64)
      v |= (uint64_t)p[byte] << got;
    got += 8;
    byte++;
  }
  return (v >> shift) & mask;
}

/* ---- RLE / bit-packed hybrid ---- */

void pq_rle_init(pq_rle_decoder *d, const uint8_t *data, size_t len, int bit_width)
{
  memset(d, 0, sizeof(*d));
  d->pos = data;
  d->end = data ? data + len : data; /* NULL + 0 is undefined in C */
  d->bit_width = bit_width;
}

static const char *rle_next_run(pq_rle_decoder *d)
{
  uint64_t header = 0;
  for(int shift = 0;; shift += 7) {
    if(d->pos >= d->end)
      return "RLE data ends before all values";
    if(shift > 35)
      return "RLE run header too long";
    uint8_t byte = *d->pos++;
    header |= (uint64_t)(byte & 0x7f) << shift;
    if(!(byte & 0x80))
      break;
  }
  int w = d->bit_width;
  if(header & 1) {
    uint64_t groups = header >> 1;
    uint64_t bytes = groups * (uint64_t)w;
    size_t avail = (size_t)(d->end - d->pos);
    /* A final bit-packed run may be cut short; only the values present count. */
    if(bytes > avail)
      bytes = avail;
    d->packed = 1;
    d->run = d->pos;
    d->run_len = (size_t)bytes;
    d->run_bit = 0;
    d->remaining = w ? bytes * 8 / (uint64_t)w : groups * 8;
    if(d->remaining > groups * 8)
      d->remaining = groups * 8;
    d->pos += bytes;
  } else {
    size_t value_bytes = ((size_t)w + 7) / 8;
    if(value_bytes > (size_t)(d->end - d->pos))
      return "truncated RLE run value";
    uint32_t v = 0;
    for(size_t i = 0; i < value_bytes; i++)
      v |= (uint32_t)d->pos[i] << (8 * i);
    d->pos += value_bytes;
    d->packed = 0;
    d->value = v;
    d->remaining = header >> 1;
  }
  return NULL;
}

/* How many of the next n values the current run can give, starting the next
 * run (skipping empty ones) when this one is used up. */
static const char *rle_take(pq_rle_decoder *d, size_t n, size_t *take)
{
  while(!d->remaining) {
    const char *why = rle_next_run(d);
    if(why)
      return why;
  }
  *take = d->remaining < n ? (size_t)d->remaining : n;
  return NULL;
}

const char *pq_rle_decode(pq_rle_decoder *d, uint32_t *out, size_t n)
{
  while(n) {
    size_t take;
    const char *why = rle_take(d, n, &take);
    if(why)
      return why;
    if(d->packed) {
      int w = d->bit_width;
      for(size_t i = 0; i < take; i++)
        out[i] = (uint32_t)unpack_bits(d->run, d->run_len, d->run_bit + (uint64_t)i * (uint64_t)w, w);
      d->run_bit += (uint64_t)take * (uint64_t)w;
    } else {
      uint32_t v = d->value;
      for(size_t i = 0; i < take; i++)
        out[i] = v;
    }
    d->remaining -= take;
    out += take;
    n -= take;
  }
  return NULL;
}

const char *pq_rle_decode_levels(pq_rle_decoder *d, uint8_t *out, size_t n, int max_level)
{
  while(n) {
    size_t take;
    const char *why = rle_take(d, n, &take);
    if(why)
      return why;
    if(d->packed) {
      int w = d->bit_width;
      for(size_t i = 0; i < take; i++) {
        uint64_t v = unpack_bits(d->run, d->run_len, d->run_bit + (uint64_t)i * (uint64_t)w, w);
        if(v > (uint64_t)max_level)
          return "level above the maximum";
        out[i] = (uint8_t)v;
      }
      d->run_bit += (uint64_t)take * (uint64_t)w;
    } else {
      if(d->value > (uint32_t)max_level)
        return "level above the maximum";
      memset(out, (int)d->value, take);
    }
    d->remaining -= take;
    out += take;
    n -= take;
  }
  return NULL;
}

static void put_varint(buf *out, uint64_t v)
{
  uint8_t bytes[10];
  size_t n = 0;
  while(v >= 0x80) {
    bytes[n++] = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  bytes[n++] = (uint8_t)v;
  buf_append(out, bytes, n);
}

static void put_run(buf *out, uint32_t value, size_t run, size_t value_bytes)
{
  uint8_t vb[4];
  put_varint(out, (uint64_t)run << 1);
  for(size_t k = 0; k < value_bytes; k++)
    vb[k] = (uint8_t)(value >> (8 * k));
  buf_append(out, vb, value_bytes);
}

void pq_rle_encode_run(buf *out, uint32_t value, size_t n, int bit_width)
{
  put_run(out, value, n, ((size_t)bit_width + 7) / 8);
}

/* Encoders over uint32 values and over bytes share this body. */
#define RLE_ENCODE_BODY(values, n, bit_width)                                      \
  do {                                                                             \
    size_t value_bytes = ((size_t)(bit_width) + 7) / 8;                            \
    size_t i = 0;                                                                  \
    while(i < (n)) {                                                               \
      size_t run = 1;                                                              \
      while(i + run < (n) && (values)[i + run] == (values)[i])                     \
        run++;                                                                     \
      if(run >= 8 || i + run == (n)) {                                             \
        put_run(out, (uint32_t)(values)[i], run, value_bytes);                     \
        i += run;                                                                  \
        continue;                                                                  \
      }                                                                            \
      /* Bit-pack groups of 8 until a long run starts at a group boundary. */      \
      size_t start = i, groups = 0;                                                \
      do {                                                                         \
        i += 8;                                                                    \
        groups++;                                                                  \
        if(i >= (n) || groups == 63)                                               \
          break;                                                                   \
        size_t ahead = 1;                                                          \
        while(ahead < 8 && i + ahead < (n) && (values)[i + ahead] == (values)[i])  \
          ahead++;                                                                 \
        if(ahead >= 8)                                                             \
          break;                                                                   \
      } while(1);                                                                  \
      if(i > (n))                                                                  \
        i = (n);                                                                   \
      put_varint(out, (uint64_t)groups << 1 | 1);                                  \
      size_t packed_bytes = groups * (size_t)(bit_width);                          \
      size_t at = out->len;                                                        \
      if(buf_fill(out, 0, packed_bytes))                                           \
        return;                                                                    \
      uint8_t *p = (uint8_t *)out->data + at;                                      \
      uint64_t acc = 0;                                                            \
      int bits = 0;                                                                \
      for(size_t k = start; k < i; k++) {                                          \
        acc |= (uint64_t)(values)[k] << bits;                                      \
        bits += (bit_width);                                                       \
        while(bits >= 8) {                                                         \
          *p++ = (uint8_t)acc;                                                     \
          acc >>= 8;                                                               \
          bits -= 8;                                                               \
        }                                                                          \
      }                                                                            \
      if(bits)                                                                     \
        *p = (uint8_t)acc; /* the padded last group ends in zero bits */           \
    }                                                                              \
  } while(0)

void pq_rle_encode(buf *out, const uint32_t *values, size_t n, int bit_width)
{
  RLE_ENCODE_BODY(values, n, bit_width);
}

void pq_rle_encode_levels(buf *out, const uint8_t *levels, size_t n, int bit_width)
{
  RLE_ENCODE_BODY(levels, n, bit_width);
}

/* ---- PLAIN ---- */

size_t pq_plain_width(parquet_physical_type type, int32_t type_length)
{
  switch(type) {
  case PARQUET_INT32:
  case PARQUET_FLOAT: return 4;
  case PARQUET_INT64:
  case PARQUET_DOUBLE: return 8;
  case PARQUET_INT96: return 12;
  case PARQUET_FIXED_LEN_BYTE_ARRAY: return type_length > 0 ? (size_t)type_length : 0;
  default: return 0;
  }
}

const char *pq_plain_decode(parquet_physical_type type, int32_t type_length,
                            const uint8_t *data, size_t len, size_t n, void *out, size_t *used)
{
  switch(type) {
  case PARQUET_BOOLEAN: {
    if(n > len * 8)
      return "PLAIN booleans past the end of the page";
    uint8_t *b = out;
    for(size_t i = 0; i < n; i++)
      b[i] = (data[i >> 3] >> (i & 7)) & 1;
    *used = (n + 7) / 8;
    return NULL;
  }
  case PARQUET_BYTE_ARRAY: {
    parquet_bytes *v = out;
    size_t pos = 0;
    for(size_t i = 0; i < n; i++) {
      if(len - pos < 4)
        return "PLAIN byte array length past the end of the page";
      uint32_t l = load_le32(data + pos);
      pos += 4;
      if(l > len - pos)
        return "PLAIN byte array past the end of the page";
      v[i].data = data + pos;
      v[i].len = l;
      pos += l;
    }
    *used = pos;
    return NULL;
  }
  case PARQUET_FIXED_LEN_BYTE_ARRAY: {
    size_t w = pq_plain_width(type, type_length);
    if(!w)
      return "FIXED_LEN_BYTE_ARRAY without a positive type_length";
    if(n > len / w)
      return "PLAIN values past the end of the page";
    parquet_bytes *v = out;
    for(size_t i = 0; i < n; i++) {
      v[i].data = data + i * w;
      v[i].len = (uint32_t)w;
    }
    *used = n * w;
    return NULL;
  }
  default: {
    size_t w = pq_plain_width(type, type_length);
    if(!w)
      return "unknown physical type";
    if(n > len / w)
      return "PLAIN values past the end of the page";
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#error "PLAIN decoding assumes a little-endian host"
#endif
    if(n)
      memcpy(out, data, n * w);
    *used = n * w;
    return NULL;
  }
  }
}

/* Fixed-width values sit in the vector in PLAIN layout (little-endian host,
 * INT96 as its 12 bytes), so rows copy as they are. */
static const uint8_t *fixed_values(parquet_physical_type type, const parquet_column_vector *v)
{
  switch(type) {
  case PARQUET_INT32: return (const uint8_t *)v->values.i32;
  case PARQUET_INT64: return (const uint8_t *)v->values.i64;
  case PARQUET_FLOAT: return (const uint8_t *)v->values.f32;
  case PARQUET_DOUBLE: return (const uint8_t *)v->values.f64;
  case PARQUET_INT96: return (const uint8_t *)v->values.i96;
  default: return NULL;
  }
}

static inline int row_selected(const parquet_column_vector *v, size_t row)
{
  return !v->defined || v->defined[row];
}

/* Constant sizes let the compiler inline the copy of one dictionary entry. */
static inline uint8_t *put_fixed(uint8_t *p, const uint8_t *value, size_t width)
{
  switch(width) {
  case 4: memcpy(p, value, 4); break;
  case 8: memcpy(p, value, 8); break;
  case 12: memcpy(p, value, 12); break;
  default: memcpy(p, value, width); break;
  }
  return p + width;
}

/* One BYTE_ARRAY or FIXED_LEN_BYTE_ARRAY value at p; returns the end. */
static inline uint8_t *put_bytes(uint8_t *p, parquet_bytes value, int with_length, size_t width)
{
  if(with_length) {
    uint32_t l = value.len;
    p[0] = (uint8_t)l;
    p[1] = (uint8_t)(l >> 8);
    p[2] = (uint8_t)(l >> 16);
    p[3] = (uint8_t)(l >> 24);
    p += 4;
    width = l;
  }
  if(width)
    memcpy(p, value.data, width);
  return p + width;
}

/* Values are written straight into out's storage after one reservation:
 * appending value by value (a length, then the bytes) cost two bounds checks
 * and two copies per value on the writer's hottest path. */
void pq_plain_encode(buf *out, parquet_physical_type type, int32_t type_length,
                     const parquet_column_vector *vector, size_t begin, size_t end,
                     const uint32_t *rows, size_t n)
{
  size_t slots = rows ? n : end - begin;
  if(type == PARQUET_BOOLEAN) {
    size_t at = out->len;
    if(buf_fill(out, 0, (slots + 7) / 8))
      return;
    uint8_t *bits = (uint8_t *)out->data + at;
    size_t k = 0;
    for(size_t i = 0; i < slots; i++) {
      size_t row = rows ? rows[i] : begin + i;
      if(!rows && !row_selected(vector, row))
        continue;
      if(vector->values.boolean[row])
        bits[k >> 3] |= (uint8_t)(1u << (k & 7));
      k++;
    }
    buf_truncate(out, at + (k + 7) / 8);
    return;
  }
  const parquet_bytes *bytes = vector->values.bytes;
  int with_length = type == PARQUET_BYTE_ARRAY;
  size_t width = pq_plain_width(type, type_length), need = 0;
  if(with_length) {
    for(size_t i = 0; i < slots; i++) {
      size_t row = rows ? rows[i] : begin + i;
      if(rows || row_selected(vector, row))
        need += 4 + (size_t)bytes[row].len;
    }
  } else
    need = slots * width; /* nulls only make it smaller */
  if(buf_reserve(out, need))
    return;
  uint8_t *start = (uint8_t *)out->data + out->len, *p = start;
  const uint8_t *fixed = fixed_values(type, vector);
  if(rows) {
    for(size_t i = 0; i < n; i++) {
      if(fixed)
        p = put_fixed(p, fixed + (size_t)rows[i] * width, width);
      else
        p = put_bytes(p, bytes[rows[i]], with_length, width);
    }
  } else if(fixed) {
    /* Copy each run of non-null rows at once. */
    size_t row = begin;
    while(row < end) {
      size_t run_end = row;
      while(run_end < end && row_selected(vector, run_end))
        run_end++;
      if(run_end > row) {
        memcpy(p, fixed + row * width, (run_end - row) * width);
        p += (run_end - row) * width;
      }
      row = run_end;
      while(row < end && !row_selected(vector, row))
        row++;
    }
  } else {
    for(size_t row = begin; row < end; row++)
      if(row_selected(vector, row))
        p = put_bytes(p, bytes[row], with_length, width);
  }
  out->len += (size_t)(p - start);
  out->data[out->len] = '\0';
}

/* ---- DELTA_* ---- */

static const char *read_uvarint(const uint8_t **pos, const uint8_t *end, uint64_t *out)
{
  uint64_t v = 0;
  for(int shift = 0; shift < 64; shift += 7) {
    if(*pos >= end)
      return "truncated varint in DELTA header";
    uint8_t byte = *(*pos)++;
    v |= (uint64_t)(byte & 0x7f) << shift;
    if(!(byte & 0x80)) {
      *out = v;
      return NULL;
    }
  }
  return "varint too long in DELTA header";
}

const char *pq_delta_binary_decode(const uint8_t *data, size_t len, size_t n, int is64,
                                   void *out, size_t *used)
{
  const uint8_t *pos = data, *end = data + len;
  uint64_t block_size, miniblocks, total, zz;
  const char *why;
  if((why = read_uvarint(&pos, end, &block_size)) || (why = read_uvarint(&pos, end, &miniblocks)) ||
     (why = read_uvarint(&pos, end, &total)) || (why = read_uvarint(&pos, end, &zz)))
    return why;
  if(block_size == 0 || block_size % 128 || block_size > (1u << 20) || miniblocks == 0 ||
     block_size % miniblocks || (block_size / miniblocks) % 32)
    return "invalid DELTA_BINARY_PACKED block layout";
  if(total < n)
    return "DELTA_BINARY_PACKED holds fewer values than the page";
  int32_t *o32 = out;
  int64_t *o64 = out;
  uint64_t value = (zz >> 1) ^ -(zz & 1);
  size_t produced = 0;
  if(n) {
    if(is64)
      o64[0] = (int64_t)value;
    else
      o32[0] = (int32_t)(uint32_t)value;
    produced = 1;
  }
  uint64_t per_mini = block_size / miniblocks;
  while(produced < n) {
    uint64_t min_zz;
    if((why = read_uvarint(&pos, end, &min_zz)))
      return why;
    uint64_t min_delta = (min_zz >> 1) ^ -(min_zz & 1);
    if(miniblocks > (uint64_t)(end - pos))
      return "truncated DELTA_BINARY_PACKED bit widths";
    const uint8_t *widths = pos;
    pos += miniblocks;
    for(uint64_t m = 0; m < miniblocks && produced < n; m++) {
      int w = widths[m];
      if(w > (is64 ? 64 : 32))
        return "DELTA_BINARY_PACKED bit width too large";
      size_t bytes = (size_t)(per_mini * (uint64_t)w / 8);
      if(bytes > (size_t)(end - pos))
        return "truncated DELTA_BINARY_PACKED miniblock";
      size_t take = n - produced < per_mini ? n - produced : (size_t)per_mini;
      for(size_t i = 0; i < take; i++) {
        value += min_delta + unpack_bits(pos, bytes, (uint64_t)i * (uint64_t)w, w);
        if(is64)
          o64[produced + i] = (int64_t)value;
        else
          o32[produced + i] = (int32_t)(uint32_t)value;
      }
      produced += take;
      pos += bytes;
    }
  }
  *used = (size_t)(pos - data);
  return NULL;
}

static void put_zigzag(buf *out, int64_t v)
{
  put_varint(out, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

void pq_delta_binary_encode(buf *out, const int64_t *values, size_t n)
{
  enum { BLOCK = 128, MINIS = 4, PER_MINI = BLOCK / MINIS };
  put_varint(out, BLOCK);
  put_varint(out, MINIS);
  put_varint(out, n);
  put_zigzag(out, n ? values[0] : 0);
  uint64_t deltas[BLOCK];
  for(size_t at = 1; at < n; at += BLOCK) {
    size_t count = n - at < BLOCK ? n - at : BLOCK;
    int64_t min_delta = INT64_MAX;
    for(size_t i = 0; i < count; i++) {
      int64_t d = (int64_t)((uint64_t)values[at + i] - (uint64_t)values[at + i - 1]);
      deltas[i] = (uint64_t)d;
      if(d < min_delta)
        min_delta = d;
    }
    put_zigzag(out, min_delta);
    uint8_t widths[MINIS] = {0};
    for(size_t i = 0; i < count; i++) {
      deltas[i] -= (uint64_t)min_delta;
      int w = pq_bit_width(deltas[i]);
      if(w > widths[i / PER_MINI])
        widths[i / PER_MINI] = (uint8_t)w;
    }
    buf_append(out, widths, MINIS);
    for(size_t m = 0; m * PER_MINI < count; m++) {
      int w = widths[m];
      size_t at_byte = out->len;
      if(buf_fill(out, 0, (size_t)PER_MINI * (size_t)w / 8))
        return;
      uint8_t *p = (uint8_t *)out->data + at_byte;
      for(size_t i = 0; i < PER_MINI && m * PER_MINI + i < count; i++) {
        uint64_t v = deltas[m * PER_MINI + i];
        uint64_t bit = (uint64_t)i * (uint64_t)w;
        for(int b = 0; b < w; b++)
          if((v >> b) & 1)
            p[(bit + (uint64_t)b) >> 3] |= (uint8_t)(1u << ((bit + (uint64_t)b) & 7));
      }
    }
  }
}

const char *pq_delta_length_decode(const uint8_t *data, size_t len, size_t n,
                                   parquet_bytes *out, size_t *used)
{
  int32_t *lengths = malloc((n ? n : 1) * sizeof(int32_t));
  size_t header;
  if(!lengths)
    return "out of memory";
  const char *why = pq_delta_binary_decode(data, len, n, 0, lengths, &header);
  if(why) {
    free(lengths);
    return why;
  }
  size_t pos = header;
  for(size_t i = 0; i < n; i++) {
    if(lengths[i] < 0 || (size_t)lengths[i] > len - pos) {
      free(lengths);
      return "DELTA_LENGTH_BYTE_ARRAY value past the end of the page";
    }
    out[i].data = data + pos;
    out[i].len = (uint32_t)lengths[i];
    pos += (size_t)lengths[i];
  }
  free(lengths);
  *used = pos;
  return NULL;
}

const char *pq_delta_byte_array_decode(const uint8_t *data, size_t len, size_t n,
                                       uint64_t limit, parquet_bytes *out, uint8_t **heap)
{
  *heap = NULL;
  int32_t *prefix = malloc((n ? n : 1) * sizeof(int32_t));
  parquet_bytes *suffix = malloc((n ? n : 1) * sizeof(parquet_bytes));
  const char *why = NULL;
  size_t used, used_suffix;
  if(!prefix || !suffix) {
    why = "out of memory";
    goto done;
  }
  if((why = pq_delta_binary_decode(data, len, n, 0, prefix, &used)))
    goto done;
  if((why = pq_delta_length_decode(data + used, len - used, n, suffix, &used_suffix)))
    goto done;
  uint64_t total = 0, previous = 0;
  for(size_t i = 0; i < n; i++) {
    if(prefix[i] < 0 || (uint64_t)prefix[i] > previous) {
      why = "DELTA_BYTE_ARRAY prefix longer than the previous value";
      goto done;
    }
    previous = (uint64_t)prefix[i] + suffix[i].len;
    if(previous > UINT32_MAX) {
      why = "DELTA_BYTE_ARRAY value too long";
      goto done;
    }
    total += previous;
    if(total > limit) {
      why = "DELTA_BYTE_ARRAY expands beyond the limit";
      goto done;
    }
  }
  *heap = malloc(total ? (size_t)total : 1);
  if(!*heap) {
    why = "out of memory";
    goto done;
  }
  uint8_t *at = *heap;
  const uint8_t *prev = NULL;
  for(size_t i = 0; i < n; i++) {
    size_t p = (size_t)prefix[i];
    if(p)
      memcpy(at, prev, p);
    if(suffix[i].len)
      memcpy(at + p, suffix[i].data, suffix[i].len);
    out[i].data = at;
    out[i].len = (uint32_t)(p + suffix[i].len);
    prev = at;
    at += out[i].len;
  }
done:
  free(prefix);
  free(suffix);
  if(why) {
    free(*heap);
    *heap = NULL;
  }
  return why;
}

const char *pq_byte_stream_split_decode(const uint8_t *data, size_t len, size_t n,
                                        size_t width, uint8_t *out)
{
  if(!width || n > len / width)
    return "BYTE_STREAM_SPLIT values past the end of the page";
  /* Streams are sized by the page's value count, so the layout depends on
   * the page's total rather than on n when they differ. */
  size_t stream = len / width;
  if(stream * width != len)
    return "BYTE_STREAM_SPLIT page size is not a multiple of the value width";
  for(size_t b = 0; b < width; b++) {
    const uint8_t *s = data + b * stream;
    for(size_t i = 0; i < n; i++)
      out[i * width + b] = s[i];
  }
  return NULL;
}

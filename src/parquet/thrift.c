#include "parquet/thrift.h"

#include <string.h>

void thrift_reader_init(thrift_reader *r, const void *data, size_t len)
{
  memset(r, 0, sizeof(*r));
  r->pos = data;
  r->end = r->pos ? r->pos + len : r->pos; /* NULL + 0 is undefined in C */
}

cl_status thrift_reader_status(const thrift_reader *r)
{
  return r->failed;
}

cl_status thrift_reader_fail(thrift_reader *r, const char *what)
{
  if(!r->failed) {
    r->failed = CL_ERR_FORMAT;
    r->what = what;
  }
  /* Parking the cursor at the end makes every later read fail fast. */
  r->pos = r->end;
  return CL_ERR_FORMAT;
}

uint64_t thrift_read_varint(thrift_reader *r)
{
  uint64_t value = 0;
  for(int shift = 0; shift < 70; shift += 7) {
    if(r->pos >= r->end) {
      thrift_reader_fail(r, "truncated varint");
      return 0;
    }
    uint8_t byte = *r->pos++;
    if(shift == 63 && byte > 1) {
      thrift_reader_fail(r, "varint overflows 64 bits");
      return 0;
    }
    value |= (uint64_t)(byte & 0x7f) << shift;
    if(!(byte & 0x80))
      return value;
  }
  thrift_reader_fail(r, "varint too long");
  return 0;
}

int64_t thrift_read_varint_zigzag(thrift_reader *r)
{
  uint64_t v = thrift_read_varint(r);
  return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

void thrift_struct_begin(thrift_reader *r)
{
  if(r->depth + 1 >= THRIFT_MAX_DEPTH) {
    thrift_reader_fail(r, "structures nested too deeply");
    return;
  }
  r->depth++;
  r->last_field[r->depth] = 0;
}

void thrift_struct_end(thrift_reader *r)
{
  if(r->depth > 0)
    r->depth--;
}

int thrift_next_field(thrift_reader *r, int16_t *id, int *type)
{
  if(r->failed)
    return 0;
  if(r->pos >= r->end) {
    thrift_reader_fail(r, "truncated structure");
    return 0;
  }
  uint8_t byte = *r->pos++;
  if(byte == THRIFT_STOP)
    return 0;
  int delta = byte >> 4;
  *type = byte & 0x0f;
  if(*type == 0 || *type > THRIFT_STRUCT) {
    thrift_reader_fail(r, "invalid field type");
    return 0;
  }
  if(delta)
    *id = (int16_t)(r->last_field[r->depth] + delta);
  else {
    int64_t wide = thrift_read_varint_zigzag(r);
    if(wide < INT16_MIN || wide > INT16_MAX) {
      thrift_reader_fail(r, "field id out of range");
      return 0;
    }
    *id = (int16_t)wide;
  }
  r->last_field[r->depth] = *id;
  return !r->failed;
}

int32_t thrift_read_i32(thrift_reader *r, int type)
{
  if(type != THRIFT_I32 && type != THRIFT_I16 && type != THRIFT_BYTE) {
    thrift_reader_fail(r, "expected an integer field");
    return 0;
  }
  if(type == THRIFT_BYTE) {
    if(r->pos >= r->end) {
      thrift_reader_fail(r, "truncated byte");
      return 0;
    }
    return (int8_t)*r->pos++;
  }
  int64_t v = thrift_read_varint_zigzag(r);
  if(v < INT32_MIN || v > INT32_MAX) {
    thrift_reader_fail(r, "i32 out of range");
    return 0;
  }
  return (int32_t)v;
}

int64_t thrift_read_i64(thrift_reader *r, int type)
{
  if(type == THRIFT_I64)
    return thrift_read_varint_zigzag(r);
  return thrift_read_i32(r, type);
}

int thrift_read_bool_field(thrift_reader *r, int type)
{
  if(type == THRIFT_TRUE)
    return 1;
  if(type == THRIFT_FALSE)
    return 0;
  thrift_reader_fail(r, "expected a boolean field");
  return 0;
}

const uint8_t *thrift_read_binary(thrift_reader *r, int type, uint32_t *len)
{
  *len = 0;
  if(type != THRIFT_BINARY) {
    thrift_reader_fail(r, "expected a binary field");
    return NULL;
  }
  uint64_t n = thrift_read_varint(r);
  if(r->failed)
    return NULL;
  if(n > (uint64_t)(r->end - r->pos)) {
    thrift_reader_fail(r, "binary length past the end");
    return NULL;
  }
  const uint8_t *data = r->pos;
  r->pos += n;
  *len = (uint32_t)n;
  return data;
}

int thrift_read_list(thrift_reader *r, int type, int *elem_type, uint32_t *count)
{
  *count = 0;
  if(type != THRIFT_LIST && type != THRIFT_SET) {
    thrift_reader_fail(r, "expected a list field");
    return 0;
  }
  if(r->pos >= r->end) {
    thrift_reader_fail(r, "truncated list header");
    return 0;
  }
  uint8_t byte = *r->pos++;
  uint64_t n = byte >> 4;
  *elem_type = byte & 0x0f;
  if(n == 15)
    n = thrift_read_varint(r);
  if(r->failed)
    return 0;
  /* Every element takes at least one byte, which bounds what a caller
   * allocates for the list by the input size. */
  if(n > (uint64_t)(r->end - r->pos)) {
    thrift_reader_fail(r, "list count exceeds the bytes left");
    return 0;
  }
  *count = (uint32_t)n;
  return 1;
}

static void skip_bytes(thrift_reader *r, size_t n)
{
  if(n > (size_t)(r->end - r->pos)) {
    thrift_reader_fail(r, "truncated value");
    return;
  }
  r->pos += n;
}

void thrift_skip(thrift_reader *r, int type)
{
  if(r->failed)
    return;
  switch(type) {
  case THRIFT_TRUE:
  case THRIFT_FALSE:
    return; /* a boolean field's value lives in its header */
  case THRIFT_BYTE:
    skip_bytes(r, 1);
    return;
  case THRIFT_I16:
  case THRIFT_I32:
  case THRIFT_I64:
    thrift_read_varint(r);
    return;
  case THRIFT_DOUBLE:
    skip_bytes(r, 8);
    return;
  case THRIFT_BINARY: {
    uint32_t len;
    thrift_read_binary(r, type, &len);
    return;
  }
  case THRIFT_LIST:
  case THRIFT_SET: {
    int elem;
    uint32_t count;
    if(!thrift_read_list(r, type, &elem, &count))
      return;
    if(r->depth + 1 >= THRIFT_MAX_DEPTH) {
      thrift_reader_fail(r, "structures nested too deeply");
      return;
    }
    r->depth++;
    for(uint32_t i = 0; i < count && !r->failed; i++) {
      if(elem == THRIFT_TRUE || elem == THRIFT_FALSE)
        skip_bytes(r, 1); /* booleans inside a list take one byte each */
      else
        thrift_skip(r, elem);
    }
    r->depth--;
    return;
  }
  case THRIFT_MAP: {
    uint64_t count = thrift_read_varint(r);
    if(r->failed || count == 0)
      return;
    if(count > (uint64_t)(r->end - r->pos)) {
      thrift_reader_fail(r, "map count exceeds the bytes left");
      return;
    }
    if(r->pos >= r->end) {
      thrift_reader_fail(r, "truncated map header");
      return;
    }
    uint8_t kinds = *r->pos++;
    if(r->depth + 1 >= THRIFT_MAX_DEPTH) {
      thrift_reader_fail(r, "structures nested too deeply");
      return;
    }
    r->depth++;
    for(uint64_t i = 0; i < count && !r->failed; i++) {
      int key = kinds >> 4, value = kinds & 0x0f;
      if(key == THRIFT_TRUE || key == THRIFT_FALSE)
        skip_bytes(r, 1);
      else
        thrift_skip(r, key);
      if(value == THRIFT_TRUE || value == THRIFT_FALSE)
        skip_bytes(r, 1);
      else
        thrift_skip(r, value);
    }
    r->depth--;
    return;
  }
  case THRIFT_STRUCT: {
    thrift_struct_begin(r);
    int16_t id;
    int field_type;
    while(thrift_next_field(r, &id, &field_type))
      thrift_skip(r, field_type);
    thrift_struct_end(r);
    return;
  }
  default:
    thrift_reader_fail(r, "invalid value type");
  }
}

/* ---- encoder ---- */

void thrift_writer_init(thrift_writer *w, buf *out)
{
  memset(w, 0, sizeof(*w));
  w->out = out;
}

void thrift_write_varint(thrift_writer *w, uint64_t value)
{
  uint8_t bytes[10];
  size_t n = 0;
  while(value >= 0x80) {
    bytes[n++] = (uint8_t)(value | 0x80);
    value >>= 7;
  }
  bytes[n++] = (uint8_t)value;
  buf_append(w->out, bytes, n);
}

void thrift_write_zigzag(thrift_writer *w, int64_t value)
{
  thrift_write_varint(w, ((uint64_t)value << 1) ^ (uint64_t)(value >> 63));
}

void thrift_write_struct_begin(thrift_writer *w)
{
  /* The writer only emits the fixed Parquet structures, whose depth is far
   * below the limit; clamping keeps a misuse from indexing out of bounds. */
  if(w->depth + 1 < THRIFT_MAX_DEPTH)
    w->depth++;
  w->last_field[w->depth] = 0;
}

void thrift_write_struct_end(thrift_writer *w)
{
  buf_putc(w->out, THRIFT_STOP);
  if(w->depth > 0)
    w->depth--;
}

void thrift_write_field(thrift_writer *w, int16_t id, int type)
{
  int delta = id - w->last_field[w->depth];
  if(delta > 0 && delta <= 15)
    buf_putc(w->out, (char)((delta << 4) | type));
  else {
    buf_putc(w->out, (char)type);
    thrift_write_zigzag(w, id);
  }
  w->last_field[w->depth] = id;
}

void thrift_write_i32_field(thrift_writer *w, int16_t id, int32_t value)
{
  thrift_write_field(w, id, THRIFT_I32);
  thrift_write_zigzag(w, value);
}

void thrift_write_i64_field(thrift_writer *w, int16_t id, int64_t value)
{
  thrift_write_field(w, id, THRIFT_I64);
  thrift_write_zigzag(w, value);
}

void thrift_write_byte_field(thrift_writer *w, int16_t id, int8_t value)
{
  thrift_write_field(w, id, THRIFT_BYTE);
  buf_putc(w->out, (char)value);
}

void thrift_write_bool_field(thrift_writer *w, int16_t id, int value)
{
  thrift_write_field(w, id, value ? THRIFT_TRUE : THRIFT_FALSE);
}

void thrift_write_binary(thrift_writer *w, const void *data, size_t len)
{
  thrift_write_varint(w, len);
  buf_append(w->out, data, len);
}

void thrift_write_binary_field(thrift_writer *w, int16_t id, const void *data, size_t len)
{
  thrift_write_field(w, id, THRIFT_BINARY);
  thrift_write_binary(w, data, len);
}

void thrift_write_empty_struct_field(thrift_writer *w, int16_t id)
{
  thrift_write_field(w, id, THRIFT_STRUCT);
  thrift_write_struct_begin(w);
  thrift_write_struct_end(w);
}

void thrift_write_list_begin(thrift_writer *w, int elem_type, uint32_t count)
{
  if(count < 15)
    buf_putc(w->out, (char)((count << 4) | (uint32_t)elem_type));
  else {
    buf_putc(w->out, (char)(0xf0 | elem_type));
    thrift_write_varint(w, count);
  }
}

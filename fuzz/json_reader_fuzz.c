/* libFuzzer target for src/json: every input goes through the streaming
 * reader in small chunks and through json_parse; whatever json_parse
 * accepts must dump, re-parse and dump again to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json/json.h"

typedef struct fuzz_source {
  const uint8_t *data;
  size_t len;
  size_t pos;
  size_t chunk;
} fuzz_source;

static cl_status fuzz_read(void *ctx, void *dst, size_t cap, size_t *got, cl_error *err)
{
  fuzz_source *s = ctx;
  size_t n = s->chunk < cap ? s->chunk : cap;

  (void)err;
  if(n > s->len - s->pos)
    n = s->len - s->pos;
  memcpy(dst, s->data + s->pos, n);
  s->pos += n;
  *got = n;
  /* Vary the chunk size so tokens straddle chunk ends in many ways. */
  s->chunk = s->chunk % 13 + 1;
  return CL_OK;
}

static void stream_elements(const uint8_t *data, size_t size, const json_limits *limits)
{
  fuzz_source s = {data, size, 0, size ? (size_t)data[0] % 7 + 1 : 1};
  stream_source source = {fuzz_read, &s};
  json_reader *reader = json_reader_create(source, limits);
  json_arena *arena = json_arena_create(0);
  json_value *item;
  cl_error err;
  buf out = BUF_INIT;

  if(!reader || !arena)
    abort();
  if(!json_reader_begin_array(reader, &err)) {
    for(;;) {
      json_arena_reset(arena);
      if(json_reader_next(reader, arena, &item, &err) || !item)
        break;
      buf_clear(&out);
      if(json_dumps(item, &out))
        abort();
    }
  }
  (void)json_reader_offset(reader);
  buf_free(&out);
  json_reader_free(reader);
  json_arena_free(arena);
}

static void round_trip(const uint8_t *data, size_t size, const json_limits *limits)
{
  json_arena *arena = json_arena_create(0);
  json_value *value = NULL, *again = NULL;
  cl_error err;
  buf first = BUF_INIT, second = BUF_INIT;

  if(!arena)
    abort();
  if(!json_parse((const char *)data, size, limits, arena, &value, &err)) {
    if(json_dumps(value, &first))
      abort();
    if(json_parse(first.data, first.len, limits, arena, &again, &err))
      abort(); /* what we write must read back */
    if(json_dumps(again, &second))
      abort();
    if(first.len != second.len || memcmp(first.data, second.data, first.len))
      abort(); /* and mean the same */
  }
  buf_free(&first);
  buf_free(&second);
  json_arena_free(arena);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  json_limits limits;

  json_limits_default(&limits);
  limits.max_string = 4096;
  limits.max_value_bytes = (size_t)8 << 20;
  stream_elements(data, size, &limits);
  round_trip(data, size, &limits);
  return 0;
}

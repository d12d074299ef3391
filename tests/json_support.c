#include "json_support.h"

#include <string.h>

#include "unit.h"

static cl_status json_test_source_read(void *ctx, void *dst, size_t cap, size_t *got, cl_error *err)
{
  json_test_source *s = ctx;
  size_t n = s->chunk;

  if(!n) {
    s->seed = s->seed * 1103515245u + 12345u;
    n = 1 + (s->seed >> 16) % 97;
  }
  if(n > cap)
    n = cap;
  if(n > s->len - s->pos)
    n = s->len - s->pos;
  if(s->fail_at != SIZE_MAX && s->pos + n > s->fail_at)
    return cl_fail(err, CL_ERR_IO, "test source: read failed at %zu", s->fail_at);
  memcpy(dst, s->data + s->pos, n);
  s->pos += n;
  *got = n;
  return CL_OK;
}

stream_source json_test_chunked(json_test_source *s, const void *data, size_t len, size_t chunk)
{
  stream_source source = {json_test_source_read, s};
  s->data = data;
  s->len = len;
  s->pos = 0;
  s->chunk = chunk;
  s->seed = 12345;
  s->fail_at = SIZE_MAX;
  return source;
}

cl_status json_test_stream_dumps(stream_source source, const json_limits *limits, buf *out,
                                 size_t *count, cl_error *err)
{
  json_reader *reader = json_reader_create(source, limits);
  json_arena *arena = json_arena_create(0);
  json_value *item;
  cl_status status;

  *count = 0;
  status = json_reader_begin_array(reader, err);
  while(!status) {
    json_arena_reset(arena);
    status = json_reader_next(reader, arena, &item, err);
    if(status || !item)
      break;
    json_dumps(item, out);
    buf_putc(out, '\n');
    (*count)++;
  }
  json_reader_free(reader);
  json_arena_free(arena);
  return status;
}


json_arena *json_test_arena(void)
{
  static json_arena *arena;
  if(!arena)
    arena = json_arena_create(0);
  return arena;
}

const json_value *json_test_parse(const char *text)
{
  json_limits limits;
  json_value *value = NULL;
  cl_error err = {0};
  json_limits_default(&limits);
  if(json_parse(text, strlen(text), &limits, json_test_arena(), &value, &err)) {
    unit_fail(__FILE__, __LINE__, "cannot parse %s: %s", text, err.message);
    return NULL;
  }
  return value;
}

#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Most bufs hold a key, a number or a short message: one allocation of this
 * size covers them, and doubling from it reaches large sizes in few steps. */
#define BUF_FIRST_CAPACITY 64

void buf_init(buf *b, size_t limit)
{
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
  b->limit = limit;
  b->failed = CL_OK;
}

void buf_free(buf *b)
{
  if(!b)
    return;
  free(b->data);
  buf_init(b, b->limit);
}

void buf_clear(buf *b)
{
  b->len = 0;
  b->failed = CL_OK;
  if(b->data)
    b->data[0] = '\0';
}

cl_status buf_status(const buf *b)
{
  return b->failed;
}

cl_status buf_reserve(buf *b, size_t extra)
{
  size_t need, cap;
  char *grown;

  if(b->failed)
    return b->failed;
  if(extra > SIZE_MAX - b->len - 1 ||
     (b->limit && b->len + extra > b->limit))
    return b->failed = CL_ERR_LIMIT;
  need = b->len + extra + 1;
  if(need <= b->cap)
    return CL_OK;
  cap = b->cap ? b->cap : BUF_FIRST_CAPACITY;
  while(cap < need)
    cap = cap > SIZE_MAX / 2 ? need : cap * 2;
  grown = realloc(b->data, cap);
  if(!grown)
    return b->failed = CL_ERR_NOMEM;
  b->data = grown;
  b->cap = cap;
  return CL_OK;
}

cl_status buf_append(buf *b, const void *data, size_t len)
{
  cl_status status = buf_reserve(b, len);
  if(status)
    return status;
  if(len)
    memcpy(b->data + b->len, data, len);
  b->len += len;
  b->data[b->len] = '\0';
  return CL_OK;
}

cl_status buf_append_str(buf *b, const char *s)
{
  return buf_append(b, s, strlen(s));
}

cl_status buf_putc(buf *b, char c)
{
  if(!b->failed && b->len + 1 < b->cap && (!b->limit || b->len < b->limit)) {
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
    return CL_OK;
  }
  return buf_append(b, &c, 1);
}

cl_status buf_fill(buf *b, char c, size_t n)
{
  cl_status status = buf_reserve(b, n);
  if(status)
    return status;
  memset(b->data + b->len, c, n);
  b->len += n;
  b->data[b->len] = '\0';
  return CL_OK;
}

cl_status buf_printf(buf *b, const char *fmt, ...)
{
  va_list ap;
  int n;
  cl_status status;

  if(b->failed)
    return b->failed;
  va_start(ap, fmt);
  n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if(n < 0)
    return b->failed = CL_ERR_INTERNAL;
  status = buf_reserve(b, (size_t)n);
  if(status)
    return status;
  va_start(ap, fmt);
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
  return CL_OK;
}

void buf_truncate(buf *b, size_t len)
{
  if(len < b->len) {
    b->len = len;
    b->data[len] = '\0';
  }
}

char *buf_take(buf *b, size_t *len)
{
  char *data = b->data;
  if(len)
    *len = b->len;
  if(!data)
    data = calloc(1, 1);
  buf_init(b, b->limit);
  return data;
}

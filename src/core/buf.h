/*
 * buf: the growable byte buffer the rest of the code trusts.
 *
 * A buf owns its bytes, keeps them NUL-terminated (so text can be handed to
 * C string functions without a copy), and grows geometrically up to an
 * optional size cap. Failures are sticky: once an append fails (out of memory
 * or over the cap) every later append is a no-op and buf_status() reports the
 * first failure, so encoders can append many pieces and check once.
 */
#ifndef COLLATOR_CORE_BUF_H
#define COLLATOR_CORE_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef struct buf {
  char *data;       /* NULL until the first append; always NUL-terminated after */
  size_t len;
  size_t cap;
  size_t limit;     /* maximum len; 0 means no cap */
  cl_status failed; /* first failure, sticky */
} buf;

#define BUF_INIT {NULL, 0, 0, 0, CL_OK}

void buf_init(buf *b, size_t limit);
void buf_free(buf *b);
/* Forget the contents and any failure but keep the allocation. */
void buf_clear(buf *b);

cl_status buf_reserve(buf *b, size_t extra);
cl_status buf_append(buf *b, const void *data, size_t len);
cl_status buf_append_str(buf *b, const char *s);
cl_status buf_putc(buf *b, char c);
cl_status buf_printf(buf *b, const char *fmt, ...)
  __attribute__((format(printf, 2, 3)));
/* Append n copies of byte c. */
cl_status buf_fill(buf *b, char c, size_t n);
/* Shorten to len bytes (len <= b->len). */
void buf_truncate(buf *b, size_t len);

/* The first failure since init or clear, CL_OK when every append succeeded. */
cl_status buf_status(const buf *b);

/* Hand the bytes to the caller (who frees them with free()) and reset b.
 * Returns an empty string rather than NULL for an empty buffer, and NULL
 * only when even that cannot be allocated. */
char *buf_take(buf *b, size_t *len);

#endif

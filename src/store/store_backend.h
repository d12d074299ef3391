/*
 * store_backend: the seam between store.c and its backends (internal).
 *
 * store.c owns what every backend shares (argument checks, statistics, the
 * crash-test fault hook) and forwards each operation through a table of
 * function pointers. A backend embeds `store` as the first member of its own
 * handle and `store_reader` as the first member of its readers, so the
 * pointers convert both ways.
 */
#ifndef COLLATOR_STORE_STORE_BACKEND_H
#define COLLATOR_STORE_STORE_BACKEND_H

#include "store.h"

typedef struct store_ops {
  cl_status (*head)(store *s, const char *key, store_info *info, cl_error *err);
  cl_status (*get)(store *s, const char *key, buf *out, store_info *info, cl_error *err);
  cl_status (*get_to_fd)(store *s, const char *key, int fd, store_info *info,
                         cl_error *err);
  /* NULL: store_get_fd copies the object into a temp file in $TMPDIR. */
  cl_status (*get_fd)(store *s, const char *key, int *fd, store_info *info, cl_error *err);
  cl_status (*reader_open)(store *s, const char *key, store_reader **out,
                           store_info *info, cl_error *err);
  cl_status (*read_range)(store *s, const char *key, const char *etag, uint64_t offset,
                          void *dst, size_t len, cl_error *err);
  cl_status (*put)(store *s, const char *key, const void *data, size_t len,
                   const store_precondition *precondition, store_info *written,
                   cl_error *err);
  cl_status (*put_fd)(store *s, const char *key, int fd, uint64_t size,
                      const store_precondition *precondition, store_info *written,
                      cl_error *err);
  /* NULL: store_copy is CL_ERR_UNSUPPORTED. */
  cl_status (*copy)(store *s, const char *from, const char *from_etag, const char *key,
                    const store_precondition *precondition, cl_error *err);
  /* NULL: store_temp_fd makes a temp file in $TMPDIR. */
  cl_status (*temp_fd)(store *s, int *fd, cl_error *err);
  cl_status (*remove)(store *s, const char *key, cl_error *err);
  cl_status (*list)(store *s, const char *prefix, store_list_fn fn, void *ctx,
                    cl_error *err);
  void (*free)(store *s);
} store_ops;

struct store {
  const store_ops *ops;
  char *name;        /* "file:///abs/dir" or "s3://bucket", owned */
  store_stats stats; /* updated by the backend */
};

struct store_reader {
  stream_source source;
  void (*free)(store_reader *reader);
};

/* Backend constructors, called by store_open once it has checked the URL:
 * `location` is the URL with its scheme removed, never empty. */
cl_status store_fs_open(const char *location, store **out, cl_error *err);
cl_status store_s3_open(const char *bucket, store **out, cl_error *err);

#endif

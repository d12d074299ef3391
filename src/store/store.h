/*
 * store: the object store the collator reads uploads from and writes
 * collated files to, behind one interface with two backends.
 *
 * "DIR" or "file://DIR" is a local bucket: key K is the file DIR/K, writes
 * go to a temp file and are renamed into place, and conditional writes are
 * atomic across processes. "s3://BUCKET" is S3 (or an S3-compatible server
 * through S3_ENDPOINT) over libcurl with SigV4, retries with full-jitter
 * backoff, multipart uploads for large objects and conditional PUTs.
 *
 * Every object has an ETag. A read-modify-write reads an object's ETag and
 * writes back with STORE_IF_MATCH on it (or STORE_IF_ABSENT when it did not
 * exist); losing the race is CL_ERR_CONFLICT, which callers handle by
 * re-reading. A missing object is CL_ERR_NOT_FOUND. Failures worth retrying
 * at a higher level are CL_ERR_TRANSIENT; messages name the store and key.
 *
 * Local store details: keys with a leading "/", an empty, "." or ".."
 * segment, or a segment starting with ".collator-" (reserved for temp files
 * and .collator-locks/) are CL_ERR_USAGE. The ETag is "INODE-SIZE-MTIMENS"
 * in hex, from stat alone; every write gets a new inode (or, by store_copy,
 * its source's) and an mtime later than the version it replaces, so an ETag
 * never repeats for a key. Writes and deletes of one key serialise on a
 * byte-range lock (an open file description lock, one of 65536 stripes) of
 * DIR/.collator-locks/stripes.
 * Keys "a" and "a/b" cannot both exist (CL_ERR_IO).
 *
 * S3 details: see store_s3.c's opening comment; the environment it reads is
 * AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
 * AWS_SHARED_CREDENTIALS_FILE, AWS_PROFILE, AWS_REGION, AWS_DEFAULT_REGION,
 * S3_ENDPOINT, AWS_ENDPOINT_URL_S3, COLLATOR_S3_MAX_ATTEMPTS (default 3) and
 * COLLATOR_LIBCURL (the libcurl to load, default libcurl.so.4).
 *
 * Crash tests: with COLLATOR_FAULT_AFTER_WRITES=N in the environment, the
 * process exits with status 99 (via _exit, no cleanup) right before its
 * (N+1)th mutating operation (store_put, store_put_fd, store_copy,
 * store_delete), counted over all store handles of the process.
 *
 * A handle is used by one thread at a time; open one per worker thread.
 */
#ifndef COLLATOR_STORE_STORE_H
#define COLLATOR_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/stream.h"

#define STORE_ETAG_MAX 128

typedef struct store store;

typedef struct store_info {
  uint64_t size;
  char etag[STORE_ETAG_MAX]; /* opaque, as the backend gives it */
} store_info;

typedef enum store_condition {
  STORE_ALWAYS,    /* unconditional write */
  STORE_IF_MATCH,  /* only if the object's ETag is still `etag` */
  STORE_IF_ABSENT  /* only if no object exists (If-None-Match: *) */
} store_condition;

typedef struct store_precondition {
  store_condition condition;
  const char *etag; /* STORE_IF_MATCH only */
} store_precondition;

typedef struct store_stats {
  uint64_t requests;      /* operations sent (HTTP requests, or file operations) */
  uint64_t retries;       /* of those, repeated after a transient failure */
  uint64_t bytes_read;
  uint64_t bytes_written;
  uint64_t conflicts;     /* conditional writes that lost */
} store_stats;

/* url: "DIR", "file://DIR" or "s3://BUCKET". NULL means $COLLATOR_STORE,
 * else the current directory. S3 configuration comes from the environment
 * (AWS_* credentials and region, S3_ENDPOINT / AWS_ENDPOINT_URL_S3). */
cl_status store_open(const char *url, store **out, cl_error *err);
void store_free(store *s);

/* Whether url is one store_open takes, without opening it (no credentials,
 * no libcurl, no filesystem): CL_ERR_USAGE with store_open's message if not,
 * so that a bad setting is reported where the configuration is read. */
cl_status store_check_url(const char *url, cl_error *err);

/* Start loading what an S3 store needs (libcurl, and with it OpenSSL: ~15 ms
 * of dynamic loading on Debian) on a background thread, for a process that
 * will open one soon; the Lambda runtime calls it before its first `next`,
 * so the loading overlaps the wait for an event instead of delaying the
 * start. store_open of an s3:// URL waits for it, or loads by itself when
 * nothing preloaded. Calling it again does nothing. */
void store_s3_preload(void);

/* "file:///abs/dir" or "s3://bucket", for messages and logs. */
const char *store_name(const store *s);
void store_get_stats(const store *s, store_stats *stats);

cl_status store_head(store *s, const char *key, store_info *info, cl_error *err);

/* Whole object into out (appended); for small objects (txt, events, tests). */
cl_status store_get(store *s, const char *key, buf *out, store_info *info, cl_error *err);

/* Whole object into a local file descriptor (written from its current
 * position); memory stays bounded whatever the size. */
cl_status store_get_to_fd(store *s, const char *key, int fd, store_info *info,
                          cl_error *err);

/* The whole object as a read-only descriptor at offset 0, which the caller
 * closes and must not write to. On a local store it is the object's own
 * file, opened rather than copied; like a reader it keeps the version it
 * opened, even after the object is replaced or deleted. Elsewhere it is a
 * temp file in $TMPDIR (default /tmp) holding a copy. */
cl_status store_get_fd(store *s, const char *key, int *fd, store_info *info, cl_error *err);

/* Streaming read: the object's bytes on demand. The reader is pinned to the
 * version it opened: if the object is replaced meanwhile, a later read fails
 * with CL_ERR_CONFLICT rather than mixing versions. */
typedef struct store_reader store_reader;
cl_status store_reader_open(store *s, const char *key, store_reader **out,
                            store_info *info, cl_error *err);
stream_source store_reader_source(store_reader *reader);
/* Readers belong to their store: free them before store_free. */
void store_reader_free(store_reader *reader);

/* Bytes [offset, offset + len) of the object; with etag non-NULL the read
 * fails with CL_ERR_CONFLICT if the object no longer has that ETag. */
cl_status store_read_range(store *s, const char *key, const char *etag, uint64_t offset,
                           void *dst, size_t len, cl_error *err);

/* Write an object from memory. written (may be NULL) receives the new ETag. */
cl_status store_put(store *s, const char *key, const void *data, size_t len,
                    const store_precondition *precondition, store_info *written,
                    cl_error *err);
/* Write an object from a local file of `size` bytes read from offset 0;
 * large files go up as a multipart upload with bounded memory. */
cl_status store_put_fd(store *s, const char *key, int fd, uint64_t size,
                       const store_precondition *precondition, store_info *written,
                       cl_error *err);

/* Object `from`, while its ETag is still from_etag, copied to `key` without
 * its bytes passing through this process: on a local store a link to the
 * source's file, so the two keys then share one file and one ETag (its
 * bytes are copied only when the key holds a version newer than that
 * file). The precondition is on `key`, as for a put; a source that is gone
 * or has changed is CL_ERR_CONFLICT too. On S3 it is CopyObject with
 * x-amz-copy-source-if-match, for objects of up to STORE_COPY_MAX_BYTES. A
 * store that cannot copy says CL_ERR_UNSUPPORTED and does nothing. */
#define STORE_COPY_MAX_BYTES (5ull << 30)
cl_status store_copy(store *s, const char *from, const char *from_etag, const char *key,
                     const store_precondition *precondition, cl_error *err);

/* A read-write descriptor of a new temp file without a name (it is gone
 * once its last descriptor closes), for building an object to hand to
 * store_put_fd; the caller closes it. On a local store it is made inside
 * DIR, so that store_put_fd can link the file into place instead of copying
 * its bytes (when size is the file's whole length); after that the
 * descriptor refers to the stored object, so the caller must not write to it
 * again. Where it cannot be made in DIR, and on S3, it is a temp file in
 * $TMPDIR (default /tmp), like any other. */
cl_status store_temp_fd(store *s, int *fd, cl_error *err);
/* Whether store_put_fd makes a file from store_temp_fd durable where it is
 * (the local store fsyncs it): a writer of a large one may then start its
 * writeback early (stream_fd.writeback_every). */
int store_syncs_temp_files(const store *s);

/* Deleting a missing object succeeds (as S3's DELETE does). */
cl_status store_delete(store *s, const char *key, cl_error *err);

/* Call fn for every key under prefix, in byte order. fn may stop the
 * listing by returning a non-OK status, which store_list returns. */
typedef cl_status (*store_list_fn)(void *ctx, const char *key, const store_info *info,
                                   cl_error *err);
cl_status store_list(store *s, const char *prefix, store_list_fn fn, void *ctx,
                     cl_error *err);

#endif

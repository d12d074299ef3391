#include "store_backend.h"

#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* What a store URL names: a bucket (copied into bucket) or a directory
 * (*dir, borrowed from url). */
static cl_status parse_url(const char *url, char bucket[256], const char **dir, cl_error *err)
{
  bucket[0] = '\0';
  *dir = NULL;
  if(!strncmp(url, "s3://", 5)) {
    const char *name = url + 5;
    size_t len = strlen(name);
    if(len && name[len - 1] == '/')
      len--;
    if(!len || memchr(name, '/', len))
      return cl_fail(err, CL_ERR_USAGE,
                     "store URL '%s': expected s3://BUCKET (no key prefix)", url);
    if(len >= 256)
      return cl_fail(err, CL_ERR_USAGE, "store URL '%s': bucket name too long", url);
    memcpy(bucket, name, len);
    bucket[len] = '\0';
    return CL_OK;
  }
  if(!strncmp(url, "file://", 7))
    *dir = url + 7;
  else if(strstr(url, "://"))
    return cl_fail(err, CL_ERR_USAGE,
                   "store URL '%s': unknown scheme (use a directory, file://DIR or s3://BUCKET)",
                   url);
  else
    *dir = url;
  if(!**dir)
    return cl_fail(err, CL_ERR_USAGE, "store: empty directory name");
  return CL_OK;
}

cl_status store_check_url(const char *url, cl_error *err)
{
  char bucket[256];
  const char *dir;
  return parse_url(url, bucket, &dir, err);
}

cl_status store_open(const char *url, store **out, cl_error *err)
{
  *out = NULL;
  if(!url || !*url)
    url = getenv("COLLATOR_STORE");
  if(!url || !*url)
    url = ".";
  char bucket[256];
  const char *dir;
  cl_status status = parse_url(url, bucket, &dir, err);
  if(status)
    return status;
  return dir ? store_fs_open(dir, out, err) : store_s3_open(bucket, out, err);
}

void store_free(store *s)
{
  if(s)
    s->ops->free(s);
}

const char *store_name(const store *s)
{
  return s->name;
}

void store_get_stats(const store *s, store_stats *stats)
{
  *stats = s->stats;
}

static cl_status check_key(const store *s, const char *key, cl_error *err)
{
  if(!key || !*key)
    return cl_fail(err, CL_ERR_USAGE, "%s: empty object key", s->name);
  return CL_OK;
}

static cl_status check_precondition(const store *s, const char *key,
                                    const store_precondition *precondition, cl_error *err)
{
  if(!precondition)
    return CL_OK;
  switch(precondition->condition) {
  case STORE_ALWAYS:
  case STORE_IF_ABSENT:
    return CL_OK;
  case STORE_IF_MATCH:
    if(!precondition->etag || !*precondition->etag)
      return cl_fail(err, CL_ERR_USAGE, "%s/%s: STORE_IF_MATCH without an ETag", s->name,
                     key);
    return CL_OK;
  }
  return cl_fail(err, CL_ERR_USAGE, "%s/%s: unknown write condition %d", s->name, key,
                 (int)precondition->condition);
}

/* Crash tests need a process to die between two writes at a chosen point;
 * counting mutations process-wide (not per handle) lets a test address "the
 * Nth write of this run" without knowing how the code under test opens
 * stores. */
static atomic_ulong mutations_started;

static void fault_before_mutation(void)
{
  const char *limit_text = getenv("COLLATOR_FAULT_AFTER_WRITES");
  if(!limit_text || !*limit_text)
    return;
  char *end;
  unsigned long limit = strtoul(limit_text, &end, 10);
  if(*end)
    return;
  unsigned long done = atomic_fetch_add(&mutations_started, 1);
  if(done >= limit) {
    static const char message[] =
      "collator: COLLATOR_FAULT_AFTER_WRITES reached, exiting with status 99\n";
    if(write(STDERR_FILENO, message, sizeof(message) - 1) < 0) {
      /* Nothing to do: the process is going down either way. */
    }
    _exit(99);
  }
}

/* Checks a write's arguments and only then counts it as a mutation, so a
 * rejected write never trips the crash-test fault. */
static cl_status start_write(const store *s, const char *key,
                             const store_precondition *precondition, cl_error *err)
{
  cl_status status = check_key(s, key, err);
  if(!status)
    status = check_precondition(s, key, precondition, err);
  if(status)
    return status;
  fault_before_mutation();
  return CL_OK;
}

cl_status store_head(store *s, const char *key, store_info *info, cl_error *err)
{
  cl_status status = check_key(s, key, err);
  if(status)
    return status;
  store_info ignored;
  return s->ops->head(s, key, info ? info : &ignored, err);
}

cl_status store_get(store *s, const char *key, buf *out, store_info *info, cl_error *err)
{
  cl_status status = check_key(s, key, err);
  if(status)
    return status;
  store_info ignored;
  return s->ops->get(s, key, out, info ? info : &ignored, err);
}

cl_status store_get_to_fd(store *s, const char *key, int fd, store_info *info,
                          cl_error *err)
{
  cl_status status = check_key(s, key, err);
  if(status)
    return status;
  store_info ignored;
  return s->ops->get_to_fd(s, key, fd, info ? info : &ignored, err);
}

cl_status store_get_fd(store *s, const char *key, int *fd, store_info *info, cl_error *err)
{
  *fd = -1;
  cl_status status = check_key(s, key, err);
  if(status)
    return status;
  store_info ignored;
  if(!info)
    info = &ignored;
  if(s->ops->get_fd)
    return s->ops->get_fd(s, key, fd, info, err);
  int temp;
  status = stream_temp_fd(&temp, err);
  if(status)
    return status;
  status = s->ops->get_to_fd(s, key, temp, info, err);
  if(!status && lseek(temp, 0, SEEK_SET) != 0)
    status = cl_fail(err, CL_ERR_IO, "%s/%s: rewinding the temp file: %s", s->name, key,
                     strerror(errno));
  if(status) {
    close(temp);
    return status;
  }
  *fd = temp;
  return CL_OK;
}

cl_status store_reader_open(store *s, const char *key, store_reader **out,
                            store_info *info, cl_error *err)
{
  *out = NULL;
  cl_status status = check_key(s, key, err);
  if(status)
    return status;
  store_info ignored;
  return s->ops->reader_open(s, key, out, info ? info : &ignored, err);
}

stream_source store_reader_source(store_reader *reader)
{
  return reader->source;
}

void store_reader_free(store_reader *reader)
{
  if(reader)
    reader->free(reader);
}

cl_status store_read_range(store *s, const char *key, const char *etag, uint64_t offset,
                           void *dst, size_t len, cl_error *err)
{
  cl_status status = check_key(s, key, err);
  if(status)
    return status;
  if(offset + len < offset)
    return cl_fail(err, CL_ERR_USAGE, "%s/%s: range overflows", s->name, key);
  if(etag && !*etag)
    return cl_fail(err, CL_ERR_USAGE, "%s/%s: ranged read pinned to an empty ETag", s->name,
                   key);
  return s->ops->read_range(s, key, etag, offset, dst, len, err);
}

cl_status store_put(store *s, const char *key, const void *data, size_t len,
                    const store_precondition *precondition, store_info *written,
                    cl_error *err)
{
  cl_status status = start_write(s, key, precondition, err);
  if(status)
    return status;
  store_info ignored;
  return s->ops->put(s, key, data, len, precondition, written ? written : &ignored, err);
}

cl_status store_put_fd(store *s, const char *key, int fd, uint64_t size,
                       const store_precondition *precondition, store_info *written,
                       cl_error *err)
{
  cl_status status = start_write(s, key, precondition, err);
  if(status)
    return status;
  store_info ignored;
  return s->ops->put_fd(s, key, fd, size, precondition, written ? written : &ignored, err);
}

cl_status store_copy(store *s, const char *from, const char *from_etag, const char *key,
                     const store_precondition *precondition, cl_error *err)
{
  /* Refused before start_write: what is not tried is no mutation. */
  if(!s->ops->copy)
    return cl_fail(err, CL_ERR_UNSUPPORTED, "%s: this store cannot copy objects", s->name);
  cl_status status = check_key(s, from, err);
  if(!status && (!from_etag || !*from_etag))
    status = cl_fail(err, CL_ERR_USAGE, "%s/%s: copy of %s without its ETag", s->name, key,
                     from);
  if(!status)
    status = start_write(s, key, precondition, err);
  if(status)
    return status;
  return s->ops->copy(s, from, from_etag, key, precondition, err);
}

cl_status store_temp_fd(store *s, int *fd, cl_error *err)
{
  *fd = -1;
  if(s->ops->temp_fd)
    return s->ops->temp_fd(s, fd, err);
  return stream_temp_fd(fd, err);
}

int store_syncs_temp_files(const store *s)
{
  return s->ops->temp_fd != NULL;
}

cl_status store_delete(store *s, const char *key, cl_error *err)
{
  cl_status status = start_write(s, key, NULL, err);
  if(status)
    return status;
  return s->ops->remove(s, key, err);
}

cl_status store_list(store *s, const char *prefix, store_list_fn fn, void *ctx,
                     cl_error *err)
{
  return s->ops->list(s, prefix ? prefix : "", fn, ctx, err);
}

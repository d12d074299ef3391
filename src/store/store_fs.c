/* The local backend: a directory tree stands in for a bucket.
 *
 * ETags come from stat alone (inode, size, mtime in ns) so that head and
 * list never read file contents. Every write replaces the file by rename, so
 * the new version always has a new inode while the old one is still linked;
 * an inode can only come back after the old version is gone, and writers
 * stamp each new version with an mtime strictly later than the version they
 * replace, so an ETag never repeats for a key. Writers of one key serialise
 * on an flock()ed lock file (one of 4096 stripes under .collator-locks/),
 * which makes the re-check of a precondition and the rename one atomic step
 * for every process on the machine. */
#include "store_backend.h"

#include <dirent.h>
#include <stdatomic.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/digest.h"

#define FS_RESERVED_PREFIX ".collator-"
#define FS_LOCK_DIR ".collator-locks"
#define FS_COPY_CHUNK (256 * 1024)

typedef struct fs_store {
  store base;
  char *root; /* absolute, no trailing slash */
} fs_store;

typedef struct fs_reader {
  store_reader base;
  fs_store *owner;
  int fd;
  char *name; /* for messages */
} fs_reader;

static fs_store *fs_of(store *s)
{
  return (fs_store *)s;
}

/* Keys become paths, so anything that would leave the root, alias another
 * key or collide with our own temp and lock files is refused. */
static cl_status check_fs_key(const fs_store *fs, const char *key, int allow_partial_tail,
                              cl_error *err)
{
  const char *segment = key;
  if(*key == '/')
    return cl_fail(err, CL_ERR_USAGE, "%s: key '%s' starts with '/'", fs->base.name, key);
  for(;;) {
    const char *slash = strchr(segment, '/');
    size_t len = slash ? (size_t)(slash - segment) : strlen(segment);
    int is_tail = !slash;
    if(len == 0 && !(is_tail && allow_partial_tail))
      return cl_fail(err, CL_ERR_USAGE, "%s: key '%s' has an empty path segment",
                     fs->base.name, key);
    if(!(is_tail && allow_partial_tail)) {
      if((len == 1 && segment[0] == '.') || (len == 2 && !memcmp(segment, "..", 2)))
        return cl_fail(err, CL_ERR_USAGE, "%s: key '%s' has a '.' or '..' segment",
                       fs->base.name, key);
      if(len >= sizeof(FS_RESERVED_PREFIX) - 1 &&
         !memcmp(segment, FS_RESERVED_PREFIX, sizeof(FS_RESERVED_PREFIX) - 1))
        return cl_fail(err, CL_ERR_USAGE,
                       "%s: key '%s' uses the reserved name prefix '" FS_RESERVED_PREFIX "'",
                       fs->base.name, key);
    }
    if(!slash)
      return CL_OK;
    segment = slash + 1;
  }
}

static cl_status object_path(fs_store *fs, const char *key, buf *path, cl_error *err)
{
  cl_status status = check_fs_key(fs, key, 0, err);
  if(status)
    return status;
  buf_printf(path, "%s/%s", fs->root, key);
  if(buf_status(path))
    return cl_fail(err, CL_ERR_NOMEM, "%s/%s: out of memory", fs->base.name, key);
  return CL_OK;
}

static void format_etag(const struct stat *st, char etag[STORE_ETAG_MAX])
{
  unsigned long long mtime_ns = (unsigned long long)st->st_mtim.tv_sec * 1000000000ull +
                                (unsigned long long)st->st_mtim.tv_nsec;
  snprintf(etag, STORE_ETAG_MAX, "%llx-%llx-%llx", (unsigned long long)st->st_ino,
           (unsigned long long)st->st_size, mtime_ns);
}

static void fill_info(const struct stat *st, store_info *info)
{
  info->size = (uint64_t)st->st_size;
  format_etag(st, info->etag);
}

static cl_status errno_failure(fs_store *fs, const char *key, const char *what, int error,
                               cl_error *err)
{
  if(error == ENOENT || error == ENOTDIR)
    return cl_fail(err, CL_ERR_NOT_FOUND, "%s/%s: no such object", fs->base.name, key);
  return cl_fail(err, CL_ERR_IO, "%s/%s: %s: %s", fs->base.name, key, what, strerror(error));
}

/* Open an object for reading (one store request); a directory at the key is
 * not an object. */
static cl_status open_object(fs_store *fs, const char *key, int *fd_out, struct stat *st,
                             cl_error *err)
{
  fs->base.stats.requests++;
  buf path = BUF_INIT;
  cl_status status = object_path(fs, key, &path, err);
  if(status) {
    buf_free(&path);
    return status;
  }
  int fd = open(path.data, O_RDONLY | O_CLOEXEC);
  int error = errno;
  buf_free(&path);
  if(fd < 0)
    return errno_failure(fs, key, "open", error, err);
  if(fstat(fd, st)) {
    error = errno;
    close(fd);
    return errno_failure(fs, key, "stat", error, err);
  }
  if(!S_ISREG(st->st_mode)) {
    close(fd);
    return cl_fail(err, CL_ERR_NOT_FOUND, "%s/%s: no such object (not a regular file)",
                   fs->base.name, key);
  }
  *fd_out = fd;
  return CL_OK;
}

static cl_status read_fully(fs_store *fs, const char *key, int fd, void *dst, size_t len,
                            uint64_t offset, cl_error *err)
{
  char *p = dst;
  while(len) {
    ssize_t n = pread(fd, p, len, (off_t)offset);
    if(n < 0) {
      if(errno == EINTR)
        continue;
      return errno_failure(fs, key, "read", errno, err);
    }
    if(n == 0)
      return cl_fail(err, CL_ERR_FORMAT, "%s/%s: range ends past the end of the object",
                     fs->base.name, key);
    p += n;
    len -= (size_t)n;
    offset += (uint64_t)n;
    fs->base.stats.bytes_read += (uint64_t)n;
  }
  return CL_OK;
}

static cl_status write_fully(int fd, const void *data, size_t len, const char *what,
                             cl_error *err)
{
  stream_fd out = {fd, what, 0};
  stream_sink sink = stream_sink_to_fd(&out);
  return sink.write(sink.ctx, data, len, err);
}

static cl_status fs_head(store *s, const char *key, store_info *info, cl_error *err)
{
  fs_store *fs = fs_of(s);
  buf path = BUF_INIT;
  struct stat st;
  s->stats.requests++;
  cl_status status = object_path(fs, key, &path, err);
  if(!status && stat(path.data, &st))
    status = errno_failure(fs, key, "stat", errno, err);
  else if(!status && !S_ISREG(st.st_mode))
    status = cl_fail(err, CL_ERR_NOT_FOUND, "%s/%s: no such object (not a regular file)",
                     s->name, key);
  buf_free(&path);
  if(!status)
    fill_info(&st, info);
  return status;
}

/* GET into a sink, whose messages get the object's name in front. With
 * `whole` (the buf behind the sink) room for the object is reserved first,
 * so an object over the buf's cap fails before any read. The open descriptor
 * pins the version; reading to EOF rather than st_size takes in all of a file
 * that something else dropped in and is still writing. */
static cl_status get_to_sink(store *s, const char *key, store_info *info, buf *whole,
                             stream_sink sink, cl_error *err)
{
  fs_store *fs = fs_of(s);
  struct stat st;
  int fd;
  cl_status status = open_object(fs, key, &fd, &st, err);
  if(status)
    return status;
  fill_info(&st, info);
  if(whole && buf_reserve(whole, (size_t)st.st_size + 1)) {
    close(fd);
    return cl_fail(err, buf_status(whole), "%s/%s: buffering %llu bytes: %s", s->name, key,
                   (unsigned long long)st.st_size, cl_status_name(buf_status(whole)));
  }
  char *chunk = malloc(FS_COPY_CHUNK);
  if(!chunk) {
    close(fd);
    return cl_fail(err, CL_ERR_NOMEM, "%s/%s: out of memory", s->name, key);
  }
  for(;;) {
    ssize_t n = read(fd, chunk, FS_COPY_CHUNK);
    if(n < 0 && errno == EINTR)
      continue;
    if(n < 0) {
      status = errno_failure(fs, key, "read", errno, err);
      break;
    }
    if(n == 0)
      break;
    status = sink.write(sink.ctx, chunk, (size_t)n, err);
    if(status) {
      cl_error_prefix(err, "%s/%s", s->name, key);
      break;
    }
    s->stats.bytes_read += (uint64_t)n;
  }
  free(chunk);
  close(fd);
  return status;
}

static cl_status fs_get(store *s, const char *key, buf *out, store_info *info, cl_error *err)
{
  return get_to_sink(s, key, info, out, stream_sink_to_buf(out), err);
}

static cl_status fs_get_to_fd(store *s, const char *key, int out_fd, store_info *info,
                              cl_error *err)
{
  stream_fd destination = {out_fd, "copying to the destination file", 0};
  return get_to_sink(s, key, info, NULL, stream_sink_to_fd(&destination), err);
}

static cl_status fs_reader_read(void *ctx, void *dst, size_t cap, size_t *got, cl_error *err)
{
  fs_reader *reader = ctx;
  for(;;) {
    ssize_t n = read(reader->fd, dst, cap);
    if(n >= 0) {
      *got = (size_t)n;
      reader->owner->base.stats.bytes_read += (uint64_t)n;
      return CL_OK;
    }
    if(errno != EINTR)
      return cl_fail(err, CL_ERR_IO, "%s: read: %s", reader->name, strerror(errno));
  }
}

static void fs_reader_free(store_reader *base)
{
  fs_reader *reader = (fs_reader *)base;
  close(reader->fd);
  free(reader->name);
  free(reader);
}

/* The open descriptor keeps reading the inode it opened after a rename
 * replaces the key, which is exactly the version pinning the contract asks
 * for; a local reader therefore never sees CL_ERR_CONFLICT. */
static cl_status fs_reader_open(store *s, const char *key, store_reader **out,
                                store_info *info, cl_error *err)
{
  fs_store *fs = fs_of(s);
  struct stat st;
  int fd;
  cl_status status = open_object(fs, key, &fd, &st, err);
  if(status)
    return status;
  fs_reader *reader = calloc(1, sizeof(*reader));
  buf name = BUF_INIT;
  buf_printf(&name, "%s/%s", s->name, key);
  if(!reader || buf_status(&name)) {
    free(reader);
    buf_free(&name);
    close(fd);
    return cl_fail(err, CL_ERR_NOMEM, "%s/%s: out of memory", s->name, key);
  }
  reader->base.source = (stream_source){fs_reader_read, reader};
  reader->base.free = fs_reader_free;
  reader->owner = fs;
  reader->fd = fd;
  reader->name = buf_take(&name, NULL);
  fill_info(&st, info);
  *out = &reader->base;
  return CL_OK;
}

static cl_status fs_read_range(store *s, const char *key, const char *etag, uint64_t offset,
                               void *dst, size_t len, cl_error *err)
{
  fs_store *fs = fs_of(s);
  struct stat st;
  int fd;
  cl_status status = open_object(fs, key, &fd, &st, err);
  if(status)
    return status;
  if(etag) {
    char current[STORE_ETAG_MAX];
    format_etag(&st, current);
    if(strcmp(current, etag)) {
      close(fd);
      return cl_fail(err, CL_ERR_CONFLICT,
                     "%s/%s: object changed (ETag %s, expected %s) during a ranged read",
                     s->name, key, current, etag);
    }
  }
  if(offset > (uint64_t)st.st_size || len > (uint64_t)st.st_size - offset)
    status = cl_fail(err, CL_ERR_FORMAT,
                     "%s/%s: range of %zu bytes at %llu is past the end (%llu bytes)",
                     s->name, key, len, (unsigned long long)offset,
                     (unsigned long long)st.st_size);
  else
    status = read_fully(fs, key, fd, dst, len, offset, err);
  close(fd);
  return status;
}

/* mkdir -p of the key's parent directories below the root (the root too). */
static cl_status make_parents(fs_store *fs, const char *key, const char *path, cl_error *err)
{
  char *copy = strdup(path);
  if(!copy)
    return cl_fail(err, CL_ERR_NOMEM, "%s/%s: out of memory", fs->base.name, key);
  size_t root_len = strlen(fs->root);
  cl_status status = CL_OK;
  for(char *p = copy + 1; *p; p++) {
    if(*p != '/')
      continue;
    *p = '\0';
    if(mkdir(copy, 0777) && errno != EEXIST) {
      int error = errno;
      int below_root = strlen(copy) > root_len;
      status = cl_fail(err, CL_ERR_IO, "%s/%s: creating %s '%s': %s", fs->base.name, key,
                       below_root ? "directory" : "store root", copy, strerror(error));
      break;
    }
    *p = '/';
  }
  if(!status) {
    struct stat st;
    /* An existing object where a directory must go (key "a" vs "a/b") is
     * legal in S3 but cannot exist on a filesystem. */
    char *last = strrchr(copy, '/');
    *last = '\0';
    if(stat(copy, &st) || !S_ISDIR(st.st_mode))
      status = cl_fail(err, CL_ERR_IO,
                       "%s/%s: cannot create the key's directory: an object is in the way",
                       fs->base.name, key);
  }
  free(copy);
  return status;
}

static cl_status lock_key(fs_store *fs, const char *key, int *lock_fd, cl_error *err)
{
  char hash[DIGEST_MD5_HEX_LEN + 1];
  digest_md5_hex(key, strlen(key), hash);
  buf path = BUF_INIT;
  buf_printf(&path, "%s/" FS_LOCK_DIR, fs->root);
  if(buf_status(&path)) {
    buf_free(&path);
    return cl_fail(err, CL_ERR_NOMEM, "%s/%s: out of memory", fs->base.name, key);
  }
  if(mkdir(path.data, 0777) && errno != EEXIST) {
    cl_status status = cl_fail(err, CL_ERR_IO, "%s/%s: creating lock directory: %s",
                               fs->base.name, key, strerror(errno));
    buf_free(&path);
    return status;
  }
  /* 4096 stripes bound the number of lock files; two keys sharing a stripe
   * only wait for each other, and no caller ever holds two stripes. */
  buf_printf(&path, "/%.3s.lock", hash);
  int fd = buf_status(&path) ? -1 : open(path.data, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  int error = errno;
  buf_free(&path);
  if(fd < 0)
    return cl_fail(err, CL_ERR_IO, "%s/%s: opening lock file: %s", fs->base.name, key,
                   strerror(error));
  while(flock(fd, LOCK_EX)) {
    if(errno != EINTR) {
      error = errno;
      close(fd);
      return cl_fail(err, CL_ERR_IO, "%s/%s: locking: %s", fs->base.name, key,
                     strerror(error));
    }
  }
  *lock_fd = fd;
  return CL_OK;
}

static void unlock_key(int lock_fd)
{
  if(lock_fd >= 0)
    close(lock_fd); /* closing the only descriptor releases the flock */
}

static cl_status check_condition(fs_store *fs, const char *key, const char *path,
                                 const store_precondition *precondition,
                                 struct stat *current, int *exists, cl_error *err)
{
  /* A failed stat counts as absence: if the reason was something else
   * (permissions), the rename that follows reports it. */
  *exists = !stat(path, current) && S_ISREG(current->st_mode);
  if(!precondition || precondition->condition == STORE_ALWAYS)
    return CL_OK;
  if(precondition->condition == STORE_IF_ABSENT) {
    if(*exists) {
      fs->base.stats.conflicts++;
      return cl_fail(err, CL_ERR_CONFLICT, "%s/%s: precondition failed: object exists",
                     fs->base.name, key);
    }
    return CL_OK;
  }
  if(!*exists) {
    fs->base.stats.conflicts++;
    return cl_fail(err, CL_ERR_CONFLICT,
                   "%s/%s: precondition failed: object is gone (expected ETag %s)",
                   fs->base.name, key, precondition->etag);
  }
  char etag[STORE_ETAG_MAX];
  format_etag(current, etag);
  if(strcmp(etag, precondition->etag)) {
    fs->base.stats.conflicts++;
    return cl_fail(err, CL_ERR_CONFLICT,
                   "%s/%s: precondition failed: ETag is %s, expected %s", fs->base.name,
                   key, etag, precondition->etag);
  }
  return CL_OK;
}

/* Source of the bytes of a write: memory or a range of a file. */
typedef struct fs_payload {
  const void *data;
  size_t len;
  int fd; /* >= 0: copy `size` bytes from offset 0 of this file */
  uint64_t size;
} fs_payload;

static cl_status fill_temp(fs_store *fs, const char *key, int tmp_fd, const fs_payload *payload,
                           cl_error *err)
{
  cl_status status;
  if(payload->fd < 0) {
    status = write_fully(tmp_fd, payload->data, payload->len, "temp file", err);
    if(status)
      cl_error_prefix(err, "%s/%s", fs->base.name, key);
    return status;
  }
  char *chunk = malloc(FS_COPY_CHUNK);
  if(!chunk)
    return cl_fail(err, CL_ERR_NOMEM, "%s/%s: out of memory", fs->base.name, key);
  uint64_t done = 0;
  status = CL_OK;
  while(done < payload->size) {
    uint64_t want = payload->size - done < FS_COPY_CHUNK ? payload->size - done : FS_COPY_CHUNK;
    ssize_t n = pread(payload->fd, chunk, (size_t)want, (off_t)done);
    if(n < 0 && errno == EINTR)
      continue;
    if(n < 0) {
      status = cl_fail(err, CL_ERR_IO, "%s/%s: reading the source file: %s", fs->base.name,
                       key, strerror(errno));
      break;
    }
    if(n == 0) {
      status = cl_fail(err, CL_ERR_IO,
                       "%s/%s: the source file ended at %llu bytes of %llu", fs->base.name,
                       key, (unsigned long long)done, (unsigned long long)payload->size);
      break;
    }
    status = write_fully(tmp_fd, chunk, (size_t)n, "temp file", err);
    if(status) {
      cl_error_prefix(err, "%s/%s", fs->base.name, key);
      break;
    }
    done += (uint64_t)n;
  }
  free(chunk);
  return status;
}

/* Make the new version's mtime later than the one it replaces, so that an
 * inode number recycled from an older version can never recreate its ETag. */
static cl_status stamp_mtime(fs_store *fs, const char *key, int tmp_fd, int replaces,
                             const struct stat *previous, cl_error *err)
{
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  if(replaces && (now.tv_sec < previous->st_mtim.tv_sec ||
                  (now.tv_sec == previous->st_mtim.tv_sec &&
                   now.tv_nsec <= previous->st_mtim.tv_nsec))) {
    now = previous->st_mtim;
    if(++now.tv_nsec == 1000000000) {
      now.tv_nsec = 0;
      now.tv_sec++;
    }
  }
  struct timespec times[2] = {now, now};
  if(futimens(tmp_fd, times))
    return cl_fail(err, CL_ERR_IO, "%s/%s: setting the temp file's mtime: %s",
                   fs->base.name, key, strerror(errno));
  return CL_OK;
}

static void sync_parent_dir(const char *path)
{
  char *copy = strdup(path);
  if(!copy)
    return;
  *strrchr(copy, '/') = '\0';
  int fd = open(copy, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if(fd >= 0) {
    fsync(fd); /* best effort: the rename itself has already happened */
    close(fd);
  }
  free(copy);
}

/* A temp file next to the object, so the rename stays within one
 * filesystem. Not mkstemp: its 0600 mode would make objects private, and
 * flipping the umask to compute 0666 & ~umask races with other threads. */
static cl_status create_temp(fs_store *fs, const char *key, const char *path, buf *tmp_path,
                             int *tmp_fd, cl_error *err)
{
  static atomic_uint serial;
  size_t dir_len = (size_t)(strrchr(path, '/') - path);
  for(int attempt = 0; attempt < 100; attempt++) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    buf_clear(tmp_path);
    buf_append(tmp_path, path, dir_len);
    buf_printf(tmp_path, "/" FS_RESERVED_PREFIX "tmp-%ld-%u-%lx", (long)getpid(),
               atomic_fetch_add(&serial, 1), (unsigned long)now.tv_nsec);
    if(buf_status(tmp_path))
      return cl_fail(err, CL_ERR_NOMEM, "%s/%s: out of memory", fs->base.name, key);
    int fd = open(tmp_path->data, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if(fd >= 0) {
      *tmp_fd = fd;
      return CL_OK;
    }
    if(errno != EEXIST) {
      cl_status status = cl_fail(err, CL_ERR_IO, "%s/%s: creating temp file: %s",
                                 fs->base.name, key, strerror(errno));
      buf_clear(tmp_path);
      return status;
    }
  }
  buf_clear(tmp_path);
  return cl_fail(err, CL_ERR_IO, "%s/%s: no free temp file name", fs->base.name, key);
}

static cl_status fs_write(fs_store *fs, const char *key, const fs_payload *payload,
                          const store_precondition *precondition, store_info *written,
                          cl_error *err)
{
  buf path = BUF_INIT, tmp_path = BUF_INIT;
  int tmp_fd = -1, lock_fd = -1;
  fs->base.stats.requests++;
  cl_status status = object_path(fs, key, &path, err);
  if(!status)
    status = make_parents(fs, key, path.data, err);
  if(status)
    goto done;
  status = create_temp(fs, key, path.data, &tmp_path, &tmp_fd, err);
  if(status)
    goto done;
  status = fill_temp(fs, key, tmp_fd, payload, err);
  if(status)
    goto done;
  if(fsync(tmp_fd)) {
    status = cl_fail(err, CL_ERR_IO, "%s/%s: fsync: %s", fs->base.name, key, strerror(errno));
    goto done;
  }
  /* The bytes are durable before the lock is taken, so the critical section
   * is only the re-check, the mtime stamp and the rename. */
  status = lock_key(fs, key, &lock_fd, err);
  if(status)
    goto done;
  struct stat current;
  int exists;
  status = check_condition(fs, key, path.data, precondition, &current, &exists, err);
  if(!status)
    status = stamp_mtime(fs, key, tmp_fd, exists, &current, err);
  if(status)
    goto done;
  struct stat st;
  if(fstat(tmp_fd, &st)) {
    status = cl_fail(err, CL_ERR_IO, "%s/%s: stat of temp file: %s", fs->base.name, key,
                     strerror(errno));
    goto done;
  }
  if(rename(tmp_path.data, path.data)) {
    /* Keys "a" and "a/b" can coexist in S3 but not as files. */
    status = cl_fail(err, CL_ERR_IO, "%s/%s: rename into place: %s", fs->base.name, key,
                     errno == EISDIR ? "other keys have this key as their directory"
                                     : strerror(errno));
    goto done;
  }
  buf_clear(&tmp_path); /* renamed: nothing to clean up */
  unlock_key(lock_fd);
  lock_fd = -1;
  sync_parent_dir(path.data);
  fill_info(&st, written);
  fs->base.stats.bytes_written += (uint64_t)st.st_size;

done:
  unlock_key(lock_fd);
  if(tmp_fd >= 0)
    close(tmp_fd);
  if(tmp_path.len)
    unlink(tmp_path.data);
  buf_free(&tmp_path);
  buf_free(&path);
  return status;
}

static cl_status fs_put(store *s, const char *key, const void *data, size_t len,
                        const store_precondition *precondition, store_info *written,
                        cl_error *err)
{
  fs_payload payload = {data, len, -1, 0};
  return fs_write(fs_of(s), key, &payload, precondition, written, err);
}

static cl_status fs_put_fd(store *s, const char *key, int fd, uint64_t size,
                           const store_precondition *precondition, store_info *written,
                           cl_error *err)
{
  fs_payload payload = {NULL, 0, fd, size};
  return fs_write(fs_of(s), key, &payload, precondition, written, err);
}

/* Deleting a missing object succeeds, as S3's DELETE does; empty parent
 * directories stay, because removing them would race with concurrent writers
 * creating files in them (and listings never show directories anyway). */
static cl_status fs_remove(store *s, const char *key, cl_error *err)
{
  fs_store *fs = fs_of(s);
  buf path = BUF_INIT;
  int lock_fd = -1;
  s->stats.requests++;
  cl_status status = object_path(fs, key, &path, err);
  if(!status)
    status = lock_key(fs, key, &lock_fd, err);
  if(!status) {
    struct stat st;
    if(!stat(path.data, &st) && S_ISDIR(st.st_mode))
      status = CL_OK; /* a "directory key" is not an object: nothing to delete */
    else if(unlink(path.data) && errno != ENOENT && errno != ENOTDIR)
      status = cl_fail(err, CL_ERR_IO, "%s/%s: unlink: %s", s->name, key, strerror(errno));
  }
  unlock_key(lock_fd);
  buf_free(&path);
  return status;
}

/* One directory's entries; directories carry a trailing '/' so that sorting
 * the names with strcmp yields the byte order of the full keys beneath. */
typedef struct fs_entries {
  char **names;
  size_t count, cap;
} fs_entries;

static void entries_free(fs_entries *entries)
{
  for(size_t i = 0; i < entries->count; i++)
    free(entries->names[i]);
  free(entries->names);
}

static int compare_names(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static cl_status read_entries(fs_store *fs, const char *dir_path, fs_entries *entries,
                              int *missing, cl_error *err)
{
  DIR *dir = opendir(dir_path);
  *missing = 0;
  if(!dir) {
    if(errno == ENOENT || errno == ENOTDIR) {
      *missing = 1;
      return CL_OK;
    }
    return cl_fail(err, CL_ERR_IO, "%s: listing '%s': %s", fs->base.name, dir_path,
                   strerror(errno));
  }
  int dir_fd = dirfd(dir);
  cl_status status = CL_OK;
  struct dirent *entry;
  while((entry = readdir(dir))) {
    const char *name = entry->d_name;
    if(!strcmp(name, ".") || !strcmp(name, "..") ||
       !strncmp(name, FS_RESERVED_PREFIX, sizeof(FS_RESERVED_PREFIX) - 1))
      continue;
    int is_dir;
    if(entry->d_type == DT_DIR || entry->d_type == DT_REG) {
      is_dir = entry->d_type == DT_DIR;
    } else {
      struct stat st;
      if(fstatat(dir_fd, name, &st, 0))
        continue; /* vanished, or a dangling link: not an object */
      if(!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
        continue;
      is_dir = S_ISDIR(st.st_mode);
    }
    if(entries->count == entries->cap) {
      size_t cap = entries->cap ? entries->cap * 2 : 64;
      char **grown = realloc(entries->names, cap * sizeof(*grown));
      if(!grown) {
        status = cl_fail(err, CL_ERR_NOMEM, "%s: listing: out of memory", fs->base.name);
        break;
      }
      entries->names = grown;
      entries->cap = cap;
    }
    size_t len = strlen(name);
    char *copy = malloc(len + 2);
    if(!copy) {
      status = cl_fail(err, CL_ERR_NOMEM, "%s: listing: out of memory", fs->base.name);
      break;
    }
    memcpy(copy, name, len);
    copy[len] = is_dir ? '/' : '\0';
    copy[len + 1] = '\0';
    entries->names[entries->count++] = copy;
  }
  closedir(dir);
  if(!status)
    qsort(entries->names, entries->count, sizeof(*entries->names), compare_names);
  return status;
}

typedef struct fs_listing {
  fs_store *fs;
  const char *prefix;
  size_t prefix_len;
  store_list_fn fn;
  void *ctx;
} fs_listing;

/* Walk the directory holding keys that start with `dir_key` (empty or
 * ending in '/'); `key` is a scratch buffer holding dir_key on entry. */
static cl_status list_dir(fs_listing *listing, buf *key, cl_error *err)
{
  fs_store *fs = listing->fs;
  buf dir_path = BUF_INIT;
  buf_printf(&dir_path, "%s/%s", fs->root, key->data ? key->data : "");
  if(buf_status(&dir_path)) {
    buf_free(&dir_path);
    return cl_fail(err, CL_ERR_NOMEM, "%s: listing: out of memory", fs->base.name);
  }
  fs_entries entries = {NULL, 0, 0};
  int missing;
  cl_status status = read_entries(fs, dir_path.data, &entries, &missing, err);
  size_t base_len = key->len;
  for(size_t i = 0; !status && i < entries.count; i++) {
    buf_truncate(key, base_len);
    if(buf_append_str(key, entries.names[i])) {
      status = cl_fail(err, CL_ERR_NOMEM, "%s: listing: out of memory", fs->base.name);
      break;
    }
    size_t shared = key->len < listing->prefix_len ? key->len : listing->prefix_len;
    if(memcmp(key->data, listing->prefix, shared))
      continue; /* neither a prefix of the wanted keys nor below it */
    if(key->data[key->len - 1] == '/') {
      status = list_dir(listing, key, err);
      continue;
    }
    if(key->len < listing->prefix_len)
      continue;
    struct stat st;
    buf_truncate(&dir_path, strlen(fs->root) + 1);
    buf_append_str(&dir_path, key->data);
    if(buf_status(&dir_path)) {
      status = cl_fail(err, CL_ERR_NOMEM, "%s: listing: out of memory", fs->base.name);
      break;
    }
    if(stat(dir_path.data, &st) || !S_ISREG(st.st_mode))
      continue; /* deleted since readdir */
    store_info info;
    fill_info(&st, &info);
    status = listing->fn(listing->ctx, key->data, &info, err);
  }
  buf_truncate(key, base_len);
  entries_free(&entries);
  buf_free(&dir_path);
  return status;
}

static cl_status fs_list(store *s, const char *prefix, store_list_fn fn, void *ctx,
                         cl_error *err)
{
  fs_store *fs = fs_of(s);
  s->stats.requests++;
  cl_status status = *prefix ? check_fs_key(fs, prefix, 1, err) : CL_OK;
  if(status)
    return status;
  fs_listing listing = {fs, prefix, strlen(prefix), fn, ctx};
  /* Start at the deepest directory the prefix names completely. */
  buf key = BUF_INIT;
  const char *last_slash = strrchr(prefix, '/');
  if(last_slash)
    buf_append(&key, prefix, (size_t)(last_slash - prefix) + 1);
  else
    buf_append_str(&key, "");
  if(buf_status(&key))
    status = cl_fail(err, CL_ERR_NOMEM, "%s: listing: out of memory", s->name);
  else
    status = list_dir(&listing, &key, err);
  buf_free(&key);
  return status;
}

static void fs_free(store *s)
{
  fs_store *fs = fs_of(s);
  free(fs->root);
  free(s->name);
  free(fs);
}

static const store_ops fs_ops = {
  fs_head, fs_get, fs_get_to_fd, fs_reader_open, fs_read_range,
  fs_put,  fs_put_fd, fs_remove, fs_list, fs_free,
};

cl_status store_fs_open(const char *location, store **out, cl_error *err)
{
  if(!*location)
    return cl_fail(err, CL_ERR_USAGE, "store: empty directory name");
  buf root = BUF_INIT;
  if(location[0] != '/') {
    char cwd[4096];
    if(!getcwd(cwd, sizeof(cwd)))
      return cl_fail(err, CL_ERR_IO, "store '%s': getcwd: %s", location, strerror(errno));
    buf_printf(&root, "%s/", strcmp(cwd, "/") ? cwd : "");
  }
  buf_append_str(&root, location);
  /* "./x", "x/" and "x//" all name the same bucket; keep the name canonical. */
  while(root.len > 1 && root.data[root.len - 1] == '/')
    buf_truncate(&root, root.len - 1);
  while(root.len > 2 && !strcmp(root.data + root.len - 2, "/.")) {
    buf_truncate(&root, root.len - 2);
    if(!root.len)
      buf_append_str(&root, "/");
  }
  fs_store *fs = calloc(1, sizeof(*fs));
  buf name = BUF_INIT;
  buf_printf(&name, "file://%s", root.data ? root.data : "/");
  if(!fs || buf_status(&root) || buf_status(&name)) {
    free(fs);
    buf_free(&root);
    buf_free(&name);
    return cl_fail(err, CL_ERR_NOMEM, "store '%s': out of memory", location);
  }
  struct stat st;
  if(!stat(root.data, &st) && !S_ISDIR(st.st_mode)) {
    cl_status status = cl_fail(err, CL_ERR_USAGE, "store '%s': not a directory", root.data);
    free(fs);
    buf_free(&root);
    buf_free(&name);
    return status;
  }
  fs->base.ops = &fs_ops;
  fs->base.name = buf_take(&name, NULL);
  /* The root "/" is kept as "" so that root + "/" + key is a clean path. */
  if(!strcmp(root.data, "/"))
    buf_truncate(&root, 0);
  fs->root = buf_take(&root, NULL);
  *out = &fs->base;
  return CL_OK;
}

/* The local backend: a directory tree stands in for a bucket.
 *
 * ETags come from stat alone (inode, size, mtime in ns) so that head and
 * list never read file contents. Every write replaces the file by rename, so
 * the new version always has a new inode while the old one is still linked;
 * an inode can only come back after the old version is gone, and writers
 * stamp each new version with an mtime strictly later than the version they
 * replace, so an ETag never repeats for a key. A copy (store_copy) is a link
 * to the source's file: the keys then share one file and one ETag, which is
 * safe because no file is ever written once stored. A linked file keeps its
 * mtime, so it replaces only a version older than it; else its bytes are
 * copied. (Copying a key's version back to it after it was deleted brings
 * back its ETag with the same bytes, as S3's MD5 ETags would.) Writers of
 * one key serialise on one of 65536 stripes: a byte of the lock file
 * .collator-locks/stripes, locked with an open-file-description lock
 * (F_OFD_SETLKW). Such a lock belongs to the handle's own descriptor, so it
 * excludes other processes and other handles (threads) of this process
 * alike, and it makes the re-check of a precondition and the rename one
 * atomic step. One lock file opened once per handle, rather than a file per
 * stripe opened per write, keeps a write to two fcntl calls and never
 * allocates an inode for a lock.
 *
 * Small writes are dominated by the filesystem's own work (allocating
 * inodes, the two fsyncs), so the write path makes no call it can skip:
 * directories are created only when creating the temp file says they are
 * missing, and only the missing ones. */
#include "store_backend.h"

#include <dirent.h>
#include <stdatomic.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/mem.h"

#define FS_RESERVED_PREFIX ".collator-"
#define FS_LOCK_DIR ".collator-locks"
#define FS_LOCK_FILE FS_LOCK_DIR "/stripes"
#define FS_LOCK_STRIPES 65536
#define FS_COPY_CHUNK (256 * 1024)

typedef struct fs_store {
  store base;
  char *root;      /* absolute, no trailing slash */
  int lock_fd;     /* FS_LOCK_FILE, opened on the first write; -1 before */
  pid_t lock_pid;  /* the process that opened lock_fd */
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

/* Whether st is the version `expected` names; *current (for messages)
 * gets st's own ETag. */
static int etag_matches(const struct stat *st, const char *expected,
                        char current[STORE_ETAG_MAX])
{
  format_etag(st, current);
  return !strcmp(current, expected);
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
  stream_fd out = {.fd = fd, .name = what};
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
  stream_fd destination = {.fd = out_fd, .name = "copying to the destination file"};
  return get_to_sink(s, key, info, NULL, stream_sink_to_fd(&destination), err);
}

/* The object's own file: nothing to copy, and the open descriptor pins the
 * version as a reader's does. Its bytes count as read, as a copy's would. */
static cl_status fs_get_fd(store *s, const char *key, int *fd, store_info *info,
                           cl_error *err)
{
  struct stat st;
  cl_status status = open_object(fs_of(s), key, fd, &st, err);
  if(status)
    return status;
  fill_info(&st, info);
  s->stats.bytes_read += (uint64_t)st.st_size;
  return CL_OK;
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
    if(!etag_matches(&st, etag, current)) {
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

static cl_status mkdir_failure(fs_store *fs, const char *key, const char *dir, int error,
                               cl_error *err)
{
  /* ENOTDIR: an object sits where a directory must go (keys "a" and "a/b"
   * can coexist in S3 but not as files). */
  return cl_fail(err, CL_ERR_IO, "%s/%s: creating %s '%s': %s", fs->base.name, key,
                 strlen(dir) > strlen(fs->root) ? "directory" : "store root", dir,
                 error == ENOTDIR ? "an object is in the way" : strerror(error));
}

/* mkdir -p of the directory part of `path` (a key's object path), called
 * once creating a file there failed with ENOENT. It walks up from the
 * deepest directory to the first one that exists, then creates the missing
 * ones downwards, so a key in a new directory costs a mkdir per missing
 * level and nothing for the levels that exist. The new levels' entries are
 * not flushed one by one: on Linux, which this store needs anyway
 * (O_TMPFILE, OFD locks), the fsync of a file or directory made in them
 * makes its new ancestors durable too (ext4 without a journal writes them
 * itself; a journal or log commits them in order before it). Flushing each
 * parent as well cost 0.5-0.7 ms more per first upload on this VM. */
static cl_status make_parents(fs_store *fs, const char *key, const char *path, cl_error *err)
{
  char *copy = strdup(path);
  if(!copy)
    return cl_fail(err, CL_ERR_NOMEM, "%s/%s: out of memory", fs->base.name, key);
  cl_status status = CL_OK;
  char *end = strrchr(copy, '/');
  *end = '\0';
  /* Upwards: cut the path at successive slashes until a mkdir does not
   * report a missing parent. */
  char *cut = end;
  for(;;) {
    if(!mkdir(copy, 0777) || errno == EEXIST)
      break;
    char *slash = errno == ENOENT ? strrchr(copy, '/') : NULL;
    if(!slash || slash == copy) {
      status = mkdir_failure(fs, key, copy, errno, err);
      break;
    }
    *slash = '\0';
    cut = slash;
  }
  /* Downwards: put the slashes back one at a time, creating each level. */
  while(!status && cut != end) {
    *cut = '/';
    cut += strlen(cut);
    if(mkdir(copy, 0777) && errno != EEXIST)
      status = mkdir_failure(fs, key, copy, errno, err);
  }
  free(copy);
  return status;
}

/* The handle's descriptor of the lock file, opened (and the lock directory
 * made) on first use. A child process after fork() shares the parent's open
 * file description, and with it the parent's locks, so it opens its own. */
static cl_status lock_file(fs_store *fs, const char *key, pid_t pid, cl_error *err)
{
  if(fs->lock_fd >= 0 && fs->lock_pid == pid)
    return CL_OK;
  if(fs->lock_fd >= 0)
    close(fs->lock_fd);
  fs->lock_fd = -1;
  buf path = BUF_INIT;
  buf_printf(&path, "%s/" FS_LOCK_FILE, fs->root);
  if(buf_status(&path)) {
    buf_free(&path);
    return cl_fail(err, CL_ERR_NOMEM, "%s/%s: out of memory", fs->base.name, key);
  }
  int fd = open(path.data, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  if(fd < 0 && errno == ENOENT) {
    char *slash = strrchr(path.data, '/');
    *slash = '\0';
    if(mkdir(path.data, 0777) && errno != EEXIST) {
      cl_status status = cl_fail(err, CL_ERR_IO, "%s/%s: creating lock directory: %s",
                                 fs->base.name, key, strerror(errno));
      buf_free(&path);
      return status;
    }
    *slash = '/';
    fd = open(path.data, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  }
  int error = errno;
  buf_free(&path);
  if(fd < 0)
    return cl_fail(err, CL_ERR_IO, "%s/%s: opening lock file: %s", fs->base.name, key,
                   strerror(error));
  fs->lock_fd = fd;
  fs->lock_pid = pid;
  return CL_OK;
}

/* FNV-1a: stable across processes and versions of this code, which is all
 * a stripe number needs. */
static off_t key_stripe(const char *key)
{
  uint32_t hash = 2166136261u;
  for(const unsigned char *p = (const unsigned char *)key; *p; p++)
    hash = (hash ^ *p) * 16777619u;
  return (off_t)(hash % FS_LOCK_STRIPES);
}

static int set_stripe_lock(int fd, off_t stripe, short type, int wait)
{
  struct flock lock;
  memset(&lock, 0, sizeof(lock)); /* OFD locks require l_pid == 0 */
  lock.l_type = type;
  lock.l_whence = SEEK_SET;
  lock.l_start = stripe;
  lock.l_len = 1;
  return fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &lock);
}

/* Lock the key's stripe; *stripe receives what unlock_key needs. Two keys
 * sharing a stripe only wait for each other, and no caller ever holds two
 * stripes, so there is no lock order to get wrong. */
static cl_status lock_key(fs_store *fs, const char *key, pid_t pid, off_t *stripe,
                          cl_error *err)
{
  cl_status status = lock_file(fs, key, pid, err);
  if(status)
    return status;
  *stripe = key_stripe(key);
  while(set_stripe_lock(fs->lock_fd, *stripe, F_WRLCK, 1)) {
    if(errno != EINTR)
      return cl_fail(err, CL_ERR_IO, "%s/%s: locking: %s", fs->base.name, key,
                     strerror(errno));
  }
  return CL_OK;
}

static void unlock_key(fs_store *fs, off_t stripe)
{
  if(stripe >= 0)
    set_stripe_lock(fs->lock_fd, stripe, F_UNLCK, 0);
}

static cl_status check_condition(fs_store *fs, const char *key, const char *path,
                                 const store_precondition *precondition,
                                 struct stat *current, int *exists, cl_error *err)
{
  /* Only a missing file is absence: a stat failing otherwise (EIO, a
   * network filesystem's ESTALE) must not let a create-only write replace
   * what is there. */
  *exists = 0;
  if(!stat(path, current))
    *exists = S_ISREG(current->st_mode);
  else if(errno != ENOENT && errno != ENOTDIR)
    return errno_failure(fs, key, "stat", errno, err);
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
  if(!etag_matches(current, precondition->etag, etag)) {
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
  int stored; /* fd is a stored object's file (store_copy): link it if possible */
} fs_payload;

/* A copied file is handed to writeback as it goes, so that the fsync after
 * it finds most of it written. */
#define FS_COPY_WRITEBACK_BYTES (8u << 20)

static cl_status fill_temp(fs_store *fs, const char *key, int tmp_fd, const fs_payload *payload,
                           cl_error *err)
{
  cl_status status;
  if(payload->fd < 0)
    status = write_fully(tmp_fd, payload->data, payload->len, "temp file", err);
  else {
    stream_fd temp = {.fd = tmp_fd, .name = "temp file",
                      .writeback_every = FS_COPY_WRITEBACK_BYTES};
    status = stream_fd_copy_from(&temp, payload->fd, payload->size, err);
  }
  if(status)
    cl_error_prefix(err, "%s/%s", fs->base.name, key);
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

/* The rename into path made durable. A failure is the put's: the object is
 * in place but may not survive a crash, and a caller told it succeeded
 * would not write it again (the collator's replay does). */
static cl_status sync_parent_dir(fs_store *fs, const char *key, const char *path,
                                 cl_error *err)
{
  const char *slash = strrchr(path, '/');
  char *dir = strndup(path, (size_t)(slash - path));
  if(!dir)
    return cl_fail(err, CL_ERR_NOMEM, "%s/%s: out of memory", fs->base.name, key);
  cl_status status = CL_OK;
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if(fd < 0 || fsync(fd))
    status = cl_fail(err, CL_ERR_IO, "%s/%s: fsync of directory '%s': %s", fs->base.name, key,
                     dir, strerror(errno));
  if(fd >= 0)
    close(fd);
  free(dir);
  return status;
}

/* The next temp file name next to the object, so that the rename stays
 * within one directory. */
static cl_status next_temp_name(fs_store *fs, const char *key, const char *path, pid_t pid,
                                buf *tmp_path, cl_error *err)
{
  static atomic_uint serial;
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  buf_clear(tmp_path);
  buf_append(tmp_path, path, (size_t)(strrchr(path, '/') - path));
  buf_printf(tmp_path, "/" FS_RESERVED_PREFIX "tmp-%ld-%u-%lx", (long)pid,
             atomic_fetch_add(&serial, 1), (unsigned long)now.tv_nsec);
  if(buf_status(tmp_path))
    return cl_fail(err, CL_ERR_NOMEM, "%s/%s: out of memory", fs->base.name, key);
  return CL_OK;
}

static cl_status temp_failure(fs_store *fs, const char *key, int error, cl_error *err)
{
  /* ENOTDIR after the directories were made: a file sits where one of them
   * must go (keys "a" and "a/b" can coexist in S3 but not as files). */
  if(error == ENOTDIR)
    return cl_fail(err, CL_ERR_IO,
                   "%s/%s: cannot create the key's directory: an object is in the way",
                   fs->base.name, key);
  return cl_fail(err, CL_ERR_IO, "%s/%s: creating temp file: %s", fs->base.name, key,
                 strerror(error));
}

/* Makes a file at a temp name: 0, or the errno that stopped it. */
typedef int (*temp_maker)(const char *tmp_path, void *ctx);

/* make() at fresh temp names next to the object: a name already taken is
 * skipped, a missing directory is made once. *error is 0 when a file was
 * made, else the errno that stopped it (EEXIST: no free name was found);
 * tmp_path holds the name only on success. */
static cl_status make_at_temp_name(fs_store *fs, const char *key, const char *path, pid_t pid,
                                  buf *tmp_path, temp_maker make, void *ctx, int *error,
                                  cl_error *err)
{
  int made_parents = 0;
  *error = EEXIST;
  for(int attempt = 0; attempt < 100; attempt++) {
    cl_status status = next_temp_name(fs, key, path, pid, tmp_path, err);
    if(status)
      return status;
    *error = make(tmp_path->data, ctx);
    if(!*error)
      return CL_OK;
    buf_clear(tmp_path);
    if(*error == EEXIST)
      continue;
    if(*error != ENOENT || made_parents)
      return CL_OK;
    status = make_parents(fs, key, path, err);
    if(status)
      return status;
    made_parents = 1;
  }
  return CL_OK;
}

/* ctx: the /proc/self/fd path of the file to name. */
static int link_at(const char *tmp_path, void *ctx)
{
  return linkat(AT_FDCWD, ctx, AT_FDCWD, tmp_path, AT_SYMLINK_FOLLOW) ? errno : 0;
}

/* ctx: where the new file's descriptor goes. */
static int create_at(const char *tmp_path, void *ctx)
{
  int *fd = ctx;
  *fd = open(tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  return *fd < 0 ? errno : 0;
}

/* Whether st's mtime is later than previous's. */
static int later_than(const struct stat *st, const struct stat *previous)
{
  return st->st_mtim.tv_sec > previous->st_mtim.tv_sec ||
         (st->st_mtim.tv_sec == previous->st_mtim.tv_sec &&
          st->st_mtim.tv_nsec > previous->st_mtim.tv_nsec);
}

/* Give the payload's file a temp name next to the object, so that it can
 * be renamed into place without a copy of its bytes: the caller's
 * anonymous store temp (see fs_temp_fd), or a stored object's file being
 * copied (payload->stored). *linked stays 0 when the file cannot be linked
 * (then the caller copies it). */
static cl_status link_temp(fs_store *fs, const char *key, const char *path,
                           const fs_payload *payload, pid_t pid, buf *tmp_path, int *linked,
                           cl_error *err)
{
  struct stat st;
  *linked = 0;
  /* Only a file holding exactly the object can become it; of the caller's
   * files, only an O_TMPFILE one (Linux reports the flag back) without a
   * name yet. */
  int flags = fcntl(payload->fd, F_GETFL);
  if(flags < 0 || fstat(payload->fd, &st) || (uint64_t)st.st_size != payload->size)
    return CL_OK;
  if(!payload->stored && ((flags & O_TMPFILE) != O_TMPFILE || st.st_nlink != 0))
    return CL_OK;
  char proc_path[64];
  snprintf(proc_path, sizeof(proc_path), "/proc/self/fd/%d", payload->fd);
  /* ENOENT is either a missing directory or a file that is not linkable
   * (not O_TMPFILE, or no /proc); the one mkdir -p tells them apart. Any
   * failure leaves the file unlinked, for the caller to copy. */
  int error;
  cl_status status = make_at_temp_name(fs, key, path, pid, tmp_path, link_at, proc_path,
                                       &error, err);
  *linked = !status && !error;
  return status;
}

/* A temp file next to the object. Not mkstemp: its 0600 mode would make
 * objects private, and flipping the umask to compute 0666 & ~umask races
 * with other threads. */
static cl_status create_temp(fs_store *fs, const char *key, const char *path, pid_t pid,
                             buf *tmp_path, int *tmp_fd, cl_error *err)
{
  int error;
  cl_status status = make_at_temp_name(fs, key, path, pid, tmp_path, create_at, tmp_fd, &error,
                                       err);
  if(status || !error)
    return status;
  if(error == EEXIST)
    return cl_fail(err, CL_ERR_IO, "%s/%s: no free temp file name", fs->base.name, key);
  return temp_failure(fs, key, error, err);
}

/* One try at a write; *copy_instead asks for another that copies the bytes
 * of a stored file rather than link it, which this one would have had to
 * stamp. */
static cl_status fs_write_once(fs_store *fs, const char *key, const fs_payload *payload,
                               const store_precondition *precondition, store_info *written,
                               int *copy_instead, cl_error *err)
{
  buf path = BUF_INIT, tmp_path = BUF_INIT;
  int tmp_fd = -1, linked = 0;
  off_t stripe = -1;
  pid_t pid = getpid();
  *copy_instead = 0;
  cl_status status = object_path(fs, key, &path, err);
  if(status)
    goto done;
  if(payload->fd >= 0) {
    status = link_temp(fs, key, path.data, payload, pid, &tmp_path, &linked, err);
    if(status)
      goto done;
  }
  /* A stored file linked again is as durable as it was (our own writes
   * fsync), and its mtime is its other key's ETag too. */
  int shared = linked && payload->stored;
  if(linked) {
    tmp_fd = payload->fd; /* the caller's: not ours to close */
  } else {
    status = create_temp(fs, key, path.data, pid, &tmp_path, &tmp_fd, err);
    if(!status)
      status = fill_temp(fs, key, tmp_fd, payload, err);
    if(status)
      goto done;
  }
  if(!shared && fsync(tmp_fd)) {
    status = cl_fail(err, CL_ERR_IO, "%s/%s: fsync: %s", fs->base.name, key, strerror(errno));
    goto done;
  }
  /* The bytes are durable before the lock is taken, so the critical section
   * is only the re-check, the mtime stamp and the rename. */
  status = lock_key(fs, key, pid, &stripe, err);
  if(status)
    goto done;
  struct stat current, st;
  int exists;
  status = check_condition(fs, key, path.data, precondition, &current, &exists, err);
  if(status)
    goto done;
  if(!shared)
    status = stamp_mtime(fs, key, tmp_fd, exists, &current, err);
  if(!status && fstat(tmp_fd, &st))
    status = cl_fail(err, CL_ERR_IO, "%s/%s: stat of temp file: %s", fs->base.name, key,
                     strerror(errno));
  if(status)
    goto done;
  /* A shared file is never stamped: it may replace only a version older
   * than it. */
  if(shared && exists && !later_than(&st, &current)) {
    *copy_instead = 1;
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
  unlock_key(fs, stripe);
  stripe = -1;
  status = sync_parent_dir(fs, key, path.data, err);
  if(status)
    goto done;
  fill_info(&st, written);
  if(!shared)
    fs->base.stats.bytes_written += (uint64_t)st.st_size;

done:
  unlock_key(fs, stripe);
  if(tmp_fd >= 0 && !linked)
    close(tmp_fd);
  if(tmp_path.len)
    unlink(tmp_path.data);
  buf_free(&tmp_path);
  buf_free(&path);
  return status;
}

/* One store request: the caller counts it. */
static cl_status fs_write(fs_store *fs, const char *key, const fs_payload *payload,
                          const store_precondition *precondition, store_info *written,
                          cl_error *err)
{
  int copy_instead = 0;
  cl_status status = fs_write_once(fs, key, payload, precondition, written, &copy_instead, err);
  if(!status && copy_instead) {
    fs_payload bytes = *payload;
    bytes.stored = 0;
    status = fs_write_once(fs, key, &bytes, precondition, written, &copy_instead, err);
  }
  return status;
}

static cl_status fs_put(store *s, const char *key, const void *data, size_t len,
                        const store_precondition *precondition, store_info *written,
                        cl_error *err)
{
  fs_payload payload = {data, len, -1, 0, 0};
  s->stats.requests++;
  return fs_write(fs_of(s), key, &payload, precondition, written, err);
}

static cl_status fs_put_fd(store *s, const char *key, int fd, uint64_t size,
                           const store_precondition *precondition, store_info *written,
                           cl_error *err)
{
  fs_payload payload = {NULL, 0, fd, size, 0};
  s->stats.requests++;
  return fs_write(fs_of(s), key, &payload, precondition, written, err);
}

/* The source's file, opened (the one request counted) and checked against
 * from_etag, is linked under the key (or, failing that, copied), so the two
 * keys share it; only copied bytes count as written. */
static cl_status fs_copy(store *s, const char *from, const char *from_etag, const char *key,
                         const store_precondition *precondition, cl_error *err)
{
  fs_store *fs = fs_of(s);
  int fd;
  struct stat st;
  cl_status status = open_object(fs, from, &fd, &st, err);
  if(status == CL_ERR_NOT_FOUND) {
    fs->base.stats.conflicts++;
    return cl_fail(err, CL_ERR_CONFLICT, "%s/%s: copy source %s is gone", fs->base.name, key,
                   from);
  }
  if(status)
    return status;
  char etag[STORE_ETAG_MAX];
  if(!etag_matches(&st, from_etag, etag)) {
    close(fd);
    fs->base.stats.conflicts++;
    return cl_fail(err, CL_ERR_CONFLICT, "%s/%s: copy source %s has ETag %s, expected %s",
                   fs->base.name, key, from, etag, from_etag);
  }
  fs_payload payload = {NULL, 0, fd, (uint64_t)st.st_size, 1};
  store_info written;
  status = fs_write(fs, key, &payload, precondition, &written, err);
  close(fd);
  return status;
}

/* O_TMPFILE in the root: on the objects' filesystem, so fs_write can link
 * it into place, and nameless, so a crash leaves nothing behind. Anything
 * in the way (the root removed since it was opened, a filesystem without
 * O_TMPFILE) falls back to an ordinary temp file, which fs_write copies. */
static cl_status fs_temp_fd(store *s, int *fd, cl_error *err)
{
  fs_store *fs = fs_of(s);
  *fd = open(*fs->root ? fs->root : "/", O_TMPFILE | O_RDWR | O_CLOEXEC, 0666);
  if(*fd >= 0)
    return CL_OK;
  return stream_temp_fd(fd, err);
}

/* Deleting a missing object succeeds, as S3's DELETE does; empty parent
 * directories stay, because removing them would race with concurrent writers
 * creating files in them (and listings never show directories anyway). */
static cl_status fs_remove(store *s, const char *key, cl_error *err)
{
  fs_store *fs = fs_of(s);
  buf path = BUF_INIT;
  off_t stripe = -1;
  int removed = 0;
  s->stats.requests++;
  cl_status status = object_path(fs, key, &path, err);
  if(!status)
    status = lock_key(fs, key, getpid(), &stripe, err);
  if(!status) {
    struct stat st;
    /* A "directory key" is not an object: nothing to delete. */
    if(stat(path.data, &st) || !S_ISDIR(st.st_mode)) {
      if(!unlink(path.data))
        removed = 1;
      else if(errno != ENOENT && errno != ENOTDIR)
        status = cl_fail(err, CL_ERR_IO, "%s/%s: unlink: %s", s->name, key, strerror(errno));
    }
  }
  unlock_key(fs, stripe);
  /* As a write's rename: a delete reported done stays done after a crash. */
  if(removed)
    status = sync_parent_dir(fs, key, path.data, err);
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
  /* readdir ends with NULL both at the end and on an error: errno tells. */
  while((errno = 0, entry = readdir(dir))) {
    const char *name = entry->d_name;
    if(!strcmp(name, ".") || !strcmp(name, "..") ||
       !strncmp(name, FS_RESERVED_PREFIX, sizeof(FS_RESERVED_PREFIX) - 1))
      continue;
    int is_dir;
    if(entry->d_type == DT_DIR || entry->d_type == DT_REG) {
      is_dir = entry->d_type == DT_DIR;
    } else {
      struct stat st;
      if(fstatat(dir_fd, name, &st, 0)) {
        if(errno == ENOENT)
          continue; /* vanished, or a dangling link: not an object */
        status = cl_fail(err, CL_ERR_IO, "%s: listing '%s': stat of '%s': %s", fs->base.name,
                         dir_path, name, strerror(errno));
        break;
      }
      if(!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
        continue;
      is_dir = S_ISDIR(st.st_mode);
    }
    status = MEM_GROW_ARRAY(entries->names, &entries->cap, entries->count + 1, 64);
    if(status) {
      status = cl_fail(err, status, "%s: listing: out of memory", fs->base.name);
      break;
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
  if(!status && errno)
    status = cl_fail(err, CL_ERR_IO, "%s: listing '%s': %s", fs->base.name, dir_path,
                     strerror(errno));
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
    if(stat(dir_path.data, &st)) {
      if(errno == ENOENT || errno == ENOTDIR)
        continue; /* deleted since readdir */
      status = errno_failure(fs, key->data, "stat", errno, err);
      break;
    }
    if(!S_ISREG(st.st_mode))
      continue;
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
  if(fs->lock_fd >= 0)
    close(fs->lock_fd);
  free(fs->root);
  free(s->name);
  free(fs);
}

static const store_ops fs_ops = {
  fs_head, fs_get, fs_get_to_fd, fs_get_fd, fs_reader_open, fs_read_range,
  fs_put,  fs_put_fd, fs_copy, fs_temp_fd, fs_remove, fs_list, fs_free,
};

cl_status store_fs_open(const char *location, store **out, cl_error *err)
{
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
  /* A store that is not there is a typo, not a bucket to make: every
   * command reads uploads from it first. */
  struct stat st;
  int error = stat(root.data, &st) ? errno : 0;
  if(error || !S_ISDIR(st.st_mode)) {
    cl_status status =
      error == ENOENT ? cl_fail(err, CL_ERR_USAGE, "store '%s': no such directory", root.data)
      : error         ? cl_fail(err, CL_ERR_IO, "store '%s': %s", root.data, strerror(error))
                      : cl_fail(err, CL_ERR_USAGE, "store '%s': not a directory", root.data);
    free(fs);
    buf_free(&root);
    buf_free(&name);
    return status;
  }
  fs->base.ops = &fs_ops;
  fs->lock_fd = -1;
  fs->base.name = buf_take(&name, NULL);
  /* The root "/" is kept as "" so that root + "/" + key is a clean path. */
  if(!strcmp(root.data, "/"))
    buf_truncate(&root, 0);
  fs->root = buf_take(&root, NULL);
  *out = &fs->base;
  return CL_OK;
}

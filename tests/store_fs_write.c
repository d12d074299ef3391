/* The local store's fast paths and what they fall back to: store temp files
 * linked into place instead of copied, objects read through their own file
 * (store_get_fd), directories made only when missing, and stripe locks that
 * exclude other processes and other handles of the same process. */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"
#include "store/store_backend.h"
#include "unit.h"

static store *open_store_at(const char *dir)
{
  store *s = NULL;
  cl_error err;
  CHECK_OK(store_open(dir, &s, &err), &err);
  return s;
}

static int write_all(int fd, const char *text)
{
  size_t len = strlen(text);
  return write(fd, text, len) == (ssize_t)len;
}

static int count_entries(const char *dir)
{
  DIR *d = opendir(dir);
  int n = 0;
  if(!d)
    return -1;
  for(struct dirent *entry; (entry = readdir(d));)
    n += strcmp(entry->d_name, ".") && strcmp(entry->d_name, "..");
  closedir(d);
  return n;
}

static void check_object(store *s, const char *key, const char *expected)
{
  buf out = BUF_INIT;
  cl_error err;
  CHECK_OK(store_get(s, key, &out, NULL, &err), &err);
  CHECK_MEM(out.data, out.len, expected, strlen(expected));
  buf_free(&out);
}

/* A store in dir holding `key` (an earlier write makes the root, which a
 * temp inside it needs) and a store temp file holding `text`. */
static store *store_with_temp(const char *dir, const char *key, const char *value,
                              const char *text, int *fd)
{
  store *s = open_store_at(dir);
  cl_error err;
  CHECK_OK(store_put(s, key, value, strlen(value), NULL, NULL, &err), &err);
  CHECK_OK(store_temp_fd(s, fd, &err), &err);
  CHECK(write_all(*fd, text));
  return s;
}

TEST(store_fs_temp_fd_is_linked_into_place)
{
  const char *dir = unit_temp_dir();
  cl_error err;
  int fd;
  store *s = store_with_temp(dir, "first", "1", "the object's bytes", &fd);
  struct stat temp_st, object_st;
  CHECK(fstat(fd, &temp_st) == 0);
  store_info written, head;
  CHECK_OK(store_put_fd(s, "deep/new/dirs/obj", fd, 18, NULL, &written, &err), &err);
  char path[900];
  snprintf(path, sizeof(path), "%s/deep/new/dirs/obj", dir);
  CHECK(stat(path, &object_st) == 0);
  /* The same inode: renamed into place, not copied. */
  CHECK_INT(object_st.st_ino, temp_st.st_ino);
  CHECK_INT(object_st.st_nlink, 1);
  mode_t mask = umask(0);
  umask(mask);
  CHECK_INT(object_st.st_mode & 0777, 0666 & ~mask);
  CHECK_OK(store_head(s, "deep/new/dirs/obj", &head, &err), &err);
  CHECK_STR(head.etag, written.etag);
  CHECK_INT(head.size, 18);
  check_object(s, "deep/new/dirs/obj", "the object's bytes");
  /* No temp name is left next to the object. */
  snprintf(path, sizeof(path), "%s/deep/new/dirs", dir);
  CHECK_INT(count_entries(path), 1);
  close(fd);
  check_object(s, "deep/new/dirs/obj", "the object's bytes");

  /* Replacing an object this way gives a new ETag, as any write does. */
  CHECK_OK(store_temp_fd(s, &fd, &err), &err);
  CHECK(write_all(fd, "v2"));
  store_precondition match = {STORE_IF_MATCH, written.etag};
  store_info second;
  CHECK_OK(store_put_fd(s, "deep/new/dirs/obj", fd, 2, &match, &second, &err), &err);
  CHECK(strcmp(second.etag, written.etag) != 0);
  close(fd);
  check_object(s, "deep/new/dirs/obj", "v2");
  store_free(s);
}

TEST(store_fs_temp_fd_falls_back_to_a_copy)
{
  const char *dir = unit_temp_dir();
  cl_error err;
  int fd;
  store *s = store_with_temp(dir, "taken", "old", "payload", &fd);

  /* A lost condition leaves the object alone and the temp usable. */
  store_precondition absent = {STORE_IF_ABSENT, NULL};
  CHECK_STATUS(store_put_fd(s, "taken", fd, 7, &absent, NULL, &err), CL_ERR_CONFLICT);
  check_object(s, "taken", "old");
  CHECK_INT(count_entries(dir), 2); /* "taken" and the lock directory */
  CHECK_OK(store_put_fd(s, "retry", fd, 7, &absent, NULL, &err), &err);
  check_object(s, "retry", "payload");

  /* Part of the file is a copy of that part; so is a second put. */
  CHECK_OK(store_put_fd(s, "head", fd, 3, NULL, NULL, &err), &err);
  check_object(s, "head", "pay");
  CHECK_OK(store_put_fd(s, "again", fd, 7, NULL, NULL, &err), &err);
  check_object(s, "again", "payload");
  close(fd);
  check_object(s, "retry", "payload");
  store_free(s);
}

static ino_t object_inode(const char *dir, const char *key)
{
  char path[900];
  struct stat st;
  snprintf(path, sizeof(path), "%s/%s", dir, key);
  CHECK(stat(path, &st) == 0);
  return st.st_ino;
}

TEST(store_fs_copy_links_the_source)
{
  const char *dir = unit_temp_dir();
  cl_error err;
  int fd;
  store *s = store_with_temp(dir, "first", "1", "same bytes", &fd);
  store_precondition absent = {STORE_IF_ABSENT, NULL};
  store_info diff, head;
  CHECK_OK(store_put_fd(s, "diff/k", fd, 10, &absent, &diff, &err), &err);
  close(fd);
  CHECK_OK(store_copy(s, "diff/k", diff.etag, "current/k", &absent, &err), &err);
  /* One file under two keys: no bytes copied, and the source's ETag stands. */
  CHECK_INT(object_inode(dir, "current/k"), object_inode(dir, "diff/k"));
  store_stats stats;
  store_get_stats(s, &stats);
  CHECK_INT(stats.requests, 3); /* the put of "first", diff/k's, the copy */
  CHECK_INT(stats.bytes_written, 11);
  CHECK_OK(store_head(s, "current/k", &head, &err), &err);
  CHECK_STR(head.etag, diff.etag);
  CHECK_OK(store_head(s, "diff/k", &head, &err), &err);
  CHECK_STR(head.etag, diff.etag);
  char path[900];
  snprintf(path, sizeof(path), "%s/current", dir);
  CHECK_INT(count_entries(path), 1); /* no temp name left */

  /* A changed or missing source, or a lost condition, is a conflict that
   * leaves every object as it was. */
  CHECK_STATUS(store_copy(s, "diff/k", "1-2-3", "other", NULL, &err), CL_ERR_CONFLICT);
  CHECK(strstr(err.message, "copy source diff/k has ETag") != NULL);
  CHECK_STATUS(store_copy(s, "nothing", diff.etag, "other", NULL, &err), CL_ERR_CONFLICT);
  CHECK(strstr(err.message, "is gone") != NULL);
  CHECK_STATUS(store_copy(s, "diff/k", diff.etag, "first", &absent, &err), CL_ERR_CONFLICT);
  /* A copy is always pinned to the source's version; so is a ranged read
   * given an ETag. Neither goes to the backend without one. */
  CHECK_STATUS(store_copy(s, "diff/k", NULL, "other", NULL, &err), CL_ERR_USAGE);
  CHECK(strstr(err.message, "copy of diff/k without its ETag") != NULL);
  CHECK_STATUS(store_copy(s, "diff/k", "", "other", NULL, &err), CL_ERR_USAGE);
  char byte;
  CHECK_STATUS(store_read_range(s, "diff/k", "", 0, &byte, 1, &err), CL_ERR_USAGE);
  CHECK_STATUS(store_head(s, "other", &head, &err), CL_ERR_NOT_FOUND);
  check_object(s, "first", "1");

  /* Deleting one key leaves the other as it was. */
  CHECK_OK(store_delete(s, "diff/k", &err), &err);
  check_object(s, "current/k", "same bytes");

  /* A key whose version is the source itself, or later than it, gets a
   * copy of the bytes: sharing would need a later mtime, which would change
   * the source's ETag. */
  store_info current;
  CHECK_OK(store_head(s, "current/k", &current, &err), &err);
  CHECK_OK(store_put(s, "newer", "later", 5, NULL, NULL, &err), &err);
  store_get_stats(s, &stats);
  uint64_t written_before = stats.bytes_written;
  CHECK_OK(store_copy(s, "current/k", current.etag, "newer", NULL, &err), &err);
  CHECK(object_inode(dir, "newer") != object_inode(dir, "current/k"));
  store_get_stats(s, &stats);
  CHECK_INT(stats.bytes_written - written_before, 10);
  check_object(s, "newer", "same bytes");
  ino_t before = object_inode(dir, "current/k");
  CHECK_OK(store_copy(s, "current/k", current.etag, "current/k", NULL, &err), &err);
  CHECK(object_inode(dir, "current/k") != before);
  CHECK_OK(store_head(s, "current/k", &head, &err), &err);
  CHECK(strcmp(head.etag, current.etag) != 0);
  check_object(s, "current/k", "same bytes");
  store_free(s);
}

TEST(store_fs_temp_fd_when_the_root_is_gone)
{
  char dir[700];
  snprintf(dir, sizeof(dir), "%s/gone", unit_temp_dir());
  CHECK(mkdir(dir, 0777) == 0);
  store *s = open_store_at(dir);
  CHECK(rmdir(dir) == 0);
  cl_error err;
  int fd;
  /* No root to make it in: an ordinary temp file, copied by the put, which
   * makes the root again. */
  CHECK_OK(store_temp_fd(s, &fd, &err), &err);
  CHECK(write_all(fd, "abc"));
  CHECK_OK(store_put_fd(s, "k", fd, 3, NULL, NULL, &err), &err);
  close(fd);
  check_object(s, "k", "abc");
  store_free(s);
}

TEST(store_fs_objects_in_the_way_of_directories)
{
  const char *dir = unit_temp_dir();
  store *s = open_store_at(dir);
  cl_error err;
  CHECK_OK(store_put(s, "a/b", "1", 1, NULL, NULL, &err), &err);
  /* "a/b" is a file: neither "a/b/c" nor "a/b/c/d" can be made. */
  CHECK_STATUS(store_put(s, "a/b/c", "2", 1, NULL, NULL, &err), CL_ERR_IO);
  CHECK(strstr(err.message, "in the way") != NULL);
  CHECK_STATUS(store_put(s, "a/b/c/d", "2", 1, NULL, NULL, &err), CL_ERR_IO);
  CHECK(strstr(err.message, "in the way") != NULL);
  /* A sibling directory beside an existing one is made. */
  CHECK_OK(store_put(s, "a/x/y/z", "3", 1, NULL, NULL, &err), &err);
  check_object(s, "a/x/y/z", "3");
  store_free(s);
}

/* Hold every stripe through a descriptor of our own: writers of any key,
 * in another process or on another handle in this one, must wait. */
static int hold_all_stripes(const char *dir)
{
  char path[900];
  snprintf(path, sizeof(path), "%s/.collator-locks/stripes", dir);
  int fd = open(path, O_RDWR | O_CLOEXEC);
  CHECK(fd >= 0);
  struct flock lock;
  memset(&lock, 0, sizeof(lock));
  lock.l_type = F_WRLCK;
  lock.l_whence = SEEK_SET;
  lock.l_start = 0;
  lock.l_len = 0; /* to the end and beyond */
  CHECK(fcntl(fd, F_OFD_SETLK, &lock) == 0);
  return fd;
}

static void sleep_ms(long ms)
{
  struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&t, NULL);
}

TEST(store_fs_writes_wait_for_a_stripe_held_by_another_process)
{
  const char *dir = unit_temp_dir();
  store *s = open_store_at(dir);
  cl_error err;
  CHECK_OK(store_put(s, "warm", "1", 1, NULL, NULL, &err), &err);
  int held = hold_all_stripes(dir);
  /* The child writes through the handle it inherited, which must not share
   * (and so slip past) any lock of ours. */
  pid_t pid = fork();
  if(pid == 0) {
    /* Our copy of the holder's descriptor would keep its lock alive. */
    close(held);
    cl_error child_err;
    _exit(store_put(s, "blocked", "2", 1, NULL, NULL, &child_err) == CL_OK ? 0 : 1);
  }
  CHECK(pid > 0);
  sleep_ms(200);
  CHECK(store_head(s, "blocked", NULL, &err) == CL_ERR_NOT_FOUND);
  close(held);
  int wstatus;
  CHECK(waitpid(pid, &wstatus, 0) == pid);
  CHECK(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0);
  check_object(s, "blocked", "2");
  store_free(s);
}

typedef struct put_job {
  const char *dir;
  int done;
  cl_status status;
} put_job;

static void *put_on_own_handle(void *arg)
{
  put_job *job = arg;
  store *s = NULL;
  cl_error err;
  job->status = store_open(job->dir, &s, &err);
  if(!job->status)
    job->status = store_put(s, "threaded", "t", 1, NULL, NULL, &err);
  store_free(s);
  __atomic_store_n(&job->done, 1, __ATOMIC_SEQ_CST);
  return NULL;
}

TEST(store_fs_handles_in_one_process_exclude_each_other)
{
  const char *dir = unit_temp_dir();
  store *s = open_store_at(dir);
  cl_error err;
  CHECK_OK(store_put(s, "warm", "1", 1, NULL, NULL, &err), &err);
  int held = hold_all_stripes(dir);
  put_job job = {dir, 0, CL_OK};
  pthread_t thread;
  CHECK(pthread_create(&thread, NULL, put_on_own_handle, &job) == 0);
  sleep_ms(200);
  CHECK_INT(__atomic_load_n(&job.done, __ATOMIC_SEQ_CST), 0);
  close(held);
  CHECK(pthread_join(thread, NULL) == 0);
  CHECK_INT(job.status, CL_OK);
  check_object(s, "threaded", "t");
  store_free(s);
}

TEST(store_fs_get_fd_opens_the_object_itself)
{
  const char *dir = unit_temp_dir();
  store *s = open_store_at(dir);
  cl_error err;
  store_info written, got;
  CHECK_OK(store_put(s, "h/current", "version 1", 9, NULL, &written, &err), &err);
  int fd;
  CHECK_OK(store_get_fd(s, "h/current", &fd, &got, &err), &err);
  CHECK_STR(got.etag, written.etag);
  CHECK_INT(got.size, 9);
  char path[900];
  struct stat object_st, fd_st;
  snprintf(path, sizeof(path), "%s/h/current", dir);
  CHECK(stat(path, &object_st) == 0 && fstat(fd, &fd_st) == 0);
  CHECK_INT(fd_st.st_ino, object_st.st_ino); /* no copy */
  CHECK(write(fd, "x", 1) < 0);             /* read-only */

  /* The version opened stays readable after the key is replaced. */
  CHECK_OK(store_put(s, "h/current", "version 2!", 10, NULL, NULL, &err), &err);
  char bytes[16] = {0};
  CHECK(pread(fd, bytes, sizeof(bytes), 0) == 9);
  CHECK_STR(bytes, "version 1");
  close(fd);

  CHECK_STATUS(store_get_fd(s, "h/missing", &fd, NULL, &err), CL_ERR_NOT_FOUND);
  CHECK_INT(fd, -1);
  store_stats stats;
  store_get_stats(s, &stats);
  CHECK_INT(stats.bytes_read, 9);
  store_free(s);
}

/* Backends without their own get_fd and temp_fd (S3) get a copy in
 * $TMPDIR; the local backend with those two removed stands in for one. */
TEST(store_get_fd_and_temp_fd_without_backend_support)
{
  const char *dir = unit_temp_dir();
  store *s = open_store_at(dir);
  cl_error err;
  const store_ops *own = s->ops;
  store_ops plain = *own;
  plain.get_fd = NULL;
  plain.temp_fd = NULL;
  s->ops = &plain;
  CHECK_OK(store_put(s, "obj", "bytes", 5, NULL, NULL, &err), &err);
  int fd;
  store_info info;
  CHECK_OK(store_get_fd(s, "obj", &fd, &info, &err), &err);
  CHECK_INT(info.size, 5);
  CHECK(lseek(fd, 0, SEEK_CUR) == 0);
  char bytes[8] = {0};
  CHECK(read(fd, bytes, sizeof(bytes)) == 5);
  CHECK_STR(bytes, "bytes");
  close(fd);
  CHECK_STATUS(store_get_fd(s, "gone", &fd, NULL, &err), CL_ERR_NOT_FOUND);
  CHECK_INT(fd, -1);

  CHECK_OK(store_temp_fd(s, &fd, &err), &err);
  CHECK(write_all(fd, "copied"));
  CHECK_OK(store_put_fd(s, "copy", fd, 6, NULL, NULL, &err), &err);
  close(fd);
  check_object(s, "copy", "copied");
  s->ops = own;
  store_free(s);
}

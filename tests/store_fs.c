/* The local store backend: every operation, preconditions, cross-process
 * conditional writes, listing order and the crash-test fault hook. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/store.h"
#include "unit.h"

static store *open_temp_store(char *dir, size_t dir_size)
{
  store *s = NULL;
  cl_error err;
  snprintf(dir, dir_size, "%s", unit_temp_dir());
  CHECK_OK(store_open(dir, &s, &err), &err);
  return s;
}

static int file_exists(const char *dir, const char *rel)
{
  char path[1024];
  struct stat st;
  snprintf(path, sizeof(path), "%s/%s", dir, rel);
  return !stat(path, &st);
}

TEST(store_fs_put_get_head_round_trip)
{
  char dir[600];
  store *s = open_temp_store(dir, sizeof(dir));
  cl_error err;
  store_info written, head, got;
  CHECK_OK(store_put(s, "a/b/c.json", "[1,2]", 5, NULL, &written, &err), &err);
  CHECK(file_exists(dir, "a/b/c.json"));
  CHECK_INT(written.size, 5);
  CHECK(written.etag[0] != '\0');
  CHECK_OK(store_head(s, "a/b/c.json", &head, &err), &err);
  CHECK_INT(head.size, 5);
  CHECK_STR(head.etag, written.etag);
  buf out = BUF_INIT;
  buf_append_str(&out, ">");
  CHECK_OK(store_get(s, "a/b/c.json", &out, &got, &err), &err);
  CHECK_STR(out.data, ">[1,2]"); /* appended, not replaced */
  CHECK_STR(got.etag, written.etag);
  CHECK_INT(got.size, 5);
  buf_free(&out);

  /* Empty objects are objects. */
  CHECK_OK(store_put(s, "empty", "", 0, NULL, &written, &err), &err);
  CHECK_OK(store_head(s, "empty", &head, &err), &err);
  CHECK_INT(head.size, 0);

  store_stats stats;
  store_get_stats(s, &stats);
  CHECK_INT(stats.requests, 5);
  CHECK_INT(stats.bytes_written, 5);
  CHECK_INT(stats.bytes_read, 5);
  store_free(s);
}

TEST(store_fs_names_and_urls)
{
  char dir[600], url[700];
  snprintf(dir, sizeof(dir), "%s", unit_temp_dir());
  snprintf(url, sizeof(url), "file://%s/", dir);
  store *s = NULL;
  cl_error err;
  CHECK_OK(store_open(url, &s, &err), &err);
  char expected[700];
  snprintf(expected, sizeof(expected), "file://%s", dir);
  CHECK_STR(store_name(s), expected);
  store_free(s);

  /* A directory that does not exist is a typo, not a store to make: the
   * first thing every command does is read an upload from it. */
  snprintf(url, sizeof(url), "%s/new/root", dir);
  CHECK_STATUS(store_open(url, &s, &err), CL_ERR_USAGE);
  CHECK(strstr(err.message, "/new/root': no such directory") != NULL);
  CHECK(!file_exists(dir, "new"));

  /* A relative directory is made absolute in the name. */
  char cwd[512];
  CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
  CHECK(chdir(dir) == 0);
  CHECK(mkdir("rel", 0777) == 0);
  CHECK_OK(store_open("./rel/", &s, &err), &err);
  snprintf(expected, sizeof(expected), "file://%s/./rel", dir);
  CHECK(strstr(store_name(s), "/rel") != NULL);
  CHECK(!strncmp(store_name(s), "file:///", 8));
  store_free(s);
  CHECK(chdir(cwd) == 0);

  static const struct {
    const char *url;
    cl_status status;
  } bad[] = {
    {"ftp://x", CL_ERR_USAGE},
    {"s3://", CL_ERR_USAGE},
    {"s3://bucket/prefix", CL_ERR_USAGE},
    {"file://", CL_ERR_USAGE},
  };
  for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    s = NULL;
    CHECK_STATUS(store_open(bad[i].url, &s, &err), bad[i].status);
    CHECK(s == NULL);
  }
  /* A file is not a store directory. */
  snprintf(url, sizeof(url), "%s/new/root/x", dir);
  CHECK_STATUS(store_open(url, &s, &err), CL_ERR_USAGE);
}

TEST(store_fs_bad_keys_are_usage_errors)
{
  static const char *bad_keys[] = {
    "",     "/abs",        "a//b",          "a/",          "..",
    "../x", "a/../b",      "a/..",          "./a",         "a/./b",
    ".",    ".collator-locks/0.lock",       "a/.collator-tmp-1-2-3",
  };
  char dir[600];
  store *s = open_temp_store(dir, sizeof(dir));
  cl_error err;
  buf out = BUF_INIT;
  char byte;
  for(size_t i = 0; i < sizeof(bad_keys) / sizeof(bad_keys[0]); i++) {
    const char *key = bad_keys[i];
    CHECK_STATUS(store_put(s, key, "x", 1, NULL, NULL, &err), CL_ERR_USAGE);
    CHECK_STATUS(store_get(s, key, &out, NULL, &err), CL_ERR_USAGE);
    CHECK_STATUS(store_head(s, key, NULL, &err), CL_ERR_USAGE);
    CHECK_STATUS(store_delete(s, key, &err), CL_ERR_USAGE);
    CHECK_STATUS(store_read_range(s, key, NULL, 0, &byte, 1, &err), CL_ERR_USAGE);
  }
  CHECK_STATUS(store_put(s, NULL, "x", 1, NULL, NULL, &err), CL_ERR_USAGE);
  CHECK(strstr(err.message, store_name(s)) != NULL);
  CHECK_INT(out.len, 0);
  buf_free(&out);
  store_free(s);
}

TEST(store_fs_missing_objects_are_not_found)
{
  char dir[600];
  store *s = open_temp_store(dir, sizeof(dir));
  cl_error err;
  buf out = BUF_INIT;
  store_reader *reader = (store_reader *)&out;
  char byte;
  CHECK_OK(store_put(s, "dir/obj", "x", 1, NULL, NULL, &err), &err);
  static const char *missing[] = {"nope", "dir/nope", "dir", "dir/obj/below", "x/y/z"};
  for(size_t i = 0; i < sizeof(missing) / sizeof(missing[0]); i++) {
    const char *key = missing[i];
    CHECK_STATUS(store_head(s, key, NULL, &err), CL_ERR_NOT_FOUND);
    CHECK(strstr(err.message, key) != NULL);
    CHECK_STATUS(store_get(s, key, &out, NULL, &err), CL_ERR_NOT_FOUND);
    CHECK_STATUS(store_get_to_fd(s, key, 1, NULL, &err), CL_ERR_NOT_FOUND);
    CHECK_STATUS(store_reader_open(s, key, &reader, NULL, &err), CL_ERR_NOT_FOUND);
    CHECK(reader == NULL);
    CHECK_STATUS(store_read_range(s, key, NULL, 0, &byte, 1, &err), CL_ERR_NOT_FOUND);
  }
  buf_free(&out);
  store_free(s);
}

TEST(store_fs_etag_changes_on_every_write)
{
  char dir[600];
  store *s = open_temp_store(dir, sizeof(dir));
  cl_error err;
  enum { WRITES = 200 };
  static char etags[WRITES][STORE_ETAG_MAX];
  store_info info;
  for(int i = 0; i < WRITES; i++) {
    /* Same size and content every time: only the version may differ. */
    CHECK_OK(store_put(s, "k", "same", 4, NULL, &info, &err), &err);
    snprintf(etags[i], STORE_ETAG_MAX, "%s", info.etag);
    if(i % 3 == 2)
      CHECK_OK(store_delete(s, "k", &err), &err);
  }
  int duplicates = 0;
  for(int i = 0; i < WRITES; i++)
    for(int j = i + 1; j < WRITES; j++)
      duplicates += !strcmp(etags[i], etags[j]);
  CHECK_INT(duplicates, 0);
  store_free(s);
}

TEST(store_fs_preconditions)
{
  char dir[600];
  store *s = open_temp_store(dir, sizeof(dir));
  cl_error err;
  store_info first, second, info;
  store_precondition absent = {STORE_IF_ABSENT, NULL};
  CHECK_OK(store_put(s, "k", "one", 3, &absent, &first, &err), &err);
  CHECK_STATUS(store_put(s, "k", "two", 3, &absent, &info, &err), CL_ERR_CONFLICT);
  CHECK(strstr(err.message, "/k") != NULL);

  store_precondition match = {STORE_IF_MATCH, first.etag};
  CHECK_OK(store_put(s, "k", "two", 3, &match, &second, &err), &err);
  CHECK(strcmp(first.etag, second.etag) != 0);
  /* The ETag that was read is stale now. */
  CHECK_STATUS(store_put(s, "k", "three", 5, &match, &info, &err), CL_ERR_CONFLICT);
  buf out = BUF_INIT;
  CHECK_OK(store_get(s, "k", &out, &info, &err), &err);
  CHECK_STR(out.data, "two");
  CHECK_STR(info.etag, second.etag);
  buf_free(&out);

  /* If-Match on a missing object loses too. */
  CHECK_OK(store_delete(s, "k", &err), &err);
  match.etag = second.etag;
  CHECK_STATUS(store_put(s, "k", "x", 1, &match, &info, &err), CL_ERR_CONFLICT);
  CHECK_OK(store_put(s, "k", "x", 1, &absent, &info, &err), &err);

  store_precondition no_etag = {STORE_IF_MATCH, NULL};
  CHECK_STATUS(store_put(s, "k", "x", 1, &no_etag, &info, &err), CL_ERR_USAGE);
  store_precondition always = {STORE_ALWAYS, NULL};
  CHECK_OK(store_put(s, "k", "y", 1, &always, &info, &err), &err);

  store_stats stats;
  store_get_stats(s, &stats);
  CHECK_INT(stats.conflicts, 3);
  store_free(s);
}

/* Children race for one key; each exits 0 if its write won, 1 if it lost,
 * 2 on any other outcome. */
static int race_child(const char *dir, const char *key, const store_precondition *precondition,
                      int id)
{
  store *s = NULL;
  cl_error err;
  if(store_open(dir, &s, &err))
    return 2;
  char body[32];
  int n = snprintf(body, sizeof(body), "writer %d", id);
  cl_status status = store_put(s, key, body, (size_t)n, precondition, NULL, &err);
  store_free(s);
  return status == CL_OK ? 0 : status == CL_ERR_CONFLICT ? 1 : 2;
}

static void run_race(const char *dir, const char *key, const store_precondition *precondition,
                     int writers, int *wins, int *losses)
{
  pid_t pids[64];
  int start_pipe[2];
  CHECK(pipe(start_pipe) == 0);
  for(int i = 0; i < writers; i++) {
    pids[i] = fork();
    if(pids[i] == 0) {
      char go;
      close(start_pipe[1]);
      /* Everyone starts together when the parent closes the pipe. */
      if(read(start_pipe[0], &go, 1) < 0)
        _exit(2);
      _exit(race_child(dir, key, precondition, i));
    }
  }
  close(start_pipe[0]);
  close(start_pipe[1]);
  *wins = *losses = 0;
  for(int i = 0; i < writers; i++) {
    int wstatus;
    CHECK(waitpid(pids[i], &wstatus, 0) == pids[i]);
    CHECK(WIFEXITED(wstatus));
    int code = WEXITSTATUS(wstatus);
    *wins += code == 0;
    *losses += code == 1;
  }
}

TEST(store_fs_concurrent_conditional_puts_have_one_winner)
{
  char dir[600];
  store *s = open_temp_store(dir, sizeof(dir));
  cl_error err;
  enum { WRITERS = 16, ROUNDS = 5 };
  for(int round = 0; round < ROUNDS; round++) {
    char key[64];
    snprintf(key, sizeof(key), "race/%d/logs.parquet", round);
    store_precondition absent = {STORE_IF_ABSENT, NULL};
    int wins, losses;
    run_race(dir, key, &absent, WRITERS, &wins, &losses);
    CHECK_INT(wins, 1);
    CHECK_INT(losses, WRITERS - 1);

    /* Everyone read the same version; one read-modify-write may land. */
    store_info info;
    CHECK_OK(store_head(s, key, &info, &err), &err);
    store_precondition match = {STORE_IF_MATCH, info.etag};
    run_race(dir, key, &match, WRITERS, &wins, &losses);
    CHECK_INT(wins, 1);
    CHECK_INT(losses, WRITERS - 1);
  }
  store_free(s);
}

typedef struct collected {
  buf keys; /* "key size\n" lines */
  int stop_after;
  int seen;
} collected;

static cl_status collect_key(void *ctx, const char *key, const store_info *info, cl_error *err)
{
  collected *c = ctx;
  if(c->stop_after && c->seen == c->stop_after)
    return cl_fail(err, CL_ERR_LIMIT, "stopped after %d keys", c->seen);
  c->seen++;
  buf_printf(&c->keys, "%s %llu\n", key, (unsigned long long)info->size);
  return CL_OK;
}

TEST(store_fs_list_is_in_byte_order_and_filters_by_prefix)
{
  static const char *keys[] = {
    "a/b", "a-c", "a" /* a directory already */, "a.b", "b", "a0", "a/b/c" /* "a/b" is a file */,
    "uploads/users/1/d/x.json", "uploads/users/10/d/y.json", "uploads/users/1/c/z.json",
    "uploads/users/2/q.json", "Z", "~tilde", "a/\xc3\xa9", "a/z",
  };
  char dir[600];
  store *s = open_temp_store(dir, sizeof(dir));
  cl_error err;
  for(size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
    cl_status status = store_put(s, keys[i], keys[i], strlen(keys[i]), NULL, NULL, &err);
    if(strcmp(keys[i], "a/b/c") && strcmp(keys[i], "a"))
      CHECK_OK(status, &err);
    else
      CHECK_STATUS(status, CL_ERR_IO);
  }
  /* Stray temp files and the lock directory never show. */
  char stray[700];
  snprintf(stray, sizeof(stray), "%s/a/.collator-tmp-1-1-1", dir);
  FILE *f = fopen(stray, "w");
  CHECK(f != NULL);
  if(f)
    fclose(f);

  static const struct {
    const char *prefix;
    const char *expected;
  } cases[] = {
    {"", "Z 1\na-c 3\na.b 3\na/b 3\na/z 3\na/\xc3\xa9 4\na0 2\nb 1\n"
         "uploads/users/1/c/z.json 24\nuploads/users/1/d/x.json 24\n"
         "uploads/users/10/d/y.json 25\nuploads/users/2/q.json 22\n~tilde 6\n"},
    {"a", "a-c 3\na.b 3\na/b 3\na/z 3\na/\xc3\xa9 4\na0 2\n"},
    {"a/", "a/b 3\na/z 3\na/\xc3\xa9 4\n"},
    {"uploads/users/1", "uploads/users/1/c/z.json 24\nuploads/users/1/d/x.json 24\n"
                        "uploads/users/10/d/y.json 25\n"},
    {"uploads/users/1/", "uploads/users/1/c/z.json 24\nuploads/users/1/d/x.json 24\n"},
    {"uploads/users/1/d/x.json", "uploads/users/1/d/x.json 24\n"},
    {"uploads/users/3/", ""},
    {"nothing/here/", ""},
    {"b", "b 1\n"},
  };
  for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    collected c = {BUF_INIT, 0, 0};
    buf_append_str(&c.keys, "");
    CHECK_OK(store_list(s, cases[i].prefix, collect_key, &c, &err), &err);
    if(strcmp(c.keys.data, cases[i].expected))
      unit_fail(__FILE__, __LINE__, "prefix '%s' listed:\n%s", cases[i].prefix, c.keys.data);
    buf_free(&c.keys);
  }

  /* The callback stops the listing and its status comes back. */
  collected c = {BUF_INIT, 3, 0};
  CHECK_STATUS(store_list(s, "", collect_key, &c, &err), CL_ERR_LIMIT);
  CHECK_INT(c.seen, 3);
  CHECK_STR(err.message, "stopped after 3 keys");
  buf_free(&c.keys);

  CHECK_STATUS(store_list(s, "../", collect_key, &c, &err), CL_ERR_USAGE);
  CHECK_STATUS(store_list(s, "a//", collect_key, &c, &err), CL_ERR_USAGE);
  store_free(s);
}

TEST(store_fs_read_range_checks_the_etag)
{
  char dir[600];
  store *s = open_temp_store(dir, sizeof(dir));
  cl_error err;
  store_info info, newer;
  CHECK_OK(store_put(s, "r", "0123456789", 10, NULL, &info, &err), &err);
  char out[11] = {0};
  CHECK_OK(store_read_range(s, "r", info.etag, 3, out, 4, &err), &err);
  CHECK_STR(out, "3456");
  memset(out, 0, sizeof(out));
  CHECK_OK(store_read_range(s, "r", NULL, 0, out, 10, &err), &err);
  CHECK_STR(out, "0123456789");
  CHECK_OK(store_read_range(s, "r", NULL, 10, out, 0, &err), &err);
  CHECK_STATUS(store_read_range(s, "r", NULL, 8, out, 3, &err), CL_ERR_FORMAT);
  CHECK_STATUS(store_read_range(s, "r", NULL, 11, out, 0, &err), CL_ERR_FORMAT);
  CHECK_OK(store_put(s, "r", "abcdefghij", 10, NULL, &newer, &err), &err);
  CHECK_STATUS(store_read_range(s, "r", info.etag, 0, out, 1, &err), CL_ERR_CONFLICT);
  CHECK(strstr(err.message, info.etag) != NULL);
  CHECK_OK(store_read_range(s, "r", newer.etag, 0, out, 1, &err), &err);
  CHECK_INT(out[0], 'a');
  store_free(s);
}

TEST(store_fs_reader_streams_the_version_it_opened)
{
  char dir[600];
  store *s = open_temp_store(dir, sizeof(dir));
  cl_error err;
  enum { SIZE = 300000 };
  char *data = malloc(SIZE);
  for(int i = 0; i < SIZE; i++)
    data[i] = (char)('a' + i % 26);
  store_info info, opened;
  CHECK_OK(store_put(s, "big", data, SIZE, NULL, &info, &err), &err);
  store_reader *reader = NULL;
  CHECK_OK(store_reader_open(s, "big", &reader, &opened, &err), &err);
  CHECK_STR(opened.etag, info.etag);
  CHECK_INT(opened.size, SIZE);
  /* Replaced after opening: the reader still sees the old bytes. */
  CHECK_OK(store_put(s, "big", "new", 3, NULL, NULL, &err), &err);
  stream_source source = store_reader_source(reader);
  buf got = BUF_INIT;
  for(;;) {
    char chunk[7000];
    size_t n = 0;
    CHECK_OK(source.read(source.ctx, chunk, sizeof(chunk), &n, &err), &err);
    if(!n)
      break;
    buf_append(&got, chunk, n);
  }
  CHECK_MEM(got.data, got.len, data, (size_t)SIZE);
  store_reader_free(reader);
  store_reader_free(NULL);
  buf_free(&got);
  free(data);
  store_free(s);
}

static int make_temp_file(const char *dir, const char *name, uint64_t size, unsigned seed)
{
  char path[700];
  snprintf(path, sizeof(path), "%s/%s", dir, name);
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  CHECK(fd >= 0);
  char *chunk = malloc(1 << 20);
  uint32_t x = seed;
  for(uint64_t done = 0; done < size;) {
    size_t n = size - done < (1u << 20) ? (size_t)(size - done) : (1u << 20);
    for(size_t i = 0; i < n; i++) {
      x = x * 1103515245u + 12345u;
      chunk[i] = (char)(x >> 24);
    }
    CHECK(write(fd, chunk, n) == (ssize_t)n);
    done += n;
  }
  free(chunk);
  return fd;
}

static int files_equal(int a, int b)
{
  char x[65536], y[65536];
  off_t offset = 0;
  for(;;) {
    ssize_t n = pread(a, x, sizeof(x), offset), m = pread(b, y, sizeof(y), offset);
    if(n != m || n < 0 || memcmp(x, y, (size_t)n))
      return 0;
    if(n == 0)
      return 1;
    offset += n;
  }
}

TEST(store_fs_large_file_through_put_fd_and_get_to_fd)
{
  char dir[600];
  store *s = open_temp_store(dir, sizeof(dir));
  char scratch[600];
  snprintf(scratch, sizeof(scratch), "%s", unit_temp_dir());
  cl_error err;
  enum { SIZE = 70 * 1024 * 1024 + 12345 };
  int source = make_temp_file(scratch, "source", SIZE, 7);
  /* put_fd reads from offset 0 whatever the descriptor's position. */
  CHECK(lseek(source, 0, SEEK_END) == SIZE);
  store_info written, got;
  CHECK_OK(store_put_fd(s, "large/file.bin", source, SIZE, NULL, &written, &err), &err);
  CHECK_INT(written.size, SIZE);

  char path[700];
  snprintf(path, sizeof(path), "%s/copy", scratch);
  int copy = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  CHECK(write(copy, "prefix", 6) == 6);
  CHECK_OK(store_get_to_fd(s, "large/file.bin", copy, &got, &err), &err);
  CHECK_STR(got.etag, written.etag);
  struct stat st;
  CHECK(fstat(copy, &st) == 0);
  CHECK_INT(st.st_size, SIZE + 6);
  CHECK(ftruncate(copy, 0) == 0);
  CHECK(lseek(copy, 0, SEEK_SET) == 0);
  CHECK_OK(store_get_to_fd(s, "large/file.bin", copy, NULL, &err), &err);
  CHECK(files_equal(source, copy));

  /* A size beyond the file's end is an error and leaves nothing behind. */
  CHECK_STATUS(store_put_fd(s, "large/short.bin", source, SIZE + 1ull, NULL, NULL, &err),
               CL_ERR_IO);
  CHECK_STATUS(store_head(s, "large/short.bin", NULL, &err), CL_ERR_NOT_FOUND);
  /* A size below it writes the first bytes only. */
  CHECK_OK(store_put_fd(s, "large/head.bin", source, 1000, NULL, &written, &err), &err);
  CHECK_INT(written.size, 1000);

  /* Conditions apply to put_fd as to put. */
  store_precondition absent = {STORE_IF_ABSENT, NULL};
  CHECK_STATUS(store_put_fd(s, "large/head.bin", source, 10, &absent, NULL, &err),
               CL_ERR_CONFLICT);
  collected c = {BUF_INIT, 0, 0};
  CHECK_OK(store_list(s, "large/", collect_key, &c, &err), &err);
  CHECK_STR(c.keys.data, "large/file.bin 73412665\nlarge/head.bin 1000\n");
  buf_free(&c.keys);
  close(copy);
  close(source);
  store_free(s);
}

TEST(store_fs_delete)
{
  char dir[600];
  store *s = open_temp_store(dir, sizeof(dir));
  cl_error err;
  CHECK_OK(store_put(s, "d/x", "1", 1, NULL, NULL, &err), &err);
  CHECK_OK(store_delete(s, "d/x", &err), &err);
  CHECK_STATUS(store_head(s, "d/x", NULL, &err), CL_ERR_NOT_FOUND);
  /* Deleting what is not there succeeds, like S3's DELETE. */
  CHECK_OK(store_delete(s, "d/x", &err), &err);
  CHECK_OK(store_delete(s, "never/was", &err), &err);
  CHECK_OK(store_put(s, "d/y/z", "1", 1, NULL, NULL, &err), &err);
  CHECK_OK(store_delete(s, "d/y", &err), &err); /* a directory is not an object */
  CHECK_OK(store_head(s, "d/y/z", NULL, &err), &err);
  store_free(s);
}

TEST(store_fs_fault_hook_kills_before_the_next_write)
{
  char dir[600];
  store *s = open_temp_store(dir, sizeof(dir));
  cl_error err;
  pid_t pid = fork();
  if(pid == 0) {
    setenv("COLLATOR_FAULT_AFTER_WRITES", "2", 1);
    store_put(s, "one", "1", 1, NULL, NULL, &err);
    store_delete(s, "one", &err);
    store_put(s, "three", "3", 1, NULL, NULL, &err);
    _exit(0);
  }
  int wstatus;
  CHECK(waitpid(pid, &wstatus, 0) == pid);
  CHECK(WIFEXITED(wstatus));
  CHECK_INT(WEXITSTATUS(wstatus), 99);
  CHECK_STATUS(store_head(s, "one", NULL, &err), CL_ERR_NOT_FOUND);
  CHECK_STATUS(store_head(s, "three", NULL, &err), CL_ERR_NOT_FOUND);
  store_free(s);
}

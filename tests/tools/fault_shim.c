/* fault_shim: an LD_PRELOAD library that makes one of the process's
 * filesystem mutations fail, for the local store's disk-error tests
 * (tests/node/reliability_disk.test.mjs). Root ignores permissions and a
 * test machine's disk rarely fills, so this is how a test meets ENOSPC or
 * an fsync's EIO.
 *
 * The calls it counts are those that change or flush a file or a directory
 * (the list below), or with FAULT_KIND=read those that read a file or look
 * at one (stat, fstatat, readdir), on any descriptor but 0-2: a failure
 * report must still reach stderr. Environment:
 *   FAULT_KIND=KIND     write (default) or read: which calls count
 *   FAULT_AT=k          the k-th counted call (from 1) fails; 0 or unset: none
 *   FAULT_ERRNO=NAME    its errno: EIO (default), ENOSPC or EDQUOT
 *   FAULT_STICKY=1      every counted call from the k-th on fails (a full disk)
 *   FAULT_REPORT=FILE   at exit, "CALLS FIRED NAME" is written there: how many
 *                       calls were counted, whether one failed, and which
 * With the collator on one thread (COLLATOR_THREADS=1) the order of its calls,
 * and so what k means, is the same from run to run. */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static atomic_long calls;
static atomic_int fired;
static const char *fired_name = "-";
static long fault_at;
static int fault_errno = EIO, sticky, count_reads;

__attribute__((constructor)) static void shim_init(void)
{
  const char *at = getenv("FAULT_AT"), *name = getenv("FAULT_ERRNO");
  fault_at = at ? atol(at) : 0;
  sticky = getenv("FAULT_STICKY") && !strcmp(getenv("FAULT_STICKY"), "1");
  count_reads = getenv("FAULT_KIND") && !strcmp(getenv("FAULT_KIND"), "read");
  if(name && !strcmp(name, "ENOSPC"))
    fault_errno = ENOSPC;
  else if(name && !strcmp(name, "EDQUOT"))
    fault_errno = EDQUOT;
}

__attribute__((destructor)) static void shim_report(void)
{
  const char *file = getenv("FAULT_REPORT");
  if(!file)
    return;
  FILE *f = fopen(file, "w");
  if(!f)
    return;
  fprintf(f, "%ld %d %s\n", atomic_load(&calls), atomic_load(&fired), fired_name);
  fclose(f);
}

/* Whether this call is the one (or, sticky, one of those) to fail; counts it
 * when it is of the kind counted. */
static int should_fail(int fd, int reads, const char *name)
{
  if((fd >= 0 && fd <= 2) || reads != count_reads)
    return 0;
  long n = atomic_fetch_add(&calls, 1) + 1;
  if(!fault_at || n < fault_at || (n > fault_at && !sticky))
    return 0;
  if(!atomic_exchange(&fired, 1))
    fired_name = name;
  errno = fault_errno;
  return 1;
}

#define REAL(name) ((__typeof__(&name))dlsym(RTLD_NEXT, #name))

ssize_t write(int fd, const void *data, size_t len)
{
  return should_fail(fd, 0, "write") ? -1 : REAL(write)(fd, data, len);
}

ssize_t pwrite(int fd, const void *data, size_t len, off_t offset)
{
  return should_fail(fd, 0, "pwrite") ? -1 : REAL(pwrite)(fd, data, len, offset);
}

ssize_t pwrite64(int fd, const void *data, size_t len, off_t offset)
{
  return should_fail(fd, 0, "pwrite64") ? -1 : REAL(pwrite64)(fd, data, len, offset);
}

int fsync(int fd)
{
  return should_fail(fd, 0, "fsync") ? -1 : REAL(fsync)(fd);
}

int fdatasync(int fd)
{
  return should_fail(fd, 0, "fdatasync") ? -1 : REAL(fdatasync)(fd);
}

int ftruncate(int fd, off_t len)
{
  return should_fail(fd, 0, "ftruncate") ? -1 : REAL(ftruncate)(fd, len);
}

int futimens(int fd, const struct timespec times[2])
{
  return should_fail(fd, 0, "futimens") ? -1 : REAL(futimens)(fd, times);
}

ssize_t copy_file_range(int in, off_t *in_offset, int out, off_t *out_offset, size_t len,
                        unsigned flags)
{
  return should_fail(out, 0, "copy_file_range")
           ? -1
           : REAL(copy_file_range)(in, in_offset, out, out_offset, len, flags);
}

int rename(const char *from, const char *to)
{
  return should_fail(-1, 0, "rename") ? -1 : REAL(rename)(from, to);
}

int linkat(int from_dir, const char *from, int to_dir, const char *to, int flags)
{
  return should_fail(-1, 0, "linkat") ? -1 : REAL(linkat)(from_dir, from, to_dir, to, flags);
}

int mkdir(const char *path, mode_t mode)
{
  return should_fail(-1, 0, "mkdir") ? -1 : REAL(mkdir)(path, mode);
}

ssize_t read(int fd, void *data, size_t len)
{
  return should_fail(fd, 1, "read") ? -1 : REAL(read)(fd, data, len);
}

ssize_t pread(int fd, void *data, size_t len, off_t offset)
{
  return should_fail(fd, 1, "pread") ? -1 : REAL(pread)(fd, data, len, offset);
}

ssize_t pread64(int fd, void *data, size_t len, off_t offset)
{
  return should_fail(fd, 1, "pread64") ? -1 : REAL(pread64)(fd, data, len, offset);
}

int stat(const char *path, struct stat *st)
{
  return should_fail(-1, 1, "stat") ? -1 : REAL(stat)(path, st);
}

int stat64(const char *path, struct stat64 *st)
{
  return should_fail(-1, 1, "stat64") ? -1 : REAL(stat64)(path, st);
}

int fstatat(int dir_fd, const char *path, struct stat *st, int flags)
{
  return should_fail(-1, 1, "fstatat") ? -1 : REAL(fstatat)(dir_fd, path, st, flags);
}

int fstatat64(int dir_fd, const char *path, struct stat64 *st, int flags)
{
  return should_fail(-1, 1, "fstatat64") ? -1 : REAL(fstatat64)(dir_fd, path, st, flags);
}

struct dirent *readdir(DIR *dir)
{
  return should_fail(-1, 1, "readdir") ? NULL : REAL(readdir)(dir);
}

struct dirent64 *readdir64(DIR *dir)
{
  return should_fail(-1, 1, "readdir64") ? NULL : REAL(readdir64)(dir);
}

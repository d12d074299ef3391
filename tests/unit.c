#include "unit.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define UNIT_MAX_TESTS 4096

typedef struct unit_test {
  const char *file;
  const char *name;
  unit_test_fn fn;
} unit_test;

static unit_test tests[UNIT_MAX_TESTS];
static int test_count;
static int current_failures;
static const unit_test *current;
static char temp_root[512];
static int temp_serial;

void unit_register(const char *file, const char *name, unit_test_fn fn)
{
  if(test_count < UNIT_MAX_TESTS)
    tests[test_count++] = (unit_test){file, name, fn};
}

void unit_fail(const char *file, int line, const char *fmt, ...)
{
  va_list ap;
  fprintf(stderr, "  FAIL %s (%s:%d): ", current ? current->name : "?", file, line);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  current_failures++;
}

const char *unit_error_message(const cl_error *err)
{
  return err ? err->message : "";
}

const char *unit_testdata_dir(void)
{
  const char *dir = getenv("COLLATOR_TESTDATA");
  return dir ? dir : "../shared/testdata";
}

const char *unit_temp_dir(void)
{
  static char path[600];
  if(!temp_root[0]) {
    const char *tmp = getenv("TMPDIR");
    snprintf(temp_root, sizeof(temp_root), "%s/collator-unit-XXXXXX", tmp ? tmp : "/tmp");
    if(!mkdtemp(temp_root)) {
      perror("mkdtemp");
      exit(2);
    }
  }
  snprintf(path, sizeof(path), "%s/%d", temp_root, ++temp_serial);
  if(mkdir(path, 0700) && errno != EEXIST) {
    perror(path);
    exit(2);
  }
  return path;
}

static int by_file_then_order(const void *a, const void *b)
{
  const unit_test *x = a, *y = b;
  int c = strcmp(x->file, y->file);
  return c ? c : (x < y ? -1 : x > y);
}

int main(int argc, char **argv)
{
  const char *filter = argc > 1 ? argv[1] : NULL;
  int passed = 0, failed = 0;

  qsort(tests, (size_t)test_count, sizeof(tests[0]), by_file_then_order);
  for(int i = 0; i < test_count; i++) {
    if(filter && !strstr(tests[i].name, filter) && !strstr(tests[i].file, filter))
      continue;
    current = &tests[i];
    current_failures = 0;
    tests[i].fn();
    if(current_failures) {
      failed++;
      fprintf(stderr, "not ok %s (%s)\n", tests[i].name, tests[i].file);
    } else {
      passed++;
    }
  }
  if(temp_root[0]) {
    char cmd[700];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", temp_root);
    if(system(cmd) != 0)
      fprintf(stderr, "could not remove %s\n", temp_root);
  }
  /* A mistyped filter must not read as a pass. */
  if(filter && passed + failed == 0) {
    fprintf(stderr, "no test matches '%s'\n", filter);
    failed = 1;
  }
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}

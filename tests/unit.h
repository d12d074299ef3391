/*
 * unit: the project's small unit-test framework.
 *
 * TEST(name) defines a test and registers it before main runs; CHECK*
 * macros record a failure with file and line and let the test go on, so one
 * run shows every broken expectation. The runner ends with the line
 * "N passed, N failed" that CI reads. Table-driven tests loop over a static
 * array of vectors and CHECK each one.
 */
#ifndef COLLATOR_TESTS_UNIT_H
#define COLLATOR_TESTS_UNIT_H

#include <stdint.h>
#include <string.h>

#include "core/error.h"

typedef void (*unit_test_fn)(void);

void unit_register(const char *file, const char *name, unit_test_fn fn);
/* Record a failed expectation of the running test (printf-style detail). */
void unit_fail(const char *file, int line, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));
/* The message of err, or "" for NULL. */
const char *unit_error_message(const cl_error *err);
/* Directory of the shared test data (../shared/testdata or $COLLATOR_TESTDATA). */
const char *unit_testdata_dir(void);
/* A fresh empty directory for this test under $TMPDIR; removed after the run. */
const char *unit_temp_dir(void);

#define TEST(name)                                                         \
  static void name(void);                                                  \
  __attribute__((constructor)) static void unit_register_##name(void)     \
  {                                                                        \
    unit_register(__FILE__, #name, name);                                  \
  }                                                                        \
  static void name(void)

#define CHECK(cond)                                                        \
  do {                                                                     \
    if(!(cond))                                                            \
      unit_fail(__FILE__, __LINE__, "%s", #cond);                          \
  } while(0)

#define CHECK_INT(actual, expected)                                        \
  do {                                                                     \
    long long unit_a_ = (long long)(actual), unit_e_ = (long long)(expected); \
    if(unit_a_ != unit_e_)                                                 \
      unit_fail(__FILE__, __LINE__, "%s is %lld, expected %lld", #actual,  \
                unit_a_, unit_e_);                                         \
  } while(0)

#define CHECK_STR(actual, expected)                                        \
  do {                                                                     \
    const char *unit_a_ = (actual), *unit_e_ = (expected);                 \
    if(!unit_a_ || strcmp(unit_a_, unit_e_))                               \
      unit_fail(__FILE__, __LINE__, "%s is \"%s\", expected \"%s\"",       \
                #actual, unit_a_ ? unit_a_ : "(null)", unit_e_);           \
  } while(0)

#define CHECK_MEM(actual, actual_len, expected, expected_len)              \
  do {                                                                     \
    size_t unit_al_ = (actual_len), unit_el_ = (expected_len);             \
    if(unit_al_ != unit_el_ || memcmp((actual), (expected), unit_el_))     \
      unit_fail(__FILE__, __LINE__, "%s (%zu bytes) differs from %s (%zu bytes)", \
                #actual, unit_al_, #expected, unit_el_);                   \
  } while(0)

/* Expect CL_OK; on failure print the error message. */
#define CHECK_OK(call, errp)                                               \
  do {                                                                     \
    cl_status unit_s_ = (call);                                            \
    if(unit_s_)                                                            \
      unit_fail(__FILE__, __LINE__, "%s failed (%s): %s", #call,           \
                cl_status_name(unit_s_), unit_error_message(errp));   \
  } while(0)

#define CHECK_STATUS(call, expected)                                       \
  do {                                                                     \
    cl_status unit_s_ = (call);                                            \
    if(unit_s_ != (expected))                                              \
      unit_fail(__FILE__, __LINE__, "%s returned %s, expected %s", #call,  \
                cl_status_name(unit_s_), cl_status_name(expected));        \
  } while(0)

#endif

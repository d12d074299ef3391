/* core/env: the one check every integer setting goes through. */
#include <stdio.h>
#include <stdlib.h>

#include "core/env.h"
#include "unit.h"

TEST(env_u64_takes_digits_only)
{
  static const struct {
    const char *value; /* NULL: unset */
    cl_status status;
    uint64_t out;
  } cases[] = {
    {NULL, CL_OK, 7},
    {"", CL_OK, 7},
    {"0", CL_OK, 0},
    {"42", CL_OK, 42},
    {"18446744073709551615", CL_OK, UINT64_MAX},
    {"18446744073709551616", CL_ERR_USAGE, 7},
    {"-1", CL_ERR_USAGE, 7},
    {"+5", CL_ERR_USAGE, 7},
    {" 5", CL_ERR_USAGE, 7},
    {"5x", CL_ERR_USAGE, 7},
    {"abc", CL_ERR_USAGE, 7},
  };
  for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    if(cases[i].value)
      setenv("COLLATOR_TEST_ENV", cases[i].value, 1);
    else
      unsetenv("COLLATOR_TEST_ENV");
    uint64_t out = 0;
    cl_error err;
    cl_error_clear(&err);
    CHECK_INT(env_u64("COLLATOR_TEST_ENV", 7, &out, &err), cases[i].status);
    CHECK(out == cases[i].out);
    if(cases[i].status) {
      char want[100];
      snprintf(want, sizeof(want), "COLLATOR_TEST_ENV=%s: expected a non-negative integer",
               cases[i].value);
      CHECK_STR(err.message, want);
    }
  }
  unsetenv("COLLATOR_TEST_ENV");
}

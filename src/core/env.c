#include "env.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>

cl_status env_u64(const char *name, uint64_t fallback, uint64_t *out, cl_error *err)
{
  const char *v = getenv(name);
  *out = fallback;
  if(!v || !*v)
    return CL_OK;
  /* strtoull alone takes leading spaces and a sign, and wraps "-1". */
  char *end = NULL;
  errno = 0;
  unsigned long long n = strtoull(v, &end, 10);
  if(!isdigit((unsigned char)*v) || errno || *end)
    return cl_fail(err, CL_ERR_USAGE, "%s=%s: expected a non-negative integer", name, v);
  *out = n;
  return CL_OK;
}

/*
 * env: settings read from environment variables, checked one way.
 *
 * The collator is configured through its environment (README
 * "Configuration"), and a bad value is a usage error that names the
 * variable and what it holds, whichever module reads it.
 */
#ifndef COLLATOR_CORE_ENV_H
#define COLLATOR_CORE_ENV_H

#include <stdint.h>

#include "error.h"

/* The non-negative integer in $name, or fallback when it is unset or
 * empty. Anything else (a sign, a space, trailing text, more than
 * 2^64 - 1) is CL_ERR_USAGE "NAME=VALUE: expected a non-negative integer". */
cl_status env_u64(const char *name, uint64_t fallback, uint64_t *out, cl_error *err);

#endif

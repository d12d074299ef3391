/*
 * error: the one error style of the project.
 *
 * Every fallible function returns a cl_status and, when it can say more,
 * fills a caller-provided cl_error with a message naming what failed and on
 * which input. Callers forward failures with
 *
 *     status = f(..., err);
 *     if(status)
 *       return status;
 *
 * and add context on the way up with cl_error_prefix(), so the message that
 * reaches the log reads outermost-first ("uploads/users/1/...: gzip: truncated").
 * The status classifies the failure so that callers can decide policy (retry a
 * transient store error, record a permanent input error) without parsing text.
 */
#ifndef COLLATOR_CORE_ERROR_H
#define COLLATOR_CORE_ERROR_H

typedef enum cl_status {
  CL_OK = 0,
  CL_ERR_NOMEM,        /* an allocation failed */
  CL_ERR_IO,           /* a local file or socket operation failed */
  CL_ERR_NOT_FOUND,    /* the object or key does not exist */
  CL_ERR_CONFLICT,     /* a conditional write lost a race (HTTP 412/409) */
  CL_ERR_TRANSIENT,    /* a remote failure worth retrying (5xx, throttling, timeout) */
  CL_ERR_REMOTE,       /* a remote failure that retrying will not fix (403, 400) */
  CL_ERR_FORMAT,       /* input is malformed: JSON, gzip, Parquet, event, key */
  CL_ERR_LIMIT,        /* input exceeds a configured limit */
  CL_ERR_UNSUPPORTED,  /* well-formed input we deliberately do not handle */
  CL_ERR_USAGE,        /* a bad argument or configuration */
  CL_ERR_INTERNAL      /* a broken invariant: a bug */
} cl_status;

#define CL_ERROR_MESSAGE_MAX 512

typedef struct cl_error {
  cl_status status;
  char message[CL_ERROR_MESSAGE_MAX];
} cl_error;

/* Record a failure in err (which may be NULL) and return status, so that
 * `return cl_fail(err, CL_ERR_FORMAT, "%s: bad magic", name);` reads as one step. */
cl_status cl_fail(cl_error *err, cl_status status, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));

/* Prepend "context: " to the message already in err. */
void cl_error_prefix(cl_error *err, const char *fmt, ...)
  __attribute__((format(printf, 2, 3)));

/* The message in err past a leading "name: ", or NULL when it does not
 * start with name: for callers that name the object themselves and would
 * otherwise repeat the name a layer below already gave. */
const char *cl_error_after_name(const cl_error *err, const char *name);
void cl_error_clear(cl_error *err);

/* A stable lower-case name for a status ("not_found", "conflict", ...). */
const char *cl_status_name(cl_status status);

/* True for failures of the input itself, which no retry can fix. */
int cl_status_is_permanent(cl_status status);

#endif

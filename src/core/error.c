#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

cl_status cl_fail(cl_error *err, cl_status status, const char *fmt, ...)
{
  if(err) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    err->status = status;
  }
  return status;
}

void cl_error_prefix(cl_error *err, const char *fmt, ...)
{
  char joined[CL_ERROR_MESSAGE_MAX];
  size_t used;
  int n;
  va_list ap;

  if(!err)
    return;
  va_start(ap, fmt);
  n = vsnprintf(joined, sizeof(joined), fmt, ap);
  va_end(ap);
  used = n < 0 ? 0 : (size_t)n < sizeof(joined) ? (size_t)n : sizeof(joined) - 1;
  if(used + 2 < sizeof(joined)) {
    memcpy(joined + used, ": ", 2);
    used += 2;
    /* The tail of an over-long message is cut, never the context. */
    size_t room = sizeof(joined) - used - 1;
    size_t len = strnlen(err->message, sizeof(err->message));
    memcpy(joined + used, err->message, len < room ? len : room);
    used += len < room ? len : room;
  }
  joined[used] = '\0';
  memcpy(err->message, joined, used + 1);
}

const char *cl_error_after_name(const cl_error *err, const char *name)
{
  size_t len = strlen(name);
  if(!err || strncmp(err->message, name, len) || strncmp(err->message + len, ": ", 2))
    return NULL;
  return err->message + len + 2;
}

void cl_error_clear(cl_error *err)
{
  if(err) {
    err->status = CL_OK;
    err->message[0] = '\0';
  }
}

const char *cl_status_name(cl_status status)
{
  switch(status) {
  case CL_OK: return "ok";
  case CL_ERR_NOMEM: return "out_of_memory";
  case CL_ERR_IO: return "io";
  case CL_ERR_NOT_FOUND: return "not_found";
  case CL_ERR_CONFLICT: return "conflict";
  case CL_ERR_TRANSIENT: return "transient";
  case CL_ERR_REMOTE: return "remote";
  case CL_ERR_FORMAT: return "format";
  case CL_ERR_LIMIT: return "limit";
  case CL_ERR_UNSUPPORTED: return "unsupported";
  case CL_ERR_USAGE: return "usage";
  case CL_ERR_INTERNAL: return "internal";
  }
  return "unknown";
}

int cl_status_is_permanent(cl_status status)
{
  return status == CL_ERR_FORMAT || status == CL_ERR_LIMIT ||
         status == CL_ERR_UNSUPPORTED;
}

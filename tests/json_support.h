/*
 * json_support: what tests of JSON input share (no tests of its own): a
 * source that hands out a document in chunks of a chosen size, the
 * json.dumps of every element the streaming reader yields from a source,
 * and documents parsed for a test.
 */
#ifndef COLLATOR_TESTS_JSON_SUPPORT_H
#define COLLATOR_TESTS_JSON_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/stream.h"
#include "json/json.h"

/* Chunks of `chunk` bytes; 0 means random sizes from 1 to 97 (fixed seed).
 * A read that would pass fail_at fails with CL_ERR_IO. */
typedef struct json_test_source {
  const uint8_t *data;
  size_t len;
  size_t pos;
  size_t chunk;
  unsigned seed;
  size_t fail_at; /* SIZE_MAX: never */
} json_test_source;

/* s set up over data (borrowed) with fail_at SIZE_MAX (never). */
stream_source json_test_chunked(json_test_source *s, const void *data, size_t len, size_t chunk);

/* Stream every element of the array in source and collect json.dumps of
 * each, one per line, counting them; the status of the first failure is
 * returned with its message in err. */
cl_status json_test_stream_dumps(stream_source source, const json_limits *limits, buf *out,
                                 size_t *count, cl_error *err);

/* The arena json_test_parse parses into; it lives for the whole run, and a
 * test may reset it when it holds no parsed document any more. */
json_arena *json_test_arena(void);

/* text parsed with the default limits into json_test_arena(); NULL, with
 * the failure recorded for the running test, when it does not parse. */
const json_value *json_test_parse(const char *text);

#endif

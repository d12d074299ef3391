/*
 * key: the upload key layout and the output keys derived from it.
 *
 * An upload lives at uploads/users/{user_id}/{device_serial}/{device_id}/
 * {log_type}/{file}. The legacy split the key on "/" and ran the user id
 * through Python int(); we keep that parse (so "0100" and "1_00" are user
 * 100 as before) but reject what the legacy let through by accident: a wrong
 * prefix, path tricks, empty segments, oversized keys (design.md item 7).
 * Every rejection is CL_ERR_FORMAT, a permanent input error. Output keys print
 * the user id as the int, as the legacy did.
 */
#ifndef COLLATOR_COLLATE_KEY_H
#define COLLATOR_COLLATE_KEY_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"

#define COLLATE_KEY_MAX 1024

typedef struct collate_key {
  int64_t user_id;
  char user_text[24];     /* the user id printed as an int */
  char device_serial[256];
  char device_id[256];
  char log_type[32];      /* one of the four log type names */
} collate_key;

/* Parse an upload key of len bytes (embedded NUL bytes are rejected). An
 * unknown log type fails with a message starting "unexpected log type". */
cl_status collate_key_parse(const char *key, size_t len, collate_key *out, cl_error *err);

/* Python int() of a str: surrounding Unicode whitespace, a sign, Unicode
 * decimal digits, single underscores between digits; must fit int64.
 * (pystr.c's pyint() underneath.) */
cl_status collate_python_int(const char *text, size_t len, int64_t *out, cl_error *err);

/* collated_logs/current/{log_type}/user={user}/logs.parquet (appended to out). */
cl_status collate_key_current(const collate_key *key, buf *out);
/* collated_logs/diff/{log_type}/ts_update={batch_date}/user={user}/logs.parquet */
cl_status collate_key_diff(const collate_key *key, const char *batch_date, buf *out);
/* collated_logs/user-{user}/device-{device}/collated_{log_type}.txt */
cl_status collate_key_txt(const collate_key *key, buf *out);
/* collated_logs/rejected/{YYYY-MM-DD of now}/{upload key}.json. An upload key
 * that is itself unsafe as a path (the reason it was rejected, often) is
 * replaced by _invalid/{md5 of the key} so the record cannot escape. */
cl_status collate_key_rejected(const char *upload_key, size_t len, int64_t now_micros,
                               buf *out);

#endif

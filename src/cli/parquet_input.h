/*
 * parquet_input: opens the Parquet file that `collator cat` and `collator
 * schema` inspect, either a local path or a key in a store (--store URL),
 * behind one stream_file, and reports its failures the same way for both.
 *
 * A store key is read with ranged GETs pinned to the ETag seen when it was
 * opened, so the reader fetches only the footer and the column chunks it
 * decodes, and a file replaced mid-read fails instead of mixing versions.
 */
#ifndef COLLATOR_CLI_PARQUET_INPUT_H
#define COLLATOR_CLI_PARQUET_INPUT_H

#include "core/error.h"
#include "parquet/parquet.h"

typedef struct parquet_input parquet_input;

/* Open path (store_url NULL) or the key path in the store at store_url,
 * and the Parquet reader over it. Failures name the file or key. */
cl_status parquet_input_open(const char *store_url, const char *path, parquet_input **out,
                             cl_error *err);
void parquet_input_free(parquet_input *input);

/* Borrowed; valid until parquet_input_free. */
parquet_reader *parquet_input_reader(parquet_input *input);
/* The path, or "store-name/key" for a store key, as messages name it. */
const char *parquet_input_name(const parquet_input *input);

/* Exit status for a failure: 2 for bad usage, 1 for anything else. */
int parquet_input_exit_status(cl_status status);

/* Print "collator: COMMAND: message" on stderr, naming `name` when the
 * message does not already. */
void parquet_input_report(const char *command, const char *name, const cl_error *err);

#endif

/*
 * collator process: collate upload keys given on the command line, in
 * order, exactly as the Lambda handler collates the keys of an event (same
 * options from the environment, same log line per key), against any store.
 */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/options.h"
#include "collate/collate.h"
#include "core/log.h"
#include "core/utctime.h"
#include "store/store.h"

static void process_usage(FILE *out)
{
  fprintf(out,
          "usage: collator process [--store URL] [--now TIME] KEY...\n"
          "\n"
          "Collate each upload key in order into current, diff and txt outputs.\n"
          "  --store URL   DIR, file://DIR or s3://BUCKET (default $COLLATOR_STORE, else .)\n"
          "  --now TIME    processing time (ts_updated), ISO 8601, e.g. 2026-11-24T10:00:00Z\n"
          "One JSON line per key goes to stderr. Exit 0 when every key was collated,\n"
          "unchanged or rejected; 1 when any failed; 2 on bad usage.\n");
}

int command_process(int argc, char **argv)
{
  const char *store_url = NULL, *now_text = NULL;
  const cli_option table[] = {
    {"--store", NULL, &store_url, NULL},
    {"--now", NULL, &now_text, NULL},
  };
  int first_key;
  int exit_status = cli_parse("process", argc, argv, table, sizeof(table) / sizeof(table[0]),
                              process_usage, &first_key);
  if(exit_status != CLI_PARSED)
    return exit_status;
  if(first_key >= argc) {
    fprintf(stderr, "collator: process: no upload key given\n");
    process_usage(stderr);
    return EXIT_USAGE;
  }
  collate_options options;
  exit_status = cli_collate_options("process", now_text, &options);
  if(exit_status != CLI_PARSED)
    return exit_status;
  cl_error err = {0};
  store *s = NULL;
  cl_status status = store_open(store_url, &s, &err);
  if(status) {
    fprintf(stderr, "collator: process: %s\n", err.message);
    return status == CL_ERR_USAGE ? EXIT_USAGE : EXIT_PROCESSING_FAILED;
  }
  int failed = 0;
  buf line = BUF_INIT;
  for(int i = first_key; i < argc; i++) {
    collate_result result;
    cl_error_clear(&err);
    /* The result carries the outcome and reason of a failure too, so the
     * log line below says what went wrong; the status only decides the exit. */
    if(collate_upload(s, argv[i], &options, &result, &err) != CL_OK ||
       result.outcome == COLLATE_FAILED)
      failed = 1;
    buf_clear(&line);
    if(!collate_result_to_json(&result, argv[i], NULL, &line))
      log_json_line(line.data, line.len);
    else
      log_message(LOG_ERROR, "process: %s: %s", argv[i], collate_outcome_name(result.outcome));
  }
  buf_free(&line);
  store_free(s);
  return failed ? EXIT_PROCESSING_FAILED : 0;
}

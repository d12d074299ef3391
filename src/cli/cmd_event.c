/*
 * `collator event`: handle one Lambda event document locally, through the
 * same handler the Lambda runtime uses, so that what happens here (which
 * uploads are collated, the response, success or failure) is what the
 * function would do with that event.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/options.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/utctime.h"
#include "lambda/lambda.h"
#include "store/store.h"

/* Larger than any Lambda payload (6 MB), so every real event fits. */
#define EVENT_MAX_BYTES ((size_t)64 << 20)

static void event_usage(FILE *to)
{
  fprintf(to, "usage: collator event [--store URL] [--now TIME] FILE|-\n"
              "Handle one Lambda event document as the function would; the response goes\n"
              "to stdout. Without --store or $COLLATOR_STORE each upload's store is the\n"
              "bucket its event names (s3://BUCKET). Exit 0 when the invocation would\n"
              "succeed, 1 when it would fail, 2 for a bad option or setting.\n");
}

static cl_status read_event(const char *path, buf *out, cl_error *err)
{
  FILE *file = strcmp(path, "-") ? fopen(path, "rb") : stdin;
  if(!file)
    return cl_fail(err, CL_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
  char chunk[65536];
  size_t got;
  while((got = fread(chunk, 1, sizeof(chunk), file)) > 0)
    if(buf_append(out, chunk, got))
      break;
  int failed = ferror(file);
  if(file != stdin)
    fclose(file);
  if(buf_status(out))
    return cl_fail(err, buf_status(out), "%s: over %zu bytes", path, out->limit);
  if(failed)
    return cl_fail(err, CL_ERR_IO, "%s: read error", path);
  return CL_OK;
}

static void print_error_document(cl_status status, const char *message)
{
  buf out = BUF_INIT;
  lambda_error_document(status, message, &out);
  buf_putc(&out, '\n');
  if(!buf_status(&out))
    fwrite(out.data, 1, out.len, stdout);
  buf_free(&out);
}

int command_event(int argc, char **argv)
{
  const char *store_url = NULL, *now = NULL;
  const cli_option table[] = {
    {"--store", NULL, &store_url, NULL},
    {"--now", NULL, &now, NULL},
  };
  int operand;
  int exit_status = cli_parse("event", argc, argv, table, sizeof(table) / sizeof(table[0]),
                              event_usage, &operand);
  if(exit_status != CLI_PARSED)
    return exit_status;
  if(operand != argc - 1) {
    fprintf(stderr, "collator: event: one event FILE (or - for stdin) expected\n");
    event_usage(stderr);
    return EXIT_USAGE;
  }
  const char *path = argv[operand];

  cl_error err;
  cl_error_clear(&err);
  lambda_config config;
  cl_status status = lambda_config_from_env(&config, &err);
  if(!status && now) {
    status = utc_parse_iso8601(now, &config.options.now_micros, &err);
    if(status)
      cl_error_prefix(&err, "--now %s", now);
    config.pinned_now = 1;
  }
  if(!status && store_url) {
    config.store_url = store_url;
    status = store_check_url(store_url, &err);
  }
  if(status) {
    fprintf(stderr, "collator: event: %s\n", err.message);
    return EXIT_USAGE;
  }

  buf event = BUF_INIT;
  buf_init(&event, EVENT_MAX_BYTES);
  lambda_handler *handler = NULL;
  status = read_event(path, &event, &err);
  if(status) {
    fprintf(stderr, "collator: event: %s\n", err.message);
    buf_free(&event);
    return EXIT_PROCESSING_FAILED;
  }
  status = lambda_handler_create(&config, &handler, &err);
  buf response = BUF_INIT;
  lambda_outcome outcome;
  if(!status)
    status = lambda_handle_event(handler, event.data ? event.data : "", event.len,
                                 &(lambda_invocation){NULL, 0}, &response, &outcome, &err);
  exit_status = 0;
  if(status) {
    log_message(LOG_ERROR, "event %s: %s", path, err.message);
    print_error_document(status, err.message);
    exit_status = EXIT_PROCESSING_FAILED;
  } else {
    fwrite(response.data, 1, response.len, stdout);
    fputc('\n', stdout);
  }
  if(fflush(stdout))
    exit_status = EXIT_PROCESSING_FAILED;
  buf_free(&response);
  buf_free(&event);
  lambda_handler_free(handler);
  return exit_status;
}

/*
 * `collator lambda`: the AWS Lambda custom runtime (what `bootstrap` runs).
 * All the work is in src/lambda; this only turns a fatal error into an exit
 * status, after which Lambda restarts the sandbox.
 */
#include <stdio.h>

#include "cli/commands.h"
#include "core/log.h"
#include "lambda/lambda.h"

int command_lambda(int argc, char **argv)
{
  (void)argv;
  if(argc > 1) {
    fprintf(stderr, "usage: collator lambda   (configuration comes from the environment)\n");
    return EXIT_USAGE;
  }
  cl_error err;
  cl_error_clear(&err);
  cl_status status = lambda_runtime_run(&err);
  log_message(LOG_ERROR, "lambda: %s", err.message);
  return status == CL_ERR_USAGE ? EXIT_USAGE : EXIT_PROCESSING_FAILED;
}

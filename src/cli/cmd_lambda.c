/*
 * `collator lambda`: the AWS Lambda custom runtime (what `bootstrap` runs).
 * All the work is in src/lambda; this only turns a fatal error into an exit
 * status, after which Lambda restarts the sandbox.
 */
#include <stdio.h>

#include "cli/commands.h"
#include "cli/options.h"
#include "core/log.h"
#include "lambda/lambda.h"

static void lambda_usage(FILE *to)
{
  fprintf(to, "usage: collator lambda\n"
              "Run as the AWS Lambda custom runtime: take invocations from the Runtime API\n"
              "at $AWS_LAMBDA_RUNTIME_API until it goes away. Configuration comes from the\n"
              "environment (README \"Configuration\"); a bad setting goes to /init/error.\n");
}

int command_lambda(int argc, char **argv)
{
  int operand;
  int exit_status = cli_parse("lambda", argc, argv, NULL, 0, lambda_usage, &operand);
  if(exit_status != CLI_PARSED)
    return exit_status;
  if(operand != argc) {
    fprintf(stderr, "collator: lambda: no operands expected\n");
    lambda_usage(stderr);
    return EXIT_USAGE;
  }
  cl_error err;
  cl_error_clear(&err);
  cl_status status = lambda_runtime_run(&err);
  log_message(LOG_ERROR, "lambda: %s", err.message);
  return status == CL_ERR_USAGE ? EXIT_USAGE : EXIT_PROCESSING_FAILED;
}

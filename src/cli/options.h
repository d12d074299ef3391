/*
 * options: the one command-line parser of the subcommands.
 *
 * Every subcommand takes options first, then operands: "--name VALUE" or
 * "--name=VALUE" for valued options, "--name" for flags, "--" to end the
 * options, "-h"/"--help" for its usage. A table of cli_option says where each
 * value goes, so the subcommands differ only in their tables and never in how
 * they report a missing value or an unknown option.
 */
#ifndef COLLATOR_CLI_OPTIONS_H
#define COLLATOR_CLI_OPTIONS_H

#include <stdio.h>

#include "collate/collate.h"

typedef struct cli_option {
  const char *name;   /* "--store" */
  const char *alias;  /* "-v", or NULL */
  const char **value; /* receives the value of a valued option, or NULL */
  int *flag;          /* set to 1 by a flag, or NULL */
} cli_option;

typedef void (*cli_usage_fn)(FILE *to);

/* Parse argv[1..]. On success returns CLI_PARSED and sets *first_operand to
 * the index of the first operand (argc when none). After printing the usage
 * for --help returns 0; after a usage error (message and usage on stderr)
 * returns EXIT_USAGE: either is the command's exit status. */
#define CLI_PARSED (-1)
int cli_parse(const char *command, int argc, char **argv, const cli_option *options,
              size_t option_count, cli_usage_fn usage, int *first_operand);

/* collate_options_from_env, then --now (ISO 8601) when given. Returns
 * CLI_PARSED, or EXIT_USAGE after reporting which setting is bad. */
int cli_collate_options(const char *command, const char *now_text, collate_options *options);

#endif

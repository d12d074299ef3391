/*
 * commands: the subcommands of the collator binary.
 *
 * Each takes the arguments after its name (argv[0] is the subcommand) and
 * returns the process exit status: 0 success, 1 a processing failure, 2 bad
 * usage. main() dispatches on the first argument.
 */
#ifndef COLLATOR_CLI_COMMANDS_H
#define COLLATOR_CLI_COMMANDS_H

#define EXIT_PROCESSING_FAILED 1
#define EXIT_USAGE 2

int command_process(int argc, char **argv);
int command_event(int argc, char **argv);
int command_lambda(int argc, char **argv);
int command_backfill(int argc, char **argv);
int command_cat(int argc, char **argv);
int command_schema(int argc, char **argv);

#endif

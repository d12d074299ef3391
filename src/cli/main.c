#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "core/log.h"
#include "core/mem.h"

static const struct {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *synopsis;
} commands[] = {
  {"process", command_process, "process [--store URL] [--now TIME] KEY...   collate upload keys in order"},
  {"event", command_event, "event [--store URL] [--now TIME] FILE|-     handle a Lambda event document"},
  {"lambda", command_lambda, "lambda                                      run the AWS Lambda runtime loop"},
  {"backfill", command_backfill, "backfill [--store URL] --prefix P [--jobs N] [--dry-run]  re-collate a prefix"},
  {"cat", command_cat, "cat [--store URL] [--format jsonl|csv|table] [--columns a,b] FILE|KEY   print Parquet rows"},
  {"schema", command_schema, "schema [--store URL] FILE|KEY               print Parquet schema and metadata"},
};

static void usage(FILE *out)
{
  fprintf(out, "usage: collator COMMAND [OPTIONS]\n\ncommands:\n");
  for(size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
    fprintf(out, "  collator %s\n", commands[i].synopsis);
  fprintf(out, "\nRun as 'bootstrap' with no arguments (the Lambda image), it runs 'lambda'.\n");
}

int main(int argc, char **argv)
{
  const char *self = strrchr(argv[0], '/');
  self = self ? self + 1 : argv[0];

  mem_keep_freed_blocks();
  /* The Lambda image runs the binary as "bootstrap" with no arguments. */
  int lambda = (argc < 2 && !strcmp(self, "bootstrap")) ||
               (argc >= 2 && !strcmp(argv[1], "lambda"));
  /* The runtime reads its configuration again and reports a bad log level
   * to the Runtime API's /init/error. */
  cl_error err;
  cl_error_clear(&err);
  if(log_init_from_env(&err) && !lambda) {
    fprintf(stderr, "collator: %s\n", err.message);
    return EXIT_USAGE;
  }
  if(argc < 2 && lambda)
    return command_lambda(1, (char *[]){"lambda", NULL});
  if(argc < 2) {
    usage(stderr);
    return EXIT_USAGE;
  }
  if(!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
    usage(stdout);
    return 0;
  }
  for(size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
    if(!strcmp(argv[1], commands[i].name))
      return commands[i].run(argc - 1, argv + 1);
  fprintf(stderr, "collator: unknown command '%s'\n\n", argv[1]);
  usage(stderr);
  return EXIT_USAGE;
}

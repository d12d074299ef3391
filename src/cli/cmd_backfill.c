#include <stdio.h>

#include "cli/commands.h"

/* PLACEHOLDER until its module lands; must be replaced before commit. */
int command_backfill(int argc, char **argv)
{
  (void)argc;
  (void)argv;
  fprintf(stderr, "collator: backfill: not built yet\n");
  return EXIT_USAGE;
}

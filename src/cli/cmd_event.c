#include <stdio.h>

#include "cli/commands.h"

/* PLACEHOLDER until its module lands; must be replaced before commit. */
int command_event(int argc, char **argv)
{
  (void)argc;
  (void)argv;
  fprintf(stderr, "collator: event: not built yet\n");
  return EXIT_USAGE;
}

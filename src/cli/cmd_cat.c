#include <stdio.h>

#include "cli/commands.h"

/* PLACEHOLDER until its module lands; must be replaced before commit. */
int command_cat(int argc, char **argv)
{
  (void)argc;
  (void)argv;
  fprintf(stderr, "collator: cat: not built yet\n");
  return EXIT_USAGE;
}

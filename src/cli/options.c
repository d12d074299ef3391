#include "cli/options.h"

#include <string.h>

#include "cli/commands.h"
#include "core/utctime.h"

static const cli_option *find_option(const cli_option *options, size_t count,
                                     const char *arg, size_t name_len)
{
  for(size_t i = 0; i < count; i++) {
    const char *name = options[i].name;
    if(strlen(name) == name_len && !strncmp(arg, name, name_len))
      return &options[i];
    if(options[i].alias && !strcmp(arg, options[i].alias))
      return &options[i];
  }
  return NULL;
}

int cli_parse(const char *command, int argc, char **argv, const cli_option *options,
              size_t option_count, cli_usage_fn usage, int *first_operand)
{
  int i = 1;
  for(; i < argc; i++) {
    const char *arg = argv[i];
    if(!strcmp(arg, "--")) {
      i++;
      break;
    }
    if(!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
      usage(stdout);
      return 0;
    }
    if(arg[0] != '-' || !arg[1])
      break;
    const char *eq = strncmp(arg, "--", 2) ? NULL : strchr(arg, '=');
    size_t name_len = eq ? (size_t)(eq - arg) : strlen(arg);
    const cli_option *option = find_option(options, option_count, arg, name_len);
    if(!option) {
      fprintf(stderr, "collator: %s: unknown option '%.*s'\n", command, (int)name_len, arg);
      usage(stderr);
      return EXIT_USAGE;
    }
    if(option->flag) {
      if(eq) {
        fprintf(stderr, "collator: %s: %s takes no value\n", command, option->name);
        return EXIT_USAGE;
      }
      *option->flag = 1;
      continue;
    }
    if(eq)
      *option->value = eq + 1;
    else if(i + 1 < argc)
      *option->value = argv[++i];
    else {
      fprintf(stderr, "collator: %s: %s needs a value\n", command, option->name);
      usage(stderr);
      return EXIT_USAGE;
    }
  }
  *first_operand = i;
  return CLI_PARSED;
}

int cli_collate_options(const char *command, const char *now_text, collate_options *options)
{
  cl_error err;
  cl_error_clear(&err);
  if(collate_options_from_env(options, &err)) {
    fprintf(stderr, "collator: %s: %s\n", command, err.message);
    return EXIT_USAGE;
  }
  if(now_text && utc_parse_iso8601(now_text, &options->now_micros, &err)) {
    fprintf(stderr, "collator: %s: --now: %s\n", command, err.message);
    return EXIT_USAGE;
  }
  return CLI_PARSED;
}

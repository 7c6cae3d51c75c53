/* SPDX-License-Identifier: MIT */
/*
 * help-gen.h — the manual page and the bash completion, generated from
 * the command table (the same declarations `help` prints), so neither
 * can drift from the parser. Reached through the hidden modes
 * `mdns-doctor help --man` and `mdns-doctor help --completion`; the
 * Makefile installs their output.
 */
#ifndef MDNS_CLI_HELP_GEN_H
#define MDNS_CLI_HELP_GEN_H

#include <stdio.h>

#include "cli/cli.h"

/*
 * table: the commands, NULL-terminated; globals: the global options,
 * ending with a zeroed entry. Both write to f and return 0, or -1 when
 * writing failed.
 */
int cli_help_man(FILE *f, const struct cmd_entry *const *table,
    const struct args_opt *globals);
int cli_help_completion(FILE *f, const struct cmd_entry *const *table,
    const struct args_opt *globals);

#endif

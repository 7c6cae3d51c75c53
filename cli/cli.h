/* SPDX-License-Identifier: MIT */
/*
 * cli.h — the command table and the context every subcommand receives.
 *
 * Each subcommand lives in cli/cmd-NAME.c and defines exactly one
 *	const struct cmd_entry cmd_NAME_entry;
 * The Makefile generates the table from the file names, so adding a command
 * means adding a file. cli/ is the only place that calls exit() or maps
 * results to exit codes (EXIT_OK/WARNING/CRITICAL/UNKNOWN in util.h).
 *
 * A command declares its options in .args (cli/args.h) and runs as .run:
 * main parses, applies the global options, answers -h/--help from the
 * declaration and refuses bad options, operand counts and formats before
 * .run is called.
 */
#ifndef MDNS_CLI_H
#define MDNS_CLI_H

#include <stdio.h>

#include "cli/args.h"
#include "common/result.h"
#include "common/util.h"

struct cmd_entry;
#define CMD(n) extern const struct cmd_entry cmd_##n##_entry;
#include "cmd-list.h"
#undef CMD

/* Global options, parsed before and after the command name. */
struct cli_ctx {
	int verbose;	    /* -v, repeatable */
	int quiet;	    /* -q */
	const char *config; /* --config FILE */
	const char *db;	    /* --db FILE */
	const char *format; /* --format FMT; in .run never NULL */
	int no_color;	    /* --no-color or NO_COLOR set */
	const char *progname;
};

struct cmd_entry {
	const char *name;
	const char *alias;   /* NULL when none */
	const char *summary; /* one line for the command list */
	/* Declared options, operands and formats (cli/args.h). */
	struct args_spec args;
	/*
	 * Run the command with its parsed command line (globals already in
	 * ctx, ctx->format one the command offers). Returns an exit code.
	 */
	int (*run)(struct cli_ctx *ctx, const struct args *args);
};

/* Print "mdns-doctor: CMD: message" to stderr (formatted). */
void cli_error(const struct cmd_entry *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Print the full help of one command to f. */
void cli_help_cmd(FILE *f, const struct cmd_entry *cmd);

/* The version string (git describe or the VERSION file). */
const char *cli_version(void);

/* Whether colour output is allowed on stream f for this context. */
int cli_use_color(const struct cli_ctx *ctx, FILE *f);

#endif

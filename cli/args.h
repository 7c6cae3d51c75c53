/* SPDX-License-Identifier: MIT */
/*
 * args.h — declarative command options, in the spirit of tmux's args: a
 * command declares its options once, as a table in its cmd_entry, and
 * reads them back with typed getters. cli/main.c parses the command line
 * against that table and the global options, prints `-h`/`--help` and
 * `help CMD` from the same table (so the option list cannot drift from the
 * parser), and refuses a --format the command does not offer before the
 * command runs.
 *
 * Parsing follows getopt_long where users expect it: options and operands
 * may interleave, "--" ends the options, "-" is an operand, short options
 * cluster ("-vq", "-d0.5"), a long option takes "--name VALUE" or
 * "--name=VALUE" and may be abbreviated to a unique prefix. An option
 * given twice keeps every value; args_get returns the last (as getopt
 * did) and args_value walks them all (for ARGS_REPEAT options). Every
 * error is one line on stderr, "mdns-doctor: CMD: ...", and the command
 * then exits 3; getters that print an error return -1.
 */
#ifndef MDNS_CLI_ARGS_H
#define MDNS_CLI_ARGS_H

#include <stddef.h>
#include <stdio.h>

struct cmd_entry;

/* Keys of long-only command options: ARGS_LONG, ARGS_LONG + 1, ... */
#define ARGS_LONG 256

/* args_opt.flags */
#define ARGS_REPEAT 0x1 /* meant to be repeated; help shows "..." */
/* The value is optional and only taken as "--name=VALUE" (getopt_long's
 * optional_argument): "--name" alone is given with a NULL value. Long
 * options only; help shows "--name[=ARG]". */
#define ARGS_OPTIONAL 0x2

/*
 * One option. key is the short letter ('d' for -d) or, for an option with
 * a long name only, ARGS_LONG + n. arg names the value ("SECONDS"); an
 * option without arg is a flag. An arg with '|' lists the only values
 * accepted ("raw|base64|auto"): the parser refuses others and args_choice
 * returns the index of the one given.
 */
struct args_opt {
	int key;
	const char *name; /* long name without "--", or NULL */
	const char *arg;  /* value placeholder, NULL for a flag */
	unsigned flags;
	const char *help; /* one line; "\n" continues on the next line */
};

/* What a command takes. A zeroed spec: no options, operands or formats. */
struct args_spec {
	const struct args_opt *opts; /* ends with a zeroed entry; or NULL */
	const char *operands;	     /* usage of the operands: "[HEX...]" */
	int min_operands;
	int max_operands; /* -1: any number */
	/*
	 * The --format values offered, "text,json", the first the default;
	 * NULL: the command refuses --format.
	 */
	const char *formats;
	const char *notes; /* text after the options in help, or NULL */
};

struct args_val {
	int key;
	const struct args_opt *opt;
	int longform;	   /* given as --name (messages say it that way) */
	const char *value; /* NULL for a flag */
};

/* A parsed command line. */
struct args {
	const struct cmd_entry *cmd; /* for messages; NULL before the command */
	struct args_val *v;	     /* options in command-line order */
	size_t nv;
	char **operands;
	int noperands;
	int next; /* ARGS_STOP: index of the first argument not parsed */
	/*
	 * The command line from the command word on, as typed (argv[0] is
	 * the command): main sets it after args_parse, before .run, for
	 * a run's argument digest (res_args_digest).
	 */
	int argc;
	char **argv;
};

/* args_parse flags */
#define ARGS_STOP 0x1 /* stop at the first operand (before the command) */

/*
 * Parse argv[0 .. argc) against the options of cmd (NULL before the
 * command word) and the globals. Returns 0, or -1 after printing the
 * error. Does not check operand counts or formats (args_check does) and
 * does not act on any option. Release with args_free.
 */
int args_parse(struct args *a, const struct cmd_entry *cmd,
    const struct args_opt *globals, int argc, char **argv, unsigned flags);
/* Operand counts of cmd's spec: 0, or -1 after printing the error. */
int args_check(const struct args *a);
void args_free(struct args *a);

/* How many times key was given (0: not given). */
int args_has(const struct args *a, int key);
/* The last value of key, or NULL when not given. */
const char *args_get(const struct args *a, int key);
/* The i-th value (from 0) of key, or NULL past the last. */
const char *args_value(const struct args *a, int key, size_t i);
/*
 * The value of key as an integer in [min, max] into *out; *out is left
 * alone when key was not given. 0, or -1 after printing
 * "-x: 70000 is out of range (1..65535)" or "-x: not a number: abc".
 */
int args_strtonum(const struct args *a, int key, long long min, long long max,
    long long *out);
/*
 * "MIN:MAX" with both in [min, max] and MIN <= MAX, into *lo and *hi (left
 * alone when key was not given); same conventions as args_strtonum, and
 * "-x: not MIN:MAX: 38" or "-x: MIN above MAX: 150:38".
 */
int args_range(const struct args *a, int key, long long min, long long max,
    long long *lo, long long *hi);
/*
 * Seconds with decimals ("0.5", like top's -d) in [min_ms, max_ms], into
 * *out_ms in milliseconds; same conventions as args_strtonum.
 */
int args_seconds(const struct args *a, int key, unsigned min_ms,
    unsigned max_ms, unsigned *out_ms);
/* The index in the option's "a|b|c" list of the value given, or dflt. */
int args_choice(const struct args *a, int key, int dflt);

/* "a|b|c" (sep '|') or "a,b,c" as "a, b, c" into buf, for messages. */
const char *args_list(const char *items, int sep, char *buf, size_t len);

/* Whether fmt is one of the comma-separated formats of spec. */
int args_format_offered(const struct args_spec *spec, const char *fmt);

/*
 * Help generated from the spec: the usage line ("usage: mdns-doctor CMD
 * [-d SECONDS] ...", wrapped at 79 columns), the option lines
 * ("  -d, --delay SECONDS  refresh ...": one option, or a table up to its
 * zeroed entry) and the --format line of the formats offered.
 */
void args_usage(FILE *f, const struct cmd_entry *cmd);
/*
 * text from column col on, folded at spaces to fit 79 columns (a '\n' in
 * text breaks too), continuation lines indented by indent; ends with a
 * newline.
 */
void args_put_wrapped(FILE *f, int col, int indent, const char *text);
void args_help_opt(FILE *f, const struct args_opt *opt);
void args_help_opts(FILE *f, const struct args_opt *opts);
void args_help_formats(FILE *f, const struct args_spec *spec);

/*
 * The names among cands[0 .. n) closest to word within a small edit
 * distance (typos: a letter missing, extra, wrong or two swapped), joined
 * as "a or b" into buf; 0 when one was found, -1 when none is close.
 */
int args_suggest(const char *word, const char *const *cands, size_t n,
    char *buf, size_t len);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * main.c — the mdns-doctor entry point: global options (before or after
 * the command word, applied in one place), the command table, unique-prefix
 * dispatch (tmux style) with "did you mean" for typos, help and version.
 * Commands are in cli/cmd-*.c; the table is generated into cmd-list.h.
 *
 * Every command declares its options (.args) and is parsed here with
 * cli/args.c: -h/--help, bad options, operand counts and formats it does
 * not offer are answered before it runs (.run).
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/help-gen.h"

static const struct cmd_entry *cmd_table[] = {
#define CMD(n) &cmd_##n##_entry,
#include "cmd-list.h"
#undef CMD
    NULL};

/* Global option keys: clear of commands' own (letters, ARGS_LONG + n). */
enum { G_CONFIG = 1000, G_DB, G_FORMAT, G_NOCOLOR, G_VERSION };

/* The one table of global options: parsing and help. */
static const struct args_opt global_opts[] = {
    {'v', "verbose", NULL, ARGS_REPEAT,
	"more diagnostics on stderr (repeatable)"},
    {'q', "quiet", NULL, 0, "only errors on stderr (for cron)"},
    {G_CONFIG, "config", "FILE", 0, "client_config.toml or server_config.toml"},
    {G_DB, "db", "FILE", 0, "history database (default: XDG state path)"},
    {G_FORMAT, "format", "FMT", 0,
	"output format; 'mdns-doctor help COMMAND' lists\n"
	"the formats a command offers"},
    {G_NOCOLOR, "no-color", NULL, 0,
	"never use colour (NO_COLOR is honoured too)"},
    {'h', "help", NULL, 0, "this help (after a command: its help)"},
    {G_VERSION, "version", NULL, 0, "print the version"},
    {0, NULL, NULL, 0, NULL},
};

void
cli_error(const struct cmd_entry *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "mdns-doctor: ");
	if (cmd != NULL)
		fprintf(stderr, "%s: ", cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int
cli_use_color(const struct cli_ctx *ctx, FILE *f)
{
	const char *nc = getenv("NO_COLOR");

	if (ctx->no_color || (nc != NULL && *nc != '\0'))
		return 0;
	return isatty(fileno(f));
}

/* The global options; without --format when the command lists its own. */
static void
help_globals(FILE *f, int skip_format)
{
	const struct args_opt *o;

	for (o = global_opts; o->key != 0; o++)
		if (!(skip_format && o->key == G_FORMAT))
			args_help_opt(f, o);
}

void
cli_help_cmd(FILE *f, const struct cmd_entry *cmd)
{
	const struct args_spec *s = &cmd->args;

	args_usage(f, cmd);
	if (cmd->alias != NULL)
		fprintf(f, "alias: %s\n", cmd->alias);
	fputc('\n', f);
	args_put_wrapped(f, 0, 0, cmd->summary);
	if (s->opts != NULL || s->formats != NULL) {
		fprintf(f, "\noptions:\n");
		args_help_opts(f, s->opts);
		args_help_formats(f, s);
	}
	if (s->notes != NULL)
		fprintf(f, "%s", s->notes);
	fprintf(f, "\nglobal options:\n");
	help_globals(f, 1);
}

static void
usage_all(FILE *f)
{
	const struct cmd_entry **c;

	fprintf(f,
	    "usage: mdns-doctor [global options] COMMAND [options] "
	    "[args]\n\nmdns-doctor diagnoses MasterDnsVPN DNS tunnels.\n\n"
	    "commands:\n");
	for (c = cmd_table; *c != NULL; c++)
		args_put_wrapped(
		    f, fprintf(f, "  %-10s ", (*c)->name), 13, (*c)->summary);
	fprintf(f, "\nglobal options:\n");
	help_globals(f, 0);
	fprintf(f,
	    "\nRun 'mdns-doctor help COMMAND' (or COMMAND -h) for a "
	    "command's options.\n"
	    "Exit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.\n");
}

/*
 * Find a command by exact name, alias, or unique prefix. On ambiguity,
 * prints "could be: a, b"; for an unknown name close to a real one, "did
 * you mean"; returns NULL after either.
 */
static const struct cmd_entry *
cmd_find(const char *name)
{
	const struct cmd_entry **c, *found = NULL;
	const char *names[2 * nitems(cmd_table)];
	size_t len = strlen(name), nn = 0;
	int n = 0;
	char list[512] = "";

	for (c = cmd_table; *c != NULL; c++) {
		if (strcmp((*c)->name, name) == 0 ||
		    ((*c)->alias != NULL && strcmp((*c)->alias, name) == 0))
			return *c;
	}
	for (c = cmd_table; *c != NULL; c++) {
		if (strncmp((*c)->name, name, len) == 0) {
			found = *c;
			n++;
			if (list[0] != '\0')
				strncat(
				    list, ", ", sizeof list - strlen(list) - 1);
			strncat(
			    list, (*c)->name, sizeof list - strlen(list) - 1);
		}
	}
	if (n == 1)
		return found;
	if (n > 1) {
		cli_error(
		    NULL, "ambiguous command: %s, could be: %s", name, list);
		return NULL;
	}
	for (c = cmd_table; *c != NULL; c++) {
		names[nn++] = (*c)->name;
		if ((*c)->alias != NULL)
			names[nn++] = (*c)->alias;
	}
	if (args_suggest(name, names, nn, list, sizeof list) == 0)
		cli_error(
		    NULL, "unknown command: %s (did you mean %s?)", name, list);
	else
		cli_error(
		    NULL, "unknown command: %s (try 'mdns-doctor help')", name);
	return NULL;
}

/* The global options of a into ctx (a command's own are left alone). */
static void
globals_apply(struct cli_ctx *ctx, const struct args *a)
{
	size_t i;

	for (i = 0; i < a->nv; i++) {
		switch (a->v[i].key) {
		case 'v':
			ctx->verbose++;
			break;
		case 'q':
			ctx->quiet = 1;
			break;
		case G_CONFIG:
			ctx->config = a->v[i].value;
			break;
		case G_DB:
			ctx->db = a->v[i].value;
			break;
		case G_FORMAT:
			ctx->format = a->v[i].value;
			break;
		case G_NOCOLOR:
			ctx->no_color = 1;
			break;
		}
	}
}

/*
 * --format against what cmd offers; fills in the default. 0, or -1 after
 * printing the refusal with the list the command has.
 */
static int
format_check(struct cli_ctx *ctx, const struct cmd_entry *cmd)
{
	static char dflt[32];
	const char *f = cmd->args.formats;
	char list[128];

	if (f == NULL) {
		if (ctx->format == NULL)
			return 0;
		cli_error(cmd, "unknown format %s (%s takes no --format)",
		    ctx->format, cmd->name);
		return -1;
	}
	if (ctx->format == NULL) {
		snprintf(dflt, sizeof dflt, "%.*s", (int)strcspn(f, ","), f);
		ctx->format = dflt;
		return 0;
	}
	if (args_format_offered(&cmd->args, ctx->format))
		return 0;
	/* What people type for md. */
	if (strcmp(ctx->format, "markdown") == 0 &&
	    args_format_offered(&cmd->args, "md")) {
		ctx->format = "md";
		return 0;
	}
	cli_error(cmd, "unknown format %s (%s offers: %s)", ctx->format,
	    cmd->name, args_list(f, ',', list, sizeof list));
	return -1;
}

/* Parse, check and run a command. */
static int
run_declared(
    struct cli_ctx *ctx, const struct cmd_entry *cmd, int argc, char **argv)
{
	struct args a;
	int rc = EXIT_UNKNOWN;

	if (args_parse(&a, cmd, global_opts, argc - 1, argv + 1, 0) != 0)
		goto out;
	a.argc = argc;
	a.argv = argv;
	globals_apply(ctx, &a);
	if (args_has(&a, 'h')) {
		cli_help_cmd(stdout, cmd);
		rc = EXIT_OK;
	} else if (args_has(&a, G_VERSION)) {
		printf("mdns-doctor %s\n", cli_version());
		rc = EXIT_OK;
	} else if (format_check(ctx, cmd) == 0 && args_check(&a) == 0) {
		rc = cmd->run(ctx, &a);
	}
out:
	args_free(&a);
	return rc;
}

int
main(int argc, char **argv)
{
	struct cli_ctx ctx = {.progname = "mdns-doctor"};
	const struct cmd_entry *cmd;
	struct args g;
	int c, first;

	/* Global options before the command name; stop at the first word. */
	if (args_parse(&g, NULL, global_opts, argc - 1, argv + 1, ARGS_STOP) !=
	    0) {
		args_free(&g);
		return EXIT_UNKNOWN;
	}
	globals_apply(&ctx, &g);
	first = 1 + g.next;
	c = args_has(&g, 'h') ? 'h' : args_has(&g, G_VERSION) ? 'V' : 0;
	args_free(&g);
	if (c == 'h') {
		usage_all(stdout);
		return EXIT_OK;
	}
	if (c == 'V') {
		printf("mdns-doctor %s\n", cli_version());
		return EXIT_OK;
	}
	if (first >= argc) {
		usage_all(stderr);
		return EXIT_UNKNOWN;
	}
	if (strcmp(argv[first], "help") == 0) {
		if (first + 1 >= argc) {
			usage_all(stdout);
			return EXIT_OK;
		}
		/* Hidden: the manual page and the completion (help-gen.h). */
		if (strcmp(argv[first + 1], "--man") == 0)
			return cli_help_man(stdout, cmd_table, global_opts) ?
			    EXIT_UNKNOWN :
			    EXIT_OK;
		if (strcmp(argv[first + 1], "--completion") == 0)
			return cli_help_completion(
				   stdout, cmd_table, global_opts) ?
			    EXIT_UNKNOWN :
			    EXIT_OK;
		if ((cmd = cmd_find(argv[first + 1])) == NULL)
			return EXIT_UNKNOWN;
		cli_help_cmd(stdout, cmd);
		return EXIT_OK;
	}
	if ((cmd = cmd_find(argv[first])) == NULL)
		return EXIT_UNKNOWN;
	argc -= first;
	argv += first;
	c = run_declared(&ctx, cmd, argc, argv);
	fflush(stdout);
	if (ferror(stdout)) {
		cli_error(cmd, "write error on standard output");
		return EXIT_UNKNOWN;
	}
	return c;
}

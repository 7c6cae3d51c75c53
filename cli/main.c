/*
 * main.c — the mdns-doctor entry point: global options, the command table,
 * unique-prefix dispatch (tmux style), help and version. Commands are in
 * cli/cmd-*.c; the table is generated into cmd-list.h.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

static const struct cmd_entry *cmd_table[] = {
#define CMD(n) &cmd_##n##_entry,
#include "cmd-list.h"
#undef CMD
    NULL};

static const char global_help[] =
    "  -v, --verbose        more diagnostics on stderr (repeatable)\n"
    "  -q, --quiet          only errors on stderr (for cron)\n"
    "  --config FILE        client_config.toml or server_config.toml\n"
    "  --db FILE            history database (default: XDG state path)\n"
    "  --format FMT         text, json, jsonl, csv, ips, prom, nagios\n"
    "  --no-color           never use colour (NO_COLOR is honoured too)\n";

enum {
	OPT_CONFIG = 1000,
	OPT_DB,
	OPT_FORMAT,
	OPT_NOCOLOR,
	OPT_HELP,
	OPT_VERSION
};

static const struct option global_longopts[] = {
    {"verbose", no_argument, NULL, 'v'},
    {"quiet", no_argument, NULL, 'q'},
    {"config", required_argument, NULL, OPT_CONFIG},
    {"db", required_argument, NULL, OPT_DB},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"no-color", no_argument, NULL, OPT_NOCOLOR},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
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

void
cli_help_cmd(FILE *f, const struct cmd_entry *cmd)
{
	fprintf(f, "usage: mdns-doctor %s\n", cmd->usage);
	if (cmd->alias != NULL)
		fprintf(f, "alias: %s\n", cmd->alias);
	fprintf(f, "\n%s\n", cmd->summary);
	if (cmd->options != NULL && *cmd->options != '\0')
		fprintf(f, "\noptions:\n%s", cmd->options);
	fprintf(f, "\nglobal options:\n%s", global_help);
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
		fprintf(f, "  %-10s %s\n", (*c)->name, (*c)->summary);
	fprintf(f,
	    "\nglobal options:\n%s\n"
	    "Run 'mdns-doctor help COMMAND' for a command's options.\n"
	    "Exit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.\n",
	    global_help);
}

/*
 * Find a command by exact name, alias, or unique prefix. On ambiguity,
 * prints "could be: a, b" and returns NULL.
 */
static const struct cmd_entry *
cmd_find(const char *name)
{
	const struct cmd_entry **c, *found = NULL;
	size_t len = strlen(name);
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
	if (n > 1)
		cli_error(
		    NULL, "ambiguous command: %s, could be: %s", name, list);
	else
		cli_error(
		    NULL, "unknown command: %s (try 'mdns-doctor help')", name);
	return NULL;
}

/* Handle one global option; returns 0 when c was one, -1 otherwise. */
static int
global_opt(struct cli_ctx *ctx, int c, const char *arg)
{
	switch (c) {
	case 'v':
		ctx->verbose++;
		return 0;
	case 'q':
		ctx->quiet = 1;
		return 0;
	case OPT_CONFIG:
		ctx->config = arg;
		return 0;
	case OPT_DB:
		ctx->db = arg;
		return 0;
	case OPT_FORMAT:
		ctx->format = arg;
		return 0;
	case OPT_NOCOLOR:
		ctx->no_color = 1;
		return 0;
	}
	return -1;
}

int
cli_getopt(struct cli_ctx *ctx, const struct cmd_entry *cmd, int argc,
    char **argv, const char *shortopts, const struct option *longopts)
{
	static struct option merged[128];
	static char shorts[128];
	size_t n = 0, i;
	int c;

	/* Rebuilt on every call: cheap, and no state kept between commands. */
	for (i = 0; longopts != NULL && longopts[i].name != NULL &&
	     n < nitems(merged) - 1;
	     i++)
		merged[n++] = longopts[i];
	for (i = 0; global_longopts[i].name != NULL && n < nitems(merged) - 1;
	     i++)
		merged[n++] = global_longopts[i];
	memset(&merged[n], 0, sizeof merged[n]);
	snprintf(shorts, sizeof shorts, ":%svq", shortopts ? shortopts : "");
	for (;;) {
		int longidx = -1;

		c = getopt_long(argc, argv, shorts, merged, &longidx);
		if (c == -1)
			return -1;
		if (c == OPT_HELP) {
			cli_help_cmd(stdout, cmd);
			return 'H';
		}
		if (c == OPT_VERSION) {
			printf("mdns-doctor %s\n", cli_version());
			return 'H';
		}
		if (c == '?') {
			if (optopt != 0 && optopt < 256)
				cli_error(cmd, "unknown option: -%c", optopt);
			else
				cli_error(cmd, "unknown option: %s",
				    argv[optind - 1]);
			return '?';
		}
		if (c == ':') {
			cli_error(cmd, "option %s needs an argument",
			    argv[optind - 1]);
			return '?';
		}
		if (global_opt(ctx, c, optarg) == 0)
			continue;
		return c;
	}
}

int
main(int argc, char **argv)
{
	struct cli_ctx ctx = {.progname = "mdns-doctor"};
	const struct cmd_entry *cmd;
	int c;

	/* Global options before the command name; stop at the first word. */
	opterr = 0;
	for (;;) {
		c = getopt_long(argc, argv, "+:vqh", global_longopts, NULL);
		if (c == -1)
			break;
		if (c == 'h' || c == OPT_HELP) {
			usage_all(stdout);
			return EXIT_OK;
		}
		if (c == OPT_VERSION) {
			printf("mdns-doctor %s\n", cli_version());
			return EXIT_OK;
		}
		if (c == '?' || c == ':') {
			cli_error(NULL, "%s: %s",
			    c == ':' ? "option needs an argument" :
				       "unknown option",
			    argv[optind - 1]);
			return EXIT_UNKNOWN;
		}
		global_opt(&ctx, c, optarg);
	}
	if (optind >= argc) {
		usage_all(stderr);
		return EXIT_UNKNOWN;
	}
	if (strcmp(argv[optind], "help") == 0) {
		if (optind + 1 >= argc) {
			usage_all(stdout);
			return EXIT_OK;
		}
		if ((cmd = cmd_find(argv[optind + 1])) == NULL)
			return EXIT_UNKNOWN;
		cli_help_cmd(stdout, cmd);
		return EXIT_OK;
	}
	if ((cmd = cmd_find(argv[optind])) == NULL)
		return EXIT_UNKNOWN;
	argc -= optind;
	argv += optind;
	optind = 0; /* full getopt reset for the command's own parse */
	opterr = 0;
	c = cmd->exec(&ctx, argc, argv);
	fflush(stdout);
	if (ferror(stdout)) {
		cli_error(cmd, "write error on standard output");
		return EXIT_UNKNOWN;
	}
	return c;
}

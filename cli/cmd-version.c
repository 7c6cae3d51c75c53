/* cmd-version.c — print the version (same as --version). */
#include "cli/cli.h"

static int
cmd_version_exec(struct cli_ctx *ctx, int argc, char **argv)
{
	int c;

	while ((c = cli_getopt(
		    ctx, &cmd_version_entry, argc, argv, "", NULL)) != -1) {
		if (c == 'H')
			return EXIT_OK;
		return EXIT_UNKNOWN;
	}
	if (optind < argc) {
		cli_error(&cmd_version_entry, "unexpected argument: %s",
		    argv[optind]);
		return EXIT_UNKNOWN;
	}
	printf("mdns-doctor %s\n", cli_version());
	return EXIT_OK;
}

const struct cmd_entry cmd_version_entry = {
    .name = "version",
    .usage = "version",
    .summary = "print the version",
    .exec = cmd_version_exec,
};

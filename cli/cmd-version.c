/* SPDX-License-Identifier: MIT */
/* cmd-version.c — print the version (same as --version). */
#include "cli/cli.h"

static int
cmd_version_run(struct cli_ctx *ctx, const struct args *args)
{
	printf("mdns-doctor %s\n", cli_version());
	return EXIT_OK;
}

const struct cmd_entry cmd_version_entry = {
    .name = "version",
    .summary = "print the version",
    .run = cmd_version_run,
};

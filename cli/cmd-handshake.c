/*
 * cmd-handshake.c — `mdns-doctor handshake RESOLVER...`: through each
 * resolver, liveness and reach, the MTU sweep (the session needs synced
 * MTUs), then SESSION_INIT -> SESSION_ACCEPT with our verify code (the
 * server's policy bytes are shown), PING -> PONG on the new session and
 * SESSION_CLOSE, every step with its timing.
 *
 * --engine (verify the running engine's session over the control socket)
 * is not here yet: the control client library is not in the tree.
 */
#include "cli/cli.h"
#include "common/result.h"

/* In cmd-mtu.c. */
int probe_cli_run(struct cli_ctx *ctx, int argc, char **argv,
    const struct cmd_entry *ent, enum res_stage stage);

static int
cmd_handshake_exec(struct cli_ctx *ctx, int argc, char **argv)
{
	return probe_cli_run(
	    ctx, argc, argv, &cmd_handshake_entry, RES_STAGE_HANDSHAKE);
}

const struct cmd_entry cmd_handshake_entry = {
    .name = "handshake",
    .usage = "handshake [options] RESOLVER...",
    .summary = "SESSION_INIT/ACCEPT, PING/PONG and SESSION_CLOSE through "
	       "each resolver, step by step",
    .options =
	"  --domain D           tunnel domain (repeatable; else --config)\n"
	"  --key-file F         encryption key file (else the config's)\n"
	"  --method N           DATA_ENCRYPTION_METHOD 0..5\n"
	"  --up-mtu MIN:MAX     upload MTU search range\n"
	"  --down-mtu MIN:MAX   download range\n"
	"  --timeout-ms MS      liveness/reach/handshake timeout\n"
	"  --mtu-timeout-ms MS  MTU probe timeout\n"
	"  --mtu-tries N        MTU probe attempts\n"
	"  --no-steps           print only the result table\n",
    .exec = cmd_handshake_exec,
};

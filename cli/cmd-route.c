/* SPDX-License-Identifier: MIT */
/*
 * cmd-route.c — `mdns-doctor route [RESOLVER...]`: which interface and
 * gateway the kernel would use for each resolver, flagging any resolver
 * routed into a tunnel device (probe/route.h), plus the default routes.
 * Resolvers come from the arguments, from --resolvers FILE, and from the
 * running client engine's status (--engine, or when nothing else is
 * given). Each address is checked once, whatever its port. Results go
 * through the output sinks and into the history store (docs/checks.md).
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cli/checks-out.h"
#include "cli/cli.h"
#include "common/ctlc.h"
#include "common/nl.h"
#include "common/resolvers.h"
#include "engine/ctl.h"
#include "probe/route.h"

enum {
	OPT_RESOLVERS = ARGS_LONG,
	OPT_ENGINE,
	OPT_CONTROL,
	OPT_TUNNEL_IF,
	OPT_NO_STORE,
};

static const struct args_opt route_opts[] = {
    {OPT_RESOLVERS, "resolvers", "FILE", 0,
	"resolvers from a list (client_resolvers.txt)"},
    {OPT_ENGINE, "engine", NULL, 0,
	"the running client engine's resolvers (default\n"
	"when no RESOLVER and no --resolvers)"},
    {OPT_CONTROL, "control", "PATH", 0,
	"the engine's control socket (implies --engine)"},
    {OPT_TUNNEL_IF, "tunnel-if", "NAME", ARGS_REPEAT,
	"treat interface NAME as a tunnel (repeatable)"},
    {OPT_NO_STORE, "no-store", NULL, 0,
	"do not record the checks in the history"},
    {0, NULL, NULL, 0, NULL},
};

/* The addresses to check, each once, in the order first seen. */
struct targets {
	union net_addr *a;
	char **label; /* what the user wrote (a prefix stays a prefix) */
	size_t n, cap;
};

static void
targets_add(struct targets *t, const union net_addr *a, const char *label)
{
	char ip[NET_ADDR_STRLEN], other[NET_ADDR_STRLEN];
	size_t i;

	net_addr_format_ip(a, ip, sizeof ip);
	for (i = 0; i < t->n; i++) {
		net_addr_format_ip(&t->a[i], other, sizeof other);
		if (strcmp(ip, other) == 0)
			return;
	}
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->a = xreallocarray(t->a, t->cap, sizeof *t->a);
		t->label = xreallocarray(t->label, t->cap, sizeof *t->label);
	}
	t->a[t->n] = *a;
	t->label[t->n] = xstrdup(label ? label : ip);
	t->n++;
}

static void
targets_free(struct targets *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		free(t->label[i]);
	free(t->a);
	free(t->label);
}

/* RESOLVER arguments: IP, IP:PORT, [v6]:PORT or a prefix (checked at
 * its network address). */
static int
add_args(struct targets *t, int argc, char **argv, struct err *e)
{
	struct rl_entry ent;
	char ip[NET_ADDR_STRLEN], label[NET_ADDR_STRLEN + 16];
	int i;

	for (i = 0; i < argc; i++) {
		if (rl_parse_entry(argv[i], 53, &ent, e) != 0)
			return err_prefix(e, "%s", argv[i]);
		net_addr_format_ip(&ent.addr, ip, sizeof ip);
		if (ent.prefix_len >= 0)
			snprintf(
			    label, sizeof label, "%s/%d", ip, ent.prefix_len);
		targets_add(t, &ent.addr, ent.prefix_len >= 0 ? label : NULL);
	}
	return 0;
}

static void
on_bad_line(void *arg, const char *msg)
{
	cli_error(&cmd_route_entry, "%s", msg);
	*(int *)arg = 1;
}

static int
add_file(struct targets *t, const char *path, struct err *e)
{
	struct rl_opts o = {.on_error = on_bad_line, .on_warning = on_bad_line};
	struct rl_reader *r;
	union net_addr a;
	int bad = 0, rc;

	o.arg = &bad;
	if (rl_open(path, &o, &r, e) != 0)
		return -1;
	while ((rc = rl_next(r, &a, e)) == 1)
		targets_add(t, &a, NULL);
	rl_close(r);
	if (rc < 0)
		return -1;
	if (bad)
		return err_set(e, "%s: bad lines (above)", path);
	return 0;
}

/* resolvers.list[].address of the running client engine. */
static int
add_engine(struct targets *t, const char *path, struct err *e)
{
	json_t *r, *st, *list, *it;
	const char *role, *addr;
	union net_addr a;
	size_t i;

	if ((r = ctlc_call(path, "status", 3000, e)) == NULL)
		return -1;
	st = json_object_get(r, "status");
	role = json_string_value(json_object_get(st, "role"));
	if (!json_is_true(json_object_get(r, "ok")) || role == NULL ||
	    strcmp(role, "client") != 0) {
		json_decref(r);
		return err_set(
		    e, "%s does not answer like a client engine", path);
	}
	list = json_object_get(json_object_get(st, "resolvers"), "list");
	json_array_foreach(list, i, it)
	{
		addr = json_string_value(json_object_get(it, "address"));
		if (addr == NULL || net_addr_parse(addr, 53, &a, e) != 0) {
			json_decref(r);
			return err_set(
			    e, "engine status: bad resolver address");
		}
		targets_add(t, &a, NULL);
	}
	json_decref(r);
	return 0;
}

static int
cmd_route_run(struct cli_ctx *ctx, const struct args *args)
{
	struct targets t = {0};
	struct route_opts ro = {0};
	const char **ifs = NULL;
	const char *control = args_get(args, OPT_CONTROL);
	const char *file = args_get(args, OPT_RESOLVERS), *v;
	struct cli_checks *out;
	struct res_check c;
	struct err e = {""};
	struct nl nl = {.fd = -1};
	int engine, store = !args_has(args, OPT_NO_STORE);
	int rc = EXIT_UNKNOWN;
	size_t i;
	char *path;

	for (i = 0; (v = args_value(args, OPT_TUNNEL_IF, i)) != NULL; i++) {
		ifs = xreallocarray(ifs, ro.ntunnel_ifs + 1, sizeof *ifs);
		ifs[ro.ntunnel_ifs++] = v;
	}
	ro.tunnel_ifs = ifs;
	engine = args_has(args, OPT_ENGINE) || control != NULL ||
	    (args->noperands == 0 && file == NULL);
	if (add_args(&t, args->noperands, args->operands, &e) != 0 ||
	    (file != NULL && add_file(&t, file, &e) != 0)) {
		cli_error(&cmd_route_entry, "%s", e.msg);
		goto done;
	}
	if (engine) {
		path = control ? xstrdup(control) : ctl_default_path("client");
		if (add_engine(&t, path, &e) != 0) {
			cli_error(&cmd_route_entry,
			    "resolvers from the engine: %s (or give RESOLVER "
			    "arguments or --resolvers FILE)",
			    e.msg);
			free(path);
			goto done;
		}
		free(path);
	}
	if (t.n == 0) {
		cli_error(&cmd_route_entry, "no resolvers to check");
		goto done;
	}
	if (nl_open(&nl, &e) != 0) {
		cli_error(&cmd_route_entry, "%s", e.msg);
		goto done;
	}
	if ((out = cli_checks_open(
		 ctx, &cmd_route_entry, args->argc, args->argv, store)) == NULL)
		goto done;
	for (i = 0; i < t.n; i++) {
		route_check_addr(&nl, &t.a[i], t.label[i], &ro, &c);
		cli_checks_add(out, &c);
	}
	route_check_default(&nl, AF_INET, &ro, &c);
	cli_checks_add(out, &c);
	route_check_default(&nl, AF_INET6, &ro, &c);
	cli_checks_add(out, &c);
	rc = cli_checks_close(out, cli_checks_worst(out));
done:
	nl_close(&nl);
	targets_free(&t);
	free(ifs);
	return rc;
}

const struct cmd_entry cmd_route_entry = {
    .name = "route",
    .summary = "which interface and gateway reach each resolver; flags a "
	       "resolver routed into a tunnel",
    .args = {.opts = route_opts,
	.operands = "[RESOLVER...]",
	.max_operands = -1,
	.formats = "text,json,jsonl,csv"},
    .run = cmd_route_run,
};

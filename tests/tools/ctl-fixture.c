/* SPDX-License-Identifier: MIT */
/*
 * ctl-fixture.c — a control-socket peer speaking docs/control-protocol.md
 * (schema 1) with a scripted, deterministic status, for the dashboard's
 * tests: five resolvers in distinct states with distinct RTT, loss and
 * counters (so sort and filter have something to show), byte counters
 * growing at a fixed rate, a resolver event every few seconds, and the
 * server role on request. It complements, never replaces, the tests
 * against the real engine: those cannot produce these states on demand.
 *
 * Usage: ctl-fixture --socket PATH [--role client|server] [--session N]
 *        [--rate BYTES_PER_S] [--event-every MS] [--refuse MESSAGE]
 *        [--extras] [--first-address ADDR]
 * Prints "ready" once listening; SIGTERM/SIGINT unlink the socket.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/util.h"

#define MAXC 8

struct client {
	int fd;
	unsigned watch_ms;
	uint64_t next_ms;
	char buf[8192];
	size_t len;
};

static volatile sig_atomic_t stop;
static const char *role = "client";
static long long session = 7, rate = 2048, event_every = 3000;
static const char *refuse; /* answer every peer with this error */
static int extras;	   /* fec, exit_ip and leak filled */
static const char *first_addr = "127.0.0.10:53"; /* the first resolver */
static uint64_t t0;

static void
on_sig(int s)
{
	(void)s;
	stop = 1;
}

static json_t *
resolver(const char *addr, const char *dom, const char *state,
    const char *reason, double rtt, double loss, long long sent, long long tmo)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:i,s:i,s:o,s:f,s:I,s:I,s:I}",
	    "address", addr, "domain", dom, "state", state, "reason", reason,
	    "upload_mtu", strcmp(state, "active") == 0 ? 141 : 0,
	    "download_mtu", strcmp(state, "active") == 0 ? 1000 : 0, "rtt_ms",
	    rtt < 0 ? json_null() : json_real(rtt), "loss", loss, "sent",
	    (json_int_t)sent, "answered", (json_int_t)(sent - tmo), "timeouts",
	    (json_int_t)tmo);
}

static json_t *
status(void)
{
	long long up_ms = (long long)(now_mono_ms() - t0), k = up_ms / 100;
	long long bytes = rate * up_ms / 1000;
	json_t *list, *o;

	if (strcmp(role, "server") == 0)
		return json_pack(
		    "{s:s,s:s,s:i,s:I,s:s,s:[s],"
		    "s:{s:i,s:i,s:i,s:i,s:i},s:{s:i,s:i,s:i,s:i,s:i},"
		    "s:{s:I,s:I,s:i,s:i,s:i,s:i,s:i,s:i},"
		    "s:{s:i,s:i,s:i,s:i},s:{s:I,s:I}}",
		    "role", "server", "version", "fixture", "pid", getpid(),
		    "uptime_ms", (json_int_t)up_ms, "phase", "serving",
		    "domains", "t.example", "sessions", "active", 1, "opened",
		    2, "closed", 1, "expired", 0, "busy", 3, "streams",
		    "active", 1, "opened", 4, "closed", 3, "connect_failed", 1,
		    "filtered", 2, "queries", "total", (json_int_t)(k * 3),
		    "tunnel", (json_int_t)(k * 3 - 7), "mtu_probe", 5,
		    "nxdomain", 1, "nodata", 1, "formerr", 0, "error_drop", 2,
		    "no_reply", 0, "drops", "bad_cookie", 4, "undecodable", 5,
		    "unknown_session", 6, "not_request", 7, "traffic",
		    "bytes_up", (json_int_t)bytes, "bytes_down",
		    (json_int_t)(bytes * 4));
	list = json_pack("[o,o,o,o,o]",
	    resolver(first_addr, "t.example", "active", "", 12.5, 0.02,
		1000 + k, 20),
	    resolver("127.0.0.2:53", "t.example", "disabled",
		"no valid answer for 30 s", 80, 0.6, 400, 240),
	    resolver("127.0.0.3:53", "u.example", "testing", "", -1, 0, 3, 0),
	    resolver("127.0.0.20:53", "u.example", "active", "", 4.25, 0,
		5000 + 3 * k, 0),
	    resolver(
		"[::1]:5353", "t.example", "rechecking", "", 30, 0.1, 50, 5));
	o = json_pack("{s:s,s:s,s:i,s:I,s:s,"
		      "s:{s:I,s:I,s:i,s:s},s:{s:i,s:i},"
		      "s:{s:i,s:i,s:i,s:i,s:i,s:o},"
		      "s:{s:I,s:I,s:I,s:I,s:I,s:I,s:f,s:f,s:f},"
		      "s:{s:i,s:i,s:i,s:[{s:i,s:s,s:I,s:I}]},"
		      "s:{s:i,s:i,s:i,s:i},s:{s:i,s:i,s:i},s:{s:i,s:i,s:i},"
		      "s:n,s:n,s:n}",
	    "role", "client", "version", "fixture", "pid", getpid(),
	    "uptime_ms", (json_int_t)up_ms, "phase", "connected", "session",
	    "id", (json_int_t)session, "established_ms",
	    (json_int_t)now_wall_ms(), "reinits", 0, "response_mode", "raw",
	    "mtu", "upload", 141, "download", 1000, "resolvers", "total", 5,
	    "active", 2, "disabled", 1, "testing", 1, "rejected", 0, "list",
	    list, "traffic", "bytes_up", (json_int_t)bytes, "bytes_down",
	    (json_int_t)(bytes * 4), "packets_up", (json_int_t)k,
	    "packets_down", (json_int_t)k, "queries_sent", (json_int_t)(k * 2),
	    "answers", (json_int_t)(k * 2), "rate_up_bps", (double)rate,
	    "rate_down_bps", (double)rate * 4, "qps", 20.0, "streams", "active",
	    1, "opened", 1, "closed", 0, "list", "id", 1, "state", "open",
	    "bytes_up", (json_int_t)bytes, "bytes_down",
	    (json_int_t)(bytes * 4), "arq", "retransmits", 3, "nacks_sent", 1,
	    "nacks_received", 2, "rto_ms", 500, "duplication", "factor", 2,
	    "setup_factor", 4, "duplicates_sent", 9, "events", "error_drop", 0,
	    "session_busy", 0, "reinit", 0, "fec", "exit_ip", "leak");
	/* SOCKS requests by target, in total and per client address. */
	json_object_set_new(o, "socks",
	    json_pack("{s:i,s:{s:i,s:i,s:i,s:i},s:[{s:s,s:i,s:i},{s:s,s:i,"
		      "s:i}]}",
		"accepted", 5, "requests", "hostname", 3, "ip_literal", 2,
		"ipv4", 2, "ipv6", 0, "clients", "address", "127.0.0.2",
		"hostname", 1, "ip_literal", 2, "address", "127.0.0.1",
		"hostname", 2, "ip_literal", 0));
	if (extras) {
		/* What a FEC-capable engine and the ip/leak probes would add. */
		json_object_set_new(o, "fec",
		    json_pack("{s:i,s:i}", "recovered", 12, "parity_sent", 30));
		/* connect --checks's objects (docs/checks.md). */
		json_object_set_new(o, "exit_ip",
		    json_pack("{s:s,s:s,s:s,s:s,s:n,s:I}", "verdict", "ok",
			"reason", "ok", "detail", "IPv4 exit 203.0.113.9",
			"address", "203.0.113.9", "evidence", "time_unix_ms",
			(json_int_t)1795000000000));
		json_object_set_new(o, "leak",
		    json_pack("{s:s,s:s,s:s,s:s,s:n,s:I}", "verdict",
			"critical", "reason", "leak", "detail",
			"resolver 192.0.2.53 (IPv4) asked", "address",
			"192.0.2.53", "evidence", "time_unix_ms",
			(json_int_t)1795000000000));
	}
	return o;
}

static void
send_obj(struct client *c, json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT);
	size_t len = strlen(s), off = 0;

	json_decref(o);
	while (off < len + 1) {
		ssize_t n = off < len ?
		    send(c->fd, s + off, len - off, MSG_NOSIGNAL) :
		    send(c->fd, "\n", 1, MSG_NOSIGNAL);

		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			break;
		}
		off += (size_t)n;
	}
	free(s);
}

static void
handle(struct client *c, const char *line)
{
	json_t *req = json_loads(line, 0, NULL), *v;
	const char *cmd;

	cmd = json_string_value(json_object_get(req, "cmd"));
	if (cmd == NULL) {
		send_obj(c,
		    json_pack("{s:b,s:i,s:s}", "ok", 0, "schema", 1, "error",
			"missing cmd"));
	} else if (strcmp(cmd, "watch") == 0) {
		v = json_object_get(req, "interval_ms");
		c->watch_ms =
		    json_is_integer(v) ? (unsigned)json_integer_value(v) : 1000;
		c->next_ms = now_mono_ms();
	} else if (strcmp(cmd, "status") == 0) {
		send_obj(c,
		    json_pack("{s:b,s:i,s:s,s:o}", "ok", 1, "schema", 1, "cmd",
			"status", "status", status()));
	} else {
		send_obj(c,
		    json_pack("{s:b,s:i,s:s}", "ok", 0, "schema", 1, "error",
			"unknown cmd"));
	}
	json_decref(req);
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"socket", required_argument, NULL, 's'},
	    {"role", required_argument, NULL, 'r'},
	    {"session", required_argument, NULL, 'i'},
	    {"rate", required_argument, NULL, 'b'},
	    {"event-every", required_argument, NULL, 'e'},
	    {"refuse", required_argument, NULL, 'x'},
	    {"extras", no_argument, NULL, 'X'},
	    {"first-address", required_argument, NULL, 'a'},
	    {NULL, 0, NULL, 0}};
	struct client cl[MAXC];
	struct sockaddr_un sun;
	const char *path = NULL;
	uint64_t next_event;
	int lfd, c, i, nev = 0;
	struct err e = {""};

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		long long *dst = c == 'i' ? &session :
		    c == 'b'		  ? &rate :
					    &event_every;

		if (c == 's')
			path = optarg;
		else if (c == 'r')
			role = optarg;
		else if (c == 'x')
			refuse = optarg;
		else if (c == 'X')
			extras = 1;
		else if (c == 'a')
			first_addr = optarg;
		else if (c == 'i' || c == 'b' || c == 'e') {
			if (parse_int(optarg, 0, 1LL << 40, dst, &e) != 0) {
				fprintf(stderr, "ctl-fixture: %s\n", e.msg);
				return 2;
			}
		} else
			return 2;
	}
	if (path == NULL || strlen(path) >= sizeof sun.sun_path) {
		fprintf(stderr,
		    "usage: ctl-fixture --socket PATH [--role "
		    "client|server] [--session N] [--rate B/S] "
		    "[--event-every MS]\n");
		return 2;
	}
	signal(SIGTERM, on_sig);
	signal(SIGINT, on_sig);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	unlink(path);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sun, sizeof sun) != 0 ||
	    listen(lfd, 8) != 0) {
		fprintf(stderr, "ctl-fixture: %s: %s\n", path, strerror(errno));
		return 1;
	}
	for (i = 0; i < MAXC; i++)
		cl[i].fd = -1;
	t0 = now_mono_ms() - 5000; /* an engine up for 5 s */
	next_event = now_mono_ms() + (uint64_t)event_every;
	printf("ready\n");
	fflush(stdout);
	while (!stop) {
		struct pollfd p[MAXC + 1];
		uint64_t now = now_mono_ms();
		int timeout = 100;

		p[0].fd = lfd;
		p[0].events = POLLIN;
		for (i = 0; i < MAXC; i++) {
			p[i + 1].fd = cl[i].fd;
			p[i + 1].events = POLLIN;
		}
		if (poll(p, MAXC + 1, timeout) < 0 && errno != EINTR)
			break;
		now = now_mono_ms();
		if (p[0].revents & POLLIN) {
			int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

			if (fd >= 0 && refuse != NULL) {
				/* As the engine does for a peer of another uid. */
				struct client r = {.fd = fd};

				send_obj(&r,
				    json_pack("{s:b,s:i,s:s}", "ok", 0,
					"schema", 1, "error", refuse));
				close(fd);
				fd = -1;
			}

			for (i = 0; fd >= 0 && i < MAXC; i++) {
				if (cl[i].fd < 0) {
					memset(&cl[i], 0, sizeof cl[i]);
					cl[i].fd = fd;
					fd = -1;
				}
			}
			if (fd >= 0)
				close(fd);
		}
		for (i = 0; i < MAXC; i++) {
			struct client *k = &cl[i];
			char *nl;
			ssize_t n;

			if (k->fd < 0)
				continue;
			if (p[i + 1].revents != 0) {
				n = recv(k->fd, k->buf + k->len,
				    sizeof k->buf - k->len - 1, 0);
				if (n <= 0) {
					close(k->fd);
					k->fd = -1;
					continue;
				}
				k->len += (size_t)n;
				k->buf[k->len] = '\0';
				while ((nl = strchr(k->buf, '\n')) != NULL) {
					*nl = '\0';
					handle(k, k->buf);
					k->len -= (size_t)(nl + 1 - k->buf);
					memmove(k->buf, nl + 1, k->len + 1);
				}
			}
			if (k->watch_ms != 0 && now >= k->next_ms) {
				send_obj(k,
				    json_pack("{s:b,s:i,s:s,s:o}", "ok", 1,
					"schema", 1, "type", "snapshot",
					"status", status()));
				k->next_ms = now + k->watch_ms;
			}
		}
		if (event_every > 0 && now >= next_event) {
			next_event = now + (uint64_t)event_every;
			nev++;
			for (i = 0; i < MAXC; i++)
				if (cl[i].fd >= 0 && cl[i].watch_ms != 0)
					send_obj(&cl[i],
					    json_pack("{s:b,s:i,s:s,s:{s:I,s:s,"
						      "s:s,s:s}}",
						"ok", 1, "schema", 1, "type",
						"event", "event", "at_ms",
						(json_int_t)now_wall_ms(),
						"kind",
						nev % 2 ? "resolver_disabled" :
							  "resolver_enabled",
						"resolver", "127.0.0.2:53",
						"detail",
						nev % 2 ?
						    "no valid answer for 30 s" :
						    "answered again"));
		}
	}
	for (i = 0; i < MAXC; i++)
		if (cl[i].fd >= 0)
			close(cl[i].fd);
	close(lfd);
	unlink(path);
	return 0;
}

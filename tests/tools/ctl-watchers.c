/* SPDX-License-Identifier: MIT */
/*
 * ctl-watchers — N concurrent `watch` clients on an engine's control socket
 * (docs/control-protocol.md), for tests and benchmarks: each connects,
 * sends {"cmd":"watch","interval_ms":MS} and reads every line, parsing each
 * as JSON, until SIGTERM/SIGINT or --seconds have passed. Then it prints
 *
 *   clients=N connected=C snapshots=S events=E bad=B closed=K
 *
 * (bad = lines that are not JSON objects with "type"; closed = connections
 * the engine closed). Prints "ready" once every client has sent its
 * request. Reads with poll(2) on one thread; never writes after the
 * request, so it plays a well-behaved dashboard.
 *
 *   ctl-watchers --socket PATH [--clients N] [--interval-ms MS]
 *                [--seconds S]
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
#include <time.h>
#include <unistd.h>

#define MAXC  1024
#define BUFSZ (1 << 20)

struct w {
	int fd;
	char *buf;
	size_t len;
};

static volatile sig_atomic_t done;

static void
on_sig(int s)
{
	(void)s;
	done = 1;
}

static int
open_one(const char *path, unsigned ms)
{
	struct sockaddr_un sa;
	char req[96];
	int fd, n;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == -1) {
		close(fd);
		return -1;
	}
	n = snprintf(
	    req, sizeof req, "{\"cmd\":\"watch\",\"interval_ms\":%u}\n", ms);
	if (write(fd, req, (size_t)n) != n) {
		close(fd);
		return -1;
	}
	return fd;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"socket", required_argument, NULL, 's'},
	    {"clients", required_argument, NULL, 'n'},
	    {"interval-ms", required_argument, NULL, 'i'},
	    {"seconds", required_argument, NULL, 't'},
	    {NULL, 0, NULL, 0},
	};
	static struct w ws[MAXC];
	static struct pollfd pf[MAXC];
	const char *path = NULL;
	unsigned n = 50, ms = 100, connected = 0, i;
	unsigned long long snaps = 0, events = 0, bad = 0, closed = 0;
	double secs = 0, end;
	int c;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 's':
			path = optarg;
			break;
		case 'n':
			n = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'i':
			ms = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 't':
			secs = strtod(optarg, NULL);
			break;
		default:
			return 2;
		}
	}
	if (path == NULL || n == 0 || n > MAXC) {
		fprintf(stderr,
		    "usage: ctl-watchers --socket PATH "
		    "[--clients 1..1024] [--interval-ms MS] "
		    "[--seconds S]\n");
		return 2;
	}
	signal(SIGTERM, on_sig);
	signal(SIGINT, on_sig);
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < n; i++) {
		ws[i].fd = open_one(path, ms);
		ws[i].buf = malloc(BUFSZ);
		if (ws[i].buf == NULL)
			return 2;
		if (ws[i].fd != -1)
			connected++;
	}
	printf("ready\n");
	fflush(stdout);
	end = secs > 0 ? now_s() + secs : 0;
	while (!done && (end == 0 || now_s() < end)) {
		unsigned live = 0;

		for (i = 0; i < n; i++) {
			pf[i].fd = ws[i].fd;
			pf[i].events = POLLIN;
			if (ws[i].fd != -1)
				live++;
		}
		if (live == 0)
			break;
		if (poll(pf, n, 100) < 0 && errno != EINTR)
			break;
		for (i = 0; i < n; i++) {
			ssize_t r;
			char *nl;

			if (ws[i].fd == -1 ||
			    !(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			r = read(ws[i].fd, ws[i].buf + ws[i].len,
			    BUFSZ - 1 - ws[i].len);
			if (r <= 0) {
				close(ws[i].fd);
				ws[i].fd = -1;
				closed++;
				continue;
			}
			ws[i].len += (size_t)r;
			while (
			    (nl = memchr(ws[i].buf, '\n', ws[i].len)) != NULL) {
				size_t l = (size_t)(nl - ws[i].buf) + 1;
				json_t *j =
				    json_loadb(ws[i].buf, l - 1, 0, NULL);
				const char *t = json_string_value(
				    json_object_get(j, "type"));

				if (t != NULL && strcmp(t, "snapshot") == 0)
					snaps++;
				else if (t != NULL && strcmp(t, "event") == 0)
					events++;
				else if (!json_is_true(
					     json_object_get(j, "ok")))
					bad++;
				json_decref(j);
				memmove(
				    ws[i].buf, ws[i].buf + l, ws[i].len - l);
				ws[i].len -= l;
			}
			if (ws[i].len == BUFSZ - 1) {
				bad++;
				ws[i].len = 0;
			}
		}
	}
	printf("clients=%u connected=%u snapshots=%llu events=%llu bad=%llu "
	       "closed=%llu\n",
	    n, connected, snaps, events, bad, closed);
	for (i = 0; i < n; i++) {
		if (ws[i].fd != -1)
			close(ws[i].fd);
		free(ws[i].buf);
	}
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * test-ctl.c — the control socket server and client over a real Unix
 * socket: permissions, every command, malformed and over-long requests,
 * watch snapshots and events, slow clients dropped, a second engine
 * refused, stale sockets replaced, other uids refused (SO_PEERCRED) both
 * ways: the engine refuses their clients, the client refuses their
 * servers. The terminal sanitiser shared by status and the TUI.
 * The server runs its event loop in a thread; the test talks to it with
 * the blocking client library, as status and the TUI do.
 */
#include <errno.h>
#include <locale.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/ctlc.h"
#include "common/ev.h"
#include "engine/ctl.h"
#include "tests/tap.h"

struct fixture {
	struct ev_loop *loop;
	struct ctl_server *srv;
	volatile int status_calls;
	volatile int stopped;
	size_t pad; /* bytes of filler in each status */
	uint64_t event_timer;
	int events_left;
};

static json_t *
test_status(void *arg)
{
	struct fixture *f = arg;
	json_t *o = json_object();

	f->status_calls++;
	json_object_set_new(o, "role", json_string("client"));
	json_object_set_new(o, "phase", json_string("connected"));
	json_object_set_new(o, "calls", json_integer(f->status_calls));
	if (f->pad > 0) {
		char *s = xmalloc(f->pad + 1);

		memset(s, 'x', f->pad);
		s[f->pad] = '\0';
		json_object_set_new(o, "pad", json_string(s));
		free(s);
	}
	return o;
}

static char *
test_metrics(void *arg)
{
	return xstrdup("# TYPE mdns_test_total counter\nmdns_test_total 7\n");
}

static void
test_stop(void *arg)
{
	struct fixture *f = arg;

	f->stopped = 1;
}

static void
fire_event(struct ev_loop *loop, uint64_t id, void *arg)
{
	struct fixture *f = arg;

	ctl_server_event(f->srv, "resolver_disabled", "127.0.0.9:53",
	    "only timeouts for 30 s");
	if (--f->events_left > 0)
		f->event_timer = ev_timer_add(loop, 100000, fire_event, f);
}

static volatile int quit, start_events;

/* Runs on the loop's thread: the loop is not thread-safe. */
static void
check_quit(struct ev_loop *loop, uint64_t id, void *arg)
{
	struct fixture *f = arg;

	if (start_events) {
		start_events = 0;
		f->event_timer = ev_timer_add(loop, 150000, fire_event, f);
	}
	if (quit)
		ev_stop(loop);
	else
		ev_timer_add(loop, 20000, check_quit, arg);
}

static void *
server_thread(void *arg)
{
	struct fixture *f = arg;

	ev_timer_add(f->loop, 20000, check_quit, f);
	ev_run(f->loop);
	return NULL;
}

/* Send a raw line and read one reply. */
static json_t *
raw_request(struct ctlc *c, const char *line)
{
	struct err e;
	json_t *r = NULL;
	size_t len = strlen(line);

	if (send(c->fd, line, len, MSG_NOSIGNAL) != (ssize_t)len)
		return NULL;
	if (ctlc_recv(c, &r, 5000, &e) != 1)
		return NULL;
	return r;
}

static int
reply_ok(json_t *r)
{
	return r != NULL && json_is_true(json_object_get(r, "ok"));
}

static const char *
reply_str(json_t *r, const char *k)
{
	json_t *v = r ? json_object_get(r, k) : NULL;

	return json_is_string(v) ? json_string_value(v) : "";
}

static void
safe_is(const char *in, int keep_nl, const char *want, const char *what)
{
	char *got = ctlc_term_safe(in, keep_nl);

	tap_is_str(got, want, "%s", what);
	free(got);
}

static void
test_sanitise(void)
{
	json_t *o;
	char *s;
	size_t i;
	int clean = 1;

	setlocale(LC_CTYPE, "C.UTF-8");
	safe_is("serving", 0, "serving", "plain text kept");
	safe_is("a\x1b[31mb\x1b]0;t\x07", 0, "a?[31mb?]0;t?",
	    "ESC and BEL become ?");
	safe_is("x\x7fy\r\tz", 0, "x?y??z", "DEL, CR, TAB become ?");
	safe_is("\xc2\x9b"
		"1m",
	    0, "?1m", "C1 CSI (U+009B) becomes ?");
	safe_is("\xff\xfe", 0, "??", "undecodable bytes become ?");
	safe_is("h\xc3\xa9llo \xe2\x96\x81", 0, "h\xc3\xa9llo \xe2\x96\x81",
	    "printable UTF-8 kept");
	safe_is("a\nb\x1b", 1, "a\nb?", "keep_newlines keeps only newlines");
	safe_is("a\nb", 0, "a?b", "newlines replaced otherwise");
	setlocale(LC_CTYPE, "C");
	s = ctlc_term_safe("h\xc3\xa9\xc2\x9b\x1b", 0);
	for (i = 0; s[i] != '\0'; i++)
		clean &=
		    (unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f;
	tap_ok(clean, "C locale: only printable ASCII left (%s)", s);
	free(s);
	o = json_pack("{s:s, s:[s, {s:s}], s:i}", "phase", "ok\x1b[2J", "list",
	    "a\x07", "k", "\x1b]0;x", "n", 5);
	ctlc_term_sanitize(o);
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	tap_is_str(s,
	    "{\"list\":[\"a?\",{\"k\":\"?]0;x\"}],\"n\":5,"
	    "\"phase\":\"ok?[2J\"}",
	    "every string of a reply sanitised, nested too");
	free(s);
	json_decref(o);
}

/*
 * A server run by another uid: the client refuses it before sending
 * anything (SO_PEERCRED), whatever it would say.
 */
static void
test_untrusted(const char *dir)
{
	char sdir[300], path[400], buf[8];
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct ctlc c;
	struct err e = {""};
	int pfd[2];
	pid_t pid;

	if (getuid() != 0) {
		tap_ok(1, "# SKIP a server of another uid needs root");
		tap_ok(1, "# SKIP");
		return;
	}
	snprintf(sdir, sizeof sdir, "%s/shared", dir);
	snprintf(path, sizeof path, "%s/fake.sock", sdir);
	mkdir(sdir, 0777);
	chmod(sdir, 0777);
	chmod(dir, 0711);
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if (pipe(pfd) != 0)
		return;
	if ((pid = fork()) == 0) {
		int fd;

		close(pfd[0]);
		if (setgid(65534) != 0 || setuid(65534) != 0)
			_exit(2);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (bind(fd, (struct sockaddr *)&sun, sizeof sun) != 0 ||
		    chmod(path, 0777) != 0 || listen(fd, 4) != 0)
			_exit(3);
		if (write(pfd[1], "r", 1) != 1)
			_exit(4);
		pause();
		_exit(0);
	}
	close(pfd[1]);
	if (read(pfd[0], buf, 1) != 1)
		tap_diag("fake server did not start");
	close(pfd[0]);
	tap_ok(ctlc_open(&c, path, 0, &e) == -1,
	    "a server of uid 65534 is refused");
	tap_ok(strstr(e.msg, "runs as uid 65534, not 0: not trusted") != NULL,
	    "  %s", e.msg);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	unlink(path);
	rmdir(sdir);
	chmod(dir, 0700);
}

int
main(void)
{
	char dir[200];
	struct fixture f = {0};
	struct ctl_handlers h = {
	    "client", "test-1", test_status, test_metrics, test_stop, &f};
	struct err e = {""};
	struct ctlc c, c2, slow;
	struct stat st;
	pthread_t th;
	json_t *r;
	char path[400], sockdir[300], *big;
	int i, snaps, events;

	signal(SIGPIPE, SIG_IGN);
	if (mkdtemp(tap_tmppath(dir, sizeof dir, "mdns-test.ctlXXXXXX")) ==
	    NULL)
		return 1;
	snprintf(sockdir, sizeof sockdir, "%s/run", dir);
	snprintf(path, sizeof path, "%s/engine.sock", sockdir);
	f.loop = ev_loop_new(&e);
	f.srv = ctl_server_new(f.loop, path, &h, &e);
	tap_ok(f.srv != NULL, "server listens (%s)", e.msg);
	if (f.srv == NULL)
		return tap_done();
	tap_ok(stat(sockdir, &st) == 0 && (st.st_mode & 0777) == 0700,
	    "socket directory created 0700");
	tap_ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600 &&
		S_ISSOCK(st.st_mode),
	    "socket is 0600");

	/* A second engine on the same path is refused while the first lives. */
	{
		struct ev_loop *l2 = ev_loop_new(&e);
		struct ctl_server *s2;

		/* The first server's loop is not running yet: accept queue. */
		s2 = ctl_server_new(l2, path, &h, &e);
		tap_ok(s2 == NULL && strstr(e.msg, "another engine") != NULL,
		    "second engine refused: %s", e.msg);
		if (s2 != NULL)
			ctl_server_free(s2);
		ev_loop_free(l2);
	}
	pthread_create(&th, NULL, server_thread, &f);

	tap_ok(ctlc_open(&c, path, 0, &e) == 0, "client connects");
	r = raw_request(&c, "{\"cmd\":\"version\",\"id\":42}\n");
	tap_ok(reply_ok(r), "version ok");
	tap_is_str(reply_str(r, "version"), "test-1", "version string");
	tap_is_str(reply_str(r, "role"), "client", "version role");
	tap_is_int(
	    json_integer_value(json_object_get(r, "id")), 42, "id echoed");
	tap_is_int(
	    json_integer_value(json_object_get(r, "schema")), 1, "schema 1");
	json_decref(r);

	r = raw_request(&c, "{\"cmd\":\"status\"}\n");
	tap_ok(reply_ok(r), "status ok");
	tap_is_str(reply_str(json_object_get(r, "status"), "phase"),
	    "connected", "status carries the engine's object");
	json_decref(r);

	r = raw_request(&c, "{\"cmd\":\"metrics\"}\n");
	tap_ok(reply_ok(r) &&
		strstr(reply_str(r, "text"), "mdns_test_total 7") != NULL,
	    "metrics text");
	json_decref(r);

	r = raw_request(&c, "{not json\n");
	tap_ok(r != NULL && !reply_ok(r) &&
		strstr(reply_str(r, "error"), "malformed JSON") != NULL,
	    "malformed JSON gets an error reply: %s", reply_str(r, "error"));
	json_decref(r);
	r = raw_request(&c, "{\"cmd\":\"reboot\"}\n");
	tap_ok(r != NULL && !reply_ok(r) &&
		strstr(reply_str(r, "error"), "unknown cmd") != NULL,
	    "unknown cmd: %s", reply_str(r, "error"));
	json_decref(r);
	r = raw_request(&c, "[1,2]\n");
	tap_ok(r != NULL && !reply_ok(r), "non-object request refused");
	json_decref(r);
	r = raw_request(&c, "{\"cmd\":\"watch\",\"interval_ms\":5}\n");
	tap_ok(r != NULL && !reply_ok(r) &&
		strstr(reply_str(r, "error"), "interval_ms") != NULL,
	    "watch interval out of range refused");
	json_decref(r);
	r = raw_request(&c, "{\"cmd\":7}\n");
	tap_ok(r != NULL && !reply_ok(r), "cmd of wrong type refused");
	json_decref(r);

	big = xmalloc(10001);
	memset(big, ' ', 10000);
	big[0] = '{';
	big[9999] = '\n';
	big[10000] = '\0';
	r = raw_request(&c, big);
	free(big);
	tap_ok(r != NULL && !reply_ok(r) &&
		strstr(reply_str(r, "error"), "too long") != NULL,
	    "over-long line refused");
	json_decref(r);
	r = raw_request(&c, "{\"cmd\":\"version\"}\n");
	tap_ok(reply_ok(r), "connection still usable after bad requests");
	json_decref(r);

	/* Watch: snapshots at the interval, events in between. */
	tap_ok(ctlc_open(&c2, path, 0, &e) == 0, "watcher connects");
	r = raw_request(&c2, "{\"cmd\":\"watch\",\"interval_ms\":100}\n");
	snaps = events = 0;
	f.events_left = 3;
	start_events = 1; /* armed on the loop's thread */
	for (i = 0; i < 60 && (snaps < 4 || events < 3); i++) {
		if (r != NULL) {
			const char *type = reply_str(r, "type");

			if (strcmp(type, "snapshot") == 0)
				snaps++;
			else if (strcmp(type, "event") == 0 &&
			    strcmp(
				reply_str(json_object_get(r, "event"), "kind"),
				"resolver_disabled") == 0)
				events++;
			json_decref(r);
		}
		r = NULL;
		if (ctlc_recv(&c2, &r, 2000, &e) != 1)
			break;
	}
	json_decref(r);
	tap_ok(snaps >= 4, "watch streams snapshots (%d)", snaps);
	tap_is_int(events, 3, "watch streams events");
	ctlc_close(&c2);

	/* A client that watches but never reads is dropped, not waited for. */
	f.pad = 64 * 1024;
	tap_ok(ctlc_open(&slow, path, 0, &e) == 0, "slow client connects");
	if (send(slow.fd, "{\"cmd\":\"watch\",\"interval_ms\":100}\n", 34,
		MSG_NOSIGNAL) != 34)
		tap_diag("send failed");
	for (i = 0; i < 200 && ctl_server_stats(f.srv)->dropped_slow == 0; i++)
		usleep(50000);
	tap_ok(ctl_server_stats(f.srv)->dropped_slow == 1,
	    "slow client dropped (bounded buffer)");
	f.pad = 0;
	r = raw_request(&c, "{\"cmd\":\"status\"}\n");
	tap_ok(reply_ok(r), "others still served after the drop");
	json_decref(r);
	ctlc_close(&slow);

	/* Another uid is refused by SO_PEERCRED even if the mode allowed it. */
	chmod(dir, 0755);
	chmod(sockdir, 0755);
	chmod(path, 0666);
	if (getuid() == 0) {
		int pfd[2];
		pid_t pid;
		char buf[512] = "";
		ssize_t n;

		if (pipe(pfd) != 0)
			return 1;
		pid = fork();
		if (pid == 0) {
			struct ctlc cc;
			json_t *rr = NULL;

			close(pfd[0]);
			if (setgid(65534) != 0 || setuid(65534) != 0)
				_exit(2);
			if (ctlc_open(&cc, path, 0, &e) != 0)
				_exit(3);
			if (ctlc_recv(&cc, &rr, 5000, &e) == 1) {
				char *s = json_dumps(rr, JSON_COMPACT);

				if (write(pfd[1], s, strlen(s)) < 0)
					_exit(4);
			}
			_exit(0);
		}
		close(pfd[1]);
		n = read(pfd[0], buf, sizeof buf - 1);
		buf[n > 0 ? n : 0] = '\0';
		waitpid(pid, NULL, 0);
		close(pfd[0]);
		tap_ok(strstr(buf, "permission denied") != NULL,
		    "other uid refused: %s", buf);
		tap_ok(ctl_server_stats(f.srv)->refused_uid == 1,
		    "refusal counted");
	} else {
		tap_ok(1, "not root: uid refusal tested by the shell suite");
		tap_ok(1, "not root: refusal count skipped");
	}
	chmod(path, 0600);

	r = raw_request(&c, "{\"cmd\":\"stop\"}\n");
	tap_ok(reply_ok(r) && json_is_true(json_object_get(r, "stopping")),
	    "stop acknowledged");
	json_decref(r);
	for (i = 0; i < 100 && !f.stopped; i++)
		usleep(10000);
	tap_ok(f.stopped, "stop handler called");
	ctlc_close(&c);

	quit = 1;
	pthread_join(th, NULL);
	ctl_server_free(f.srv);
	tap_ok(access(path, F_OK) != 0, "socket file removed on free");

	/* A stale socket file (nobody listening) is replaced. */
	{
		struct sockaddr_un sun = {.sun_family = AF_UNIX};
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);

		memcpy(sun.sun_path, path, strlen(path) + 1);
		if (bind(fd, (struct sockaddr *)&sun, sizeof sun) != 0)
			tap_diag("bind: %s", strerror(errno));
		close(fd);
		f.srv = ctl_server_new(f.loop, path, &h, &e);
		tap_ok(f.srv != NULL, "stale socket replaced (%s)", e.msg);
		ctl_server_free(f.srv);
	}
	/*
	 * A refusing engine writes its reason and closes, possibly before
	 * our request arrives: the client must still report that reason,
	 * not "Broken pipe" (socketpair makes the race deterministic).
	 */
	{
		static const char refusal[] =
		    "{\"ok\":false,\"schema\":1,"
		    "\"error\":\"permission denied: peer uid differs\"}\n";
		struct ctlc rc;
		json_t *req = json_pack("{s:s}", "cmd", "status"), *rep = NULL;
		int sv[2];

		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0 ||
		    write(sv[1], refusal, sizeof refusal - 1) !=
			(ssize_t)(sizeof refusal - 1))
			tap_diag("socketpair: %s", strerror(errno));
		close(sv[1]);
		memset(&rc, 0, sizeof rc);
		rc.fd = sv[0];
		tap_ok(ctlc_send(&rc, req, &e) == 0,
		    "send to a refusing, closed engine is not an error (%s)",
		    e.msg);
		tap_ok(ctlc_recv(&rc, &rep, 1000, &e) == 1 && rep != NULL &&
			strstr(json_string_value(json_object_get(rep, "error")),
			    "peer uid") != NULL,
		    "the refusal reason is read after the broken pipe");
		json_decref(rep);
		json_decref(req);
		ctlc_close(&rc);
	}
	/* A regular file at the path is refused, never deleted. */
	{
		FILE *fp = fopen(path, "w");

		if (fp != NULL) {
			fputs("user data\n", fp);
			fclose(fp);
		}
		f.srv = ctl_server_new(f.loop, path, &h, &e);
		tap_ok(f.srv == NULL && strstr(e.msg, "not a socket") != NULL,
		    "regular file at the socket path refused: %s", e.msg);
		tap_ok(access(path, F_OK) == 0, "the regular file is kept");
		if (f.srv != NULL)
			ctl_server_free(f.srv);
		unlink(path);
	}
	ev_loop_free(f.loop);
	test_untrusted(dir);
	test_sanitise();
	rmdir(sockdir);
	rmdir(dir);
	return tap_done();
}

/* SPDX-License-Identifier: MIT */
/*
 * ctl.c — control socket server. Accepts owner-only clients on a Unix
 * socket, reads newline-delimited JSON requests, answers with one JSON line
 * each, streams snapshots and events to watchers. Every client has a
 * bounded input line and a bounded output buffer; a client that does not
 * read is dropped rather than allowed to hold memory or stall the loop.
 * It does not know what the status contains: the engine's callbacks build
 * it.
 *
 * It also picks the socket's place when none is given
 * (ctl_server_new_default): the first usable runtime directory of
 * path_runtime_dirs, the same list clients search, skipping with a warning
 * a directory another user planted, so that the engine never runs without
 * a socket because of someone else. Accepts go through the common acceptor
 * (net.h), which sheds connections instead of spinning when descriptors
 * run out.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/ctlc.h"
#include "common/log.h"
#include "common/net.h"
#include "common/path.h"
#include "engine/ctl.h"

struct ctl_client {
	struct ctl_server *srv;
	int fd;
	char in[CTL_MAX_REQUEST + 1];
	size_t inlen;
	int discarding; /* skipping the rest of an over-long line */
	char *out;
	size_t outlen, outoff, outcap;
	unsigned watch_ms; /* 0 = not watching */
	uint64_t watch_timer;
	int closing; /* close once the output is flushed */
	struct ctl_client *next;
};

struct ctl_server {
	struct ev_loop *loop;
	int fd;
	struct net_acceptor *acc;
	char *path;
	struct ctl_handlers h;
	struct ctl_client *clients;
	struct ctl_stats stats;
	/* One serialised status per loop iteration, shared by all watchers. */
	char *snap;
	size_t snaplen;
	uint64_t snap_at;
};

static void client_free(struct ctl_client *c);
static int client_flush(struct ctl_client *c);
static void client_io(struct ev_loop *loop, int fd, int events, void *arg);

json_t *
ctl_parse_request(
    const char *line, size_t len, struct ctl_request *req, struct err *e)
{
	json_error_t je;
	json_t *doc, *cmd, *iv;
	const char *name;

	memset(req, 0, sizeof *req);
	if (len > CTL_MAX_REQUEST) {
		err_set(e, "request longer than %d bytes", CTL_MAX_REQUEST);
		return NULL;
	}
	doc = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
	if (doc == NULL) {
		err_set(
		    e, "malformed JSON at column %d: %s", je.column, je.text);
		return NULL;
	}
	if (!json_is_object(doc)) {
		err_set(e, "request must be a JSON object");
		goto fail;
	}
	req->id = json_object_get(doc, "id");
	cmd = json_object_get(doc, "cmd");
	if (cmd == NULL) {
		err_set(e, "missing \"cmd\"");
		goto fail;
	}
	if (!json_is_string(cmd)) {
		err_set(e, "\"cmd\" must be a string");
		goto fail;
	}
	name = json_string_value(cmd);
	if (strcmp(name, "version") == 0)
		req->cmd = CTL_CMD_VERSION;
	else if (strcmp(name, "status") == 0)
		req->cmd = CTL_CMD_STATUS;
	else if (strcmp(name, "watch") == 0)
		req->cmd = CTL_CMD_WATCH;
	else if (strcmp(name, "metrics") == 0)
		req->cmd = CTL_CMD_METRICS;
	else if (strcmp(name, "stop") == 0)
		req->cmd = CTL_CMD_STOP;
	else {
		err_set(e,
		    "unknown cmd \"%.64s\" (version, status, watch, "
		    "metrics, stop)",
		    name);
		goto fail;
	}
	req->interval_ms = 1000;
	iv = json_object_get(doc, "interval_ms");
	if (iv != NULL) {
		json_int_t v;

		if (req->cmd != CTL_CMD_WATCH) {
			err_set(e, "\"interval_ms\" only applies to watch");
			goto fail;
		}
		if (!json_is_integer(iv)) {
			err_set(e, "\"interval_ms\" must be an integer");
			goto fail;
		}
		v = json_integer_value(iv);
		if (v < CTL_WATCH_MIN_MS || v > CTL_WATCH_MAX_MS) {
			err_set(e, "\"interval_ms\" must be %d..%d",
			    CTL_WATCH_MIN_MS, CTL_WATCH_MAX_MS);
			goto fail;
		}
		req->interval_ms = (unsigned)v;
	}
	return doc;
fail:
	json_decref(doc);
	return NULL;
}

/* Queue bytes for a client; drop it when its buffer would overflow. */
static int
client_write(struct ctl_client *c, const char *buf, size_t len)
{
	if (c->closing)
		return -1;
	if (c->outoff > 0 && c->outoff == c->outlen)
		c->outoff = c->outlen = 0;
	if (c->outlen - c->outoff + len > CTL_MAX_OUTPUT) {
		c->srv->stats.dropped_slow++;
		log_info("control: dropping a client that does not read");
		client_free(c);
		return -1;
	}
	if (c->outlen + len > c->outcap) {
		/* Compact before growing (nothing to move on the first write,
		 * when out is still NULL: memmove(NULL, ...) is undefined). */
		if (c->outoff > 0) {
			memmove(
			    c->out, c->out + c->outoff, c->outlen - c->outoff);
			c->outlen -= c->outoff;
			c->outoff = 0;
		}
		if (c->outlen + len > c->outcap) {
			c->outcap = MAX(c->outcap * 2, c->outlen + len);
			c->out = xrealloc(c->out, c->outcap);
		}
	}
	memcpy(c->out + c->outlen, buf, len);
	c->outlen += len;
	ev_io_set(c->srv->loop, c->fd, EV_READ | EV_WRITE);
	return 0;
}

/* Serialise obj (stolen) as one line and queue it. */
static int
client_send(struct ctl_client *c, json_t *obj)
{
	char *s = json_dumps(obj, JSON_COMPACT);
	int r;

	json_decref(obj);
	if (s == NULL)
		return -1;
	r = client_write(c, s, strlen(s));
	if (r == 0)
		r = client_write(c, "\n", 1);
	free(s);
	return r;
}

static json_t *
reply_new(const char *cmd, json_t *id)
{
	json_t *o = json_object();

	json_object_set_new(o, "ok", json_true());
	json_object_set_new(o, "schema", json_integer(CTL_SCHEMA));
	json_object_set_new(o, "cmd", json_string(cmd));
	if (id != NULL)
		json_object_set(o, "id", id);
	return o;
}

static int
client_error(struct ctl_client *c, const char *msg, json_t *id)
{
	json_t *o = json_object();

	c->srv->stats.bad_requests++;
	json_object_set_new(o, "ok", json_false());
	json_object_set_new(o, "schema", json_integer(CTL_SCHEMA));
	json_object_set_new(o, "error", json_string(msg));
	if (id != NULL)
		json_object_set(o, "id", id);
	return client_send(c, o);
}

static json_t *
status_object(struct ctl_server *srv)
{
	json_t *st = srv->h.status != NULL ? srv->h.status(srv->h.arg) : NULL;

	return st != NULL ? st : json_object();
}

/*
 * The serialised snapshot line for this loop iteration: many watchers
 * ticking together cost one status build.
 */
static int
snapshot_line(struct ctl_server *srv, const char **line, size_t *len)
{
	uint64_t now = ev_now_us(srv->loop);

	if (srv->snap == NULL || srv->snap_at != now) {
		json_t *o = json_object();

		json_object_set_new(o, "ok", json_true());
		json_object_set_new(o, "schema", json_integer(CTL_SCHEMA));
		json_object_set_new(o, "type", json_string("snapshot"));
		json_object_set_new(o, "status", status_object(srv));
		free(srv->snap);
		srv->snap = json_dumps(o, JSON_COMPACT);
		json_decref(o);
		if (srv->snap == NULL)
			return -1;
		srv->snaplen = strlen(srv->snap);
		srv->snap_at = now;
	}
	*line = srv->snap;
	*len = srv->snaplen;
	return 0;
}

static void
watch_tick(struct ev_loop *loop, uint64_t id, void *arg)
{
	struct ctl_client *c = arg;
	const char *line;
	size_t len;

	c->watch_timer = 0;
	if (snapshot_line(c->srv, &line, &len) != 0)
		return;
	/* Re-arm first: client_write may free c on overflow. */
	c->watch_timer =
	    ev_timer_add(loop, (uint64_t)c->watch_ms * 1000, watch_tick, c);
	if (client_write(c, line, len) == 0)
		client_write(c, "\n", 1);
}

static void
handle_line(struct ctl_client *c, const char *line, size_t len)
{
	struct ctl_server *srv = c->srv;
	struct ctl_request req;
	struct err e = {""};
	json_t *doc, *o;
	char *text;

	while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' '))
		len--;
	if (len == 0)
		return;
	if ((doc = ctl_parse_request(line, len, &req, &e)) == NULL) {
		client_error(c, e.msg, NULL);
		return;
	}
	srv->stats.requests++;
	switch (req.cmd) {
	case CTL_CMD_VERSION:
		o = reply_new("version", req.id);
		json_object_set_new(o, "version", json_string(srv->h.version));
		json_object_set_new(o, "role", json_string(srv->h.role));
		client_send(c, o);
		break;
	case CTL_CMD_STATUS:
		o = reply_new("status", req.id);
		json_object_set_new(o, "status", status_object(srv));
		client_send(c, o);
		break;
	case CTL_CMD_METRICS:
		text =
		    srv->h.metrics != NULL ? srv->h.metrics(srv->h.arg) : NULL;
		if (text == NULL) {
			client_error(c, "metrics not available", req.id);
			break;
		}
		o = reply_new("metrics", req.id);
		json_object_set_new(o, "text", json_string(text));
		free(text);
		client_send(c, o);
		break;
	case CTL_CMD_WATCH:
		if (c->watch_timer != 0)
			ev_timer_cancel(srv->loop, c->watch_timer);
		c->watch_ms = req.interval_ms;
		c->watch_timer = ev_timer_add(srv->loop, 0, watch_tick, c);
		break;
	case CTL_CMD_STOP:
		o = reply_new("stop", req.id);
		json_object_set_new(o, "stopping", json_true());
		client_send(c, o);
		if (srv->h.stop != NULL)
			srv->h.stop(srv->h.arg);
		break;
	}
	json_decref(doc);
}

static void
client_free(struct ctl_client *c)
{
	struct ctl_server *srv = c->srv;
	struct ctl_client **pp;

	for (pp = &srv->clients; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	if (c->watch_timer != 0)
		ev_timer_cancel(srv->loop, c->watch_timer);
	ev_io_del(srv->loop, c->fd);
	close(c->fd);
	free(c->out);
	free(c);
}

static int
client_flush(struct ctl_client *c)
{
	while (c->outoff < c->outlen) {
		ssize_t n = send(c->fd, c->out + c->outoff,
		    c->outlen - c->outoff, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == EINTR)
				continue;
			return -1;
		}
		c->outoff += (size_t)n;
	}
	c->outoff = c->outlen = 0;
	ev_io_set(c->srv->loop, c->fd, c->closing ? 0 : EV_READ);
	return c->closing ? -1 : 0;
}

static void
client_io(struct ev_loop *loop, int fd, int events, void *arg)
{
	struct ctl_client *c = arg;
	struct ctl_server *srv = c->srv;
	char buf[4096];
	ssize_t n;
	size_t i, start;

	if (events & EV_WRITE) {
		if (client_flush(c) != 0) {
			client_free(c);
			return;
		}
	}
	if (!(events & EV_READ))
		return;
	n = recv(fd, buf, sizeof buf, 0);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		client_free(c);
		return;
	}
	if (n < 0)
		return;
	start = 0;
	for (i = 0; i < (size_t)n; i++) {
		struct ctl_client *p;

		if (buf[i] != '\n')
			continue;
		if (c->discarding) {
			c->discarding = 0;
		} else if (c->inlen + (i - start) > CTL_MAX_REQUEST) {
			c->inlen = 0;
			client_error(c, "request line too long", NULL);
		} else {
			memcpy(c->in + c->inlen, buf + start, i - start);
			c->inlen += i - start;
			handle_line(c, c->in, c->inlen);
			c->inlen = 0;
		}
		start = i + 1;
		/* The reply may have dropped this client. */
		for (p = srv->clients; p != NULL && p != c; p = p->next)
			;
		if (p == NULL)
			return;
	}
	if (start < (size_t)n && !c->discarding) {
		if (c->inlen + ((size_t)n - start) > CTL_MAX_REQUEST) {
			c->inlen = 0;
			c->discarding = 1;
			client_error(c, "request line too long", NULL);
		} else {
			memcpy(
			    c->in + c->inlen, buf + start, (size_t)n - start);
			c->inlen += (size_t)n - start;
		}
	}
}

/* The reply to a connection shed for lack of descriptors (net.h). */
static const char shed_reply[] =
    "{\"ok\":false,\"schema\":1,\"error\":\"engine out of file "
    "descriptors: connection shed, try again\"}\n";

static void
server_accept(void *arg, int cfd)
{
	struct ctl_server *srv = arg;
	struct ctl_client *c;
	struct ucred cred;
	socklen_t clen = sizeof cred;

	if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) != 0 ||
	    (cred.uid != geteuid() && cred.uid != 0)) {
		static const char msg[] =
		    "{\"ok\":false,\"schema\":1,"
		    "\"error\":\"permission denied: peer uid differs "
		    "from the engine's\"}\n";

		srv->stats.refused_uid++;
		if (send(cfd, msg, sizeof msg - 1, MSG_NOSIGNAL) < 0)
			log_debug("control: refusal not delivered");
		close(cfd);
		return;
	}
	c = xcalloc(1, sizeof *c);
	c->srv = srv;
	c->fd = cfd;
	if (ev_io_add(srv->loop, cfd, EV_READ, client_io, c, NULL) != 0) {
		close(cfd);
		free(c);
		return;
	}
	c->next = srv->clients;
	srv->clients = c;
	srv->stats.accepted++;
}

char *
ctl_default_path(const char *role)
{
	struct ctlc c;
	struct ctlc_where w;

	if (ctlc_find(&c, NULL, role, 0, &w, NULL) == 0) {
		ctlc_close(&c);
		return xstrdup(w.path);
	}
	return ctlc_default_path(role);
}

struct ctl_server *
ctl_server_new(struct ev_loop *loop, const char *path,
    const struct ctl_handlers *h, struct err *e)
{
	struct ctl_server *srv;
	struct sockaddr_un sun;
	struct stat sb;
	char *dir, *slash;
	mode_t old_mask;
	int fd, rc;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		err_set(e, "control socket path too long: %s", path);
		return NULL;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	/*
	 * A missing directory is made 0700 and ours; an existing one is
	 * left as it is (path_mkdir_p would chmod it: --control /tmp/x.sock
	 * must not turn /tmp into 0700).
	 */
	dir = xstrdup(path);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if (lstat(dir, &sb) != 0 && errno == ENOENT &&
		    path_mkdir_p(dir, 0700, e) != 0) {
			free(dir);
			return NULL;
		}
	}
	free(dir);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err_set(e, "control socket: %s", strerror(errno));
		return NULL;
	}
	/* Owner-only from the start, not only after the chmod below. */
	old_mask = umask(0177);
	rc = bind(fd, (struct sockaddr *)&sun, sizeof sun);
	umask(old_mask);
	if (rc != 0) {
		int probe;

		if (errno != EADDRINUSE)
			goto syserr;
		/* Stale or live? Only a live engine answers a connect. */
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 &&
		    connect(probe, (struct sockaddr *)&sun, sizeof sun) == 0) {
			close(probe);
			close(fd);
			err_set(e, "another engine is listening on %s", path);
			return NULL;
		}
		if (probe >= 0)
			close(probe);
		/* Only a stale socket goes: a mistyped --control naming a
		 * regular file must not delete the user's file. */
		if (lstat(path, &sb) != 0 || !S_ISSOCK(sb.st_mode)) {
			close(fd);
			err_set(e,
			    "control socket %s: the path exists and is "
			    "not a socket",
			    path);
			return NULL;
		}
		unlink(path);
		old_mask = umask(0177);
		rc = bind(fd, (struct sockaddr *)&sun, sizeof sun);
		umask(old_mask);
		if (rc != 0)
			goto syserr;
	}
	if (chmod(path, 0600) != 0 || listen(fd, 64) != 0)
		goto syserr;
	srv = xcalloc(1, sizeof *srv);
	srv->loop = loop;
	srv->fd = fd;
	srv->path = xstrdup(path);
	srv->h = *h;
	if ((srv->acc = net_acceptor_new(
		 loop, fd, server_accept, srv, shed_reply, e)) == NULL) {
		unlink(path);
		close(fd);
		free(srv->path);
		free(srv);
		return NULL;
	}
	return srv;
syserr:
	err_set(e, "control socket %s: %s", path, strerror(errno));
	close(fd);
	return NULL;
}

void
ctl_server_free(struct ctl_server *srv)
{
	if (srv == NULL)
		return;
	/* Best effort: replies already queued (the "stop" reply) go out. */
	while (srv->clients != NULL) {
		client_flush(srv->clients);
		client_free(srv->clients);
	}
	net_acceptor_free(srv->acc);
	close(srv->fd);
	unlink(srv->path);
	free(srv->path);
	free(srv->snap);
	free(srv);
}

/*
 * Make the runtime directory rt ready for our socket. 0, 1 when the place
 * does not apply here (no /run/user/UID), -1 with e set.
 */
static int
prepare_dir(const struct path_rt *rt, struct err *e)
{
	if (rt->need_parent) {
		char *parent = xstrdup(rt->dir), *slash = strrchr(parent, '/');
		struct err sub = {""};
		int r;

		*slash = '\0';
		r = path_dir_private(parent, geteuid(), &sub);
		free(parent);
		if (r != 0)
			return 1;
	}
	return path_mkdir_p(rt->dir, 0700, e);
}

struct ctl_server *
ctl_server_new_default(struct ev_loop *loop, const struct ctl_handlers *h,
    int *busy, struct err *e)
{
	struct path_rt rt[PATH_RT_MAX];
	struct ctl_server *srv = NULL;
	char skipped[ERR_MSG_MAX] = "";
	size_t n, i;

	*busy = 0;
	n = path_runtime_dirs(geteuid(), rt);
	for (i = 0; i < n && srv == NULL && !*busy; i++) {
		char *sock = path_join(rt[i].dir,
		    strcmp(h->role, "server") == 0 ? "server.sock" :
						     "engine.sock");
		struct err sub = {""};
		int r = prepare_dir(&rt[i], &sub);

		if (r == 0)
			srv = ctl_server_new(loop, sock, h, &sub);
		if (srv != NULL) {
			if (skipped[0] != '\0')
				log_warn("control socket: %s; listening on "
					 "%s instead",
				    skipped, sock);
			else
				log_info("control socket %s", sock);
		} else if (r == 0 &&
		    strstr(sub.msg, "another engine") != NULL) {
			/* Ours: two engines may run, one has the socket. */
			*busy = 1;
			err_set(e, "%s", sub.msg);
		} else if (r != 1) {
			size_t len = strlen(skipped);

			snprintf(skipped + len, sizeof skipped - len, "%s%s",
			    len > 0 ? "; " : "", sub.msg);
		}
		free(sock);
	}
	path_runtime_dirs_free(rt, n);
	if (srv == NULL && !*busy)
		err_set(e,
		    "no safe place for the control socket (%s); give "
		    "--control PATH in a directory of yours",
		    skipped[0] != '\0' ? skipped : "no runtime directory");
	return srv;
}

const char *
ctl_server_path(const struct ctl_server *srv)
{
	return srv->path;
}

void
ctl_server_event(struct ctl_server *srv, const char *kind, const char *resolver,
    const char *detail)
{
	struct ctl_client *c, *next;
	json_t *o, *ev;
	char *s;

	srv->stats.events++;
	if (ctl_server_watchers(srv) == 0)
		return;
	ev = json_object();
	json_object_set_new(ev, "at_ms", json_integer(now_wall_ms()));
	json_object_set_new(ev, "kind", json_string(kind));
	if (resolver != NULL)
		json_object_set_new(ev, "resolver", json_string(resolver));
	json_object_set_new(ev, "detail", json_string(detail ? detail : ""));
	o = json_object();
	json_object_set_new(o, "ok", json_true());
	json_object_set_new(o, "schema", json_integer(CTL_SCHEMA));
	json_object_set_new(o, "type", json_string("event"));
	json_object_set_new(o, "event", ev);
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (s == NULL)
		return;
	for (c = srv->clients; c != NULL; c = next) {
		next = c->next;
		if (c->watch_ms != 0 && client_write(c, s, strlen(s)) == 0)
			client_write(c, "\n", 1);
	}
	free(s);
}

const struct ctl_stats *
ctl_server_stats(const struct ctl_server *srv)
{
	return &srv->stats;
}

size_t
ctl_server_clients(const struct ctl_server *srv)
{
	const struct ctl_client *c;
	size_t n = 0;

	for (c = srv->clients; c != NULL; c = c->next)
		n++;
	return n;
}

size_t
ctl_server_watchers(const struct ctl_server *srv)
{
	const struct ctl_client *c;
	size_t n = 0;

	for (c = srv->clients; c != NULL; c = c->next)
		n += c->watch_ms != 0;
	return n;
}

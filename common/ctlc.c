/* SPDX-License-Identifier: MIT */
/*
 * ctlc.c — control protocol client: the lookup of the engine's socket over
 * the places path_runtime_dirs lists, the check that the engine is ours
 * (directory owner and mode, SO_PEERCRED), a line buffer, jansson, and
 * the terminal sanitiser every consumer of socket text shares. No
 * knowledge of what a status contains.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/ctlc.h"
#include "common/path.h"

int
ctlc_open(struct ctlc *c, const char *path, int nonblock, struct err *e)
{
	struct sockaddr_un sun;
	int fd;

	memset(c, 0, sizeof *c);
	c->fd = -1;
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path)
		return err_set(e, "control socket path too long: %s", path);
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return err_set(e, "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) != 0) {
		int saved = errno;

		close(fd);
		if (saved == ENOENT || saved == ECONNREFUSED)
			return err_set(e, "engine not running at %s", path);
		return err_set(
		    e, "cannot connect to %s: %s", path, strerror(saved));
	}
	{
		/*
		 * Whoever could bind this path could be anyone (a planted
		 * directory, a mistyped --control): believe only a process
		 * of ours or root's.
		 */
		struct ucred cred;
		socklen_t clen = sizeof cred;

		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) !=
		    0) {
			close(fd);
			return err_set(
			    e, "%s: SO_PEERCRED: %s", path, strerror(errno));
		}
		if (cred.uid != geteuid() && cred.uid != 0) {
			close(fd);
			return err_set(e,
			    "the process listening on %s runs as uid %lu, "
			    "not %lu: not trusted",
			    path, (unsigned long)cred.uid,
			    (unsigned long)geteuid());
		}
	}
	if (nonblock &&
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) {
		close(fd);
		return err_set(e, "fcntl: %s", strerror(errno));
	}
	c->fd = fd;
	return 0;
}

static const char *
sock_name(const char *role)
{
	return role != NULL && strcmp(role, "server") == 0 ? "server.sock" :
							     "engine.sock";
}

/* Append "; text" (or text) to a fixed buffer, cutting when full. */
static void
note(char *buf, size_t cap, const char *text)
{
	size_t n = strlen(buf);

	if (n + 3 < cap)
		snprintf(buf + n, cap - n, "%s%s", n > 0 ? "; " : "", text);
}

int
ctlc_find(struct ctlc *c, const char *control, const char *role, int nonblock,
    struct ctlc_where *w, struct err *e)
{
	struct path_rt rt[PATH_RT_MAX];
	char looked[400] = "";
	size_t n, i;
	int found = 0;

	memset(w, 0, sizeof *w);
	if (control != NULL) {
		snprintf(w->path, sizeof w->path, "%s", control);
		w->source = "--control";
		return ctlc_open(c, control, nonblock, e);
	}
	n = path_runtime_dirs(geteuid(), rt);
	for (i = 0; i < n && !found; i++) {
		char *sock = path_join(rt[i].dir, sock_name(role));
		struct err sub = {""};
		int r = path_dir_private(rt[i].dir, geteuid(), &sub);

		if (r == 0 && ctlc_open(c, sock, nonblock, &sub) == 0) {
			snprintf(w->path, sizeof w->path, "%s", sock);
			w->source = rt[i].source;
			found = 1;
		} else if (r == 1 || strstr(sub.msg, "not running") != NULL) {
			note(looked, sizeof looked, sock);
		} else {
			/* A directory someone else may have made: not used. */
			if (r < 0)
				err_prefix(&sub, "not trusted");
			note(w->skipped, sizeof w->skipped, sub.msg);
		}
		free(sock);
	}
	path_runtime_dirs_free(rt, n);
	if (found)
		return 0;
	if (w->skipped[0] != '\0')
		return err_set(e,
		    "no trusted engine: %s; nothing running in %s", w->skipped,
		    looked[0] ? looked : "the other places");
	return err_set(e, "engine not running (looked in %s)", looked);
}

char *
ctlc_default_path(const char *role)
{
	struct path_rt rt[PATH_RT_MAX];
	size_t n = path_runtime_dirs(geteuid(), rt);
	char *p = path_join(n > 0 ? rt[0].dir : "/tmp", sock_name(role));

	path_runtime_dirs_free(rt, n);
	return p;
}

void
ctlc_close(struct ctlc *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->buf);
	c->buf = NULL;
	c->len = c->cap = 0;
}

/* Whether the engine left bytes for us to read (without consuming them). */
static int
reply_pending(const struct ctlc *c)
{
	char b;

	return c->len > 0 || recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) == 1;
}

int
ctlc_send(struct ctlc *c, json_t *req, struct err *e)
{
	char *json = json_dumps(req, JSON_COMPACT), *s;
	size_t len, off = 0;

	if (json == NULL)
		return err_set(e, "cannot encode request");
	s = xasprintf("%s\n", json);
	free(json);
	len = strlen(s);
	while (off < len) {
		ssize_t n = send(c->fd, s + off, len - off, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				struct pollfd p = {c->fd, POLLOUT, 0};

				poll(&p, 1, 1000);
				continue;
			}
			/*
			 * An engine that refuses us (peer uid) writes its
			 * reason and closes, maybe before our request: the
			 * reason is still queued, so let ctlc_recv read it
			 * instead of reporting a bare broken pipe.
			 */
			if ((errno == EPIPE || errno == ECONNRESET) &&
			    reply_pending(c)) {
				free(s);
				return 0;
			}
			free(s);
			return err_set(e, "send: %s", strerror(errno));
		}
		off += (size_t)n;
	}
	free(s);
	return 0;
}

/* Take one complete line from the buffer if there is one. */
static int
take_line(struct ctlc *c, json_t **out, struct err *e)
{
	char *nl = c->buf != NULL ? memchr(c->buf, '\n', c->len) : NULL;
	json_error_t je;
	size_t linelen;

	if (nl == NULL)
		return 0;
	linelen = (size_t)(nl - c->buf);
	*out = json_loadb(c->buf, linelen, 0, &je);
	memmove(c->buf, nl + 1, c->len - linelen - 1);
	c->len -= linelen + 1;
	if (*out == NULL)
		return err_set(e, "malformed reply from engine: %s", je.text);
	return 1;
}

int
ctlc_recv(struct ctlc *c, json_t **out, int timeout_ms, struct err *e)
{
	uint64_t deadline =
	    timeout_ms >= 0 ? now_mono_ms() + (uint64_t)timeout_ms : 0;
	int r;

	*out = NULL;
	for (;;) {
		ssize_t n;

		if ((r = take_line(c, out, e)) != 0)
			return r;
		if (c->len >= CTLC_MAX_LINE)
			return err_set(e, "reply line too long");
		if (c->cap - c->len < 65536) {
			c->cap = c->cap ? c->cap * 2 : 131072;
			c->buf = xrealloc(c->buf, c->cap);
		}
		n = recv(c->fd, c->buf + c->len, c->cap - c->len, MSG_DONTWAIT);
		if (n > 0) {
			c->len += (size_t)n;
			continue;
		}
		if (n == 0)
			return err_set(e, "engine closed the connection");
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return err_set(e, "recv: %s", strerror(errno));
		if (timeout_ms == 0)
			return 0;
		{
			struct pollfd p = {c->fd, POLLIN, 0};
			int wait = -1;

			if (timeout_ms > 0) {
				uint64_t now = now_mono_ms();

				if (now >= deadline)
					return 0;
				wait = (int)(deadline - now);
			}
			if (poll(&p, 1, wait) == 0)
				return 0;
		}
	}
}

/* One request on an open connection, its reply, and the close. */
static json_t *
call_on(struct ctlc *cp, const char *cmd, int timeout_ms, struct err *e)
{
	struct ctlc c = *cp;
	json_t *req, *reply = NULL;
	int r;

	req = json_pack("{s:s}", "cmd", cmd);
	if (ctlc_send(&c, req, e) == 0) {
		r = ctlc_recv(&c, &reply, timeout_ms, e);
		if (r == 0)
			err_set(e, "no reply from the engine within %d ms",
			    timeout_ms);
	} else {
		struct err e2;

		/*
		 * An engine that refuses us writes its reason and closes
		 * before our request lands: that reason is the better error.
		 */
		if (ctlc_recv(&c, &reply, 200, &e2) != 1)
			reply = NULL;
	}
	json_decref(req);
	ctlc_close(&c);
	return reply;
}

json_t *
ctlc_call(const char *path, const char *cmd, int timeout_ms, struct err *e)
{
	struct ctlc c;

	if (ctlc_open(&c, path, 0, e) != 0)
		return NULL;
	return call_on(&c, cmd, timeout_ms, e);
}

json_t *
ctlc_call_find(const char *control, const char *role, const char *cmd,
    int timeout_ms, struct ctlc_where *w, struct err *e)
{
	struct ctlc c;

	if (ctlc_find(&c, control, role, 0, w, e) != 0)
		return NULL;
	return call_on(&c, cmd, timeout_ms, e);
}

/* ---- terminal safety --------------------------------------------------- */

int
ctlc_term_next(const char **s, mbstate_t *ps, wchar_t *wc)
{
	size_t n = mbrtowc(wc, *s, MB_CUR_MAX, ps);
	int width;

	if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
		memset(ps, 0, sizeof *ps);
		*wc = L'?';
		*s += 1;
		return 1;
	}
	*s += n;
	width = wcwidth(*wc);
	/* C1 (U+0080..U+009F) includes CSI: some terminals obey it. */
	if (width < 0 || *wc < 0x20 || (*wc >= 0x7f && *wc < 0xa0)) {
		*wc = L'?';
		return 1;
	}
	return width;
}

char *
ctlc_term_safe(const char *s, int keep_newlines)
{
	char *out = xmalloc(strlen(s) + 1), *o = out;
	mbstate_t ps;

	memset(&ps, 0, sizeof ps);
	while (*s != '\0') {
		const char *start = s;
		wchar_t wc;

		if (keep_newlines && *s == '\n') {
			*o++ = *s++;
			continue;
		}
		ctlc_term_next(&s, &ps, &wc);
		/* A kept character keeps its bytes: never longer. */
		if (wc == L'?') {
			*o++ = '?';
		} else {
			memcpy(o, start, (size_t)(s - start));
			o += s - start;
		}
	}
	*o = '\0';
	return out;
}

void
ctlc_term_sanitize(json_t *v)
{
	const char *key;
	json_t *x;
	size_t i;
	char *safe;

	if (json_is_string(v)) {
		safe = ctlc_term_safe(json_string_value(v), 0);
		/* Not UTF-8 in a non-UTF-8 locale: still the safe text. */
		json_string_set_nocheck(v, safe);
		free(safe);
	} else if (json_is_object(v)) {
		json_object_foreach(v, key, x)
		{
			ctlc_term_sanitize(x);
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, x)
		{
			ctlc_term_sanitize(x);
		}
	}
}

const char *
ctlc_answer_age(json_t *o, char *buf, size_t len)
{
	json_t *v = json_object_get(o, "last_valid_answer_age_ms");

	if (!json_is_integer(v))
		return "never";
	snprintf(
	    buf, len, "%.1f s ago", (double)json_integer_value(v) / 1000.0);
	return buf;
}

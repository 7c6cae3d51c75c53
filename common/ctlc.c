/*
 * ctlc.c — control protocol client: a socket, a line buffer, jansson. No
 * knowledge of what a status contains.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/ctlc.h"

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
	if (nonblock &&
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) {
		close(fd);
		return err_set(e, "fcntl: %s", strerror(errno));
	}
	c->fd = fd;
	return 0;
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

json_t *
ctlc_call(const char *path, const char *cmd, int timeout_ms, struct err *e)
{
	struct ctlc c;
	json_t *req, *reply = NULL;
	int r;

	if (ctlc_open(&c, path, 0, e) != 0)
		return NULL;
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

/* SPDX-License-Identifier: MIT */
/*
 * fetch.c — libcurl multi on the ev loop (fetch.h). The glue is the
 * documented multi_socket pattern: CURLMOPT_SOCKETFUNCTION maps curl's
 * interest in a socket to ev_io_add/ev_io_del, CURLMOPT_TIMERFUNCTION to
 * one ev timer, and both ev callbacks call curl_multi_socket_action and
 * then collect finished transfers. curl is never called from inside its
 * own callbacks; a timer of 0 ms is an ev timer of 0 ms, not a direct
 * call. It does not retry, follow redirects, keep cookies or reuse
 * connections.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe/fetch.h"

struct job {
	struct fetch *f;
	CURL *easy;
	fetch_cb *cb;
	void *arg;
	char *buf;
	size_t len, cap, max;
	int too_big;
	uint64_t t0_us;
	char errbuf[CURL_ERROR_SIZE];
	struct job *next, *prev;
};

struct fetch {
	struct ev_loop *loop;
	CURLM *multi;
	uint64_t timer;
	struct job *jobs;
	size_t njobs;
};

static void collect(struct fetch *f);

static void
on_io(struct ev_loop *loop, int fd, int events, void *arg)
{
	struct fetch *f = arg;
	int running, flags = 0;

	(void)loop;
	if (events & EV_READ)
		flags |= CURL_CSELECT_IN;
	if (events & EV_WRITE)
		flags |= CURL_CSELECT_OUT;
	curl_multi_socket_action(f->multi, fd, flags, &running);
	collect(f);
}

static void
on_timer(struct ev_loop *loop, uint64_t id, void *arg)
{
	struct fetch *f = arg;
	int running;

	(void)loop;
	(void)id;
	f->timer = 0;
	curl_multi_socket_action(f->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	collect(f);
}

static int
sock_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct fetch *f = userp;
	int ev = 0;

	(void)easy;
	(void)socketp;
	if (what == CURL_POLL_REMOVE) {
		ev_io_del(f->loop, s);
		return 0;
	}
	if (what & CURL_POLL_IN)
		ev |= EV_READ;
	if (what & CURL_POLL_OUT)
		ev |= EV_WRITE;
	/* A failure here leaves the transfer to its timeout. */
	(void)ev_io_add(f->loop, s, ev, on_io, f, NULL);
	return 0;
}

static int
timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct fetch *f = userp;

	(void)multi;
	if (f->timer != 0)
		ev_timer_cancel(f->loop, f->timer);
	f->timer = 0;
	if (timeout_ms >= 0)
		f->timer = ev_timer_add(
		    f->loop, (uint64_t)timeout_ms * 1000, on_timer, f);
	return 0;
}

static size_t
write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct job *j = userdata;
	size_t n = size * nmemb;

	if (j->len + n > j->max) {
		j->too_big = 1;
		return 0; /* curl stops with CURLE_WRITE_ERROR */
	}
	if (j->len + n > j->cap) {
		j->cap = MAX(j->cap * 2, j->len + n);
		j->buf = xrealloc(j->buf, j->cap);
	}
	memcpy(j->buf + j->len, ptr, n);
	j->len += n;
	return n;
}

static void
job_unlink(struct fetch *f, struct job *j)
{
	if (j->prev)
		j->prev->next = j->next;
	else
		f->jobs = j->next;
	if (j->next)
		j->next->prev = j->prev;
	f->njobs--;
	curl_multi_remove_handle(f->multi, j->easy);
	curl_easy_cleanup(j->easy);
}

static void
info_text(CURL *easy, CURLINFO what, char *out, size_t len)
{
	char *s = NULL;

	if (curl_easy_getinfo(easy, what, &s) == CURLE_OK && s != NULL)
		snprintf(out, len, "%s", s);
	else if (len > 0)
		out[0] = '\0';
}

static void
finish(struct fetch *f, struct job *j, CURLcode code)
{
	struct fetch_result r;

	memset(&r, 0, sizeof r);
	curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &r.status);
	info_text(j->easy, CURLINFO_LOCAL_IP, r.local_ip, sizeof r.local_ip);
	info_text(
	    j->easy, CURLINFO_PRIMARY_IP, r.primary_ip, sizeof r.primary_ip);
	r.total_ms = (int64_t)((now_mono_us() - j->t0_us) / 1000);
	if (code == CURLE_OK) {
		r.done = 1;
		r.body = j->buf ? j->buf : "";
		r.len = j->len;
	} else {
		r.timed_out = code == CURLE_OPERATION_TIMEDOUT;
		if (j->too_big)
			snprintf(r.error, sizeof r.error,
			    "body larger than %zu bytes", j->max);
		else
			snprintf(r.error, sizeof r.error, "%s",
			    j->errbuf[0] ? j->errbuf :
					   curl_easy_strerror(code));
		str_printable(r.error, r.error, sizeof r.error);
	}
	job_unlink(f, j);
	j->cb(j->arg, &r);
	free(j->buf);
	free(j);
}

static void
collect(struct fetch *f)
{
	struct job *j;
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(f->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		j = NULL;
		curl_easy_getinfo(
		    m->easy_handle, CURLINFO_PRIVATE, (char **)&j);
		if (j != NULL)
			finish(f, j, m->data.result);
	}
}

struct fetch *
fetch_new(struct ev_loop *loop, struct err *e)
{
	static int inited;
	struct fetch *f;

	if (!inited) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			err_set(e, "libcurl: global init failed");
			return NULL;
		}
		inited = 1;
	}
	f = xcalloc(1, sizeof *f);
	f->loop = loop;
	if ((f->multi = curl_multi_init()) == NULL) {
		free(f);
		err_set(e, "libcurl: multi init failed");
		return NULL;
	}
	curl_multi_setopt(f->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
	curl_multi_setopt(f->multi, CURLMOPT_SOCKETDATA, f);
	curl_multi_setopt(f->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(f->multi, CURLMOPT_TIMERDATA, f);
	return f;
}

#define SET(opt, val)                                                          \
	do {                                                                   \
		if ((rc = curl_easy_setopt(j->easy, opt, val)) != CURLE_OK)    \
			goto bad;                                              \
	} while (0)

int
fetch_get(struct fetch *f, const struct fetch_req *req, fetch_cb *cb, void *arg,
    struct err *e)
{
	struct job *j;
	CURLcode rc;
	CURLMcode mrc;

	if (strncmp(req->url, "http://", 7) != 0 &&
	    strncmp(req->url, "https://", 8) != 0)
		return err_set(e, "not an http:// or https:// URL");
	j = xcalloc(1, sizeof *j);
	j->f = f;
	j->cb = cb;
	j->arg = arg;
	j->max = req->max_body ? req->max_body : 65536;
	if ((j->easy = curl_easy_init()) == NULL) {
		free(j);
		return err_set(e, "libcurl: easy init failed");
	}
	SET(CURLOPT_URL, req->url);
	SET(CURLOPT_PRIVATE, (char *)j);
	SET(CURLOPT_ERRORBUFFER, j->errbuf);
	SET(CURLOPT_WRITEFUNCTION, write_cb);
	SET(CURLOPT_WRITEDATA, j);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_FORBID_REUSE, 1L);
	SET(CURLOPT_FRESH_CONNECT, 1L);
	SET(CURLOPT_TIMEOUT_MS,
	    (long)(req->timeout_ms > 0 ? req->timeout_ms : 10000));
	SET(CURLOPT_USERAGENT,
	    req->user_agent ? req->user_agent : "mdns-doctor");
	/* "" disables every proxy, including http_proxy from the
	 * environment. */
	SET(CURLOPT_PROXY, req->proxy ? req->proxy : "");
	if (req->proxy != NULL && req->proxy_user != NULL) {
		SET(CURLOPT_PROXYUSERNAME, req->proxy_user);
		SET(CURLOPT_PROXYPASSWORD,
		    req->proxy_pass ? req->proxy_pass : "");
	}
	if (req->family == 4)
		SET(CURLOPT_IPRESOLVE, (long)CURL_IPRESOLVE_V4);
	else if (req->family == 6)
		SET(CURLOPT_IPRESOLVE, (long)CURL_IPRESOLVE_V6);
	j->t0_us = now_mono_us();
	if ((mrc = curl_multi_add_handle(f->multi, j->easy)) != CURLM_OK) {
		curl_easy_cleanup(j->easy);
		free(j);
		return err_set(e, "libcurl: %s", curl_multi_strerror(mrc));
	}
	j->next = f->jobs;
	if (f->jobs)
		f->jobs->prev = j;
	f->jobs = j;
	f->njobs++;
	return 0;
bad:
	curl_easy_cleanup(j->easy);
	free(j);
	return err_set(e, "libcurl: %s", curl_easy_strerror(rc));
}

size_t
fetch_pending(const struct fetch *f)
{
	return f->njobs;
}

void
fetch_free(struct fetch *f)
{
	struct job *j;

	if (f == NULL)
		return;
	while ((j = f->jobs) != NULL) {
		job_unlink(f, j);
		free(j->buf);
		free(j);
	}
	/* curl may still call the socket and timer callbacks while it
	 * cleans up: cancel the timer only after it is done. */
	curl_multi_cleanup(f->multi);
	if (f->timer != 0)
		ev_timer_cancel(f->loop, f->timer);
	free(f);
}

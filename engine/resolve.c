/* SPDX-License-Identifier: MIT */
/*
 * resolve.c — a small getaddrinfo thread pool feeding the event loop (see
 * resolve.h). Jobs wait in a mutex-protected FIFO; a worker takes one,
 * resolves it and writes the job pointer into a pipe; the loop thread reads
 * pointers and runs callbacks. A cancelled job stays owned by the pool
 * until its result comes back, then it is freed without a callback.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/resolve.h"

struct eng_resolve_req {
	struct eng_resolve_req *next;
	struct eng_resolver *r;
	char *host;
	uint16_t port;
	eng_resolve_cb *cb;
	void *arg;
	int cancelled; /* loop thread only */
	/* Written by the worker before the pipe write. */
	int status;
	const char *why;
	union net_addr addrs[ENG_RESOLVE_MAX_ADDRS];
	size_t naddrs;
};

struct eng_resolver {
	struct ev_loop *loop;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct eng_resolve_req *head, *tail;
	int stop;
	pthread_t th[16];
	unsigned nth;
	int pipefd[2];
};

static void
do_lookup(struct eng_resolve_req *q)
{
	struct addrinfo hints, *res = NULL, *ai;
	char port[8];
	int rc;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_ADDRCONFIG;
	snprintf(port, sizeof port, "%u", q->port);
	rc = getaddrinfo(q->host, port, &hints, &res);
	if (rc == EAI_NONAME || rc == EAI_FAIL || rc == EAI_NODATA) {
		/* AI_ADDRCONFIG hides loopback-only names on hosts with no
		 * global address; try once more without it. */
		hints.ai_flags = 0;
		rc = getaddrinfo(q->host, port, &hints, &res);
	}
	if (rc != 0) {
		q->status = -1;
		q->why = rc == EAI_NONAME || rc == EAI_NODATA ? "no such host" :
								"lookup failed";
		return;
	}
	for (ai = res; ai != NULL && q->naddrs < ENG_RESOLVE_MAX_ADDRS;
	     ai = ai->ai_next) {
		if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
		    ai->ai_addrlen > sizeof q->addrs[0])
			continue;
		memset(&q->addrs[q->naddrs], 0, sizeof q->addrs[0]);
		memcpy(&q->addrs[q->naddrs], ai->ai_addr, ai->ai_addrlen);
		q->naddrs++;
	}
	freeaddrinfo(res);
	q->status = q->naddrs ? 0 : -1;
	q->why = q->naddrs ? NULL : "no usable address";
}

static void *
worker(void *arg)
{
	struct eng_resolver *r = arg;
	struct eng_resolve_req *q;
	ssize_t w;

	for (;;) {
		pthread_mutex_lock(&r->mu);
		while (r->head == NULL && !r->stop)
			pthread_cond_wait(&r->cv, &r->mu);
		if (r->stop) {
			pthread_mutex_unlock(&r->mu);
			return NULL;
		}
		q = r->head;
		r->head = q->next;
		if (r->head == NULL)
			r->tail = NULL;
		pthread_mutex_unlock(&r->mu);
		do_lookup(q);
		/* A pointer is far below PIPE_BUF: the write is atomic. */
		do
			w = write(r->pipefd[1], &q, sizeof q);
		while (w == -1 && errno == EINTR);
	}
}

static void
on_pipe(struct ev_loop *loop, int fd, int events, void *arg)
{
	struct eng_resolve_req *q[64];
	ssize_t n;
	size_t i;

	(void)loop;
	(void)events;
	(void)arg;
	while ((n = read(fd, q, sizeof q)) > 0) {
		for (i = 0; i < (size_t)n / sizeof q[0]; i++) {
			if (!q[i]->cancelled)
				q[i]->cb(q[i]->arg, q[i]->status, q[i]->why,
				    q[i]->addrs, q[i]->naddrs);
			free(q[i]->host);
			free(q[i]);
		}
	}
}

struct eng_resolver *
eng_resolver_new(struct ev_loop *loop, unsigned threads, struct err *e)
{
	struct eng_resolver *r = xcalloc(1, sizeof *r);
	unsigned i;

	if (threads < 1)
		threads = 1;
	if (threads > 16)
		threads = 16;
	r->loop = loop;
	if (pipe2(r->pipefd, O_CLOEXEC | O_NONBLOCK) == -1) {
		err_set(e, "resolver pipe: %s", strerror(errno));
		free(r);
		return NULL;
	}
	/* Workers must block on a full pipe rather than lose a result. */
	fcntl(r->pipefd[1], F_SETFL, 0);
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	if (ev_io_add(loop, r->pipefd[0], EV_READ, on_pipe, r, e) == -1) {
		close(r->pipefd[0]);
		close(r->pipefd[1]);
		free(r);
		return NULL;
	}
	for (i = 0; i < threads; i++) {
		if (pthread_create(&r->th[i], NULL, worker, r) != 0)
			break;
		r->nth++;
	}
	if (r->nth == 0) {
		err_set(e, "resolver: cannot start a thread");
		eng_resolver_free(r);
		return NULL;
	}
	return r;
}

void
eng_resolver_free(struct eng_resolver *r)
{
	struct eng_resolve_req *q, *next;
	unsigned i;

	if (r == NULL)
		return;
	pthread_mutex_lock(&r->mu);
	r->stop = 1;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	for (i = 0; i < r->nth; i++)
		pthread_join(r->th[i], NULL);
	for (q = r->head; q != NULL; q = next) {
		next = q->next;
		free(q->host);
		free(q);
	}
	ev_io_del(r->loop, r->pipefd[0]);
	/* Results already in the pipe: free them without callbacks. */
	for (;;) {
		struct eng_resolve_req *p;

		if (read(r->pipefd[0], &p, sizeof p) != (ssize_t)sizeof p)
			break;
		free(p->host);
		free(p);
	}
	close(r->pipefd[0]);
	close(r->pipefd[1]);
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cv);
	free(r);
}

struct eng_resolve_req *
eng_resolve(struct eng_resolver *r, const char *host, uint16_t port,
    eng_resolve_cb *cb, void *arg)
{
	struct eng_resolve_req *q = xcalloc(1, sizeof *q);

	q->r = r;
	q->host = xstrdup(host);
	q->port = port;
	q->cb = cb;
	q->arg = arg;
	pthread_mutex_lock(&r->mu);
	if (r->tail != NULL)
		r->tail->next = q;
	else
		r->head = q;
	r->tail = q;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
	return q;
}

void
eng_resolve_cancel(struct eng_resolve_req *q)
{
	if (q != NULL)
		q->cancelled = 1;
}

/* SPDX-License-Identifier: MIT */
/*
 * http-fixture — "the internet" on loopback for transfer and IP-echo tests:
 * an HTTP/1.1 server on the event loop (non-blocking, many connections,
 * keep-alive and pipelining, Content-Length on every response).
 *
 *   http-fixture [--listen ADDR] [--port N] [--loc CC] [--fake-ip ADDR]
 *                [--max-bytes N]
 *
 *   GET /bytes/N?seed=S  N pseudo-random bytes, streamed (never buffered
 *                        whole), with X-Content-SHA256: their SHA-256.
 *   POST /upload         reads a Content-Length body and answers
 *                        "received N bytes sha256 HEX\n".
 *   GET /ip              the peer address, "127.0.0.1\n"
 *   GET /ip.json         {"ip": "127.0.0.1"}
 *   GET /ip.kv           "ip=127.0.0.1\nloc=XX\n"   (--loc sets XX)
 *   GET /ip.trace        the same in the shape of Cloudflare's
 *                        /cdn-cgi/trace (fl=, h=, ip=, ts=, ... lines)
 *   Wrong answers, for the checks that must survive them:
 *   GET /ip.html         an HTML error page with status 200
 *   GET /ip.word         "hello\n"
 *   GET /ip.garbage      64 bytes of binary
 *   GET /ip.big          the address followed by 8 KiB of spaces
 *   GET /ip.hang         no answer at all (the connection stays open)
 *
 * --fake-ip makes the IP endpoints report that address instead of the peer
 * (to play a tunnel's exit address). With --port 0 it prints "port=N" when
 * ready. N is limited by --max-bytes (default 4 GiB).
 *
 * The body of /bytes is defined so anyone can recompute it: 64-bit word k
 * (k = 0, 1, ...) is mix64(S + (k + 1) * 0x9e3779b97f4a7c15), where mix64 is
 * the splitmix64 finaliser, stored little-endian; the body is the first N
 * bytes of words 0, 1, 2, .... So the body for N is a prefix of the body
 * for any larger N, and any offset can be generated without the bytes
 * before it.
 *
 * The header must carry the SHA-256, so the body is generated twice: once
 * to hash it before the header goes out (about 5 ms per 10 MiB here; it
 * blocks the loop, roughly 2 s for 4 GiB) and once while streaming. The
 * last 16 (N, S) digests are cached. It does not do TLS, chunked bodies,
 * ranges or HEAD.
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/ev.h"
#include "common/net.h"
#include "common/util.h"
#include "tests/tools/httpreq.h"

#define GEN_BUF	  (256 * 1024)
#define SHA_CACHE 16

enum conn_state { ST_HEAD, ST_UPLOAD, ST_WRITE };

struct conn {
	int fd;
	union net_addr peer;
	enum conn_state state;
	char in[HREQ_MAX_HEAD];
	size_t inlen;
	/* response: a small text part, then maybe a generated body */
	char *out;
	size_t outlen, outoff, outcap;
	uint64_t seed, body_off, body_len;
	uint8_t *gbuf;
	size_t gpos, glen;
	int close_after;
	/* upload in progress */
	EVP_MD_CTX *sha;
	uint64_t up_left, up_total;
};

struct fixture {
	struct ev_loop *loop;
	int lfd;
	const char *loc;
	const char *fake_ip;
	uint64_t max_bytes;
	struct {
		uint64_t n, seed;
		char hex[65];
	} cache[SHA_CACHE];
	unsigned cache_next;
	uint64_t requests, connections;
};

static struct fixture fx;

static void conn_process(struct conn *c);

static uint64_t
mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Bytes [off, off + n) of the body for seed. */
static void
gen_fill(uint64_t seed, uint64_t off, uint8_t *buf, size_t n)
{
	uint64_t k = off / 8, w;
	size_t skip = (size_t)(off % 8), i = 0, j;

	while (i < n) {
		w = mix64(seed + (k + 1) * 0x9e3779b97f4a7c15ULL);
		k++;
		if (skip == 0 && n - i >= 8) {
			for (j = 0; j < 8; j++)
				buf[i + j] = (uint8_t)(w >> (8 * j));
			i += 8;
			continue;
		}
		for (j = skip; j < 8 && i < n; j++)
			buf[i++] = (uint8_t)(w >> (8 * j));
		skip = 0;
	}
}

static void
sha_hex(EVP_MD_CTX *ctx, char hex[65])
{
	uint8_t md[32];
	unsigned int mdlen = 0;

	EVP_DigestFinal_ex(ctx, md, &mdlen);
	hex_encode(md, 32, hex);
}

static const char *
body_sha(uint64_t n, uint64_t seed)
{
	static uint8_t *buf;
	EVP_MD_CTX *ctx;
	uint64_t off;
	unsigned i, slot;

	for (i = 0; i < SHA_CACHE; i++)
		if (fx.cache[i].hex[0] && fx.cache[i].n == n &&
		    fx.cache[i].seed == seed)
			return fx.cache[i].hex;
	if (buf == NULL)
		buf = xmalloc(GEN_BUF);
	ctx = EVP_MD_CTX_new();
	if (ctx == NULL || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL))
		abort();
	for (off = 0; off < n; off += GEN_BUF) {
		size_t k = (size_t)MIN((uint64_t)GEN_BUF, n - off);

		gen_fill(seed, off, buf, k);
		EVP_DigestUpdate(ctx, buf, k);
	}
	slot = fx.cache_next++ % SHA_CACHE;
	sha_hex(ctx, fx.cache[slot].hex);
	EVP_MD_CTX_free(ctx);
	fx.cache[slot].n = n;
	fx.cache[slot].seed = seed;
	return fx.cache[slot].hex;
}

static void
out_add(struct conn *c, const char *s, size_t n)
{
	if (c->outlen + n > c->outcap) {
		c->outcap = MAX(c->outcap * 2, c->outlen + n + 256);
		c->out = xrealloc(c->out, c->outcap);
	}
	memcpy(c->out + c->outlen, s, n);
	c->outlen += n;
}

static void __attribute__((format(printf, 2, 3)))
out_printf(struct conn *c, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n > 0)
		out_add(c, buf, MIN((size_t)n, sizeof buf - 1));
}

/* Queue a complete response with a text body. */
static void
respond(struct conn *c, int code, const char *reason, const char *ctype,
    const char *body)
{
	size_t n = strlen(body);

	out_printf(c,
	    "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\nConnection: %s\r\n\r\n",
	    code, reason, ctype, n, c->close_after ? "close" : "keep-alive");
	out_add(c, body, n);
	c->state = ST_WRITE;
}

/* Always returns 0, so callers can "return respond_error(...)". */
static int
respond_error(struct conn *c, int code, const char *reason, const char *why)
{
	char body[256];

	snprintf(body, sizeof body, "%d %s: %s\n", code, reason, why);
	respond(c, code, reason, "text/plain", body);
	return 0;
}

static void
conn_close(struct conn *c)
{
	ev_io_del(fx.loop, c->fd);
	close(c->fd);
	if (c->sha)
		EVP_MD_CTX_free(c->sha);
	free(c->out);
	free(c->gbuf);
	free(c);
}

static int
query_u64(const char *query, const char *key, uint64_t *out)
{
	size_t kl = strlen(key);
	const char *p = query;
	long long v;
	char val[32];
	size_t n;

	while (p && *p) {
		if (strncmp(p, key, kl) == 0 && p[kl] == '=') {
			p += kl + 1;
			n = strcspn(p, "&");
			if (n >= sizeof val)
				return -1;
			memcpy(val, p, n);
			val[n] = '\0';
			if (parse_int(val, 0, INT64_MAX, &v, NULL) < 0)
				return -1;
			*out = (uint64_t)v;
			return 0;
		}
		p = strchr(p, '&');
		if (p)
			p++;
	}
	return 0;
}

static int
route(struct conn *c, const struct hreq *r)
{
	char ip[NET_ADDR_STRLEN], body[256];
	int get = strcmp(r->method, "GET") == 0;
	int post = strcmp(r->method, "POST") == 0;

	fx.requests++;
	/* Only /upload reads a body; for anything else, answer and close
	 * rather than parse the body as the next request. */
	if (r->content_length > 0 && strcmp(r->path, "/upload") != 0)
		c->close_after = 1;
	if (fx.fake_ip != NULL)
		snprintf(ip, sizeof ip, "%s", fx.fake_ip);
	else
		net_addr_format_ip(&c->peer, ip, sizeof ip);
	if (strncmp(r->path, "/bytes/", 7) == 0) {
		long long n;
		uint64_t seed = 0;

		if (!get)
			return respond_error(
			    c, 405, "Method Not Allowed", "use GET");
		if (parse_int(r->path + 7, 0, (long long)fx.max_bytes, &n,
			NULL) < 0 ||
		    query_u64(r->query, "seed", &seed) < 0)
			return respond_error(c, 400, "Bad Request",
			    "want /bytes/N?seed=S within --max-bytes");
		out_printf(c,
		    "HTTP/1.1 200 OK\r\n"
		    "Content-Type: application/octet-stream\r\n"
		    "Content-Length: %lld\r\nX-Content-SHA256: %s\r\n"
		    "Connection: %s\r\n\r\n",
		    n, body_sha((uint64_t)n, seed),
		    c->close_after ? "close" : "keep-alive");
		c->seed = seed;
		c->body_off = 0;
		c->body_len = (uint64_t)n;
		c->state = ST_WRITE;
	} else if (strcmp(r->path, "/upload") == 0) {
		if (!post)
			return respond_error(
			    c, 405, "Method Not Allowed", "use POST");
		if (r->chunked || r->content_length < 0) {
			c->close_after = 1;
			return respond_error(
			    c, 411, "Length Required", "send Content-Length");
		}
		c->sha = EVP_MD_CTX_new();
		if (c->sha == NULL ||
		    !EVP_DigestInit_ex(c->sha, EVP_sha256(), NULL))
			abort();
		c->up_left = c->up_total = (uint64_t)r->content_length;
		c->state = ST_UPLOAD;
		if (r->expect_continue && c->inlen == 0)
			out_printf(c, "HTTP/1.1 100 Continue\r\n\r\n");
	} else if (strcmp(r->path, "/ip") == 0 && get) {
		snprintf(body, sizeof body, "%s\n", ip);
		respond(c, 200, "OK", "text/plain", body);
	} else if (strcmp(r->path, "/ip.json") == 0 && get) {
		snprintf(body, sizeof body, "{\"ip\": \"%s\"}\n", ip);
		respond(c, 200, "OK", "application/json", body);
	} else if (strcmp(r->path, "/ip.kv") == 0 && get) {
		snprintf(body, sizeof body, "ip=%s\nloc=%s\n", ip, fx.loc);
		respond(c, 200, "OK", "text/plain", body);
	} else if (strcmp(r->path, "/ip.trace") == 0 && get) {
		snprintf(body, sizeof body,
		    "fl=1f1\nh=fixture\nip=%s\nts=%lld.000\n"
		    "visit_scheme=http\nuag=fixture\ncolo=TST\nloc=%s\n"
		    "tls=off\nwarp=off\n",
		    ip, (long long)(now_wall_ms() / 1000), fx.loc);
		respond(c, 200, "OK", "text/plain", body);
	} else if (strcmp(r->path, "/ip.html") == 0 && get) {
		respond(c, 200, "OK", "text/html",
		    "<html><body><h1>Rate limited</h1></body></html>\n");
	} else if (strcmp(r->path, "/ip.word") == 0 && get) {
		respond(c, 200, "OK", "text/plain", "hello\n");
	} else if (strcmp(r->path, "/ip.garbage") == 0 && get) {
		uint8_t g[64];

		gen_fill(0x5eed, 0, g, sizeof g);
		out_printf(c,
		    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
		    "Content-Length: %zu\r\nConnection: close\r\n\r\n",
		    sizeof g);
		out_add(c, (const char *)g, sizeof g);
		c->close_after = 1;
		c->state = ST_WRITE;
	} else if (strcmp(r->path, "/ip.big") == 0 && get) {
		char *big = xmalloc(8192 + sizeof body);

		snprintf(big, 8192 + sizeof body, "%s%*s\n", ip, 8192, "");
		respond(c, 200, "OK", "text/plain", big);
		free(big);
	} else if (strcmp(r->path, "/ip.hang") == 0 && get) {
		/* Say nothing: the client's timeout must end it. */
	} else if (strncmp(r->path, "/ip", 3) == 0 && !get) {
		respond_error(c, 405, "Method Not Allowed", "use GET");
	} else {
		respond_error(c, 404, "Not Found", r->path);
	}
	return 0;
}

static void
upload_take(struct conn *c)
{
	size_t n = (size_t)MIN((uint64_t)c->inlen, c->up_left);
	char hex[65], body[160];

	EVP_DigestUpdate(c->sha, c->in, n);
	memmove(c->in, c->in + n, c->inlen - n);
	c->inlen -= n;
	c->up_left -= n;
	if (c->up_left > 0)
		return;
	sha_hex(c->sha, hex);
	EVP_MD_CTX_free(c->sha);
	c->sha = NULL;
	snprintf(body, sizeof body, "received %llu bytes sha256 %s\n",
	    (unsigned long long)c->up_total, hex);
	respond(c, 200, "OK", "text/plain", body);
}

/* Write what is queued; returns 1 when the response is complete. */
static int
conn_flush(struct conn *c)
{
	ssize_t k;

	for (;;) {
		if (c->outoff < c->outlen) {
			k = write(
			    c->fd, c->out + c->outoff, c->outlen - c->outoff);
			if (k < 0)
				return errno == EAGAIN || errno == EINTR ? 0 :
									   -1;
			c->outoff += (size_t)k;
			continue;
		}
		c->outoff = c->outlen = 0;
		if (c->state != ST_WRITE)
			return 1; /* only a 100 Continue was queued */
		if (c->gpos < c->glen) {
			k = write(c->fd, c->gbuf + c->gpos, c->glen - c->gpos);
			if (k < 0)
				return errno == EAGAIN || errno == EINTR ? 0 :
									   -1;
			c->gpos += (size_t)k;
			continue;
		}
		if (c->body_off < c->body_len) {
			if (c->gbuf == NULL)
				c->gbuf = xmalloc(GEN_BUF);
			c->glen = (size_t)MIN(
			    (uint64_t)GEN_BUF, c->body_len - c->body_off);
			gen_fill(c->seed, c->body_off, c->gbuf, c->glen);
			c->body_off += c->glen;
			c->gpos = 0;
			continue;
		}
		return 1;
	}
}

static void
on_conn(struct ev_loop *loop, int fd, int events, void *arg)
{
	struct conn *c = arg;
	ssize_t k;
	int r;

	(void)loop;
	if (c->state == ST_WRITE || c->outlen > 0) {
		r = conn_flush(c);
		if (r < 0) {
			conn_close(c);
			return;
		}
		if (r == 0) {
			ev_io_set(fx.loop, fd, EV_WRITE);
			return;
		}
		if (c->state == ST_WRITE) {
			if (c->close_after) {
				conn_close(c);
				return;
			}
			free(c->gbuf);
			c->gbuf = NULL;
			c->body_off = c->body_len = 0;
			c->gpos = c->glen = 0;
			c->state = ST_HEAD;
		}
		ev_io_set(fx.loop, fd, EV_READ);
		/* Requests pipelined behind the one just answered. */
		conn_process(c);
		if (c->state == ST_WRITE)
			return;
	}
	if (!(events & EV_READ) && c->state != ST_UPLOAD)
		return;
	k = read(fd, c->in + c->inlen, sizeof c->in - c->inlen);
	if (k == 0 || (k < 0 && errno != EAGAIN && errno != EINTR)) {
		conn_close(c);
		return;
	}
	if (k > 0)
		c->inlen += (size_t)k;
	conn_process(c);
}

/* Act on buffered input; may queue a response and switch to writing. */
static void
conn_process(struct conn *c)
{
	struct hreq req;
	struct err e = {""};
	long head;

	for (;;) {
		if (c->state == ST_UPLOAD) {
			upload_take(c);
			if (c->state == ST_UPLOAD) {
				if (c->outlen > 0)
					ev_io_set(fx.loop, c->fd, EV_WRITE);
				return;
			}
		}
		if (c->state == ST_WRITE) {
			ev_io_set(fx.loop, c->fd, EV_WRITE);
			return;
		}
		if (c->inlen == 0)
			return;
		head = hreq_parse(c->in, c->inlen, &req, &e);
		if (head == 0)
			return;
		if (head < 0) {
			c->close_after = 1;
			c->inlen = 0;
			(void)respond_error(c, 400, "Bad Request", e.msg);
			continue;
		}
		memmove(c->in, c->in + head, c->inlen - (size_t)head);
		c->inlen -= (size_t)head;
		c->close_after =
		    req.conn_close || (req.minor == 0 && !req.conn_keep_alive);
		(void)route(c, &req);
	}
}

static void
on_accept(struct ev_loop *loop, int fd, int events, void *arg)
{
	struct err e = {""};
	struct conn *c;
	union net_addr peer;
	socklen_t pl;
	int cfd, one = 1;

	(void)events;
	(void)arg;
	for (;;) {
		pl = sizeof peer;
		cfd = accept4(fd, &peer.sa, &pl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0)
			return;
		(void)setsockopt(
		    cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		c = xcalloc(1, sizeof *c);
		c->fd = cfd;
		c->peer = peer;
		if (ev_io_add(loop, cfd, EV_READ, on_conn, c, &e) < 0) {
			fprintf(stderr, "http-fixture: %s\n", e.msg);
			close(cfd);
			free(c);
			continue;
		}
		fx.connections++;
	}
}

static void
on_signal(struct ev_loop *loop, int signo, void *arg)
{
	(void)signo;
	(void)arg;
	ev_stop(loop);
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: http-fixture [--listen ADDR] [--port N] "
	    "[--loc CC] [--fake-ip ADDR] [--max-bytes N]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"listen", required_argument, NULL, 'l'},
	    {"port", required_argument, NULL, 'p'},
	    {"loc", required_argument, NULL, 'c'},
	    {"fake-ip", required_argument, NULL, 'f'},
	    {"max-bytes", required_argument, NULL, 'm'},
	    {NULL, 0, NULL, 0},
	};
	struct err e = {""};
	union net_addr a;
	const char *listen_s = "127.0.0.1";
	long long port = 0, v;
	int c;

	fx.loc = "XX";
	fx.max_bytes = 4ULL << 30;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			listen_s = optarg;
			break;
		case 'p':
			if (parse_int(optarg, 0, 65535, &port, &e) < 0)
				usage();
			break;
		case 'c':
			fx.loc = optarg;
			break;
		case 'f':
			fx.fake_ip = optarg;
			break;
		case 'm':
			if (parse_int(optarg, 0, INT64_MAX, &v, &e) < 0)
				usage();
			fx.max_bytes = (uint64_t)v;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	signal(SIGPIPE, SIG_IGN);
	if (net_addr_parse(listen_s, (uint16_t)port, &a, &e) < 0 ||
	    (fx.loop = ev_loop_new(&e)) == NULL ||
	    (fx.lfd = net_tcp_listen(&a, 512, &e)) < 0 ||
	    net_local_addr(fx.lfd, &a, &e) < 0 ||
	    ev_io_add(fx.loop, fx.lfd, EV_READ, on_accept, NULL, &e) < 0 ||
	    ev_signal_add(fx.loop, SIGTERM, on_signal, NULL, &e) < 0 ||
	    ev_signal_add(fx.loop, SIGINT, on_signal, NULL, &e) < 0) {
		fprintf(stderr, "http-fixture: %s\n", e.msg);
		return 2;
	}
	printf("port=%u\n", net_addr_port(&a));
	fflush(stdout);
	if (ev_run(fx.loop) < 0)
		return 1;
	printf("{\"connections\":%llu,\"requests\":%llu}\n",
	    (unsigned long long)fx.connections,
	    (unsigned long long)fx.requests);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * resolvers.c — streaming resolver list reader (see resolvers.h). Lines
 * are read one at a time from a file or a memory buffer; a prefix line
 * becomes an iterator that yields its hosts lazily; a set of 18-byte keys
 * (16-byte address, IPv4 as ::ffff:a.b.c.d, plus the port) indexed by the
 * hash table of common/hmap.h removes duplicates, so memory grows with
 * distinct addresses only.
 *
 * It does not resolve host names (a name is a bad line), does not accept
 * IPv6 zone ids, and does not sort: list order is kept.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hmap.h"
#include "common/resolvers.h"

#define RL_KEY	    18
#define RL_MAX_LINE 4096

struct rl_set {
	uint8_t (*keys)[RL_KEY]; /* the n distinct keys, in order seen */
	size_t n, cap;
	struct hmap index; /* hmap_hash_bytes(key) -> index into keys */
};

struct rl_reader {
	char *name;
	FILE *f;	 /* file mode */
	const char *buf; /* memory mode */
	size_t len, pos;
	char *line; /* getline buffer */
	size_t linecap;
	struct rl_opts opts;
	struct rl_stats st;
	struct rl_set set;
	char first_error[ERR_MSG_MAX];
	/* Expansion of the current prefix line. */
	uint8_t cur[16]; /* next address, big-endian */
	int cur_v4;
	uint16_t cur_port;
	uint64_t remaining;
};

/* Set membership. */

/* Insert k; returns 1 when new, 0 when already present. */
static int
set_add(struct rl_set *s, const uint8_t *k)
{
	uint64_t h = hmap_hash_bytes(k, RL_KEY);
	struct hmap_it it;
	uint32_t v;

	for (v = hmap_find(&s->index, h, &it); v != HMAP_NONE;
	     v = hmap_find_next(&s->index, &it))
		if (memcmp(s->keys[v], k, RL_KEY) == 0)
			return 0;
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 1024;
		s->keys = xreallocarray(s->keys, s->cap, RL_KEY);
	}
	memcpy(s->keys[s->n], k, RL_KEY);
	hmap_put(&s->index, h, (uint32_t)s->n);
	s->n++;
	return 1;
}

/* Parsing. */

static int
parse_uint(const char *s, size_t n, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;
	size_t i;

	if (n == 0 || n > 6)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

static int
parse_port(const char *s, size_t n, uint16_t *port, struct err *e)
{
	unsigned long v;
	char tmp[64];

	if (parse_uint(s, n, 65535, &v) == -1 || v == 0) {
		snprintf(tmp, sizeof tmp, "%.*s", (int)MIN(n, 40), s);
		str_printable(tmp, tmp, sizeof tmp);
		return err_set(e, "bad port: %s", tmp);
	}
	*port = (uint16_t)v;
	return 0;
}

/* A numeric IPv4 or IPv6 address of n bytes at s. */
static int
parse_ip(const char *s, size_t n, union net_addr *a, struct err *e)
{
	char tmp[INET6_ADDRSTRLEN + 8], shown[80];

	memset(a, 0, sizeof *a);
	if (n > 0 && n < sizeof tmp) {
		memcpy(tmp, s, n);
		tmp[n] = '\0';
		if (inet_pton(AF_INET, tmp, &a->in.sin_addr) == 1) {
			a->in.sin_family = AF_INET;
			return 0;
		}
		if (inet_pton(AF_INET6, tmp, &a->in6.sin6_addr) == 1) {
			a->in6.sin6_family = AF_INET6;
			return 0;
		}
	}
	snprintf(shown, sizeof shown, "%.*s", (int)MIN(n, 60), s);
	str_printable(shown, shown, sizeof shown);
	return err_set(e, "bad address: %s", shown);
}

/* IPv4-mapped IPv6 becomes plain IPv4 (as the upstream client does). */
static void
unmap(union net_addr *a)
{
	static const uint8_t mapped[12] = {
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	struct in_addr v4;

	if (a->sa.sa_family != AF_INET6 ||
	    memcmp(a->in6.sin6_addr.s6_addr, mapped, 12) != 0)
		return;
	memcpy(&v4, a->in6.sin6_addr.s6_addr + 12, 4);
	memset(a, 0, sizeof *a);
	a->in.sin_family = AF_INET;
	a->in.sin_addr = v4;
}

/* host (address or address/len) of n bytes, already split from port. */
static int
parse_host(const char *s, size_t n, struct rl_entry *out, struct err *e)
{
	const char *slash = memchr(s, '/', n);
	unsigned long plen;
	uint8_t *b;
	int bits, i;

	out->prefix_len = -1;
	if (slash == NULL) {
		if (parse_ip(s, n, &out->addr, e) == -1)
			return -1;
		unmap(&out->addr);
		return 0;
	}
	if (parse_ip(s, (size_t)(slash - s), &out->addr, e) == -1)
		return -1;
	bits = out->addr.sa.sa_family == AF_INET ? 32 : 128;
	if (parse_uint(slash + 1, n - (size_t)(slash - s) - 1,
		(unsigned long)bits, &plen) == -1) {
		char shown[64];

		snprintf(shown, sizeof shown, "%.*s",
		    (int)MIN(n - (size_t)(slash - s) - 1, 40), slash + 1);
		str_printable(shown, shown, sizeof shown);
		return err_set(e, "bad prefix length /%s (0..%d)", shown, bits);
	}
	out->prefix_len = (int)plen;
	/* Clear host bits: "192.0.2.7/24" means 192.0.2.0/24. */
	b = out->addr.sa.sa_family == AF_INET ?
	    (uint8_t *)&out->addr.in.sin_addr :
	    out->addr.in6.sin6_addr.s6_addr;
	for (i = 0; i < bits / 8; i++) {
		int keep = (int)plen - i * 8;

		if (keep <= 0)
			b[i] = 0;
		else if (keep < 8)
			b[i] &= (uint8_t)(0xff << (8 - keep));
	}
	return 0;
}

void
rl_format_entry(const char *ip, uint16_t port, char *buf, size_t len)
{
	/* An IPv6 address always takes brackets and its port, so that a
	 * reader never takes its last group for a port. */
	if (strchr(ip, ':') != NULL)
		snprintf(buf, len, "[%s]:%u", ip, port);
	else if (port != RL_DEFAULT_PORT)
		snprintf(buf, len, "%s:%u", ip, port);
	else
		snprintf(buf, len, "%s", ip);
}

int
rl_parse_entry(const char *text, uint16_t default_port, struct rl_entry *out,
    struct err *e)
{
	size_t n = strlen(text);
	const char *colon, *slash;

	memset(out, 0, sizeof *out);
	out->port = default_port ? default_port : RL_DEFAULT_PORT;
	if (n == 0)
		return err_set(e, "empty entry");
	if (text[0] == '[') {
		const char *end = strchr(text, ']');

		if (end == NULL)
			return err_set(e, "missing ']'");
		if (end[1] != '\0') {
			if (end[1] != ':')
				return err_set(e, "expected ':PORT' after ']'");
			if (parse_port(
				end + 2, strlen(end + 2), &out->port, e) == -1)
				return -1;
		}
		if (parse_host(text + 1, (size_t)(end - text - 1), out, e) ==
		    -1)
			return -1;
	} else if ((slash = strchr(text, '/')) != NULL) {
		/* CIDR or CIDR:PORT; the length never contains ':'. */
		colon = strchr(slash, ':');
		if (colon != NULL &&
		    parse_port(colon + 1, strlen(colon + 1), &out->port, e) ==
			-1)
			return -1;
		if (parse_host(
			text, colon ? (size_t)(colon - text) : n, out, e) == -1)
			return -1;
	} else if (parse_host(text, n, out, e) == 0) {
		/* A bare address, IPv4 or IPv6. */
	} else if ((colon = strrchr(text, ':')) != NULL &&
	    memchr(text, ':', (size_t)(colon - text)) == NULL) {
		if (parse_host(text, (size_t)(colon - text), out, e) == -1)
			return -1;
		if (parse_port(colon + 1, strlen(colon + 1), &out->port, e) ==
		    -1)
			return -1;
	} else {
		char shown[80];

		str_printable(text, shown, sizeof shown);
		if (colon != NULL)
			return err_set(e,
			    "bad address: %s (an IPv6 address "
			    "with a port needs brackets: [ADDR]:PORT)",
			    shown);
		return err_set(e, "bad address: %s", shown);
	}
	net_addr_set_port(&out->addr, out->port);
	return 0;
}

/* Reader. */

static int
open_common(
    const char *name, const struct rl_opts *opts, struct rl_reader **out)
{
	struct rl_reader *r = xcalloc(1, sizeof *r);

	r->name = xstrdup(name);
	if (opts != NULL)
		r->opts = *opts;
	if (r->opts.default_port == 0)
		r->opts.default_port = RL_DEFAULT_PORT;
	if (r->opts.prefix_cap == 0)
		r->opts.prefix_cap = RL_PREFIX_CAP;
	*out = r;
	return 0;
}

int
rl_open(const char *path, const struct rl_opts *opts, struct rl_reader **out,
    struct err *e)
{
	FILE *f;

	*out = NULL;
	if ((f = fopen(path, "r")) == NULL)
		return err_set(e, "%s: %s", path, strerror(errno));
	open_common(path, opts, out);
	(*out)->f = f;
	return 0;
}

int
rl_open_mem(const char *name, const char *buf, size_t len,
    const struct rl_opts *opts, struct rl_reader **out, struct err *e)
{
	open_common(name, opts, out);
	(*out)->buf = buf;
	(*out)->len = len;
	return 0;
}

/*
 * The next raw line (without its newline) into r->line. Returns its
 * length, -1 at the end, -2 on a read error.
 */
static ssize_t
read_line(struct rl_reader *r)
{
	ssize_t n;

	if (r->f != NULL) {
		errno = 0;
		n = getline(&r->line, &r->linecap, r->f);
		if (n < 0)
			return ferror(r->f) ? -2 : -1;
		if (n > 0 && r->line[n - 1] == '\n')
			r->line[--n] = '\0';
		return n;
	} else {
		const char *p, *nl;
		size_t len;

		if (r->pos >= r->len)
			return -1;
		p = r->buf + r->pos;
		nl = memchr(p, '\n', r->len - r->pos);
		len = nl ? (size_t)(nl - p) : r->len - r->pos;
		r->pos += len + (nl ? 1 : 0);
		if (len + 1 > r->linecap) {
			r->linecap = len + 1;
			r->line = xrealloc(r->line, r->linecap);
		}
		memcpy(r->line, p, len);
		r->line[len] = '\0';
		return (ssize_t)len;
	}
}

/* Bounded copy that always terminates (messages may be cut). */
static void
copy_str(char *dst, const char *src, size_t cap)
{
	size_t n = strlen(src);

	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void
report(struct rl_reader *r, int warning, const char *msg)
{
	if (warning) {
		if (r->opts.on_warning != NULL)
			r->opts.on_warning(r->opts.arg, msg);
		return;
	}
	if (r->first_error[0] == '\0')
		copy_str(r->first_error, msg, sizeof r->first_error);
	if (r->opts.on_error != NULL)
		r->opts.on_error(r->opts.arg, msg);
}

/* Make the 18-byte set key of an address. */
static void
make_key(const union net_addr *a, uint8_t *k)
{
	memset(k, 0, RL_KEY);
	if (a->sa.sa_family == AF_INET) {
		k[10] = k[11] = 0xff;
		memcpy(k + 12, &a->in.sin_addr, 4);
		memcpy(k + 16, &a->in.sin_port, 2);
	} else {
		memcpy(k, a->in6.sin6_addr.s6_addr, 16);
		memcpy(k + 16, &a->in6.sin6_port, 2);
	}
}

/* Big-endian add of v to the 16-byte number b (last nbytes bytes). */
static void
be_add(uint8_t *b, size_t nbytes, uint64_t v)
{
	size_t i;

	for (i = nbytes; i-- > 0 && v != 0;) {
		uint64_t s = (uint64_t)b[i] + (v & 0xff);

		b[i] = (uint8_t)s;
		v = (v >> 8) + (s >> 8);
	}
}

/* Set up the expansion of a prefix entry; may report a cap warning. */
static void
start_prefix(struct rl_reader *r, const struct rl_entry *ent)
{
	int v4 = ent->addr.sa.sa_family == AF_INET;
	int bits = v4 ? 32 : 128, host = bits - ent->prefix_len;
	uint64_t usable, skip = 0;

	memset(r->cur, 0, sizeof r->cur);
	if (v4)
		memcpy(r->cur + 12, &ent->addr.in.sin_addr, 4);
	else
		memcpy(r->cur, ent->addr.in6.sin6_addr.s6_addr, 16);
	r->cur_v4 = v4;
	r->cur_port = ent->port;
	/* Upstream skips network/broadcast (v4) and the anycast (v6). */
	if (host >= 64) {
		usable = UINT64_MAX;
		skip = 1;
	} else {
		usable = (uint64_t)1 << host;
		if (v4 && host > 1) {
			usable -= 2;
			skip = 1;
		} else if (!v4 && host > 1) {
			usable -= 1;
			skip = 1;
		}
	}
	be_add(r->cur, 16, skip);
	if (usable > r->opts.prefix_cap) {
		char net[INET6_ADDRSTRLEN], total[32], msg[ERR_MSG_MAX];

		inet_ntop(v4 ? AF_INET : AF_INET6,
		    v4 ? (const void *)&ent->addr.in.sin_addr :
			 (const void *)&ent->addr.in6.sin6_addr,
		    net, sizeof net);
		if (host >= 64)
			snprintf(total, sizeof total, "2^%d", host);
		else
			snprintf(total, sizeof total, "%llu",
			    (unsigned long long)((uint64_t)1 << host));
		snprintf(msg, sizeof msg,
		    "%s:%llu: %s/%d has %s addresses, "
		    "capped to %lu",
		    r->name, (unsigned long long)r->st.lines, net,
		    ent->prefix_len, total, (unsigned long)r->opts.prefix_cap);
		r->st.capped++;
		report(r, 1, msg);
		usable = r->opts.prefix_cap;
	}
	r->remaining = usable;
}

/* Produce the next address of the current prefix. */
static void
take_prefix_addr(struct rl_reader *r, union net_addr *a)
{
	memset(a, 0, sizeof *a);
	if (r->cur_v4) {
		a->in.sin_family = AF_INET;
		memcpy(&a->in.sin_addr, r->cur + 12, 4);
		a->in.sin_port = htons(r->cur_port);
	} else {
		a->in6.sin6_family = AF_INET6;
		memcpy(a->in6.sin6_addr.s6_addr, r->cur, 16);
		a->in6.sin6_port = htons(r->cur_port);
	}
	be_add(r->cur, 16, 1);
	r->remaining--;
}

/* Offer a to the caller unless seen; 1 when new. */
static int
offer(struct rl_reader *r, const union net_addr *a)
{
	uint8_t k[RL_KEY];

	make_key(a, k);
	if (!set_add(&r->set, k)) {
		r->st.duplicates++;
		return 0;
	}
	r->st.addresses++;
	return 1;
}

int
rl_next(struct rl_reader *r, union net_addr *addr, struct err *e)
{
	for (;;) {
		struct rl_entry ent;
		struct err pe;
		char *text, *hash, msg[2 * ERR_MSG_MAX];
		ssize_t n;

		if (r->remaining > 0) {
			take_prefix_addr(r, addr);
			if (offer(r, addr))
				return 1;
			continue;
		}
		n = read_line(r);
		if (n == -1)
			return 0;
		if (n == -2)
			return err_set(
			    e, "%s: read error: %s", r->name, strerror(errno));
		r->st.lines++;
		if (memchr(r->line, '\0', (size_t)n) != NULL) {
			r->st.entries++;
			snprintf(pe.msg, sizeof pe.msg, "NUL byte in line");
			goto bad;
		}
		if ((hash = strchr(r->line, '#')) != NULL)
			*hash = '\0';
		text = str_trim(r->line);
		if (*text == '\0')
			continue;
		r->st.entries++;
		if (strlen(text) > RL_MAX_LINE) {
			snprintf(pe.msg, sizeof pe.msg,
			    "line longer than %d "
			    "bytes",
			    RL_MAX_LINE);
			goto bad;
		}
		if (strpbrk(text, " \t") != NULL) {
			char shown[80];

			str_printable(text, shown, sizeof shown);
			err_set(&pe, "one entry per line expected: %s", shown);
			goto bad;
		}
		if (rl_parse_entry(text, r->opts.default_port, &ent, &pe) == -1)
			goto bad;
		if (ent.prefix_len < 0) {
			*addr = ent.addr;
			if (offer(r, addr))
				return 1;
			continue;
		}
		start_prefix(r, &ent);
		continue;
bad:
		r->st.bad_lines++;
		snprintf(msg, sizeof msg, "%s:%llu: %s", r->name,
		    (unsigned long long)r->st.lines, pe.msg);
		report(r, 0, msg);
		if (r->opts.strict)
			return err_set(e, "%s", msg);
	}
}

const struct rl_stats *
rl_stats(const struct rl_reader *r)
{
	return &r->st;
}

const char *
rl_first_error(const struct rl_reader *r)
{
	return r->first_error;
}

void
rl_close(struct rl_reader *r)
{
	if (r == NULL)
		return;
	if (r->f != NULL)
		fclose(r->f);
	free(r->line);
	free(r->set.keys);
	hmap_free(&r->set.index);
	free(r->name);
	free(r);
}

int
rl_count(const char *path, const struct rl_opts *opts, uint64_t *count,
    struct rl_stats *stats, struct err *e)
{
	struct rl_reader *r;
	union net_addr a;
	int rc;

	*count = 0;
	if (rl_open(path, opts, &r, e) == -1)
		return -1;
	while ((rc = rl_next(r, &a, e)) == 1)
		;
	*count = r->st.addresses;
	if (stats != NULL)
		*stats = r->st;
	rl_close(r);
	return rc == -1 ? -1 : 0;
}

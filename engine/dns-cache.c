/* SPDX-License-Identifier: MIT */
/*
 * dns-cache.c — the DNS answer cache of DNS through the tunnel (semantics
 * in dns-cache.h and docs/dns-tunnel.md): one hash table for lookups, 32
 * LRU lists for upstream's sharded eviction, and upstream's "DNSC" v1
 * persistence file.
 *
 * It keeps answers as bytes and never looks inside them beyond the
 * header (no TTL arithmetic, no record parsing). Persistence is a whole
 * file read or written at once: callers choose when (upstream flushes
 * every LOCAL_DNS_CACHE_FLUSH_INTERVAL_SECONDS and at exit).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/path.h"
#include "engine/dns-cache.h"
#include "proto/dns.h"

#define SEC_US	    1000000LL
#define FILE_MAGIC  0x444e5343u /* "DNSC" */
#define FILE_VER    1
#define FILE_MAXLEN (256u << 20)
/* Entry head in the file before the key: key length. */

struct ce {
	struct ce *hnext;
	struct ce *prev, *next; /* shard LRU: head = least recently used */
	uint32_t hash;
	uint8_t pending;
	uint16_t keylen;
	int64_t created, last_used, last_dispatch;
	uint8_t *resp;
	size_t resp_len;
	uint8_t key[];
};

struct shard {
	struct ce *head, *tail;
	size_t n;
};

struct dnscache {
	struct dnscache_cfg cfg;
	struct dnscache_stats st;
	size_t shard_cap;
	struct ce **b;
	size_t mask;
	size_t n, npending;
	struct shard sh[DNSCACHE_SHARDS];
	uint64_t dirty;
};

void
dnscache_cfg_client(struct dnscache_cfg *c)
{
	c->max_records = 10000;
	c->ttl_us = 14400ULL * SEC_US;
	c->pending_timeout_us = 300ULL * SEC_US;
}

void
dnscache_cfg_server(struct dnscache_cfg *c)
{
	c->max_records = 50000;
	c->ttl_us = 300ULL * SEC_US;
	c->pending_timeout_us = 300ULL * SEC_US;
}

struct dnscache *
dnscache_new(const struct dnscache_cfg *cfg)
{
	struct dnscache *c = xcalloc(1, sizeof *c);
	size_t nb = 64, want;

	c->cfg = *cfg;
	if (c->cfg.max_records < 1)
		c->cfg.max_records = 1;
	if (c->cfg.ttl_us == 0)
		c->cfg.ttl_us = 3600ULL * SEC_US;
	if (c->cfg.pending_timeout_us == 0)
		c->cfg.pending_timeout_us = 30ULL * SEC_US;
	c->shard_cap = MAX(c->cfg.max_records / DNSCACHE_SHARDS, 1);
	want = MIN(c->shard_cap * DNSCACHE_SHARDS, (size_t)1 << 20);
	while (nb < want)
		nb <<= 1;
	c->b = xcalloc(nb, sizeof *c->b);
	c->mask = nb - 1;
	return c;
}

static struct ce *
find(struct dnscache *c, const uint8_t *key, size_t klen, uint32_t h)
{
	struct ce *e;

	for (e = c->b[h & c->mask]; e != NULL; e = e->hnext)
		if (e->hash == h && e->keylen == klen &&
		    memcmp(e->key, key, klen) == 0)
			return e;
	return NULL;
}

static void
lru_unlink(struct dnscache *c, struct ce *e)
{
	struct shard *s = &c->sh[e->hash & (DNSCACHE_SHARDS - 1)];

	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		s->head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		s->tail = e->prev;
	e->prev = e->next = NULL;
}

static void
lru_push_back(struct dnscache *c, struct ce *e)
{
	struct shard *s = &c->sh[e->hash & (DNSCACHE_SHARDS - 1)];

	e->prev = s->tail;
	e->next = NULL;
	if (s->tail != NULL)
		s->tail->next = e;
	else
		s->head = e;
	s->tail = e;
}

static void
move_back(struct dnscache *c, struct ce *e)
{
	lru_unlink(c, e);
	lru_push_back(c, e);
}

static void
entry_remove(struct dnscache *c, struct ce *e)
{
	struct ce **pp = &c->b[e->hash & c->mask];

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	lru_unlink(c, e);
	c->sh[e->hash & (DNSCACHE_SHARDS - 1)].n--;
	c->n--;
	if (e->pending)
		c->npending--;
	c->dirty++;
	free(e->resp);
	free(e);
}

/* Upstream evictIfNeededLocked: the shard's least recently used go. */
static void
evict(struct dnscache *c, struct shard *s)
{
	while (s->n > c->shard_cap && s->head != NULL) {
		entry_remove(c, s->head);
		c->st.evicted++;
	}
}

static struct ce *
entry_add(struct dnscache *c, const uint8_t *key, size_t klen, uint32_t h)
{
	struct ce *e = xcalloc(1, sizeof *e + klen);

	memcpy(e->key, key, klen);
	e->keylen = (uint16_t)klen;
	e->hash = h;
	e->hnext = c->b[h & c->mask];
	c->b[h & c->mask] = e;
	lru_push_back(c, e);
	c->sh[h & (DNSCACHE_SHARDS - 1)].n++;
	c->n++;
	c->dirty++;
	return e;
}

static int
expired(const struct dnscache *c, const struct ce *e, int64_t now)
{
	return !e->pending && now - e->last_used >= (int64_t)c->cfg.ttl_us;
}

static void
touch(struct dnscache *c, struct ce *e, int64_t now)
{
	if (now - e->last_used >= SEC_US)
		c->dirty++;
	e->last_used = now;
}

/*
 * The live entry for q, an expired one being removed first; key, its
 * length and hash for a caller that goes on to create it.
 */
static struct ce *
live(struct dnscache *c, const struct dnstun_question *q, int64_t now,
    uint8_t *key, size_t *klen, uint32_t *h)
{
	struct ce *e;

	*klen = dnstun_key(q, key);
	*h = dnstun_key_hash(key, *klen);
	e = find(c, key, *klen, *h);
	if (e != NULL && expired(c, e, now)) {
		entry_remove(c, e);
		c->st.expired++;
		e = NULL;
	}
	if (e != NULL) {
		touch(c, e, now);
		move_back(c, e);
	}
	return e;
}

/* A ready entry's answer for query, counted as a hit or (no room) miss. */
static enum dnscache_res
hit(struct dnscache *c, const struct ce *e, const uint8_t *query, size_t qlen,
    uint8_t *out, size_t cap, size_t *out_len)
{
	if (e->resp_len > cap) {
		c->st.misses++;
		return DNSCACHE_MISS;
	}
	memcpy(out, e->resp, e->resp_len);
	dnstun_patch_answer(out, e->resp_len, query, qlen);
	*out_len = e->resp_len;
	c->st.hits++;
	return DNSCACHE_HIT;
}

enum dnscache_res
dnscache_get(struct dnscache *c, const struct dnstun_question *q,
    const uint8_t *query, size_t qlen, uint64_t now_us, uint8_t *out,
    size_t cap, size_t *out_len)
{
	uint8_t key[DNSTUN_KEY_MAX];
	size_t klen;
	uint32_t h;
	struct ce *e = live(c, q, (int64_t)now_us, key, &klen, &h);

	*out_len = 0;
	if (e == NULL || e->pending) {
		c->st.misses++;
		return DNSCACHE_MISS;
	}
	return hit(c, e, query, qlen, out, cap, out_len);
}

enum dnscache_res
dnscache_lookup(struct dnscache *c, const struct dnstun_question *q,
    const uint8_t *query, size_t qlen, uint64_t now_us, uint8_t *out,
    size_t cap, size_t *out_len)
{
	uint8_t key[DNSTUN_KEY_MAX];
	int64_t now = (int64_t)now_us;
	size_t klen;
	uint32_t h;
	struct ce *e = live(c, q, now, key, &klen, &h);

	*out_len = 0;
	if (e != NULL && !e->pending)
		return hit(c, e, query, qlen, out, cap, out_len);
	c->st.misses++;
	if (e != NULL) {
		if (now - e->last_dispatch < (int64_t)c->cfg.pending_timeout_us)
			return DNSCACHE_PENDING;
		c->st.redispatch++;
	} else {
		e = entry_add(c, key, klen, h);
		e->pending = 1;
		c->npending++;
		e->created = e->last_used = now;
	}
	e->last_dispatch = now;
	c->dirty++;
	c->st.dispatch++;
	evict(c, &c->sh[h & (DNSCACHE_SHARDS - 1)]);
	return DNSCACHE_DISPATCH;
}

void
dnscache_put(struct dnscache *c, const struct dnstun_question *q,
    const uint8_t *ans, size_t len, uint64_t now_us)
{
	uint8_t key[DNSTUN_KEY_MAX], *copy;
	size_t klen = dnstun_key(q, key);
	uint32_t h = dnstun_key_hash(key, klen);
	int64_t now = (int64_t)now_us;
	struct ce *e;

	if (len < DNS_HDR_LEN || len > DNSTUN_MSG_MAX) {
		c->st.refused++;
		return;
	}
	copy = xmalloc(len);
	memcpy(copy, ans, len);
	copy[0] = copy[1] = 0;
	e = find(c, key, klen, h);
	if (e == NULL) {
		e = entry_add(c, key, klen, h);
		e->created = now;
	} else {
		if (e->pending)
			c->npending--;
		move_back(c, e);
		c->dirty++;
	}
	e->pending = 0;
	e->last_used = now;
	free(e->resp);
	e->resp = copy;
	e->resp_len = len;
	c->st.stored++;
	evict(c, &c->sh[h & (DNSCACHE_SHARDS - 1)]);
}

void
dnscache_forget(struct dnscache *c, const struct dnstun_question *q)
{
	uint8_t key[DNSTUN_KEY_MAX];
	size_t klen = dnstun_key(q, key);
	struct ce *e = find(c, key, klen, dnstun_key_hash(key, klen));

	if (e != NULL)
		entry_remove(c, e);
}

void
dnscache_clear_pending(struct dnscache *c)
{
	struct ce *e, *next;
	unsigned i;

	for (i = 0; i < DNSCACHE_SHARDS; i++)
		for (e = c->sh[i].head; e != NULL; e = next) {
			next = e->next;
			if (e->pending)
				entry_remove(c, e);
		}
}

static void
clear_all(struct dnscache *c)
{
	unsigned i;

	for (i = 0; i < DNSCACHE_SHARDS; i++)
		while (c->sh[i].head != NULL)
			entry_remove(c, c->sh[i].head);
}

void
dnscache_free(struct dnscache *c)
{
	if (c == NULL)
		return;
	clear_all(c);
	free(c->b);
	free(c);
}

size_t
dnscache_count(const struct dnscache *c)
{
	return c->n;
}

size_t
dnscache_pending(const struct dnscache *c)
{
	return c->npending;
}

const struct dnscache_stats *
dnscache_stats(const struct dnscache *c)
{
	return &c->st;
}

/* ---- persistence ------------------------------------------------------- */

static int64_t
to_unix(int64_t t, int64_t now, int64_t wall_s)
{
	return wall_s - (now > t ? (now - t) / SEC_US : 0);
}

/* Ages beyond this many seconds (about 32 years) are all the same. */
#define AGE_MAX_S 1000000000LL

static int64_t
from_unix(int64_t u, int64_t now, int64_t wall_s)
{
	int64_t age;

	if (u >= wall_s)
		age = 0;
	else if (u < wall_s - AGE_MAX_S)
		age = AGE_MAX_S;
	else
		age = wall_s - u;
	return now - age * SEC_US;
}

static void
put_be64(uint8_t *p, int64_t v)
{
	be32_store(p, (uint32_t)((uint64_t)v >> 32));
	be32_store(p + 4, (uint32_t)v);
}

static int64_t
get_be64(const uint8_t *p)
{
	return (int64_t)(((uint64_t)be32_load(p) << 32) | be32_load(p + 4));
}

/* Entry size in the file. */
static size_t
file_entry_len(const struct ce *e)
{
	return 2 + e->keylen + 2 + (size_t)(e->keylen - 4) + 4 + 2 +
	    e->resp_len + 16;
}

static int
ensure_dir(const char *path, struct err *e)
{
	const char *slash = strrchr(path, '/');
	struct stat sb;
	char *dir;
	int r = 0;

	if (slash == NULL || slash == path)
		return 0;
	dir = xstrndup(path, (size_t)(slash - path));
	if (stat(dir, &sb) < 0 || !S_ISDIR(sb.st_mode))
		r = path_mkdir_p(dir, 0700, e);
	free(dir);
	return r;
}

static void
fsync_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash == NULL ? xstrdup(".") :
	    slash == path	  ? xstrdup("/") :
				    xstrndup(path, (size_t)(slash - path));
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
	free(dir);
}

int
dnscache_save(struct dnscache *c, const char *path, uint64_t now_us,
    int64_t wall_s, size_t *saved, struct err *e)
{
	int64_t now = (int64_t)now_us;
	size_t len = 10, off, count = 0;
	uint8_t *buf;
	struct ce *x;
	char *tmp;
	unsigned i;
	int fd, rc = -1;

	*saved = 0;
	if (c->dirty == 0)
		return 0;
	for (i = 0; i < DNSCACHE_SHARDS; i++)
		for (x = c->sh[i].head; x != NULL; x = x->next)
			if (!x->pending && !expired(c, x, now)) {
				len += file_entry_len(x);
				count++;
			}
	buf = xmalloc(len);
	be32_store(buf, FILE_MAGIC);
	be16_store(buf + 4, FILE_VER);
	be32_store(buf + 6, (uint32_t)count);
	off = 10;
	for (i = 0; i < DNSCACHE_SHARDS; i++)
		for (x = c->sh[i].head; x != NULL; x = x->next) {
			if (x->pending || expired(c, x, now))
				continue;
			be16_store(buf + off, x->keylen);
			memcpy(buf + off + 2, x->key, x->keylen);
			off += 2 + x->keylen;
			be16_store(buf + off, (uint16_t)(x->keylen - 4));
			memcpy(buf + off + 2, x->key + 4, x->keylen - 4u);
			off += 2 + (size_t)(x->keylen - 4);
			memcpy(buf + off, x->key, 4); /* qtype, qclass */
			be16_store(buf + off + 4, (uint16_t)x->resp_len);
			memcpy(buf + off + 6, x->resp, x->resp_len);
			off += 6 + x->resp_len;
			put_be64(buf + off, to_unix(x->created, now, wall_s));
			put_be64(
			    buf + off + 8, to_unix(x->last_used, now, wall_s));
			off += 16;
		}
	tmp = xasprintf("%s.tmp", path);
	if (ensure_dir(path, e) < 0)
		goto out;
	/* A PATH.tmp planted by another user (in a directory others can
	 * write) is refused, not written and renamed into place. */
	if ((fd = path_open_write(tmp, PATH_W_TRUNC, e)) < 0)
		goto out;
	if (fd_write_all(fd, buf, off) < 0 || fsync(fd) < 0) {
		err_set(e, "%s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		goto out;
	}
	if (close(fd) < 0 || rename(tmp, path) < 0) {
		err_set(e, "%s: %s", path, strerror(errno));
		unlink(tmp);
		goto out;
	}
	fsync_dir(path);
	c->dirty = 0;
	c->st.saved += count;
	*saved = count;
	rc = 0;
out:
	if (rc < 0)
		c->st.save_errors++;
	free(tmp);
	free(buf);
	return rc;
}

/* One entry as read from the file (pointers into the file buffer). */
struct fentry {
	const uint8_t *key, *resp;
	size_t keylen, resp_len;
	int64_t created, last_used;
	int ok;
};

/*
 * Read the file structure: a cut entry or a bad header is an error (the
 * whole file is ignored); a file that ends exactly between entries before
 * the count is reached is accepted, as upstream does.
 */
static int
parse_file(const uint8_t *p, size_t n, struct fentry **out, size_t *nout,
    const char **why, size_t *at)
{
	struct fentry *v = NULL, *f;
	size_t off = 10, count, i, dlen;
	uint16_t qtype, qclass;

	*at = 0;
	if (n < 10 || be32_load(p) != FILE_MAGIC) {
		*why = "not a DNS cache file (magic)";
		return -1;
	}
	if (be16_load(p + 4) != FILE_VER) {
		*why = "unsupported version";
		return -1;
	}
	count = be32_load(p + 6);
	v = xreallocarray(NULL, MIN(count, n / 26 + 1) + 1, sizeof *v);
	for (i = 0; i < count && off < n; i++) {
		*at = off;
		if (i > n / 26) {
			*why = "more entries than the file can hold";
			goto fail;
		}
		f = &v[i];
		memset(f, 0, sizeof *f);
		if (n - off < 2 || n - off - 2 < be16_load(p + off))
			goto cut;
		f->keylen = be16_load(p + off);
		f->key = p + off + 2;
		off += 2 + f->keylen;
		if (n - off < 2 || n - off - 2 < be16_load(p + off))
			goto cut;
		dlen = be16_load(p + off);
		f->ok = f->keylen >= 4 && dlen == f->keylen - 4 &&
		    memcmp(p + off + 2, f->key + 4, dlen) == 0;
		off += 2 + dlen;
		if (n - off < 6 || n - off - 6 < be16_load(p + off + 4))
			goto cut;
		qtype = be16_load(p + off);
		qclass = be16_load(p + off + 2);
		f->resp_len = be16_load(p + off + 4);
		f->resp = p + off + 6;
		off += 6 + f->resp_len;
		if (n - off < 16)
			goto cut;
		f->created = get_be64(p + off);
		f->last_used = get_be64(p + off + 8);
		off += 16;
		if (f->ok)
			f->ok = be16_load(f->key) == qtype &&
			    be16_load(f->key + 2) == qclass &&
			    f->resp_len >= DNS_HDR_LEN &&
			    (be16_load(f->resp + 2) & DNS_F_QR) != 0;
	}
	*out = v;
	*nout = i;
	return 0;
cut:
	*why = "entry cut off";
fail:
	free(v);
	return -1;
}

static int
read_file(const char *path, uint8_t **buf, size_t *len, struct err *e)
{
	struct stat sb;
	ssize_t r;
	size_t off = 0;
	int fd;

	*buf = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return 1;
		return err_set(e, "%s: %s", path, strerror(errno));
	}
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) ||
	    (uint64_t)sb.st_size > FILE_MAXLEN) {
		close(fd);
		return err_set(e, "%s: not a regular file of at most %u bytes",
		    path, FILE_MAXLEN);
	}
	*buf = xmalloc((size_t)sb.st_size + 1);
	while (off < (size_t)sb.st_size) {
		r = read(fd, *buf + off, (size_t)sb.st_size - off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		off += (size_t)r;
	}
	close(fd);
	*len = off;
	return 0;
}

int
dnscache_load_mem(struct dnscache *c, const uint8_t *buf, size_t len,
    uint64_t now_us, int64_t wall_s, size_t *loaded, struct err *e)
{
	int64_t now = (int64_t)now_us;
	struct fentry *v = NULL;
	size_t n = 0, i, at;
	const char *why;
	struct ce *x;
	uint32_t h;
	unsigned s;

	*loaded = 0;
	if (parse_file(buf, len, &v, &n, &why, &at) < 0) {
		c->st.load_errors++;
		return err_set(e, "offset %zu: %s", at, why);
	}
	clear_all(c);
	for (i = 0; i < n; i++) {
		if (!v[i].ok) {
			c->st.load_skipped++;
			continue;
		}
		h = dnstun_key_hash(v[i].key, v[i].keylen);
		x = find(c, v[i].key, v[i].keylen, h);
		if (x != NULL)
			entry_remove(c, x);
		x = entry_add(c, v[i].key, v[i].keylen, h);
		x->created = from_unix(v[i].created, now, wall_s);
		x->last_used = from_unix(v[i].last_used, now, wall_s);
		x->resp = xmalloc(v[i].resp_len);
		memcpy(x->resp, v[i].resp, v[i].resp_len);
		x->resp_len = v[i].resp_len;
		if (expired(c, x, now)) {
			entry_remove(c, x);
			c->st.load_skipped++;
		}
	}
	for (s = 0; s < DNSCACHE_SHARDS; s++)
		evict(c, &c->sh[s]);
	*loaded = c->n;
	c->st.loaded += c->n;
	c->dirty = 0;
	free(v);
	return 0;
}

int
dnscache_load(struct dnscache *c, const char *path, uint64_t now_us,
    int64_t wall_s, size_t *loaded, struct err *e)
{
	uint8_t *buf;
	size_t len = 0;
	int r;

	*loaded = 0;
	r = read_file(path, &buf, &len, e);
	if (r == 1)
		return 0;
	if (r < 0) {
		c->st.load_errors++;
		return -1;
	}
	r = dnscache_load_mem(c, buf, len, now_us, wall_s, loaded, e);
	free(buf);
	if (r < 0)
		err_prefix(e, "%s", path);
	return r < 0 ? -1 : 0;
}

char *
dnscache_default_path(struct err *e)
{
	char *dir = path_state_dir(e), *p;

	if (dir == NULL)
		return NULL;
	p = path_join(dir, "local_dns_cache.bin");
	free(dir);
	return p;
}

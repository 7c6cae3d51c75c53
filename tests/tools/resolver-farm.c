/* SPDX-License-Identifier: MIT */
/*
 * resolver-farm.c — one process that plays many DNS resolvers at distinct
 * loopback addresses on one UDP port, each with a behaviour (good
 * forwarder, dead, slow, lossy, rate-limited, refusing, hijacking, case
 * scrambling, name cutting, EDNS stripping, answering from the wrong
 * address or with the wrong ID), and writes the ground truth of what a
 * correct scanner must conclude about each address.
 *
 * One wildcard socket with IP_PKTINFO receives every query; the destination
 * address picks the behaviour and answers leave from that same address (or
 * deliberately another one) through sendmsg with an IP_PKTINFO block.
 * Forwarding behaviours relay to one upstream (the tunnel server, an
 * authoritative test responder or unbound) with fresh query IDs, tracked in
 * a fixed pending table. The hot path parses the DNS header and question by
 * hand; nothing here allocates per query except delayed ("slow") answers.
 *
 * It does not speak TCP, does not cache, does not recurse by itself and
 * does not answer IPv6. See docs/testing-farm.md for the spec syntax, the
 * truth format and memory bounds.
 *
 * Built as a fixture tool; tests/fuzz/fuzz-farm-spec.c includes this file
 * with FARM_NO_MAIN defined to fuzz the spec and packet parsers.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/ev.h"
#include "common/net.h"
#include "common/util.h"
#include "tests/tools/dnsmini.h"

enum farm_beh {
	B_GOOD,
	B_DEAD,
	B_SLOW,
	B_LOSSY,
	B_RATELIMITED,
	B_REFUSED,
	B_SERVFAIL,
	B_NXHIJACK,
	B_HIJACK,
	B_CASE,
	B_QCUT,
	B_EDNS_STRIP,
	B_SMALL_UDP,
	B_WRONG_SOURCE,
	B_WRONG_ID,
	B_COUNT
};

static const char *const farm_beh_names[B_COUNT] = {
    "good",
    "dead",
    "slow",
    "lossy",
    "ratelimited",
    "refused",
    "servfail",
    "nxhijack",
    "hijack",
    "case-scramble",
    "qname-cut",
    "edns-strip",
    "small-udp",
    "wrong-source",
    "wrong-id",
};

/* Modes: case-scramble (bit 1 forward, bit 2 echo), ratelimited. */
enum {
	CASE_FORWARD = 1,
	CASE_ECHO = 2,
	CASE_BOTH = 3,
	RL_DROP = 0,
	RL_REFUSED = 1,
};

#define FARM_HIJACK_IP	  0x0a0a2222u /* 10.10.34.34, only data in answers */
#define FARM_TXT_MAX	  255
#define FARM_MAX_PROFILES 65535
#define FARM_LOOPBACK_LO  0x7f000000u
#define FARM_LOOPBACK_HI  0x7fffffffu

/* One behaviour with its parameters; addresses share identical profiles. */
struct farm_profile {
	uint8_t beh;
	uint8_t mode;
	uint32_t a;  /* slow: min ms; lossy: p * 1e6; rl: qps; cut/udp: n */
	uint32_t b;  /* slow: max ms */
	uint32_t ip; /* hijack/nxhijack answer, wrong-source from (0 = +1) */
	char txt[FARM_TXT_MAX + 1];
};

/* An address range assigned one profile, in spec order (later wins). */
struct farm_assign {
	uint32_t lo, hi;
	uint16_t prof;
};

struct farm_counters {
	uint64_t received, answered, dropped, forwarded;
};

/* Pending upstream query; slot index = socket << 16 | upstream ID ^ key. */
struct farm_pend {
	uint64_t sent_us;
	uint32_t client_ip; /* network order */
	uint32_t local_ip;  /* host order */
	uint32_t qhash;
	uint32_t seed;
	uint32_t prev, next;
	uint16_t client_port; /* network order */
	uint16_t client_id;
	uint16_t prof;
	uint16_t qlen;
	uint16_t client_udp; /* 0 = client sent no OPT */
	uint8_t used;
};

#define NIL    UINT32_MAX
#define BATCH  64
#define RXBUF  4096
#define UPBUF  8192
#define CTLBUF 64

struct farm_txq {
	int fd;
	int pktinfo;
	unsigned n;
	struct mmsghdr m[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_in to[BATCH];
	char ctl[BATCH][CTLBUF];
	uint8_t buf[BATCH][UPBUF];
};

struct farm_rx {
	struct mmsghdr m[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_in from[BATCH];
	char ctl[BATCH][CTLBUF];
	uint8_t buf[BATCH][UPBUF];
};

struct farm_rl {
	uint32_t ip; /* 0 = empty */
	uint32_t sec;
	uint32_t count;
};

struct farm_delayed {
	struct farm *f;
	struct farm_delayed *prev, *next; /* all queued, freed at exit */
	uint32_t to_ip;
	uint16_t to_port;
	uint32_t src_ip;
	uint8_t beh;
	size_t len;
	uint8_t data[];
};

struct farm {
	/* configuration */
	struct farm_profile *profiles;
	size_t nprofiles;
	struct farm_assign *assigns;
	size_t nassigns, cassigns;
	uint32_t lo, hi;
	uint16_t *table; /* profile index + 1 per address in [lo, hi] */
	size_t naddrs;
	uint64_t rng;
	union net_addr upstream;
	int have_upstream;
	uint64_t up_timeout_us;
	unsigned nup;
	size_t max_delayed;

	/* runtime */
	struct ev_loop *loop;
	int fd;
	uint16_t port;
	int *ufd;
	uint16_t *ukey;
	struct farm_pend *pend;
	uint32_t npend;
	uint32_t *freeq;
	uint32_t free_head, free_n;
	uint32_t used_head, used_tail;
	struct farm_rl *rl;
	uint32_t rl_mask;
	size_t ndelayed;
	struct farm_delayed *delayed;
	struct farm_txq *tx;  /* answers to clients, with pktinfo */
	struct farm_txq *utx; /* one per upstream socket */
	struct farm_rx *rx;
	const char *stats_path;

	struct farm_counters c[B_COUNT];
	uint64_t unassigned, malformed, up_timeouts, up_stray, pend_full;
	uint64_t delay_overflow, send_errors, truncated;
};

/* ---- randomness (seeded, reproducible) ---- */

static uint64_t
farm_rand(struct farm *f)
{
	/* splitmix64 */
	uint64_t z = (f->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint32_t
farm_rand_range(struct farm *f, uint32_t lo, uint32_t hi)
{
	if (hi <= lo)
		return lo;
	return lo + (uint32_t)(farm_rand(f) % ((uint64_t)hi - lo + 1));
}

/* ---- spec parsing ---- */

static int
farm_parse_ip(const char *s, uint32_t *out)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return -1;
	*out = ntohl(a.s_addr);
	return 0;
}

static int
farm_parse_range(const char *s, uint32_t *lo, uint32_t *hi, struct err *e)
{
	char buf[64];
	char *p;
	long long plen;

	if (strlen(s) >= sizeof buf)
		return err_set(e, "bad address '%s'", s);
	memcpy(buf, s, strlen(s) + 1);
	if ((p = strchr(buf, '/')) != NULL) {
		*p++ = '\0';
		if (parse_int(p, 8, 32, &plen, NULL) == -1)
			return err_set(e,
			    "bad prefix length in '%s' "
			    "(8..32)",
			    s);
		if (farm_parse_ip(buf, lo) == -1)
			return err_set(e, "bad address '%s'", buf);
		if (plen < 32)
			*lo &= ~((1u << (32 - plen)) - 1);
		*hi = *lo | (plen == 32 ? 0 : (1u << (32 - plen)) - 1);
	} else if ((p = strchr(buf, '-')) != NULL) {
		*p++ = '\0';
		if (farm_parse_ip(buf, lo) == -1)
			return err_set(e, "bad address '%s'", buf);
		if (farm_parse_ip(p, hi) == -1)
			return err_set(e, "bad address '%s'", p);
		if (*hi < *lo)
			return err_set(
			    e, "range '%s' ends before it starts", s);
	} else {
		if (farm_parse_ip(buf, lo) == -1)
			return err_set(e, "bad address '%s'", buf);
		*hi = *lo;
	}
	if (*lo < FARM_LOOPBACK_LO || *hi > FARM_LOOPBACK_HI)
		return err_set(e,
		    "'%s' is outside 127.0.0.0/8 (the farm "
		    "only plays loopback addresses)",
		    s);
	return 0;
}

static int
farm_beh_lookup(const char *name)
{
	int i;

	for (i = 0; i < B_COUNT; i++)
		if (strcmp(farm_beh_names[i], name) == 0)
			return i;
	return -1;
}

static void
farm_profile_defaults(struct farm_profile *p, int beh)
{
	memset(p, 0, sizeof *p);
	p->beh = (uint8_t)beh;
	switch (beh) {
	case B_SLOW:
		p->a = p->b = 800;
		break;
	case B_LOSSY:
		p->a = 300000;
		break;
	case B_RATELIMITED:
		p->a = 10;
		p->mode = RL_DROP;
		break;
	case B_NXHIJACK:
	case B_HIJACK:
		p->ip = FARM_HIJACK_IP;
		memcpy(p->txt, "hijacked", 9);
		break;
	case B_CASE:
		p->mode = CASE_BOTH;
		break;
	case B_QCUT:
		p->a = 101;
		break;
	case B_SMALL_UDP:
		p->a = 512;
		break;
	}
}

/* Probability "0.3", "1", "0" into parts per million. */
static int
farm_parse_prob(const char *s, uint32_t *ppm)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(d >= 0.0) || d > 1.0)
		return -1;
	*ppm = (uint32_t)(d * 1e6 + 0.5);
	return 0;
}

static int
farm_set_param(
    struct farm_profile *p, const char *key, const char *val, struct err *e)
{
	long long v, w;
	const char *dash;
	char tmp[32];

	switch (p->beh) {
	case B_SLOW:
		if (strcmp(key, "delay_ms") != 0)
			break;
		if ((dash = strchr(val, '-')) != NULL &&
		    (size_t)(dash - val) < sizeof tmp) {
			memcpy(tmp, val, (size_t)(dash - val));
			tmp[dash - val] = '\0';
			if (parse_int(tmp, 0, 600000, &v, NULL) == -1 ||
			    parse_int(dash + 1, 0, 600000, &w, NULL) == -1 ||
			    w < v)
				return err_set(e,
				    "delay_ms wants N or A-B "
				    "milliseconds (0..600000, A <= B), got "
				    "'%s'",
				    val);
		} else {
			if (parse_int(val, 0, 600000, &v, NULL) == -1)
				return err_set(e,
				    "delay_ms wants N or A-B "
				    "milliseconds (0..600000), got '%s'",
				    val);
			w = v;
		}
		p->a = (uint32_t)v;
		p->b = (uint32_t)w;
		return 0;
	case B_LOSSY:
		if (strcmp(key, "p") != 0)
			break;
		if (farm_parse_prob(val, &p->a) == -1)
			return err_set(e,
			    "p wants a probability 0..1, got "
			    "'%s'",
			    val);
		return 0;
	case B_RATELIMITED:
		if (strcmp(key, "qps") == 0) {
			if (parse_int(val, 0, 1000000, &v, NULL) == -1)
				return err_set(e,
				    "qps wants 0..1000000, got "
				    "'%s'",
				    val);
			p->a = (uint32_t)v;
			return 0;
		}
		if (strcmp(key, "mode") == 0) {
			if (strcmp(val, "drop") == 0)
				p->mode = RL_DROP;
			else if (strcmp(val, "refused") == 0)
				p->mode = RL_REFUSED;
			else
				return err_set(e,
				    "mode wants drop or refused, "
				    "got '%s'",
				    val);
			return 0;
		}
		break;
	case B_NXHIJACK:
	case B_HIJACK:
		if (strcmp(key, "a") == 0) {
			if (farm_parse_ip(val, &p->ip) == -1)
				return err_set(e,
				    "a wants an IPv4 address, "
				    "got '%s'",
				    val);
			return 0;
		}
		if (p->beh == B_HIJACK && strcmp(key, "txt") == 0) {
			if (strlen(val) > FARM_TXT_MAX)
				return err_set(e, "txt longer than %d bytes",
				    FARM_TXT_MAX);
			memcpy(p->txt, val, strlen(val) + 1);
			return 0;
		}
		break;
	case B_CASE:
		if (strcmp(key, "mode") != 0)
			break;
		if (strcmp(val, "forward") == 0)
			p->mode = CASE_FORWARD;
		else if (strcmp(val, "echo") == 0)
			p->mode = CASE_ECHO;
		else if (strcmp(val, "both") == 0)
			p->mode = CASE_BOTH;
		else
			return err_set(e,
			    "mode wants forward, echo or both, "
			    "got '%s'",
			    val);
		return 0;
	case B_QCUT:
		if (strcmp(key, "n") != 0)
			break;
		if (parse_int(val, 1, 253, &v, NULL) == -1)
			return err_set(e,
			    "n wants 1..253 characters, got "
			    "'%s'",
			    val);
		p->a = (uint32_t)v;
		return 0;
	case B_SMALL_UDP:
		if (strcmp(key, "n") != 0)
			break;
		if (parse_int(val, 12, UPBUF, &v, NULL) == -1)
			return err_set(
			    e, "n wants 12..%d bytes, got '%s'", UPBUF, val);
		p->a = (uint32_t)v;
		return 0;
	case B_WRONG_SOURCE:
		if (strcmp(key, "from") != 0)
			break;
		if (farm_parse_ip(val, &p->ip) == -1 ||
		    p->ip < FARM_LOOPBACK_LO || p->ip > FARM_LOOPBACK_HI)
			return err_set(e,
			    "from wants a 127.0.0.0/8 address, "
			    "got '%s'",
			    val);
		return 0;
	}
	return err_set(
	    e, "unknown parameter '%s' for %s", key, farm_beh_names[p->beh]);
}

static uint16_t
farm_profile_intern(struct farm *f, const struct farm_profile *p, struct err *e)
{
	size_t i;

	/*
	 * Linear search from the newest: specs repeat the profile of the
	 * previous line far more often than an old one, and the number of
	 * distinct profiles stays small (hundreds) in generated farms.
	 */
	for (i = f->nprofiles; i-- > 0;)
		if (memcmp(&f->profiles[i], p, sizeof *p) == 0)
			return (uint16_t)i;
	if (f->nprofiles >= FARM_MAX_PROFILES) {
		err_set(e,
		    "more than %d distinct behaviour/parameter "
		    "combinations",
		    FARM_MAX_PROFILES);
		return UINT16_MAX;
	}
	if ((f->nprofiles & (f->nprofiles - 1)) == 0)
		f->profiles = xreallocarray(f->profiles,
		    f->nprofiles ? f->nprofiles * 2 : 16, sizeof *p);
	f->profiles[f->nprofiles] = *p;
	return (uint16_t)f->nprofiles++;
}

static void
farm_assign(struct farm *f, uint32_t lo, uint32_t hi, uint16_t prof)
{
	if (f->nassigns > 0) {
		struct farm_assign *l = &f->assigns[f->nassigns - 1];

		if (l->prof == prof && l->hi != UINT32_MAX && l->hi + 1 == lo) {
			l->hi = hi;
			return;
		}
	}
	if (f->nassigns == f->cassigns) {
		f->cassigns = f->cassigns ? f->cassigns * 2 : 64;
		f->assigns =
		    xreallocarray(f->assigns, f->cassigns, sizeof *f->assigns);
	}
	f->assigns[f->nassigns].lo = lo;
	f->assigns[f->nassigns].hi = hi;
	f->assigns[f->nassigns].prof = prof;
	f->nassigns++;
}

/*
 * One spec line: ADDR[/LEN | -ADDR] BEHAVIOUR [key=value ...] [# comment].
 * Blank lines and comments are skipped. Returns 0 or -1 with e set (the
 * caller adds file:line).
 */
static int
farm_spec_line(struct farm *f, char *line, struct err *e)
{
	struct farm_profile p;
	char *tok[40];
	char *s, *hash, *eq;
	size_t n = 0, i;
	uint32_t lo = 0, hi = 0;
	int beh;
	uint16_t idx;

	if ((hash = strchr(line, '#')) != NULL)
		*hash = '\0';
	for (s = line; *s != '\0';) {
		while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
			*s++ = '\0';
		if (*s == '\0')
			break;
		if (n == nitems(tok))
			return err_set(e, "too many words");
		tok[n++] = s;
		while (*s != '\0' && *s != ' ' && *s != '\t' && *s != '\r' &&
		    *s != '\n')
			s++;
	}
	if (n == 0)
		return 0;
	if (n < 2)
		return err_set(e, "expected ADDRESS BEHAVIOUR [key=value...]");
	if (farm_parse_range(tok[0], &lo, &hi, e) == -1)
		return -1;
	if ((beh = farm_beh_lookup(tok[1])) == -1)
		return err_set(e, "unknown behaviour '%s'", tok[1]);
	farm_profile_defaults(&p, beh);
	for (i = 2; i < n; i++) {
		if ((eq = strchr(tok[i], '=')) == NULL || eq == tok[i])
			return err_set(
			    e, "expected key=value, got '%s'", tok[i]);
		*eq = '\0';
		if (farm_set_param(&p, tok[i], eq + 1, e) == -1)
			return -1;
	}
	if ((idx = farm_profile_intern(f, &p, e)) == UINT16_MAX)
		return -1;
	farm_assign(f, lo, hi, idx);
	return 0;
}

/* Parse a whole spec held in memory; name is used in messages. */
static int
farm_spec_parse(
    struct farm *f, const char *name, char *text, size_t len, struct err *e)
{
	size_t lineno = 0, start = 0, i;

	for (i = 0; i <= len; i++) {
		if (i < len && text[i] != '\n')
			continue;
		lineno++;
		if (i < len)
			text[i] = '\0';
		if (memchr(text + start, '\0', i - start) != NULL)
			return err_set(
			    e, "%s:%zu: NUL byte in line", name, lineno);
		if (farm_spec_line(f, text + start, e) == -1)
			return err_prefix(e, "%s:%zu", name, lineno);
		start = i + 1;
	}
	return 0;
}

static int
farm_spec_load(struct farm *f, const char *path, struct err *e)
{
	FILE *fp;
	char *text = NULL;
	size_t len = 0, cap = 0, n;
	int rc;

	if ((fp = fopen(path, "r")) == NULL)
		return err_set(e, "%s: %s", path, strerror(errno));
	for (;;) {
		if (cap - len < 65536) {
			cap = cap ? cap * 2 : 65536;
			text = xrealloc(text, cap + 1);
		}
		n = fread(text + len, 1, cap - len, fp);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(fp)) {
		fclose(fp);
		free(text);
		return err_set(e, "%s: read error", path);
	}
	fclose(fp);
	text[len] = '\0';
	rc = farm_spec_parse(f, path, text, len, e);
	free(text);
	return rc;
}

/*
 * --gen good=900,dead=50,...: that many consecutive addresses from base,
 * behaviours shuffled with the seed. Parameters vary per address inside
 * documented ranges so a scanner cannot pass by guessing one constant.
 */
static int
farm_gen(struct farm *f, const char *spec, uint32_t base, struct err *e)
{
	uint8_t *order;
	size_t total = 0, k = 0, i, counts[B_COUNT] = {0};
	char *copy, *item, *next, *eq;
	long long v;
	int beh, b;
	struct farm_profile p;
	uint16_t idx;

	copy = xstrdup(spec);
	for (item = copy; item != NULL; item = next) {
		if ((next = strchr(item, ',')) != NULL)
			*next++ = '\0';
		if (*item == '\0')
			continue;
		if ((eq = strchr(item, '=')) == NULL) {
			err_set(
			    e, "--gen: expected NAME=COUNT, got '%s'", item);
			free(copy);
			return -1;
		}
		*eq = '\0';
		if ((beh = farm_beh_lookup(item)) == -1) {
			err_set(e, "--gen: unknown behaviour '%s'", item);
			free(copy);
			return -1;
		}
		if (parse_int(eq + 1, 0, 1 << 24, &v, NULL) == -1) {
			err_set(e, "--gen: bad count '%s'", eq + 1);
			free(copy);
			return -1;
		}
		counts[beh] += (size_t)v;
		total += (size_t)v;
	}
	free(copy);
	if (total == 0)
		return err_set(e, "--gen: no addresses");
	if ((uint64_t)base + total - 1 > FARM_LOOPBACK_HI ||
	    base < FARM_LOOPBACK_LO)
		return err_set(e,
		    "--gen: %zu addresses from the base do not "
		    "fit in 127.0.0.0/8",
		    total);
	order = xmalloc(total);
	for (b = 0; b < B_COUNT; b++)
		for (i = 0; i < counts[b]; i++)
			order[k++] = (uint8_t)b;
	for (i = total - 1; i > 0; i--) {
		size_t j = (size_t)(farm_rand(f) % (i + 1));
		uint8_t t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	for (i = 0; i < total; i++) {
		farm_profile_defaults(&p, order[i]);
		switch (order[i]) {
		case B_SLOW:
			p.a = farm_rand_range(f, 2, 15) * 100;
			p.b = p.a + (farm_rand(f) & 1 ? 0 : 400);
			break;
		case B_LOSSY:
			p.a = farm_rand_range(f, 1, 5) * 100000;
			break;
		case B_RATELIMITED:
			p.a = farm_rand_range(f, 1, 10) * 5;
			p.mode = (uint8_t)(farm_rand(f) & 1);
			break;
		case B_CASE:
			p.mode = (uint8_t)farm_rand_range(f, 1, 3);
			break;
		case B_QCUT:
			p.a = farm_rand_range(f, 60, 200);
			break;
		case B_SMALL_UDP:
			p.a = farm_rand_range(f, 30, 120) * 10;
			break;
		}
		if ((idx = farm_profile_intern(f, &p, e)) == UINT16_MAX) {
			free(order);
			return -1;
		}
		farm_assign(f, base + (uint32_t)i, base + (uint32_t)i, idx);
	}
	free(order);
	return 0;
}

/* Fill the per-address table from the assignments (later ones win). */
static int
farm_build(struct farm *f, struct err *e)
{
	size_t i, span;
	uint32_t a;

	if (f->nassigns == 0)
		return err_set(e, "no addresses: give --spec or --gen");
	f->lo = UINT32_MAX;
	f->hi = 0;
	for (i = 0; i < f->nassigns; i++) {
		f->lo = MIN(f->lo, f->assigns[i].lo);
		f->hi = MAX(f->hi, f->assigns[i].hi);
	}
	/* At most 2^24 entries of 2 bytes: all of 127.0.0.0/8 is 32 MiB. */
	span = (size_t)(f->hi - f->lo) + 1;
	free(f->table);
	f->table = xcalloc(span, sizeof *f->table);
	for (i = 0; i < f->nassigns; i++)
		for (a = f->assigns[i].lo;; a++) {
			f->table[a - f->lo] =
			    (uint16_t)(f->assigns[i].prof + 1);
			if (a == f->assigns[i].hi)
				break;
		}
	f->naddrs = 0;
	for (i = 0; i < span; i++)
		if (f->table[i] != 0)
			f->naddrs++;
	return 0;
}

static const struct farm_profile *
farm_lookup(const struct farm *f, uint32_t ip)
{
	uint16_t v;

	if (ip < f->lo || ip > f->hi)
		return NULL;
	if ((v = f->table[ip - f->lo]) == 0)
		return NULL;
	return &f->profiles[v - 1];
}

/* ---- ground truth ---- */

static void
farm_ip_str(uint32_t ip, char *buf, size_t len)
{
	struct in_addr a = {htonl(ip)};

	inet_ntop(AF_INET, &a, buf, (socklen_t)len);
}

static void
farm_json_str(FILE *fp, const char *s)
{
	fputc('"', fp);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(fp, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(fp, "\\u%04x", c);
		else
			fputc(c, fp);
	}
	fputc('"', fp);
}

static const char *
farm_case_mode(int mode)
{
	return mode == CASE_FORWARD ? "forward" :
	    mode == CASE_ECHO	    ? "echo" :
				      "both";
}

static uint32_t
farm_wrong_source(const struct farm_profile *p, uint32_t ip)
{
	if (p->ip != 0)
		return p->ip;
	return ip == FARM_LOOPBACK_HI ? FARM_LOOPBACK_LO + 1 : ip + 1;
}

static void
farm_truth_line(
    FILE *fp, const struct farm *f, uint32_t ip, const struct farm_profile *p)
{
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
	const char *verdict = "ok";

	farm_ip_str(ip, a, sizeof a);
	fprintf(fp,
	    "{\"addr\":\"%s\",\"port\":%u,\"behaviour\":\"%s\","
	    "\"params\":{",
	    a, f->port, farm_beh_names[p->beh]);
	switch (p->beh) {
	case B_SLOW:
		fprintf(
		    fp, "\"delay_ms_min\":%u,\"delay_ms_max\":%u", p->a, p->b);
		break;
	case B_LOSSY:
		fprintf(fp, "\"p\":%.6g", p->a / 1e6);
		if (p->a >= 1000000)
			verdict = "timeout";
		break;
	case B_RATELIMITED:
		fprintf(fp, "\"qps\":%u,\"mode\":\"%s\"", p->a,
		    p->mode == RL_DROP ? "drop" : "refused");
		if (p->a == 0)
			verdict = p->mode == RL_DROP ? "timeout" : "refused";
		break;
	case B_NXHIJACK:
	case B_HIJACK:
		farm_ip_str(p->ip, b, sizeof b);
		fprintf(fp, "\"a\":\"%s\"", b);
		if (p->beh == B_HIJACK) {
			fputs(",\"txt\":", fp);
			farm_json_str(fp, p->txt);
		}
		verdict = "hijack";
		break;
	case B_CASE:
		fprintf(fp, "\"mode\":\"%s\"", farm_case_mode(p->mode));
		break;
	case B_QCUT:
	case B_SMALL_UDP:
		fprintf(fp, "\"n\":%u", p->a);
		break;
	case B_WRONG_SOURCE:
		farm_ip_str(farm_wrong_source(p, ip), b, sizeof b);
		fprintf(fp, "\"from\":\"%s\"", b);
		verdict = "wrong_source";
		break;
	case B_DEAD:
		verdict = "timeout";
		break;
	case B_REFUSED:
		verdict = "refused";
		break;
	case B_SERVFAIL:
		verdict = "servfail";
		break;
	case B_WRONG_ID:
		verdict = "wrong_id";
		break;
	}
	fprintf(fp, "},\"verdict\":\"%s\"", verdict);
	switch (p->beh) {
	case B_SLOW:
		fprintf(fp, ",\"min_rtt_ms\":%u", p->a);
		break;
	case B_LOSSY:
		fprintf(fp, ",\"loss\":%.6g", p->a / 1e6);
		break;
	case B_RATELIMITED:
		fprintf(fp, ",\"limit_qps\":%u", p->a);
		break;
	case B_CASE:
		fputs(",\"case_preserved\":false", fp);
		break;
	case B_QCUT:
		fprintf(fp, ",\"max_qname_chars\":%u", p->a);
		break;
	case B_EDNS_STRIP:
		fputs(",\"edns\":false,\"max_answer_bytes\":512", fp);
		break;
	case B_SMALL_UDP:
		fprintf(fp, ",\"max_answer_bytes\":%u", p->a);
		break;
	}
	fputs("}\n", fp);
}

static int
farm_truth_write(const struct farm *f, const char *path, struct err *e)
{
	FILE *fp;
	uint32_t ip;

	if ((fp = fopen(path, "w")) == NULL)
		return err_set(e, "%s: %s", path, strerror(errno));
	for (ip = f->lo;; ip++) {
		const struct farm_profile *p = farm_lookup(f, ip);

		if (p != NULL)
			farm_truth_line(fp, f, ip, p);
		if (ip == f->hi)
			break;
	}
	if (fclose(fp) != 0)
		return err_set(e, "%s: write error", path);
	return 0;
}

/* ---- case scrambling ---- */

/*
 * Flip the letter case of chosen letters of the question name in place.
 * Which letters flip depends only on the seed and the letter positions, not
 * on their case, so applying it twice with one seed restores the name. At
 * least one letter flips when the name has any.
 */
static void
farm_scramble(uint8_t *p, size_t qname_end, uint32_t seed)
{
	uint32_t x = seed | 1;
	size_t o, first = 0;
	int flipped = 0;

	for (o = DNS_HDR; o < qname_end; o++) {
		/* Length bytes are <= 63, never a letter even with 0x20. */
		uint8_t c = p[o] | 0x20;

		if (c < 'a' || c > 'z')
			continue;
		if (first == 0)
			first = o;
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		if (x & 0x100) {
			p[o] ^= 0x20;
			flipped = 1;
		}
	}
	if (!flipped && first != 0)
		p[first] ^= 0x20;
}

static uint32_t
farm_hash(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

/* ---- sending ---- */

static void
farm_txq_init(struct farm_txq *t, int fd, int pktinfo)
{
	unsigned i;

	memset(t, 0, sizeof *t);
	t->fd = fd;
	t->pktinfo = pktinfo;
	for (i = 0; i < BATCH; i++) {
		t->iov[i].iov_base = t->buf[i];
		t->m[i].msg_hdr.msg_iov = &t->iov[i];
		t->m[i].msg_hdr.msg_iovlen = 1;
	}
}

static void
farm_txq_flush(struct farm *f, struct farm_txq *t)
{
	unsigned done = 0;
	int r;

	while (done < t->n) {
		r = sendmmsg(t->fd, t->m + done, t->n - done, MSG_DONTWAIT);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			/*
			 * A full send buffer or an unreachable peer: this
			 * packet is lost, as it would be on a real network.
			 */
			f->send_errors++;
			done++;
			continue;
		}
		done += (unsigned)r;
	}
	t->n = 0;
}

/* The next free buffer of t (flushing when full). */
static uint8_t *
farm_txq_slot(struct farm *f, struct farm_txq *t)
{
	if (t->n == BATCH)
		farm_txq_flush(f, t);
	return t->buf[t->n];
}

/* Queue the buffer returned by farm_txq_slot. Addresses host order. */
static void
farm_txq_commit(struct farm_txq *t, size_t len, uint32_t to_ip,
    uint16_t to_port_n, uint32_t src_ip)
{
	struct msghdr *h = &t->m[t->n].msg_hdr;

	t->iov[t->n].iov_len = len;
	if (t->pktinfo) {
		struct sockaddr_in *to = &t->to[t->n];
		struct cmsghdr *cm;
		struct in_pktinfo pi;

		memset(to, 0, sizeof *to);
		to->sin_family = AF_INET;
		to->sin_addr.s_addr = htonl(to_ip);
		to->sin_port = to_port_n;
		h->msg_name = to;
		h->msg_namelen = sizeof *to;
		h->msg_control = t->ctl[t->n];
		h->msg_controllen = CMSG_SPACE(sizeof pi);
		cm = CMSG_FIRSTHDR(h);
		cm->cmsg_level = IPPROTO_IP;
		cm->cmsg_type = IP_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof pi);
		memset(&pi, 0, sizeof pi);
		pi.ipi_spec_dst.s_addr = htonl(src_ip);
		memcpy(CMSG_DATA(cm), &pi, sizeof pi);
	} else {
		h->msg_name = NULL;
		h->msg_namelen = 0;
		h->msg_control = NULL;
		h->msg_controllen = 0;
	}
	t->n++;
}

static void
farm_flush_all(struct farm *f)
{
	unsigned i;

	if (f->tx->n)
		farm_txq_flush(f, f->tx);
	for (i = 0; i < f->nup; i++)
		if (f->utx[i].n)
			farm_txq_flush(f, &f->utx[i]);
}

/* ---- pending upstream queries ---- */

static uint32_t
farm_pend_alloc(struct farm *f, uint64_t now)
{
	uint32_t s;
	struct farm_pend *p;

	if (f->free_n == 0)
		return NIL;
	s = f->freeq[f->free_head];
	f->free_head = (f->free_head + 1) % f->npend;
	f->free_n--;
	p = &f->pend[s];
	p->used = 1;
	p->sent_us = now;
	p->next = NIL;
	p->prev = f->used_tail;
	if (f->used_tail != NIL)
		f->pend[f->used_tail].next = s;
	else
		f->used_head = s;
	f->used_tail = s;
	return s;
}

static void
farm_pend_free(struct farm *f, uint32_t s)
{
	struct farm_pend *p = &f->pend[s];

	if (p->prev != NIL)
		f->pend[p->prev].next = p->next;
	else
		f->used_head = p->next;
	if (p->next != NIL)
		f->pend[p->next].prev = p->prev;
	else
		f->used_tail = p->prev;
	p->used = 0;
	/* FIFO reuse keeps an ID idle as long as possible (late answers). */
	f->freeq[(f->free_head + f->free_n) % f->npend] = s;
	f->free_n++;
}

/* ---- behaviours ---- */

/* An answer the farm makes itself: header + question [+ A/TXT] [+ OPT]. */
static void
farm_answer_local(struct farm *f, const uint8_t *q, const struct dnsmini_q *fq,
    const struct farm_profile *p, int rcode, uint32_t to_ip, uint16_t to_port,
    uint32_t src)
{
	uint8_t *b = farm_txq_slot(f, f->tx);
	size_t o = fq->qend;

	memcpy(b, q, fq->qend);
	b[2] = (uint8_t)(0x80 | (q[2] & 0x79)); /* QR, opcode, RD */
	b[3] = (uint8_t)(0x80 | rcode);		/* RA */
	be16_store(b + 6, 0);
	be16_store(b + 8, 0);
	be16_store(b + 10, 0);
	if (p->beh == B_HIJACK) {
		if (fq->qtype == DNS_T_TXT)
			o = dnsmini_put_txt(b, o, p->txt);
		else
			o = dnsmini_put_a(b, o, p->ip);
		be16_store(b + 6, 1);
	}
	if (fq->udp != 0)
		o = dnsmini_put_opt(b, o);
	farm_txq_commit(f->tx, o, to_ip, to_port, src);
	f->c[p->beh].answered++;
}

/* Rate limit: fixed one-second windows per address. 1 = over the limit. */
static int
farm_rl_over(struct farm *f, uint32_t ip, uint32_t qps)
{
	uint32_t h = (ip * 2654435761u) & f->rl_mask;
	uint32_t sec = (uint32_t)(ev_now_us(f->loop) / 1000000);
	struct farm_rl *r;

	for (;;) {
		r = &f->rl[h];
		if (r->ip == ip || r->ip == 0)
			break;
		h = (h + 1) & f->rl_mask;
	}
	if (r->ip == 0 || r->sec != sec) {
		r->ip = ip;
		r->sec = sec;
		r->count = 0;
	}
	if (r->count >= qps)
		return 1;
	r->count++;
	return 0;
}

static void
farm_forward(struct farm *f, const uint8_t *q, size_t len,
    const struct dnsmini_q *fq, const struct farm_profile *p, uint16_t prof,
    uint32_t client_ip_n, uint16_t client_port_n, uint32_t dst)
{
	uint32_t s;
	struct farm_pend *pe;
	struct farm_txq *t;
	uint8_t *b;
	size_t n;
	uint16_t id;

	if ((s = farm_pend_alloc(f, ev_now_us(f->loop))) == NIL) {
		f->pend_full++;
		f->c[p->beh].dropped++;
		return;
	}
	pe = &f->pend[s];
	t = &f->utx[s >> 16];
	b = farm_txq_slot(f, t);
	if (p->beh == B_EDNS_STRIP) {
		n = dnsmini_strip_opt(q, len, fq->qend, b, UPBUF);
	} else {
		n = MIN(len, (size_t)UPBUF);
		memcpy(b, q, n);
	}
	if (n == 0) {
		farm_pend_free(f, s);
		f->malformed++;
		f->c[p->beh].dropped++;
		return;
	}
	id = (uint16_t)((s & 0xffff) ^ f->ukey[s >> 16]);
	be16_store(b, id);
	pe->seed = 0;
	if (p->beh == B_CASE && (p->mode & CASE_FORWARD)) {
		pe->seed = (uint32_t)farm_rand(f);
		farm_scramble(b, fq->qname_end, pe->seed);
	}
	pe->client_ip = client_ip_n;
	pe->client_port = client_port_n;
	pe->client_id = be16_load(q);
	pe->local_ip = dst;
	pe->prof = prof;
	pe->qlen = (uint16_t)(fq->qend - DNS_HDR);
	pe->qhash = farm_hash(b + DNS_HDR, fq->qend - DNS_HDR);
	pe->client_udp = p->beh == B_EDNS_STRIP ? 0 : fq->udp;
	farm_txq_commit(t, n, 0, 0, 0);
	f->c[p->beh].forwarded++;
}

static void
farm_query(struct farm *f, const uint8_t *q, size_t len,
    const struct sockaddr_in *from, uint32_t dst)
{
	const struct farm_profile *p = farm_lookup(f, dst);
	struct farm_counters *c;
	struct dnsmini_q fq;
	uint16_t prof;
	uint32_t to = ntohl(from->sin_addr.s_addr);

	if (p == NULL) {
		f->unassigned++;
		return;
	}
	prof = (uint16_t)(f->table[dst - f->lo] - 1);
	c = &f->c[p->beh];
	c->received++;
	if (len < DNS_HDR || (q[2] & 0x80) ||
	    dnsmini_parse(q, len, &fq) == -1) {
		f->malformed++;
		c->dropped++;
		return;
	}
	switch (p->beh) {
	case B_DEAD:
		c->dropped++;
		return;
	case B_LOSSY:
		if (farm_rand(f) % 1000000 < p->a) {
			c->dropped++;
			return;
		}
		break;
	case B_RATELIMITED:
		if (farm_rl_over(f, dst, p->a)) {
			if (p->mode == RL_DROP)
				c->dropped++;
			else
				farm_answer_local(
				    f, q, &fq, p, 5, to, from->sin_port, dst);
			return;
		}
		break;
	case B_REFUSED:
		farm_answer_local(f, q, &fq, p, 5, to, from->sin_port, dst);
		return;
	case B_SERVFAIL:
		farm_answer_local(f, q, &fq, p, 2, to, from->sin_port, dst);
		return;
	case B_HIJACK:
		farm_answer_local(f, q, &fq, p, 0, to, from->sin_port, dst);
		return;
	case B_QCUT:
		if (fq.name_chars > p->a) {
			c->dropped++;
			return;
		}
		break;
	}
	if (!f->have_upstream) {
		c->dropped++;
		return;
	}
	farm_forward(f, q, len, &fq, p, prof, from->sin_addr.s_addr,
	    from->sin_port, dst);
}

static void
farm_delayed_unlink(struct farm *f, struct farm_delayed *d)
{
	if (d->prev != NULL)
		d->prev->next = d->next;
	else
		f->delayed = d->next;
	if (d->next != NULL)
		d->next->prev = d->prev;
}

static void
farm_delayed_fire(struct ev_loop *loop, uint64_t id, void *arg)
{
	struct farm_delayed *d = arg;
	struct farm *f = d->f;

	memcpy(farm_txq_slot(f, f->tx), d->data, d->len);
	farm_txq_commit(f->tx, d->len, d->to_ip, d->to_port, d->src_ip);
	f->c[d->beh].answered++;
	f->ndelayed--;
	farm_delayed_unlink(f, d);
	free(d);
	farm_txq_flush(f, f->tx);
}

/* An answer from upstream on socket si: transform and relay. */
static void
farm_upstream_answer(struct farm *f, unsigned si, uint8_t *b, size_t len)
{
	struct farm_pend pe;
	const struct farm_profile *p;
	struct dnsmini_q fq;
	uint32_t s, src;
	size_t cap;
	uint8_t rcode;

	if (len < DNS_HDR || !(b[2] & 0x80)) {
		f->up_stray++;
		return;
	}
	s = (si << 16) | (uint32_t)(be16_load(b) ^ f->ukey[si]);
	if (s >= f->npend || !f->pend[s].used) {
		f->up_stray++;
		return;
	}
	pe = f->pend[s];
	if (dnsmini_parse(b, len, &fq) == -1 || fq.qend - DNS_HDR != pe.qlen ||
	    farm_hash(b + DNS_HDR, pe.qlen) != pe.qhash) {
		f->up_stray++;
		return;
	}
	farm_pend_free(f, s);
	p = &f->profiles[pe.prof];
	be16_store(b, pe.client_id);
	switch (p->beh) {
	case B_CASE:
		if (p->mode == CASE_FORWARD)
			farm_scramble(b, fq.qname_end, pe.seed);
		else if (p->mode == CASE_ECHO)
			farm_scramble(b, fq.qname_end, (uint32_t)farm_rand(f));
		break;
	case B_EDNS_STRIP:
		len = dnsmini_strip_opt(b, len, fq.qend, b, len);
		if (len == 0) {
			f->malformed++;
			f->c[p->beh].dropped++;
			return;
		}
		break;
	case B_NXHIJACK:
		rcode = b[3] & 0x0f;
		if (rcode == 3 || (rcode == 0 && be16_load(b + 6) == 0)) {
			b[2] &= (uint8_t)~0x06; /* no AA, no TC */
			b[3] = 0x80;
			be16_store(b + 6, 1);
			be16_store(b + 8, 0);
			be16_store(b + 10, 0);
			len = dnsmini_put_a(b, fq.qend, p->ip);
		}
		break;
	case B_WRONG_ID:
		be16_store(b, pe.client_id ^ 0x5a5a);
		break;
	}
	/* What the client may receive: its EDNS size, else 512. */
	cap = pe.client_udp ? pe.client_udp : 512;
	if (p->beh == B_SMALL_UDP)
		cap = MIN(cap, p->a);
	if (len > cap) {
		len = dnsmini_truncate(b, fq.qend);
		f->truncated++;
	}
	src = p->beh == B_WRONG_SOURCE ? farm_wrong_source(p, pe.local_ip) :
					 pe.local_ip;
	if (p->beh == B_SLOW) {
		struct farm_delayed *d;
		uint32_t ms = farm_rand_range(f, p->a, p->b);

		if (f->ndelayed >= f->max_delayed) {
			f->delay_overflow++;
			f->c[p->beh].dropped++;
			return;
		}
		d = xmalloc(sizeof *d + len);
		d->f = f;
		d->to_ip = ntohl(pe.client_ip);
		d->to_port = pe.client_port;
		d->src_ip = src;
		d->beh = p->beh;
		d->len = len;
		memcpy(d->data, b, len);
		d->prev = NULL;
		d->next = f->delayed;
		if (f->delayed != NULL)
			f->delayed->prev = d;
		f->delayed = d;
		f->ndelayed++;
		/*
		 * Timers count from the iteration's cached time, which is
		 * older than this read when a batch took a while: add the
		 * lag so a slow resolver never answers sooner than it says.
		 */
		ev_timer_add(f->loop,
		    (uint64_t)ms * 1000 + (now_mono_us() - ev_now_us(f->loop)),
		    farm_delayed_fire, d);
		return;
	}
	memcpy(farm_txq_slot(f, f->tx), b, len);
	farm_txq_commit(f->tx, len, ntohl(pe.client_ip), pe.client_port, src);
	f->c[p->beh].answered++;
}

/* ---- event handlers ---- */

static void
farm_rx_init(struct farm_rx *r, int ctl)
{
	unsigned i;

	for (i = 0; i < BATCH; i++) {
		r->iov[i].iov_base = r->buf[i];
		r->iov[i].iov_len = sizeof r->buf[i];
		memset(&r->m[i], 0, sizeof r->m[i]);
		r->m[i].msg_hdr.msg_iov = &r->iov[i];
		r->m[i].msg_hdr.msg_iovlen = 1;
		r->m[i].msg_hdr.msg_name = &r->from[i];
		r->m[i].msg_hdr.msg_namelen = sizeof r->from[i];
		if (ctl) {
			r->m[i].msg_hdr.msg_control = r->ctl[i];
			r->m[i].msg_hdr.msg_controllen = sizeof r->ctl[i];
		}
	}
}

static void
farm_on_query(struct ev_loop *loop, int fd, int events, void *arg)
{
	struct farm *f = arg;
	struct farm_rx *r = f->rx;
	int n, i, rounds;

	for (rounds = 0; rounds < 16; rounds++) {
		farm_rx_init(r, 1);
		n = recvmmsg(fd, r->m, BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			break;
		for (i = 0; i < n; i++) {
			struct msghdr *h = &r->m[i].msg_hdr;
			struct cmsghdr *cm;
			uint32_t dst = 0;

			for (cm = CMSG_FIRSTHDR(h); cm != NULL;
			     cm = CMSG_NXTHDR(h, cm)) {
				struct in_pktinfo pi;

				if (cm->cmsg_level != IPPROTO_IP ||
				    cm->cmsg_type != IP_PKTINFO)
					continue;
				memcpy(&pi, CMSG_DATA(cm), sizeof pi);
				dst = ntohl(pi.ipi_addr.s_addr);
			}
			if (dst == 0 || (h->msg_flags & MSG_TRUNC) ||
			    r->m[i].msg_len > RXBUF) {
				f->malformed++;
				continue;
			}
			farm_query(
			    f, r->buf[i], r->m[i].msg_len, &r->from[i], dst);
		}
		farm_flush_all(f);
		if (n < BATCH)
			break;
	}
}

static void
farm_on_upstream(struct ev_loop *loop, int fd, int events, void *arg)
{
	struct farm *f = arg;
	struct farm_rx *r = f->rx;
	unsigned si;
	int n, i, rounds;

	for (si = 0; si < f->nup && f->ufd[si] != fd; si++)
		continue;
	for (rounds = 0; rounds < 16; rounds++) {
		farm_rx_init(r, 0);
		n = recvmmsg(fd, r->m, BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			break;
		for (i = 0; i < n; i++) {
			if (r->m[i].msg_hdr.msg_flags & MSG_TRUNC) {
				f->up_stray++;
				continue;
			}
			farm_upstream_answer(f, si, r->buf[i], r->m[i].msg_len);
		}
		farm_flush_all(f);
		if (n < BATCH)
			break;
	}
}

static void
farm_on_tick(struct ev_loop *loop, uint64_t id, void *arg)
{
	struct farm *f = arg;
	uint64_t now = ev_now_us(loop);

	/* Equal timeouts: the oldest pending query is always at the head. */
	while (f->used_head != NIL &&
	    now - f->pend[f->used_head].sent_us >= f->up_timeout_us) {
		farm_pend_free(f, f->used_head);
		f->up_timeouts++;
	}
	ev_timer_add(loop, 100000, farm_on_tick, f);
}

static void
farm_stats_write(struct farm *f, FILE *fp)
{
	int b;

	for (b = 0; b < B_COUNT; b++)
		fprintf(fp,
		    "{\"behaviour\":\"%s\",\"received\":%" PRIu64
		    ",\"answered\":%" PRIu64 ",\"dropped\":%" PRIu64
		    ",\"forwarded\":%" PRIu64 "}\n",
		    farm_beh_names[b], f->c[b].received, f->c[b].answered,
		    f->c[b].dropped, f->c[b].forwarded);
	fprintf(fp,
	    "{\"farm\":{\"addresses\":%zu,\"unassigned\":%" PRIu64
	    ",\"malformed\":%" PRIu64 ",\"upstream_timeouts\":%" PRIu64
	    ",\"upstream_stray\":%" PRIu64 ",\"pending_full\":%" PRIu64
	    ",\"delay_overflow\":%" PRIu64 ",\"truncated\":%" PRIu64
	    ",\"send_errors\":%" PRIu64 ",\"pending\":%u,\"delayed\":%zu}}\n",
	    f->naddrs, f->unassigned, f->malformed, f->up_timeouts, f->up_stray,
	    f->pend_full, f->delay_overflow, f->truncated, f->send_errors,
	    f->npend - f->free_n, f->ndelayed);
}

static void
farm_stats_dump(struct farm *f)
{
	char *tmp;
	FILE *fp;

	if (f->stats_path == NULL) {
		farm_stats_write(f, stderr);
		fflush(stderr);
		return;
	}
	/* Write then rename, so a reader never sees half a file. */
	tmp = xasprintf("%s.tmp", f->stats_path);
	if ((fp = fopen(tmp, "w")) == NULL) {
		fprintf(
		    stderr, "resolver-farm: %s: %s\n", tmp, strerror(errno));
		free(tmp);
		return;
	}
	farm_stats_write(f, fp);
	if (fclose(fp) != 0 || rename(tmp, f->stats_path) != 0)
		fprintf(stderr, "resolver-farm: %s: %s\n", f->stats_path,
		    strerror(errno));
	free(tmp);
}

static void
farm_on_signal(struct ev_loop *loop, int signo, void *arg)
{
	struct farm *f = arg;

	if (signo == SIGUSR1)
		farm_stats_dump(f);
	else
		ev_stop(loop);
}

/* ---- setup ---- */

static void
farm_bufsize(int fd, int bytes)
{
	/* FORCE works for root and ignores rmem_max; fall back quietly. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) ==
	    -1)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof bytes) ==
	    -1)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
}

static int
farm_open(struct farm *f, int port, struct err *e)
{
	union net_addr a;
	int one = 1;
	unsigned k;

	memset(&a, 0, sizeof a);
	a.in.sin_family = AF_INET;
	a.in.sin_addr.s_addr = htonl(INADDR_ANY);
	a.in.sin_port = htons((uint16_t)port);
	if ((f->fd = net_udp_bind(&a, e)) == -1)
		return err_prefix(e, "farm socket");
	if (setsockopt(f->fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one) == -1)
		return err_set(e, "IP_PKTINFO: %s", strerror(errno));
	farm_bufsize(f->fd, 16 << 20);
	if (net_local_addr(f->fd, &a, e) == -1)
		return -1;
	f->port = net_addr_port(&a);

	f->tx = xmalloc(sizeof *f->tx);
	farm_txq_init(f->tx, f->fd, 1);
	f->rx = xmalloc(sizeof *f->rx);
	if (!f->have_upstream)
		f->nup = 0;
	f->ufd = xcalloc(f->nup ? f->nup : 1, sizeof *f->ufd);
	f->ukey = xcalloc(f->nup ? f->nup : 1, sizeof *f->ukey);
	f->utx = xcalloc(f->nup ? f->nup : 1, sizeof *f->utx);
	for (k = 0; k < f->nup; k++) {
		memset(&a, 0, sizeof a);
		a.sa.sa_family = f->upstream.sa.sa_family;
		if ((f->ufd[k] = net_udp_bind(&a, e)) == -1)
			return err_prefix(e, "upstream socket");
		if (connect(f->ufd[k], &f->upstream.sa,
			net_addr_len(&f->upstream)) == -1)
			return err_set(
			    e, "connect upstream: %s", strerror(errno));
		farm_bufsize(f->ufd[k], 8 << 20);
		f->ukey[k] = (uint16_t)farm_rand(f);
		farm_txq_init(&f->utx[k], f->ufd[k], 0);
	}
	f->npend = f->nup << 16;
	if (f->npend > 0) {
		f->pend = xcalloc(f->npend, sizeof *f->pend);
		f->freeq = xcalloc(f->npend, sizeof *f->freeq);
		for (k = 0; k < f->npend; k++)
			f->freeq[k] = k;
		f->free_n = f->npend;
	}
	f->used_head = f->used_tail = NIL;

	/* Rate-limit state only for rate-limited addresses, load <= 1/2. */
	{
		size_t nrl = 0, span = (size_t)(f->hi - f->lo) + 1, z;

		for (z = 0; z < span; z++)
			if (f->table[z] &&
			    f->profiles[f->table[z] - 1].beh == B_RATELIMITED)
				nrl++;
		for (z = 1; z < 2 * nrl + 2;)
			z <<= 1;
		f->rl = xcalloc(z, sizeof *f->rl);
		f->rl_mask = (uint32_t)(z - 1);
	}
	return 0;
}

#ifndef FARM_NO_MAIN

static void
farm_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: resolver-farm [--spec FILE] [--gen NAME=COUNT,...] [--base "
	    "ADDR]\n"
	    "         [--seed N] [--port P] [--upstream ADDR:PORT] [--truth "
	    "FILE]\n"
	    "         [--stats FILE] [--upstream-timeout-ms MS] "
	    "[--upstream-sockets K]\n"
	    "         [--max-delayed N] [--check]\n"
	    "Plays many DNS resolvers at loopback addresses on one UDP port.\n"
	    "Prints \"port=N\" when ready. SIGUSR1 dumps counters; SIGTERM "
	    "exits.\n"
	    "Behaviours:");
	for (int b = 0; b < B_COUNT; b++)
		fprintf(fp, " %s", farm_beh_names[b]);
	fprintf(fp, "\nSee docs/testing-farm.md.\n");
}

static int
farm_needs_upstream(const struct farm *f)
{
	size_t i;

	for (i = 0; i < f->nprofiles; i++)
		switch (f->profiles[i].beh) {
		case B_DEAD:
		case B_REFUSED:
		case B_SERVFAIL:
		case B_HIJACK:
			break;
		default:
			return 1;
		}
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"spec", required_argument, NULL, 's'},
	    {"gen", required_argument, NULL, 'g'},
	    {"base", required_argument, NULL, 'b'},
	    {"seed", required_argument, NULL, 'S'},
	    {"port", required_argument, NULL, 'p'},
	    {"upstream", required_argument, NULL, 'u'},
	    {"truth", required_argument, NULL, 't'},
	    {"stats", required_argument, NULL, 'x'},
	    {"upstream-timeout-ms", required_argument, NULL, 'T'},
	    {"upstream-sockets", required_argument, NULL, 'K'},
	    {"max-delayed", required_argument, NULL, 'D'},
	    {"check", no_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	static struct farm farm;
	struct farm *f = &farm;
	struct err e = {""};
	const char *spec = NULL, *gen = NULL, *truth = NULL;
	uint32_t base = 0x7f010000u; /* 127.1.0.0 */
	long long v, port = 0;
	int ch, check = 0;
	unsigned k;

	f->rng = 1;
	f->up_timeout_us = 3000000;
	f->nup = 2;
	f->max_delayed = 65536;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			spec = optarg;
			break;
		case 'g':
			gen = optarg;
			break;
		case 'b':
			if (farm_parse_ip(optarg, &base) == -1)
				goto bad;
			break;
		case 'S':
			if (parse_int(optarg, 0, LLONG_MAX, &v, &e) == -1)
				goto bad;
			f->rng = (uint64_t)v;
			break;
		case 'p':
			if (parse_int(optarg, 0, 65535, &port, &e) == -1)
				goto bad;
			break;
		case 'u':
			if (net_addr_parse(optarg, 53, &f->upstream, &e) == -1)
				goto bad;
			f->have_upstream = 1;
			break;
		case 't':
			truth = optarg;
			break;
		case 'x':
			f->stats_path = optarg;
			break;
		case 'T':
			if (parse_int(optarg, 1, 600000, &v, &e) == -1)
				goto bad;
			f->up_timeout_us = (uint64_t)v * 1000;
			break;
		case 'K':
			if (parse_int(optarg, 1, 64, &v, &e) == -1)
				goto bad;
			f->nup = (unsigned)v;
			break;
		case 'D':
			if (parse_int(optarg, 0, 1 << 24, &v, &e) == -1)
				goto bad;
			f->max_delayed = (size_t)v;
			break;
		case 'c':
			check = 1;
			break;
		case 'h':
			farm_usage(stdout);
			return 0;
		default:
			farm_usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		farm_usage(stderr);
		return 2;
	}
	if (gen != NULL && farm_gen(f, gen, base, &e) == -1)
		goto fail;
	if (spec != NULL && farm_spec_load(f, spec, &e) == -1)
		goto fail;
	if (farm_build(f, &e) == -1)
		goto fail;
	if (!f->have_upstream && farm_needs_upstream(f)) {
		err_set(&e, "forwarding behaviours need --upstream ADDR:PORT");
		goto fail;
	}
	if (check) {
		/* Truth without a socket: the port is the one asked for. */
		f->port = (uint16_t)port;
		if (truth != NULL && farm_truth_write(f, truth, &e) == -1)
			goto fail;
		printf("addresses=%zu profiles=%zu\n", f->naddrs, f->nprofiles);
		return 0;
	}
	if ((f->loop = ev_loop_new(&e)) == NULL)
		goto fail;
	if (farm_open(f, (int)port, &e) == -1)
		goto fail;
	if (truth != NULL && farm_truth_write(f, truth, &e) == -1)
		goto fail;
	if (ev_io_add(f->loop, f->fd, EV_READ, farm_on_query, f, &e) == -1)
		goto fail;
	for (k = 0; k < f->nup; k++)
		if (ev_io_add(f->loop, f->ufd[k], EV_READ, farm_on_upstream, f,
			&e) == -1)
			goto fail;
	if (ev_signal_add(f->loop, SIGTERM, farm_on_signal, f, &e) == -1 ||
	    ev_signal_add(f->loop, SIGINT, farm_on_signal, f, &e) == -1 ||
	    ev_signal_add(f->loop, SIGUSR1, farm_on_signal, f, &e) == -1)
		goto fail;
	ev_timer_add(f->loop, 100000, farm_on_tick, f);
	printf("port=%u\n", f->port);
	fflush(stdout);
	if (ev_run(f->loop) == -1) {
		fprintf(stderr, "resolver-farm: event loop failed\n");
		return 1;
	}
	farm_flush_all(f);
	if (f->stats_path != NULL)
		farm_stats_dump(f);
	/* Answers still held back by slow addresses are never sent. */
	while (f->delayed != NULL) {
		struct farm_delayed *d = f->delayed;

		f->delayed = d->next;
		free(d);
	}
	close(f->fd);
	for (k = 0; k < f->nup; k++)
		close(f->ufd[k]);
	ev_loop_free(f->loop);
	free(f->table);
	free(f->assigns);
	free(f->profiles);
	free(f->pend);
	free(f->freeq);
	free(f->rl);
	free(f->tx);
	free(f->rx);
	free(f->utx);
	free(f->ufd);
	free(f->ukey);
	return 0;
bad:
	if (e.msg[0] == '\0')
		err_set(&e, "bad value '%s'", optarg);
	fprintf(stderr, "resolver-farm: %s\n", e.msg);
	return 2;
fail:
	fprintf(stderr, "resolver-farm: %s\n", e.msg);
	return 1;
}

#endif /* FARM_NO_MAIN */

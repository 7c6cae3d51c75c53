/* SPDX-License-Identifier: MIT */
/*
 * fec-frame.c — the FEC fork's negotiation rules and payloads (see
 * fec-frame.h). Written from the fork's internal/fec/config.go and
 * payload.go (read for behaviour only) and the s9 capture. No I/O, no
 * state: the engine (engine/server-fec.c, engine/client-fec.c) uses these.
 */
#include <string.h>
#include <strings.h>

#include "proto/fec-frame.h"

static unsigned
clampu(unsigned v, unsigned lo, unsigned hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

void
fec_params_default(struct fec_params *p)
{
	p->enabled = false;
	p->group = FEC_DEFAULT_GROUP;
	p->overhead = FEC_DEFAULT_OVERHEAD;
	p->symbol_size = 0;
	p->flush_ms = FEC_DEFAULT_FLUSH_MS;
}

void
fec_params_normalize(struct fec_params *p)
{
	if (p->group == 0)
		p->group = FEC_DEFAULT_GROUP;
	p->group = clampu(p->group, FEC_MIN_GROUP, FEC_MAX_GROUP);
	p->overhead = clampu(p->overhead, 0, FEC_MAX_OVERHEAD);
	p->symbol_size = clampu(p->symbol_size, 0, FEC_MAX_SYMBOL);
	if (p->flush_ms == 0)
		p->flush_ms = FEC_DEFAULT_FLUSH_MS;
	p->flush_ms = clampu(p->flush_ms, FEC_MIN_FLUSH_MS, FEC_MAX_FLUSH_MS);
}

static const struct {
	const char *name;
	int enabled;
	unsigned group, overhead, flush_ms;
} levels[] = {
    {"none", 0, FEC_DEFAULT_GROUP, FEC_DEFAULT_OVERHEAD, FEC_DEFAULT_FLUSH_MS},
    {"off", 0, FEC_DEFAULT_GROUP, FEC_DEFAULT_OVERHEAD, FEC_DEFAULT_FLUSH_MS},
    {"disabled", 0, FEC_DEFAULT_GROUP, FEC_DEFAULT_OVERHEAD,
	FEC_DEFAULT_FLUSH_MS},
    {"disable", 0, FEC_DEFAULT_GROUP, FEC_DEFAULT_OVERHEAD,
	FEC_DEFAULT_FLUSH_MS},
    {"conservative", 1, 8, 15, 25},
    {"safe", 1, 8, 15, 25},
    {"low", 1, 8, 15, 25},
    {"balanced", 1, 12, 25, 20},
    {"medium", 1, 12, 25, 20},
    {"aggressive", 1, 16, 40, 15},
    {"high", 1, 16, 40, 15},
};

int
fec_params_level(const char *level, struct fec_params *p, struct err *e)
{
	char buf[32];
	size_t i, j, n;

	/* The fork trims, lower-cases and reads '_' as '-'. */
	while (*level == ' ' || *level == '\t')
		level++;
	n = strlen(level);
	while (n > 0 && (level[n - 1] == ' ' || level[n - 1] == '\t'))
		n--;
	if (n >= sizeof buf)
		return err_set(e, "unknown FEC level");
	for (j = 0; j < n; j++)
		buf[j] = level[j] == '_' ? '-' : level[j];
	buf[n] = '\0';
	for (i = 0; i < nitems(levels); i++) {
		if (strcasecmp(buf, levels[i].name) != 0)
			continue;
		fec_params_default(p);
		p->enabled = levels[i].enabled != 0;
		p->group = levels[i].group;
		p->overhead = levels[i].overhead;
		p->flush_ms = levels[i].flush_ms;
		return 0;
	}
	return err_set(e,
	    "unknown FEC level '%.*s' (none, conservative, balanced, "
	    "aggressive)",
	    (int)n, level);
}

void
fec_caps_encode(const struct fec_params *in, uint8_t out[FEC_CAPS_LEN])
{
	struct fec_params p = *in;

	fec_params_normalize(&p);
	out[0] = FEC_VERSION;
	out[1] = p.enabled ? FEC_FLAG_DOWNLOAD : 0;
	out[2] = (uint8_t)p.group;
	out[3] = (uint8_t)p.overhead;
	out[4] = (uint8_t)(p.symbol_size >> 8);
	out[5] = (uint8_t)p.symbol_size;
	out[6] = (uint8_t)(p.flush_ms >> 8);
	out[7] = (uint8_t)p.flush_ms;
}

int
fec_caps_decode(const uint8_t *b, size_t n, struct fec_params *p, struct err *e)
{
	if (n != FEC_CAPS_LEN)
		return err_set(
		    e, "FEC caps: %zu bytes, want %d", n, FEC_CAPS_LEN);
	if (b[0] != FEC_VERSION)
		return err_set(
		    e, "FEC caps: version %u, want %d", b[0], FEC_VERSION);
	p->enabled = (b[1] & FEC_FLAG_DOWNLOAD) != 0;
	p->group = b[2];
	p->overhead = b[3];
	p->symbol_size = (unsigned)b[4] << 8 | b[5];
	p->flush_ms = (unsigned)b[6] << 8 | b[7];
	fec_params_normalize(p);
	return 0;
}

static unsigned
minu(unsigned a, unsigned b)
{
	return a < b ? a : b;
}

void
fec_negotiate(const struct fec_params *cin, const struct fec_params *sin,
    struct fec_params *out)
{
	struct fec_params c = *cin, s = *sin;
	unsigned t;

	fec_params_normalize(&c);
	fec_params_normalize(&s);
	if (!c.enabled || !s.enabled) {
		fec_params_default(out);
		return;
	}
	/* The server's symbol size caps the client's; 0 (auto) on the
	 * server leaves the client's. */
	t = c.symbol_size;
	if (s.symbol_size > 0 && (t == 0 || t > s.symbol_size))
		t = s.symbol_size;
	out->enabled = true;
	out->group = minu(c.group, s.group);
	out->overhead = minu(c.overhead, s.overhead);
	out->symbol_size = t;
	out->flush_ms = minu(c.flush_ms, s.flush_ms);
	fec_params_normalize(out);
}

unsigned
fec_repair_count(unsigned k, unsigned overhead)
{
	unsigned n;

	if (k == 0 || overhead == 0)
		return 0;
	n = (k * overhead + 99) / 100;
	return n == 0 ? 1 : n;
}

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

/* The checks shared by parse and build, on a filled s. */
static int
sym_check(const struct fec_sym *s, struct err *e)
{
	uint32_t sum = 0;
	unsigned i;

	if (s->count == 0 || s->count > FEC_MAX_GROUP)
		return err_set(e, "FEC symbol: group count %u (1..%d)",
		    s->count, FEC_MAX_GROUP);
	if (s->base != s->count)
		return err_set(e,
		    "FEC symbol: base symbol count %u, group count %u", s->base,
		    s->count);
	if (s->id < s->count || s->id >= 2 * s->count)
		return err_set(e, "FEC symbol: id %u outside %u..%u", s->id,
		    s->count, 2 * s->count - 1);
	if (s->sym_len == 0 || s->sym_len > FEC_MAX_SYMBOL)
		return err_set(e, "FEC symbol: %zu symbol bytes", s->sym_len);
	for (i = 0; i < s->count; i++) {
		if (s->lens[i] == 0 || s->lens[i] > s->sym_len)
			return err_set(e,
			    "FEC symbol: packet %u length %u, symbol %zu", i,
			    s->lens[i], s->sym_len);
		sum += s->lens[i];
	}
	if (sum != s->orig_len)
		return err_set(e,
		    "FEC symbol: lengths add up to %u, original length %u", sum,
		    s->orig_len);
	return 0;
}

int
fec_sym_parse(const uint8_t *p, size_t n, struct fec_sym *s, struct err *e)
{
	size_t hdr;
	unsigned i;

	memset(s, 0, sizeof *s);
	if (n < FEC_SYM_HDR)
		return err_set(
		    e, "FEC symbol: %zu bytes, header is %d", n, FEC_SYM_HDR);
	if (p[0] != FEC_VERSION)
		return err_set(e, "FEC symbol: version %u", p[0]);
	s->count = p[1];
	if (s->count == 0 || s->count > FEC_MAX_GROUP)
		return err_set(e, "FEC symbol: group count %u (1..%d)",
		    s->count, FEC_MAX_GROUP);
	hdr = FEC_SYM_HDR + 2 * (size_t)s->count;
	if (n <= hdr)
		return err_set(e,
		    "FEC symbol: %zu bytes, no symbol after %zu header bytes",
		    n, hdr);
	s->orig_len = be32(p + 2);
	s->base = (unsigned)p[6] << 8 | p[7];
	s->id = be32(p + 8);
	for (i = 0; i < s->count; i++)
		s->lens[i] = (uint16_t)(p[FEC_SYM_HDR + 2 * i] << 8 |
		    p[FEC_SYM_HDR + 2 * i + 1]);
	s->sym = p + hdr;
	s->sym_len = n - hdr;
	return sym_check(s, e);
}

size_t
fec_sym_size(unsigned k, size_t t)
{
	return FEC_SYM_HDR + 2 * (size_t)k + t;
}

long
fec_sym_build(const struct fec_sym *in, uint8_t *out, size_t cap, struct err *e)
{
	struct fec_sym s = *in;
	size_t need;
	unsigned i;

	s.base = s.count;
	s.orig_len = 0;
	for (i = 0; i < s.count && i < FEC_MAX_GROUP; i++)
		s.orig_len += s.lens[i];
	if (sym_check(&s, e) == -1)
		return -1;
	need = fec_sym_size(s.count, s.sym_len);
	if (need > cap)
		return err_set(
		    e, "FEC symbol: %zu bytes, room for %zu", need, cap);
	out[0] = FEC_VERSION;
	out[1] = (uint8_t)s.count;
	put32(out + 2, s.orig_len);
	put16(out + 6, s.base);
	put32(out + 8, s.id);
	for (i = 0; i < s.count; i++)
		put16(out + FEC_SYM_HDR + 2 * i, s.lens[i]);
	memmove(out + FEC_SYM_HDR + 2 * s.count, s.sym, s.sym_len);
	return (long)need;
}

bool
fec_sym_same_group(const struct fec_sym *a, const struct fec_sym *b)
{
	return a->count == b->count && a->orig_len == b->orig_len &&
	    a->base == b->base && a->sym_len == b->sym_len &&
	    memcmp(a->lens, b->lens, a->count * sizeof a->lens[0]) == 0;
}

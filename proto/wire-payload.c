/* SPDX-License-Identifier: MIT */
/*
 * wire-payload.c — the fixed payload layouts of the pre-session and control
 * frames (wire-protocol.md 1.8-1.13): MTU probes (with random filler,
 * wire.h says why) and their answers,
 * SESSION_INIT/ACCEPT (with the 13-byte client policy and its scaled
 * seconds bytes), SESSION_BUSY, ERROR_DROP, PING/PONG, the SOCKS5_SYN
 * target and the 7-byte packed control blocks. Parsers apply the checks the
 * upstream server applies; they do not judge session state.
 */
#include <math.h>
#include <string.h>

#include <openssl/rand.h>

#include "proto/wire.h"

#define SCALED_MIN 0.05
#define SCALED_MAX 1.00

static bool
all_zero(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != 0)
			return false;
	return true;
}

static bool
valid_mode(uint8_t mode)
{
	return mode == WIRE_RESPONSE_RAW || mode == WIRE_RESPONSE_BASE64;
}

/* The MTU probes' filler source (wire.h): random unless a test says. */
static wire_filler_fn *mtu_filler = wire_filler_random;

void
wire_set_mtu_filler(wire_filler_fn *fn)
{
	mtu_filler = fn != NULL ? fn : wire_filler_random;
}

int
wire_filler_zeros(uint8_t *buf, size_t n)
{
	memset(buf, 0, n);
	return 0;
}

int
wire_filler_random(uint8_t *buf, size_t n)
{
	/* RAND_bytes takes an int; probes are at most a few KiB. */
	if (n > INT32_MAX || (n > 0 && RAND_bytes(buf, (int)n) != 1))
		return -1;
	return 0;
}

long
wire_mtu_up_req_build(
    uint8_t mode, uint32_t code, size_t m, uint8_t *out, size_t cap)
{
	if (m < WIRE_MTU_UP_MIN || m > cap)
		return -1;
	out[0] = mode;
	be32_store(out + 1, code);
	if (mtu_filler(out + WIRE_MTU_UP_MIN, m - WIRE_MTU_UP_MIN) != 0)
		return -1;
	return (long)m;
}

/*
 * The part both MTU requests share: mode, code, and whether the filler
 * after the fixed min bytes is all zero. -1 when n is below min.
 */
static int
mtu_req_head(const uint8_t *p, size_t n, size_t min, struct wire_mtu_req *r)
{
	memset(r, 0, sizeof *r);
	r->len = n;
	if (n < min)
		return -1;
	r->mode = p[0];
	r->code = be32_load(p + 1);
	r->filler_zero = all_zero(p + min, n - min);
	return 0;
}

int
wire_mtu_up_req_parse(const uint8_t *p, size_t n, struct wire_mtu_req *r)
{
	if (mtu_req_head(p, n, WIRE_MTU_UP_MIN, r) != 0)
		return WIRE_E_INVALID;
	return valid_mode(r->mode) ? WIRE_OK : WIRE_E_INVALID;
}

long
wire_mtu_up_res_build(uint32_t code, uint16_t m, uint8_t *out, size_t cap)
{
	if (cap < 6)
		return -1;
	be32_store(out, code);
	be16_store(out + 4, m);
	return 6;
}

/* Both MTU answers: code, echoed length, zero filler after 6 bytes. */
static int
mtu_res_read(const uint8_t *p, size_t n, struct wire_mtu_res *r)
{
	memset(r, 0, sizeof *r);
	r->payload_len = n;
	if (n < 6)
		return WIRE_E_INVALID;
	r->code = be32_load(p);
	r->len = be16_load(p + 4);
	r->filler_zero = all_zero(p + 6, n - 6);
	return WIRE_OK;
}

int
wire_mtu_up_res_parse(const uint8_t *p, size_t n, struct wire_mtu_res *r)
{
	if (n != 6) {
		memset(r, 0, sizeof *r);
		r->payload_len = n;
		return WIRE_E_INVALID;
	}
	return mtu_res_read(p, n, r);
}

long
wire_mtu_down_req_build(uint8_t mode, uint32_t code, uint16_t d, size_t total,
    uint8_t *out, size_t cap)
{
	if (total < WIRE_MTU_DOWN_REQ_MIN || total > cap)
		return -1;
	out[0] = mode;
	be32_store(out + 1, code);
	be16_store(out + 5, d);
	if (mtu_filler(out + WIRE_MTU_DOWN_REQ_MIN,
		total - WIRE_MTU_DOWN_REQ_MIN) != 0)
		return -1;
	return (long)total;
}

int
wire_mtu_down_req_parse(const uint8_t *p, size_t n, struct wire_mtu_req *r)
{
	if (mtu_req_head(p, n, WIRE_MTU_DOWN_REQ_MIN, r) != 0)
		return WIRE_E_INVALID;
	r->down = be16_load(p + 5);
	if (!valid_mode(r->mode) || r->down < WIRE_MTU_DOWN_MIN ||
	    r->down > WIRE_MTU_DOWN_MAX)
		return WIRE_E_INVALID;
	return WIRE_OK;
}

long
wire_mtu_down_res_build(uint32_t code, uint16_t d, uint8_t *out, size_t cap)
{
	if (d < 6 || d > cap)
		return -1;
	be32_store(out, code);
	be16_store(out + 4, d);
	memset(out + 6, 0, (size_t)d - 6);
	return d;
}

int
wire_mtu_down_res_parse(const uint8_t *p, size_t n, struct wire_mtu_res *r)
{
	return mtu_res_read(p, n, r);
}

long
wire_session_init_build(
    const struct wire_session_init *s, uint8_t *out, size_t cap)
{
	if (cap < WIRE_SESSION_INIT_LEN)
		return -1;
	out[0] = s->mode;
	out[1] = s->comp_pair;
	be16_store(out + 2, s->upload_mtu);
	be16_store(out + 4, s->download_mtu);
	memcpy(out + 6, s->verify, 4);
	return WIRE_SESSION_INIT_LEN;
}

int
wire_session_init_parse(const uint8_t *p, size_t n, struct wire_session_init *s)
{
	memset(s, 0, sizeof *s);
	if (n != WIRE_SESSION_INIT_LEN)
		return WIRE_E_INVALID;
	s->mode = p[0];
	s->comp_pair = p[1];
	s->upload_mtu = be16_load(p + 2);
	s->download_mtu = be16_load(p + 4);
	memcpy(s->verify, p + 6, 4);
	return valid_mode(s->mode) ? WIRE_OK : WIRE_E_INVALID;
}

double
wire_scaled_seconds(uint8_t raw)
{
	return SCALED_MIN + (double)raw / 255.0 * (SCALED_MAX - SCALED_MIN);
}

uint8_t
wire_scaled_byte(double seconds)
{
	if (!(seconds >= SCALED_MIN)) /* also NaN */
		seconds = SCALED_MIN;
	if (seconds > SCALED_MAX)
		seconds = SCALED_MAX;
	return (uint8_t)round(
	    (seconds - SCALED_MIN) / (SCALED_MAX - SCALED_MIN) * 255.0);
}

long
wire_session_accept_build(
    const struct wire_session_accept *a, uint8_t *out, size_t cap)
{
	const struct wire_policy *pl = &a->policy;
	size_t len = a->has_policy ? WIRE_SESSION_ACCEPT_LEN :
				     WIRE_SESSION_ACCEPT_LEGACY_LEN;

	if (cap < len)
		return -1;
	out[0] = a->session_id;
	out[1] = a->cookie;
	out[2] = a->comp_pair;
	memcpy(out + 3, a->verify, 4);
	if (!a->has_policy)
		return (long)len;
	out[7] =
	    (uint8_t)(MIN(pl->max_setup_dup, 15) << 4 | MIN(pl->max_dup, 15));
	out[8] = pl->max_upload_mtu;
	be16_store(out + 9, pl->max_download_mtu);
	out[11] = pl->max_workers;
	out[12] = pl->min_ping_interval_raw;
	out[13] = pl->max_batch;
	be16_store(out + 14, pl->max_arq_window);
	out[16] = pl->max_nack_gap;
	be16_store(out + 17, pl->min_comp_min_size);
	out[19] = pl->min_rto_raw;
	return (long)len;
}

int
wire_session_accept_parse(
    const uint8_t *p, size_t n, struct wire_session_accept *a)
{
	struct wire_policy *pl = &a->policy;

	memset(a, 0, sizeof *a);
	if (n < WIRE_SESSION_ACCEPT_LEGACY_LEN)
		return WIRE_E_INVALID;
	a->session_id = p[0];
	a->cookie = p[1];
	a->comp_pair = p[2];
	memcpy(a->verify, p + 3, 4);
	/* 8..19 bytes: upstream silently ignores a partial policy. */
	if (n < WIRE_SESSION_ACCEPT_LEN)
		return WIRE_OK;
	a->has_policy = true;
	pl->max_dup = p[7] & 0x0f;
	pl->max_setup_dup = p[7] >> 4;
	pl->max_upload_mtu = p[8];
	pl->max_download_mtu = be16_load(p + 9);
	pl->max_workers = p[11];
	pl->min_ping_interval_raw = p[12];
	pl->max_batch = p[13];
	pl->max_arq_window = be16_load(p + 14);
	pl->max_nack_gap = p[16];
	pl->min_comp_min_size = be16_load(p + 17);
	pl->min_rto_raw = p[19];
	return WIRE_OK;
}

long
wire_session_busy_build(const uint8_t verify[4], uint8_t *out, size_t cap)
{
	if (cap < WIRE_SESSION_BUSY_LEN)
		return -1;
	memcpy(out, verify, 4);
	return WIRE_SESSION_BUSY_LEN;
}

int
wire_session_busy_parse(const uint8_t *p, size_t n, uint8_t verify[4])
{
	if (n != WIRE_SESSION_BUSY_LEN)
		return WIRE_E_INVALID;
	memcpy(verify, p, 4);
	return WIRE_OK;
}

/* Fill with random bytes; falls back to zeros only if RAND_bytes fails. */
static void
fill_random(uint8_t *p, size_t n)
{
	if (RAND_bytes(p, (int)n) != 1)
		memset(p, 0, n);
}

/* A 3-byte tag and n bytes of tail (random when tail is NULL). */
static long
tagged_build(
    const char *tag, const uint8_t *tail, size_t n, uint8_t *out, size_t cap)
{
	if (cap < 3 + n)
		return -1;
	memcpy(out, tag, 3);
	if (tail != NULL)
		memcpy(out + 3, tail, n);
	else
		fill_random(out + 3, n);
	return (long)(3 + n);
}

long
wire_error_drop_build(const uint8_t *tail5, uint8_t *out, size_t cap)
{
	return tagged_build("INV", tail5, WIRE_ERROR_DROP_LEN - 3, out, cap);
}

bool
wire_error_drop_check(const uint8_t *p, size_t n)
{
	return n >= 3 && memcmp(p, "INV", 3) == 0;
}

long
wire_ping_build(const uint8_t *nonce4, uint8_t *out, size_t cap)
{
	return tagged_build("PO:", nonce4, WIRE_PING_LEN - 3, out, cap);
}

bool
wire_ping_check(const uint8_t *p, size_t n)
{
	return n == WIRE_PING_LEN && memcmp(p, "PO:", 3) == 0;
}

long
wire_target_build(const struct wire_target *t, uint8_t *out, size_t cap)
{
	size_t alen;

	switch (t->atyp) {
	case WIRE_ATYP_IPV4:
		alen = 4;
		break;
	case WIRE_ATYP_IPV6:
		alen = 16;
		break;
	case WIRE_ATYP_DOMAIN:
		if (t->addr_len == 0)
			return -1;
		alen = 1 + (size_t)t->addr_len;
		break;
	default:
		return -1;
	}
	if (cap < 1 + alen + 2)
		return -1;
	out[0] = t->atyp;
	if (t->atyp == WIRE_ATYP_DOMAIN) {
		out[1] = t->addr_len;
		memcpy(out + 2, t->addr, t->addr_len);
	} else
		memcpy(out + 1, t->addr, alen);
	be16_store(out + 1 + alen, t->port);
	return (long)(1 + alen + 2);
}

int
wire_target_parse(const uint8_t *p, size_t n, struct wire_target *t)
{
	size_t o = 1, alen;

	memset(t, 0, sizeof *t);
	if (n < 3)
		return WIRE_E_INVALID;
	t->atyp = p[0];
	switch (p[0]) {
	case WIRE_ATYP_IPV4:
		alen = 4;
		break;
	case WIRE_ATYP_IPV6:
		alen = 16;
		break;
	case WIRE_ATYP_DOMAIN:
		alen = p[1];
		o = 2;
		if (alen == 0)
			return WIRE_E_INVALID;
		break;
	default:
		return WIRE_E_INVALID;
	}
	if (n < o + alen + 2)
		return WIRE_E_INVALID;
	memcpy(t->addr, p + o, alen);
	t->addr_len = (uint8_t)alen;
	if (t->atyp == WIRE_ATYP_DOMAIN)
		t->addr[alen] = '\0';
	t->port = be16_load(p + o + alen);
	return WIRE_OK;
}

long
wire_block_put(const struct wire_block *b, uint8_t *out, size_t cap)
{
	if (cap < WIRE_PACKED_BLOCK_LEN)
		return -1;
	out[0] = b->type;
	be16_store(out + 1, b->stream_id);
	be16_store(out + 3, b->seq);
	out[5] = b->frag_id;
	out[6] = b->frag_total;
	return WIRE_PACKED_BLOCK_LEN;
}

size_t
wire_block_count(size_t payload_len)
{
	return payload_len / WIRE_PACKED_BLOCK_LEN;
}

int
wire_block_get(const uint8_t *p, size_t n, size_t i, struct wire_block *b)
{
	memset(b, 0, sizeof *b);
	if (i >= wire_block_count(n))
		return WIRE_E_INVALID;
	p += i * WIRE_PACKED_BLOCK_LEN;
	b->type = p[0];
	b->stream_id = be16_load(p + 1);
	b->seq = be16_load(p + 3);
	b->frag_id = p[5];
	b->frag_total = p[6];
	return WIRE_OK;
}

size_t
wire_max_packed_blocks(size_t mtu, size_t max_batch)
{
	size_t n;

	if (mtu < 1)
		mtu = 1;
	n = mtu * 80 / 100 / WIRE_PACKED_BLOCK_LEN;
	if (n < 1)
		n = 1;
	if (n > max_batch)
		n = max_batch;
	return n < 1 ? 1 : n;
}

/* SPDX-License-Identifier: MIT */
/*
 * wire-query.c — the upstream query-name pipeline and its capacity maths
 * (wire-protocol.md 1.2): frame -> encrypt -> base36 -> 63-char labels ->
 * ".domain", and on the server side the reverse with upstream's checks in
 * upstream's order (domain match, minimum data length, base36, decrypt,
 * frame header). It handles names as text; building and parsing the DNS
 * message around them belongs to proto/dns.c.
 */
#include <string.h>

#include "proto/b36.h"
#include "proto/wire.h"

#define WORK_MAX 4096 /* largest frame handled here */
#define TEXT_MAX 2048 /* largest data text (dots removed) */

size_t
wire_qname_len(size_t frame_len, size_t domain_len, int method)
{
	int ovh = wire_cipher_overhead(method);

	return b36_qname_len(
	    frame_len + (size_t)(ovh < 0 ? 0 : ovh), domain_len);
}

size_t
wire_max_upload_payload(size_t domain_len, int method)
{
	size_t p, best = 0;

	if (wire_cipher_overhead(method) < 0)
		return 0;
	/* Monotonic in p, and the answer is far below 253 bytes. */
	for (p = 1; p <= WIRE_QNAME_MAX; p++) {
		if (wire_qname_len(WIRE_HDR_MAX + p, domain_len, method) >
		    WIRE_QNAME_MAX)
			break;
		best = p;
	}
	return best;
}

long
wire_encode_query_name(const struct wire_frame *f, struct wire_cipher *c,
    const uint8_t *nonce, const char *domain, char *out, size_t cap)
{
	uint8_t frame[WORK_MAX], enc[WORK_MAX + WIRE_CIPHER_OVERHEAD_MAX];
	long n, m;

	if ((n = wire_frame_build(f, frame, sizeof frame)) < 0)
		return -1;
	if ((m = wire_encrypt(c, frame, (size_t)n, nonce, enc, sizeof enc)) < 0)
		return -1;
	return b36_write_qname(enc, (size_t)m, domain, out, cap);
}

static int
lower(int ch)
{
	return ch >= 'A' && ch <= 'Z' ? ch + ('a' - 'A') : ch;
}

static bool
same_text(const char *a, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
			return false;
	return true;
}

long
wire_match_domain(const char *qname, size_t qname_len,
    const char *const *domains, size_t ndomains, size_t *data_len)
{
	size_t i, dl, best_len = 0;
	long best = -1;

	if (qname_len > 0 && qname[qname_len - 1] == '.')
		qname_len--;
	for (i = 0; i < ndomains; i++) {
		dl = strlen(domains[i]);
		if (dl > 0 && domains[i][dl - 1] == '.')
			dl--;
		if (dl == 0 || dl > qname_len || (best >= 0 && dl <= best_len))
			continue;
		if (dl < qname_len && qname[qname_len - dl - 1] != '.')
			continue;
		if (!same_text(qname + qname_len - dl, domains[i], dl))
			continue;
		best = (long)i;
		best_len = dl;
	}
	if (best >= 0 && data_len != NULL)
		*data_len =
		    best_len == qname_len ? 0 : qname_len - best_len - 1;
	return best;
}

int
wire_decode_query_name(const char *qname, size_t qname_len,
    const char *const *domains, size_t ndomains, struct wire_cipher *c,
    uint8_t *buf, size_t cap, struct wire_frame *f, size_t *domain_idx)
{
	char text[TEXT_MAX];
	uint8_t raw[TEXT_MAX];
	size_t data_len, i, tl = 0;
	long idx, n;
	int method = wire_cipher_method(c);

	memset(f, 0, sizeof *f);
	idx = wire_match_domain(qname, qname_len, domains, ndomains, &data_len);
	if (idx < 0)
		return WIRE_E_OUT_OF_ZONE;
	if (domain_idx != NULL)
		*domain_idx = (size_t)idx;
	if (data_len == 0)
		return WIRE_E_NO_LABELS;
	/* Label boundaries carry no meaning: the server drops the dots. */
	for (i = 0; i < data_len; i++) {
		if (qname[i] == '.')
			continue;
		if (tl == sizeof text)
			return WIRE_E_SPACE;
		text[tl++] = qname[i];
	}
	if (tl < WIRE_MIN_LABEL_LEN)
		return WIRE_E_SHORT_LABEL;
	if (method == WIRE_METHOD_NONE || method == WIRE_METHOD_XOR) {
		if ((n = b36_decode(text, tl, buf, cap)) < 0)
			return b36_decoded_len(tl) > (long)cap ? WIRE_E_SPACE :
								 WIRE_E_BASE36;
		n = wire_decrypt(c, buf, (size_t)n, buf, cap);
	} else {
		if ((n = b36_decode(text, tl, raw, sizeof raw)) < 0)
			return WIRE_E_BASE36;
		if ((n = wire_decrypt(c, raw, (size_t)n, buf, cap)) < 0)
			return WIRE_E_DECRYPT;
	}
	return wire_frame_parse(buf, (size_t)n, f);
}

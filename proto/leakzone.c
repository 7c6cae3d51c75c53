/* SPDX-License-Identifier: MIT */
/*
 * leakzone.c — names and answers of the leak zone (leakzone.h): the
 * server's classifier and answer writer, the client's name writer and
 * answer and report readers. Every length read from a packet is checked
 * against the packet; nothing here allocates.
 */
#include "proto/leakzone.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
alnum_run(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
			(s[i] >= '0' && s[i] <= '9')))
			return 0;
	return 1;
}

int
leakz_token_ok(const char *s, size_t len)
{
	return len >= LEAKZ_TOKEN_MIN && len <= LEAKZ_TOKEN_MAX &&
	    alnum_run(s, len);
}

enum leakz_kind
leakz_classify(const char *qname, size_t qname_len, const char *zone,
    struct leakz_qname *out)
{
	size_t zl = strlen(zone), rest, l1, tl;
	const char *dot, *tok;

	memset(out, 0, sizeof *out);
	out->kind = LEAKZ_OUT;
	out->idx = -1;
	if (zl == 0 || qname_len < zl)
		return LEAKZ_OUT;
	if (strncasecmp(qname + qname_len - zl, zone, zl) != 0)
		return LEAKZ_OUT;
	if (qname_len > zl && qname[qname_len - zl - 1] != '.')
		return LEAKZ_OUT;
	out->kind = LEAKZ_OTHER;
	if (qname_len == zl)
		return LEAKZ_OTHER;
	rest = qname_len - zl - 1; /* "label.token" */
	dot = memchr(qname, '.', rest);
	if (dot == NULL)
		return LEAKZ_OTHER;
	l1 = (size_t)(dot - qname);
	tok = dot + 1;
	tl = rest - l1 - 1;
	if (memchr(tok, '.', tl) != NULL || !leakz_token_ok(tok, tl))
		return LEAKZ_OTHER;
	if (l1 >= 3 && qname[0] == 'r' && qname[1] == '-' &&
	    l1 - 2 <= LEAKZ_RAND_MAX && alnum_run(qname + 2, l1 - 2)) {
		out->kind = LEAKZ_REPORT;
	} else if (l1 >= 3 && qname[0] == 'n') {
		const char *dash = memchr(qname, '-', l1);
		size_t dl, rl;
		int idx = 0;

		if (dash == NULL)
			return LEAKZ_OTHER;
		dl = (size_t)(dash - qname) - 1;
		rl = l1 - dl - 2;
		if (dl < 1 || dl > 2 || !alnum_run(qname + 1, dl) || rl < 1 ||
		    rl > LEAKZ_RAND_MAX || !alnum_run(dash + 1, rl))
			return LEAKZ_OTHER;
		for (size_t i = 1; i <= dl; i++) {
			if (qname[i] < '0' || qname[i] > '9')
				return LEAKZ_OTHER;
			idx = idx * 10 + (qname[i] - '0');
		}
		if (idx >= LEAKZ_NAMES_MAX || (dl == 2 && qname[1] == '0'))
			return LEAKZ_OTHER;
		out->kind = LEAKZ_NAME;
		out->idx = idx;
	} else
		return LEAKZ_OTHER;
	memcpy(out->token, tok, tl);
	out->token[tl] = '\0';
	return out->kind;
}

int
leakz_name(char *buf, size_t cap, const char *zone, const char *token, int idx,
    const char *rnd, struct err *e)
{
	size_t rl = strlen(rnd);
	int n;

	if (!leakz_token_ok(token, strlen(token)))
		return err_set(e, "bad leak token");
	if (rl < 1 || rl > LEAKZ_RAND_MAX || !alnum_run(rnd, rl))
		return err_set(e, "bad random label");
	if (idx >= LEAKZ_NAMES_MAX)
		return err_set(e, "name number %d out of range", idx);
	if (idx < 0)
		n = snprintf(buf, cap, "r-%s.%s.%s", rnd, token, zone);
	else
		n = snprintf(buf, cap, "n%d-%s.%s.%s", idx, rnd, token, zone);
	if (n < 0 || (size_t)n >= cap || n > 253)
		return err_set(
		    e, "leak zone %s is too long for a test name", zone);
	return 0;
}

/* ---- server side ---- */

/* An RR with the owner a pointer to the question name, TTL 0. */
static size_t
rr_head(uint8_t *p, uint16_t type, uint16_t rdlen)
{
	be16_store(p, 0xc00c);
	be16_store(p + 2, type);
	be16_store(p + 4, DNS_CLASS_IN);
	be32_store(p + 6, 0);
	be16_store(p + 10, rdlen);
	return 12;
}

long
leakz_answer_build(uint8_t *out, size_t cap, const struct dns_query *q,
    const union net_addr *asker, const struct leakz_entry *rep, size_t nrep,
    struct err *e)
{
	size_t qlen = q->qname_wire_len + 4, p, budget, rd, shown = 0, i;
	uint8_t ab[16];
	char ip[INET6_ADDRSTRLEN], s[256];
	unsigned an = 0;
	int fam = net_addr_ip_bytes(asker, ab), n;

	budget = 512;
	if (q->opt_len > 0 && q->edns_udp_size > 512)
		budget = q->edns_udp_size;
	if (budget > LEAKZ_UDP_MAX)
		budget = LEAKZ_UDP_MAX;
	if (budget > cap)
		budget = cap;
	if (DNS_HDR_LEN + qlen + 12 + 64 + DNS_OPT_LEN > budget ||
	    DNS_HDR_LEN + qlen > q->msg_len)
		return err_set(e, "answer buffer too small");
	be16_store(out, q->id);
	be16_store(out + 2, dns_resp_flags_aa(q->flags, DNS_RCODE_NOERROR));
	be16_store(out + 4, 1);
	be16_store(out + 8, 0);
	be16_store(out + 10, q->opt_len > 0 ? 1 : 0);
	memcpy(out + DNS_HDR_LEN, q->msg + DNS_HDR_LEN, qlen);
	p = DNS_HDR_LEN + qlen;
	if (q->opt_len > 0)
		budget -= DNS_OPT_LEN;
	if (fam == 4)
		inet_ntop(AF_INET, ab, ip, sizeof ip);
	else if (fam == 6)
		inet_ntop(AF_INET6, ab, ip, sizeof ip);
	if (rep != NULL &&
	    (q->qtype == DNS_TYPE_TXT || q->qtype == DNS_TYPE_CAA)) {
		int caa = q->qtype == DNS_TYPE_CAA;
		const char *pre = caa ? "" : "leak1 ";
		size_t rr = p, hl, hdr;

		p += 12;
		if (caa) { /* flags 0, tag "leak1", then the value */
			out[p++] = 0;
			out[p++] = 5;
			memcpy(out + p, "leak1", 5);
			p += 5;
		}
		/* The header first; its K is written once we know it. */
		hl = (size_t)snprintf(s, sizeof s, "%saddrs=%zu shown=%03zu",
		    pre, nrep, (size_t)0);
		hdr = caa ? p : p + 1;
		if (!caa)
			out[p++] = (uint8_t)hl;
		memcpy(out + p, s, hl);
		p += hl;
		for (i = 0; i < nrep; i++) {
			n = snprintf(s, sizeof s, "%s %u %llx", rep[i].addr,
			    rep[i].count, (unsigned long long)rep[i].mask);
			if (n <= 0 || n > 255 || p + 1 + (size_t)n > budget)
				break;
			out[p++] = caa ? (uint8_t)';' : (uint8_t)n;
			memcpy(out + p, s, (size_t)n);
			p += (size_t)n;
			shown++;
		}
		snprintf(s, sizeof s, "%saddrs=%zu shown=%03zu", pre, nrep,
		    shown > 999 ? (size_t)999 : shown);
		memcpy(out + hdr, s, hl);
		rd = p - rr - 12;
		rr_head(out + rr, q->qtype, (uint16_t)rd);
		an = 1;
	} else if (q->qtype == DNS_TYPE_TXT && fam != 0) {
		size_t l = strlen(ip);

		p += rr_head(out + p, DNS_TYPE_TXT, (uint16_t)(l + 1));
		out[p] = (uint8_t)l;
		memcpy(out + p + 1, ip, l);
		p += l + 1;
		an = 1;
	} else if ((q->qtype == DNS_TYPE_A && fam == 4) ||
	    (q->qtype == DNS_TYPE_AAAA && fam == 6)) {
		size_t l = fam == 4 ? 4 : 16;

		p += rr_head(out + p, q->qtype, (uint16_t)l);
		memcpy(out + p, ab, l);
		p += l;
		an = 1;
	}
	be16_store(out + 6, (uint16_t)an);
	if (q->opt_len > 0) {
		out[p] = 0; /* root */
		be16_store(out + p + 1, DNS_TYPE_OPT);
		be16_store(out + p + 3, LEAKZ_UDP_MAX);
		be32_store(out + p + 5, 0);
		be16_store(out + p + 9, 0);
		p += DNS_OPT_LEN;
	}
	return (long)p;
}

/* ---- client side ---- */

/*
 * A CAA RR with tag "leak1" is a report (value "addrs=N shown=K;E;E..."):
 * its pieces become TXT strings as the TXT form has them. Other CAA RRs
 * count as other. 0, or -1 when it runs past its record.
 */
static int
caa_report(const uint8_t *rd, size_t rdlen, struct leakz_answer *a)
{
	size_t tl, v, start, k;

	if (rdlen < 2 || (tl = rd[1]) + 2 > rdlen)
		return -1;
	if (tl != 5 || memcmp(rd + 2, "leak1", 5) != 0) {
		a->other++;
		return 0;
	}
	v = 7;
	for (start = v, k = v; k <= rdlen; k++) {
		if (k < rdlen && rd[k] != ';')
			continue;
		if (a->ntxt < LEAKZ_TXT_MAX) {
			char *t = a->txt[a->ntxt];
			size_t pre = start == v ? 6 : 0, l = k - start;

			if (l + pre > 255)
				return -1;
			memcpy(t, "leak1 ", pre);
			memcpy(t + pre, rd + start, l);
			t[pre + l] = '\0';
			a->ntxt++;
		}
		start = k + 1;
	}
	return 0;
}

int
leakz_answer_parse(const uint8_t *msg, size_t len, uint16_t id,
    const char *qname, uint16_t qtype, struct leakz_answer *a, struct err *e)
{
	char name[DNS_NAME_TEXT_MAX];
	const char *why = "";
	size_t off = DNS_HDR_LEN;
	unsigned qd, ancount, i;

	memset(a, 0, sizeof *a);
	if (len < DNS_HDR_LEN)
		return err_set(e, "shorter than a DNS header");
	a->flags = be16_load(msg + 2);
	a->rcode = a->flags & DNS_F_RCODE;
	if (!(a->flags & DNS_F_QR))
		return err_set(e, "not an answer (QR=0)");
	if (be16_load(msg) != id)
		return err_set(e, "another query's id");
	qd = be16_load(msg + 4);
	ancount = be16_load(msg + 6);
	if (qd != 1)
		return err_set(e, "%u questions", qd);
	if (dns_name_read(msg, len, off, name, &off, &why) != 0)
		return err_set(e, "question does not parse: %s", why);
	if (off + 4 > len)
		return err_set(e, "question does not parse: no type and class");
	if (strcasecmp(name, qname) != 0 || be16_load(msg + off) != qtype)
		return err_set(e, "another question");
	off += 4;
	for (i = 0; i < ancount; i++) {
		uint16_t type, rdlen;
		size_t rd;

		if (dns_name_read(msg, len, off, name, &off, &why) != 0)
			return err_set(
			    e, "answer %u: name does not parse: %s", i, why);
		if (off + 10 > len)
			return err_set(e, "answer %u runs past the end", i);
		type = be16_load(msg + off);
		rdlen = be16_load(msg + off + 8);
		rd = off + 10;
		if (rd + rdlen > len)
			return err_set(e, "answer %u runs past the end", i);
		if (type == DNS_TYPE_A || type == DNS_TYPE_AAAA) {
			size_t want = type == DNS_TYPE_A ? 4 : 16;

			if (rdlen != want)
				return err_set(e, "answer %u: %s of %u bytes",
				    i, type == DNS_TYPE_A ? "A" : "AAAA",
				    rdlen);
			if (a->naddr < LEAKZ_ADDRS_MAX)
				inet_ntop(
				    type == DNS_TYPE_A ? AF_INET : AF_INET6,
				    msg + rd, a->addr[a->naddr++],
				    NET_ADDR_STRLEN);
		} else if (type == DNS_TYPE_TXT) {
			size_t t = rd;

			while (t < rd + rdlen) {
				size_t l = msg[t];

				if (t + 1 + l > rd + rdlen)
					return err_set(e,
					    "answer %u: TXT string runs past "
					    "its record",
					    i);
				if (a->ntxt < LEAKZ_TXT_MAX) {
					memcpy(a->txt[a->ntxt], msg + t + 1, l);
					a->txt[a->ntxt++][l] = '\0';
				}
				t += 1 + l;
			}
		} else if (type == DNS_TYPE_CAA) {
			if (caa_report(msg + rd, rdlen, a) != 0)
				return err_set(e,
				    "answer %u: CAA report does not parse", i);
		} else
			a->other++;
		off = rd + rdlen;
	}
	return 0;
}

static int
hex_u64(const char *s, uint64_t *v)
{
	size_t i, n = strlen(s);

	if (n < 1 || n > 16)
		return -1;
	*v = 0;
	for (i = 0; i < n; i++) {
		int d = hex_digit((unsigned char)s[i]);

		if (d < 0)
			return -1;
		*v = (*v << 4) | (uint64_t)d;
	}
	return 0;
}

int
leakz_report_parse(const struct leakz_answer *a, struct leakz_entry *out,
    size_t max, size_t *n, size_t *total, struct err *e)
{
	unsigned long long na, ns;
	char tail;
	size_t i, k = 0;

	*n = *total = 0;
	if (a->ntxt == 0)
		return err_set(e, "no report data (TXT or CAA leak1)");
	if (sscanf(a->txt[0], "leak1 addrs=%llu shown=%llu%c", &na, &ns,
		&tail) != 2)
		return err_set(e, "not a leak report (no leak1 header)");
	if (ns > na || ns > 999 || ns != a->ntxt - 1)
		return err_set(e, "report says %llu of %llu entries, has %zu",
		    ns, na, a->ntxt - 1);
	for (i = 1; i < a->ntxt; i++) {
		char addr[64], cnt[16], mask[24], extra;
		struct leakz_entry en;
		uint8_t b[16];
		char *end;
		unsigned long c;

		memset(&en, 0, sizeof en);
		if (strlen(a->txt[i]) > 120 ||
		    sscanf(a->txt[i], "%63s %15s %23s %c", addr, cnt, mask,
			&extra) != 3)
			return err_set(e,
			    "report entry %zu is not "
			    "\"ADDRESS COUNT MASK\"",
			    i);
		if (inet_pton(AF_INET, addr, b) == 1)
			en.family = 4;
		else if (inet_pton(AF_INET6, addr, b) == 1)
			en.family = 6;
		else
			return err_set(
			    e, "report entry %zu: not an address", i);
		inet_ntop(en.family == 4 ? AF_INET : AF_INET6, b, en.addr,
		    sizeof en.addr);
		c = strtoul(cnt, &end, 10);
		if (*end != '\0' || cnt[0] < '0' || cnt[0] > '9' || c == 0 ||
		    c > 0xffffffffUL)
			return err_set(e, "report entry %zu: bad count", i);
		en.count = (uint32_t)c;
		if (hex_u64(mask, &en.mask) != 0 || en.mask == 0)
			return err_set(e, "report entry %zu: bad name mask", i);
		if (k < max)
			out[k++] = en;
	}
	*n = k;
	*total = (size_t)na;
	return 0;
}

int
leakz_whoami_addr(
    const struct leakz_answer *a, char *ip, size_t cap, struct err *e)
{
	uint8_t b[16];
	size_t i;

	ip[0] = '\0';
	for (i = 0; i < a->ntxt && ip[0] == '\0'; i++) {
		char t[256], *tok, *save = NULL;

		snprintf(t, sizeof t, "%s", a->txt[i]);
		for (tok = strtok_r(t, " \t,;", &save); tok != NULL;
		     tok = strtok_r(NULL, " \t,;", &save)) {
			int fam = inet_pton(AF_INET, tok, b) == 1 ? AF_INET :
			    inet_pton(AF_INET6, tok, b) == 1	  ? AF_INET6 :
								    0;

			if (fam != 0) {
				if (inet_ntop(fam, b, ip, (socklen_t)cap) ==
				    NULL)
					ip[0] = '\0';
				break;
			}
		}
	}
	if (ip[0] == '\0' && a->naddr > 0)
		snprintf(ip, cap, "%s", a->addr[0]);
	if (a->rcode != 0)
		return err_set(
		    e, "rcode %u (%s)", a->rcode, dns_rcode_name(a->rcode));
	if (ip[0] == '\0')
		return err_set(e, "no address in the answer");
	return 0;
}

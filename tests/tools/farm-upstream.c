/* SPDX-License-Identifier: MIT */
/*
 * farm-upstream.c — a tiny, fast authoritative DNS responder that stands
 * upstream of the resolver farm in tests and benchmarks. For any name
 * under --zone it answers TXT queries with a TXT record, other types with
 * NODATA; names outside the zone get NXDOMAIN; all with AA set.
 *
 * The TXT content tells the test what the upstream saw: a first label
 * "sN" (N decimal, up to 4000) asks for N bytes of payload, otherwise the
 * text is "q=<name as received> edns=<size|none>", so letter-case changes
 * and OPT stripping done on the way are visible in the answer. Answers
 * larger than the query's EDNS size (512 without OPT) are truncated to
 * header and question with TC set, as a real server does.
 *
 * It is not the tunnel server and not a general authoritative server: no
 * TCP, no zone files, no other record types. Prints "port=N" when ready;
 * SIGTERM ends it.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/net.h"
#include "common/util.h"
#include "tests/tools/dnsmini.h"

#define UP_BATCH       64
#define UP_BUF	       4096
#define UP_OUT	       8192
#define UP_MAX_PAYLOAD 4000

/* Text name to lower-case wire form; returns length or -1. */
static int
up_zone_wire(const char *zone, uint8_t *out, size_t cap)
{
	size_t o = 0, n;
	const char *s = zone, *dot;

	while (*s != '\0') {
		dot = strchr(s, '.');
		n = dot ? (size_t)(dot - s) : strlen(s);
		if (n == 0 || n > 63 || o + n + 2 > cap)
			return -1;
		out[o++] = (uint8_t)n;
		for (size_t i = 0; i < n; i++)
			out[o++] = (uint8_t)tolower((unsigned char)s[i]);
		s += n;
		if (*s == '.')
			s++;
	}
	out[o++] = 0;
	return (int)o;
}

static int
up_in_zone(const uint8_t *p, size_t qname_end, const uint8_t *zw, size_t zl)
{
	size_t o = DNS_HDR, i;

	for (;;) {
		if (qname_end - o == zl) {
			for (i = 0; i < zl; i++)
				if (tolower(p[o + i]) != zw[i])
					break;
			if (i == zl)
				return 1;
		}
		if (p[o] == 0)
			return 0;
		o += 1 + (size_t)p[o];
		if (o >= qname_end)
			return 0;
	}
}

/* Requested payload size from a first label "sN", or -1. */
static long
up_size_label(const uint8_t *p)
{
	uint8_t n = p[DNS_HDR];
	long v = 0;
	unsigned i;

	if (n < 2 || n > 5 || (p[DNS_HDR + 1] | 0x20) != 's')
		return -1;
	for (i = 2; i <= n; i++) {
		if (!isdigit(p[DNS_HDR + i]))
			return -1;
		v = v * 10 + (p[DNS_HDR + i] - '0');
	}
	return v <= UP_MAX_PAYLOAD ? v : -1;
}

/* Append TXT rdata of total payload bytes from src (split in 255s). */
static size_t
up_put_txt_rr(uint8_t *b, size_t o, const uint8_t *src, size_t n)
{
	size_t rd = o + 10 + 2, off = 0, chunk;

	b[o] = 0xc0;
	b[o + 1] = DNS_HDR;
	be16_store(b + o + 2, DNS_T_TXT);
	be16_store(b + o + 4, 1);
	be32_store(b + o + 6, 0);
	do {
		chunk = MIN(n - off, (size_t)255);
		b[rd++] = (uint8_t)chunk;
		memcpy(b + rd, src + off, chunk);
		rd += chunk;
		off += chunk;
	} while (off < n);
	be16_store(b + o + 10, (uint16_t)(rd - (o + 12)));
	return rd;
}

/* Build the answer to query q (len bytes) into out; 0 = no answer. */
static size_t
up_answer(
    const uint8_t *q, size_t len, const uint8_t *zw, size_t zl, uint8_t *out)
{
	struct dnsmini_q fq;
	uint8_t payload[UP_MAX_PAYLOAD + 64];
	size_t o, n, limit;
	long want;

	if (len < DNS_HDR || (q[2] & 0x80) || dnsmini_parse(q, len, &fq) == -1)
		return 0;
	memcpy(out, q, fq.qend);
	out[2] = (uint8_t)(0x84 | (q[2] & 0x79)); /* QR AA opcode RD */
	out[3] = 0;
	be16_store(out + 6, 0);
	be16_store(out + 8, 0);
	be16_store(out + 10, 0);
	o = fq.qend;
	if (!up_in_zone(q, fq.qname_end, zw, zl)) {
		out[3] = 3;
	} else if (fq.qtype == DNS_T_TXT) {
		if ((want = up_size_label(q)) >= 0) {
			for (n = 0; n < (size_t)want; n++)
				payload[n] = (uint8_t)('a' + n % 26);
		} else {
			size_t i = DNS_HDR;

			n = 0;
			memcpy(payload, "q=", 2);
			n = 2;
			while (q[i] != 0) {
				if (n > 2)
					payload[n++] = '.';
				memcpy(payload + n, q + i + 1, q[i]);
				n += q[i];
				i += 1 + (size_t)q[i];
			}
			if (fq.udp)
				n += (size_t)snprintf((char *)payload + n, 32,
				    " edns=%u", fq.udp);
			else
				n += (size_t)snprintf(
				    (char *)payload + n, 32, " edns=none");
		}
		o = up_put_txt_rr(out, o, payload, n);
		be16_store(out + 6, 1);
	}
	if (fq.udp)
		o = dnsmini_put_opt(out, o);
	limit = fq.udp ? fq.udp : 512;
	if (o > limit)
		o = dnsmini_truncate(out, fq.qend);
	return o;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"port", required_argument, NULL, 'p'},
	    {"bind", required_argument, NULL, 'b'},
	    {"zone", required_argument, NULL, 'z'},
	    {NULL, 0, NULL, 0},
	};
	static uint8_t in[UP_BATCH][UP_BUF], out[UP_BATCH][UP_OUT];
	static struct mmsghdr rm[UP_BATCH], sm[UP_BATCH];
	static struct iovec riov[UP_BATCH], siov[UP_BATCH];
	static struct sockaddr_in from[UP_BATCH];
	const char *bind_s = "127.0.0.1", *zone = "t.example";
	struct err e = {""};
	union net_addr a;
	uint8_t zw[256];
	long long port = 0;
	int fd, zl, ch, n, i, k, buf = 8 << 20;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			if (parse_int(optarg, 0, 65535, &port, &e) == -1) {
				fprintf(stderr, "farm-upstream: --port: %s\n",
				    e.msg);
				return 2;
			}
			break;
		case 'b':
			bind_s = optarg;
			break;
		case 'z':
			zone = optarg;
			break;
		default:
			fprintf(stderr,
			    "usage: farm-upstream [--port P] "
			    "[--bind ADDR] [--zone NAME]\n");
			return 2;
		}
	}
	if ((zl = up_zone_wire(zone, zw, sizeof zw)) == -1) {
		fprintf(stderr, "farm-upstream: bad zone '%s'\n", zone);
		return 2;
	}
	if (net_addr_parse(bind_s, (uint16_t)port, &a, &e) == -1 ||
	    (fd = net_udp_bind(&a, &e)) == -1 ||
	    net_local_addr(fd, &a, &e) == -1) {
		fprintf(stderr, "farm-upstream: %s\n", e.msg);
		return 1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof buf) == -1)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof buf) == -1)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
	/* Blocking from here on: this process does nothing else. */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	printf("port=%u\n", net_addr_port(&a));
	fflush(stdout);
	for (;;) {
		for (i = 0; i < UP_BATCH; i++) {
			riov[i].iov_base = in[i];
			riov[i].iov_len = UP_BUF;
			memset(&rm[i].msg_hdr, 0, sizeof rm[i].msg_hdr);
			rm[i].msg_hdr.msg_iov = &riov[i];
			rm[i].msg_hdr.msg_iovlen = 1;
			rm[i].msg_hdr.msg_name = &from[i];
			rm[i].msg_hdr.msg_namelen = sizeof from[i];
		}
		n = recvmmsg(fd, rm, UP_BATCH, MSG_WAITFORONE, NULL);
		if (n == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			fprintf(stderr, "farm-upstream: recvmmsg: %s\n",
			    strerror(errno));
			return 1;
		}
		for (i = 0, k = 0; i < n; i++) {
			size_t len;

			if (rm[i].msg_hdr.msg_flags & MSG_TRUNC)
				continue;
			len = up_answer(
			    in[i], rm[i].msg_len, zw, (size_t)zl, out[k]);
			if (len == 0)
				continue;
			siov[k].iov_base = out[k];
			siov[k].iov_len = len;
			memset(&sm[k].msg_hdr, 0, sizeof sm[k].msg_hdr);
			sm[k].msg_hdr.msg_iov = &siov[k];
			sm[k].msg_hdr.msg_iovlen = 1;
			sm[k].msg_hdr.msg_name = &from[i];
			sm[k].msg_hdr.msg_namelen = sizeof from[i];
			k++;
		}
		for (i = 0; i < k;) {
			int r = sendmmsg(fd, sm + i, (unsigned)(k - i), 0);

			if (r <= 0) {
				i++; /* that peer is gone; skip it */
				continue;
			}
			i += r;
		}
	}
}

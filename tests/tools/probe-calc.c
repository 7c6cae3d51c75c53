/* SPDX-License-Identifier: MIT */
/*
 * probe-calc.c — what an exact MTU sweep must find through a resolver
 * farm behaviour, computed from the size maths alone (no network):
 *
 *   probe-calc --domain D --method M --up LO:HI --down LO:HI
 *              [--cut N] [--budget N] [--no-opt]
 *
 * --cut N: names longer than N characters are dropped (qname-cut);
 * --budget N: answers larger than N bytes arrive truncated (small-udp N,
 * edns-strip 512; default 4096, the EDNS size our probes advertise);
 * --no-opt: the OPT record is stripped (edns-strip), so answers carry none.
 * Prints "up=U down=D" where 0 means the search rejects the resolver.
 * A probe passes when its QNAME fits the cut and the answer fits the
 * budget; both are monotone in the probed size, so the upstream search
 * (high, low, bisection) finds the largest passing value in range.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "proto/dns.h"
#include "proto/wire.h"

static int cut = 100000, budget = 4096, opt = 11;

static int
fits(size_t frame_len_q, size_t dlen, int method, size_t ans_frame)
{
	size_t chars = wire_qname_len(frame_len_q, dlen, method);
	size_t wire = chars + 2, sz;

	if ((int)chars > cut || chars > WIRE_QNAME_MAX)
		return 0;
	sz = dns_answer_size(
	    ans_frame, wire, wire + 4, (size_t)opt, DNS_RESP_RAW);
	return sz != 0 && (int)sz <= budget;
}

/* Largest upload MTU in [lo, hi] whose probe and answer pass. */
static int
search_up(int lo, int hi, size_t dlen, int method)
{
	int v, best = 0;

	for (v = lo; v <= hi; v++) {
		if (!fits(11 + (size_t)v, dlen, method, 4 + 6))
			break;
		best = v;
	}
	return best;
}

int
main(int argc, char **argv)
{
	const char *dom = "t.example";
	int method = 1, ulo = 38, uhi = 150, dlo = 100, dhi = 500, i;
	int up, down, v, cap;

	for (i = 1; i < argc; i++) {
		if (i + 1 < argc && strcmp(argv[i], "--domain") == 0)
			dom = argv[++i];
		else if (i + 1 < argc && strcmp(argv[i], "--method") == 0)
			method = (int)strtol(argv[++i], NULL, 10);
		else if (i + 1 < argc && strcmp(argv[i], "--up") == 0)
			sscanf(argv[++i], "%d:%d", &ulo, &uhi);
		else if (i + 1 < argc && strcmp(argv[i], "--down") == 0)
			sscanf(argv[++i], "%d:%d", &dlo, &dhi);
		else if (i + 1 < argc && strcmp(argv[i], "--cut") == 0)
			cut = (int)strtol(argv[++i], NULL, 10);
		else if (i + 1 < argc && strcmp(argv[i], "--budget") == 0)
			budget = (int)strtol(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--no-opt") == 0)
			opt = 0;
		else {
			fprintf(
			    stderr, "probe-calc: bad argument %s\n", argv[i]);
			return 2;
		}
	}
	cap = (int)wire_max_upload_payload(strlen(dom), method);
	uhi = MIN(MIN(uhi, 512), cap);
	ulo = MAX(ulo, 10);
	up = search_up(ulo, uhi, strlen(dom), method);
	down = 0;
	if (up > 0) {
		dlo = MAX(dlo, 20);
		for (v = dlo; v <= dhi; v++) {
			if (!fits(4 + (size_t)MAX(7, up), strlen(dom), method,
				11 + (size_t)v))
				break;
			down = v;
		}
	}
	printf("up=%d down=%d\n", up, down);
	return 0;
}

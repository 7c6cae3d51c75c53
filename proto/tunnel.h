/* SPDX-License-Identifier: MIT */
/*
 * tunnel.h — a tunnel frame into a DNS query and out of a DNS answer: the
 * two steps every client-side caller (the engine's query pump and probes,
 * the scan) makes on each query, written once on top of proto/wire.h and
 * proto/dns.h:
 *
 *   query   frame -> encrypt -> base36 -> 63-character labels under the
 *	     domain -> DNS query (TXT, RD, one question, OPT advertising 4096),
 *	     as upstream's buildTunnelTXTQueryRaw;
 *   answer  DNS answer -> TXT RRs (one, or chunks in any order; raw or
 *	     base64) -> frame -> payload inflated when it is compressed, as
 *	     upstream's ExtractVPNResponse and the client's receive path.
 *
 * Caller buffers, no allocation, no I/O. A struct err argument may be NULL
 * (the engine's hot path passes NULL; the probes want the reason).
 */
#ifndef MDNS_TUNNEL_H
#define MDNS_TUNNEL_H

#include <stddef.h>
#include <stdint.h>

#include "proto/dns.h"
#include "proto/wire.h"

/* Room for any query these functions write (253-character QNAME + OPT). */
#define TUNNEL_QUERY_MAX 600

/* What a written query holds besides its bytes. */
struct tunnel_qinfo {
	size_t qname_chars; /* QNAME text length, no final dot */
	size_t qname_wire;  /* its wire length: the question is
			       msg[12 .. 12 + qname_wire + 4) */
};

/*
 * Write a query for a name given as text (labels of 1..63 bytes, at most
 * 253 characters, optional final dot) with the DNS id, qtype, class IN, RD
 * and our OPT (DNS_EDNS_SIZE). qi (may be NULL) gets the name's sizes.
 * Returns the message length, or -1 with e set.
 */
long tunnel_query_name(const char *name, size_t len, uint16_t qtype,
    uint16_t id, uint8_t *out, size_t cap, struct tunnel_qinfo *qi,
    struct err *e);

/*
 * Write the TXT query carrying frame f under domain: f built and encrypted
 * with c (a fresh random nonce, or nonce when not NULL), base36, cut into
 * labels. Returns the message length, or -1 with e set when the frame
 * cannot be built or its QNAME is longer than 253 characters.
 */
long tunnel_query_frame(const struct wire_frame *f, struct wire_cipher *c,
    const uint8_t *nonce, const char *domain, uint16_t id, uint8_t *out,
    size_t cap, struct tunnel_qinfo *qi, struct err *e);

/*
 * What tunnel_answer_parse found. The first six are the DNS reader's
 * statuses (enum dns_answer_status, same values); the last two are about
 * the frame inside.
 */
enum tunnel_ans {
	TUNNEL_FRAME = DNS_ANS_FRAME,	  /* a frame: a->f is valid */
	TUNNEL_NOFRAME = DNS_ANS_NOFRAME, /* DNS, no TXT data: rcode, NODATA */
	TUNNEL_MALFORMED = DNS_ANS_MALFORMED,	/* not a readable DNS message */
	TUNNEL_BADTXT = DNS_ANS_BADTXT,		/* TXT data: bad base64/chunk */
	TUNNEL_INCOMPLETE = DNS_ANS_INCOMPLETE, /* chunks missing */
	TUNNEL_TOOBIG = DNS_ANS_TOOBIG,		/* frame over the buffer */
	TUNNEL_NOTFRAME, /* TXT data that is no tunnel frame (wire_status) */
	TUNNEL_BADCOMP,	 /* a compressed payload that does not inflate */
};

struct tunnel_answer {
	struct dns_answer dns; /* what the DNS reader saw (flags, counts,
				  EDNS, chunks); see dns_answer_parse */
	struct wire_frame f;   /* TUNNEL_FRAME (and BADCOMP): the frame */
	int wire_status;       /* TUNNEL_NOTFRAME: why (enum wire_status) */
	int inflated;	       /* the payload was decompressed into ibuf */
};

/*
 * Read a DNS answer in response mode mode into a->f. The frame's bytes go
 * to fbuf (fcap; 4096 holds any answer the probes ask for, 64 KiB any a
 * DNS message can carry). When ibuf is not NULL and the frame's type
 * carries a compression byte that is not 0, the payload is inflated into
 * ibuf (icap, capped by WIRE_DECOMP_MAX) and a->f.payload points there;
 * with ibuf NULL the payload is left as it came. Returns the status; e
 * says why for the error statuses (NOFRAME leaves it untouched).
 */
enum tunnel_ans tunnel_answer_parse(const uint8_t *msg, size_t len,
    enum dns_resp_mode mode, uint8_t *fbuf, size_t fcap, uint8_t *ibuf,
    size_t icap, struct tunnel_answer *a, struct err *e);

/* Short name of a status ("frame", "incomplete", "not a frame", ...). */
const char *tunnel_ans_name(enum tunnel_ans st);

#endif

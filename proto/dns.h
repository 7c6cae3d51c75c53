/* SPDX-License-Identifier: MIT */
/*
 * dns.h — the DNS message layer of the tunnel: reading queries and writing
 * answers on the server side, writing queries and reading answers on the
 * client side, and the size maths both sides and the probes need.
 *
 * Byte-exact with upstream MasterDnsVPN (Go, bc69a58) where it writes, and
 * as strict as a careful DNS reader where it reads; docs/dns.md lists every
 * place where we accept or refuse something upstream or ldns would not.
 * The hot path (dns_query_parse, dns_answer_build, dns_answer_parse) never
 * allocates: views borrow the caller's packet, builders write into caller
 * buffers.
 */
#ifndef MDNS_DNS_H
#define MDNS_DNS_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"

#define DNS_HDR_LEN   12
#define DNS_TYPE_A    1
#define DNS_TYPE_NS   2
#define DNS_TYPE_TXT  16
#define DNS_TYPE_AAAA 28
#define DNS_TYPE_OPT  41
#define DNS_TYPE_CAA  257
#define DNS_CLASS_IN  1

#define DNS_RCODE_NOERROR  0
#define DNS_RCODE_FORMERR  1
#define DNS_RCODE_SERVFAIL 2
#define DNS_RCODE_NXDOMAIN 3

/* Header flag bits (second 16-bit word of the header). */
#define DNS_F_QR     0x8000
#define DNS_F_OPCODE 0x7800
#define DNS_F_AA     0x0400
#define DNS_F_TC     0x0200
#define DNS_F_RD     0x0100
#define DNS_F_RA     0x0080
#define DNS_F_AD     0x0020
#define DNS_F_CD     0x0010
#define DNS_F_RCODE  0x000f

/*
 * Longest name (wire bytes, uncompressed) any reader here accepts. RFC 1035
 * says 255, but the upstream server accepts longer QNAMEs (s5 capture: a
 * 269-byte name gets a tunnel answer) and echoes them in its answers, so
 * both readers allow up to 1024: enough for any upload MTU upstream can
 * negotiate (it clamps to 512 bytes). The client-side writers stay within
 * 255 (253 characters).
 */
#define DNS_NAME_WIRE_MAX 1024
/* Lower-case presentation text of such a name plus NUL. */
#define DNS_NAME_TEXT_MAX   DNS_NAME_WIRE_MAX
#define DNS_NAME_STRICT_MAX 255 /* RFC 1035 wire limit */
#define DNS_LABEL_MAX	    63
/* Compression pointers followed per name (upstream: 10). */
#define DNS_NAME_MAX_JUMPS 10

/* Limits upstream uses to decide that a packet is not a DNS request. */
#define DNS_REQ_MAX_QD	   64
#define DNS_REQ_MAX_RR	   256
#define DNS_REQ_MAX_OPCODE 6

/* Size of the OPT RR our client writes: root, type, class, TTL, RDLEN. */
#define DNS_OPT_LEN   11
#define DNS_EDNS_SIZE 4096

/* TXT answer encodings (the session's response mode). */
enum dns_resp_mode {
	DNS_RESP_RAW = 0,
	DNS_RESP_BASE64 = 1,
};

/* ---- server side: query reader ---------------------------------------- */

/* What the server should do with a received UDP payload. */
enum dns_query_verdict {
	DNS_QUERY_OK = 0,  /* a request with a usable first question */
	DNS_QUERY_DROP,	   /* not a request or unparseable: no reply */
	DNS_QUERY_FORMERR, /* empty (root) QNAME: answer FORMERR */
};

/*
 * A parsed query. It borrows the packet (msg): keep that buffer alive and
 * unchanged while the view is used. The question section is
 * msg[DNS_HDR_LEN .. question_end) and is copied verbatim into answers; the
 * first question's name is msg[DNS_HDR_LEN .. DNS_HDR_LEN + qname_wire_len)
 * and never contains a compression pointer.
 */
struct dns_query {
	const uint8_t *msg;
	size_t msg_len;
	uint16_t id;
	uint16_t flags;
	uint16_t qdcount, ancount, nscount, arcount;
	uint16_t qtype, qclass;
	size_t qname_wire_len;
	size_t question_end;
	/* First OPT RR of the additional section, verbatim; opt_len 0 = none. */
	size_t opt_off, opt_len;
	uint16_t edns_udp_size; /* OPT class field */
	uint8_t edns_ext_rcode, edns_version;
	uint16_t edns_flags;
	/* QNAME as lower-case text, labels joined by '.', no final dot,
	 * label bytes as they are (no escaping, like upstream); "" = root. */
	size_t qname_len;
	char qname[DNS_NAME_TEXT_MAX];
};

/*
 * Read a query received by the server. Fills q and returns the verdict;
 * for DNS_QUERY_DROP (and FORMERR) e says why. The classification follows
 * upstream: shorter than a header, QR=1, opcode > 6, QDCOUNT 0 or > 64, or
 * AN/NS/ARCOUNT > 256 are not requests; a question that does not parse is
 * dropped too (upstream's NODATA builder re-parses and gives up, so no
 * reply leaves the server); a root QNAME is FORMERR. An unreadable
 * additional section only means "no OPT", as upstream.
 */
enum dns_query_verdict dns_query_parse(
    const uint8_t *msg, size_t len, struct dns_query *q, struct err *e);

/* ---- server side: answer builders ------------------------------------- */

/*
 * Build the tunnel answer to q carrying frame[0..frame_len) into out (cap
 * bytes): flags QR RA + opcode/RD/CD copied, AA=0; question copied; one TXT
 * RR (frame fits one string) or N chunks; TTL 0; the first owner name is
 * the question name as received, later ones a pointer to it; q's OPT
 * echoed. hdr_len is the frame header length (4..11): the chunk layout
 * does not depend on it, it is only checked (the frame must hold its
 * header). Returns the message length, or -1 (e set) when out is too
 * small or the frame needs more than 255 chunks.
 */
long dns_answer_build(uint8_t *out, size_t cap, const struct dns_query *q,
    const uint8_t *frame, size_t frame_len, size_t hdr_len,
    enum dns_resp_mode mode, struct err *e);

/* Empty answers (no RRs but the echoed OPT). */
enum dns_empty_kind {
	DNS_EMPTY_NODATA,   /* NOERROR, AA=0 RA=1, no SOA */
	DNS_EMPTY_NXDOMAIN, /* NXDOMAIN, AA=1 RA=0 (out of zone) */
	DNS_EMPTY_FORMERR,  /* FORMERR, AA=0 RA=1 (root QNAME) */
};

/*
 * Build an empty answer of the given kind to q (which may come from a
 * DNS_QUERY_OK or DNS_QUERY_FORMERR verdict) into out. Returns its length
 * or -1 (e set) when out is too small.
 */
long dns_answer_empty(uint8_t *out, size_t cap, const struct dns_query *q,
    enum dns_empty_kind kind, struct err *e);

/* Response flags upstream derives from request flags (AA/TC cleared, RA
 * set) and the authoritative variant (AA set, RA/TC cleared). */
uint16_t dns_resp_flags(uint16_t req_flags, unsigned rcode);
uint16_t dns_resp_flags_aa(uint16_t req_flags, unsigned rcode);

/* ---- client side: query writer ---------------------------------------- */

/*
 * Encode presentation text (labels separated by '.', optional final dot,
 * no escapes) as a wire name into out. Labels must be 1..63 bytes and the
 * name at most 255 wire bytes (253 characters). "" and "." give the root.
 * Returns the wire length or -1 (e set).
 */
long dns_name_encode(
    const char *text, size_t len, uint8_t *out, size_t cap, struct err *e);

/*
 * Build a tunnel QNAME: data[0..n) cut into 63-character labels, followed
 * by the wire domain name dom[0..dom_len) (from dns_name_encode). The
 * result must stay within 255 wire bytes. Returns its length or -1.
 */
long dns_qname_from_data(const char *data, size_t n, const uint8_t *dom,
    size_t dom_len, uint8_t *out, size_t cap, struct err *e);

/* Most data characters a QNAME under a domain of domain_len characters
 * (no final dot) can carry within 253 characters. */
size_t dns_qname_max_data(size_t domain_len);

/*
 * Write a query: header with id, flags 0x0100 (RD), QDCOUNT 1; the
 * question (qname wire bytes, qtype, class IN); and, when edns_size is not
 * 0, one OPT RR advertising it (ARCOUNT 1). Returns the length or -1 (e
 * set) when out is too small.
 */
long dns_query_write(uint8_t *out, size_t cap, uint16_t id,
    const uint8_t *qname, size_t qname_len, uint16_t qtype, uint16_t edns_size,
    struct err *e);

/* ---- client side: answer reader --------------------------------------- */

enum dns_answer_status {
	DNS_ANS_FRAME = 0,  /* a tunnel frame was extracted */
	DNS_ANS_NOFRAME,    /* valid DNS, no TXT data (NXDOMAIN, NODATA...) */
	DNS_ANS_MALFORMED,  /* not a readable DNS message */
	DNS_ANS_BADTXT,	    /* TXT data is not a frame: bad base64/chunk */
	DNS_ANS_INCOMPLETE, /* chunked, but not all N chunks present */
	DNS_ANS_TOOBIG,	    /* frame larger than the caller's buffer */
};

/* What the answer reader saw besides the frame. */
struct dns_answer {
	uint16_t id, flags;
	uint16_t qdcount, ancount, nscount, arcount;
	int has_question;
	uint16_t qtype, qclass; /* first question */
	size_t qname_len;
	char qname[DNS_NAME_TEXT_MAX]; /* as in dns_query */
	int has_opt;
	uint16_t edns_udp_size;
	unsigned other_rrs; /* RRs neither TXT nor OPT (skipped) */
	unsigned txt_rrs;   /* TXT RRs carrying data */
	unsigned chunks;    /* N when chunked, 0 when single */
	size_t frame_len;
};

/*
 * Read a response: every section must parse (names, RR bounds, TXT
 * character-strings). TXT RRs of the answer section with data are the
 * frame: one RR is the frame itself (base64-decoded in base64 mode),
 * several are chunks reassembled in id order (any arrival order; a repeated
 * id replaces the earlier one; all N required; ids >= N refused). The frame
 * goes to frame[0..cap). Other RR types are skipped, as upstream. Returns
 * the status; a->frame_len is set for DNS_ANS_FRAME; e says why for the
 * error statuses. On DNS_ANS_MALFORMED the fields of a hold what was read
 * before the fault.
 */
enum dns_answer_status dns_answer_parse(const uint8_t *msg, size_t len,
    enum dns_resp_mode mode, uint8_t *frame, size_t cap, struct dns_answer *a,
    struct err *e);

/*
 * Does the answer belong to our query: same id and the first question has
 * the same name and type. qname is text as in struct dns_query (labels
 * joined by '.', no final dot: a final '.' here is a label byte), compared
 * case-insensitively. Returns 1 or 0.
 */
int dns_answer_matches(const struct dns_answer *a, uint16_t id,
    const char *qname, size_t qname_len, uint16_t qtype);

/* Short name of a status, e.g. "incomplete". */
const char *dns_answer_strstatus(enum dns_answer_status s);
/* "NXDOMAIN" for 3 and the other RFC 1035 names 0-5; "RCODE" above. */
const char *dns_rcode_name(unsigned rcode);

/* ---- structural walking (upstream dnsparser skipName / findOPT) ------- */

/*
 * The name at off as lower-case text into text (DNS_NAME_TEXT_MAX bytes),
 * compression pointers followed (backwards only, at most
 * DNS_NAME_MAX_JUMPS, never into the header); *next is the offset just
 * after the name where it is written. Returns 0, or -1 with *why set.
 */
int dns_name_read(const uint8_t *msg, size_t len, size_t off, char *text,
    size_t *next, const char **why);
/*
 * Skip the name at off as upstream's skipName does: labels up to a zero
 * byte or a compression pointer, whose target is not looked at. *next is
 * the offset after it. 0, or -1 when it runs off the end or a label
 * length is 64..191.
 */
int dns_name_skip(const uint8_t *msg, size_t len, size_t off, size_t *next);

/*
 * upstream findOPTRecordRange: from off (the end of the questions) skip
 * an + ns RRs, then return the length of the first OPT RR among the next
 * ar (its offset in *start), or 0 when there is none or a record does not
 * parse.
 */
size_t dns_find_opt(const uint8_t *msg, size_t len, size_t off, unsigned an,
    unsigned ns, unsigned ar, size_t *start);

/* ---- capacity maths --------------------------------------------------- */

/*
 * Exact size of the tunnel answer dns_answer_build writes for a frame of
 * frame_len bytes to a query whose QNAME is qname_wire bytes, whose
 * question section is question_len bytes (qname_wire + 4 for one question)
 * and whose OPT RR is opt_len bytes (0 = none). Returns 0 when the frame
 * needs more than 255 chunks.
 */
size_t dns_answer_size(size_t frame_len, size_t qname_wire, size_t question_len,
    size_t opt_len, enum dns_resp_mode mode);

/*
 * wire-protocol.md 1.6: size of the answer carrying a download payload of
 * P bytes behind a hdr_len-byte header (11 for STREAM_DATA) to the usual
 * query (one question, our 11-byte OPT).
 */
size_t dns_response_size(
    size_t payload, size_t qname_wire, enum dns_resp_mode mode, size_t hdr_len);

/*
 * Largest download payload whose answer fits budget bytes (512, 1232,
 * 4096...) for that QNAME length, mode and header length; -1 when not even
 * an empty payload fits.
 */
long dns_max_payload(
    size_t budget, size_t qname_wire, enum dns_resp_mode mode, size_t hdr_len);

#endif

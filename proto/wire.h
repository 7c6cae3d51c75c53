/* SPDX-License-Identifier: MIT */
/*
 * wire.h — the MasterDnsVPN (Go edition, upstream bc69a58) tunnel frame
 * layer: packet types, the frame header with its check byte, the upstream
 * ciphers, payload compression, the fixed payload layouts, upload capacity
 * and the query-name pipeline (frame -> encrypt -> base36 -> QNAME and back).
 *
 * Byte for byte compatible with upstream; see ../shared/docs/wire-protocol.md
 * section 1 and docs/wire.md. The DNS message itself (header, question,
 * TXT answers, chunking) is proto/dns.h's business, not this module's.
 *
 * Conventions: everything writes into caller buffers and nothing allocates
 * per packet (cipher contexts are created once per key and method). Length
 * returning functions return the number of bytes written or -1. Status
 * returning functions return enum wire_status (WIRE_OK == 0). A struct err
 * argument may be NULL. Cipher contexts are not thread safe: use one per
 * thread. Compression keeps one reusable context per thread.
 */
#ifndef MDNS_WIRE_H
#define MDNS_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/util.h"

/* ---- packet types ------------------------------------------------------ */

enum wire_type {
	WIRE_MTU_UP_REQ = 0x01,
	WIRE_MTU_UP_RES = 0x02,
	WIRE_MTU_DOWN_REQ = 0x03,
	WIRE_MTU_DOWN_RES = 0x04,
	WIRE_SESSION_INIT = 0x05,
	WIRE_SESSION_ACCEPT = 0x06,
	WIRE_PING = 0x07,
	WIRE_PONG = 0x08,
	WIRE_STREAM_SYN = 0x09,
	WIRE_STREAM_SYN_ACK = 0x0a,
	WIRE_STREAM_CONNECTED = 0x0b,
	WIRE_STREAM_CONNECTED_ACK = 0x0c,
	WIRE_STREAM_CONNECT_FAIL = 0x0d,
	WIRE_STREAM_CONNECT_FAIL_ACK = 0x0e,
	WIRE_STREAM_DATA = 0x0f,
	WIRE_STREAM_DATA_ACK = 0x10,
	WIRE_STREAM_DATA_NACK = 0x11,
	WIRE_STREAM_RESEND = 0x12,
	WIRE_PACKED_CONTROL_BLOCKS = 0x13,
	WIRE_STREAM_CLOSE_WRITE = 0x14,
	WIRE_STREAM_CLOSE_WRITE_ACK = 0x15,
	WIRE_STREAM_CLOSE_READ = 0x16,
	WIRE_STREAM_CLOSE_READ_ACK = 0x17,
	WIRE_STREAM_RST = 0x18,
	WIRE_STREAM_RST_ACK = 0x19,
	WIRE_SOCKS5_SYN = 0x1a,
	WIRE_SOCKS5_SYN_ACK = 0x1b,
	WIRE_SOCKS5_CONNECT_FAIL = 0x1c,
	WIRE_SOCKS5_CONNECT_FAIL_ACK = 0x1d,
	WIRE_SOCKS5_RULESET_DENIED = 0x1e,
	WIRE_SOCKS5_RULESET_DENIED_ACK = 0x1f,
	WIRE_SOCKS5_NETWORK_UNREACHABLE = 0x20,
	WIRE_SOCKS5_NETWORK_UNREACHABLE_ACK = 0x21,
	WIRE_SOCKS5_HOST_UNREACHABLE = 0x22,
	WIRE_SOCKS5_HOST_UNREACHABLE_ACK = 0x23,
	WIRE_SOCKS5_CONNECTION_REFUSED = 0x24,
	WIRE_SOCKS5_CONNECTION_REFUSED_ACK = 0x25,
	WIRE_SOCKS5_TTL_EXPIRED = 0x26,
	WIRE_SOCKS5_TTL_EXPIRED_ACK = 0x27,
	WIRE_SOCKS5_COMMAND_UNSUPPORTED = 0x28,
	WIRE_SOCKS5_COMMAND_UNSUPPORTED_ACK = 0x29,
	WIRE_SOCKS5_ADDRESS_TYPE_UNSUPPORTED = 0x2a,
	WIRE_SOCKS5_ADDRESS_TYPE_UNSUPPORTED_ACK = 0x2b,
	WIRE_SOCKS5_AUTH_FAILED = 0x2c,
	WIRE_SOCKS5_AUTH_FAILED_ACK = 0x2d,
	WIRE_SOCKS5_UPSTREAM_UNAVAILABLE = 0x2e,
	WIRE_SOCKS5_UPSTREAM_UNAVAILABLE_ACK = 0x2f,
	WIRE_SOCKS5_CONNECTED = 0x30,
	WIRE_SOCKS5_CONNECTED_ACK = 0x31,
	WIRE_DNS_QUERY_REQ = 0x32,
	WIRE_DNS_QUERY_RES = 0x33,
	WIRE_DNS_QUERY_REQ_ACK = 0x34,
	WIRE_DNS_QUERY_RES_ACK = 0x35,
	WIRE_SESSION_CLOSE = 0x36,
	WIRE_SESSION_BUSY = 0x37,
	/* Only in the FEC fork (arianizadi/MasterDnsVPN); see wire_type_fork. */
	WIRE_SESSION_CAPS = 0x38,
	WIRE_SESSION_CAPS_ACK = 0x39,
	WIRE_STREAM_FEC_SYMBOL = 0x3a,
	WIRE_ERROR_DROP = 0xff,
};

/* Header extension bits carried by a type (decided by the type alone). */
#define WIRE_EXT_STREAM 0x01 /* 2-byte stream id */
#define WIRE_EXT_SEQ	0x02 /* 2-byte sequence number */
#define WIRE_EXT_FRAG	0x04 /* fragment id + total fragments */
#define WIRE_EXT_COMP	0x08 /* compression type byte */

#define WIRE_HDR_MIN 4	/* session, type, cookie, check */
#define WIRE_HDR_MAX 11 /* all four extensions */

/*
 * Upper-case name without "PACKET_" as upstream (or, for its three types,
 * the FEC fork) spells it ("SESSION_ACCEPT"), or NULL.
 */
const char *wire_type_name(uint8_t type);
/*
 * Whether the frame parser accepts this type: upstream's 56 types and the
 * FEC fork's three (wire_type_fork).
 */
bool wire_type_valid(uint8_t type);
/*
 * Whether the type exists only in the FEC fork of MasterDnsVPN: 0x38
 * SESSION_CAPS and 0x39 SESSION_CAPS_ACK (basic header), 0x3A
 * STREAM_FEC_SYMBOL (stream id + sequence). Upstream bc69a58's parser
 * rejects them as unknown types, so a peer speaking upstream's protocol
 * treats them as undecodable; they parse here so that decoders can show
 * fork traffic.
 */
bool wire_type_fork(uint8_t type);
/* WIRE_EXT_* bits of a type; 0 for basic-header and unknown types. */
unsigned wire_type_ext(uint8_t type);
/* Header length of a type (4, 5, 8, 10 or 11), or 0 for an unknown type. */
size_t wire_header_len(uint8_t type);
/* The fixed _ACK type answering a control type, or -1 when it has none. */
int wire_ack_type(uint8_t type);
/* The control type an _ACK type acknowledges, or -1. */
int wire_ack_origin(uint8_t ack_type);
/*
 * Whether a frame of this type and payload length may travel as a 7-byte
 * block inside PACKED_CONTROL_BLOCKS (upstream IsPackableControlPacket).
 */
bool wire_is_packable(uint8_t type, size_t payload_len);

/* ---- status codes ------------------------------------------------------ */

enum wire_status {
	WIRE_OK = 0,
	WIRE_E_OUT_OF_ZONE, /* name not under any tunnel domain */
	WIRE_E_NO_LABELS,   /* the name is the bare tunnel domain */
	WIRE_E_SHORT_LABEL, /* fewer than WIRE_MIN_LABEL_LEN data chars */
	WIRE_E_BASE36,	    /* invalid base36 text or length */
	WIRE_E_DECRYPT,	    /* ciphertext too short or GCM auth failed */
	WIRE_E_TOO_SHORT,   /* frame shorter than its header */
	WIRE_E_CHECK,	    /* header check byte mismatch */
	WIRE_E_TYPE,	    /* unknown packet type */
	WIRE_E_SPACE,	    /* caller buffer too small / frame too big */
	WIRE_E_INVALID,	    /* invalid argument or payload */
};

/* Short static description of a status ("header check byte mismatch"). */
const char *wire_strerror(int status);

/* ---- frames ------------------------------------------------------------ */

/*
 * One frame. Fields a type does not carry are ignored when building and
 * set to 0 when parsing. After wire_frame_parse, payload points into the
 * parsed buffer (not owned). For building, payload may be NULL when
 * payload_len is 0.
 */
struct wire_frame {
	uint8_t session_id;
	uint8_t type;
	uint16_t stream_id;
	uint16_t seq;
	uint8_t frag_id;
	uint8_t frag_total;
	uint8_t comp; /* compression type actually used (0..3) */
	uint8_t cookie;
	uint8_t check;	 /* parse: header check byte as received */
	uint8_t hdr_len; /* parse: header length */
	const uint8_t *payload;
	size_t payload_len;
};

/* Header check byte over n header bytes (everything before the check). */
uint8_t wire_check_byte(const uint8_t *hdr, size_t n);

/*
 * Serialise f (header + payload) into out of capacity cap. Returns the
 * frame length, or -1 for an unknown type or a short buffer.
 */
long wire_frame_build(const struct wire_frame *f, uint8_t *out, size_t cap);

/*
 * Parse a frame (after decryption, or a downstream frame after chunk
 * reassembly). Fills f; f->payload points into buf. Returns WIRE_OK,
 * WIRE_E_TOO_SHORT, WIRE_E_TYPE or WIRE_E_CHECK.
 */
int wire_frame_parse(const uint8_t *buf, size_t n, struct wire_frame *f);

/* ---- ciphers ----------------------------------------------------------- */

enum wire_method {
	WIRE_METHOD_NONE = 0,
	WIRE_METHOD_XOR = 1,
	WIRE_METHOD_CHACHA20 = 2,
	WIRE_METHOD_AES128GCM = 3,
	WIRE_METHOD_AES192GCM = 4,
	WIRE_METHOD_AES256GCM = 5,
};
#define WIRE_METHOD_MAX		 5
#define WIRE_CIPHER_OVERHEAD_MAX 28

struct wire_cipher;

/* "none", "xor", "chacha20", "aes-128-gcm", ... or NULL. */
const char *wire_method_name(int method);
/* Bytes a method adds to a frame: 0, 0, 16, 28, 28, 28; -1 if unknown. */
int wire_cipher_overhead(int method);
/* Nonce bytes on the wire: 0, 0, 16, 12, 12, 12; -1 if unknown. */
int wire_cipher_nonce_len(int method);

/*
 * Create a cipher context for a method and the key *text* (used as given,
 * never hex-decoded; keylen bytes). Derives the key as upstream does and
 * prepares the EVP contexts once. Returns NULL with e set on a bad method
 * or a crypto library failure. Free with wire_cipher_free.
 */
struct wire_cipher *wire_cipher_new(
    int method, const char *key, size_t keylen, struct err *e);
void wire_cipher_free(struct wire_cipher *c);
int wire_cipher_method(const struct wire_cipher *c);

/*
 * Encrypt n bytes into out (capacity cap >= n + overhead). nonce gives the
 * nonce (wire_cipher_nonce_len bytes) or NULL for a fresh random one.
 * Returns the ciphertext length or -1. An empty input gives an empty
 * output (no nonce), as upstream. in and out may be the same buffer for
 * methods 0 and 1 only (the others write the nonce first).
 */
long wire_encrypt(struct wire_cipher *c, const uint8_t *in, size_t n,
    const uint8_t *nonce, uint8_t *out, size_t cap);

/*
 * Decrypt n bytes into out (capacity cap >= n). Returns the plaintext
 * length or -1 (too short for nonce/tag, authentication failure, short
 * buffer). in and out may be the same buffer for methods 0 and 1 only.
 */
long wire_decrypt(struct wire_cipher *c, const uint8_t *in, size_t n,
    uint8_t *out, size_t cap);

/* ---- compression ------------------------------------------------------- */

enum wire_comp {
	WIRE_COMP_OFF = 0,
	WIRE_COMP_ZSTD = 1,
	WIRE_COMP_LZ4 = 2,
	WIRE_COMP_DEFLATE = 3, /* upstream "ZLIB": raw DEFLATE, level 1 */
};
#define WIRE_COMP_MAX		   3
#define WIRE_COMP_MIN_SIZE_DEFAULT 100
#define WIRE_DECOMP_MAX		   (10 * 1024 * 1024)

/* "off", "zstd", "lz4", "deflate" or NULL. */
const char *wire_comp_name(int type);
/* Pack / split the SESSION_INIT/ACCEPT pair byte (upload << 4 | download);
 * unknown nibbles become 0. */
uint8_t wire_comp_pair(int upload, int download);
void wire_comp_split(uint8_t pair, int *upload, int *download);
/* Worst-case compressed size of n bytes for a type (0 for OFF/unknown). */
size_t wire_compress_bound(int type, size_t n);

/*
 * Compress n bytes with type into out (capacity cap). Returns the
 * compressed length or -1 (unknown type, failure, short buffer). No
 * "worth it" rule here; see wire_compress_payload.
 */
long wire_compress(
    int type, const uint8_t *in, size_t n, uint8_t *out, size_t cap);

/*
 * Upstream's rule for a payload: compress only when type is 1..3, the
 * payload is longer than min_size (<= 0 means 100) and the result is
 * strictly smaller. Returns the type actually used: on WIRE_COMP_OFF out is
 * untouched and the caller sends `in` as it is; otherwise *out_len bytes
 * are in out. Pass the frame type's WIRE_EXT_COMP check yourself.
 */
int wire_compress_payload(int type, long min_size, const uint8_t *in, size_t n,
    uint8_t *out, size_t cap, size_t *out_len);

/*
 * Decompress n bytes of a payload of a type into out (capacity cap). The
 * result may not exceed min(cap, WIRE_DECOMP_MAX). Type 0 copies. Returns
 * the decompressed length, or -1 with e set (corrupt, trailing data,
 * over the cap).
 */
long wire_decompress(int type, const uint8_t *in, size_t n, uint8_t *out,
    size_t cap, struct err *e);

/* ---- payloads ---------------------------------------------------------- */

#define WIRE_RESPONSE_RAW    0 /* TXT bytes as they are */
#define WIRE_RESPONSE_BASE64 1 /* TXT base64, no padding */

#define WIRE_MTU_UP_MIN		       5  /* mode + code */
#define WIRE_MTU_DOWN_REQ_MIN	       7  /* mode + code + d */
#define WIRE_MTU_DOWN_MIN	       20 /* server's bounds for d */
#define WIRE_MTU_DOWN_MAX	       4096
#define WIRE_SESSION_INIT_LEN	       10
#define WIRE_SESSION_ACCEPT_LEN	       20
#define WIRE_SESSION_ACCEPT_LEGACY_LEN 7
#define WIRE_SESSION_BUSY_LEN	       4
#define WIRE_ERROR_DROP_LEN	       8
#define WIRE_PING_LEN		       7
#define WIRE_PACKED_BLOCK_LEN	       7
#define WIRE_MIN_LABEL_LEN	       3 /* upstream MIN_VPN_LABEL_LENGTH */
#define WIRE_QNAME_MAX		       253
#define WIRE_LABEL_MAX		       63

/* MTU_UP_REQ / MTU_DOWN_REQ payload view. */
struct wire_mtu_req {
	uint8_t mode;	  /* WIRE_RESPONSE_* */
	uint32_t code;	  /* probe code */
	uint16_t down;	  /* MTU_DOWN_REQ: requested size d */
	size_t len;	  /* payload length (MTU_UP_REQ: probed m) */
	bool filler_zero; /* bytes after the fixed part are all zero */
};

/* MTU_UP_RES / MTU_DOWN_RES payload view. */
struct wire_mtu_res {
	uint32_t code;
	uint16_t len; /* echoed m (UP) or d (DOWN) */
	size_t payload_len;
	bool filler_zero; /* DOWN: filler after the 6 bytes all zero */
};

/*
 * The filler of our client->server MTU probes: MTU_UP_REQ after the code,
 * MTU_DOWN_REQ after the requested size. No server reads it (upstream's
 * neither), so any bytes are wire-compatible. Upstream's client sends
 * zeros; under XOR (method 1) the encrypted probe is then the key stream
 * itself, so one probe seen on the path shows the key. Ours is random
 * (RAND_bytes; a failure fails the build, never falls back to zeros).
 * A test that needs upstream's exact bytes installs wire_filler_zeros;
 * NULL restores the random source. Process-wide: set it before probes
 * are built, not while another thread builds them.
 */
typedef int wire_filler_fn(uint8_t *buf, size_t n); /* 0 or -1 */
void wire_set_mtu_filler(wire_filler_fn *fn);
int wire_filler_zeros(uint8_t *buf, size_t n);	/* upstream's filler */
int wire_filler_random(uint8_t *buf, size_t n); /* the default */

/*
 * MTU_UP_REQ payload of exactly m bytes (m >= 5): mode, code, filler
 * (above). Returns m, or -1 (m out of range, or no random bytes).
 */
long wire_mtu_up_req_build(
    uint8_t mode, uint32_t code, size_t m, uint8_t *out, size_t cap);
/* Parse as the server does: >= 5 bytes and mode 0/1, else WIRE_E_INVALID. */
int wire_mtu_up_req_parse(const uint8_t *p, size_t n, struct wire_mtu_req *r);
/* MTU_UP_RES payload (6 bytes): code, uint16 m. Returns 6 or -1. */
long wire_mtu_up_res_build(uint32_t code, uint16_t m, uint8_t *out, size_t cap);
/* Exactly 6 bytes, else WIRE_E_INVALID. */
int wire_mtu_up_res_parse(const uint8_t *p, size_t n, struct wire_mtu_res *r);
/*
 * MTU_DOWN_REQ payload padded with filler (above) to total bytes (total
 * >= 7; upstream uses max(7, synced upload MTU)). Returns total or -1.
 */
long wire_mtu_down_req_build(uint8_t mode, uint32_t code, uint16_t d,
    size_t total, uint8_t *out, size_t cap);
/*
 * Parse as the server does: >= 7 bytes, mode 0/1 and 20 <= d <= 4096,
 * else WIRE_E_INVALID (r is still filled as far as it could be read).
 */
int wire_mtu_down_req_parse(const uint8_t *p, size_t n, struct wire_mtu_req *r);
/* MTU_DOWN_RES payload of exactly d bytes (d >= 6). Returns d or -1. */
long wire_mtu_down_res_build(
    uint32_t code, uint16_t d, uint8_t *out, size_t cap);
/* >= 6 bytes, else WIRE_E_INVALID; the caller compares len with d. */
int wire_mtu_down_res_parse(const uint8_t *p, size_t n, struct wire_mtu_res *r);

/* SESSION_INIT payload (10 bytes). */
struct wire_session_init {
	uint8_t mode;	   /* WIRE_RESPONSE_* */
	uint8_t comp_pair; /* upload << 4 | download */
	uint16_t upload_mtu;
	uint16_t download_mtu;
	uint8_t verify[4];
};
long wire_session_init_build(
    const struct wire_session_init *s, uint8_t *out, size_t cap);
/* Exactly 10 bytes and mode 0/1, else WIRE_E_INVALID. */
int wire_session_init_parse(
    const uint8_t *p, size_t n, struct wire_session_init *s);

/* Client policy carried in bytes 7..19 of SESSION_ACCEPT. */
struct wire_policy {
	uint8_t max_dup;       /* low nibble of byte 7 */
	uint8_t max_setup_dup; /* high nibble of byte 7 */
	uint8_t max_upload_mtu;
	uint16_t max_download_mtu;
	uint8_t max_workers;
	uint8_t min_ping_interval_raw; /* seconds = 0.05 + raw/255*0.95 */
	uint8_t max_batch;
	uint16_t max_arq_window;
	uint8_t max_nack_gap;
	uint16_t min_comp_min_size;
	uint8_t min_rto_raw; /* scaled like the ping interval */
};

struct wire_session_accept {
	uint8_t session_id;
	uint8_t cookie;
	uint8_t comp_pair;
	uint8_t verify[4];
	bool has_policy; /* 20-byte form (false: legacy 7 bytes) */
	struct wire_policy policy;
};

/* Scaled policy seconds <-> byte (0.05 .. 1.00 s over 0..255, rounded). */
double wire_scaled_seconds(uint8_t raw);
uint8_t wire_scaled_byte(double seconds);

/* 20 bytes when has_policy, else 7. Returns the length or -1. */
long wire_session_accept_build(
    const struct wire_session_accept *a, uint8_t *out, size_t cap);
/*
 * >= 7 bytes, else WIRE_E_INVALID. The policy is decoded when >= 20 bytes
 * are present (extra bytes ignored, as upstream).
 */
int wire_session_accept_parse(
    const uint8_t *p, size_t n, struct wire_session_accept *a);

/* SESSION_BUSY: the 4-byte verify code. Returns 4 or -1. */
long wire_session_busy_build(const uint8_t verify[4], uint8_t *out, size_t cap);
/* Exactly 4 bytes, else WIRE_E_INVALID. */
int wire_session_busy_parse(const uint8_t *p, size_t n, uint8_t verify[4]);

/*
 * ERROR_DROP payload: "INV" + 5 bytes (random unless tail is given).
 * Returns 8 or -1.
 */
long wire_error_drop_build(const uint8_t *tail5, uint8_t *out, size_t cap);
/* Whether a payload looks like ERROR_DROP's ("INV" prefix, >= 3 bytes). */
bool wire_error_drop_check(const uint8_t *p, size_t n);

/* PING/PONG payload: "PO:" + 4 bytes (random unless given). Returns 7. */
long wire_ping_build(const uint8_t *nonce4, uint8_t *out, size_t cap);
/* Whether a payload is "PO:" + 4 bytes. */
bool wire_ping_check(const uint8_t *p, size_t n);

/* SOCKS5_SYN target. */
#define WIRE_ATYP_IPV4	 1
#define WIRE_ATYP_DOMAIN 3
#define WIRE_ATYP_IPV6	 4
struct wire_target {
	uint8_t atyp;
	uint8_t addr[256]; /* 4 / 16 bytes, or the name (NUL-terminated) */
	uint8_t addr_len;  /* 4, 16 or name length (1..255) */
	uint16_t port;
};
/* Encode ATYP ‖ address ‖ port. Returns the length or -1. */
long wire_target_build(const struct wire_target *t, uint8_t *out, size_t cap);
/*
 * Decode a complete (reassembled) SOCKS5_SYN payload: ATYP 1/3/4, a name
 * of 1..255 bytes, then the port. Trailing bytes are ignored, as upstream.
 * WIRE_OK or WIRE_E_INVALID.
 */
int wire_target_parse(const uint8_t *p, size_t n, struct wire_target *t);

/* One 7-byte block of PACKED_CONTROL_BLOCKS. */
struct wire_block {
	uint8_t type;
	uint16_t stream_id;
	uint16_t seq;
	uint8_t frag_id;
	uint8_t frag_total;
};
/* Append one block at out (7 bytes of cap). Returns 7 or -1. */
long wire_block_put(const struct wire_block *b, uint8_t *out, size_t cap);
/*
 * Read block i (0-based) of a packed payload. Returns WIRE_OK or
 * WIRE_E_INVALID past the last whole block (a trailing partial block is
 * ignored, as upstream).
 */
int wire_block_get(const uint8_t *p, size_t n, size_t i, struct wire_block *b);
/* Number of whole blocks in a packed payload. */
size_t wire_block_count(size_t payload_len);
/* clamp(floor(mtu * 0.80 / 7), 1, max_batch) (upstream percent 80). */
size_t wire_max_packed_blocks(size_t mtu, size_t max_batch);

/* ---- capacity ---------------------------------------------------------- */

/*
 * Length of the QNAME (without trailing dot) carrying a frame of
 * frame_len bytes encrypted with method under a domain of domain_len
 * characters.
 */
size_t wire_qname_len(size_t frame_len, size_t domain_len, int method);

/*
 * Largest STREAM_DATA payload (11-byte header) whose encrypted, base36
 * QNAME fits 253 characters: 141/125/113 for "t.example" with none or
 * XOR / ChaCha20 / AES-GCM. Returns 0 when nothing fits or the method is
 * unknown. The caller still clamps to MAX_UPLOAD_MTU and 512.
 */
size_t wire_max_upload_payload(size_t domain_len, int method);

/* ---- query names ------------------------------------------------------- */

/* Room a frame of frame_len bytes needs to be encoded (QNAME + NUL). */
#define WIRE_QNAME_BUF 512

/*
 * Build the upstream QNAME text for a frame: build, encrypt with c
 * (random nonce, or nonce if not NULL), base36, 63-char labels, ".domain".
 * Writes a NUL-terminated string into out (cap includes the NUL). Returns
 * the text length or -1 (unknown type, frame larger than the work buffer
 * of 4096 bytes, short out). The 253 limit is not enforced; compare with
 * WIRE_QNAME_MAX or use wire_max_upload_payload.
 */
long wire_encode_query_name(const struct wire_frame *f, struct wire_cipher *c,
    const uint8_t *nonce, const char *domain, char *out, size_t cap);

/*
 * Server side: decode a QNAME (dot-joined, trailing dot optional, any
 * case) against the tunnel domains (longest suffix match on label
 * boundaries, case-insensitive). On WIRE_OK, f describes the frame, whose
 * bytes live in buf (capacity cap; 4096 is plenty for any legal name) and
 * *domain_idx (if not NULL) is the index of the matched domain. Otherwise
 * returns the reason: WIRE_E_OUT_OF_ZONE, WIRE_E_NO_LABELS,
 * WIRE_E_SHORT_LABEL, WIRE_E_BASE36, WIRE_E_DECRYPT, WIRE_E_TOO_SHORT,
 * WIRE_E_CHECK, WIRE_E_TYPE or WIRE_E_SPACE. The payload is not
 * decompressed.
 */
int wire_decode_query_name(const char *qname, size_t qname_len,
    const char *const *domains, size_t ndomains, struct wire_cipher *c,
    uint8_t *buf, size_t cap, struct wire_frame *f, size_t *domain_idx);

/*
 * Match a QNAME against the domains only: returns the index of the
 * longest matching domain and sets *data_len to the length of the text
 * before ".domain" (0 for the bare domain), or -1 when out of zone.
 */
long wire_match_domain(const char *qname, size_t qname_len,
    const char *const *domains, size_t ndomains, size_t *data_len);

#endif

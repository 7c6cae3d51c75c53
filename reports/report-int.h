/* SPDX-License-Identifier: MIT */
/*
 * report-int.h — inside the report (reports/report*.c and their tests
 * only): the model the renderers read, the redactor that cleans every
 * text before it enters the model, and the small output helpers the
 * three renderers share. Everything here is already redacted: a
 * renderer never needs the redactor.
 */
#ifndef MDNS_REPORT_INT_H
#define MDNS_REPORT_INT_H

#include <stdarg.h>

#include "common/hmap.h"
#include "reports/report.h"

/* ---- redactor (report-redact.c) --------------------------------------- */

/* How a text is read. */
enum rdx_hint {
	RDX_TEXT = 0,	  /* prose: addresses found in it are "ip-N" */
	RDX_RESOLVER = 1, /* a resolver's address field: "resolver-N" */
	RDX_HOST = 2,	  /* a host name field: always "host-N" unless none */
};

struct rdx_secret {
	char *s; /* one form of a secret */
	size_t len;
};

struct rdx_name {
	char *key;  /* canonical address text, or host name */
	char *name; /* "resolver-3", "host-1" */
	int own;    /* an own address: replaced in mode own too */
	int kind;   /* resolver, ip, local, public, host (report-redact.c) */
};

struct rdx {
	enum rpt_redact mode;
	int frozen; /* content seen: no more secrets / own addresses */
	struct rdx_secret *sec;
	size_t nsec, seccap;
	struct rdx_name *names; /* addresses and hosts, by first sight */
	size_t nnames, namecap;
	struct hmap index;   /* key -> names[] */
	unsigned counter[5]; /* resolver, ip, local, public, host */
	char *home;	     /* $HOME, replaced by "~" (own, all) */
};

void rdx_init(struct rdx *r, enum rpt_redact mode);
void rdx_free(struct rdx *r);
int rdx_secret(struct rdx *r, const void *secret, size_t len);
int rdx_own(struct rdx *r, const char *addr, enum rpt_own kind);
void rdx_host(struct rdx *r, const char *hostname);
void rdx_home(struct rdx *r, const char *home);
/*
 * The redacted copy of text (NULL gives NULL): made one line of valid
 * UTF-8 (bad bytes and control characters as "\xNN", sink.c's cleaner),
 * then secrets scrubbed, then per mode addresses and host names replaced
 * by pseudonyms, $HOME by ~. Freezes the redactor.
 */
char *rdx_text(struct rdx *r, const char *text, enum rdx_hint hint);
/* The same into a fixed buffer (truncating, NUL-terminated). */
void rdx_buf(struct rdx *r, char *buf, size_t len, enum rdx_hint hint);
/*
 * Where to cut s (valid UTF-8, longer than at bytes) to keep at most at
 * bytes: not inside a UTF-8 sequence and not inside a number or address
 * (a cut 203.0.113.95 must not read 203.0.113.9). For every shortened
 * text the report writes.
 */
size_t rdx_cut(const char *s, size_t at);
/* Every string value inside j (recursively), in place. */
void rdx_json(struct rdx *r, json_t *j);
/*
 * Find the next address literal in s at or after *pos: its start and
 * length (so "1.2.3.4:53" gives the address without the port). Returns
 * 1 and fills *start and *len, 0 when there is none. Exposed for tests.
 */
int rdx_next_addr(const char *s, size_t *pos, size_t *start, size_t *len);

/* ---- model (report-model.c) --------------------------------------------- */

struct rpt_fact {
	char *key;
	char *value;
};

struct rpt_cfg {
	char *key, *value, *source, *note;
	int secret;
};

struct rpt_fail {
	enum res_stage stage;
	enum res_reason reason;
	uint32_t count;
	char *example;
};

struct rpt_chk {
	char command[RES_COMMAND_MAX];
	int64_t run_id;
	int64_t run_started_ms;
	struct res_check c;
};

/* One point of the engine timeline. -1: not in that snapshot. */
struct rpt_point {
	int64_t at_ms;
	char phase[24];
	char role[8]; /* "client", "server", "" unknown */
	int64_t session_id;
	double bytes_up, bytes_down; /* cumulative, -1 unknown */
	double rate_up, rate_down;   /* bytes/s over the interval, -1 */
	double active, total;	     /* resolvers */
	double retransmits;
};

struct rpt_event {
	int64_t at_ms;
	char kind[32];
	char *resolver; /* may be NULL */
	char *detail;
};

/* An engine resolver (live status or last snapshot). -1: unknown. */
struct rpt_eres {
	char *address, *domain, *state, *reason;
	double rtt_ms, loss;
	double sent, answered, timeouts;
	double upload_mtu, download_mtu;
};

struct rpt_model {
	struct rdx rdx;
	int64_t now_ms;
	char id[20];
	char marker[96];
	char *notes_buf;

	struct rpt_fact *facts[RPT_SEC_COUNT];
	size_t nfacts[RPT_SEC_COUNT], factcap[RPT_SEC_COUNT];
	struct rpt_cfg *cfg;
	size_t ncfg, cfgcap;
	int method; /* -1 unknown */
	char method_name[32];

	/* last scan */
	int have_scan;
	int64_t scan_run_id;
	struct res_run run;
	char scan_status[32];
	char *scan_host;
	struct res_resolver *ok;
	size_t nok, okcap, max_rows;
	uint64_t nok_total;
	struct rpt_fail *fails;
	size_t nfails, failcap;

	struct rpt_chk *chk;
	size_t nchk, chkcap;

	/* engine */
	struct rpt_point *pts;
	size_t npts, ptcap;
	struct rpt_event *ev;
	size_t nev, evcap;
	uint64_t ev_dropped; /* events the writer or the model left out */
	struct rpt_eres *eres;
	size_t neres, erescap;
	int eres_live;	/* eres came from the live status */
	char role[16];	/* role of the timeline ("client", "server") */
	size_t nother;	/* snapshots of the other role, not charted */
	json_t *live;	/* redacted live STATUS, or NULL */
	char *live_why; /* why there is none */

	char **notes;
	size_t nnotes, notecap;
	int prepared; /* rpt_render ran its one-time preparation */
};

/* The diagnosis of the last scan into buf ("" when nothing to say). */
void rpt_model_diagnosis(const struct rpt_model *m, char *buf, size_t len);
/* The security notes that apply, NULL-terminated static strings. */
size_t rpt_model_security(
    const struct rpt_model *m, const char **out, size_t max);

/* ---- renderers ---------------------------------------------------------- */

int rpt_render_html(struct rpt_model *m, FILE *out);
int rpt_render_md(struct rpt_model *m, FILE *out);
int rpt_render_json(struct rpt_model *m, FILE *out);

/* Shared helpers (report-model.c). */
/* A number with printf's %.Nf but always a '.' (locale-proof). */
const char *rpt_num(char *buf, size_t len, double v, int decimals);
/* ISO 8601 UTC of wall ms, "-" for 0 or less. */
const char *rpt_time(char *buf, size_t len, int64_t ms);
/*
 * Write s with every ASCII character that has an entry in tab written as
 * that entry (the renderers' escaping); with url_colon, the ':' of "://"
 * is written as url_colon. NULL s writes nothing.
 */
void rpt_escape(
    FILE *f, const char *s, const char *const tab[128], const char *url_colon);
/* Bytes per second as "1.2 kB/s". */
const char *rpt_rate(char *buf, size_t len, double bps);

#endif

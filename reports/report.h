/* SPDX-License-Identifier: MIT */
/*
 * report.h — the support report of `mdns-doctor report` (docs/report.md):
 * one model, built from what the CLI reads out of the history store and
 * the running engine, rendered as self-contained HTML, Markdown or JSON.
 *
 * The model never reads the store or a socket itself (reports/ sits
 * beside store/, not above it): the CLI hands it plain records — result
 * model structs, a run's summary, snapshot counters as JSON, facts as
 * key/value text. Every text is copied and redacted as it comes in
 * (docs/report.md, "Redaction"), so nothing unredacted is ever kept:
 *
 *   1. declare what must not appear: rpt_model_secret() (key, SOCKS
 *      password) and the user's own addresses (rpt_model_own_addr,
 *      rpt_model_own_local, rpt_model_own_from_check, rpt_model_own_host)
 *      — all before the first content call, which freezes the set;
 *   2. add content (any order; resolvers first gives them the nicer
 *      pseudonyms "resolver-N" under --redact all);
 *   3. rpt_render() as often as wanted.
 *
 * The pseudonym mapping lives in the model only and is never rendered.
 *
 * Return convention: 0 on success, -1 with e set. Library code: nothing
 * is printed, nothing exits.
 */
#ifndef MDNS_REPORT_H
#define MDNS_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "common/result.h"
#include "common/util.h"

/* What addresses are replaced by pseudonyms. */
enum rpt_redact {
	RPT_REDACT_OWN = 0, /* "own": the user's own addresses (default) */
	RPT_REDACT_ALL,	    /* "all": every address */
	RPT_REDACT_NONE,    /* "none": keep addresses (secrets still go) */
};

/* Output forms. */
enum rpt_form {
	RPT_HTML = 0, /* "html" */
	RPT_MD,	      /* "md" */
	RPT_JSON,     /* "json" */
};

/* Fact sections, rendered in this order. */
enum rpt_section {
	RPT_SEC_VERSIONS = 0, /* mdns-doctor, libraries, schema */
	RPT_SEC_HOST,	      /* host and environment */
	RPT_SEC_CONFIG,	      /* configuration summary (file, role, key) */
	RPT_SEC_ENGINE,	      /* the running engine (rpt_model_live fills it) */
	RPT_SEC_COUNT
};

/* Kind of an own address, for its pseudonym ("local-1", "public-1"). */
enum rpt_own {
	RPT_OWN_LOCAL = 0, /* an address of this host's interfaces */
	RPT_OWN_PUBLIC,	   /* the address the world sees directly */
};

struct rpt_model;

/*
 * A new, empty model. now_ms is the report time (wall UTC ms) for the
 * marker; the random id comes from getrandom(2).
 */
struct rpt_model *rpt_model_new(enum rpt_redact mode, int64_t now_ms);
void rpt_model_free(struct rpt_model *m);

/* The marker line, "mdns-doctor report 2025-...Z id r-0123456789ab". */
const char *rpt_model_marker(const struct rpt_model *m);

/* ---- 1. what must not appear (before any content) --------------------- */

/*
 * A secret (encryption key text, SOCKS password). Its bytes, and the
 * forms it could take in text (any letter case, hex and base64 of its
 * bytes; for a hex key also base64 of the decoded bytes), are replaced by
 * "(secret)" in every text in every mode. Secrets shorter than 4 bytes
 * cannot be scrubbed from prose without mangling it: they are refused
 * with -1 (the caller says so); such a secret has no field in any
 * record anyway.
 */
int rpt_model_secret(struct rpt_model *m, const void *secret, size_t len);

/*
 * An address of the user's own: numeric IPv4/IPv6 text. Unspecified
 * addresses (0.0.0.0, ::) are ignored; -1 for text that is no address.
 */
int rpt_model_own_addr(struct rpt_model *m, const char *addr, enum rpt_own k);

/*
 * Every address of this host's interfaces (getifaddrs) but loopback ones
 * (127/8, ::1: the same on every machine). Returns how many were added.
 */
int rpt_model_own_local(struct rpt_model *m);

/*
 * The direct addresses an `ip` check observed ("direct: URL -> ADDR ..."
 * in its evidence, probe/exitip.c) are the user's public addresses. Does
 * nothing for other checks. Returns how many were added.
 */
int rpt_model_own_from_check(struct rpt_model *m, const struct res_check *c);

/* This host's name and $HOME (replaced by "host-1" and "~"). */
void rpt_model_own_host(struct rpt_model *m, const char *hostname);
void rpt_model_own_home(struct rpt_model *m, const char *home);

/* ---- 2. content ------------------------------------------------------- */

/* A fact line of a section ("sqlite", "3.40.1"); the value is redacted
 * like any text (a declared host name in it becomes "host-1"). */
void rpt_model_fact(struct rpt_model *m, enum rpt_section sec, const char *key,
    const char *value);

/*
 * One key of the effective configuration: value as text (a secret item
 * already as its fingerprint), where it came from ("file", "default",
 * "profile"), an optional note (NULL).
 */
void rpt_model_config_item(struct rpt_model *m, const char *key,
    const char *value, const char *source, const char *note, int secret);

/*
 * The encryption method in use (DATA_ENCRYPTION_METHOD 0..5), for the
 * security note; -1 when unknown (no configuration).
 */
void rpt_model_method(struct rpt_model *m, int method, const char *name);

/*
 * The last scan: its summary (stage counters), run id, status and host.
 * Then its survivors ranked best first (rpt_model_scan_ok, at most
 * max_rows kept; every one counted) and its failures as counts per stage
 * and reason with one example evidence each (rpt_model_scan_fail).
 */
void rpt_model_scan(struct rpt_model *m, int64_t run_id,
    const struct res_run *run, const char *status, const char *host);
void rpt_model_scan_ok(struct rpt_model *m, const struct res_resolver *r);
void rpt_model_scan_fail(struct rpt_model *m, enum res_stage st,
    enum res_reason why, uint32_t count, const char *example);
/* Survivor rows kept (default 100); the rest are only counted. */
void rpt_model_set_max_rows(struct rpt_model *m, size_t max_rows);

/* One stored check, with the command and run it came from. */
void rpt_model_check(struct rpt_model *m, const char *command, int64_t run_id,
    int64_t run_started_ms, const struct res_check *c);

/*
 * An engine snapshot from the store: time, phase, session, and the
 * counters object (the engine's STATUS shape, docs/control-protocol.md;
 * fields it lacks are simply absent from the charts). Its
 * "snapshot_events" array (EVENT objects, store/snapshot.c) adds to the
 * event list.
 */
void rpt_model_snapshot(struct rpt_model *m, int64_t at_ms, const char *phase,
    int64_t session_id, json_t *counters);

/*
 * The running engine's STATUS object (from the control socket), or why
 * there is none (status NULL, why "no engine at PATH: ..."). The last
 * known per-resolver figures come from here, else from the last
 * snapshot that had them.
 */
void rpt_model_live(struct rpt_model *m, json_t *status, const char *why);

/* A note for the reader ("history database not found: ..."). */
void rpt_model_note(struct rpt_model *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- 3. output ---------------------------------------------------------- */

/* "html", "md", "json" -> form; -1 for anything else. */
int rpt_form_from_name(const char *name, enum rpt_form *out);
/* "own", "all", "none" -> mode; -1 for anything else. */
int rpt_redact_from_name(const char *name, enum rpt_redact *out);
const char *rpt_redact_name(enum rpt_redact mode);

/*
 * Write the report in form to out. 0, or -1 with e set when writing
 * failed.
 */
int rpt_render(
    struct rpt_model *m, enum rpt_form form, FILE *out, struct err *e);

#endif

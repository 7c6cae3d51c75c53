/* SPDX-License-Identifier: MIT */
/*
 * check.h — the judgement of `mdns-doctor check` (docs/check.md): the
 * monitoring-plugins threshold ranges behind -w/-c, the metrics a check
 * measures, and pure functions that turn what the sub-checks saw (the
 * engine's status object, handshake and scan results, the age of the
 * last-known-good list) into one res_check each plus the measured values.
 *
 * Nothing here opens a socket, reads the store or keeps time: the CLI
 * gathers the observations (with its deadline) and passes them in, so
 * every rule is unit-tested without a network (tests/unit/test-check.c).
 *
 * States are the plugin exit codes (EXIT_OK .. EXIT_UNKNOWN). A state
 * maps to a check verdict one to one (ok, warn, fail, unknown).
 */
#ifndef MDNS_CHECK_H
#define MDNS_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/result.h"
#include "common/util.h"

/*
 * A threshold range as the monitoring-plugins guidelines write it:
 *	"10"	 alert outside 0..10      "10:"	  alert below 10
 *	"~:10"	 alert above 10           "10:20" alert outside 10..20
 *	"@10:20" alert inside 10..20
 */
struct chk_range {
	int set;    /* 0: no threshold */
	int inside; /* "@": alert inside the range */
	int has_lo, has_hi;
	double lo, hi;
	char text[32]; /* as given (for perfdata) */
};

/* Parse text into r. 0, or -1 with e saying what is wrong. */
int chk_range_parse(const char *text, struct chk_range *r, struct err *e);
/* 1 when v alerts against r (never when r is not set or v is NAN). */
int chk_range_alert(const struct chk_range *r, double v);

/* What a check measures (perfdata labels, -w/-c keys). */
enum chk_metric {
	CHK_RTT,   /* "rtt" ms: median handshake round trip */
	CHK_LOSS,  /* "loss" %: the engine's unanswered queries */
	CHK_AGE,   /* "age" s: since the engine's last valid answer */
	CHK_HS,	   /* "hs": sessions opened through the resolvers tried */
	CHK_GOOD,  /* "good": resolvers that passed the small scan */
	CHK_FRESH, /* "fresh" s: age of the newest last-known-good result */
	CHK_NMETRICS
};

const char *chk_metric_name(enum chk_metric m);
/* Its unit in perfdata: "ms", "%", "s" or "". */
const char *chk_metric_uom(enum chk_metric m);
/* One line for Prometheus' HELP. */
const char *chk_metric_help(enum chk_metric m);

struct chk_limits {
	struct chk_range warn[CHK_NMETRICS];
	struct chk_range crit[CHK_NMETRICS];
};

/*
 * The defaults (docs/check.md): rtt 1000/3000 ms, loss 10/50 %, age
 * 30/120 s, hs N:/1: (all of the N tried / at least one), good 2:/1:,
 * fresh 86400/604800 s.
 */
void chk_limits_defaults(struct chk_limits *l, int handshakes);

/*
 * A -w (crit 0) or -c (crit 1) argument: "KEY=RANGE[,KEY=RANGE...]" with
 * the keys of chk_metric_name; a bare RANGE is rtt's. Replaces the
 * ranges named. 0, or -1 with e set ("-w: unknown key 'x' (rtt, loss,
 * ...)", "-c: rtt: ...").
 */
int chk_limits_parse(
    struct chk_limits *l, int crit, const char *text, struct err *e);

/* CRITICAL when crit alerts, else WARNING when warn alerts, else OK. */
int chk_state(const struct chk_limits *l, enum chk_metric m, double v);

/* The worse of two states: critical > warning > unknown > ok. */
int chk_worst(int a, int b);

/* State <-> verdict (ok, warn, fail, unknown). */
enum res_verdict chk_verdict(int state);
int chk_verdict_state(enum res_verdict v);

/* What the engine check saw (NAN: not reported). */
struct chk_engine {
	char phase[32];
	double loss_pct;
	double age_s;
	int active, total;
	int64_t session;
};

/*
 * The engine check from its status object (st may be NULL: why says
 * what went wrong reaching it) at wall time now_ms. A client is live
 * when its phase is "connected" and at least one resolver is active;
 * anything else ("stalled", "reconnecting", ...) is CRITICAL not_live,
 * no answer CRITICAL no_engine. Then loss and the last-valid-answer age
 * (when the status reports one) against the limits. A server is live
 * when "serving". Fills c (kind engine) and out; returns the state.
 */
int chk_engine_judge(json_t *st, const char *why, int64_t now_ms,
    const struct chk_limits *l, struct res_check *c, struct chk_engine *out);

/*
 * The handshake check from n results of the handshake stage: sessions
 * opened (hs) and the median RTT of those that opened (rtt, NAN when
 * none). None opened is CRITICAL with the most frequent reason. n 0 is
 * UNKNOWN (no resolver to try). Fills c (kind handshake).
 */
int chk_handshake_judge(const struct res_resolver *r, size_t n,
    const struct chk_limits *l, struct res_check *c, int *opened,
    double *rtt_ms);

/*
 * The scan check from n results: how many passed (good) against the
 * limits; stage names the last stage run. Fills c (kind scan).
 */
int chk_scan_judge(const struct res_resolver *r, size_t n, enum res_stage stage,
    const struct chk_limits *l, struct res_check *c, int *good);

/*
 * The freshness of the last-known-good list: newest_ms is the newest
 * passing result (0: none ever), count the list's length. None is
 * CRITICAL stale. Fills c (kind fresh) and *age_s (NAN when none).
 */
int chk_fresh_judge(int64_t newest_ms, size_t count, int64_t now_ms,
    const struct chk_limits *l, struct res_check *c, double *age_s);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * sink-int.h — what sink.c shares with the monitoring sinks in
 * sink-mon.c (prom, nagios). Private to reports/.
 */
#ifndef MDNS_SINK_INT_H
#define MDNS_SINK_INT_H

#include <stdio.h>

#include "common/result.h"
#include "reports/sink.h"

/* The state prom and nagios keep (sink-mon.c); NULL for other formats. */
struct rpt_mon;

/* The sink's stream. */
FILE *rpt_out(struct rpt_sink *s);
/* Record the first error of s ("write error: ..."); returns -1. */
int rpt_fail(struct rpt_sink *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The summary given to rpt_summary, or NULL before. */
const struct res_run *rpt_run(const struct rpt_sink *s);
/* The monitoring state slot of s. */
struct rpt_mon **rpt_mon_slot(struct rpt_sink *s);
/*
 * A malloc'd copy of str that is valid UTF-8 ("\xNN" for bad bytes);
 * oneline also escapes control characters (sink.c's rule for text).
 */
char *rpt_clean_text(const char *str, int oneline);
/* Display width of valid UTF-8 text, in code points. */
size_t rpt_text_width(const char *str);
/* v rounded to dec decimals (0..6), locale-independent. */
void rpt_fmt_fixed(double v, int dec, char *buf, size_t len);

/* The operations of prom and nagios (sink-mon.c). */
int rpt_mon_result(struct rpt_sink *s, const struct res_resolver *r);
int rpt_mon_check(struct rpt_sink *s, const struct res_check *c);
int rpt_mon_summary(struct rpt_sink *s, const struct res_run *run);
int rpt_mon_perf(struct rpt_sink *s, const struct rpt_perf *p);
int rpt_mon_status(struct rpt_sink *s, int code, const char *text);
int rpt_prom_close(struct rpt_sink *s);
int rpt_nagios_close(struct rpt_sink *s);
void rpt_mon_free(struct rpt_mon *m);

#endif

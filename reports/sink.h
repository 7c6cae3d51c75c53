/*
 * sink.h — output sinks over the shared result model (common/result.h).
 *
 * One streaming API, several formats:
 *	text	aligned table; summary block, checks, then the rows. Column
 *		widths come from the content, so everything is buffered and
 *		written at rpt_close().
 *	json	one document {"results":[...],"checks":[...],"summary":{...}},
 *		results streamed as they arrive, the rest written at close.
 *	jsonl	one JSON object per line, each with "type": "result",
 *		"check" or "summary"; written as they arrive.
 *	csv	RFC 4180: header row, one row per resolver result, CRLF line
 *		ends, fields quoted when they hold , " CR or LF. Summary is
 *		not part of a CSV table and is ignored; checks are refused.
 *	ips	survivors only (verdict ok), one per line, usable as
 *		client_resolvers.txt: "IP", "IP:PORT" when the port is not
 *		53, "[IPv6]:PORT" for IPv6; each address:port once.
 *		Summary and checks are ignored.
 * docs/output-formats.md lists every column.
 *
 * The model has no secret fields, so no sink can leak one. Text from the
 * wire (evidence) may hold any bytes: sinks replace invalid UTF-8 with
 * "\xNN" escapes, and text/ips output escapes control characters so one
 * result stays on one line.
 */
#ifndef MDNS_SINK_H
#define MDNS_SINK_H

#include <stdio.h>

#include "common/result.h"
#include "common/util.h"

struct rpt_sink;

/* "text, json, jsonl, csv, ips" — for usage messages. */
const char *rpt_formats(void);

/*
 * Open a sink writing format fmt to out. out stays owned by the caller and
 * is not closed by rpt_close(). Returns the sink, or NULL with e set to
 * "unknown format 'X' (valid: text, json, jsonl, csv, ips)".
 */
struct rpt_sink *rpt_open(const char *fmt, FILE *out, struct err *e);

/*
 * Emit one resolver result / one check / the run summary. The structs are
 * copied as needed; the caller keeps ownership. Returns 0, or -1 when the
 * write failed or the format cannot carry the record (csv checks); the
 * message is kept and returned by rpt_error() and by rpt_close().
 * rpt_summary may be called once, at any time before rpt_close.
 */
int rpt_result(struct rpt_sink *s, const struct res_resolver *r);
int rpt_check(struct rpt_sink *s, const struct res_check *c);
int rpt_summary(struct rpt_sink *s, const struct res_run *run);

/* The first error message recorded on s, or NULL. Valid until close. */
const char *rpt_error(const struct rpt_sink *s);

/*
 * Finish the output (buffered tables, closing brackets), flush out and free
 * s. Returns 0, or -1 with e set to the first error seen on this sink
 * (a write error, or a record the format refused). s may be NULL.
 */
int rpt_close(struct rpt_sink *s, struct err *e);

/*
 * The entry as written to a client_resolvers.txt line: "1.2.3.4",
 * "1.2.3.4:5353" or "[2001:db8::1]:53". buf needs RES_ADDR_MAX + 8.
 */
void rpt_resolver_text(const char *addr, uint16_t port, char *buf, size_t len);

/*
 * A malloc'd copy of str that is valid UTF-8 (invalid bytes become the
 * four characters "\xNN"); with oneline, control characters are escaped
 * too (\n \r \t, others \xNN). What every sink does to wire text; the
 * support report (report.h) uses it as well.
 */
char *rpt_clean_text(const char *str, int oneline);

#endif

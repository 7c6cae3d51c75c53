/* SPDX-License-Identifier: MIT */
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
 *	prom	Prometheus text exposition (0.0.4) for node_exporter's
 *		textfile collector: every metric a gauge named
 *		mdns_doctor_COMMAND_* (COMMAND from the summary), one family
 *		at a time with HELP and TYPE, written at close.
 *	nagios	one line in the monitoring-plugins format,
 *		"MDNS-DOCTOR STATE - text | 'label'=value[uom];warn;crit;min;max
 *		...", written at close: the state and text given to
 *		rpt_status, else derived from the checks and results.
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

/* "text, json, jsonl, csv, ips, prom, nagios" — for usage messages. */
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

/*
 * text: fit the tables into `columns` (0 = no limit, the default): the
 * evidence is cut with an ellipsis, then columns of detail (QPS, BURST,
 * TC, EDNS, CASE, ANSWER, NAME, DOMAIN, STAGE, in that order) are left
 * out and named below the table. Addresses, ports, verdicts and MTUs are
 * never cut. Checks (ip, leak, route, a scan's path checks) whose table
 * does not fit are printed one block each instead, detail and evidence
 * folded at blanks and never cut: a check is little but its evidence.
 * Other formats ignore it.
 */
void rpt_set_width(struct rpt_sink *s, int columns);

/*
 * The width to fit text output on f into: 0 when f is not a terminal
 * (a pipe or a file stays unwrapped), else COLUMNS when it holds a
 * number 20..10000, else the terminal's width, else 80.
 */
int rpt_term_width(FILE *f);

/*
 * Write text to f folded at blanks into width columns (0: as it is, line
 * breaks kept). The first line starts `first` blanks in (written here),
 * continuation lines `cont` blanks in; folding cuts nothing (an address
 * stays whole on its line, a word longer than the width overflows).
 */
void rpt_put_folded(FILE *f, const char *text, int width, int first, int cont);

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
 * One RFC 4180 CSV field to f (a ',' first unless first): made valid
 * UTF-8, quoted when it holds , " CR or LF, quotes doubled. 0, or -1 on a
 * write error.
 */
int rpt_csv_put(FILE *f, const char *v, int first);

/*
 * A table of any columns in text, json or csv, for listings that are not
 * resolver results (history's runs, last-known-good list, differences).
 * Cells are text; the column type says how json carries them (a number,
 * or a string), and a NULL cell is unknown: "-" in text, null in json, an
 * empty field in csv. text aligns the columns at close (numbers right);
 * json writes {"KEY":[{...},...]} and csv a header and rows as they come.
 */
enum rpt_col_type {
	RPT_COL_STR = 0,
	RPT_COL_INT, /* a decimal integer */
	RPT_COL_NUM, /* a decimal number */
};

struct rpt_col {
	const char *name; /* json key and csv header; text upper-cases it */
	enum rpt_col_type type;
};

struct rpt_table;

/*
 * Open a table in fmt ("text", "json", "csv") on out with ncols columns
 * (cols borrowed, must outlive the table); json_key names the array.
 * NULL with e set for another format.
 */
struct rpt_table *rpt_table_open(const char *fmt, FILE *out,
    const char *json_key, const struct rpt_col *cols, size_t ncols,
    struct err *e);
/*
 * Before the first row: one key: value shown above the table (text: a
 * "key: value" line; json: a member beside the array; csv: nothing).
 */
int rpt_table_meta(struct rpt_table *t, const char *key, const char *value,
    enum rpt_col_type type);
/* One row of ncols cells (copied). 0, or -1 on a write error. */
int rpt_table_row(struct rpt_table *t, const char *const *cells);
/*
 * Finish (text: print the aligned table, or nothing when it has no rows
 * and empty is NULL, else the line empty), flush, free. 0, or -1 with e
 * set to the first write error.
 */
int rpt_table_close(struct rpt_table *t, const char *empty, struct err *e);

/*
 * A measured value for the monitoring formats: perfdata in nagios, a
 * gauge in prom, an object in json/jsonl ("perf"). text, csv and ips
 * ignore it. Labels are [a-z][a-z0-9_]*; the unit is one the
 * monitoring-plugins guidelines name ("ms", "us", "s", "%", "B", "KB",
 * "MB", "TB", "c") or "" for a plain number. prom converts to base units
 * (ms -> _seconds, % -> _ratio, B -> _bytes). A NAN value is "U" in
 * nagios and NaN in prom.
 */
struct rpt_perf {
	const char *label;
	double value;
	const char *uom;
	const char *warn; /* threshold range as given ("100", "2:"), or NULL */
	const char *crit;
	double min, max;  /* NAN: none */
	const char *help; /* one line for prom's HELP; NULL: the label */
};

int rpt_perf(struct rpt_sink *s, const struct rpt_perf *p);

/*
 * The overall state (EXIT_OK .. EXIT_UNKNOWN) and one line saying why:
 * nagios prints it as its status line, prom as mdns_doctor_COMMAND_status,
 * json/jsonl as a "status" object. Others ignore it. Once per sink.
 */
int rpt_status(struct rpt_sink *s, int code, const char *text);

/* "OK", "WARNING", "CRITICAL", "UNKNOWN" ("UNKNOWN" out of range). */
const char *rpt_state_name(int code);

#endif

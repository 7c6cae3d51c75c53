/* SPDX-License-Identifier: MIT */
/*
 * tui-draw.c — paint the dashboard from the model: header, throughput
 * sparklines, ARQ/FEC line, resolver table, streams, event log, footer,
 * and the help and detail overlays; the server role gets its own counter
 * panes. Everything is laid out from LINES and COLS on every draw, so a
 * resize needs nothing but a redraw. Text from the engine is sanitised
 * (control characters shown as '?') and cut to its column width. Colour
 * only adds emphasis: every state is also written out as text.
 */
#include <curses.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

#include "common/ctlc.h"
#include "tui/tui-int.h"

enum { C_GOOD = 1, C_BAD, C_WARN, C_TITLE, C_DIM };

static const char *const spark_utf8[TUI_SPARK_LEVELS] = {
    "\u2581",
    "\u2582",
    "\u2583",
    "\u2584",
    "\u2585",
    "\u2586",
    "\u2587",
    "\u2588",
};
static const char spark_ascii[TUI_SPARK_LEVELS + 1] = "_.:-=+*#";

void
tui_draw_init(struct tui_ui *ui)
{
	if (!ui->color)
		return;
	start_color();
	use_default_colors();
	init_pair(C_GOOD, COLOR_GREEN, -1);
	init_pair(C_BAD, COLOR_RED, -1);
	init_pair(C_WARN, COLOR_YELLOW, -1);
	init_pair(C_TITLE, COLOR_CYAN, -1);
	init_pair(C_DIM, COLOR_BLUE, -1);
}

static attr_t
col(const struct tui_ui *ui, int pair)
{
	return ui->color ? COLOR_PAIR(pair) : 0;
}

/* Colour for a resolver or engine state word. */
static attr_t
state_attr(const struct tui_ui *ui, const char *s)
{
	if (strcmp(s, "active") == 0 || strcmp(s, "connected") == 0 ||
	    strcmp(s, "serving") == 0)
		return col(ui, C_GOOD);
	if (strcmp(s, "disabled") == 0 || strcmp(s, "rejected") == 0 ||
	    strcmp(s, "stopping") == 0)
		return col(ui, C_BAD) | A_BOLD;
	return col(ui, C_WARN);
}

/*
 * Print s at (y, x) in at most w columns; returns the columns used.
 * Characters come through ctlc_term_next, the sanitiser `status` uses as
 * well: unprintable or undecodable ones become '?', so an engine string
 * can never move the cursor or send escape sequences to the terminal.
 */
static int
put(int y, int x, int w, attr_t a, const char *s)
{
	mbstate_t ps;
	int used = 0;

	if (y < 0 || y >= LINES || x >= COLS || w <= 0)
		return 0;
	if (w > COLS - x)
		w = COLS - x;
	memset(&ps, 0, sizeof ps);
	move(y, x);
	attron(a);
	while (*s != '\0' && used < w) {
		wchar_t wc;
		int cw = ctlc_term_next(&s, &ps, &wc);

		if (used + cw > w)
			break;
		if (wc < 0x80) {
			addch((chtype)wc);
		} else {
			wchar_t one[2] = {wc, 0};

			addnwstr(one, 1);
		}
		used += cw;
	}
	attroff(a);
	return used;
}

/* Display columns of s as put() would draw it (no limit). */
static int
text_cols(const char *s)
{
	mbstate_t ps;
	int cols = 0, cw;
	wchar_t wc;
	size_t n;

	memset(&ps, 0, sizeof ps);
	while (*s != '\0') {
		n = mbrtowc(&wc, s, MB_CUR_MAX, &ps);
		if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
			memset(&ps, 0, sizeof ps);
			n = 1;
			cw = 1;
		} else if ((cw = wcwidth(wc)) < 0 || wc < 0x20)
			cw = 1;
		cols += cw;
		s += n;
	}
	return cols;
}

/*
 * put() for text that must not be shortened silently (addresses,
 * domains): when s does not fit in w columns its last visible column
 * becomes an ellipsis, so "127.20.0.10:38500" in 16 columns reads
 * "127.20.0.10:385…", never the other valid address "127.20.0.10:3850".
 */
static int
put_cut(const struct tui_ui *ui, int y, int x, int w, attr_t a, const char *s)
{
	int used;

	if (w <= 0 || text_cols(s) <= w)
		return put(y, x, w, a, s);
	used = put(y, x, w - 1, a, s);
	return used + put(y, x + used, 1, a, ui->utf8 ? "\u2026" : "~");
}

static int __attribute__((format(printf, 5, 6)))
putf(int y, int x, int w, attr_t a, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	return put(y, x, w, a, buf);
}

/* A pane's title line: a rule with the title on it, bold when focused. */
static void __attribute__((format(printf, 4, 5)))
title_line(struct tui_ui *ui, int y, int focused, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int x;

	if (y >= LINES)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	attron(col(ui, C_DIM));
	mvhline(y, 0, ACS_HLINE, COLS);
	attroff(col(ui, C_DIM));
	x = put(y, 1, COLS - 2, focused ? A_BOLD | col(ui, C_TITLE) : 0,
	    focused ? (ui->utf8 ? "\u25b6 " : "> ") : " ");
	put(y, 1 + x, COLS - 2 - x, focused ? A_BOLD | col(ui, C_TITLE) : 0,
	    buf);
}

static void
spark_row(struct tui_ui *ui, int y, const char *label, int up, double rate)
{
	int levels[TUI_HIST_MS / 1000];
	char r[32];
	double peak;
	int x, n, i;

	tui_fmt_rate(rate, r, sizeof r);
	x = putf(y, 0, COLS, A_BOLD, "%-4s %11s ", label, r);
	n = COLS - x - 1;
	if (n > (int)nitems(levels))
		n = (int)nitems(levels);
	if (n < 4)
		return;
	tui_model_spark(&ui->m, up, levels, (size_t)n, &peak);
	move(y, x);
	attron(col(ui, up ? C_TITLE : C_GOOD));
	for (i = 0; i < n; i++) {
		if (levels[i] < 0)
			addch(' ');
		else if (ui->utf8)
			addstr(spark_utf8[levels[i]]);
		else
			addch((chtype)spark_ascii[levels[i]]);
	}
	attroff(col(ui, up ? C_TITLE : C_GOOD));
	if (COLS - (x + n) > 20) {
		tui_fmt_rate(peak, r, sizeof r);
		putf(y, x + n + 1, COLS - x - n - 1, 0, "peak %s", r);
	}
}

static const char *
conn_word(const struct tui_ui *ui)
{
	if (ui->conn == TUI_CONN_DOWN)
		return "NO ENGINE";
	if (ui->conn == TUI_CONN_WAITING)
		return "waiting";
	return NULL;
}

static void
header_common(struct tui_ui *ui, const char *role)
{
	const struct tui_status *st = &ui->m.cur;
	const char *cw = conn_word(ui);
	char up[32], clock[16];
	time_t now = time(NULL);
	struct tm tm;
	int x;

	localtime_r(&now, &tm);
	strftime(clock, sizeof clock, "%H:%M:%S", &tm);
	attron(A_REVERSE);
	mvhline(0, 0, ' ', COLS);
	attroff(A_REVERSE);
	x = put(0, 0, COLS, A_REVERSE | A_BOLD, " mdns-doctor ");
	x += putf(0, x, COLS - x, A_REVERSE, "%s ", role);
	if (cw != NULL)
		x += putf(0, x, COLS - x, A_REVERSE | A_BOLD, "[%s] ", cw);
	if (ui->m.have) {
		x += put(0, x, COLS - x, A_REVERSE, "phase ");
		x += putf(0, x, COLS - x, A_REVERSE | A_BOLD, "%s ",
		    st->phase[0] ? st->phase : "?");
		if (st->role == TUI_ROLE_CLIENT) {
			x += put(0, x, COLS - x, A_REVERSE, " session ");
			if (st->has_session)
				x += putf(0, x, COLS - x, A_REVERSE | A_BOLD,
				    "%lld ", st->session_id);
			else
				x += put(0, x, COLS - x, A_REVERSE, "- ");
			/* like wg's "latest handshake" */
			if (st->live_age_ms >= 0) {
				tui_fmt_duration(
				    st->live_age_ms, up, sizeof up);
				x += putf(0, x, COLS - x, A_REVERSE,
				    " answer %s ago ", up);
			}
		}
		tui_fmt_duration(st->uptime_ms, up, sizeof up);
		x += putf(0, x, COLS - x, A_REVERSE, " up %s ", up);
	}
	if (ui->paused)
		x += putf(0, x, COLS - x, A_REVERSE | A_BOLD,
		    " PAUSED (%llu "
		    "skipped) ",
		    (unsigned long long)ui->skipped);
	if (COLS - x > 9)
		put(0, COLS - 9, 9, A_REVERSE, clock);
}

static void
footer(struct tui_ui *ui)
{
	int y = LINES - 1;

	move(y, 0);
	clrtoeol();
	if (ui->mode == TUI_MODE_FILTER) {
		putf(y, 0, COLS, A_BOLD, "filter: %s", ui->filter_buf);
		put(y, COLS > 40 ? COLS - 30 : COLS, 30, 0,
		    "Enter apply, Esc cancel");
		move(y, MIN(COLS - 1, 8 + (int)ui->filter_len));
		return;
	}
	if (ui->conn == TUI_CONN_DOWN ||
	    (ui->conn == TUI_CONN_WAITING && ui->conn_msg != NULL)) {
		/* A reason other than "nothing listens" is worth showing. */
		if (ui->conn_msg != NULL)
			putf(y, 0, COLS, A_BOLD | col(ui, C_BAD),
			    "engine at %s: %s %s retrying", ui->path,
			    ui->conn_msg, ui->utf8 ? "\u2014" : "--");
		else
			putf(y, 0, COLS, A_BOLD | col(ui, C_BAD),
			    "engine not running at %s %s retrying", ui->path,
			    ui->utf8 ? "\u2014" : "--");
		return;
	}
	if (ui->conn == TUI_CONN_UP && ui->last_msg_ms != 0) {
		uint64_t age = now_mono_ms() - ui->last_msg_ms;

		if (age > 3 * (uint64_t)ui->interval_ms + 2000) {
			putf(y, 0, COLS, A_BOLD | col(ui, C_WARN),
			    "no snapshot from the engine for %llu s",
			    (unsigned long long)(age / 1000));
			return;
		}
	}
	put(y, 0, COLS, col(ui, C_DIM),
	    "q quit  ? help  Tab pane  s sort  "
	    "r reverse  / filter  d detail  p pause");
}

/* A check code (-1 none, 0 ok, 1 warning, 2 critical, 3 unknown) ranked
 * for colour: a critical verdict beside an unknown one is still bad. */
static int
severity(int code)
{
	static const int rank[] = {1, 2, 4, 3};

	return code >= 0 && code <= 3 ? rank[code] : 0;
}

/*
 * Row 1 of the client view, and the exit checks' verdicts (connect
 * --checks: "exit ok 10.77.1.2  leak critical 10.78.1.1") when the status
 * has them: on the same row when they fit, else on the next.
 * Returns the rows used.
 */
static int
client_header(struct tui_ui *ui)
{
	const struct tui_status *st = &ui->m.cur;
	char bu[16], bd[16], probes[256];
	int x = 0, y = 1, worst;
	attr_t attr;

	x += putf(
	    y, x, COLS - x, 0, "MTU %lld/%lld  ", st->mtu_up, st->mtu_down);
	x += put(y, x, COLS - x, 0, "resolvers ");
	x += putf(y, x, COLS - x,
	    A_BOLD | (st->res_active > 0 ? col(ui, C_GOOD) : col(ui, C_BAD)),
	    "%lld/%lld", st->res_active, st->res_total);
	x += putf(y, x, COLS - x, 0, " active  %.1f q/s", st->qps);
	tui_fmt_count(st->bytes_up, bu, sizeof bu);
	tui_fmt_count(st->bytes_down, bd, sizeof bd);
	x += putf(y, x, COLS - x, 0, "  bytes up %s down %s", bu, bd);
	if (st->exit_ip[0] == '\0' && st->leak[0] == '\0')
		return 1;
	snprintf(probes, sizeof probes, "%s%s%s%s%s",
	    st->exit_ip[0] ? "exit " : "", st->exit_ip,
	    st->exit_ip[0] && st->leak[0] ? "  " : "",
	    st->leak[0] ? "leak " : "", st->leak);
	/* Coloured by the worse of the two verdicts (connect --checks):
	 * critical over unknown over warning over ok, as `check` ranks. */
	worst = severity(st->exit_code) > severity(st->leak_code) ?
	    st->exit_code :
	    st->leak_code;
	attr = A_BOLD |
	    (worst == 0	       ? col(ui, C_GOOD) :
		    worst == 2 ? col(ui, C_BAD) :
		    worst > 0  ? col(ui, C_WARN) :
				 0);
	if (x + 2 + (int)strlen(probes) <= COLS) {
		put(y, x + 2, COLS - x - 2, attr, probes);
		return 1;
	}
	put(y + 1, 0, COLS, attr, probes);
	return 2;
}

/* "DNS  queries N  hits N  tunnel N  frags up/down  fail N  p50 p99". */
static void
dns_line(int y, const struct tui_status *st)
{
	putf(y, 0, COLS, 0,
	    "DNS  queries %lld  hits %lld  tunnel %lld  frags %lld/%lld  "
	    "fail %lld  p50 %.1f ms  p99 %.1f ms",
	    st->dns_queries, st->dns_hits, st->dns_tunnel, st->dns_frag_up,
	    st->dns_frag_down, st->dns_fail, st->dns_p50_ms, st->dns_p99_ms);
}

/* A member of the fec object, or NULL. */
static const struct tui_kv *
fec_get(const struct tui_status *st, const char *name)
{
	size_t i;

	for (i = 0; i < st->nfec; i++)
		if (strcmp(st->fec[i].name, name) == 0)
			return &st->fec[i];
	return NULL;
}

/*
 * The FEC line: the engine's fields (docs/fec.md) in a fixed order with
 * short names, the fork's "FEC negotiated" and "recovered packets" first;
 * members it does not know follow as they came.
 */
static void
fec_line(const struct tui_status *st, char *buf, size_t cap)
{
	static const char *const known[][2] = {{"group_size", "group"},
	    {"overhead", "overhead %"}, {"recovered_packets", "recovered"},
	    {"decoded_groups", "decoded"}, {"failed_groups", "failed"},
	    {"symbols_received", "symbols rx"}, {"symbols_sent", "symbols tx"},
	    {"symbols_skipped", "skipped"}, {"groups_created", "groups"},
	    {"overhead_bytes", "bytes"}, {"malformed", "malformed"}};
	const struct tui_kv *kv = fec_get(st, "negotiated");
	size_t i, j, off;

	off = (size_t)snprintf(buf, cap, "FEC %s",
	    kv == NULL	       ? "" :
		kv->value != 0 ? "negotiated" :
				 "off");
	for (i = 0; i < nitems(known) && off < cap; i++)
		if ((kv = fec_get(st, known[i][0])) != NULL)
			off += (size_t)snprintf(buf + off, cap - off, "  %s %g",
			    known[i][1], kv->value);
	for (i = 0; i < st->nfec && off < cap; i++) {
		for (j = 0; j < nitems(known); j++)
			if (strcmp(st->fec[i].name, known[j][0]) == 0)
				break;
		if (j < nitems(known) ||
		    strcmp(st->fec[i].name, "negotiated") == 0)
			continue;
		off += (size_t)snprintf(buf + off, cap - off, "  %s %g",
		    st->fec[i].name, st->fec[i].value);
	}
}

/* "TUN  pkts in/out  bytes in/out  flows open/opened  dns N  drop N
 *  err N  routes N" (connect --tun). */
static void
tun_line(int y, const struct tui_status *st)
{
	putf(y, 0, COLS, 0,
	    "TUN  pkts %lld/%lld  bytes %lld/%lld  flows %lld/%lld  dns %lld"
	    "  drop %lld  err %lld  routes %lld",
	    st->tun_pkts_in, st->tun_pkts_out, st->tun_bytes_in,
	    st->tun_bytes_out, st->tun_flows_open, st->tun_flows_opened,
	    st->tun_dns_queries, st->tun_dropped, st->tun_errors,
	    st->tun_routes);
}

static void
client_counters(struct tui_ui *ui, int y)
{
	const struct tui_status *st = &ui->m.cur;
	char buf[512];
	int x;

	x = putf(y, 0, COLS, 0,
	    "ARQ retx %lld  NACK %lld/%lld  RTO %lld ms"
	    "  dup x%lld  drops %lld  busy %lld  reinit %lld",
	    st->retransmits, st->nacks_sent, st->nacks_received, st->rto_ms,
	    st->dup_factor, st->ev_error_drop, st->ev_session_busy,
	    st->ev_reinit);
	if (COLS - x > 24)
		putf(y, x, COLS - x, 0, "  socks err %lld/%lld",
		    st->socks_read_errors, st->socks_write_errors);
	if (st->has_dns)
		dns_line(++y, st);
	if (st->has_tun)
		tun_line(++y, st);
	if (!st->has_fec)
		return;
	fec_line(st, buf, sizeof buf);
	put(y + 1, 0, COLS, 0, buf);
}

/* Column layout of the resolver table for the current width. */
struct cols {
	int addr, dom, state, reason;
};

static struct cols
table_cols(void)
{
	/* fixed: state 8, rtt 6, loss 5, up 4, down 4, counts 3x5, spaces */
	struct cols c = {0, 0, 8, 0};
	int fixed = 8 + 6 + 5 + 4 + 4 + 5 + 5 + 5 + 9 + 1;
	int rest = COLS - fixed;

	if (rest < 20)
		rest = 20;
	if (rest >= 46) {
		/* Room for the whole state word and the reason. */
		c.state = 10;
		c.addr = 20;
		c.dom = MIN(20, (rest - 2 - 20 - 1) / 2);
		c.reason = rest - 2 - 20 - c.dom - 1;
		return c;
	}
	c.addr = rest * 3 / 5;
	c.dom = rest - c.addr;
	if (c.addr > 24) {
		c.dom += c.addr - 24;
		c.addr = 24;
	}
	return c;
}

static void
resolver_row(struct tui_ui *ui, int y, const struct tui_resolver *r,
    const struct cols *c, int selected)
{
	char rtt[16], loss[16], s[16], a[16], t[16];
	attr_t base = selected ? A_REVERSE : 0;
	int x = 1;

	if (r->rtt_ms >= 0)
		snprintf(rtt, sizeof rtt, "%.1f", r->rtt_ms);
	else
		snprintf(rtt, sizeof rtt, "-");
	snprintf(loss, sizeof loss, "%.0f%%", r->loss * 100);
	tui_fmt_count(r->sent, s, sizeof s);
	tui_fmt_count(r->answered, a, sizeof a);
	tui_fmt_count(r->timeouts, t, sizeof t);
	if (selected) {
		attron(A_REVERSE);
		mvhline(y, 0, ' ', COLS);
		attroff(A_REVERSE);
	}
	put(y, 0, 1, base | A_BOLD, selected ? ">" : " ");
	put_cut(ui, y, x, c->addr, base, r->address);
	x += c->addr + 1;
	put_cut(ui, y, x, c->dom, base, r->domain);
	x += c->dom + 1;
	put(y, x, c->state, base | state_attr(ui, r->state),
	    c->state < 10 && strcmp(r->state, "rechecking") == 0 ? "recheck" :
								   r->state);
	x += c->state + 1;
	putf(y, x, 6, base, "%6s", rtt);
	x += 7;
	putf(
	    y, x, 5, base | (r->loss >= 0.2 ? col(ui, C_BAD) : 0), "%5s", loss);
	x += 6;
	putf(y, x, 4, base, "%4lld", r->upload_mtu);
	x += 5;
	putf(y, x, 4, base, "%4lld", r->download_mtu);
	x += 5;
	putf(y, x, 5, base, "%5s", s);
	x += 6;
	putf(y, x, 5, base, "%5s", a);
	x += 6;
	putf(y, x, 5, base | (r->timeouts > 0 ? col(ui, C_WARN) : 0), "%5s", t);
	x += 6;
	if (c->reason > 0)
		put_cut(ui, y, x, c->reason, base, r->reason);
}

static void
resolver_pane(struct tui_ui *ui, int y, int h)
{
	struct tui_model *m = &ui->m;
	struct cols c = table_cols();
	int rows, i, x;

	title_line(ui, y, ui->pane == TUI_PANE_RESOLVERS,
	    "Resolvers %zu shown of %zu  sort %s%s%s%s%s ", m->nview,
	    m->cur.nres, tui_sort_name(m->sort),
	    m->sort_reverse ? " (reversed)" : "",
	    m->filter ? "  filter \"" : "", m->filter ? m->filter : "",
	    m->filter ? "\"" : "");
	if (h < 2)
		return;
	x = 1;
	attron(A_BOLD | col(ui, C_TITLE));
	putf(y + 1, x, c.addr, 0, "ADDRESS");
	x += c.addr + 1;
	putf(y + 1, x, c.dom, 0, "DOMAIN");
	x += c.dom + 1;
	putf(y + 1, x, c.state, 0, "STATE");
	x += c.state + 1;
	putf(y + 1, x, COLS - x, 0, "%6s %5s %4s %4s %5s %5s %5s", "RTTms",
	    "LOSS", "UP", "DOWN", "SENT", "ANSW", "TMO");
	x += 41;
	if (c.reason > 0)
		put(y + 1, x, c.reason, 0, "REASON");
	attroff(A_BOLD | col(ui, C_TITLE));
	rows = h - 2;
	ui->res_rows = rows;
	if (m->nview == 0) {
		put(y + 2, 2, COLS - 2, 0,
		    !m->have		 ? "(no data yet)" :
			m->cur.nres == 0 ? "(the engine lists no resolvers)" :
					   "(no resolver matches the filter)");
		return;
	}
	if (ui->sel >= m->nview)
		ui->sel = m->nview - 1;
	if (ui->sel < ui->res_top)
		ui->res_top = ui->sel;
	if (rows > 0 && ui->sel >= ui->res_top + (size_t)rows)
		ui->res_top = ui->sel - (size_t)rows + 1;
	for (i = 0; i < rows && ui->res_top + (size_t)i < m->nview; i++) {
		size_t k = ui->res_top + (size_t)i;

		resolver_row(ui, y + 2 + i, &m->cur.res[m->view[k]], &c,
		    k == ui->sel && ui->pane == TUI_PANE_RESOLVERS);
	}
}

static void
stream_pane(struct tui_ui *ui, int y, int h)
{
	const struct tui_status *st = &ui->m.cur;
	char u[16], d[16];
	int i, rows = h - 1;

	char sk[200] = "", head[120];
	int n;

	n = snprintf(head, sizeof head,
	    "Streams %lld active, %lld opened, %lld closed", st->str_active,
	    st->str_opened, st->str_closed);
	/* SOCKS requests by target: an IP literal means the application
	 * resolved the name itself, outside the tunnel (docs/checks.md).
	 * The most recent client when the line has room for it. */
	if (st->socks_req_name + st->socks_req_ip > 0) {
		int k = snprintf(sk, sizeof sk, "  SOCKS host %lld IP %lld",
		    st->socks_req_name, st->socks_req_ip);

		if (st->socks_last_client != NULL &&
		    st->socks_last_client[0] != '\0' && k > 0 &&
		    (size_t)k < sizeof sk &&
		    n + k + 24 + (int)strlen(st->socks_last_client) < COLS - 4)
			snprintf(sk + k, sizeof sk - (size_t)k,
			    "  clients %lld, last %s %lld/%lld",
			    st->socks_nclients, st->socks_last_client,
			    st->socks_last_name, st->socks_last_ip);
	}
	title_line(ui, y, ui->pane == TUI_PANE_STREAMS, "%s%s ", head, sk);
	ui->stream_rows = rows;
	if (ui->stream_top + (size_t)MAX(rows, 0) > st->nstreams)
		ui->stream_top = st->nstreams > (size_t)MAX(rows, 0) ?
		    st->nstreams - (size_t)rows :
		    0;
	for (i = 0; i < rows && ui->stream_top + (size_t)i < st->nstreams;
	     i++) {
		const struct tui_stream *s =
		    &st->streams[ui->stream_top + (size_t)i];

		tui_fmt_count(s->bytes_up, u, sizeof u);
		tui_fmt_count(s->bytes_down, d, sizeof d);
		putf(y + 1 + i, 1, COLS - 1, 0,
		    "stream %-6lld %-10.10s up %7s B  down %7s B", s->id,
		    s->state, u, d);
	}
}

static void
event_pane(struct tui_ui *ui, int y, int h)
{
	struct tui_model *m = &ui->m;
	int rows = h - 1, i;

	/* Clamp before the title says "scrolled back": with no more events
	 * than rows there is nothing to scroll to. */
	ui->event_rows = rows;
	if (rows <= 0 || m->nevents <= (size_t)rows)
		ui->event_back = 0;
	else if (ui->event_back > m->nevents - (size_t)rows)
		ui->event_back = m->nevents - (size_t)rows;
	title_line(ui, y, ui->pane == TUI_PANE_EVENTS, "Events %llu%s ",
	    (unsigned long long)m->events_total,
	    ui->event_back ? "  (scrolled back)" : "");
	if (rows <= 0)
		return;
	/* Newest at the bottom, like a log tail. */
	for (i = 0; i < rows; i++) {
		const struct tui_event *ev = tui_model_event_at(
		    m, ui->event_back + (size_t)(rows - 1 - i));
		char when[16];
		time_t t;
		struct tm tm;
		attr_t a = 0;
		int x;

		if (ev == NULL)
			continue;
		t = (time_t)(ev->at_ms / 1000);
		localtime_r(&t, &tm);
		strftime(when, sizeof when, "%H:%M:%S", &tm);
		if (strstr(ev->kind, "disabled") ||
		    strstr(ev->kind, "rejected") || strstr(ev->kind, "lost"))
			a = col(ui, C_BAD);
		else if (strstr(ev->kind, "enabled") ||
		    strstr(ev->kind, "connected"))
			a = col(ui, C_GOOD);
		else if (ev->local)
			a = col(ui, C_DIM);
		x = putf(y + 1 + i, 1, COLS - 1, 0, "%s ", when);
		x += putf(y + 1 + i, 1 + x, COLS - 1 - x, a | A_BOLD, "%s ",
		    ev->kind);
		if (ev->resolver[0] != '\0')
			x += putf(y + 1 + i, 1 + x, COLS - 1 - x, 0, "%s ",
			    ev->resolver);
		put(y + 1 + i, 1 + x, COLS - 1 - x, 0, ev->detail);
	}
}

static void
draw_client(struct tui_ui *ui)
{
	const struct tui_status *st = &ui->m.cur;
	int top, avail, ev_h, st_h, res_h;
	int fec = (st->has_fec ? 1 : 0) + (st->has_dns ? 1 : 0) +
	    (st->has_tun ? 1 : 0);

	header_common(ui, "client");
	top = 1 + client_header(ui);
	spark_row(ui, top, "up", 1, ui->m.rate_up_bps);
	spark_row(ui, top + 1, "down", 0, ui->m.rate_down_bps);
	client_counters(ui, top + 2);
	top += 3 + fec;
	avail = LINES - 1 - top;
	if (avail < 6)
		avail = 6;
	ev_h = MAX(3, avail / 4);
	st_h = 1 + (int)MIN(st->nstreams, (size_t)MAX(1, avail / 8));
	res_h = avail - ev_h - st_h;
	if (res_h < 3) {
		st_h = 1;
		res_h = avail - ev_h - st_h;
	}
	resolver_pane(ui, top, res_h);
	stream_pane(ui, top + res_h, st_h);
	event_pane(ui, top + res_h + st_h, ev_h);
}

/* "label  name value  name value …", wrapped onto following lines. */
static int
pairs_row(int y, const char *label, const char *const *names,
    const long long *vals, size_t n)
{
	int x, lines = 1;
	size_t i;

	x = putf(y, 0, COLS, A_BOLD, "%-9s", label);
	for (i = 0; i < n; i++) {
		char buf[64];
		int w =
		    snprintf(buf, sizeof buf, " %s %lld ", names[i], vals[i]);

		if (x + w > COLS && x > 9) {
			y++;
			lines++;
			x = 9;
		}
		x += put(y, x, COLS - x, 0, buf);
	}
	return lines;
}

static void
draw_server(struct tui_ui *ui)
{
	const struct tui_status *st = &ui->m.cur;
	static const char *const sess_n[] = {
	    "active", "opened", "closed", "expired", "busy"};
	static const char *const str_n[] = {
	    "active", "opened", "closed", "connect-failed", "filtered"};
	static const char *const q_n[] = {"total", "tunnel", "mtu-probe",
	    "NXDOMAIN", "NODATA", "FORMERR", "ERROR_DROP", "no-reply"};
	static const char *const d_n[] = {
	    "bad-cookie", "undecodable", "unknown-session", "not-request"};
	long long sess_v[] = {st->sess_active, st->sess_opened, st->sess_closed,
	    st->sess_expired, st->sess_busy};
	long long str_v[] = {st->str_active, st->str_opened, st->str_closed,
	    st->str_connect_failed, st->str_filtered};
	long long q_v[] = {st->q_total, st->q_tunnel, st->q_mtu_probe,
	    st->q_nxdomain, st->q_nodata, st->q_formerr, st->q_error_drop,
	    st->q_no_reply};
	long long d_v[] = {st->drop_bad_cookie, st->drop_undecodable,
	    st->drop_unknown_session, st->drop_not_request};
	char bu[16], bd[16];
	int y;

	header_common(ui, "server");
	tui_fmt_count(st->bytes_up, bu, sizeof bu);
	tui_fmt_count(st->bytes_down, bd, sizeof bd);
	putf(1, 0, COLS, 0, "bytes up %s down %s  domains %s", bu, bd,
	    st->domains[0] ? st->domains : "-");
	spark_row(ui, 2, "up", 1, ui->m.rate_up_bps);
	spark_row(ui, 3, "down", 0, ui->m.rate_down_bps);
	y = 4;
	title_line(ui, y++, 0, "Counters ");
	y += pairs_row(y, "sessions", sess_n, sess_v, nitems(sess_v));
	y += pairs_row(y, "streams", str_n, str_v, nitems(str_v));
	y += pairs_row(y, "queries", q_n, q_v, nitems(q_v));
	y += pairs_row(y, "drops", d_n, d_v, nitems(d_v));
	if (st->has_dns)
		dns_line(y++, st);
	if (ui->pane != TUI_PANE_EVENTS)
		ui->pane = TUI_PANE_EVENTS;
	event_pane(ui, y, MAX(2, LINES - 1 - y));
}

static void
overlay_box(
    struct tui_ui *ui, int h, int w, int *y0, int *x0, const char *title)
{
	int y;

	h = MIN(h, LINES);
	w = MIN(w, COLS);
	*y0 = MAX(0, (LINES - h) / 2);
	*x0 = MAX(0, (COLS - w) / 2);
	for (y = *y0; y < *y0 + h; y++)
		mvhline(y, *x0, ' ', w);
	attron(col(ui, C_TITLE));
	mvhline(*y0, *x0, ACS_HLINE, w);
	mvhline(*y0 + h - 1, *x0, ACS_HLINE, w);
	mvvline(*y0, *x0, ACS_VLINE, h);
	mvvline(*y0, *x0 + w - 1, ACS_VLINE, h);
	mvaddch(*y0, *x0, ACS_ULCORNER);
	mvaddch(*y0, *x0 + w - 1, ACS_URCORNER);
	mvaddch(*y0 + h - 1, *x0, ACS_LLCORNER);
	mvaddch(*y0 + h - 1, *x0 + w - 1, ACS_LRCORNER);
	attroff(col(ui, C_TITLE));
	putf(*y0, *x0 + 2, w - 4, A_BOLD, " %s ", title);
}

static void
draw_help(struct tui_ui *ui)
{
	static const char *const lines[] = {
	    "q          quit",
	    "?          this help (any key closes it)",
	    "Tab, <- -> next / previous pane",
	    "Up Down    select a resolver / scroll the pane",
	    "PgUp PgDn  page; Home End first / last",
	    "s          sort by the next column",
	    "r          reverse the sort",
	    "/          filter resolvers (Enter apply, Esc cancel)",
	    "d, Enter   details of the selected resolver",
	    "p, space   pause / resume the display",
	    "Ctrl-L     redraw",
	};
	int y0, x0;
	size_t i;

	overlay_box(ui, (int)nitems(lines) + 4, 60, &y0, &x0, "keys");
	for (i = 0; i < nitems(lines); i++)
		put(y0 + 2 + (int)i, x0 + 2, MIN(56, COLS - x0 - 3), 0,
		    lines[i]);
}

static void
draw_detail(struct tui_ui *ui)
{
	struct tui_model *m = &ui->m;
	const struct tui_resolver *r;
	char buf[64];
	int y0, x0, y, w, aw;
	size_t i;

	if (m->nview == 0 || ui->sel >= m->nview) {
		ui->mode = TUI_MODE_NORMAL;
		return;
	}
	r = &m->cur.res[m->view[ui->sel]];
	overlay_box(ui, 18, 70, &y0, &x0, "resolver");
	w = MIN(66, COLS - x0 - 3);
	y = y0 + 1;
	aw = put_cut(ui, y, x0 + 2, w, A_BOLD, r->address);
	put_cut(ui, y++, x0 + 4 + aw, w - aw - 2, A_BOLD, r->domain);
	x0 += 2;
	putf(y, x0, w, 0, "state     ");
	put(y++, x0 + 10, w - 10, state_attr(ui, r->state) | A_BOLD, r->state);
	putf(y++, x0, w, 0, "reason    %s", r->reason[0] ? r->reason : "-");
	putf(y++, x0, w, 0, "MTU       upload %lld, download %lld",
	    r->upload_mtu, r->download_mtu);
	if (r->rtt_ms >= 0)
		snprintf(buf, sizeof buf, "%.1f ms", r->rtt_ms);
	else
		snprintf(buf, sizeof buf, "not measured");
	putf(y++, x0, w, 0, "RTT       %s", buf);
	putf(y++, x0, w, 0, "loss      %.1f %%", r->loss * 100);
	putf(y++, x0, w, 0,
	    "queries   %lld sent, %lld answered, %lld timed "
	    "out",
	    r->sent, r->answered, r->timeouts);
	if (r->sent > 0)
		putf(y, x0, w, 0, "answered  %.1f %% of sent",
		    100.0 * (double)r->answered / (double)r->sent);
	y++;
	putf(y++, x0, w, A_BOLD, "recent events");
	for (i = 0; i < m->nevents && y < y0 + 17; i++) {
		const struct tui_event *ev = tui_model_event_at(m, i);
		time_t t = (time_t)(ev->at_ms / 1000);
		char when[16];
		struct tm tm;

		if (strcmp(ev->resolver, r->address) != 0)
			continue;
		localtime_r(&t, &tm);
		strftime(when, sizeof when, "%H:%M:%S", &tm);
		putf(y++, x0, w, 0, "%s %s %s", when, ev->kind, ev->detail);
	}
	put(y0 + 17, x0, w, col(ui, C_DIM), " Esc or d closes ");
}

void
tui_draw(struct tui_ui *ui)
{
	erase();
	curs_set(ui->mode == TUI_MODE_FILTER ? 1 : 0);
	if (LINES < 10 || COLS < 40) {
		put(0, 0, COLS, A_BOLD, "terminal too small (40x10 at least)");
		refresh();
		return;
	}
	if (ui->m.have && ui->m.cur.role == TUI_ROLE_SERVER)
		draw_server(ui);
	else
		draw_client(ui);
	if (ui->mode == TUI_MODE_HELP)
		draw_help(ui);
	else if (ui->mode == TUI_MODE_DETAIL)
		draw_detail(ui);
	footer(ui);
	refresh();
}

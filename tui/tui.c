/* SPDX-License-Identifier: MIT */
/*
 * tui.c — the dashboard's event loop: one ppoll over the terminal and the
 * control socket (non-blocking ctlc), so drawing never waits on the
 * engine. It connects, asks for `watch`, feeds every line to the model,
 * redraws, handles keys, and when the engine is absent or goes away says
 * so on screen and reconnects every second. SIGINT, SIGTERM and SIGHUP
 * only set a flag (they are blocked outside ppoll, so none is missed);
 * every way out passes through endwin(). It knows nothing about engine
 * internals: the socket and docs/control-protocol.md are the interface.
 */
#include <errno.h>
#include <curses.h>
#include <langinfo.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/ctlc.h"
#include "tui/tui.h"
#include "tui/tui-int.h"

#define RETRY_MS 1000

static volatile sig_atomic_t quit_signal;

static void
on_quit_signal(int signo)
{
	quit_signal = signo;
}

static long long
wall_ms(void)
{
	return (long long)now_wall_ms();
}

struct conn {
	struct ctlc c;
	int open;
	const char *control;  /* --control, or NULL: ctlc_find's places */
	const char *roles[2]; /* tried in order */
	size_t nroles;
};

static void
set_conn_msg(struct tui_ui *ui, const char *msg)
{
	free(ui->conn_msg);
	ui->conn_msg = msg != NULL ? xstrdup(msg) : NULL;
}

static void
conn_lost(struct tui_ui *ui, struct conn *k, const char *why)
{
	if (k->open)
		ctlc_close(&k->c);
	k->open = 0;
	/*
	 * Only the end of a working connection is an event; a refusal on
	 * every retry would flood the log (the footer shows it instead).
	 */
	if (ui->conn == TUI_CONN_UP)
		tui_model_event(&ui->m, wall_ms(), "engine_lost", NULL, why, 1);
	ui->conn = TUI_CONN_DOWN;
	set_conn_msg(ui, why);
	tui_model_disconnect(&ui->m);
}

/*
 * One connection attempt per role, each over the places ctlc_find
 * searches (as `status` does). A missing engine is the normal case here;
 * its message is kept for the footer only when it says more than "not
 * running" (an untrusted socket, say).
 */
static void
try_connect(struct tui_ui *ui, struct conn *k)
{
	struct ctlc_where w;
	struct err e = {""};
	json_t *req;
	size_t i;

	for (i = 0; i < k->nroles; i++) {
		if (ctlc_find(&k->c, k->control, k->roles[i], 1, &w, &e) == 0)
			break;
	}
	if (i == k->nroles) {
		set_conn_msg(ui, strstr(e.msg, "not running") ? NULL : e.msg);
		return;
	}
	free(ui->path);
	ui->path = xstrdup(w.path);
	req = json_pack("{s:s,s:I}", "cmd", "watch", "interval_ms",
	    (json_int_t)ui->interval_ms);
	if (ctlc_send(&k->c, req, &e) != 0) {
		json_t *msg = NULL;
		struct err e2 = {""};

		/*
		 * An engine that refuses us (another uid) writes its reason
		 * and closes before our request lands: the reason is still
		 * in the receive buffer and says more than "broken pipe".
		 */
		json_decref(req);
		if (ctlc_recv(&k->c, &msg, 200, &e2) == 1 &&
		    tui_model_feed(&ui->m, msg, wall_ms(), &e2) < 0)
			snprintf(e.msg, sizeof e.msg, "%s", e2.msg);
		json_decref(msg);
		ctlc_close(&k->c);
		set_conn_msg(ui, e.msg);
		return;
	}
	json_decref(req);
	/* conn_msg stays until a snapshot proves the connection works. */
	k->open = 1;
	ui->conn = TUI_CONN_WAITING;
	ui->last_msg_ms = now_mono_ms();
}

static int
is_snapshot(json_t *msg)
{
	json_t *t = json_object_get(msg, "type");

	return json_is_string(t) &&
	    strcmp(json_string_value(t), "snapshot") == 0;
}

/* Remember which resolver is selected, to follow it through re-sorts. */
static void
remember_sel(struct tui_ui *ui)
{
	const struct tui_resolver *r;

	free(ui->sel_key);
	ui->sel_key = NULL;
	if (ui->sel >= ui->m.nview)
		return;
	r = &ui->m.cur.res[ui->m.view[ui->sel]];
	ui->sel_key = xasprintf("%s|%s", r->address, r->domain);
}

static void
restore_sel(struct tui_ui *ui)
{
	size_t i;

	if (ui->sel_key == NULL)
		return;
	for (i = 0; i < ui->m.nview; i++) {
		const struct tui_resolver *r = &ui->m.cur.res[ui->m.view[i]];
		size_t al = strlen(r->address);

		if (strncmp(ui->sel_key, r->address, al) == 0 &&
		    ui->sel_key[al] == '|' &&
		    strcmp(ui->sel_key + al + 1, r->domain) == 0) {
			ui->sel = i;
			return;
		}
	}
	if (ui->m.nview > 0 && ui->sel >= ui->m.nview)
		ui->sel = ui->m.nview - 1;
}

/* Read everything the engine has sent; returns 1 when the screen changed. */
static int
drain(struct tui_ui *ui, struct conn *k)
{
	struct err e = {""};
	int changed = 0;
	json_t *msg;
	int r;

	for (;;) {
		r = ctlc_recv(&k->c, &msg, 0, &e);
		if (r == 0)
			return changed;
		if (r < 0) {
			conn_lost(ui, k, e.msg);
			return 1;
		}
		ui->last_msg_ms = now_mono_ms();
		if (ui->paused && is_snapshot(msg)) {
			ui->skipped++;
			json_decref(msg);
			continue;
		}
		remember_sel(ui);
		r = tui_model_feed(&ui->m, msg, wall_ms(), &e);
		json_decref(msg);
		restore_sel(ui);
		if (r < 0) {
			conn_lost(ui, k, e.msg);
			return 1;
		}
		if (r == 1 && ui->conn != TUI_CONN_UP) {
			ui->conn = TUI_CONN_UP;
			set_conn_msg(ui, NULL);
			tui_model_event(&ui->m, wall_ms(), "engine_connected",
			    NULL, ui->path, 1);
		}
		changed = 1;
	}
}

static void
move_sel(struct tui_ui *ui, long delta)
{
	size_t n;
	long v;

	switch (ui->pane) {
	case TUI_PANE_RESOLVERS:
		n = ui->m.nview;
		v = (long)ui->sel + delta;
		ui->sel = v < 0 || n == 0 ? 0 :
		    (size_t)v >= n	  ? n - 1 :
					    (size_t)v;
		remember_sel(ui);
		break;
	case TUI_PANE_STREAMS:
		v = (long)ui->stream_top + delta;
		ui->stream_top = v < 0 ? 0 : (size_t)v;
		break;
	case TUI_PANE_EVENTS:
		/* Up goes back in time. */
		v = (long)ui->event_back - delta;
		ui->event_back = v < 0 ? 0 : (size_t)v;
		break;
	case TUI_PANE_COUNT:
		break;
	}
}

static int
page(const struct tui_ui *ui)
{
	int r = ui->pane == TUI_PANE_RESOLVERS ? ui->res_rows :
	    ui->pane == TUI_PANE_STREAMS       ? ui->stream_rows :
						 ui->event_rows;

	return MAX(1, r - 1);
}

static void
filter_key(struct tui_ui *ui, int ch)
{
	switch (ch) {
	case 27: /* Esc: back to the filter before '/' */
		tui_model_set_filter(&ui->m, ui->filter_saved);
		ui->mode = TUI_MODE_NORMAL;
		break;
	case '\n':
	case '\r':
	case KEY_ENTER:
		tui_model_set_filter(&ui->m, ui->filter_buf);
		ui->mode = TUI_MODE_NORMAL;
		break;
	case KEY_BACKSPACE:
	case 127:
	case 8:
		if (ui->filter_len > 0)
			ui->filter_buf[--ui->filter_len] = '\0';
		tui_model_set_filter(&ui->m, ui->filter_buf);
		break;
	case 21: /* ^U */
		ui->filter_len = 0;
		ui->filter_buf[0] = '\0';
		tui_model_set_filter(&ui->m, NULL);
		break;
	default:
		/* Filters match addresses and domain names: ASCII. */
		if (ch >= 0x20 && ch < 0x7f &&
		    ui->filter_len + 1 < sizeof ui->filter_buf) {
			ui->filter_buf[ui->filter_len++] = (char)ch;
			ui->filter_buf[ui->filter_len] = '\0';
			tui_model_set_filter(&ui->m, ui->filter_buf);
		}
		break;
	}
	ui->sel = 0;
	ui->res_top = 0;
}

/* Handle one key; returns 1 when the user quits. */
static int
key(struct tui_ui *ui, int ch)
{
	if (ui->mode == TUI_MODE_FILTER) {
		filter_key(ui, ch);
		return 0;
	}
	if (ch == 'q' || ch == 'Q')
		return 1;
	if (ch == KEY_RESIZE)
		return 0;
	if (ui->mode == TUI_MODE_HELP) {
		ui->mode = TUI_MODE_NORMAL;
		return 0;
	}
	if (ui->mode == TUI_MODE_DETAIL &&
	    (ch == 27 || ch == 'd' || ch == '\n' || ch == '\r' ||
		ch == KEY_ENTER)) {
		ui->mode = TUI_MODE_NORMAL;
		return 0;
	}
	switch (ch) {
	case '?':
	case 'h':
	case KEY_F(1):
		ui->mode = TUI_MODE_HELP;
		break;
	case '\t':
	case KEY_RIGHT:
		ui->pane = (enum tui_pane)((ui->pane + 1) % TUI_PANE_COUNT);
		break;
	case KEY_BTAB:
	case KEY_LEFT:
		ui->pane = (enum tui_pane)(
		    (ui->pane + TUI_PANE_COUNT - 1) % TUI_PANE_COUNT);
		break;
	case KEY_UP:
	case 'k':
		move_sel(ui, -1);
		break;
	case KEY_DOWN:
	case 'j':
		move_sel(ui, 1);
		break;
	case KEY_PPAGE:
		move_sel(ui, -page(ui));
		break;
	case KEY_NPAGE:
		move_sel(ui, page(ui));
		break;
	case KEY_HOME:
		move_sel(ui, -1000000);
		break;
	case KEY_END:
		move_sel(ui, 1000000);
		break;
	case 's':
		tui_model_next_sort(&ui->m);
		restore_sel(ui);
		break;
	case 'r':
	case 'S':
		tui_model_set_sort(&ui->m, ui->m.sort, !ui->m.sort_reverse);
		restore_sel(ui);
		break;
	case 'p':
	case ' ':
		ui->paused = !ui->paused;
		ui->skipped = 0;
		break;
	case '/':
		free(ui->filter_saved);
		ui->filter_saved = ui->m.filter ? xstrdup(ui->m.filter) : NULL;
		snprintf(ui->filter_buf, sizeof ui->filter_buf, "%s",
		    ui->m.filter ? ui->m.filter : "");
		ui->filter_len = strlen(ui->filter_buf);
		ui->mode = TUI_MODE_FILTER;
		ui->pane = TUI_PANE_RESOLVERS;
		break;
	case 'd':
	case '\n':
	case '\r':
	case KEY_ENTER:
		if (ui->pane == TUI_PANE_RESOLVERS && ui->m.nview > 0)
			ui->mode = TUI_MODE_DETAIL;
		break;
	case 27:
		ui->mode = TUI_MODE_NORMAL;
		break;
	case 12: /* ^L */
		clearok(curscr, TRUE);
		break;
	default:
		break;
	}
	return 0;
}

static void
ui_free(struct tui_ui *ui)
{
	tui_model_free(&ui->m);
	free(ui->path);
	free(ui->conn_msg);
	free(ui->sel_key);
	free(ui->filter_saved);
}

int
tui_run(const struct tui_opts *o, struct err *e)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	struct sigaction sa, old_sa[nitems(sigs)];
	sigset_t block, old_mask;
	struct tui_ui ui;
	struct conn k;
	uint64_t next_try = 0, last_draw = 0;
	struct err le = {""};
	int dirty = 1, quit = 0;
	size_t i;

	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
		return err_set(e,
		    "the dashboard needs a terminal (stdin and "
		    "stdout); use `status` for scripts");
	memset(&ui, 0, sizeof ui);
	memset(&k, 0, sizeof k);
	tui_model_init(&ui.m);
	ui.interval_ms = o->interval_ms ? o->interval_ms : 1000;
	k.control = o->control;
	if (o->control != NULL || o->server) {
		k.roles[k.nroles++] = o->server ? "server" : "client";
	} else {
		/* Auto by role: a client engine first, else a server. */
		k.roles[k.nroles++] = "client";
		k.roles[k.nroles++] = "server";
	}
	ui.path = o->control != NULL ? xstrdup(o->control) :
				       ctlc_default_path(k.roles[0]);
	ui.conn = TUI_CONN_DOWN;

	setlocale(LC_ALL, "");
	ui.utf8 = !o->ascii && strcmp(nl_langinfo(CODESET), "UTF-8") == 0;

	/* Our handlers first, so that ncurses leaves these signals alone. */
	quit_signal = 0;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_quit_signal;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&block);
	for (i = 0; i < nitems(sigs); i++) {
		sigaction(sigs[i], &sa, &old_sa[i]);
		sigaddset(&block, sigs[i]);
	}
	sigaddset(&block, SIGWINCH);
	sigprocmask(SIG_BLOCK, &block, &old_mask);

	if (initscr() == NULL) {
		err_set(&le, "cannot initialise the terminal");
		goto restore;
	}
	cbreak();
	noecho();
	nonl();
	intrflush(stdscr, FALSE);
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	ui.color = !o->no_color && getenv("NO_COLOR") == NULL && has_colors();
	tui_draw_init(&ui);

	while (!quit && quit_signal == 0) {
		struct pollfd p[2];
		struct timespec ts;
		uint64_t now = now_mono_ms();
		int n = 1, timeout, ch, nkeys;

		if (!k.open && now >= next_try) {
			try_connect(&ui, &k);
			next_try = now + RETRY_MS;
			dirty = 1;
		}
		/* Once a second regardless: the clock, staleness, retries. */
		if (now - last_draw >= 1000)
			dirty = 1;
		if (dirty) {
			tui_draw(&ui);
			last_draw = now;
			dirty = 0;
		}
		p[0].fd = STDIN_FILENO;
		p[0].events = POLLIN;
		if (k.open) {
			p[1].fd = k.c.fd;
			p[1].events = POLLIN;
			n = 2;
		}
		timeout = 1000 - (int)MIN(now - last_draw, 1000);
		if (!k.open && next_try > now)
			timeout = MIN(timeout, (int)(next_try - now));
		ts.tv_sec = timeout / 1000;
		ts.tv_nsec = (long)(timeout % 1000) * 1000000L;
		p[0].revents = p[1].revents = 0;
		if (ppoll(p, (nfds_t)n, &ts, &old_mask) < 0 && errno != EINTR) {
			err_set(&le, "poll: %s", strerror(errno));
			break;
		}
		if (n == 2 && p[1].revents != 0 && drain(&ui, &k) && !ui.paused)
			dirty = 1;
		/* The terminal is gone (hangup): nobody to draw for. */
		if (p[0].revents & (POLLHUP | POLLERR | POLLNVAL))
			break;
		/*
		 * After any wake-up: keys, and KEY_RESIZE after SIGWINCH.
		 * Bounded, so that a terminal returning junk forever cannot
		 * keep us from ppoll (where the quit signals are delivered).
		 */
		for (nkeys = 0; nkeys < 256 && (ch = getch()) != ERR; nkeys++) {
			dirty = 1;
			if (key(&ui, ch)) {
				quit = 1;
				break;
			}
		}
	}
	endwin();
restore:
	sigprocmask(SIG_SETMASK, &old_mask, NULL);
	for (i = 0; i < nitems(sigs); i++)
		sigaction(sigs[i], &old_sa[i], NULL);
	if (k.open)
		ctlc_close(&k.c);
	ui_free(&ui);
	if (le.msg[0] != '\0')
		return err_set(e, "%s", le.msg);
	return 0;
}

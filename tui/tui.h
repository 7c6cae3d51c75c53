/* SPDX-License-Identifier: MIT */
/*
 * tui.h — `mdns-doctor tui`: a live ncurses dashboard on the engine's
 * control socket (docs/control-protocol.md, `watch`). It reaches the
 * engine only through that socket; the model it draws is tui-model.h.
 */
#ifndef MDNS_TUI_H
#define MDNS_TUI_H

#include "common/util.h"

struct tui_opts {
	const char *control;  /* socket path; NULL: the default path(s) */
	int server;	      /* --server: the server's socket by default */
	unsigned interval_ms; /* snapshot interval, 100..60000 */
	int no_color;	      /* --no-color or NO_COLOR */
	int ascii;	      /* force ASCII sparklines and marks */
};

/*
 * Run the dashboard on the terminal (stdin and stdout must be one) until
 * the user quits or SIGINT/SIGTERM/SIGHUP arrives; the terminal is
 * restored on every path out. An engine that is not running, or goes
 * away, is shown on screen and retried every second: that is not an
 * error. Returns 0, or -1 with e set when the terminal cannot be used.
 */
int tui_run(const struct tui_opts *o, struct err *e);

#endif

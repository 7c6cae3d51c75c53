/* SPDX-License-Identifier: MIT */
/*
 * tui-int.h — state shared by the dashboard's event loop (tui.c) and its
 * drawing code (tui-draw.c). Internal to tui/.
 */
#ifndef MDNS_TUI_INT_H
#define MDNS_TUI_INT_H

#include <stdint.h>

#include "tui/tui-model.h"

enum tui_pane {
	TUI_PANE_RESOLVERS,
	TUI_PANE_STREAMS,
	TUI_PANE_EVENTS,
	TUI_PANE_COUNT
};

enum tui_mode {
	TUI_MODE_NORMAL,
	TUI_MODE_HELP,
	TUI_MODE_DETAIL,
	TUI_MODE_FILTER,
};

enum tui_conn {
	TUI_CONN_DOWN,	  /* not connected; retrying */
	TUI_CONN_WAITING, /* connected, no snapshot yet */
	TUI_CONN_UP,
};

struct tui_ui {
	struct tui_model m;
	enum tui_pane pane;
	enum tui_mode mode;
	enum tui_conn conn;
	char *path;	/* the socket shown in messages */
	char *conn_msg; /* why we are not connected */
	int utf8;	/* sparkline blocks, box characters */
	int color;
	int paused;
	uint64_t skipped;     /* snapshots not applied while paused */
	uint64_t last_msg_ms; /* monotonic time of the last line */
	unsigned interval_ms;

	size_t sel;	/* selected row in the resolver view */
	char *sel_key;	/* its address|domain, to follow it */
	size_t res_top; /* first resolver row shown */
	size_t stream_top;
	size_t event_back; /* event log scrolled back by this many */
	int res_rows;	   /* rows the last draw gave each pane */
	int stream_rows;
	int event_rows;

	char filter_buf[128]; /* the filter being typed */
	size_t filter_len;
	char *filter_saved; /* restored by Esc */
};

/* Draw the whole screen from ui (erase, draw, refresh). */
void tui_draw(struct tui_ui *ui);
/* Initialise the colour pairs when ui->color is set. */
void tui_draw_init(struct tui_ui *ui);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * test-log.c — log line format, level threshold, appending to a file,
 * escaping and truncation, stderr fallback, and the secret fingerprint
 * (expected values from coreutils: printf 'abc' | sha256sum).
 */
#include <fcntl.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "tests/tap.h"

static char dir[256];

/* Read the whole file into a malloc'd string (NULL if missing). */
static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = xmalloc((size_t)n + 1);
	buf[fread(buf, 1, (size_t)n, f)] = '\0';
	fclose(f);
	return buf;
}

static int
count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* Line number k (0-based) of s into out. */
static void
line_at(const char *s, int k, char *out, size_t cap)
{
	const char *e;
	size_t n;

	while (k-- > 0 && (s = strchr(s, '\n')) != NULL)
		s++;
	if (s == NULL) {
		out[0] = '\0';
		return;
	}
	e = strchr(s, '\n');
	n = e ? (size_t)(e - s) : strlen(s);
	n = MIN(n, cap - 1);
	memcpy(out, s, n);
	out[n] = '\0';
}

static void
test_format(const char *path)
{
	static const char *pat =
	    "^[0-9]{4}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:"
	    "[0-5][0-9]:[0-6][0-9]\\.[0-9]{3}Z (ERROR|WARN|INFO|DEBUG|TRACE) "
	    "[^\n]*$";
	char before[40], after[40], line[8192], *s;
	struct err e = {""};
	struct stat st;
	regex_t re;
	FILE *f;
	int i, ok;

	tap_is_int(log_get_level(), LOG_WARN, "default level is WARN");
	f = fopen(path, "w");
	fputs("existing line\n", f);
	fclose(f);
	tap_is_int(log_open(path, &e), 0, "log_open %s", path);
	tap_ok(stat(path, &st) == 0, "log file exists");

	log_set_level(LOG_INFO);
	fmt_iso8601_ms(now_wall_ms(), before, sizeof before);
	log_error("error %d", 1);
	log_warn("warn %s", "two");
	log_info("info three");
	log_debug("debug dropped");
	log_msg(LOG_TRACE, "trace dropped");
	fmt_iso8601_ms(now_wall_ms(), after, sizeof after);
	log_set_level(LOG_TRACE);
	log_msg(LOG_TRACE, "trace kept");
	log_set_level(LOG_ERROR);
	log_warn("warn dropped at ERROR");
	log_error("tab\there, newline\nthere\r, bell\a, del\x7f");

	s = slurp(path);
	tap_ok(s != NULL, "read log back");
	if (s == NULL)
		return;
	tap_is_int(count_lines(s), 6, "one line per kept message");
	line_at(s, 0, line, sizeof line);
	tap_is_str(line, "existing line", "log_open appends");
	tap_ok(regcomp(&re, pat, REG_EXTENDED | REG_NEWLINE) == 0,
	    "regex compiles");
	ok = 1;
	for (i = 1; i <= 5; i++) {
		line_at(s, i, line, sizeof line);
		if (regexec(&re, line, 0, NULL, 0) != 0) {
			ok = 0;
			tap_diag("  bad line %d: %s", i, line);
		}
	}
	regfree(&re);
	tap_ok(ok, "lines match TIMESTAMP LEVEL message");
	line_at(s, 1, line, sizeof line);
	tap_is_str(line + 25, "ERROR error 1", "error line body");
	line[24] = '\0';
	tap_ok(strcmp(before, line) <= 0 && strcmp(line, after) <= 0,
	    "timestamp is the wall clock (%s <= %s <= %s)", before, line,
	    after);
	line_at(s, 2, line, sizeof line);
	tap_is_str(line + 25, "WARN warn two", "warn line body");
	line_at(s, 3, line, sizeof line);
	tap_is_str(line + 25, "INFO info three", "info line body");
	line_at(s, 4, line, sizeof line);
	tap_is_str(line + 25, "TRACE trace kept", "trace kept at TRACE");
	line_at(s, 5, line, sizeof line);
	tap_is_str(line + 25,
	    "ERROR tab\there, newline\\nthere\\r, bell\\x07, del\\x7f",
	    "control characters escaped, one line");
	tap_ok(strstr(s, "dropped") == NULL, "messages above level dropped");
	free(s);
}

static void
test_truncate(const char *path)
{
	char *big, *s, line[8192];
	size_t n = 10000;
	struct stat st;
	int r;

	unlink(path);
	log_open(path, NULL);
	memset(&st, 0, sizeof st);
	r = stat(path, &st);
	tap_ok(r == 0 && (st.st_mode & 077) == 0,
	    "log file created private (mode %03o)", st.st_mode & 0777);
	big = xmalloc(n + 1);
	memset(big, 'x', n);
	big[n] = '\0';
	log_error("%s", big);
	log_error("after");
	s = slurp(path);
	tap_is_int(s ? count_lines(s) : -1, 2, "long message stays one line");
	line_at(s, 0, line, sizeof line);
	tap_ok(strlen(line) > 4000 && strlen(line) < n &&
		strcmp(line + strlen(line) - 4, "x...") == 0,
	    "long message cut with \"...\" (%zu bytes)", strlen(line));
	line_at(s, 1, line, sizeof line);
	tap_is_str(line + 25, "ERROR after", "next line intact");
	free(s);
	free(big);
}

static void
test_open_errors(const char *path)
{
	char errpath[512], *s;
	struct err e = {""};
	int saved, fd;

	tap_is_int(log_open("/nonexistent-dir/x/y.log", &e), -1,
	    "log_open in a missing dir fails");
	tap_is_str(e.msg,
	    "open log /nonexistent-dir/x/y.log: No such file "
	    "or directory",
	    "  message");

	/* A failed open keeps the old destination. */
	unlink(path);
	log_open(path, NULL);
	log_open("/nonexistent-dir/y.log", NULL);
	log_error("still here");
	s = slurp(path);
	tap_ok(s && strstr(s, "ERROR still here\n"), "failed open keeps file");
	free(s);

	/* After log_close, messages go to stderr. */
	snprintf(errpath, sizeof errpath, "%s/stderr", dir);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	dup2(fd, STDERR_FILENO);
	close(fd);
	log_close();
	log_error("to stderr");
	log_open(NULL, NULL);
	log_error("also stderr");
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	s = slurp(errpath);
	tap_ok(s && strstr(s, "ERROR to stderr\n") &&
		strstr(s, "ERROR also stderr\n"),
	    "log_close / NULL path: stderr");
	tap_is_int(s ? count_lines(s) : -1, 2, "  two lines on stderr");
	free(s);
	s = slurp(path);
	tap_ok(s && strstr(s, "stderr") == NULL, "  nothing in the old file");
	free(s);
	unlink(errpath);
}

static void
test_redact(void)
{
	char out[32], small[10];

	log_redact("abc", 3, out, sizeof out);
	tap_is_str(out, "sha256:ba7816bf", "redact abc");
	log_redact("", 0, out, sizeof out);
	tap_is_str(out, "sha256:e3b0c442", "redact empty");
	log_redact("s3cret-key", 10, out, sizeof out);
	tap_is_str(out, "sha256:817b8239", "redact s3cret-key");
	log_redact("a\0b", 3, out, sizeof out);
	tap_is_str(out, "sha256:59b271ae", "redact uses len, not NUL");
	log_redact("abc", 3, out, 16);
	tap_is_str(out, "sha256:ba7816bf", "16 bytes are enough");
	log_redact("abc", 3, small, sizeof small);
	tap_is_str(small, "sha256:ba", "short buffer truncated, terminated");
}

static void
test_levels(void)
{
	enum log_level l = LOG_ERROR;
	struct err e = {""};

	tap_ok(log_level_parse("debug", &l, &e) == 0 && l == LOG_DEBUG,
	    "parse debug");
	tap_ok(log_level_parse("WARNING", &l, &e) == 0 && l == LOG_WARN,
	    "parse WARNING");
	tap_ok(log_level_parse("Trace", &l, &e) == 0 && l == LOG_TRACE,
	    "parse Trace");
	tap_is_int(log_level_parse("loud", &l, &e), -1, "reject loud");
	tap_is_str(e.msg,
	    "bad log level: loud (want error, warn, info, "
	    "debug or trace)",
	    "  message");
	tap_is_str(log_level_name(LOG_INFO), "INFO", "name of INFO");
	tap_is_str(log_level_name((enum log_level)42), "?", "name of 42");
}

int
main(void)
{
	char path[512];

	if (mkdtemp(tap_tmppath(dir, sizeof dir, "test-log-XXXXXX")) == NULL) {
		tap_ok(0, "mkdtemp");
		return tap_done();
	}
	snprintf(path, sizeof path, "%s/test.log", dir);
	umask(022);
	test_format(path);
	test_truncate(path);
	test_open_errors(path);
	test_redact();
	test_levels();
	log_close();
	unlink(path);
	rmdir(dir);
	return tap_done();
}

/*
 * test-path.c — XDG directory resolution for root and non-root users
 * (driven through setenv/unsetenv), path_join, and path_mkdir_p in a
 * scratch directory: parents, exact final mode, refusal of files,
 * symlinks and directories owned by someone else.
 */
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/path.h"
#include "tests/tap.h"

static const char *vars[] = {
    "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_RUNTIME_DIR", "HOME"};

static void
clear_env(void)
{
	size_t i;

	for (i = 0; i < nitems(vars); i++)
		unsetenv(vars[i]);
}

/* Check path_dir(kind, uid) against want (NULL: expect an error). */
static void
expect(enum path_kind kind, uid_t uid, const char *want, const char *what)
{
	struct err e = {""};
	char *got = path_dir(kind, uid, &e);

	if (want == NULL) {
		tap_ok(got == NULL && e.msg[0] != '\0', "%s: error (%s)", what,
		    e.msg);
	} else {
		tap_is_str(got, want, "%s", what);
		if (got == NULL)
			tap_diag("  error: %s", e.msg);
	}
	free(got);
}

static void
test_resolve(void)
{
	struct passwd *pw;
	uid_t nouid;
	char *want;

	clear_env();
	setenv("HOME", "/home/u", 1);
	expect(PATH_CONFIG, 1000, "/home/u/.config/mdns-doctor",
	    "config falls back to ~/.config");
	expect(PATH_STATE, 1000, "/home/u/.local/state/mdns-doctor",
	    "state falls back to ~/.local/state");
	expect(PATH_RUNTIME, 1000, "/tmp/mdns-doctor-1000",
	    "runtime falls back to /tmp/mdns-doctor-UID");
	expect(PATH_CONFIG, 0, "/etc/mdns-doctor", "root config");
	expect(PATH_STATE, 0, "/var/lib/mdns-doctor", "root state");
	expect(PATH_RUNTIME, 0, "/run/mdns-doctor", "root runtime");

	setenv("XDG_CONFIG_HOME", "/x/cfg/", 1);
	setenv("XDG_STATE_HOME", "/x/state", 1);
	setenv("XDG_RUNTIME_DIR", "/run/user/1000", 1);
	expect(PATH_CONFIG, 1000, "/x/cfg/mdns-doctor", "XDG_CONFIG_HOME");
	expect(PATH_STATE, 1000, "/x/state/mdns-doctor", "XDG_STATE_HOME");
	expect(PATH_RUNTIME, 1000, "/run/user/1000/mdns-doctor",
	    "XDG_RUNTIME_DIR");
	expect(PATH_CONFIG, 0, "/x/cfg/mdns-doctor", "XDG wins for root too");
	expect(PATH_RUNTIME, 0, "/run/user/1000/mdns-doctor",
	    "XDG_RUNTIME_DIR wins for root");

	/* Relative or empty values are invalid per the XDG spec. */
	setenv("XDG_CONFIG_HOME", "relative/cfg", 1);
	setenv("XDG_STATE_HOME", "", 1);
	expect(PATH_CONFIG, 1000, "/home/u/.config/mdns-doctor",
	    "relative XDG_CONFIG_HOME ignored");
	expect(PATH_STATE, 1000, "/home/u/.local/state/mdns-doctor",
	    "empty XDG_STATE_HOME ignored");
	expect(PATH_CONFIG, 0, "/etc/mdns-doctor",
	    "relative XDG_CONFIG_HOME ignored for root");

	/* HOME unset or empty: the passwd entry's home. */
	clear_env();
	pw = getpwuid(1);
	if (pw != NULL && pw->pw_dir != NULL && pw->pw_dir[0] != '\0') {
		want = path_join(pw->pw_dir, ".config/mdns-doctor");
		expect(PATH_CONFIG, 1, want, "HOME unset: passwd home");
		setenv("HOME", "", 1);
		expect(PATH_CONFIG, 1, want, "HOME empty: passwd home");
		free(want);
	} else
		tap_diag("uid 1 has no passwd entry; passwd fallback untested");
	clear_env();
	for (nouid = 54321; getpwuid(nouid) != NULL; nouid++)
		continue;
	expect(PATH_STATE, nouid, NULL, "HOME unset, no passwd entry");
	expect(PATH_RUNTIME, nouid, "/tmp/mdns-doctor-54321",
	    "runtime needs no home");
	expect((enum path_kind)7, 1000, NULL, "bad kind");
}

static void
test_current_user(void)
{
	struct err e = {""};
	char *c, *s, *r;

	clear_env();
	setenv("XDG_CONFIG_HOME", "/c", 1);
	setenv("XDG_STATE_HOME", "/s", 1);
	setenv("XDG_RUNTIME_DIR", "/r", 1);
	c = path_config_dir(&e);
	s = path_state_dir(&e);
	r = path_runtime_dir(&e);
	tap_is_str(c, "/c/mdns-doctor", "path_config_dir");
	tap_is_str(s, "/s/mdns-doctor", "path_state_dir");
	tap_is_str(r, "/r/mdns-doctor", "path_runtime_dir");
	free(c);
	free(s);
	free(r);
	unsetenv("XDG_RUNTIME_DIR");
	r = path_runtime_dir(&e);
	if (geteuid() == 0)
		tap_is_str(r, "/run/mdns-doctor", "runtime for root");
	else {
		c = xasprintf("/tmp/mdns-doctor-%lu", (unsigned long)geteuid());
		tap_is_str(r, c, "runtime for this user");
		free(c);
	}
	free(r);
}

static void
test_join(void)
{
	char *s;

	s = path_join("/a/b", "c.db");
	tap_is_str(s, "/a/b/c.db", "join");
	free(s);
	s = path_join("/a/b//", "c.db");
	tap_is_str(s, "/a/b/c.db", "join strips trailing slashes");
	free(s);
	s = path_join("/", "c.db");
	tap_is_str(s, "/c.db", "join at root");
	free(s);
}

static mode_t
mode_of(const char *p)
{
	struct stat st;

	if (lstat(p, &st) == -1)
		return (mode_t)-1;
	return st.st_mode;
}

static void
test_mkdir(void)
{
	char top[4096];
	char *deep, *mid, *file, *link, *under, *want, *other;
	struct err e = {""};
	FILE *f;
	mode_t m;

	if (mkdtemp(tap_tmppath(top, sizeof top, "test-path-XXXXXX")) == NULL) {
		tap_ok(0, "mkdtemp");
		return;
	}
	umask(022);
	deep = xasprintf("%s/a/b/c", top);
	mid = xasprintf("%s/a/b", top);
	tap_is_int(path_mkdir_p(deep, 0700, &e), 0, "mkdir -p a/b/c");
	m = mode_of(deep);
	tap_ok(S_ISDIR(m) && (m & 07777) == 0700, "final is 0700 (%04o)",
	    m & 07777);
	m = mode_of(mid);
	tap_ok(S_ISDIR(m) && (m & 07777) == 0700, "parent created 0700");
	tap_is_int(path_mkdir_p(deep, 0700, &e), 0, "again: exists is fine");

	/* Mode is set exactly, also when the umask would strip bits. */
	umask(077);
	tap_is_int(path_mkdir_p(deep, 0755, &e), 0, "existing dir to 0755");
	tap_is_int(mode_of(deep) & 07777, 0755, "mode fixed to 0755");
	umask(022);
	chmod(deep, 0777);
	tap_is_int(path_mkdir_p(deep, 0700, &e), 0, "loose dir tightened");
	tap_is_int(mode_of(deep) & 07777, 0700, "mode fixed to 0700");
	free(deep);
	deep = xasprintf("%s/x/y///", top);
	tap_is_int(path_mkdir_p(deep, 0700, &e), 0, "trailing slashes");
	free(deep);
	deep = xasprintf("%s/x//z", top);
	tap_is_int(path_mkdir_p(deep, 0700, &e), 0, "doubled slash");
	tap_ok(S_ISDIR(mode_of(deep)), "  created");

	file = xasprintf("%s/file", top);
	f = fopen(file, "w");
	fclose(f);
	tap_is_int(path_mkdir_p(file, 0700, &e), -1, "file in the way fails");
	want = xasprintf("%s: not a directory", file);
	tap_is_str(e.msg, want, "  message");
	free(want);
	under = xasprintf("%s/sub", file);
	tap_is_int(path_mkdir_p(under, 0700, &e), -1, "parent is a file");
	want = xasprintf("mkdir %s: Not a directory", under);
	tap_is_str(e.msg, want, "  message");
	free(want);

	link = xasprintf("%s/link", top);
	if (symlink(mid, link) == -1)
		abort();
	tap_is_int(path_mkdir_p(link, 0700, &e), -1, "symlink refused");
	want = xasprintf("%s: is a symlink", link);
	tap_is_str(e.msg, want, "  message");
	free(want);

	tap_is_int(path_mkdir_p("", 0700, &e), -1, "empty path");
	tap_is_str(e.msg, "mkdir: empty path", "  message");

	other = xasprintf("%s/other", top);
	if (geteuid() == 0) {
		path_mkdir_p(other, 0700, NULL);
		if (chown(other, 12345, 12345) == -1)
			abort();
		tap_is_int(path_mkdir_p(other, 0700, &e), -1,
		    "dir owned by another uid refused");
		tap_is_str(e.msg + strlen(other), ": owned by uid 12345, not 0",
		    "  message");
	} else {
		/* /tmp itself belongs to root. */
		tap_is_int(path_mkdir_p("/tmp", 01777, &e), -1,
		    "dir owned by another uid refused");
		tap_ok(strstr(e.msg, "owned by uid 0") != NULL, "  message");
	}

	/* Clean up the scratch tree. */
	rmdir(other);
	unlink(link);
	unlink(file);
	rmdir(deep);
	free(deep);
	deep = xasprintf("%s/x/y", top);
	rmdir(deep);
	free(deep);
	deep = xasprintf("%s/x", top);
	rmdir(deep);
	free(deep);
	deep = xasprintf("%s/a/b/c", top);
	rmdir(deep);
	rmdir(mid);
	free(deep);
	deep = xasprintf("%s/a", top);
	rmdir(deep);
	free(deep);
	tap_is_int(rmdir(top), 0, "scratch dir cleaned up");
	free(mid);
	free(file);
	free(under);
	free(link);
	free(other);
}

int
main(void)
{
	test_resolve();
	test_current_user();
	test_join();
	test_mkdir();
	return tap_done();
}

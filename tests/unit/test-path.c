/* SPDX-License-Identifier: MIT */
/*
 * test-path.c — XDG directory resolution for root and non-root users
 * (driven through setenv/unsetenv), path_join, and path_mkdir_p in a
 * scratch directory: parents, exact final mode, refusal of files,
 * symlinks and directories owned by someone else. The runtime places a
 * control socket is looked for in (path_runtime_dirs), private
 * directories, and the files-we-write rule: in a sticky world-writable
 * directory, symlinks, files, FIFOs and hard links planted by uid 65534
 * are never followed or reused (run as root), a database is refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
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

/* The runtime places, as a list "source=dir ...". */
static char *
rt_list(uid_t uid)
{
	struct path_rt rt[PATH_RT_MAX];
	size_t n = path_runtime_dirs(uid, rt), i;
	char *s = xstrdup(""), *t;

	for (i = 0; i < n; i++) {
		t = xasprintf(
		    "%s%s%s=%s", s, i ? " " : "", rt[i].source, rt[i].dir);
		free(s);
		s = t;
	}
	path_runtime_dirs_free(rt, n);
	return s;
}

static void
test_runtime_dirs(void)
{
	char *s;
	uid_t nouid;

	clear_env();
	setenv("HOME", "/home/u", 1);
	s = rt_list(1000);
	tap_is_str(s,
	    "run-user=/run/user/1000/mdns-doctor tmp=/tmp/mdns-doctor-1000 "
	    "state=/home/u/.local/state/mdns-doctor",
	    "cron (no XDG): /run/user/UID, /tmp, the state dir");
	free(s);
	setenv("XDG_RUNTIME_DIR", "/run/user/1000", 1);
	s = rt_list(1000);
	tap_is_str(s,
	    "XDG_RUNTIME_DIR=/run/user/1000/mdns-doctor "
	    "tmp=/tmp/mdns-doctor-1000 state=/home/u/.local/state/mdns-doctor",
	    "login shell: the same places (the XDG one is /run/user/UID)");
	free(s);
	setenv("XDG_RUNTIME_DIR", "/x/run", 1);
	s = rt_list(0);
	tap_is_str(s,
	    "XDG_RUNTIME_DIR=/x/run/mdns-doctor "
	    "run-user=/run/user/0/mdns-doctor "
	    "run=/run/mdns-doctor",
	    "root: XDG, /run/user/0, /run; never /tmp");
	free(s);
	clear_env();
	for (nouid = 54321; getpwuid(nouid) != NULL; nouid++)
		continue;
	s = rt_list(nouid);
	tap_ok(strstr(s, "state=") == NULL && strstr(s, "tmp=") != NULL,
	    "no home: no state place (%s)", s);
	free(s);
}

/* The scratch top: $TMPDIR (the suite's own) or /tmp. */
static char *
scratch(const char *name)
{
	const char *t = getenv("TMPDIR");
	char *p = xasprintf("%s/%s", t && *t ? t : "/tmp", name);

	if (mkdtemp(p) == NULL) {
		free(p);
		return NULL;
	}
	return p;
}

/* Run fn(arg) as uid/gid 65534 in a child; its exit status. */
static int
as_nobody(int (*fn)(const char *), const char *arg)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		if (setgid(65534) != 0 || setuid(65534) != 0)
			_exit(99);
		_exit(fn(arg));
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static const char *target; /* the file planted links point at */

static int
plant(const char *dir)
{
	char p[512];
	int fd;

	snprintf(p, sizeof p, "%s/link", dir);
	if (symlink(target, p) != 0)
		return 1;
	snprintf(p, sizeof p, "%s/theirs", dir);
	if ((fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0666)) < 0)
		return 2;
	close(fd);
	chmod(p, 0666);
	snprintf(p, sizeof p, "%s/fifo", dir);
	if (mkfifo(p, 0666) != 0)
		return 3;
	snprintf(p, sizeof p, "%s/dirlink", dir);
	if (symlink("/", p) != 0)
		return 4;
	snprintf(p, sizeof p, "%s/h.db-wal", dir);
	if (symlink(target, p) != 0)
		return 5;
	return 0;
}

static char *
slurp(const char *p)
{
	char buf[256];
	int fd = open(p, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return xstrdup("(missing)");
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return xstrdup(buf);
}

static void
expect_refused(const char *path, const char *why, const char *what)
{
	struct err e = {""};
	int fd = path_open_write(path, PATH_W_TRUNC, &e);

	tap_ok(fd < 0 && strstr(e.msg, why) != NULL, "%s: %s", what, e.msg);
	if (fd >= 0)
		close(fd);
}

static void
test_files_we_write(void)
{
	char *top = scratch("test-pathw-XXXXXX"), *priv, *sticky, *p, *q, *t;
	struct err e = {""};
	struct stat st;
	int fd;

	if (top == NULL) {
		tap_ok(0, "scratch dir");
		return;
	}
	priv = xasprintf("%s/priv", top);
	sticky = xasprintf("%s/sticky", top);
	mkdir(priv, 0700);
	mkdir(sticky, 0700);
	chmod(sticky, 01777);
	chmod(top, 0755);
	t = xasprintf("%s/target", priv);
	fd = open(t, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (write(fd, "keep\n", 5) != 5)
		tap_diag("write target");
	close(fd);
	target = t;

	tap_is_int(
	    path_dir_private(priv, geteuid(), &e), 0, "0700 dir private");
	tap_is_int(path_dir_private(sticky, geteuid(), &e), -1,
	    "sticky 1777 dir not private");
	tap_ok(strstr(e.msg, "writable by other users (mode 1777)") != NULL,
	    "  %s", e.msg);
	p = xasprintf("%s/none", top);
	tap_is_int(path_dir_private(p, geteuid(), &e), 1, "missing dir: 1");
	free(p);

	/* Our own files, in our own and in the shared directory. */
	p = xasprintf("%s/new.txt", sticky);
	fd = path_open_write(p, PATH_W_TRUNC, &e);
	tap_ok(fd >= 0 && fstat(fd, &st) == 0 && (st.st_mode & 07777) == 0600,
	    "new file in a shared dir: created 0600 (%s)", e.msg);
	if (fd >= 0 && write(fd, "0123456789", 10) != 10)
		tap_diag("write");
	if (fd >= 0)
		close(fd);
	fd = path_open_write(p, PATH_W_TRUNC, &e);
	tap_ok(fd >= 0 && fstat(fd, &st) == 0 && st.st_size == 0,
	    "our existing file: reopened and truncated");
	if (fd >= 0)
		close(fd);
	unlink(p);
	free(p);
	p = xasprintf("%s/mylink", priv);
	if (symlink(t, p) != 0)
		tap_diag("symlink");
	fd = path_open_write(p, PATH_W_APPEND, &e);
	tap_ok(fd >= 0 && write(fd, "more\n", 5) == 5,
	    "our own symlink in our own dir is followed");
	if (fd >= 0)
		close(fd);
	q = slurp(t);
	tap_is_str(q, "keep\nmore\n", "  appended to its target");
	free(q);
	unlink(p);
	free(p);
	fd = open(t, O_WRONLY | O_TRUNC);
	if (write(fd, "keep\n", 5) != 5)
		tap_diag("write target");
	close(fd);

	/* What uid 65534 plants in the sticky directory. */
	if (geteuid() != 0) {
		tap_ok(1, "# SKIP planting as uid 65534 needs root");
		goto db;
	}
	tap_is_int(as_nobody(plant, sticky), 0, "uid 65534 planted its traps");
	p = xasprintf("%s/link", sticky);
	expect_refused(p, "symlink in a directory other users can write",
	    "planted symlink not followed");
	free(p);
	q = slurp(t);
	tap_is_str(q, "keep\n", "  its target is untouched");
	free(q);
	p = xasprintf("%s/theirs", sticky);
	expect_refused(p, "owned by uid 65534", "planted file not reused");
	free(p);
	p = xasprintf("%s/fifo", sticky);
	expect_refused(p, "not a regular file", "planted FIFO: no hang");
	free(p);
	p = xasprintf("%s/dirlink/x.txt", sticky);
	expect_refused(
	    p, "a symlink of uid 65534", "planted directory link not followed");
	free(p);
	p = xasprintf("%s/hard", sticky);
	if (link(t, p) != 0)
		tap_diag("link: %s", strerror(errno));
	expect_refused(p, "2 names", "hard link to our file refused");
	unlink(p);
	free(p);

db:
	p = xasprintf("%s/h.db", sticky);
	tap_is_int(
	    path_prepare_db(p, &e), -1, "database in a shared dir refused");
	tap_ok(strstr(e.msg, "other users can write") != NULL, "  %s", e.msg);
	tap_ok(lstat(p, &st) != 0, "  and not created");
	free(p);
	p = xasprintf("%s/h.db", priv);
	tap_is_int(path_prepare_db(p, &e), 0, "database in a private dir");
	tap_ok(stat(p, &st) == 0 && (st.st_mode & 07777) == 0600,
	    "  created 0600");
	unlink(p);
	free(p);
	q = slurp(t);
	tap_is_str(q, "keep\n", "the target was never written through a link");
	free(q);

	/* Clean up (the planted names belong to 65534: root removes them). */
	{
		static const char *const names[] = {
		    "link", "theirs", "fifo", "dirlink", "h.db-wal"};
		size_t i;

		for (i = 0; i < nitems(names); i++) {
			p = xasprintf("%s/%s", sticky, names[i]);
			unlink(p);
			free(p);
		}
	}
	unlink(t);
	rmdir(sticky);
	rmdir(priv);
	tap_is_int(rmdir(top), 0, "scratch dir cleaned up");
	free(t);
	free(sticky);
	free(priv);
	free(top);
}

int
main(void)
{
	test_resolve();
	test_current_user();
	test_join();
	test_mkdir();
	test_runtime_dirs();
	test_files_we_write();
	return tap_done();
}

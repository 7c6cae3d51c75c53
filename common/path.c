/* SPDX-License-Identifier: MIT */
/*
 * path.c — resolution of the config, state and runtime directories (rules
 * in path.h) and a checking mkdir -p.
 *
 * Resolution only reads the environment and the passwd database; it never
 * touches the file system. path_mkdir_p does, and refuses a final
 * directory that is a symlink or belongs to someone else: the runtime
 * fallback lives in world-writable /tmp, where another user could have
 * planted it first to catch our control socket.
 *
 * It also holds the one rule for files we write in places others may
 * write too (path_open_write, path_prepare_db): no symlink or file another
 * user planted is followed or reused, whatever fs.protected_symlinks says
 * (containers often turn it off). It does not decide where files go.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/path.h"

#define APP "mdns-doctor"

struct path_rule {
	const char *xdg_var;
	const char *home_rel; /* under ~ for non-root users */
	const char *root_dir; /* root with the variable unset */
};

static const struct path_rule rules[] = {
    [PATH_CONFIG] = {"XDG_CONFIG_HOME", ".config", "/etc/" APP},
    [PATH_STATE] = {"XDG_STATE_HOME", ".local/state", "/var/lib/" APP},
    [PATH_RUNTIME] = {"XDG_RUNTIME_DIR", NULL, "/run/" APP},
};

char *
path_join(const char *dir, const char *name)
{
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (n == 1 && dir[0] == '/')
		return xasprintf("/%s", name);
	return xasprintf("%.*s/%s", (int)n, dir, name);
}

/* $HOME, else the passwd entry's home; malloc'd or NULL with e set. */
static char *
home_dir(uid_t uid, struct err *e)
{
	const char *h = getenv("HOME");
	struct passwd pw, *res = NULL;
	char buf[4096];

	if (h != NULL && h[0] != '\0')
		return xstrdup(h);
	if (getpwuid_r(uid, &pw, buf, sizeof buf, &res) != 0 || res == NULL ||
	    pw.pw_dir == NULL || pw.pw_dir[0] == '\0') {
		err_set(e,
		    "no home directory: HOME is unset and uid %lu has "
		    "no passwd entry",
		    (unsigned long)uid);
		return NULL;
	}
	return xstrdup(pw.pw_dir);
}

char *
path_dir(enum path_kind kind, uid_t uid, struct err *e)
{
	const struct path_rule *r;
	const char *v;
	char *home, *base, *out;

	if ((unsigned)kind >= nitems(rules)) {
		err_set(e, "path_dir: bad kind %d", (int)kind);
		return NULL;
	}
	r = &rules[kind];
	v = getenv(r->xdg_var);
	if (v != NULL && v[0] == '/')
		return path_join(v, APP);
	if (uid == 0)
		return xstrdup(r->root_dir);
	if (r->home_rel == NULL)
		return xasprintf("/tmp/" APP "-%lu", (unsigned long)uid);
	if ((home = home_dir(uid, e)) == NULL)
		return NULL;
	base = path_join(home, r->home_rel);
	out = path_join(base, APP);
	free(base);
	free(home);
	return out;
}

char *
path_config_dir(struct err *e)
{
	return path_dir(PATH_CONFIG, geteuid(), e);
}

char *
path_state_dir(struct err *e)
{
	return path_dir(PATH_STATE, geteuid(), e);
}

char *
path_runtime_dir(struct err *e)
{
	return path_dir(PATH_RUNTIME, geteuid(), e);
}

/* The final directory: exists, is ours, not a symlink, exactly mode. */
static int
check_final(const char *path, mode_t mode, struct err *e)
{
	struct stat st;
	int fd, saved, ret = -1;

	/* O_NOFOLLOW + fstat/fchmod: no window to swap in a symlink. */
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1) {
		saved = errno;
		/* A symlink shows as ENOTDIR (O_DIRECTORY) or ELOOP. */
		if (saved == ELOOP ||
		    (saved == ENOTDIR && lstat(path, &st) == 0 &&
			S_ISLNK(st.st_mode)))
			return err_set(e, "%s: is a symlink", path);
		if (saved == ENOTDIR)
			return err_set(e, "%s: not a directory", path);
		return err_set(e, "open %s: %s", path, strerror(saved));
	}
	if (fstat(fd, &st) == -1) {
		err_set(e, "stat %s: %s", path, strerror(errno));
		goto out;
	}
	if (st.st_uid != geteuid()) {
		err_set(e, "%s: owned by uid %lu, not %lu", path,
		    (unsigned long)st.st_uid, (unsigned long)geteuid());
		goto out;
	}
	if ((st.st_mode & 07777) != (mode & 07777) &&
	    fchmod(fd, mode & 07777) == -1) {
		err_set(e, "chmod %s: %s", path, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	close(fd);
	return ret;
}

int
path_mkdir_p(const char *path, mode_t mode, struct err *e)
{
	char *p, *s;
	size_t n;
	int ret = -1;

	if (path == NULL || path[0] == '\0')
		return err_set(e, "mkdir: empty path");
	p = xstrdup(path);
	n = strlen(p);
	while (n > 1 && p[n - 1] == '/')
		p[--n] = '\0';
	/* Parents, left to right; the ones that exist are fine. */
	for (s = p + 1; (s = strchr(s, '/')) != NULL; s++) {
		if (s[-1] == '/')
			continue; /* "a//b" */
		*s = '\0';
		if (mkdir(p, 0700) == -1 && errno != EEXIST) {
			err_set(e, "mkdir %s: %s", p, strerror(errno));
			goto out;
		}
		*s = '/';
	}
	if (mkdir(p, mode & 07777) == -1 && errno != EEXIST) {
		err_set(e, "mkdir %s: %s", p, strerror(errno));
		goto out;
	}
	ret = check_final(p, mode, e);
out:
	free(p);
	return ret;
}

/* ---- runtime places of the control socket ---------------------------- */

static void
rt_add(struct path_rt *out, size_t *n, char *dir, const char *source,
    int need_parent)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (strcmp(out[i].dir, dir) == 0) {
			free(dir);
			return;
		}
	if (*n >= PATH_RT_MAX) {
		free(dir);
		return;
	}
	out[*n].dir = dir;
	out[*n].source = source;
	out[*n].need_parent = need_parent;
	(*n)++;
}

size_t
path_runtime_dirs(uid_t uid, struct path_rt out[PATH_RT_MAX])
{
	const char *v = getenv(rules[PATH_RUNTIME].xdg_var);
	char *d;
	size_t n = 0;

	if (v != NULL && v[0] == '/')
		rt_add(out, &n, path_join(v, APP), "XDG_RUNTIME_DIR", 0);
	rt_add(out, &n, xasprintf("/run/user/%lu/" APP, (unsigned long)uid),
	    "run-user", 1);
	if (uid == 0) {
		rt_add(
		    out, &n, xstrdup(rules[PATH_RUNTIME].root_dir), "run", 0);
		return n;
	}
	rt_add(out, &n, xasprintf("/tmp/" APP "-%lu", (unsigned long)uid),
	    "tmp", 0);
	if ((d = path_dir(PATH_STATE, uid, NULL)) != NULL)
		rt_add(out, &n, d, "state", 0);
	return n;
}

void
path_runtime_dirs_free(struct path_rt *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].dir);
		v[i].dir = NULL;
	}
}

/* ---- directories and files others may reach -------------------------- */

/*
 * A directory where someone other than us (or root) can add or replace
 * names: another owner, or a group or other write bit (sticky or not).
 */
static int
dir_shared(const struct stat *st, uid_t me)
{
	return (st->st_uid != me && st->st_uid != 0) ||
	    (st->st_mode & (S_IWGRP | S_IWOTH)) != 0;
}

int
path_dir_private(const char *dir, uid_t uid, struct err *e)
{
	struct stat st;

	if (lstat(dir, &st) != 0) {
		if (errno == ENOENT)
			return 1;
		return err_set(e, "%s: %s", dir, strerror(errno));
	}
	if (S_ISLNK(st.st_mode))
		return err_set(e, "%s: is a symlink", dir);
	if (!S_ISDIR(st.st_mode))
		return err_set(e, "%s: not a directory", dir);
	if (st.st_uid != uid && st.st_uid != 0)
		return err_set(e, "%s: owned by uid %lu, not %lu", dir,
		    (unsigned long)st.st_uid, (unsigned long)uid);
	if (dir_shared(&st, uid))
		return err_set(e, "%s: writable by other users (mode %04o)",
		    dir, (unsigned)(st.st_mode & 07777));
	return 0;
}

/* The directory part of path ("." when there is none); malloc'd. */
static char *
parent_of(const char *path)
{
	char *d = xstrdup(path), *slash;
	size_t n = strlen(d);

	while (n > 1 && d[n - 1] == '/')
		d[--n] = '\0';
	if ((slash = strrchr(d, '/')) == NULL) {
		free(d);
		return xstrdup(".");
	}
	while (slash > d && slash[-1] == '/')
		slash--;
	slash[slash == d] = '\0';
	return d;
}

/*
 * fs.protected_symlinks over every component of path but the last: a
 * symlink in a directory others can write is followed only when it
 * belongs to us, root or that directory's owner. A component that does
 * not exist ends the walk (the open that follows reports it).
 */
static int
walk_links(const char *path, struct err *e)
{
	char *p = xstrdup(path), *s;
	struct stat dir, lnk;
	uid_t me = geteuid();
	int ret = 0;

	if (stat(p[0] == '/' ? "/" : ".", &dir) != 0) {
		free(p);
		return 0;
	}
	for (s = p + 1; ret == 0 && (s = strchr(s, '/')) != NULL; s++) {
		if (s[-1] == '/')
			continue;
		*s = '\0';
		if (lstat(p, &lnk) == 0 && S_ISLNK(lnk.st_mode) &&
		    dir_shared(&dir, me) && lnk.st_uid != me &&
		    lnk.st_uid != 0 && lnk.st_uid != dir.st_uid)
			ret = err_set(e,
			    "%s: a symlink of uid %lu in a directory other "
			    "users can write: not followed",
			    p, (unsigned long)lnk.st_uid);
		else if (stat(p, &dir) != 0) {
			*s = '/';
			break;
		}
		*s = '/';
	}
	free(p);
	return ret;
}

int
path_open_write(const char *path, int how, struct err *e)
{
	struct err sub = {""};
	struct stat dst, st;
	char *dir;
	int fd, flags, shared, saved;

	if (path == NULL || *path == '\0')
		return err_set(e, "empty path");
	if (walk_links(path, &sub) != 0)
		return err_set(e, "%s", sub.msg);
	dir = parent_of(path);
	if (stat(dir, &dst) != 0) {
		saved = errno;
		free(dir);
		return err_set(e, "%s: %s", path, strerror(saved));
	}
	free(dir);
	shared = dir_shared(&dst, geteuid());
	flags = O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY;
	if (how == PATH_W_APPEND)
		flags |= O_APPEND;
	/* O_NONBLOCK: a FIFO planted under our name must not hang us. */
	if (shared)
		flags |= O_NOFOLLOW | O_NONBLOCK;
	if ((fd = open(path, flags, 0600)) < 0) {
		/* ELOOP, or EACCES from newer kernels; ENXIO for a FIFO. */
		saved = errno;
		if (shared && lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
			return err_set(e,
			    "%s: a symlink in a directory other users can "
			    "write: not followed",
			    path);
		if (shared && lstat(path, &st) == 0 && !S_ISREG(st.st_mode))
			return err_set(e, "%s: not a regular file", path);
		return err_set(e, "%s: %s", path, strerror(saved));
	}
	if (fstat(fd, &st) != 0) {
		err_set(e, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (shared) {
		if (!S_ISREG(st.st_mode)) {
			err_set(e, "%s: not a regular file", path);
			goto fail;
		}
		if (st.st_uid != geteuid()) {
			err_set(e,
			    "%s: owned by uid %lu (another user "
			    "made it first)",
			    path, (unsigned long)st.st_uid);
			goto fail;
		}
		if (st.st_nlink != 1) {
			err_set(e,
			    "%s: it has %lu names (a hard link "
			    "in a shared directory)",
			    path, (unsigned long)st.st_nlink);
			goto fail;
		}
		if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0) {
			err_set(e, "%s: %s", path, strerror(errno));
			goto fail;
		}
	}
	if (how != PATH_W_APPEND && S_ISREG(st.st_mode) &&
	    ftruncate(fd, 0) != 0) {
		err_set(e, "%s: %s", path, strerror(errno));
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

FILE *
path_fopen_write(const char *path, struct err *e)
{
	int fd = path_open_write(path, PATH_W_TRUNC, e);
	FILE *f;

	if (fd < 0)
		return NULL;
	if ((f = fdopen(fd, "w")) == NULL) {
		err_set(e, "%s: %s", path, strerror(errno));
		close(fd);
	}
	return f;
}

int
path_prepare_db(const char *path, struct err *e)
{
	struct stat dst;
	char *dir;
	int fd, saved;

	if (walk_links(path, e) != 0)
		return -1;
	dir = parent_of(path);
	if (stat(dir, &dst) != 0) {
		saved = errno;
		err_set(e, "%s: %s", dir, strerror(saved));
		free(dir);
		return -1;
	}
	if (dir_shared(&dst, geteuid())) {
		err_set(e,
		    "%s is a directory other users can write (owner uid %lu, "
		    "mode %04o): SQLite opens the database's -wal and -shm "
		    "files there by name; use a private directory",
		    dir, (unsigned long)dst.st_uid,
		    (unsigned)(dst.st_mode & 07777));
		free(dir);
		return -1;
	}
	free(dir);
	/* Created here so that it is 0600 whatever the umask says. */
	if ((fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600)) <
	    0)
		return err_set(e, "%s: %s", path, strerror(errno));
	close(fd);
	return 0;
}

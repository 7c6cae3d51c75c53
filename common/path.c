/*
 * path.c — resolution of the config, state and runtime directories (rules
 * in path.h) and a checking mkdir -p.
 *
 * Resolution only reads the environment and the passwd database; it never
 * touches the file system. path_mkdir_p does, and refuses a final
 * directory that is a symlink or belongs to someone else: the runtime
 * fallback lives in world-writable /tmp, where another user could have
 * planted it first to catch our control socket.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
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

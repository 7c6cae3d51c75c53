/* SPDX-License-Identifier: MIT */
/*
 * path.h — where mdns-doctor keeps its files, following the XDG base
 * directory rules with fallbacks, and a mkdir -p that also checks the final
 * directory's owner and mode.
 *
 *              non-root (XDG variable, else fallback)    root, variable unset
 *   config     $XDG_CONFIG_HOME/mdns-doctor              /etc/mdns-doctor
 *              ~/.config/mdns-doctor
 *   state      $XDG_STATE_HOME/mdns-doctor               /var/lib/mdns-doctor
 *              ~/.local/state/mdns-doctor   (history.db lives here)
 *   runtime    $XDG_RUNTIME_DIR/mdns-doctor              /run/mdns-doctor
 *              /tmp/mdns-doctor-UID         (control socket lives here)
 *
 * An XDG variable that is empty or not an absolute path is ignored (as the
 * XDG spec says). "~" is $HOME, or the passwd entry's home directory when
 * HOME is unset or empty. A variable that is set wins for root too.
 * Nothing here creates directories except path_mkdir_p.
 *
 * The control socket is looked for in every runtime place an engine of the
 * same uid could have used, whatever its environment (path_runtime_dirs):
 * a `connect` started from a login shell and a `status` run from cron
 * find each other.
 *
 * Files we write (docs/security.md "Files we write"): path_open_write and
 * path_prepare_db never follow a symlink another user planted in a
 * directory others can write, and create files 0600.
 */
#ifndef MDNS_PATH_H
#define MDNS_PATH_H

#include <stdio.h>
#include <sys/types.h>

#include "common/util.h"

enum path_kind {
	PATH_CONFIG,
	PATH_STATE,
	PATH_RUNTIME,
};

/*
 * The directory of the given kind for user uid (0 gets the root rules),
 * read from the current environment. Returns a malloc'd string the caller
 * frees, or NULL with e set when no home directory can be found.
 */
char *path_dir(enum path_kind kind, uid_t uid, struct err *e);

/* path_dir for the effective user: config, state and runtime dirs. */
char *path_config_dir(struct err *e);
char *path_state_dir(struct err *e);
char *path_runtime_dir(struct err *e);

/*
 * The runtime directories an engine of user uid may use for its control
 * socket, in lookup order (docs/control-protocol.md "Socket"):
 *   1. $XDG_RUNTIME_DIR/mdns-doctor  (the variable set and absolute)
 *   2. /run/user/UID/mdns-doctor     (systemd's runtime dir: cron jobs
 *      lack the variable but the directory is the same; usable only when
 *      /run/user/UID exists and is private to uid, never created by us)
 *   3. /run/mdns-doctor for root, /tmp/mdns-doctor-UID for others
 *   4. others: the state dir (~/.local/state/mdns-doctor), where an engine
 *      goes when another user planted 3 first
 * A place equal to an earlier one is left out. Fills out[] (at most
 * PATH_RT_MAX) and returns the count; free with path_runtime_dirs_free.
 * Reads the environment and the passwd database only.
 */
#define PATH_RT_MAX 4

struct path_rt {
	char *dir;	    /* malloc'd */
	const char *source; /* "XDG_RUNTIME_DIR", "run-user", "run", "tmp",
			       "state" */
	int need_parent;    /* the parent must exist and be private to uid */
};

size_t path_runtime_dirs(uid_t uid, struct path_rt out[PATH_RT_MAX]);
void path_runtime_dirs_free(struct path_rt *v, size_t n);

/*
 * Whether dir may hold files of user uid that others must not touch: it
 * is a directory, not a symlink, owned by uid or root, and nobody else may
 * write into it (no group or other write bit). Returns 0 when it is, 1
 * when it does not exist, -1 with e set otherwise ("/tmp/mdns-doctor-1000:
 * owned by uid 65534, not 1000").
 */
int path_dir_private(const char *dir, uid_t uid, struct err *e);

/*
 * Open path to write a file of ours (logs, resolver lists, stats):
 * append (O_APPEND) or replace its contents (truncated once opened). A
 * new file is created 0600. When the directory holding it is one others
 * can write (sticky /tmp) or another user owns, the last component is
 * never followed as a symlink (O_NOFOLLOW) and an existing file must be a
 * regular file of ours with one link; a symlink planted in such a
 * directory earlier in the path is refused as well (the rule of Linux's
 * fs.protected_symlinks, applied even where the sysctl is off). Returns a
 * close-on-exec fd, or -1 with e set ("/tmp/x: owned by uid 65534 ...").
 */
enum { PATH_W_TRUNC = 0, PATH_W_APPEND = 1 };
int path_open_write(const char *path, int how, struct err *e);
/* path_open_write(path, PATH_W_TRUNC) as a stdio stream ("w"). */
FILE *path_fopen_write(const char *path, struct err *e);

/*
 * Before a database is opened by name (SQLite also opens path-wal and
 * path-shm by name): the directory holding path must be private to us
 * (path_dir_private) and no planted symlink may lead there; a missing
 * file is created 0600 (SQLite gives its companions the same mode).
 * Returns 0 or -1 with e set.
 */
int path_prepare_db(const char *path, struct err *e);

/* "dir/name" as a malloc'd string (no doubled slash). */
char *path_join(const char *dir, const char *name);

/*
 * Create path and any missing parents (parents get 0700, as XDG asks for
 * base directories). The final directory must then be a real directory
 * (not a symlink) owned by the effective user; its permission bits are
 * set to exactly mode (0700 for the runtime dir) whatever the umask.
 * Returns 0, or -1 with e set ("mkdir /x/y: Permission denied",
 * "/x/y: not a directory", "/x/y: owned by uid 7, not 1000").
 */
int path_mkdir_p(const char *path, mode_t mode, struct err *e);

#endif

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
 */
#ifndef MDNS_PATH_H
#define MDNS_PATH_H

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

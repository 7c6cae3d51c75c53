/* SPDX-License-Identifier: MIT */
/*
 * tun-sys.c — what full-VPN mode changes on the machine, and how it is put
 * back: the lock that allows one run at a time, the state file that
 * records every change before it is made, the half-default routes into
 * the TUN device, host routes for the resolvers through the route they
 * had before (the original gateway and interface), and /etc/resolv.conf
 * pointed at the mapped DNS addresses. Routes go through netlink
 * (common/nl.h); nothing here runs a program.
 *
 * The state file (state_dir/tun.state, owner-only, never through a
 * symlink) is rewritten whole (temporary file, fsync, rename) before each
 * change, so after a crash it lists at least what was changed; undoing a
 * change that was not made is harmless (a missing route is skipped, a
 * resolv.conf that is not ours is left alone). Its lines:
 *
 *   version 1
 *   pid 1234
 *   route 0.0.0.0/1 dev mdns0
 *   route 10.72.0.9/32 via 10.70.0.1 dev veth0
 *   resolv file 0644 /etc/resolv.conf      (backup: resolv.conf.orig)
 *   resolv symlink 0777 /etc/resolv.conf   (then: link TARGET)
 *   resolv absent 0 /etc/resolv.conf
 *   link ../run/systemd/resolve/stub-resolv.conf
 *
 * What we wrote into resolv.conf is kept as state_dir/resolv.conf.ours:
 * when the file no longer holds it at restore time (a DHCP client or an
 * administrator rewrote it meanwhile), the file is left alone and the
 * report says so. The half routes leave with the device when the process
 * dies (it is not persistent); the resolver routes and resolv.conf stay,
 * which is what `connect --tun --cleanup` (tun_sys_cleanup) is for.
 *
 * systemd-resolved: when /etc/resolv.conf is its stub symlink, the
 * symlink is replaced by a file for the duration and put back after;
 * per-link DNS over D-Bus is not done here (docs/tun.md says why).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/nl.h"
#include "common/path.h"
#include "engine/tun-int.h"

#define STATE_NAME     "tun.state"
#define LOCK_NAME      "tun.lock"
#define ORIG_NAME      "resolv.conf.orig"
#define OURS_NAME      "resolv.conf.ours"
#define RESOLV_DEFAULT "/etc/resolv.conf"
#define FILE_MAX       (256 * 1024)

struct tun_sys {
	char *dir;
	char *resolv;
	int set_resolver, default_routes;
	int lock_fd;
	struct nl nl;
	struct tun_route *r;
	size_t nr, cap;
	/* the original default routes (main table, lowest metric) */
	struct nl_route orig[2];
	int have_orig[2];
	int tun_index;
	/* resolv.conf */
	int res_kind;
	unsigned res_mode;
	char res_link[4096];
	int res_written;
};

/* ---- small file helpers ---- */

/* The whole of a small file; follow = 0 refuses a symlink. */
static int
read_file(const char *path, int follow, char **out, size_t *len, struct err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW));
	char *b;
	size_t n = 0;
	ssize_t r;

	if (fd == -1)
		return err_set(e, "%s: %s", path, strerror(errno));
	b = xmalloc(FILE_MAX + 1);
	while ((r = read(fd, b + n, FILE_MAX - n)) > 0)
		n += (size_t)r;
	close(fd);
	if (r == -1 || n == FILE_MAX) {
		free(b);
		return err_set(
		    e, "%s: %s", path, r == -1 ? strerror(errno) : "too long");
	}
	b[n] = '\0';
	*out = b;
	*len = n;
	return 0;
}

/*
 * Replace path with content: a temporary file beside it renamed over it,
 * or, when path is a mount point (ip netns exec and containers bind-mount
 * /etc/resolv.conf; rename gives EBUSY), rewritten in place.
 */
static int
replace_file(const char *path, const char *content, size_t len, mode_t mode,
    struct err *e)
{
	char *tmp = xasprintf("%s.mdns-tmp.%ld", path, (long)getpid());
	int fd;

	(void)unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    mode & 07777);
	if (fd == -1) {
		err_set(e, "%s: %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	if (fd_write_all(fd, content, len) == -1 || fchmod(fd, mode & 07777) ||
	    fsync(fd) == -1) {
		err_set(e, "%s: %s", tmp, strerror(errno));
		close(fd);
		(void)unlink(tmp);
		free(tmp);
		return -1;
	}
	close(fd);
	if (rename(tmp, path) == 0) {
		free(tmp);
		return 0;
	}
	(void)unlink(tmp);
	free(tmp);
	if (errno != EBUSY)
		return err_set(e, "%s: %s", path, strerror(errno));
	fd = open(path, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1 || fd_write_all(fd, content, len) == -1 ||
	    fsync(fd) == -1) {
		err_set(e, "%s: %s", path, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* A file in our state directory: owner-only, never through a symlink. */
static int
write_private(const char *dir, const char *name, const char *content,
    size_t len, struct err *e)
{
	char *p = path_join(dir, name);
	struct stat sb;
	int rc;

	if (lstat(p, &sb) == 0 && !S_ISREG(sb.st_mode)) {
		err_set(e, "%s: not a regular file", p);
		free(p);
		return -1;
	}
	rc = replace_file(p, content, len, 0600, e);
	free(p);
	return rc;
}

/* ---- routes as text (the state file's lines) ---- */

static void
route_text(
    const struct nl_route_spec *s, const char *ifname, char *buf, size_t len)
{
	char d[NET_ADDR_STRLEN], g[NET_ADDR_STRLEN];

	net_addr_format_ip(&s->dst, d, sizeof d);
	if (s->gateway.sa.sa_family != AF_UNSPEC) {
		net_addr_format_ip(&s->gateway, g, sizeof g);
		snprintf(
		    buf, len, "%s/%d via %s dev %s", d, s->dst_len, g, ifname);
	} else
		snprintf(buf, len, "%s/%d dev %s", d, s->dst_len, ifname);
}

static int
parse_ip(const char *s, union net_addr *a)
{
	memset(a, 0, sizeof *a);
	if (inet_pton(AF_INET, s, &a->in.sin_addr) == 1) {
		a->sa.sa_family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, &a->in6.sin6_addr) == 1) {
		a->sa.sa_family = AF_INET6;
		return 0;
	}
	return -1;
}

/* "DST/PLEN [via GW] dev NAME" back into a spec (oif left 0). */
static int
route_parse(char *line, struct nl_route_spec *s, char *ifname, struct err *e)
{
	char *w[6], *slash, *save = NULL;
	long long plen;
	int n = 0, max;

	memset(s, 0, sizeof *s);
	s->metric = -1;
	for (char *t = strtok_r(line, " ", &save); t != NULL && n < 6;
	     t = strtok_r(NULL, " ", &save))
		w[n++] = t;
	if (!(n == 3 && strcmp(w[1], "dev") == 0) &&
	    !(n == 5 && strcmp(w[1], "via") == 0 && strcmp(w[3], "dev") == 0))
		return err_set(e, "route: want DST/LEN [via GW] dev NAME");
	if ((slash = strchr(w[0], '/')) == NULL)
		return err_set(e, "route: no prefix length");
	*slash = '\0';
	if (parse_ip(w[0], &s->dst) == -1)
		return err_set(e, "route: bad destination");
	s->family = s->dst.sa.sa_family;
	max = s->family == AF_INET ? 32 : 128;
	if (parse_int(slash + 1, 0, max, &plen, e) == -1)
		return err_prefix(e, "route: prefix length");
	s->dst_len = (int)plen;
	if (n == 5 &&
	    (parse_ip(w[2], &s->gateway) == -1 ||
		s->gateway.sa.sa_family != s->family))
		return err_set(e, "route: bad gateway");
	if (strlen(w[n - 1]) >= IF_NAMESIZE)
		return err_set(e, "route: interface name too long");
	snprintf(ifname, IF_NAMESIZE, "%s", w[n - 1]);
	return 0;
}

/* ---- the state file ---- */

static int
save_state(struct tun_sys *s, struct err *e)
{
	char *buf = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&buf, &len);
	int rc;

	fprintf(f,
	    "# mdns-doctor connect --tun: what this run changed; undo with "
	    "`mdns-doctor connect --tun --cleanup`\nversion 1\npid %ld\n",
	    (long)getpid());
	for (i = 0; i < s->nr; i++)
		if (s->r[i].kind == TUN_R_HALF || s->r[i].kind == TUN_R_HOST)
			fprintf(f, "route %s\n", s->r[i].text);
	if (s->res_written) {
		fprintf(f, "resolv %s %04o %s\n",
		    s->res_kind == TUN_RES_FILE	       ? "file" :
			s->res_kind == TUN_RES_SYMLINK ? "symlink" :
							 "absent",
		    s->res_mode & 07777, s->resolv);
		if (s->res_kind == TUN_RES_SYMLINK)
			fprintf(f, "link %s\n", s->res_link);
	}
	fclose(f);
	rc = write_private(s->dir, STATE_NAME, buf, len, e);
	free(buf);
	return rc;
}

/* Remove the state files; keep_orig keeps the resolver file's backup
 * (the file was left alone: its original stays where we said it is). */
static void
remove_state(const char *dir, int keep_orig)
{
	static const char *const names[] = {STATE_NAME, OURS_NAME, ORIG_NAME};
	size_t i;

	for (i = 0; i < nitems(names) - (keep_orig ? 1 : 0); i++) {
		char *p = path_join(dir, names[i]);

		(void)unlink(p);
		free(p);
	}
}

static int
parse_lines(
    const char *path, char *text, struct tun_sys_state *st, struct err *e)
{
	char *line, *next, *sp;
	long long v;
	int ln = 0, version = 0;

	memset(st, 0, sizeof *st);
	for (line = text; line != NULL && *line != '\0'; line = next) {
		ln++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if ((sp = strchr(line, ' ')) == NULL)
			goto bad;
		*sp++ = '\0';
		if (strcmp(line, "version") == 0) {
			if (strcmp(sp, "1") != 0)
				return err_set(e, "%s:%d: version %s unknown",
				    path, ln, sp);
			version = 1;
		} else if (strcmp(line, "pid") == 0) {
			if (parse_int(sp, 1, 1LL << 31, &v, e) == -1)
				goto bad;
			st->pid = (long)v;
		} else if (strcmp(line, "route") == 0) {
			struct tun_route r;

			memset(&r, 0, sizeof r);
			snprintf(r.text, sizeof r.text, "%s", sp);
			if (route_parse(sp, &r.spec, r.ifname, e) == -1)
				return err_prefix(e, "%s:%d", path, ln);
			r.kind = TUN_R_HOST;
			st->r = xreallocarray(st->r, st->nr + 1, sizeof *st->r);
			st->r[st->nr++] = r;
		} else if (strcmp(line, "resolv") == 0) {
			char kind[16];
			unsigned mode;
			int off = 0;

			if (sscanf(sp, "%15s %o %n", kind, &mode, &off) != 2 ||
			    off == 0 || sp[off] != '/' || mode > 07777)
				goto bad;
			st->res_kind = strcmp(kind, "file") == 0 ?
			    TUN_RES_FILE :
			    strcmp(kind, "symlink") == 0 ? TUN_RES_SYMLINK :
			    strcmp(kind, "absent") == 0	 ? TUN_RES_ABSENT :
							   TUN_RES_NONE;
			if (st->res_kind == TUN_RES_NONE ||
			    strlen(sp + off) >= sizeof st->resolv)
				goto bad;
			st->res_mode = mode;
			snprintf(st->resolv, sizeof st->resolv, "%s", sp + off);
		} else if (strcmp(line, "link") == 0) {
			if (strlen(sp) >= sizeof st->link || sp[0] == '\0')
				goto bad;
			snprintf(st->link, sizeof st->link, "%s", sp);
		} else
			goto bad;
	}
	if (!version)
		return err_set(e, "%s: no version line", path);
	if (st->res_kind == TUN_RES_SYMLINK && st->link[0] == '\0')
		return err_set(e, "%s: symlink without its link line", path);
	return 0;
bad:
	return err_set(e, "%s:%d: malformed line", path, ln);
}

int
tun_sys_parse_state(
    const char *path, char *text, struct tun_sys_state *st, struct err *e)
{
	if (parse_lines(path, text, st, e) == 0)
		return 0;
	free(st->r);
	st->r = NULL;
	st->nr = 0;
	return -1;
}

/* ---- lock ---- */

static int
take_lock(struct tun_sys *s, struct err *e)
{
	char *p = path_join(s->dir, LOCK_NAME), buf[32];
	ssize_t n;
	int fd;

	fd = open(p, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1) {
		err_set(e, "%s: %s", p, strerror(errno));
		free(p);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		n = pread(fd, buf, sizeof buf - 1, 0);
		buf[n > 0 ? n : 0] = '\0';
		str_trim(buf);
		err_set(e, "another connect --tun is running (pid %s; lock %s)",
		    buf[0] ? buf : "?", p);
		close(fd);
		free(p);
		return -1;
	}
	free(p);
	snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || pwrite(fd, buf, strlen(buf), 0) < 0) {
		close(fd);
		return err_set(e, "lock file: %s", strerror(errno));
	}
	s->lock_fd = fd;
	return 0;
}

static int
open_dir(struct tun_sys *s, const struct tun_sys_config *c, struct err *e)
{
	if (c->state_dir != NULL)
		s->dir = xstrdup(c->state_dir);
	else if ((s->dir = path_runtime_dir(e)) == NULL)
		return -1;
	return path_mkdir_p(s->dir, 0700, e);
}

static struct tun_sys *
sys_new(const struct tun_sys_config *c)
{
	struct tun_sys *s = xcalloc(1, sizeof *s);

	s->lock_fd = -1;
	s->nl.fd = -1;
	s->resolv = xstrdup(c->resolv_conf ? c->resolv_conf : RESOLV_DEFAULT);
	s->set_resolver = c->set_resolver;
	s->default_routes = c->default_routes;
	return s;
}

static void
sys_free(struct tun_sys *s)
{
	nl_close(&s->nl);
	if (s->lock_fd != -1)
		close(s->lock_fd); /* releases the lock */
	free(s->r);
	free(s->dir);
	free(s->resolv);
	free(s);
}

struct tun_sys *
tun_sys_begin(const struct tun_sys_config *c, struct err *e)
{
	struct tun_sys *s = sys_new(c);
	struct stat sb;
	char *p;

	if (s->resolv[0] != '/' || strpbrk(s->resolv, " \t\n") != NULL) {
		err_set(e,
		    "resolver file %s: want an absolute path without "
		    "blanks",
		    s->resolv);
		goto fail;
	}
	if (open_dir(s, c, e) == -1 || take_lock(s, e) == -1)
		goto fail;
	p = path_join(s->dir, STATE_NAME);
	if (lstat(p, &sb) == 0) {
		err_set(e,
		    "a previous connect --tun did not restore the system "
		    "(state file %s): run `mdns-doctor connect --tun "
		    "--cleanup` first",
		    p);
		free(p);
		goto fail;
	}
	free(p);
	if (nl_open(&s->nl, e) == -1)
		goto fail;
	return s;
fail:
	sys_free(s);
	return NULL;
}

/* ---- routes ---- */

static int
fam_ix(int family)
{
	return family == AF_INET6 ? 1 : 0;
}

static struct tun_route *
add_entry(struct tun_sys *s)
{
	if (s->nr == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 8;
		s->r = xreallocarray(s->r, s->cap, sizeof *s->r);
	}
	memset(&s->r[s->nr], 0, sizeof s->r[0]);
	return &s->r[s->nr++];
}

static void
drop_entry(struct tun_sys *s, struct tun_route *r)
{
	size_t i = (size_t)(r - s->r);

	memmove(&s->r[i], &s->r[i + 1], (s->nr - i - 1) * sizeof *s->r);
	s->nr--;
}

static int
ifname_of(struct tun_sys *s, int index, char *name, struct err *e)
{
	struct nl_link l;

	memset(&l, 0, sizeof l);
	if (nl_link_get(&s->nl, index, &l, e) == -1)
		return -1;
	snprintf(name, IF_NAMESIZE, "%s", l.name);
	return 0;
}

/* Record (state file first), then add. On failure the entry goes. */
static int
install(struct tun_sys *s, struct tun_route *r, struct err *e)
{
	route_text(&r->spec, r->ifname, r->text, sizeof r->text);
	if (save_state(s, e) == -1)
		goto fail;
	if (nl_route_add(&s->nl, &r->spec, 0, e) == 0)
		return 0;
	if (errno == EEXIST && r->kind == TUN_R_HOST) {
		/* Someone's host route: it does the job; not ours to
		 * remove. */
		r->kind = TUN_R_EXISTING;
		(void)save_state(s, NULL);
		return 0;
	}
	if (errno == EEXIST)
		err_prefix(
		    e, "a route %s exists already (another VPN?)", r->text);
fail:
	drop_entry(s, r);
	(void)save_state(s, NULL);
	return -1;
}

static void
remember_defaults(struct tun_sys *s, int family)
{
	struct nl_route d[16];
	size_t n = 0, i, best = SIZE_MAX;
	int f = fam_ix(family);

	if (s->have_orig[f])
		return;
	if (nl_default_routes(&s->nl, family, d, nitems(d), &n, NULL) == -1)
		return;
	for (i = 0; i < MIN(n, nitems(d)); i++) {
		if (d[i].table != RT_TABLE_MAIN || d[i].oif == 0 ||
		    d[i].oif == s->tun_index)
			continue;
		if (best == SIZE_MAX || d[i].metric < d[best].metric)
			best = i;
	}
	if (best != SIZE_MAX) {
		s->orig[f] = d[best];
		s->have_orig[f] = 1;
	}
}

int
tun_sys_apply(struct tun_sys *s, struct tun *t, struct err *e)
{
	static const char *const halves[2][2] = {
	    {"0.0.0.0", "128.0.0.0"}, {"::", "8000::"}};
	const struct tun_config *c = tun_get_config(t);
	struct tun_route *r;
	int fam, i;

	s->tun_index = tun_ifindex(t);
	remember_defaults(s, AF_INET);
	remember_defaults(s, AF_INET6);
	for (fam = 0; s->default_routes && fam < 2; fam++) {
		if (fam == 0 && c->addr4.sa.sa_family != AF_INET)
			continue;
		if (fam == 1 && c->addr6.sa.sa_family != AF_INET6)
			continue;
		for (i = 0; i < 2; i++) {
			r = add_entry(s);
			r->kind = TUN_R_HALF;
			r->spec.family = fam ? AF_INET6 : AF_INET;
			(void)parse_ip(halves[fam][i], &r->spec.dst);
			r->spec.dst_len = 1;
			r->spec.oif = s->tun_index;
			r->spec.metric = -1;
			snprintf(
			    r->ifname, sizeof r->ifname, "%s", tun_ifname(t));
			if (install(s, r, e) == -1)
				return -1;
		}
	}
	if (s->set_resolver)
		return tun_sys_set_resolver(s, c, e);
	return 0;
}

static struct tun_route *
find_host(struct tun_sys *s, const union net_addr *a)
{
	size_t i;
	union net_addr x = *a;

	net_addr_set_port(&x, 0);
	for (i = 0; i < s->nr; i++)
		if (s->r[i].kind != TUN_R_HALF &&
		    net_addr_equal(&s->r[i].host, &x))
			return &s->r[i];
	return NULL;
}

int
tun_route_resolver_add(
    struct tun_sys *s, const union net_addr *a, struct err *e)
{
	struct tun_route *r;
	struct nl_route via;
	char at[NET_ADDR_STRLEN];
	int f, rc;

	if (a->sa.sa_family != AF_INET && a->sa.sa_family != AF_INET6)
		return err_set(
		    e, "resolver route: address family %d", a->sa.sa_family);
	if ((r = find_host(s, a)) != NULL) {
		r->refs++;
		return 0;
	}
	net_addr_format_ip(a, at, sizeof at);
	f = fam_ix(a->sa.sa_family);
	rc = nl_route_get(&s->nl, a, &via, e);
	if (rc == -1)
		return err_prefix(e, "resolver route %s", at);
	if (rc == 1)
		return err_set(
		    e, "resolver route %s: %s", at, nl_noroute_text(via.error));
	r = add_entry(s);
	r->refs = 1;
	r->host = *a;
	net_addr_set_port(&r->host, 0);
	if (via.type == RTN_LOCAL || via.type == RTN_BROADCAST ||
	    (a->sa.sa_family == AF_INET &&
		(ntohl(a->in.sin_addr.s_addr) >> 24) == 127) ||
	    (a->sa.sa_family == AF_INET6 &&
		IN6_IS_ADDR_LOOPBACK(&a->in6.sin6_addr))) {
		r->kind = TUN_R_NONE; /* on this machine: no route needed */
		snprintf(r->text, sizeof r->text, "%s (local)", at);
		return 0;
	}
	if (via.oif == s->tun_index && s->tun_index != 0) {
		/* The TUN's halves already catch it: go back to the default
		 * route we found before them. */
		remember_defaults(s, a->sa.sa_family);
		if (!s->have_orig[f]) {
			drop_entry(s, r);
			return err_set(e,
			    "resolver route %s: no original default route "
			    "for %s to send it through",
			    at, f ? "IPv6" : "IPv4");
		}
		via = s->orig[f];
	}
	r->kind = TUN_R_HOST;
	r->spec.family = a->sa.sa_family;
	r->spec.dst = r->host;
	r->spec.dst_len = f ? 128 : 32;
	r->spec.gateway = via.gateway;
	r->spec.oif = via.oif;
	r->spec.metric = -1;
	if (ifname_of(s, via.oif, r->ifname, e) == -1) {
		drop_entry(s, r);
		return err_prefix(e, "resolver route %s", at);
	}
	return install(s, r, e);
}

static int
uninstall(struct tun_sys *s, struct tun_route *r, struct err *e)
{
	int rc = 0;

	if (r->kind == TUN_R_HALF || r->kind == TUN_R_HOST) {
		rc = nl_route_del(&s->nl, &r->spec, e);
		/* Gone already (the device went, someone removed it). */
		if (rc == -1 && (errno == ESRCH || errno == ENODEV))
			rc = 0;
	}
	drop_entry(s, r);
	(void)save_state(s, NULL);
	return rc;
}

int
tun_route_resolver_del(
    struct tun_sys *s, const union net_addr *a, struct err *e)
{
	struct tun_route *r = find_host(s, a);

	if (r == NULL)
		return err_set(e, "resolver route: address not added");
	if (--r->refs > 0)
		return 0;
	return uninstall(s, r, e);
}

size_t
tun_sys_nroutes(const struct tun_sys *s)
{
	return s->nr;
}

const char *
tun_sys_route_text(const struct tun_sys *s, size_t i)
{
	return i < s->nr ? s->r[i].text : NULL;
}

json_t *
tun_sys_json(const struct tun_sys *s)
{
	json_t *o = json_object(), *a = json_array();
	size_t i, n = 0;

	for (i = 0; i < s->nr; i++) {
		static const char *const kinds[] = {
		    "default_half", "resolver", "local", "existing"};

		json_array_append_new(a,
		    json_pack("{s:s,s:s,s:i}", "route", s->r[i].text, "kind",
			kinds[s->r[i].kind], "users", (int)s->r[i].refs));
		if (s->r[i].kind == TUN_R_HALF || s->r[i].kind == TUN_R_HOST)
			n++;
	}
	json_object_set_new(o, "routes_installed", json_integer((json_int_t)n));
	json_object_set_new(o, "routes", a);
	json_object_set_new(o, "resolver",
	    s->res_written ?
		json_pack("{s:s,s:s}", "file", s->resolv, "was",
		    s->res_kind == TUN_RES_FILE	       ? "file" :
			s->res_kind == TUN_RES_SYMLINK ? "symlink" :
							 "absent") :
		json_null());
	return o;
}

/* ---- the system resolver ---- */

static char *
resolv_text(const struct tun_config *c, const char *orig)
{
	char *buf = NULL, ip[NET_ADDR_STRLEN];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	const char *l, *nl;

	fprintf(f,
	    "# written by mdns-doctor connect --tun (DNS through the "
	    "tunnel); put back when it stops\n");
	if (c->dns4.sa.sa_family == AF_INET) {
		net_addr_format_ip(&c->dns4, ip, sizeof ip);
		fprintf(f, "nameserver %s\n", ip);
	}
	if (c->dns6.sa.sa_family == AF_INET6 &&
	    c->addr6.sa.sa_family == AF_INET6) {
		net_addr_format_ip(&c->dns6, ip, sizeof ip);
		fprintf(f, "nameserver %s\n", ip);
	}
	/* Keep search domains and options; only the servers change. */
	for (l = orig; l != NULL && *l != '\0'; l = nl ? nl + 1 : NULL) {
		nl = strchr(l, '\n');
		if (strncmp(l, "search", 6) == 0 ||
		    strncmp(l, "domain", 6) == 0 ||
		    strncmp(l, "options", 7) == 0)
			fprintf(f, "%.*s\n",
			    (int)(nl ? (size_t)(nl - l) : strlen(l)), l);
	}
	fclose(f);
	return buf;
}

int
tun_sys_set_resolver(
    struct tun_sys *s, const struct tun_config *c, struct err *e)
{
	struct stat sb;
	char *orig = NULL, *ours;
	size_t olen = 0;
	ssize_t n;
	int rc = -1;

	if (lstat(s->resolv, &sb) == -1) {
		if (errno != ENOENT)
			return err_set(e, "%s: %s", s->resolv, strerror(errno));
		s->res_kind = TUN_RES_ABSENT;
		s->res_mode = 0644;
	} else if (S_ISLNK(sb.st_mode)) {
		n = readlink(s->resolv, s->res_link, sizeof s->res_link - 1);
		if (n <= 0 || memchr(s->res_link, '\n', (size_t)n) != NULL)
			return err_set(e, "%s: unreadable symlink", s->resolv);
		s->res_link[n] = '\0';
		s->res_kind = TUN_RES_SYMLINK;
		s->res_mode = 0644;
		/* Its search lines, when the target is readable. */
		if (read_file(s->resolv, 1, &orig, &olen, NULL) == -1)
			orig = NULL;
	} else if (S_ISREG(sb.st_mode)) {
		if (read_file(s->resolv, 0, &orig, &olen, e) == -1)
			return -1;
		s->res_kind = TUN_RES_FILE;
		s->res_mode = sb.st_mode & 07777;
		if (write_private(s->dir, ORIG_NAME, orig, olen, e) == -1)
			goto out;
	} else
		return err_set(e, "%s: not a file or symlink", s->resolv);
	ours = resolv_text(c, orig);
	if (write_private(s->dir, OURS_NAME, ours, strlen(ours), e) == -1) {
		free(ours);
		goto out;
	}
	s->res_written = 1;
	if (save_state(s, e) == -1 ||
	    replace_file(s->resolv, ours, strlen(ours),
		s->res_kind == TUN_RES_FILE ? s->res_mode : 0644, e) == -1) {
		free(ours);
		goto out;
	}
	free(ours);
	rc = 0;
out:
	free(orig);
	return rc;
}

/*
 * Put resolv.conf back as recorded, if it still holds what we wrote.
 * *note gets a sentence when it was left alone. 0 or -1.
 */
static int
restore_resolver(const char *dir, int kind, unsigned mode, const char *path,
    const char *link, char *note, size_t nlen, struct err *e)
{
	char *ours = NULL, *cur = NULL, *orig = NULL, *op, *tmp;
	size_t olen, clen, glen;
	int rc = -1;

	note[0] = '\0';
	op = path_join(dir, OURS_NAME);
	if (read_file(op, 0, &ours, &olen, e) == -1) {
		free(op);
		return -1;
	}
	free(op);
	if (read_file(path, 0, &cur, &clen, NULL) == -1 || clen != olen ||
	    memcmp(cur, ours, olen) != 0) {
		snprintf(note, nlen,
		    "%s was changed by someone else meanwhile: left alone "
		    "(the original is in %s/" ORIG_NAME ")",
		    path, dir);
		free(ours);
		free(cur);
		return 0;
	}
	switch (kind) {
	case TUN_RES_FILE:
		op = path_join(dir, ORIG_NAME);
		if (read_file(op, 0, &orig, &glen, e) == 0)
			rc = replace_file(path, orig, glen, mode, e);
		free(op);
		break;
	case TUN_RES_SYMLINK:
		tmp = xasprintf("%s.mdns-tmp.%ld", path, (long)getpid());
		(void)unlink(tmp);
		if (symlink(link, tmp) == -1 || rename(tmp, path) == -1) {
			err_set(e, "%s: %s", path, strerror(errno));
			(void)unlink(tmp);
		} else
			rc = 0;
		free(tmp);
		break;
	case TUN_RES_ABSENT:
		rc = unlink(path) == 0 || errno == ENOENT ?
		    0 :
		    err_set(e, "%s: %s", path, strerror(errno));
		break;
	default:
		rc = 0;
	}
	free(ours);
	free(cur);
	free(orig);
	return rc;
}

/* ---- the end ---- */

static void
keep_first(struct err *first, const struct err *e, int *rc)
{
	if (*rc == 0 && first != NULL)
		*first = *e;
	*rc = -1;
}

int
tun_sys_end(struct tun_sys *s, struct err *e)
{
	struct err e1 = {""};
	char note[4400];
	int rc = 0, keep = 0;

	if (s == NULL)
		return 0;
	if (s->res_written) {
		if (restore_resolver(s->dir, s->res_kind, s->res_mode,
			s->resolv, s->res_link, note, sizeof note, &e1) == -1)
			keep_first(e, &e1, &rc);
		else if (note[0] != '\0') {
			log_warn("%s", note);
			keep = 1;
		}
		s->res_written = 0;
	}
	while (s->nr > 0)
		if (uninstall(s, &s->r[s->nr - 1], &e1) == -1)
			keep_first(e, &e1, &rc);
	if (rc == 0)
		remove_state(s->dir, keep);
	sys_free(s);
	return rc;
}

int
tun_sys_cleanup(const struct tun_sys_config *c,
    void (*say)(void *arg, const char *line), void *arg, int *changed,
    struct err *e)
{
	struct tun_sys *s = sys_new(c);
	struct tun_sys_state st;
	struct err e1 = {""};
	char *path = NULL, *text = NULL, line[4400], note[4400];
	size_t len, i;
	int rc = -1, index, keep = 0;
	struct stat sb;

	*changed = 0;
	memset(&st, 0, sizeof st);
	if (open_dir(s, c, e) == -1 || take_lock(s, e) == -1)
		goto out;
	path = path_join(s->dir, STATE_NAME);
	if (lstat(path, &sb) == -1 && errno == ENOENT) {
		rc = 0;
		goto out;
	}
	if (lstat(path, &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    sb.st_uid != geteuid() || (sb.st_mode & 077) != 0) {
		err_set(e, "%s: not an owner-only regular file of ours", path);
		goto out;
	}
	if (read_file(path, 0, &text, &len, e) == -1 ||
	    tun_sys_parse_state(path, text, &st, e) == -1)
		goto out;
	if (nl_open(&s->nl, e) == -1)
		goto out;
	rc = 0;
	if (st.res_kind != TUN_RES_NONE) {
		if (restore_resolver(s->dir, st.res_kind, st.res_mode,
			st.resolv, st.link, note, sizeof note, &e1) == -1) {
			keep_first(e, &e1, &rc);
		} else if (note[0] != '\0') {
			keep = 1;
			if (say != NULL)
				say(arg, note);
		} else {
			(*changed)++;
			snprintf(line, sizeof line, "restored %s", st.resolv);
			if (say != NULL)
				say(arg, line);
		}
	}
	for (i = st.nr; i > 0; i--) {
		struct tun_route *r = &st.r[i - 1];

		index = (int)if_nametoindex(r->ifname);
		if (index == 0) {
			snprintf(line, sizeof line,
			    "route %s: device gone, so is the route", r->text);
			if (say != NULL)
				say(arg, line);
			continue;
		}
		r->spec.oif = index;
		if (nl_route_del(&s->nl, &r->spec, &e1) == -1) {
			if (errno == ESRCH)
				snprintf(line, sizeof line,
				    "route %s: not there", r->text);
			else {
				keep_first(e, &e1, &rc);
				continue;
			}
		} else {
			(*changed)++;
			snprintf(
			    line, sizeof line, "removed route %s", r->text);
		}
		if (say != NULL)
			say(arg, line);
	}
	if (rc == 0)
		remove_state(s->dir, keep);
out:
	free(st.r);
	free(text);
	free(path);
	sys_free(s);
	return rc;
}

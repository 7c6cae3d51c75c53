/* SPDX-License-Identifier: MIT */
/*
 * scan-setup.c — scan_opts from a client config, a key file and flags
 * (scan-setup.h). Reads files; never prints.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/ev.h"
#include "probe/scan-setup.h"

char *
scan_read_key_file(const char *path, struct err *e)
{
	char line[1024];
	FILE *f;
	char *t;
	int n = 0;

	if ((f = fopen(path, "r")) == NULL) {
		err_set(
		    e, "cannot read key file %s: %s", path, strerror(errno));
		return NULL;
	}
	while (fgets(line, sizeof line, f) != NULL) {
		++n;
		/* A longer line would come back cut: a wrong key, silently. */
		if (strchr(line, '\n') == NULL && !feof(f)) {
			fclose(f);
			memset(line, 0, sizeof line);
			err_set(e, "%s:%d: line longer than %zu bytes", path, n,
			    sizeof line - 2);
			return NULL;
		}
		t = str_trim(line);
		if (*t != '\0') {
			fclose(f);
			t = xstrdup(t);
			memset(line, 0, sizeof line);
			return t;
		}
	}
	fclose(f);
	err_set(e, "%s: key file is empty", path);
	return NULL;
}

int
scan_setup_apply(struct scan_setup *su, struct scan_opts *o, struct err *e)
{
	struct cfg *c = NULL;
	struct cfg_opts co = {.role = CFG_CLIENT};
	size_t i;

	if (su->config != NULL) {
		if (cfg_load(su->config, NULL, &co, &c, e) == -1)
			return -1;
		const struct cfg_client *cl = &c->client;

		for (i = 0; i < cl->ndomains && i < SCAN_MAX_DOMAINS; i++)
			su->dom_store[i] = xstrdup(cl->domains[i]);
		o->method = cl->method;
		if (cl->key != NULL && cl->key[0] != '\0')
			su->key = xstrdup(cl->key);
		o->min_up = (int)cl->min_up_mtu;
		o->max_up = (int)cl->max_up_mtu;
		o->min_down = (int)cl->min_down_mtu;
		o->max_down = (int)cl->max_down_mtu;
		if (cl->mtu_retries > 0)
			o->t_mtu.tries = (int)cl->mtu_retries;
		if (cl->mtu_timeout_s > 0)
			o->t_mtu.timeout_ms = (int)(cl->mtu_timeout_s * 1000);
		o->response_mode = cl->base64 ? 1 : 0;
		su->resolvers_path = cfg_default_resolvers_path(c);
		cfg_free(c);
	}
	if (su->ndomains > 0) {
		for (i = 0; i < SCAN_MAX_DOMAINS; i++) {
			free(su->dom_store[i]);
			su->dom_store[i] = NULL;
		}
		for (i = 0; i < su->ndomains; i++)
			su->dom_store[i] = xstrdup(su->domains[i]);
	}
	for (i = 0; i < SCAN_MAX_DOMAINS && su->dom_store[i] != NULL; i++) {
		size_t l = strlen(su->dom_store[i]);

		if (l > 0 && su->dom_store[i][l - 1] == '.')
			su->dom_store[i][l - 1] = '\0';
		o->domains[i] = su->dom_store[i];
	}
	o->ndomains = i;
	if (o->ndomains == 0)
		return err_set(e,
		    "no tunnel domain: give --domain or "
		    "--config client_config.toml");
	if (su->method >= 0)
		o->method = su->method;
	if (su->max_up > 0) {
		o->min_up = su->min_up;
		o->max_up = su->max_up;
	}
	if (su->max_down > 0) {
		o->min_down = su->min_down;
		o->max_down = su->max_down;
	}
	if (su->mtu_timeout_ms > 0)
		o->t_mtu.timeout_ms = su->mtu_timeout_ms;
	if (su->mtu_tries > 0)
		o->t_mtu.tries = su->mtu_tries;
	if (su->key_file != NULL) {
		free(su->key);
		if ((su->key = scan_read_key_file(su->key_file, e)) == NULL)
			return -1;
	}
	if (su->key == NULL && o->method == 0)
		su->key = xstrdup("");
	if (su->key != NULL) {
		cfg_fingerprint(
		    su->key, strlen(su->key), su->key_fp, sizeof su->key_fp);
		o->key = su->key;
		o->keylen = strlen(su->key);
	} else
		snprintf(su->key_fp, sizeof su->key_fp, "none");
	return 0;
}

void
scan_setup_free(struct scan_setup *su)
{
	size_t i;

	if (su->key != NULL) {
		memset(su->key, 0, strlen(su->key));
		free(su->key);
		su->key = NULL;
	}
	for (i = 0; i < SCAN_MAX_DOMAINS; i++) {
		free(su->dom_store[i]);
		su->dom_store[i] = NULL;
	}
	free(su->resolvers_path);
	su->resolvers_path = NULL;
}

struct blocking {
	struct ev_loop *loop;
	void (*user_done)(void *);
	void *user_arg;
};

static void
blocking_done(void *arg)
{
	struct blocking *b = arg;

	ev_stop(b->loop);
}

int
scan_run_blocking(
    struct scan_opts *o, const union net_addr *addrs, size_t n, struct err *e)
{
	struct ev_loop *loop;
	struct scan *s;
	struct scan_opts so = *o;
	struct blocking b;
	size_t i;
	int rc = -1;

	if ((loop = ev_loop_new(e)) == NULL)
		return -1;
	b.loop = loop;
	so.on_done = blocking_done;
	/* The user's arg stays for the other callbacks; on_done gets b. */
	if ((s = scan_new(loop, &so, e)) == NULL)
		goto out;
	for (i = 0; i < n; i++)
		scan_add(s, &addrs[i]);
	scan_set_done_arg(s, &b);
	if (scan_start(s, 0, e) == -1)
		goto out;
	if (ev_run(loop) == -1) {
		err_set(e, "event loop failed");
		goto out;
	}
	rc = 0;
	if (o->on_done != NULL)
		o->on_done(o->arg);
out:
	scan_free(s);
	ev_loop_free(loop);
	return rc;
}

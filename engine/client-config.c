/*
 * client-config.c — upstream client defaults, the reader for the keys of
 * client_config.toml the engine uses (unknown keys are ignored, as
 * upstream does), and client_resolvers.txt through common/resolvers.
 * Our own key: MDNS_MAX_INFLIGHT (queries kept outstanding, default 32).
 * A JSON profile (common/profile) can supply domains, resolvers, method
 * and key on top of (or instead of) the TOML file.
 */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/profile.h"
#include "common/resolvers.h"
#include "common/toml.h"
#include "engine/client.h"

void
eng_client_cfg_defaults(struct eng_client_cfg *c)
{
	memset(c, 0, sizeof *c);
	c->method = 1;
	c->listen_port = 18000;
	c->comp_min = 100;
	c->min_up_mtu = 38;
	c->max_up_mtu = 150;
	c->min_down_mtu = 100;
	c->max_down_mtu = 500;
	c->mtu_retries = 2;
	c->mtu_timeout_s = 2.0;
	c->max_batch = 8;
	c->arq_window = 600;
	c->arq_rto_s = 1.0;
	c->arq_max_rto_s = 5.0;
	c->arq_ctl_rto_s = 0.5;
	c->arq_ctl_max_rto_s = 3.0;
	c->arq_max_ctl_retries = 400;
	c->arq_max_data_retries = 1200;
	c->arq_data_ttl_s = 2400.0;
	c->arq_ctl_ttl_s = 1200.0;
	c->arq_nack_gap = 16;
	c->arq_nack_delay_s = 0.1;
	c->arq_nack_repeat_s = 1.0;
	c->ping_aggr_s = 0.1;
	c->ping_lazy_s = 0.75;
	c->ping_cool_s = 2.0;
	c->ping_cold_s = 15.0;
	c->ping_warm_thr_s = 8.0;
	c->ping_cool_thr_s = 20.0;
	c->ping_cold_thr_s = 30.0;
	c->init_retry_base_s = 1.0;
	c->init_busy_retry_s = 60.0;
	c->max_inflight = 32;
	c->strategy = 2;
	c->dup = 2;
	c->setup_dup = 2;
	c->failover_resends = 2;
	c->failover_cooldown_s = 2.5;
	c->auto_disable = 1;
	c->disable_window_s = 30.0;
	c->packet_timeout_s = 10.0;
	c->mtu_parallelism = 16;
	c->recheck = 1;
	c->remove_low_mtu = 1;
	c->ready_min = 3;
	c->ready_wait_s = 6.0;
	c->start_parallelism = 256;
}

void
eng_client_cfg_free(struct eng_client_cfg *c)
{
	size_t i;

	for (i = 0; i < c->ndomains; i++)
		free(c->domains[i]);
	free(c->key);
	free(c->listen_ip);
	free(c->socks_user);
	free(c->socks_pass);
	free(c->resolvers);
	memset(c, 0, sizeof *c);
}

int
eng_client_cfg_load(struct eng_client_cfg *c, const char *path, struct err *e)
{
	struct toml_doc *d;
	const struct toml_value *v;
	double port = c->listen_port;
	size_t i;
	int rc = -1;

	if (toml_parse_file(path, &d, e) == -1)
		return -1;
	if ((v = toml_get(d, "DOMAINS")) != NULL) {
		if (v->type != TOML_ARRAY || v->nitems == 0 ||
		    v->nitems > ENG_CLI_MAX_DOMAINS) {
			err_set(e,
			    "%s:%d: DOMAINS must be a list of 1..%d "
			    "names",
			    path, v->line, ENG_CLI_MAX_DOMAINS);
			goto out;
		}
		for (i = 0; i < c->ndomains; i++)
			free(c->domains[i]);
		c->ndomains = 0;
		for (i = 0; i < v->nitems; i++) {
			if (v->items[i].type != TOML_STRING ||
			    v->items[i].len == 0) {
				err_set(e,
				    "%s:%d: DOMAINS entries must be "
				    "names",
				    path, v->line);
				goto out;
			}
			c->domains[c->ndomains++] = xstrdup(v->items[i].str);
		}
	}
	if ((v = toml_get(d, "PROTOCOL_TYPE")) != NULL) {
		if (v->type != TOML_STRING ||
		    (strcmp(v->str, "SOCKS5") != 0 &&
			strcmp(v->str, "TCP") != 0)) {
			err_set(e,
			    "%s:%d: PROTOCOL_TYPE must be \"SOCKS5\" or "
			    "\"TCP\"",
			    path, v->line);
			goto out;
		}
		c->protocol_tcp = strcmp(v->str, "TCP") == 0;
	}
	if (toml_get_int(d, "DATA_ENCRYPTION_METHOD", 0, 5, &c->method, e) ==
		-1 ||
	    toml_get_str(d, "ENCRYPTION_KEY", &c->key, e) == -1 ||
	    toml_get_str(d, "LISTEN_IP", &c->listen_ip, e) == -1 ||
	    toml_get_num(d, "LISTEN_PORT", 0, 65535, &port, e) == -1 ||
	    toml_get_bool(d, "SOCKS5_AUTH", &c->socks_auth, e) == -1 ||
	    toml_get_str(d, "SOCKS5_USER", &c->socks_user, e) == -1 ||
	    toml_get_str(d, "SOCKS5_PASS", &c->socks_pass, e) == -1 ||
	    toml_get_bool(d, "BASE_ENCODE_DATA", &c->base64, e) == -1 ||
	    toml_get_int(d, "UPLOAD_COMPRESSION_TYPE", 0, 3, &c->up_comp, e) ==
		-1 ||
	    toml_get_int(
		d, "DOWNLOAD_COMPRESSION_TYPE", 0, 3, &c->down_comp, e) == -1 ||
	    toml_get_uint(
		d, "COMPRESSION_MIN_SIZE", 0, 65535, &c->comp_min, e) == -1 ||
	    toml_get_uint(d, "MIN_UPLOAD_MTU", 0, 4096, &c->min_up_mtu, e) ==
		-1 ||
	    toml_get_uint(d, "MAX_UPLOAD_MTU", 0, 4096, &c->max_up_mtu, e) ==
		-1 ||
	    toml_get_uint(
		d, "MIN_DOWNLOAD_MTU", 0, 65535, &c->min_down_mtu, e) == -1 ||
	    toml_get_uint(
		d, "MAX_DOWNLOAD_MTU", 0, 65535, &c->max_down_mtu, e) == -1 ||
	    toml_get_uint(d, "MTU_TEST_RETRIES", 1, 100, &c->mtu_retries, e) ==
		-1 ||
	    toml_get_num(
		d, "MTU_TEST_TIMEOUT", 0.05, 600, &c->mtu_timeout_s, e) == -1 ||
	    toml_get_uint(
		d, "MAX_PACKETS_PER_BATCH", 1, 255, &c->max_batch, e) == -1 ||
	    toml_get_uint(d, "ARQ_WINDOW_SIZE", 1, 65535, &c->arq_window, e) ==
		-1 ||
	    toml_get_num(d, "ARQ_INITIAL_RTO_SECONDS", 0.01, 600, &c->arq_rto_s,
		e) == -1 ||
	    toml_get_num(d, "ARQ_MAX_RTO_SECONDS", 0.01, 600, &c->arq_max_rto_s,
		e) == -1 ||
	    toml_get_num(d, "ARQ_CONTROL_INITIAL_RTO_SECONDS", 0.01, 600,
		&c->arq_ctl_rto_s, e) == -1 ||
	    toml_get_num(d, "ARQ_CONTROL_MAX_RTO_SECONDS", 0.01, 600,
		&c->arq_ctl_max_rto_s, e) == -1 ||
	    toml_get_uint(d, "ARQ_MAX_CONTROL_RETRIES", 1, 1e6,
		&c->arq_max_ctl_retries, e) == -1 ||
	    toml_get_uint(d, "ARQ_MAX_DATA_RETRIES", 1, 1e6,
		&c->arq_max_data_retries, e) == -1 ||
	    toml_get_num(d, "ARQ_DATA_PACKET_TTL_SECONDS", 1, 1e6,
		&c->arq_data_ttl_s, e) == -1 ||
	    toml_get_num(d, "ARQ_CONTROL_PACKET_TTL_SECONDS", 1, 1e6,
		&c->arq_ctl_ttl_s, e) == -1 ||
	    toml_get_uint(d, "ARQ_DATA_NACK_MAX_GAP", 0, 65535,
		&c->arq_nack_gap, e) == -1 ||
	    toml_get_num(d, "ARQ_DATA_NACK_INITIAL_DELAY_SECONDS", 0, 600,
		&c->arq_nack_delay_s, e) == -1 ||
	    toml_get_num(d, "ARQ_DATA_NACK_REPEAT_SECONDS", 0, 600,
		&c->arq_nack_repeat_s, e) == -1 ||
	    toml_get_num(d, "PING_AGGRESSIVE_INTERVAL_SECONDS", 0.001, 600,
		&c->ping_aggr_s, e) == -1 ||
	    toml_get_num(d, "PING_LAZY_INTERVAL_SECONDS", 0.001, 600,
		&c->ping_lazy_s, e) == -1 ||
	    toml_get_num(d, "PING_COOLDOWN_INTERVAL_SECONDS", 0.001, 600,
		&c->ping_cool_s, e) == -1 ||
	    toml_get_num(d, "PING_COLD_INTERVAL_SECONDS", 0.001, 3600,
		&c->ping_cold_s, e) == -1 ||
	    toml_get_num(d, "PING_WARM_THRESHOLD_SECONDS", 0, 3600,
		&c->ping_warm_thr_s, e) == -1 ||
	    toml_get_num(d, "PING_COOL_THRESHOLD_SECONDS", 0, 3600,
		&c->ping_cool_thr_s, e) == -1 ||
	    toml_get_num(d, "PING_COLD_THRESHOLD_SECONDS", 0, 3600,
		&c->ping_cold_thr_s, e) == -1 ||
	    toml_get_num(d, "SESSION_INIT_RETRY_BASE_SECONDS", 0.01, 600,
		&c->init_retry_base_s, e) == -1 ||
	    toml_get_num(d, "SESSION_INIT_BUSY_RETRY_INTERVAL_SECONDS", 0.01,
		3600, &c->init_busy_retry_s, e) == -1 ||
	    toml_get_uint(
		d, "MDNS_MAX_INFLIGHT", 1, 1024, &c->max_inflight, e) == -1 ||
	    toml_get_int(d, "RESOLVER_BALANCING_STRATEGY", 0, 8, &c->strategy,
		e) == -1 ||
	    toml_get_uint(d, "PACKET_DUPLICATION_COUNT", 1, 16, &c->dup, e) ==
		-1 ||
	    toml_get_uint(d, "SETUP_PACKET_DUPLICATION_COUNT", 1, 16,
		&c->setup_dup, e) == -1 ||
	    toml_get_uint(d, "STREAM_RESOLVER_FAILOVER_RESEND_THRESHOLD", 1,
		1000, &c->failover_resends, e) == -1 ||
	    toml_get_num(d, "STREAM_RESOLVER_FAILOVER_COOLDOWN", 0, 3600,
		&c->failover_cooldown_s, e) == -1 ||
	    toml_get_bool(
		d, "AUTO_DISABLE_TIMEOUT_SERVERS", &c->auto_disable, e) == -1 ||
	    toml_get_num(d, "AUTO_DISABLE_TIMEOUT_WINDOW_SECONDS", 0.5, 86400,
		&c->disable_window_s, e) == -1 ||
	    toml_get_num(d, "TUNNEL_PACKET_TIMEOUT_SECONDS", 0.1, 600,
		&c->packet_timeout_s, e) == -1 ||
	    toml_get_uint(d, "MTU_TEST_PARALLELISM", 1, 4096,
		&c->mtu_parallelism, e) == -1 ||
	    toml_get_bool(
		d, "RECHECK_INACTIVE_SERVERS_ENABLED", &c->recheck, e) == -1 ||
	    toml_get_bool(d, "AUTO_REMOVE_LOW_MTU_SERVERS", &c->remove_low_mtu,
		e) == -1 ||
	    toml_get_uint(d, "MDNS_READY_MIN", 0, 1e6, &c->ready_min, e) ==
		-1 ||
	    toml_get_num(d, "MDNS_READY_WAIT_SECONDS", 0, 3600,
		&c->ready_wait_s, e) == -1 ||
	    toml_get_uint(d, "MDNS_START_PARALLELISM", 1, 4096,
		&c->start_parallelism, e) == -1)
		goto out;
	c->listen_port = (uint16_t)port;
	if (c->ndomains == 0) {
		err_set(e, "%s: DOMAINS is missing", path);
		goto out;
	}
	if (c->method != 0 && (c->key == NULL || c->key[0] == '\0')) {
		err_set(e, "%s: ENCRYPTION_KEY is empty", path);
		goto out;
	}
	rc = 0;
out:
	toml_free(d);
	return rc;
}

int
eng_client_cfg_resolvers(
    struct eng_client_cfg *c, const char *path, struct err *e)
{
	struct rl_reader *r;
	union net_addr a;
	int rc;

	if (rl_open(path, NULL, &r, e) == -1)
		return -1;
	while ((rc = rl_next(r, &a, e)) == 1) {
		c->resolvers = xreallocarray(
		    c->resolvers, c->nresolvers + 1, sizeof *c->resolvers);
		c->resolvers[c->nresolvers++] = a;
	}
	rl_close(r);
	if (rc == -1)
		return -1;
	if (c->nresolvers == 0)
		return err_set(e, "%s: no resolvers", path);
	return 0;
}

int
eng_client_cfg_profile(
    struct eng_client_cfg *c, const char *path, struct err *e)
{
	struct profile *p;
	char buf[256], *kp, *dup, *dir;
	FILE *f;
	size_t i, n;

	if (prof_load_file(path, &p, e) == -1)
		return -1;
	if (p->ndomains > ENG_CLI_MAX_DOMAINS) {
		prof_free(p);
		return err_set(
		    e, "%s: more than %d domains", path, ENG_CLI_MAX_DOMAINS);
	}
	if (p->ndomains > 0) {
		for (i = 0; i < c->ndomains; i++)
			free(c->domains[i]);
		for (i = 0; i < p->ndomains; i++)
			c->domains[i] = xstrdup(p->domains[i]);
		c->ndomains = p->ndomains;
	}
	for (i = 0; i < p->nresolvers; i++) {
		c->resolvers = xreallocarray(
		    c->resolvers, c->nresolvers + 1, sizeof *c->resolvers);
		c->resolvers[c->nresolvers++] = p->resolvers[i].addr;
	}
	if (p->method >= 0)
		c->method = p->method;
	if (p->key != NULL) {
		free(c->key);
		c->key = xstrdup(p->key);
	} else if (p->key_file != NULL) {
		if (p->key_file[0] == '/')
			kp = xstrdup(p->key_file);
		else {
			dup = xstrdup(path);
			dir = dirname(dup);
			kp = xasprintf("%s/%s", dir, p->key_file);
			free(dup);
		}
		f = fopen(kp, "r");
		if (f == NULL) {
			err_set(e, "%s: cannot read key file %s", path, kp);
			free(kp);
			prof_free(p);
			return -1;
		}
		n = fread(buf, 1, sizeof buf - 1, f);
		fclose(f);
		buf[n] = '\0';
		free(c->key);
		c->key = xstrdup(str_trim(buf));
		free(kp);
	}
	prof_free(p);
	if (c->ndomains == 0)
		return err_set(e, "%s: no domains", path);
	return 0;
}

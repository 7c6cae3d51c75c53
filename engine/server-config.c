/*
 * server-config.c — upstream server defaults and the reader for the keys
 * of server_config.toml the engine uses, plus our own MDNS_ALLOW_TARGETS
 * (a list of CIDRs the target filter lets through). Unknown keys are
 * ignored, as upstream ignores keys it does not read. The encryption key
 * file is read relative to the config file's directory and trimmed.
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/toml.h"
#include "engine/server.h"

void
eng_server_cfg_defaults(struct eng_server_cfg *c)
{
	memset(c, 0, sizeof *c);
	c->up_comp_mask = 0xf;
	c->down_comp_mask = 0xf;
	c->udp_port = 53;
	c->method = 1;
	c->invalid_cookie_window_s = 2.0;
	c->invalid_cookie_threshold = 10;
	c->session_timeout_s = 300.0;
	c->session_cleanup_s = 30.0;
	c->closed_retention_s = 600.0;
	c->init_reuse_s = 600.0;
	c->recently_closed_stream_s = 600.0;
	c->socks_connect_timeout_s = 120.0;
	c->max_packets_per_batch = 5;
	c->packed_dup = 1;
	c->arq_window = 800;
	c->arq_rto_s = 1.0;
	c->arq_max_rto_s = 5.0;
	c->arq_ctl_rto_s = 0.5;
	c->arq_ctl_max_rto_s = 3.0;
	c->arq_max_ctl_retries = 400;
	c->arq_max_data_retries = 1200;
	c->arq_data_ttl_s = 2400.0;
	c->arq_ctl_ttl_s = 1200.0;
	c->arq_nack_gap = 16;
	c->arq_nack_delay_s = 0.3;
	c->arq_nack_repeat_s = 1.0;
	c->max_sessions = 255;
	c->max_streams = 2000;
	c->pol_dup = 5;
	c->pol_setup_dup = 6;
	c->pol_up_mtu = 150;
	c->pol_down_mtu = 4096;
	c->pol_workers = 255;
	c->pol_batch = 20;
	c->pol_window = 8000;
	c->pol_nack_gap = 255;
	c->pol_comp_min = 120;
	c->pol_ping_s = 0.05;
	c->pol_rto_s = 0.05;
}

void
eng_server_cfg_free(struct eng_server_cfg *c)
{
	size_t i;

	for (i = 0; i < c->ndomains; i++)
		free(c->domains[i]);
	for (i = 0; i < c->nallow; i++)
		free(c->allow[i]);
	free(c->allow);
	free(c->udp_host);
	free(c->key);
	free(c->key_file);
	free(c->forward_ip);
	memset(c, 0, sizeof *c);
}

static int
mask(const struct toml_doc *d, const char *k, unsigned *out, struct err *e)
{
	const struct toml_value *v = toml_get(d, k);
	size_t i;

	if (v == NULL)
		return 0;
	if (v->type != TOML_ARRAY)
		return err_set(
		    e, "%s:%d: %s must be an array", toml_name(d), v->line, k);
	*out = 1; /* "off" is always allowed */
	for (i = 0; i < v->nitems; i++) {
		if (v->items[i].type != TOML_INT || v->items[i].i64 < 0 ||
		    v->items[i].i64 > 3)
			return err_set(e, "%s:%d: %s: types are 0..3",
			    toml_name(d), v->line, k);
		*out |= 1u << v->items[i].i64;
	}
	return 0;
}

static int
read_key(struct eng_server_cfg *c, const char *cfgpath, struct err *e)
{
	char *dup, *dir, *path, buf[256];
	FILE *f;
	size_t n;

	if (c->key_file == NULL)
		c->key_file = xstrdup("encrypt_key.txt");
	if (c->key_file[0] == '/')
		path = xstrdup(c->key_file);
	else {
		dup = xstrdup(cfgpath);
		dir = dirname(dup);
		path = xasprintf("%s/%s", dir, c->key_file);
		free(dup);
	}
	if ((f = fopen(path, "r")) == NULL) {
		err_set(e, "%s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	str_trim(buf);
	if (buf[0] == '\0') {
		err_set(e, "%s: empty key file", path);
		free(path);
		return -1;
	}
	free(path);
	free(c->key);
	c->key = xstrdup(buf);
	return 0;
}

int
eng_server_cfg_load(struct eng_server_cfg *c, const char *path, struct err *e)
{
	struct toml_doc *d;
	const struct toml_value *v;
	double x;
	size_t i;
	int rc = -1;

	if (toml_parse_file(path, &d, e) == -1)
		return -1;
	if ((v = toml_get(d, "DOMAIN")) != NULL) {
		if (v->type != TOML_ARRAY || v->nitems == 0 ||
		    v->nitems > ENG_SRV_MAX_DOMAINS) {
			err_set(e,
			    "%s:%d: DOMAIN must be a list of 1..%d names", path,
			    v->line, ENG_SRV_MAX_DOMAINS);
			goto out;
		}
		for (i = 0; i < c->ndomains; i++)
			free(c->domains[i]);
		c->ndomains = 0;
		for (i = 0; i < v->nitems; i++) {
			char *dn;

			if (v->items[i].type != TOML_STRING ||
			    v->items[i].len == 0) {
				err_set(e,
				    "%s:%d: DOMAIN entries must be names", path,
				    v->line);
				goto out;
			}
			dn = xstrdup(v->items[i].str);
			for (char *p = dn; *p; p++)
				if (*p >= 'A' && *p <= 'Z')
					*p = (char)(*p - 'A' + 'a');
			if (dn[strlen(dn) - 1] == '.')
				dn[strlen(dn) - 1] = '\0';
			c->domains[c->ndomains++] = dn;
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
	if ((v = toml_get(d, "MDNS_ALLOW_TARGETS")) != NULL) {
		if (v->type != TOML_ARRAY) {
			err_set(e, "%s:%d: MDNS_ALLOW_TARGETS must be a list",
			    path, v->line);
			goto out;
		}
		for (i = 0; i < v->nitems; i++) {
			if (v->items[i].type != TOML_STRING) {
				err_set(e,
				    "%s:%d: MDNS_ALLOW_TARGETS entries "
				    "must be strings",
				    path, v->line);
				goto out;
			}
			c->allow = xreallocarray(
			    c->allow, c->nallow + 1, sizeof *c->allow);
			c->allow[c->nallow++] = xstrdup(v->items[i].str);
		}
	}
	x = c->udp_port;
	if (mask(d, "SUPPORTED_UPLOAD_COMPRESSION_TYPES", &c->up_comp_mask,
		e) == -1 ||
	    mask(d, "SUPPORTED_DOWNLOAD_COMPRESSION_TYPES", &c->down_comp_mask,
		e) == -1 ||
	    toml_get_str(d, "UDP_HOST", &c->udp_host, e) == -1 ||
	    toml_get_num(d, "UDP_PORT", 0, 65535, &x, e) == -1)
		goto out;
	c->udp_port = (uint16_t)x;
	x = c->forward_port;
	if (toml_get_str(d, "FORWARD_IP", &c->forward_ip, e) == -1 ||
	    toml_get_num(d, "FORWARD_PORT", 0, 65535, &x, e) == -1)
		goto out;
	c->forward_port = (uint16_t)x;
	x = c->method;
	if (toml_get_num(d, "DATA_ENCRYPTION_METHOD", 0, 5, &x, e) == -1)
		goto out;
	c->method = (int)x;
	if (toml_get_str(d, "ENCRYPTION_KEY_FILE", &c->key_file, e) == -1 ||
	    toml_get_num(d, "INVALID_COOKIE_WINDOW_SECONDS", 0, 3600,
		&c->invalid_cookie_window_s, e) == -1 ||
	    toml_get_uint(d, "INVALID_COOKIE_ERROR_THRESHOLD", 0, 1000,
		&c->invalid_cookie_threshold, e) == -1 ||
	    toml_get_num(d, "SESSION_TIMEOUT_SECONDS", 1, 86400 * 7,
		&c->session_timeout_s, e) == -1 ||
	    toml_get_num(d, "SESSION_CLEANUP_INTERVAL_SECONDS", 0.1, 86400,
		&c->session_cleanup_s, e) == -1 ||
	    toml_get_num(d, "CLOSED_SESSION_RETENTION_SECONDS", 0, 86400 * 7,
		&c->closed_retention_s, e) == -1 ||
	    toml_get_num(d, "SESSION_INIT_REUSE_TTL_SECONDS", 0, 86400 * 7,
		&c->init_reuse_s, e) == -1 ||
	    toml_get_num(d, "RECENTLY_CLOSED_STREAM_TTL_SECONDS", 0, 86400 * 7,
		&c->recently_closed_stream_s, e) == -1 ||
	    toml_get_num(d, "SOCKS_CONNECT_TIMEOUT", 0.1, 3600,
		&c->socks_connect_timeout_s, e) == -1 ||
	    toml_get_uint(d, "MAX_PACKETS_PER_BATCH", 1, 255,
		&c->max_packets_per_batch, e) == -1 ||
	    toml_get_uint(d, "PACKET_BLOCK_CONTROL_DUPLICATION", 1, 16,
		&c->packed_dup, e) == -1 ||
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
	    toml_get_uint(d, "MAX_ALLOWED_CLIENT_ACTIVE_SESSION", 1, 255,
		&c->max_sessions, e) == -1 ||
	    toml_get_uint(d, "MAX_ALLOWED_CLIENT_ACTIVE_STREAMS_PER_SESSION", 1,
		65535, &c->max_streams, e) == -1 ||
	    toml_get_uint(d, "MAX_ALLOWED_CLIENT_PACKET_DUPLICATION_COUNT", 0,
		15, &c->pol_dup, e) == -1 ||
	    toml_get_uint(d,
		"MAX_ALLOWED_CLIENT_SETUP_PACKET_DUPLICATION_COUNT", 0, 15,
		&c->pol_setup_dup, e) == -1 ||
	    toml_get_uint(d, "MAX_ALLOWED_CLIENT_UPLOAD_MTU", 0, 255,
		&c->pol_up_mtu, e) == -1 ||
	    toml_get_uint(d, "MAX_ALLOWED_CLIENT_DOWNLOAD_MTU", 0, 65535,
		&c->pol_down_mtu, e) == -1 ||
	    toml_get_uint(d, "MAX_ALLOWED_CLIENT_RX_TX_WORKERS", 0, 255,
		&c->pol_workers, e) == -1 ||
	    toml_get_num(d,
		"MIN_ALLOWED_CLIENT_PING_AGGRESSIVE_INTERVAL_SECONDS", 0, 10,
		&c->pol_ping_s, e) == -1 ||
	    toml_get_uint(d, "MAX_ALLOWED_CLIENT_PACKETS_PER_BATCH", 0, 255,
		&c->pol_batch, e) == -1 ||
	    toml_get_uint(d, "MAX_ALLOWED_CLIENT_ARQ_WINDOW_SIZE", 0, 65535,
		&c->pol_window, e) == -1 ||
	    toml_get_uint(d, "MAX_ALLOWED_CLIENT_ARQ_DATA_NACK_MAX_GAP", 0, 255,
		&c->pol_nack_gap, e) == -1 ||
	    toml_get_uint(d, "MIN_ALLOWED_CLIENT_COMPRESSION_MIN_SIZE", 0,
		65535, &c->pol_comp_min, e) == -1 ||
	    toml_get_num(d, "MIN_ALLOWED_CLIENT_ARQ_INITIAL_RTO_SECONDS", 0, 10,
		&c->pol_rto_s, e) == -1)
		goto out;
	if (c->ndomains == 0) {
		err_set(e, "%s: DOMAIN is missing", path);
		goto out;
	}
	if (read_key(c, path, e) == -1)
		goto out;
	rc = 0;
out:
	toml_free(d);
	return rc;
}

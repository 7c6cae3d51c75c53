/* SPDX-License-Identifier: MIT */
/*
 * fuzz-config.c — the effective-configuration layer over hostile files:
 * bytes up to the first NUL are the TOML config, the rest (when present)
 * a JSON profile laid over it. Loading, validating, listing every item
 * with its fingerprint and the default resolver path must never crash or
 * leak, and every failure must come with a message; the method's finding
 * is a level with a line, or none. The config is handed
 * over as /proc/self/fd/N of a memfd, since cfg_load reads a path.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/config.h"
#include "common/profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	const uint8_t *nul = memchr(data, '\0', size);
	size_t tlen = nul != NULL ? (size_t)(nul - data) : size, i;
	struct profile *prof = NULL;
	struct cfg *c = NULL;
	struct cfg_item it;
	struct err e = {""};
	char fp[CFG_FP_LEN], *s;

	if (fd < 0) {
		if ((fd = memfd_create("fuzz-config", 0)) < 0)
			abort();
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) != 0 || pwrite(fd, data, tlen, 0) != (ssize_t)tlen)
		abort();
	if (nul != NULL &&
	    prof_load_buf("fuzz.json", (const char *)nul + 1, size - tlen - 1,
		&prof, &e) != 0) {
		if (e.msg[0] == '\0')
			abort();
		prof = NULL;
	}
	e.msg[0] = '\0';
	if (cfg_load(path, prof, NULL, &c, &e) != 0) {
		if (e.msg[0] == '\0' || c != NULL)
			abort();
		prof_free(prof);
		return 0;
	}
	if (cfg_validate(c, &e) != 0 && e.msg[0] == '\0')
		abort();
	for (i = 0; i < cfg_item_count(c); i++) {
		cfg_item_at(c, i, &it);
		if (it.key == NULL || it.value == NULL)
			abort();
		if (it.secret)
			cfg_item_fingerprint(&it, fp, sizeof fp);
	}
	for (i = 0; i < cfg_error_count(c); i++)
		if (cfg_error_at(c, i) == NULL || *cfg_error_at(c, i) == '\0')
			abort();
	for (i = 0; i < cfg_warning_count(c); i++)
		if (cfg_warning_at(c, i) == NULL)
			abort();
	if (c->client.key != NULL && strcmp(c->client.key_fp, "") == 0)
		abort();
	if (c->server.key != NULL && strcmp(c->server.key_fp, "") == 0)
		abort();
	/* The method's finding and the per-key problems (ip's keys). */
	{
		char line[512];
		int lvl = cfg_method_finding(c, line, sizeof line);

		if (lvl != EXIT_OK && lvl != EXIT_WARNING &&
		    lvl != EXIT_CRITICAL)
			abort();
		if ((lvl == EXIT_OK) != (line[0] == '\0'))
			abort();
		(void)cfg_key_problem(c, "MDNS_IP_ECHO_V4");
		(void)cfg_key_problem(c, "MDNS_EXPECTED_EXIT_IP");
		for (i = 0; i < c->client.nexpected_exit; i++)
			if (c->client.expected_exit[i] == NULL)
				abort();
	}
	/* The effective values and the copies walk the key tables. */
	json_decref(cfg_effective_json(c));
	if (c->role == CFG_CLIENT) {
		struct cfg_client cc;

		cfg_client_copy(&cc, &c->client);
		json_decref(cfg_client_effective_json(&cc));
		cfg_client_clear(&cc);
	} else {
		struct cfg_server sc;

		cfg_server_copy(&sc, &c->server);
		json_decref(cfg_server_effective_json(&sc));
		cfg_server_clear(&sc);
	}
	if (c->role == CFG_CLIENT) {
		s = cfg_default_resolvers_path(c);
		free(s);
	}
	cfg_free(c);
	prof_free(prof);
	return 0;
}

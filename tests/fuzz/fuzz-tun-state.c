/* SPDX-License-Identifier: MIT */
/*
 * fuzz-tun-state.c — the reader of full-VPN mode's state file
 * (tun_sys_parse_state in engine/tun-sys.c), which `connect --tun
 * --cleanup` trusts to say which routes to delete and which resolver file
 * to put back. Invariants: a parsed file names only routes of a known
 * family with a prefix length inside it and a non-empty interface name,
 * a resolver file by absolute path, and a symlink with its target.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/tun-int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tun_sys_state st;
	struct err e;
	char *text = malloc(size + 1);
	size_t i;

	memcpy(text, data, size);
	text[size] = '\0';
	if (tun_sys_parse_state("state", text, &st, &e) == 0) {
		for (i = 0; i < st.nr; i++) {
			const struct nl_route_spec *r = &st.r[i].spec;

			if ((r->family != AF_INET && r->family != AF_INET6) ||
			    r->dst_len < 0 ||
			    r->dst_len > (r->family == AF_INET ? 32 : 128) ||
			    st.r[i].ifname[0] == '\0')
				abort();
		}
		if (st.res_kind != TUN_RES_NONE && st.resolv[0] != '/')
			abort();
		if (st.res_kind == TUN_RES_SYMLINK && st.link[0] == '\0')
			abort();
		free(st.r);
	} else if (st.r != NULL)
		abort();
	free(text);
	return 0;
}

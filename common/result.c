/* SPDX-License-Identifier: MIT */
/*
 * result.c — names, texts and initialisers of the shared result model
 * (result.h). It holds no state and does no I/O; formatting the model for
 * people or machines is the job of reports/sink.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/result.h"
#include "common/util.h"

static const char *const stage_names[RES_STAGE_COUNT] = {
    [RES_STAGE_NONE] = "none",
    [RES_STAGE_ENV] = "env",
    [RES_STAGE_LIVENESS] = "liveness",
    [RES_STAGE_REACH] = "reach",
    [RES_STAGE_MTU] = "mtu",
    [RES_STAGE_HANDSHAKE] = "handshake",
    [RES_STAGE_BURST] = "burst",
};

static const char *const verdict_names[RES_VERDICT_COUNT] = {
    [RES_VERDICT_OK] = "ok",
    [RES_VERDICT_WARN] = "warn",
    [RES_VERDICT_FAIL] = "fail",
    [RES_VERDICT_UNKNOWN] = "unknown",
    [RES_VERDICT_DEGRADED] = "degraded",
};

static const char *const kind_names[RES_CHECK_COUNT] = {
    [RES_CHECK_IP] = "ip",
    [RES_CHECK_LEAK] = "leak",
    [RES_CHECK_HANDSHAKE] = "handshake",
    [RES_CHECK_ROUTE] = "route",
    [RES_CHECK_INTERCEPT] = "intercept",
    [RES_CHECK_SERVER] = "server",
    [RES_CHECK_SECURITY] = "security",
    [RES_CHECK_ENGINE] = "engine",
    [RES_CHECK_SCAN] = "scan",
    [RES_CHECK_FRESH] = "fresh",
};

static const struct {
	const char *name;
	const char *text;
} reasons[RES_R_COUNT] = {
    [RES_R_OK] = {"ok", "passed"},
    [RES_R_TIMEOUT] = {"timeout", "no answer before the timeout"},
    [RES_R_NXDOMAIN] = {"nxdomain",
	"NXDOMAIN for a name the tunnel server answers"},
    [RES_R_SERVFAIL] = {"servfail", "resolver answered SERVFAIL"},
    [RES_R_REFUSED] = {"refused", "resolver answered REFUSED"},
    [RES_R_FORMERR] = {"formerr", "resolver answered FORMERR"},
    [RES_R_RCODE_OTHER] = {"rcode_other",
	"resolver answered an unexpected RCODE"},
    [RES_R_HIJACK] = {"hijack",
	"forged answer (data the tunnel server never sends)"},
    [RES_R_WRONG_SOURCE] = {"wrong_source",
	"answer came from a different address than asked"},
    [RES_R_WRONG_ID] = {"wrong_id", "answer carries a different DNS ID"},
    [RES_R_WRONG_QUESTION] = {"wrong_question",
	"answer echoes a different question"},
    [RES_R_MALFORMED] = {"malformed", "answer could not be parsed"},
    [RES_R_TRUNCATED] = {"truncated",
	"answer truncated (TC=1) where a full one was needed"},
    [RES_R_INTERCEPTED] = {"intercepted", "UDP/53 is intercepted on the path"},
    [RES_R_NO_DELEGATION] = {"no_delegation",
	"NS delegation of the tunnel domain is broken"},
    [RES_R_SERVER_DOWN] = {"server_down",
	"tunnel server does not answer directly"},
    [RES_R_NET_ERROR] = {"net_error", "local network error"},
    [RES_R_KEY_OR_METHOD] = {"key_or_method_wrong",
	"server cannot decrypt: wrong key or encryption method"},
    [RES_R_UPLOAD_MTU] = {"upload_mtu", "upload MTU below the usable minimum"},
    [RES_R_DOWNLOAD_MTU] = {"download_mtu",
	"download MTU below the usable minimum"},
    [RES_R_NAME_CUT] = {"name_cut", "long query names are cut off"},
    [RES_R_HANDSHAKE_FAILED] = {"handshake_failed", "no valid SESSION_ACCEPT"},
    [RES_R_BUSY] = {"busy", "server session table is full"},
    [RES_R_PING_FAILED] = {"ping_failed",
	"session opened but PING got no PONG"},
    [RES_R_ERROR_DROP] = {"error_drop", "server answered ERROR_DROP"},
    [RES_R_BURST_LOSS] = {"burst_loss",
	"too many queries lost under sustained load"},
    [RES_R_RATE_LIMITED] = {"rate_limited",
	"resolver rate-limits the query stream"},
    [RES_R_ROUTED_IN_TUNNEL] = {"routed_in_tunnel",
	"resolver address is routed into the tunnel itself"},
    [RES_R_EXIT_IP_MISMATCH] = {"exit_ip_mismatch",
	"tunnel exit IP differs from the expected one"},
    [RES_R_NOT_TUNNELLED] = {"not_tunnelled",
	"traffic leaves with the direct IP, not through the tunnel"},
    [RES_R_LEAK] = {"leak", "DNS queries seen outside the tunnel"},
    [RES_R_FETCH_FAILED] = {"fetch_failed",
	"test endpoint could not be reached"},
    [RES_R_SKIPPED] = {"skipped", "not tested"},
    [RES_R_INTERNAL] = {"internal", "internal error"},
    [RES_R_NO_SIGNATURE] = {"no_signature",
	"empty answer that is not the tunnel server's signature"},
    [RES_R_NO_BASELINE] = {"no_baseline",
	"nothing to compare with (no expected value or baseline)"},
    [RES_R_DISAGREE] = {"disagree",
	"independent services gave different answers"},
    [RES_R_NO_ROUTE] = {"no_route", "the kernel has no usable route"},
    [RES_R_LOSS] = {"loss",
	"passed, but lost more probes than the threshold allows"},
    [RES_R_WEAK_METHOD] = {"weak_method",
	"the encryption method leaves the tunnel readable or forgeable"},
    [RES_R_NO_ENGINE] = {"no_engine",
	"no engine answers on its control socket"},
    [RES_R_NOT_LIVE] = {"not_live",
	"the engine runs but its tunnel is not connected"},
    [RES_R_THRESHOLD] = {"threshold", "a measured value crossed its threshold"},
    [RES_R_STALE] = {"stale", "the last-known-good list is too old"},
    [RES_R_DEADLINE] = {"deadline",
	"the check's deadline ended it before a verdict"},
};

#define POLICY_FIELD(f)                                                        \
	{                                                                      \
#f, offsetof(struct res_policy, f)                             \
	}
static const struct {
	const char *name;
	size_t off;
} policy_fields[RES_POLICY_NFIELDS] = {
    POLICY_FIELD(comp_pair),
    POLICY_FIELD(max_dup),
    POLICY_FIELD(max_setup_dup),
    POLICY_FIELD(max_upload_mtu),
    POLICY_FIELD(max_download_mtu),
    POLICY_FIELD(max_workers),
    POLICY_FIELD(min_ping_ms),
    POLICY_FIELD(max_batch),
    POLICY_FIELD(max_arq_window),
    POLICY_FIELD(max_nack_gap),
    POLICY_FIELD(min_comp_size),
    POLICY_FIELD(min_rto_ms),
};
#undef POLICY_FIELD

const char *
res_policy_field_name(size_t i)
{
	return i < RES_POLICY_NFIELDS ? policy_fields[i].name : "invalid";
}

int
res_policy_get(const struct res_policy *p, size_t i)
{
	int v;

	memcpy(&v, (const char *)p + policy_fields[i].off, sizeof v);
	return v;
}

void
res_policy_set(struct res_policy *p, size_t i, int v)
{
	memcpy((char *)p + policy_fields[i].off, &v, sizeof v);
}

void
res_policy_init(struct res_policy *p)
{
	size_t i;

	p->present = 0;
	for (i = 0; i < RES_POLICY_NFIELDS; i++)
		res_policy_set(p, i, -1);
}

void
res_resolver_init(struct res_resolver *r)
{
	memset(r, 0, sizeof *r);
	r->port = 53;
	r->stage = RES_STAGE_NONE;
	r->verdict = RES_VERDICT_FAIL;
	r->reason = RES_R_SKIPPED;
	r->rtt_us = -1;
	r->upload_mtu = -1;
	r->download_mtu = -1;
	r->shape.longest_name = -1;
	r->shape.max_labels = -1;
	r->shape.case_preserved = RES_TRI_UNKNOWN;
	r->shape.max_answer_bytes = -1;
	r->shape.edns_size = -1;
	r->shape.tc_seen = RES_TRI_UNKNOWN;
	r->shape.tcp_ok = RES_TRI_UNKNOWN;
	r->probes = -1;
	r->lost = -1;
	r->up_at_ceiling = RES_TRI_UNKNOWN;
	r->down_at_ceiling = RES_TRI_UNKNOWN;
	res_policy_init(&r->policy);
	r->burst_sent = 0;
	r->burst_ok = 0;
	r->burst_qps = -1;
}

void
res_run_init(struct res_run *run)
{
	memset(run, 0, sizeof *run);
}

void
res_check_init(struct res_check *c)
{
	memset(c, 0, sizeof *c);
	c->verdict = RES_VERDICT_UNKNOWN;
	c->reason = RES_R_SKIPPED;
}

const char *
res_stage_name(enum res_stage s)
{
	if ((unsigned)s >= RES_STAGE_COUNT)
		return "invalid";
	return stage_names[s];
}

const char *
res_verdict_name(enum res_verdict v)
{
	if ((unsigned)v >= RES_VERDICT_COUNT)
		return "invalid";
	return verdict_names[v];
}

const char *
res_reason_name(enum res_reason r)
{
	if ((unsigned)r >= RES_R_COUNT)
		return "invalid";
	return reasons[r].name;
}

const char *
res_reason_text(enum res_reason r)
{
	if ((unsigned)r >= RES_R_COUNT)
		return "invalid";
	return reasons[r].text;
}

const char *
res_check_kind_name(enum res_check_kind k)
{
	if ((unsigned)k >= RES_CHECK_COUNT)
		return "invalid";
	return kind_names[k];
}

const char *
res_tri_name(enum res_tri t)
{
	switch (t) {
	case RES_TRI_YES:
		return "yes";
	case RES_TRI_NO:
		return "no";
	default:
		return "unknown";
	}
}

static int
lookup(const char *const *names, int n, const char *name)
{
	int i;

	if (name == NULL)
		return -1;
	for (i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}

int
res_stage_from_name(const char *name, enum res_stage *out)
{
	int i = lookup(stage_names, RES_STAGE_COUNT, name);

	if (i < 0)
		return -1;
	*out = (enum res_stage)i;
	return 0;
}

int
res_verdict_from_name(const char *name, enum res_verdict *out)
{
	int i = lookup(verdict_names, RES_VERDICT_COUNT, name);

	if (i < 0)
		return -1;
	*out = (enum res_verdict)i;
	return 0;
}

int
res_check_kind_from_name(const char *name, enum res_check_kind *out)
{
	int i = lookup(kind_names, RES_CHECK_COUNT, name);

	if (i < 0)
		return -1;
	*out = (enum res_check_kind)i;
	return 0;
}

int
res_reason_from_name(const char *name, enum res_reason *out)
{
	int i;

	if (name == NULL)
		return -1;
	for (i = 0; i < RES_R_COUNT; i++) {
		if (strcmp(reasons[i].name, name) == 0) {
			*out = (enum res_reason)i;
			return 0;
		}
	}
	return -1;
}

void
res_textf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

double
res_burst_rate(const struct res_resolver *r)
{
	if (r->burst_sent <= 0)
		return -1;
	return (double)r->burst_ok / (double)r->burst_sent;
}

double
res_loss_rate(const struct res_resolver *r)
{
	if (r->probes <= 0 || r->lost < 0)
		return -1;
	return (double)r->lost / (double)r->probes;
}

int
res_passed(const struct res_resolver *r)
{
	return r->verdict == RES_VERDICT_OK ||
	    r->verdict == RES_VERDICT_DEGRADED;
}

int
res_verdict_exit(enum res_verdict v)
{
	switch (v) {
	case RES_VERDICT_OK:
		return EXIT_OK;
	case RES_VERDICT_WARN:
	case RES_VERDICT_DEGRADED:
		return EXIT_WARNING;
	case RES_VERDICT_FAIL:
		return EXIT_CRITICAL;
	default:
		return EXIT_UNKNOWN;
	}
}

void
res_args_digest(int argc, char *const argv[], char *out, size_t outlen)
{
	EVP_MD_CTX *ctx;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char hex[2 * EVP_MAX_MD_SIZE + 1];
	int i;

	ctx = EVP_MD_CTX_new();
	if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(ctx);
		res_textf(out, outlen, "sha256:unavailable");
		return;
	}
	for (i = 0; i < argc; i++) {
		/* The NUL separator keeps ("ab","c") apart from ("a","bc"). */
		EVP_DigestUpdate(ctx, argv[i], strlen(argv[i]) + 1);
	}
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	hex_encode(md, 16, hex);
	res_textf(out, outlen, "sha256:%s", hex);
}

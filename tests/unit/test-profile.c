/* SPDX-License-Identifier: MIT */
/*
 * test-profile.c — JSON profiles written to a temporary directory: a full
 * good profile, every encryption level and FEC preset, keyFile reading,
 * domain normalisation, and bad profiles with their exact messages.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/method.h"
#include "common/profile.h"
#include "tests/tap.h"

static char dir[256];

static char *
write_file(const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");

	if (f == NULL || fputs(text, f) == EOF)
		tap_diag("cannot write %s", path);
	if (f != NULL)
		fclose(f);
	return path;
}

/* Load text as profile.json; returns the profile or NULL with e set. */
static struct profile *
load_text(const char *text, struct err *e)
{
	char *path = write_file("profile.json", text);
	struct profile *p = NULL;

	e->msg[0] = '\0';
	prof_load_file(path, &p, e);
	unlink(path);
	free(path);
	return p;
}

static void
full_profile(void)
{
	struct err e;
	struct profile *p;
	char ip[INET6_ADDRSTRLEN];

	p = load_text(
	    "{\n"
	    "  \"version\": 1,\n"
	    "  \"name\": \"home tunnel\",\n"
	    "  \"protocol\": \"masterdns\",\n"
	    "  \"domain\": \"T.Example.COM.\",\n"
	    "  \"resolvers\": [\n"
	    "    {\"type\": \"udp\", \"address\": \"203.0.113.10:53\"},\n"
	    "    {\"type\": \"UDP\", \"address\": \"[2001:db8::53]:5353\"},\n"
	    "    {\"address\": \"198.51.100.1\"}\n"
	    "  ],\n"
	    "  \"expectedExitIP\": \"198.51.100.7\",\n"
	    "  \"futureField\": {\"ignored\": true},\n"
	    "  \"masterdns\": {\n"
	    "    \"encryptionMethod\": 2,\n"
	    "    \"key\": \"c4d2e6f8a1b3c5d7e9f0a2b4c6d8e0f2\",\n"
	    "    \"fecLevel\": \"balanced\",\n"
	    "    \"fecDirection\": \"both\"\n"
	    "  }\n"
	    "}\n",
	    &e);
	tap_ok(p != NULL, "full profile loads (%s)", e.msg);
	if (p == NULL)
		return;
	tap_is_int(p->version, 1, "version");
	tap_is_str(p->name, "home tunnel", "name");
	tap_is_str(p->protocol, "masterdns", "protocol");
	tap_ok(p->ndomains == 1 && strcmp(p->domains[0], "t.example.com") == 0,
	    "domain normalised to t.example.com");
	tap_is_int(p->nresolvers, 3, "three resolvers");
	inet_ntop(AF_INET, &p->resolvers[0].addr.in.sin_addr, ip, sizeof ip);
	tap_ok(strcmp(ip, "203.0.113.10") == 0 &&
		ntohs(p->resolvers[0].addr.in.sin_port) == 53,
	    "resolver 0 parsed");
	tap_ok(p->resolvers[1].addr.sa.sa_family == AF_INET6 &&
		ntohs(p->resolvers[1].addr.in6.sin6_port) == 5353,
	    "resolver 1 is IPv6 port 5353");
	tap_ok(strcmp(p->resolvers[2].type, "udp") == 0 &&
		ntohs(p->resolvers[2].addr.in.sin_port) == 53,
	    "resolver 2: type defaults to udp, port to 53");
	tap_is_str(p->expected_exit_ip, "198.51.100.7", "expectedExitIP");
	tap_is_int(p->method, METHOD_CHACHA20, "encryptionMethod 2");
	tap_is_str(p->key, "c4d2e6f8a1b3c5d7e9f0a2b4c6d8e0f2", "key");
	tap_ok(p->fec.enabled && p->fec.group == 12 &&
		p->fec.overhead_pct == 25 && p->fec.flush_ms == 20,
	    "balanced FEC is 12/25%%/20ms");
	tap_is_int(p->fec.direction, PROF_FEC_BOTH, "fecDirection both");
	prof_free(p);
}

static void
minimal_profile(void)
{
	struct err e;
	struct profile *p;

	p = load_text("{\"protocol\":\"masterdns\",\"domains\":[\"a.example\","
		      "\"B.example.\",\"a.EXAMPLE\"]}",
	    &e);
	tap_ok(p != NULL, "minimal profile loads (%s)", e.msg);
	if (p == NULL)
		return;
	tap_ok(p->ndomains == 2 && strcmp(p->domains[1], "b.example") == 0,
	    "domains normalised and de-duplicated");
	tap_ok(p->method == -1 && p->key == NULL && p->nresolvers == 0 &&
		p->version == 0 && p->name == NULL &&
		p->expected_exit_ip == NULL,
	    "absent fields stay absent");
	tap_ok(!p->fec.enabled && strcmp(p->fec.level, "none") == 0 &&
		p->fec.direction == PROF_FEC_DOWNLOAD,
	    "FEC off by default");
	prof_free(p);
}

static void
levels(void)
{
	static const char *names[] = {"none", "XOR", "chacha20", "aes-128-gcm",
	    "AES-192-GCM", "aes-256-gcm"};
	static const struct {
		const char *lvl;
		int on, g, o, f;
	} fecs[] = {
	    {"none", 0, 0, 0, 0},
	    {"conservative", 1, 8, 15, 25},
	    {"balanced", 1, 12, 25, 20},
	    {"Aggressive", 1, 16, 40, 15},
	};
	size_t i;

	for (i = 0; i < nitems(names); i++) {
		char *text = xasprintf(
		    "{\"protocol\":\"masterdns\",\"domain\":"
		    "\"t.example\",\"masterdns\":{\"encryptionLevel\":\"%s\","
		    "\"encryptionMethod\":%zu}}",
		    names[i], i);
		struct err e;
		struct profile *p = load_text(text, &e);

		tap_ok(p != NULL && p->method == (int)i,
		    "encryptionLevel %s is method %zu (%s)", names[i], i,
		    e.msg);
		prof_free(p);
		free(text);
	}
	tap_is_int(method_from_name("aes-128-gcm"), 3, "name to method");
	tap_is_str(method_name(5), "aes-256-gcm", "method to name");
	tap_ok(method_name(6) == NULL, "method 6 has no name");
	for (i = 0; i < nitems(fecs); i++) {
		char *text = xasprintf(
		    "{\"protocol\":\"masterdns\",\"domain\":"
		    "\"t.example\",\"masterdns\":{\"fecLevel\":\"%s\","
		    "\"fecDirection\":\"upload\"}}",
		    fecs[i].lvl);
		struct err e;
		struct profile *p = load_text(text, &e);

		tap_ok(p != NULL && p->fec.enabled == fecs[i].on &&
			p->fec.group == fecs[i].g &&
			p->fec.overhead_pct == fecs[i].o &&
			p->fec.flush_ms == fecs[i].f &&
			p->fec.direction == PROF_FEC_UPLOAD,
		    "fecLevel %s (%s)", fecs[i].lvl, e.msg);
		prof_free(p);
		free(text);
	}
}

static void
key_file(void)
{
	char *kp = write_file("tunnel.key", "  3a7f1c9e5b2d8046\n\n");
	struct err e;
	struct profile *p;

	p = load_text(
	    "{\"protocol\":\"masterdns\",\"domain\":\"t.example\","
	    "\"masterdns\":{\"encryptionMethod\":3,\"keyFile\":\"tunnel.key\""
	    "}}",
	    &e);
	tap_ok(p != NULL, "keyFile profile loads (%s)", e.msg);
	tap_is_str(p ? p->key : NULL, "3a7f1c9e5b2d8046",
	    "key read from keyFile relative to the profile, trimmed");
	tap_is_str(p ? p->key_file : NULL, "tunnel.key", "keyFile recorded");
	prof_free(p);
	unlink(kp);
	free(kp);
	kp = write_file("empty.key", " \n");
	p = load_text("{\"protocol\":\"masterdns\",\"domain\":\"t.example\","
		      "\"masterdns\":{\"keyFile\":\"empty.key\"}}",
	    &e);
	tap_ok(p == NULL &&
		strstr(e.msg,
		    "masterdns.keyFile: empty.key is "
		    "empty") != NULL,
	    "empty keyFile rejected: %s", e.msg);
	unlink(kp);
	free(kp);
}

struct bad {
	const char *text;
	const char *msg; /* after "DIR/profile.json" */
};

static const struct bad bads[] = {
    {"{\n  \"protocol\": \"masterdns\",\n  \"domain\": x\n}",
	":3:13: invalid token"},
    {"{\"protocol\": \"masterdns\",",
	":1:25: string or '}' expected "
	"near end of file"},
    {"", ":1:0: '[' or '{' expected near end of file"},
    {"{\"protocol\":\"masterdns\",\"protocol\":\"x\"}",
	":1:34: duplicate object key near '\"protocol\"'"},
    {"[1]", ": the profile must be a JSON object"},
    {"{\"domain\":\"t.example\"}", ": protocol: is required (\"masterdns\")"},
    {"{\"protocol\":\"dnstt\",\"domain\":\"t.example\"}",
	": protocol: \"dnstt\" is not supported (only \"masterdns\")"},
    {"{\"protocol\":7,\"domain\":\"t.example\"}",
	": protocol: must be a string"},
    {"{\"protocol\":\"masterdns\"}", ": domain (or domains) is required"},
    {"{\"protocol\":\"masterdns\",\"domain\":\"a.b\",\"domains\":[\"c.d\"]}",
	": give either domain or domains, not both"},
    {"{\"protocol\":\"masterdns\",\"domains\":[]}",
	": domains: must be a non-empty array of strings"},
    {"{\"protocol\":\"masterdns\",\"domains\":[\"a.b\", 3]}",
	": domains[1]: must be a string"},
    {"{\"protocol\":\"masterdns\",\"domain\":\"a..b\"}",
	": domain: domain a..b has an empty label"},
    {"{\"protocol\":\"masterdns\",\"domain\":\"a b.c\"}",
	": domain: domain a b.c has a bad character"},
    {"{\"protocol\":\"masterdns\",\"domain\":\"t.example\",\"version\":0}",
	": version: must be a positive integer"},
    {"{\"protocol\":\"masterdns\",\"domain\":\"t.example\",\"resolvers\":"
     "[{\"type\":\"doh\",\"address\":\"1.1.1.1\"}]}",
	": resolvers[0].type: unsupported type \"doh\" (only \"udp\")"},
    {"{\"protocol\":\"masterdns\",\"domain\":\"t.example\",\"resolvers\":"
     "[{\"address\":\"1.1.1.1\"},{\"address\":\"1.1.1.300:53\"}]}",
	": resolvers[1].address: bad address: 1.1.1.300"},
    {"{\"protocol\":\"masterdns\",\"domain\":\"t.example\",\"resolvers\":"
     "[{\"type\":\"udp\"}]}",
	": resolvers[0].address: is required"},
    {"{\"protocol\":\"masterdns\",\"domain\":\"t.example\",\"resolvers\":"
     "[{\"address\":\"10.0.0.0/24\"}]}",
	": resolvers[0].address: a prefix is not allowed here"},
    {"{\"protocol\":\"masterdns\",\"domain\":\"t.example\",\"resolvers\":"
     "{}}",
	": resolvers: must be an array"},
    {"{\"protocol\":\"masterdns\",\"domain\":\"t.example\","
     "\"expectedExitIP\":\"my.host\"}",
	": expectedExitIP: \"my.host\" is not an IP address"},
    {"{\"protocol\":\"masterdns\",\"domain\":\"t.example\",\"masterdns\":"
     "[]}",
	": masterdns: must be an object"},
    {"{\"protocol\":\"masterdns\",\"domain\":\"t.example\",\"masterdns\":"
     "{\"encryptionMethod\":6}}",
	": masterdns.encryptionMethod: must be an integer 0..5"},
    {"{\"protocol\":\"masterdns\",\"domain\":\"t.example\",\"masterdns\":"
     "{\"encryptionMethod\":\"2\"}}",
	": masterdns.encryptionMethod: must be an integer 0..5"},
    {"{\"protocol\":\"masterdns\",\"domain\":\"t.example\",\"masterdns\":"
     "{\"encryptionLevel\":\"rot13\"}}",
	": masterdns.encryptionLevel: unknown level \"rot13\" (none, xor, "
	"chacha20, aes-128-gcm, aes-192-gcm, aes-256-gcm)"},
    {"{\"protocol\":\"masterdns\",\"domain\":\"t.example\",\"masterdns\":"
     "{\"encryptionMethod\":1,\"encryptionLevel\":\"none\"}}",
	": masterdns: encryptionMethod 1 and encryptionLevel \"none\" "
	"disagree"},
    {"{\"protocol\":\"masterdns\",\"domain\":\"t.example\",\"masterdns\":"
     "{\"key\":\"k\",\"keyFile\":\"f\"}}",
	": masterdns: give either key or keyFile, not both"},
    {"{\"protocol\":\"masterdns\",\"domain\":\"t.example\",\"masterdns\":"
     "{\"key\":\"\"}}",
	": masterdns.key: is empty"},
    {"{\"protocol\":\"masterdns\",\"domain\":\"t.example\",\"masterdns\":"
     "{\"fecLevel\":\"turbo\"}}",
	": masterdns.fecLevel: unknown level "
	"\"turbo\" (none, conservative, balanced, aggressive)"},
    {"{\"protocol\":\"masterdns\",\"domain\":\"t.example\",\"masterdns\":"
     "{\"fecLevel\":3}}",
	": masterdns.fecLevel: must be a string"},
    {"{\"protocol\":\"masterdns\",\"domain\":\"t.example\",\"masterdns\":"
     "{\"fecDirection\":\"sideways\"}}",
	": masterdns.fecDirection: "
	"unknown direction \"sideways\" (download, upload, both)"},
};

static void
bad_profiles(void)
{
	size_t i;

	for (i = 0; i < nitems(bads); i++) {
		struct err e;
		struct profile *p = load_text(bads[i].text, &e);
		char *want = xasprintf("%s/profile.json%s", dir, bads[i].msg);

		tap_ok(p == NULL, "bad profile %zu rejected", i);
		tap_is_str(e.msg, want, "bad profile %zu message", i);
		free(want);
		prof_free(p);
	}
	{
		struct err e;
		struct profile *p = load_text(
		    "{\"protocol\":\"masterdns\","
		    "\"domain\":\"t.example\",\"masterdns\":{\"keyFile\":"
		    "\"missing.key\"}}",
		    &e);
		char *want =
		    xasprintf("%s/profile.json: masterdns.keyFile: "
			      "%s/missing.key: No such file or directory",
			dir, dir);

		tap_ok(p == NULL, "missing keyFile rejected");
		tap_is_str(e.msg, want, "missing keyFile message");
		free(want);
	}
	{
		/* A syntax error inside the key must not quote the key. */
		static const char *const bad[] = {
		    "{\"masterdns\":{\"key\":\"s3cr3t-k3y-t3xt\\q\"}}",
		    "{\"masterdns\":{\"key\":\"s3cr3t-k3y-t3xt\n\"}}",
		    "{\"masterdns\":{\"key\":s3cr3t-k3y-t3xt}}",
		};
		struct err e;
		struct profile *p = NULL;

		for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
			tap_ok(prof_load_buf("bad.json", bad[i], strlen(bad[i]),
				   &p, &e) == -1 &&
				strncmp(e.msg, "bad.json:1:", 11) == 0 &&
				strstr(e.msg, "s3cr3t") == NULL,
			    "syntax error %zu names the place, not the key: %s",
			    i, e.msg);
		}
	}
	{
		struct err e;
		struct profile *p = NULL;
		static const char t[] = "{\"protocol\":\"masterdns\","
					"\"domain\":\"t.example\","
					"\"masterdns\":{\"keyFile\":\"k\"}}";

		tap_ok(
		    prof_load_buf("buf.json", t, sizeof t - 1, &p, &e) == 0 &&
			p->key == NULL && strcmp(p->key_file, "k") == 0,
		    "buffer load records keyFile without reading it");
		prof_free(p);
		tap_ok(prof_load_file("/nonexistent/p.json", &p, &e) == -1 &&
			strcmp(e.msg,
			    "/nonexistent/p.json: No such file or "
			    "directory") == 0,
		    "missing profile: %s", e.msg);
	}
}

int
main(void)
{
	if (mkdtemp(tap_tmppath(dir, sizeof dir, "test-profile-XXXXXX")) ==
	    NULL) {
		tap_ok(0, "mkdtemp");
		return tap_done();
	}
	full_profile();
	minimal_profile();
	levels();
	key_file();
	bad_profiles();
	rmdir(dir);
	return tap_done();
}

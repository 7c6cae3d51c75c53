/* SPDX-License-Identifier: MIT */
/*
 * test-tui-model.c — the dashboard model fed with JSON documents shaped as
 * docs/control-protocol.md (schema 1) specifies: status parsing for both
 * roles, tolerance of wrong types and unknown fields, watch lines, rate
 * derivation from byte counters (including engine restarts), the sparkline
 * history, sorting, filtering, the event ring and the number formatting.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/tap.h"
#include "tui/tui-model.h"

static const char client_doc[] =
    "{\"role\":\"client\",\"version\":\"1.2\",\"pid\":1234,"
    "\"uptime_ms\":81234,\"phase\":\"connected\","
    "\"session\":{\"id\":7,\"established_ms\":1763771040000,\"reinits\":2,"
    "\"response_mode\":\"base64\",\"compression\":{\"upload\":0,"
    "\"download\":0},\"policy\":{\"max_dup\":5}},"
    "\"mtu\":{\"upload\":141,\"download\":1000},"
    "\"resolvers\":{\"total\":5,\"active\":3,\"disabled\":1,\"testing\":1,"
    "\"rejected\":0,\"list\":["
    "{\"address\":\"127.0.0.10:53\",\"domain\":\"t.example\","
    "\"state\":\"active\",\"reason\":\"\",\"upload_mtu\":141,"
    "\"download_mtu\":1000,\"rtt_ms\":12.5,\"loss\":0.02,\"sent\":100,"
    "\"answered\":98,\"timeouts\":2},"
    "{\"address\":\"127.0.0.2:53\",\"domain\":\"b.example\","
    "\"state\":\"disabled\",\"reason\":\"only timeouts for 30 s\","
    "\"upload_mtu\":120,\"download_mtu\":900,\"rtt_ms\":40,\"loss\":0.5,"
    "\"sent\":400,\"answered\":200,\"timeouts\":200},"
    "{\"address\":\"127.0.0.3:53\",\"domain\":\"t.example\","
    "\"state\":\"testing\",\"upload_mtu\":0,\"download_mtu\":0,"
    "\"rtt_ms\":null,\"loss\":0,\"sent\":3,\"answered\":0,\"timeouts\":0},"
    "{\"address\":\"127.0.0.20:53\",\"domain\":\"a.example\","
    "\"state\":\"active\",\"upload_mtu\":150,\"download_mtu\":1200,"
    "\"rtt_ms\":5,\"loss\":0.0,\"sent\":1000,\"answered\":1000,"
    "\"timeouts\":0,\"future_field\":[1,2]},"
    "{\"address\":\"[::1]:5353\",\"domain\":\"t.example\","
    "\"state\":\"active\",\"upload_mtu\":141,\"download_mtu\":1000,"
    "\"rtt_ms\":20,\"loss\":0.1,\"sent\":50,\"answered\":45,"
    "\"timeouts\":5}]},"
    "\"traffic\":{\"bytes_up\":5000,\"bytes_down\":90000,"
    "\"packets_up\":50,\"packets_down\":80,\"queries_sent\":1553,"
    "\"answers\":1343,\"rate_up_bps\":100.5,\"rate_down_bps\":2000.0,"
    "\"qps\":12.5},"
    "\"streams\":{\"active\":1,\"opened\":3,\"closed\":2,"
    "\"list\":[{\"id\":3,\"state\":\"open\",\"bytes_up\":10,"
    "\"bytes_down\":20}]},"
    "\"arq\":{\"retransmits\":4,\"nacks_sent\":5,\"nacks_received\":6,"
    "\"rto_ms\":500},"
    "\"duplication\":{\"factor\":2,\"setup_factor\":4,"
    "\"duplicates_sent\":9},"
    "\"socks\":{\"accepted\":11,\"read_errors\":1,\"write_errors\":2,"
    "\"auth_failures\":3,\"requests\":{\"hostname\":4,\"ip_literal\":5,"
    "\"ipv4\":5,\"ipv6\":0},\"clients\":[{\"address\":\"127.0.0.2\","
    "\"hostname\":1,\"ip_literal\":2},{\"address\":\"127.0.0.1\","
    "\"hostname\":3,\"ip_literal\":3}]},"
    "\"events\":{\"error_drop\":7,\"session_busy\":8,\"reinit\":2},"
    "\"fec\":null,\"exit_ip\":null,\"leak\":null,\"new_top\":{}}";

static const char server_doc[] =
    "{\"role\":\"server\",\"version\":\"1.2\",\"pid\":1,\"uptime_ms\":1500,"
    "\"phase\":\"serving\",\"domains\":[\"t.example\",\"u.example\"],"
    "\"sessions\":{\"active\":1,\"opened\":2,\"closed\":1,\"expired\":3,"
    "\"busy\":4},"
    "\"streams\":{\"active\":5,\"opened\":6,\"closed\":1,"
    "\"connect_failed\":7,\"filtered\":8},"
    "\"queries\":{\"total\":100,\"tunnel\":90,\"mtu_probe\":5,"
    "\"nxdomain\":1,\"nodata\":2,\"formerr\":3,\"error_drop\":4,"
    "\"no_reply\":6},"
    "\"drops\":{\"bad_cookie\":9,\"undecodable\":10,"
    "\"unknown_session\":11,\"not_request\":12},"
    "\"traffic\":{\"bytes_up\":333,\"bytes_down\":444}}";

static json_t *
load(const char *text)
{
	json_error_t je;
	json_t *o = json_loads(text, 0, &je);

	if (o == NULL) {
		tap_diag("fixture JSON does not parse: %s", je.text);
		abort();
	}
	return o;
}

/* A watch snapshot line with just the counters rates derive from. */
static json_t *
snap(long long pid, long long uptime_ms, long long up, long long down)
{
	return json_pack("{s:b,s:i,s:s,s:{s:s,s:I,s:I,s:s,s:{s:I,s:I}}}", "ok",
	    1, "schema", 1, "type", "snapshot", "status", "role", "client",
	    "pid", (json_int_t)pid, "uptime_ms", (json_int_t)uptime_ms, "phase",
	    "connected", "traffic", "bytes_up", (json_int_t)up, "bytes_down",
	    (json_int_t)down);
}

static int
feed_snap(struct tui_model *m, long long pid, long long t, long long up,
    long long down)
{
	struct err e = {""};
	json_t *o = snap(pid, t, up, down);
	int r = tui_model_feed(m, o, 0, &e);

	json_decref(o);
	if (r != 1)
		tap_diag("feed failed: %s", e.msg);
	return r;
}

static void
test_client_parse(void)
{
	struct tui_status st;
	struct err e = {""};
	json_t *o = load(client_doc);

	tap_is_int(tui_status_parse(o, &st, &e), 0, "client status parses");
	tap_is_int(st.role, TUI_ROLE_CLIENT, "role client");
	tap_is_str(st.phase, "connected", "phase");
	tap_is_int(st.pid, 1234, "pid");
	tap_is_int(st.uptime_ms, 81234, "uptime");
	tap_ok(st.has_session, "session present");
	tap_is_int(st.session_id, 7, "session id");
	tap_is_int(st.reinits, 2, "re-inits");
	tap_is_str(st.response_mode, "base64", "response mode");
	tap_is_int(st.mtu_up, 141, "synced upload MTU");
	tap_is_int(st.mtu_down, 1000, "synced download MTU");
	tap_is_int(st.res_total, 5, "resolvers total");
	tap_is_int(st.res_active, 3, "resolvers active");
	tap_is_int(st.nres, 5, "five resolver rows");
	tap_is_str(st.res[1].address, "127.0.0.2:53", "row 2 address");
	tap_is_str(st.res[1].reason, "only timeouts for 30 s", "row 2 reason");
	tap_is_int(st.res[1].timeouts, 200, "row 2 timeouts");
	tap_ok(fabs(st.res[0].rtt_ms - 12.5) < 1e-9, "row 1 rtt 12.5");
	tap_ok(fabs(st.res[1].loss - 0.5) < 1e-9, "row 2 loss 0.5");
	tap_ok(st.res[2].rtt_ms < 0, "null rtt is unmeasured");
	tap_is_str(st.res[2].reason, "", "absent reason is empty");
	tap_is_int(st.bytes_up, 5000, "bytes up");
	tap_is_int(st.bytes_down, 90000, "bytes down");
	tap_is_int(st.queries_sent, 1553, "queries sent");
	tap_ok(fabs(st.qps - 12.5) < 1e-9, "qps");
	tap_is_int(st.str_active, 1, "streams active");
	tap_is_int(st.nstreams, 1, "one stream row");
	tap_is_int(st.streams[0].id, 3, "stream id");
	tap_is_str(st.streams[0].state, "open", "stream state");
	tap_is_int(st.streams[0].bytes_down, 20, "stream bytes down");
	tap_is_int(st.retransmits, 4, "retransmits");
	tap_is_int(st.nacks_sent, 5, "NACKs sent");
	tap_is_int(st.nacks_received, 6, "NACKs received");
	tap_is_int(st.rto_ms, 500, "RTO");
	tap_is_int(st.dup_factor, 2, "duplication factor");
	tap_is_int(st.socks_write_errors, 2, "socks write errors");
	tap_ok(st.socks_req_name == 4 && st.socks_req_ip == 5,
	    "SOCKS requests: host name 4, IP literal 5");
	tap_ok(st.socks_nclients == 2 &&
		strcmp(st.socks_last_client, "127.0.0.2") == 0 &&
		st.socks_last_name == 1 && st.socks_last_ip == 2,
	    "SOCKS clients: 2, the most recent 127.0.0.2 with 1/2");
	tap_is_int(st.ev_session_busy, 8, "SESSION_BUSY count");
	tap_ok(!st.has_fec, "fec null: not present");
	tap_is_str(st.exit_ip, "", "exit_ip null: empty");
	tap_is_str(st.leak, "", "leak null: empty");
	tui_status_free(&st);
	json_decref(o);
}

static void
test_client_optional(void)
{
	struct tui_status st;
	struct err e = {""};
	json_t *o = load(client_doc);

	json_object_set_new(o, "fec",
	    json_pack("{s:i,s:i,s:s,s:b}", "recovered", 12, "parity_sent", 30,
		"scheme", "rs", "on", 1));
	json_object_set_new(o, "exit_ip", json_string("203.0.113.9"));
	json_object_set_new(o, "leak",
	    json_pack("{s:s,s:i}", "verdict", "no leak", "resolvers_seen", 1));
	tap_is_int(tui_status_parse(o, &st, &e), 0, "status with FEC parses");
	tap_ok(st.has_fec, "fec object present");
	tap_is_int(st.nfec, 3, "numeric and boolean FEC members kept");
	tap_is_str(st.fec[0].name, "recovered", "first FEC counter name");
	tap_ok(st.fec[1].value == 30, "second FEC counter value");
	tap_is_str(st.exit_ip, "203.0.113.9", "exit IP");
	tap_is_str(st.leak, "no leak", "leak verdict from object");
	tui_status_free(&st);
	json_decref(o);
}

/* connect --checks: exit_ip and leak as check objects (docs/checks.md). */
static void
test_checks(void)
{
	struct tui_status st;
	struct err e = {""};
	json_t *o = load(client_doc);

	json_object_set_new(o, "exit_ip",
	    json_pack("{s:s,s:s,s:s,s:n}", "verdict", "ok", "reason", "ok",
		"address", "10.77.1.2 fd77:1::2", "evidence"));
	json_object_set_new(o, "leak",
	    json_pack("{s:s,s:s,s:n}", "verdict", "critical", "reason", "leak",
		"address"));
	tap_is_int(
	    tui_status_parse(o, &st, &e), 0, "status with checks parses");
	tap_is_str(st.exit_ip, "ok 10.77.1.2 fd77:1::2",
	    "exit_ip object: verdict and address");
	tap_is_int(st.exit_code, 0, "... ok is 0");
	tap_is_str(st.leak, "critical (leak)",
	    "leak object without an address: verdict and reason");
	tap_is_int(st.leak_code, 2, "... critical is 2");
	tui_status_free(&st);
	json_object_set_new(o, "leak",
	    json_pack(
		"{s:s,s:s}", "verdict", "not tested", "reason", "pending"));
	tap_is_int(tui_status_parse(o, &st, &e), 0, "not tested parses");
	tap_is_str(st.leak, "not tested (pending)", "... shown as such, why");
	tap_is_int(st.leak_code, -1, "... with no verdict code");
	tui_status_free(&st);
	json_object_set_new(o, "leak", json_pack("{s:i}", "verdict", 2));
	tap_is_int(tui_status_parse(o, &st, &e), 0, "a numeric verdict parses");
	tap_is_str(st.leak, "{\"verdict\":2}", "... shown as JSON, no crash");
	tui_status_free(&st);
	json_decref(o);
}

/* The client's "tun" object (connect --tun, docs/tun.md). */
static void
test_tun(void)
{
	struct tui_status st;
	struct err e = {""};
	json_t *o = load(client_doc);

	json_object_set_new(o, "tun", json_null());
	tap_is_int(tui_status_parse(o, &st, &e), 0, "client with tun null");
	tap_ok(!st.has_tun, "... no TUN line");
	tui_status_free(&st);
	json_object_set_new(o, "tun",
	    json_pack("{s:i,s:s,s:{s:{s:i,s:i,s:i,s:i},s:{s:i,s:i},"
		      "s:{s:i,s:i},s:{s:i},s:{s:i,s:i,s:i}}}",
		"routes_installed", 5, "device", "mdns0", "counters", "packets",
		"in", 10, "out", 12, "bytes_in", 1000, "bytes_out", 5000,
		"errors", "read", 1, "write", 2, "tcp", "open", 3, "opened", 9,
		"dns", "queries", 4, "dropped", "martian", 2, "udp_not_dns", 5,
		"icmp", 0));
	tap_is_int(tui_status_parse(o, &st, &e), 0, "client with tun");
	tap_ok(st.has_tun, "... a TUN line");
	tap_ok(st.tun_pkts_in == 10 && st.tun_pkts_out == 12 &&
		st.tun_bytes_in == 1000 && st.tun_bytes_out == 5000,
	    "packets and bytes each way");
	tap_ok(st.tun_flows_open == 3 && st.tun_flows_opened == 9,
	    "flows open/opened");
	tap_is_int(st.tun_dns_queries, 4, "mapped DNS queries");
	tap_is_int(st.tun_dropped, 7, "drops summed over reasons");
	tap_is_int(st.tun_errors, 3, "read + write errors");
	tap_is_int(st.tun_routes, 5, "routes installed");
	tui_status_free(&st);
	json_decref(o);
}

/* The "dns" object of both roles (docs/dns-tunnel.md). */
static void
test_dns(void)
{
	struct tui_status st;
	struct err e = {""};
	json_t *o = load(client_doc);

	tap_is_int(tui_status_parse(o, &st, &e), 0, "client without dns");
	tap_ok(!st.has_dns, "... no DNS line");
	tui_status_free(&st);
	json_object_set_new(o, "dns",
	    json_pack("{s:s,s:{s:i,s:i,s:i},s:{s:i},s:i,"
		      "s:{s:i,s:i,s:i,s:i},s:{s:i,s:i,s:i},"
		      "s:{s:f,s:f,s:i}}",
		"listener", "127.0.0.1:5353", "queries", "listener", 7, "socks",
		2, "sink", 1, "cache", "hits", 3, "sent", 6, "fragments",
		"req_sent", 8, "req_acked", 8, "req_resent", 1, "res_received",
		11, "failures", "timeout", 1, "unsolicited", 2, "frag_dup", 0,
		"latency", "p50_ms", 1.5, "p99_ms", 6.25, "samples", 6));
	tap_is_int(tui_status_parse(o, &st, &e), 0, "client with dns");
	tap_ok(st.has_dns, "... a DNS line");
	tap_is_int(st.dns_queries, 10, "queries summed over sources");
	tap_is_int(st.dns_hits, 3, "cache hits");
	tap_is_int(st.dns_tunnel, 6, "sent through the tunnel");
	tap_ok(st.dns_frag_up == 8 && st.dns_frag_down == 11,
	    "REQ fragments sent, RES received");
	tap_is_int(st.dns_fail, 3, "failures summed over reasons");
	tap_ok(st.dns_p50_ms == 1.5 && st.dns_p99_ms == 6.25, "latency");
	tui_status_free(&st);
	json_decref(o);
	o = load(server_doc);
	json_object_set_new(o, "dns",
	    json_pack("{s:i,s:{s:i},s:i,s:{s:i,s:i},s:{s:i},s:{s:f,s:f}}",
		"queries", 5, "cache", "hits", 1, "resolved", 4, "fragments",
		"req_received", 6, "res_sent", 9, "failures", "notimp", 1,
		"latency", "p50_ms", 0.5, "p99_ms", 2.0));
	tap_is_int(tui_status_parse(o, &st, &e), 0, "server with dns");
	tap_ok(st.has_dns && st.dns_queries == 5 && st.dns_tunnel == 4 &&
		st.dns_frag_up == 6 && st.dns_frag_down == 9 &&
		st.dns_fail == 1 && st.dns_p99_ms == 2.0,
	    "server: queries, resolved, fragments, failures, latency");
	tui_status_free(&st);
	json_decref(o);
}

static void
test_server_parse(void)
{
	struct tui_status st;
	struct err e = {""};
	json_t *o = load(server_doc);

	tap_is_int(tui_status_parse(o, &st, &e), 0, "server status parses");
	tap_is_int(st.role, TUI_ROLE_SERVER, "role server");
	tap_is_str(st.phase, "serving", "server phase");
	tap_is_str(st.domains, "t.example, u.example", "domains joined");
	tap_is_int(st.sess_active, 1, "sessions active");
	tap_is_int(st.sess_expired, 3, "sessions expired");
	tap_is_int(st.sess_busy, 4, "sessions busy");
	tap_is_int(st.str_connect_failed, 7, "connect failures");
	tap_is_int(st.str_filtered, 8, "filtered streams");
	tap_is_int(st.q_total, 100, "queries total");
	tap_is_int(st.q_mtu_probe, 5, "MTU probes");
	tap_is_int(st.q_no_reply, 6, "no reply");
	tap_is_int(st.drop_bad_cookie, 9, "bad cookie drops");
	tap_is_int(st.drop_not_request, 12, "not-request drops");
	tap_is_int(st.bytes_down, 444, "server bytes down");
	tap_is_int(st.nres, 0, "no resolver rows on a server");
	tui_status_free(&st);
	json_decref(o);
}

static void
test_bad_status(void)
{
	struct tui_status st;
	struct err e = {""};
	json_t *o;

	o = json_string("x");
	tap_is_int(tui_status_parse(o, &st, &e), -1, "string status refused");
	tap_ok(
	    strstr(e.msg, "not a JSON object") != NULL, "says why: %s", e.msg);
	tui_status_free(&st);
	json_decref(o);

	o = load("{\"role\":\"router\",\"phase\":\"x\"}");
	tap_is_int(tui_status_parse(o, &st, &e), -1, "unknown role refused");
	tap_ok(strstr(e.msg, "role") != NULL, "names the role: %s", e.msg);
	tui_status_free(&st);
	json_decref(o);

	/* Wrong types count as absent; nothing crashes. */
	o = load("{\"role\":\"client\",\"phase\":7,\"session\":\"x\","
		 "\"mtu\":[1],\"resolvers\":{\"total\":\"5\",\"list\":[1,null,"
		 "{\"address\":5,\"sent\":\"9\",\"rtt_ms\":\"fast\"}]},"
		 "\"traffic\":{\"bytes_up\":1e300,\"bytes_down\":-3.5},"
		 "\"streams\":{\"list\":{}},\"fec\":[1],\"leak\":true,"
		 "\"socks\":{\"clients\":[7,{\"address\":[]}]}}");
	tap_is_int(tui_status_parse(o, &st, &e), 0, "mistyped fields parse");
	tap_is_str(st.phase, "", "numeric phase ignored");
	tap_ok(!st.has_session, "string session ignored");
	tap_is_int(st.res_total, 0, "string total ignored");
	tap_is_int(st.nres, 1, "only object rows kept");
	tap_is_str(st.res[0].address, "", "numeric address ignored");
	tap_is_int(st.res[0].sent, 0, "string count ignored");
	tap_ok(st.res[0].rtt_ms < 0, "string rtt is unmeasured");
	tap_is_int(st.bytes_up, 0, "out-of-range real ignored");
	tap_ok(st.socks_nclients == 2 && st.socks_last_client[0] == '\0',
	    "a SOCKS client that is no object: no address");
	tap_is_int(st.bytes_down, -3, "negative real truncated");
	tap_is_int(st.nstreams, 0, "object stream list ignored");
	tap_ok(!st.has_fec, "array fec ignored");
	tap_is_str(st.leak, "leak", "boolean leak shown");
	tui_status_free(&st);
	json_decref(o);
}

static void
test_feed(void)
{
	struct tui_model m;
	struct err e = {""};
	json_t *o;
	const struct tui_event *ev;

	tui_model_init(&m);
	o = json_pack("{s:b,s:i,s:s,s:o}", "ok", 1, "schema", 1, "type",
	    "snapshot", "status", load(client_doc));
	tap_is_int(tui_model_feed(&m, o, 0, &e), 1, "snapshot line");
	json_decref(o);
	tap_ok(m.have, "model has a snapshot");
	tap_is_int(m.cur.session_id, 7, "snapshot applied");
	tap_is_int(m.nview, 5, "all rows in view");

	o = load(
	    "{\"ok\":true,\"schema\":1,\"type\":\"event\",\"event\":"
	    "{\"at_ms\":1763771040000,\"kind\":\"resolver_disabled\","
	    "\"resolver\":\"127.0.0.2:53\",\"detail\":\"only timeouts\"}}");
	tap_is_int(tui_model_feed(&m, o, 5, &e), 2, "event line");
	json_decref(o);
	ev = tui_model_event_at(&m, 0);
	tap_ok(ev != NULL, "event stored");
	tap_is_str(ev->kind, "resolver_disabled", "event kind");
	tap_is_str(ev->resolver, "127.0.0.2:53", "event resolver");
	tap_is_str(ev->detail, "only timeouts", "event detail");
	tap_is_int(ev->at_ms, 1763771040000LL, "event time");

	o = load("{\"ok\":true,\"type\":\"event\",\"event\":"
		 "{\"kind\":\"phase\",\"detail\":\"reconnecting\"}}");
	tap_is_int(tui_model_feed(&m, o, 4242, &e), 2, "event without time");
	json_decref(o);
	ev = tui_model_event_at(&m, 0);
	tap_is_int(ev->at_ms, 4242, "missing time: local clock");
	tap_is_str(ev->resolver, "", "absent resolver empty");

	o = load("{\"ok\":true,\"schema\":1,\"cmd\":\"version\","
		 "\"version\":\"x\",\"role\":\"client\"}");
	tap_is_int(tui_model_feed(&m, o, 0, &e), 0, "version reply ignored");
	json_decref(o);

	o = load("{\"ok\":false,\"schema\":1,\"error\":\"permission denied: "
		 "uid 1001\"}");
	tap_is_int(tui_model_feed(&m, o, 0, &e), -1, "error reply");
	tap_ok(strstr(e.msg, "permission denied: uid 1001") != NULL,
	    "carries the engine's reason: %s", e.msg);
	json_decref(o);

	o = load("{\"ok\":true,\"type\":\"event\",\"event\":3}");
	tap_is_int(tui_model_feed(&m, o, 0, &e), -1, "event not an object");
	json_decref(o);

	o = load("{\"ok\":true,\"type\":\"snapshot\",\"status\":[]}");
	tap_is_int(tui_model_feed(&m, o, 0, &e), -1, "status not an object");
	json_decref(o);
	tap_is_int(m.cur.session_id, 7, "bad snapshot kept the old one");

	o = json_integer(3);
	tap_is_int(tui_model_feed(&m, o, 0, &e), -1, "non-object line");
	json_decref(o);

	o = load("{\"ok\":true,\"schema\":1,\"cmd\":\"status\",\"status\":"
		 "{\"role\":\"server\",\"phase\":\"serving\"}}");
	tap_is_int(tui_model_feed(&m, o, 0, &e), 1, "status reply applied");
	json_decref(o);
	tap_is_int(m.cur.role, TUI_ROLE_SERVER, "role switched to server");
	tap_is_int(m.nview, 0, "server has no resolver rows");
	tui_model_free(&m);
}

static void
test_rates(void)
{
	struct tui_model m;

	tui_model_init(&m);
	feed_snap(&m, 10, 1000, 0, 0);
	tap_is_int(m.nsamples, 0, "first snapshot: no rate yet");
	feed_snap(&m, 10, 2000, 5000, 1024);
	tap_is_int(m.nsamples, 1, "second snapshot: one sample");
	tap_ok(fabs(m.rate_up_bps - 5000) < 1e-9, "up 5000 B/s (%.1f)",
	    m.rate_up_bps);
	tap_ok(fabs(m.rate_down_bps - 1024) < 1e-9, "down 1024 B/s");
	feed_snap(&m, 10, 2500, 6000, 1024);
	tap_ok(fabs(m.rate_up_bps - 2000) < 1e-9,
	    "half-second interval: 1000 B in 0.5 s = 2000 B/s (%.1f)",
	    m.rate_up_bps);
	tap_ok(m.rate_down_bps == 0, "no download: 0");
	feed_snap(&m, 10, 2500, 6000, 1024);
	tap_is_int(m.nsamples, 2, "same moment twice: no sample");
	tap_ok(fabs(m.rate_up_bps - 2000) < 1e-9, "rate kept");

	/* The engine restarted: a new pid and a small uptime. */
	feed_snap(&m, 11, 300, 10, 10);
	tap_is_int(m.nsamples, 0, "restart clears the history");
	tap_ok(m.rate_up_bps == 0, "restart: no rate");
	feed_snap(&m, 11, 1300, 2010, 10);
	tap_ok(fabs(m.rate_up_bps - 2000) < 1e-9, "new engine's rate");

	/* Counters going back (never should) do not give negative rates. */
	feed_snap(&m, 11, 2300, 5, 5);
	tap_ok(m.rate_up_bps == 0 && m.rate_down_bps == 0,
	    "counters went back: rate 0, not negative");
	feed_snap(&m, 11, 3300, 1005, 5);
	tap_ok(fabs(m.rate_up_bps - 1000) < 1e-9, "derivation resumes");

	/* A lost connection forgets the baseline but not the picture. */
	tui_model_disconnect(&m);
	tap_ok(m.rate_up_bps == 0, "disconnect: rate 0");
	feed_snap(&m, 11, 9300, 100000, 5);
	tap_ok(m.rate_up_bps == 0, "first snapshot after reconnect: no rate");
	tap_ok(m.have && m.cur.bytes_up == 100000, "but it is displayed");
	tui_model_free(&m);
}

static void
test_spark(void)
{
	struct tui_model m;
	int lv[60], lv30[30], lv8[8];
	double peak;
	size_t i;
	int mono = 1;

	tui_model_init(&m);
	tui_model_spark(&m, 1, lv, 60, &peak);
	tap_ok(lv[0] == -1 && lv[59] == -1 && peak == 0, "empty: no data");

	/* 1 s snapshots for 70 s, upload rate i*100 B/s in second i. */
	long long up = 0;

	feed_snap(&m, 1, 1000, 0, 0);
	for (i = 1; i <= 70; i++) {
		up += (long long)i * 100;
		feed_snap(&m, 1, 1000 + (long long)i * 1000, up, 0);
	}
	tui_model_spark(&m, 1, lv, 60, &peak);
	tap_ok(
	    fabs(peak - 7000) < 1e-6, "peak is the newest second (%.1f)", peak);
	tap_is_int(lv[59], 7, "newest column full height");
	for (i = 1; i < 60; i++)
		if (lv[i] < lv[i - 1])
			mono = 0;
	tap_ok(mono, "rising rate: non-decreasing levels");
	tap_ok(lv[0] >= 1 && lv[0] <= 2, "oldest column (1100 B/s) low: %d",
	    lv[0]);
	tui_model_spark(&m, 0, lv, 60, &peak);
	tap_ok(peak == 0 && lv[0] == 0 && lv[59] == 0,
	    "download zero: baseline, not missing");
	tui_model_spark(&m, 1, lv30, 30, &peak);
	tap_ok(fabs(peak - 6950) < 1e-6,
	    "30 columns: each the mean of two seconds (%.1f)", peak);
	tui_model_free(&m);

	/* 5 s snapshots: every 1 s column still has data. */
	tui_model_init(&m);
	feed_snap(&m, 2, 0 + 5000, 0, 0);
	for (i = 1; i <= 13; i++)
		feed_snap(
		    &m, 2, 5000 + (long long)i * 5000, (long long)i * 5000, 0);
	tui_model_spark(&m, 1, lv, 60, &peak);
	tap_ok(lv[0] == 7 && lv[30] == 7 && lv[59] == 7,
	    "5 s interval, constant 1000 B/s: all columns full");
	tap_ok(fabs(peak - 1000) < 1e-6, "constant rate peak 1000");
	tui_model_free(&m);

	/* 10 s of history: the older columns are empty. */
	tui_model_init(&m);
	feed_snap(&m, 3, 50000, 0, 0);
	for (i = 1; i <= 10; i++)
		feed_snap(
		    &m, 3, 50000 + (long long)i * 1000, (long long)i * 100, 0);
	tui_model_spark(&m, 1, lv, 60, &peak);
	tap_is_int(lv[0], -1, "before the history: no data");
	tap_is_int(lv[49], -1, "column 49 (before the first sample) empty");
	tap_is_int(lv[50], 7, "column 50 has data");
	tui_model_spark(&m, 1, lv8, 8, &peak);
	tap_is_int(lv8[7], 7, "narrow spark: last column has data");
	tui_model_free(&m);
}

/* The addresses of the current view, joined by spaces. */
static const char *
view_str(const struct tui_model *m)
{
	static char buf[512];
	size_t i;

	buf[0] = '\0';
	for (i = 0; i < m->nview; i++) {
		if (i > 0)
			strncat(buf, " ", sizeof buf - strlen(buf) - 1);
		strncat(buf, m->cur.res[m->view[i]].address,
		    sizeof buf - strlen(buf) - 1);
	}
	return buf;
}

static void
test_sort_filter(void)
{
	struct tui_model m;
	struct tui_status st;
	struct err e = {""};
	json_t *o = load(client_doc);

	tui_model_init(&m);
	tui_status_parse(o, &st, &e);
	tui_model_apply(&m, &st, 0);
	json_decref(o);
	tap_is_str(view_str(&m),
	    "127.0.0.2:53 127.0.0.3:53 127.0.0.10:53 "
	    "127.0.0.20:53 [::1]:5353",
	    "default: address, natural order");
	tui_model_set_sort(&m, TUI_SORT_RTT, 0);
	tap_is_str(view_str(&m),
	    "127.0.0.20:53 127.0.0.10:53 [::1]:5353 "
	    "127.0.0.2:53 127.0.0.3:53",
	    "rtt ascending, unmeasured last");
	tui_model_set_sort(&m, TUI_SORT_RTT, 1);
	tap_is_str(view_str(&m),
	    "127.0.0.2:53 [::1]:5353 127.0.0.10:53 "
	    "127.0.0.20:53 127.0.0.3:53",
	    "rtt reversed, unmeasured still last");
	tui_model_set_sort(&m, TUI_SORT_LOSS, 0);
	tap_is_str(view_str(&m),
	    "127.0.0.2:53 [::1]:5353 127.0.0.10:53 "
	    "127.0.0.3:53 127.0.0.20:53",
	    "loss: worst first, ties by address");
	tui_model_set_sort(&m, TUI_SORT_TIMEOUTS, 0);
	tap_is_str(view_str(&m),
	    "127.0.0.2:53 [::1]:5353 127.0.0.10:53 "
	    "127.0.0.3:53 127.0.0.20:53",
	    "timeouts: most first");
	tui_model_set_sort(&m, TUI_SORT_DOMAIN, 0);
	tap_is_str(view_str(&m),
	    "127.0.0.20:53 127.0.0.2:53 127.0.0.3:53 "
	    "127.0.0.10:53 [::1]:5353",
	    "domain, then address");
	tui_model_set_sort(&m, TUI_SORT_SENT, 0);
	tap_is_str(view_str(&m),
	    "127.0.0.20:53 127.0.0.2:53 127.0.0.10:53 "
	    "[::1]:5353 127.0.0.3:53",
	    "sent: busiest first");
	tui_model_next_sort(&m);
	tap_is_int(m.sort, TUI_SORT_ANSWERED, "s cycles to the next column");
	tap_is_str(tui_sort_name(m.sort), "answered", "its name");
	tui_model_next_sort(&m);
	tui_model_next_sort(&m);
	tap_is_int(m.sort, TUI_SORT_ADDRESS, "and wraps to address");

	tui_model_set_filter(&m, "127.0.0.2");
	tap_is_str(view_str(&m), "127.0.0.2:53 127.0.0.20:53",
	    "filter is a substring");
	tui_model_set_filter(&m, "DISABLED");
	tap_is_str(
	    view_str(&m), "127.0.0.2:53", "filter matches state, any case");
	tui_model_set_filter(&m, "a.Example");
	tap_is_str(view_str(&m), "127.0.0.20:53", "filter matches domain");
	tui_model_set_filter(&m, "nothing-like-it");
	tap_is_int(m.nview, 0, "filter with no match: empty view");
	tui_model_set_filter(&m, "");
	tap_is_int(m.nview, 5, "empty filter clears");

	/* A new snapshot keeps sort and filter. */
	tui_model_set_filter(&m, "t.example");
	tui_model_set_sort(&m, TUI_SORT_RTT, 0);
	o = load(client_doc);
	tui_status_parse(o, &st, &e);
	tui_model_apply(&m, &st, 0);
	json_decref(o);
	tap_is_str(view_str(&m), "127.0.0.10:53 [::1]:5353 127.0.0.3:53",
	    "sort and filter survive a snapshot");
	tui_model_free(&m);
}

static void
test_events(void)
{
	struct tui_model m;
	char d[32];
	int i;

	tui_model_init(&m);
	tap_ok(tui_model_event_at(&m, 0) == NULL, "empty log");
	for (i = 0; i < 300; i++) {
		snprintf(d, sizeof d, "n%d", i);
		tui_model_event(&m, i, "error_drop", NULL, d, 0);
	}
	tap_is_int(m.nevents, TUI_EVENTS, "ring holds %d", TUI_EVENTS);
	tap_is_int(m.events_total, 300, "total counted");
	tap_is_str(tui_model_event_at(&m, 0)->detail, "n299", "newest");
	tap_is_str(tui_model_event_at(&m, TUI_EVENTS - 1)->detail, "n44",
	    "oldest kept");
	tap_ok(tui_model_event_at(&m, TUI_EVENTS) == NULL, "past the end");
	tui_model_free(&m);
}

static void
test_fmt(void)
{
	char b[32];

	tap_ok(tui_natcmp("127.0.0.2:53", "127.0.0.10:53") < 0, "natcmp 2<10");
	tap_ok(tui_natcmp("a10", "a9") > 0, "natcmp a10>a9");
	tap_ok(tui_natcmp("a010", "a10") == 0, "natcmp leading zeros");
	tap_ok(tui_natcmp("abc", "abd") < 0, "natcmp text");
	tap_ok(tui_natcmp("ab", "abc") < 0, "natcmp prefix first");
	tui_fmt_rate(0, b, sizeof b);
	tap_is_str(b, "0 B/s", "rate 0");
	tui_fmt_rate(1023, b, sizeof b);
	tap_is_str(b, "1023 B/s", "rate bytes");
	tui_fmt_rate(1536, b, sizeof b);
	tap_is_str(b, "1.5 KiB/s", "rate KiB");
	tui_fmt_rate(3.0 * 1048576, b, sizeof b);
	tap_is_str(b, "3.0 MiB/s", "rate MiB");
	tui_fmt_rate(NAN, b, sizeof b);
	tap_is_str(b, "0 B/s", "NaN rate is 0");
	tui_fmt_count(99999, b, sizeof b);
	tap_is_str(b, "99999", "count as is below 100000");
	tui_fmt_count(123456, b, sizeof b);
	tap_is_str(b, "123k", "count 123k");
	tui_fmt_count(12345678, b, sizeof b);
	tap_is_str(b, "12.3M", "count 12.3M");
	tui_fmt_count(-5, b, sizeof b);
	tap_is_str(b, "0", "negative count 0");
	tui_fmt_duration(59999, b, sizeof b);
	tap_is_str(b, "59s", "duration s");
	tui_fmt_duration(3723000, b, sizeof b);
	tap_is_str(b, "1h02m03s", "duration h");
	tui_fmt_duration(90061000, b, sizeof b);
	tap_is_str(b, "1d01h01m", "duration d");
}

int
main(void)
{
	test_client_parse();
	test_client_optional();
	test_checks();
	test_server_parse();
	test_dns();
	test_tun();
	test_bad_status();
	test_feed();
	test_rates();
	test_spark();
	test_sort_filter();
	test_events();
	test_fmt();
	return tap_done();
}

/*
 * fuzz-scan-answer.c — the scan's judgement of tunnel answers from
 * untrusted resolvers (judge_frame and question_matches in probe/scan.c:
 * MTU_UP/MTU_DOWN echoes, SESSION_ACCEPT with its policy, PONG, close) on
 * arbitrary bytes, in every protocol stage, raw and base64 answer modes.
 * fuzz-scan covers the reach classifier; this covers the stages after it.
 *
 * Those functions are static, so the scan's source is included here with
 * its external symbols renamed (the library's copy is linked too). Only
 * the pure part runs: no loop, no sockets. Every outcome and reason must
 * be in range, the evidence and every trace line terminated and free of
 * NUL bytes before their end, the policy numbers taken as they come.
 */
#define scan_judge_reach   fz_scan_judge_reach
#define scan_opts_defaults fz_scan_opts_defaults
#define scan_new	   fz_scan_new
#define scan_free	   fz_scan_free
#define scan_add	   fz_scan_add
#define scan_add_list	   fz_scan_add_list
#define scan_naddrs	   fz_scan_naddrs
#define scan_start	   fz_scan_start
#define scan_stop	   fz_scan_stop
#define scan_set_done_arg  fz_scan_set_done_arg
#define scan_cursor	   fz_scan_cursor
#define scan_counters	   fz_scan_counters
#define scan_stage_stats   fz_scan_stage_stats
#define scan_intercepted   fz_scan_intercepted
#define scan_server_down   fz_scan_server_down
#define scan_env_evidence  fz_scan_env_evidence
#define scan_parse_range   fz_scan_parse_range
#include "probe/scan.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
on_trace(void *arg, const struct res_resolver *r, const char *line)
{
	(void)arg;
	(void)r;
	if (strnlen(line, 600) == 600)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int states[] = {
	    IT_UP, IT_DOWN, IT_INIT, IT_PING, IT_CLOSE, IT_TCP};
	static const uint8_t qname[] = "\005probe\001t\007example";
	static struct scan s;
	static struct item it;
	enum outcome o;
	int reason = RES_R_OK, exact;

	if (size < 4)
		return 0;
	memset(&it, 0, sizeof it);
	s.o.response_mode = data[0] & 1;
	s.o.on_trace = on_trace;
	it.owner = &s;
	it.state = states[(data[0] >> 1) % nitems(states)];
	res_resolver_init(&it.r);
	mtu_search_init(&it.ms, 20, 20 + data[1] * 8, 0);
	it.code = be16_load(data + 2);
	memcpy(it.verify, data + 2, 2);
	memcpy(it.verify + 2, data, 2);
	/* Our query: header, the name above, QTYPE TXT, QCLASS IN. */
	memcpy(it.q + 12, qname, sizeof qname);
	it.qwire = sizeof qname;
	be16_store(it.q + 12 + it.qwire, DNS_TYPE_TXT);
	be16_store(it.q + 14 + it.qwire, 1);
	it.qlen = 16 + it.qwire;
	it.qchars = 15;
	data += 4;
	size -= 4;

	(void)question_matches(&it, data, size, &exact);
	o = judge_frame(&s, &it, data, size, &reason);
	if ((unsigned)o > OUT_IGNORE || reason < 0 || reason >= RES_R_COUNT)
		abort();
	if (strnlen(it.r.evidence, sizeof it.r.evidence) ==
	    sizeof it.r.evidence)
		abort();
	return 0;
}

/*
 * fuzz_pipeline.c - libFuzzer target: the whole pipeline from the bytes of
 * a capture file, opened from memory (fmemopen + pcap_fopen_offline):
 * libpcap's pcap/pcapng reader, pkt_decode, the flow table, TLS, X.509,
 * the built-in rules, and both report formats (written to /dev/null).
 *
 * The packet loop is capture/cap.c's, repeated here because cap_read_file()
 * takes a path. Inputs of odd length run with small caps (4 flows, 4
 * queued segments, 2 KiB per direction, 1 KiB handshake messages), even
 * ones with the defaults.
 * Seeds: the recorded captures in pcaps/ as they are.
 */
#include "fuzz/fuzz.h"
#include "capture/cap.h"
#include "dissect/flow.h"
#include "dissect/tls.h"
#include "dissect/x509.h"
#include "report/report.h"
#include "rules/rules.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>

static struct rule_set *rules;
static FILE *devnull;

struct ctx {
	struct rpt json, text;
	struct cap_run run;
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[512];
	(void)argc;
	(void)argv;
	devnull = fopen("/dev/null", "w");
	rules = rule_set_new();
	if (rules && rule_load_builtin(rules, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_pipeline: built-in rules do not load (%s); running without\n", err);
		rule_set_free(rules);
		rules = rule_set_new();
	}
	return 0;
}

static void on_record(struct hs_record *r, void *arg)
{
	struct ctx *c = arg;
	struct rule_findings *f = NULL;
	fuzz_record_check(r);
	if (rules) {
		struct rule_ctx rc;
		memset(&rc, 0, sizeof(rc));
		rc.capture_end_us = c->run.last_ts_us;
		rc.server_leaf_hint = r->server_chain.n ? r->server_chain.c[0].x : NULL;
		f = rule_eval(rules, r, &rc);
	}
	(void)rpt_wanted(&c->json, r);
	rpt_conn(&c->json, r, f);
	rpt_conn(&c->text, r, f);
	rule_findings_free(f);
	fuzz_record_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ctx c;
	char ebuf[PCAP_ERRBUF_SIZE];
	struct cap_input in;
	struct flow_limits lim;
	struct tls_limits saved = tls_limits;
	struct pcap_pkthdr *h;
	const u_char *pd;
	FILE *fp;
	pcap_t *pc;
	int rc;
	if (!devnull)
		LLVMFuzzerInitialize(NULL, NULL);
	if (!devnull || size == 0)
		return 0;
	fp = fmemopen((void *)data, size, "rb");
	if (!fp)
		return 0;
	pc = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_MICRO, ebuf);
	if (!pc) {
		fclose(fp);
		return 0;
	}
	memset(&c, 0, sizeof(c));
	memset(&in, 0, sizeof(in));
	in.path = "fuzz.pcap";
	in.link_name = (char *)"fuzz";
	in.dlt = pcap_datalink(pc);
	in.link_supported = pkt_dlt_supported(in.dlt);
	in.first_frame = 1;
	flow_limits_default(&lim);
	if (size & 1) {
		lim.max_flows = 4;
		lim.max_segments = 4;
		lim.max_bytes = 2048;
		tls_limits.max_handshake = 1024;
	}
	c.json.out = c.text.out = devnull;
	c.json.fmt = RPT_JSON;
	c.text.fmt = RPT_TEXT;
	c.text.all = 1;
	c.text.color = 1;   /* the escapes for a terminal run too */
	c.run.ft = flow_table_new(&lim, on_record, &c);
	if (!c.run.ft) {
		pcap_close(pc);
		tls_limits = saved;
		return 0;
	}
	rpt_begin(&c.json);
	rpt_begin(&c.text);
	while ((rc = pcap_next_ex(pc, &h, &pd)) == 1) {
		struct pkt p;
		enum pkt_result r;
		int64_t ts = (int64_t)h->ts.tv_sec * 1000000 + h->ts.tv_usec;
		c.run.frame++;
		in.packets++;
		in.bytes += h->caplen;
		c.run.ps.packets++;
		c.run.ps.bytes += h->caplen;
		if (c.run.ps.packets == 1)
			c.run.first_ts_us = in.first_ts_us = ts;
		in.last_ts_us = ts;
		if (ts > c.run.last_ts_us)
			c.run.last_ts_us = ts;
		p.frame = c.run.frame;
		p.ts_us = ts;
		r = pkt_decode(in.dlt, pd, h->caplen, h->len, &p);
		c.run.ps.by_result[r]++;
		if (r != PKT_OK)
			continue;
		flow_packet(c.run.ft, &p);
	}
	if (rc == -1)
		in.truncated = 1;
	{
		struct flow_stats fs = *flow_table_stats(c.run.ft);
		flow_table_free(c.run.ft, c.run.last_ts_us);
		rpt_end(&c.json, &in, 1, &c.run, &fs, NULL);
		rpt_end(&c.text, &in, 1, &c.run, &fs, NULL);
	}
	pcap_close(pc);   /* closes fp */
	tls_limits = saved;
	return 0;
}

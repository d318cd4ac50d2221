/*
 * fuzz_pipeline.c - libFuzzer target: the whole pipeline from the bytes of
 * a capture file, opened from memory (fmemopen + pcap_fopen_offline):
 * libpcap's pcap/pcapng reader, cap_packet (decoding, IPv4 reassembly,
 * VXLAN/GENEVE), the flow table, TLS, X.509,
 * the built-in rules, and every report format (written to /dev/null).
 *
 * The loop calls capture/cap.c's cap_packet() (cap_read_file() takes a
 * path and reads on a second thread). Inputs of odd length run with small caps (4 flows, 4
 * queued segments, 2 KiB per direction, 1 KiB handshake messages), even
 * ones with the defaults; lengths 2 and 3 mod 4 with early reporting (as
 * live capture runs it).
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
static struct x509_cache *certs;   /* one run's certificate cache, kept across inputs as a long run keeps it */
static FILE *devnull;

#define NFMT 6

struct ctx {
	struct rpt rp[NFMT];
	struct cap_run run;
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[512];
	(void)argc;
	(void)argv;
	devnull = fopen("/dev/null", "w");
	certs = x509_cache_new();
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
	struct rule_verdict *f = NULL;
	fuzz_record_check(r);
	if (rules) {
		struct rule_ctx rc;
		memset(&rc, 0, sizeof(rc));
		rc.capture_end_us = c->run.last_ts_us;
		rc.server_leaf_hint = r->server_chain.n ? r->server_chain.c[0].x : NULL;
		f = rule_eval(rules, r, &rc);
	}
	{
		int i;
		for (i = 0; i < NFMT; i++)
			if (rpt_wanted(&c->rp[i], r))
				rpt_conn(&c->rp[i], r, f);
	}
	rule_verdict_free(f);
	fuzz_record_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ctx c;
	char ebuf[PCAP_ERRBUF_SIZE];
	struct cap_input in;
	struct flow_limits lim;
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
	lim.certs = certs;
	if (size & 1) {
		lim.max_flows = 4;
		lim.max_segments = 4;
		lim.max_bytes = 2048;
		lim.tls.max_handshake = 1024;
	}
	if (size & 2) {
		lim.hs_timeout_us = 2000000;
		lim.settle_us = 300000;
	}
	{
		static const enum rpt_format fmts[NFMT] = { RPT_TEXT, RPT_JSON, RPT_JSONL, RPT_MARKDOWN, RPT_HTML, RPT_ECS };
		int i;
		for (i = 0; i < NFMT; i++) {
			c.rp[i].out = devnull;
			c.rp[i].fmt = fmts[i];
			c.rp[i].all = 1;
		}
		c.rp[0].color = 1;   /* the escapes for a terminal run too */
	}
	c.run.ft = flow_table_new(&lim, on_record, &c);
	if (!c.run.ft) {
		pcap_close(pc);
		return 0;
	}
	{
		int i;
		for (i = 0; i < NFMT; i++)
			rpt_begin(&c.rp[i]);
	}
	/* the per-packet path of files and interfaces alike (capture/cap.c) */
	while ((rc = pcap_next_ex(pc, &h, &pd)) == 1)
		cap_packet(&c.run, &in, pkt_ts_us(h->ts.tv_sec, h->ts.tv_usec, NULL), pd, h->caplen,
			   h->len);
	cap_frag_release(&c.run);
	if (rc == -1)
		in.truncated = 1;
	{
		struct flow_stats fs = *flow_table_stats(c.run.ft);
		struct rpt_input ri = { in.path, 0, in.link_name, in.link_supported, in.packets, in.bytes,
					in.first_frame, in.truncated, "", "", "", NULL };
		struct rpt_run rr;
		flow_table_free(c.run.ft, c.run.last_ts_us);
		int i;
		memset(&rr, 0, sizeof(rr));
		rr.ps = c.run.ps;
		rr.first_ts_us = c.run.first_ts_us;
		rr.last_ts_us = c.run.last_ts_us;
		for (i = 0; i < NFMT; i++) {
			rpt_end(&c.rp[i], &ri, 1, &rr, &fs, NULL);
			rpt_free(&c.rp[i]);
		}
	}
	pcap_close(pc);   /* closes fp */
	return 0;
}

/*
 * cap.c - offline capture reading through libpcap (see cap.h).
 *
 * pcap_open_offline handles pcap (all byte orders and nanosecond variants)
 * and pcapng; "-" is standard input. pcap_next_ex's -1 after packets were
 * read is a file that ends mid-packet ("truncated dump file"): processing
 * stops there for that file and the truncation is reported, not fatal.
 * Timestamps are normalised to microseconds whatever the file's precision.
 */
#include "capture/cap.h"
#include "dissect/frag.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *cap_strerror(enum cap_err e)
{
	switch (e) {
	case CAP_OK: return "ok";
	case CAP_ERR_OPEN: return "cannot read capture";
	case CAP_ERR_FILTER: return "bad filter expression";
	case CAP_ERR_LINKTYPE: return "unsupported link type";
	case CAP_ERR_CORRUPT: return "capture corrupt";
	case CAP_ERR_LIVE: return "cannot capture on the interface";
	case CAP_ERR_PRIVS: return "cannot drop privileges";
	}
	return "unknown error";
}

void cap_packet(struct cap_run *run, struct cap_input *in, int64_t ts, const uint8_t *data,
		uint32_t caplen, uint32_t wirelen)
{
	struct pkt p;
	enum pkt_result r;
	if (run->tap)
		run->tap(run->tap_arg, in, ts, data, caplen, wirelen);
	run->frame++;
	in->packets++;
	in->bytes += caplen;
	run->ps.packets++;
	run->ps.bytes += caplen;
	if (in->packets == 1)
		in->first_ts_us = ts;
	in->last_ts_us = ts;
	if (run->ps.packets == 1)
		run->first_ts_us = ts;
	if (ts > run->last_ts_us)
		run->last_ts_us = ts;
	p.frame = run->frame;
	p.ts_us = ts;
	if (!run->frag)
		run->frag = frag_table_new();   /* NULL: fragments are only counted */
	r = pkt_decode_frag(run->frag, in->dlt, data, caplen, wirelen, &p);
	run->ps.by_result[r]++;
	if (r != PKT_OK)
		return;
	if (p.encap.kind == ENCAP_VXLAN)
		run->ps.vxlan++;
	else if (p.encap.kind == ENCAP_GENEVE)
		run->ps.geneve++;
	if (p.reassembled)
		run->ps.reassembled++;
	if (p.src.family == 4)
		run->ps.ipv4++;
	else
		run->ps.ipv6++;
	if (p.vlan_depth)
		run->ps.vlan++;
	if (p.truncated)
		run->ps.truncated_payload++;
	flow_packet(run->ft, &p);
}

void cap_frag_release(struct cap_run *run)
{
	const struct frag_stats *fs;
	struct frag_table *t = run->frag;
	if (!t)
		return;
	run->frag = NULL;
	frag_flush(t);   /* what is still waiting will never be complete */
	fs = frag_table_stats(t);
	run->ps.frag_dropped += fs->dropped;
	frag_table_free(t);
}

enum cap_err cap_check_file(const char *path, const char *filter, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	struct bpf_program prog;
	pcap_t *pc = pcap_open_offline(path, ebuf);
	if (!pc) {
		snprintf(err, errlen, "%s: %s", path, ebuf);
		return CAP_ERR_OPEN;
	}
	if (filter && *filter) {
		if (pcap_compile(pc, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
			snprintf(err, errlen, "filter '%s': %s", filter, pcap_geterr(pc));
			pcap_close(pc);
			return CAP_ERR_FILTER;
		}
		pcap_freecode(&prog);
	}
	pcap_close(pc);
	return CAP_OK;
}

enum cap_err cap_read_file(struct cap_run *run, struct cap_input *in, const char *filter,
			   char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	pcap_t *pc;
	struct bpf_program prog;
	struct pcap_pkthdr *h;
	const u_char *data;
	int rc;
	const char *name;

	if (in->fp)
		pc = pcap_fopen_offline_with_tstamp_precision(in->fp, PCAP_TSTAMP_PRECISION_MICRO, ebuf);
	else
		pc = pcap_open_offline_with_tstamp_precision(in->path, PCAP_TSTAMP_PRECISION_MICRO, ebuf);
	if (!pc) {
		snprintf(err, errlen, "%s: %s", strcmp(in->path, "-") ? in->path : "(stdin)", ebuf);
		snprintf(in->error, sizeof(in->error), "%s", ebuf);
		return CAP_ERR_OPEN;
	}
	in->dlt = pcap_datalink(pc);
	name = pcap_datalink_val_to_name(in->dlt);
	in->link_name = strdup(name ? name : "unknown");
	in->link_supported = pkt_dlt_supported(in->dlt);
	in->first_frame = run->frame + 1;
	if (filter && *filter) {
		if (pcap_compile(pc, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
			snprintf(err, errlen, "filter '%s': %s", filter, pcap_geterr(pc));
			snprintf(in->error, sizeof(in->error), "bad filter: %s", pcap_geterr(pc));
			pcap_close(pc);
			return CAP_ERR_FILTER;
		}
		if (pcap_setfilter(pc, &prog) < 0) {
			snprintf(err, errlen, "filter '%s': %s", filter, pcap_geterr(pc));
			pcap_freecode(&prog);
			pcap_close(pc);
			return CAP_ERR_FILTER;
		}
		pcap_freecode(&prog);
	}
	while ((rc = pcap_next_ex(pc, &h, &data)) == 1) {
		/* libpcap scales every file to the microsecond precision we asked for */
		int64_t ts = (int64_t)h->ts.tv_sec * 1000000 + h->ts.tv_usec;
		cap_packet(run, in, ts, data, h->caplen, h->len);
	}
	if (rc == -1) {
		const char *why = pcap_geterr(pc);
		if (strstr(why, "truncated")) {
			/* the file ends mid-packet: what came before counts */
			in->truncated = 1;
			snprintf(in->warning, sizeof(in->warning), "%s", why);
		} else {
			/* damaged mid-way (a record length libpcap refuses): the
			 * packets before it were analyzed; the caller reports both */
			snprintf(err, errlen, "%s: corrupt after %llu packets: %s",
				 strcmp(in->path, "-") ? in->path : "(stdin)",
				 (unsigned long long)in->packets, why);
			snprintf(in->error, sizeof(in->error), "corrupt after %llu packets: %s",
				 (unsigned long long)in->packets, why);
			pcap_close(pc);
			return CAP_ERR_CORRUPT;
		}
	}
	pcap_close(pc);
	cap_frag_release(run);
	return CAP_OK;
}

/*
 * cap.c - reading capture files, and the per-packet path (see cap.h).
 *
 * pcapng is read by capture/pcapng.c (read_ng below; libpcap only for the
 * reference, TLSWHY_PCAP_READER=libpcap): interfaces of different link
 * types, each packet with its own (cap_packet_link), the filter compiled
 * per link type, and Decryption Secrets Blocks handed to run->secrets in
 * file order. Inputs are decompressed by capture/source.c before any of
 * this; an empty one, or one in a compression not read, is named here.
 *
 * libpcap reads every file: pcap in all byte orders and nanosecond
 * variants, and pcapng; "-" is standard input. It checks the file header
 * and says the link type and snapshot length. The reference way to read
 * the packets is here, read_reference(): pcap_next_ex, one packet at a
 * time, each handed to cap_packet(). capture/fast.c reads the same files
 * faster with the same result (classic pcap by blocks, a reader thread);
 * cap_read_file() gives it the input first (cap_fast_read) and reads here
 * what it declines. For the block reader libpcap reads only the file
 * header, from the source's first bytes (cap_src_head); the records then
 * come from the source without a stdio stream between.
 *
 * A read that ends mid-packet (libpcap asked for bytes the file did not
 * have: cap_pcap_end, or block.c's own count) is a truncated file:
 * processing stops there for that file and the truncation is reported, not
 * fatal; any other end (a record length libpcap refuses, a read error) is
 * a corrupt file. Timestamps are normalised to microseconds whatever the
 * file's precision.
 */
#include "capture/cap.h"
#include "capture/block.h"
#include "capture/fast.h"
#include "capture/pcapng.h"
#include "capture/source.h"
#include "dissect/dbuf.h"
#include "dissect/frag.h"

#include <pcap/pcap.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The inner filter on a decapsulated packet (cap.h: inner_filter). */
static int inner_passes(struct cap_run *run, const struct pkt *p)
{
	struct pcap_pkthdr h;
	const uint8_t *d = p->encap.inner;
	uint32_t n = p->encap.inner_len;
	memset(&h, 0, sizeof(h));
	if (!p->encap.inner_eth) {   /* IP in GENEVE: a blank Ethernet header, the IP version's type */
		if (!run->inner_buf || !n)
			return 0;
		if (n > CAP_INNER_BUF - 14)
			n = CAP_INNER_BUF - 14;
		memset(run->inner_buf, 0, 12);
		run->inner_buf[12] = (d[0] >> 4) == 6 ? 0x86 : 0x08;
		run->inner_buf[13] = (d[0] >> 4) == 6 ? 0xdd : 0x00;
		memcpy(run->inner_buf + 14, d, n);
		d = run->inner_buf;
		n += 14;
	}
	h.caplen = h.len = n;
	return pcap_offline_filter(run->inner_filter, &h, d) != 0;
}

int cap_inner_filter_compile(const char *filter, struct bpf_program *prog, char *err, size_t errlen)
{
	pcap_t *pc = pcap_open_dead(DLT_EN10MB, CAP_INNER_BUF);
	int rc;
	if (!pc) {
		snprintf(err, errlen, "inner filter '%s': out of memory", filter);
		return -1;
	}
	rc = pcap_compile(pc, prog, filter, 1, PCAP_NETMASK_UNKNOWN);
	if (rc)
		snprintf(err, errlen, "inner filter '%s': %s", filter, pcap_geterr(pc));
	pcap_close(pc);
	return rc ? -1 : 0;
}

int cap_file_has_tunnels(const char *path, uint64_t max)
{
	char ebuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	struct stat st;
	uint64_t n = 0;
	int found = 0, dlt;
	pcap_t *pc;
	if (stat(path, &st) || !S_ISREG(st.st_mode))
		return 0;   /* standard input, a pipe: read once, already */
	pc = pcap_open_offline(path, ebuf);
	if (!pc)
		return 0;
	dlt = pcap_datalink(pc);
	while (!found && n++ < max && pcap_next_ex(pc, &h, &data) == 1) {
		struct pkt p;
		memset(&p, 0, sizeof(p));
		p.encap.depth = 0;
		found = pkt_decode(dlt, data, h->caplen, h->len, &p) == PKT_OK && p.encap.depth;
	}
	pcap_close(pc);
	return found;
}

/* Counts a frame and decodes it (everything cap_packet does before the
 * flow table, but the capture clock): the reader thread runs this ahead of
 * the analysis. PKT_OK: *p is a TCP segment for flow_packet. */
enum pkt_result cap_count_decode(struct cap_run *run, struct cap_input *in, int dlt, int64_t ts,
				 const uint8_t *data, uint32_t caplen, uint32_t wirelen, struct pkt *p)
{
	enum pkt_result r;
	if (ts <= PKT_TS_MIN_S * 1000000 || ts >= PKT_TS_MAX_S * 1000000 + 999999)
		run->ps.ts_clamped++;   /* pkt_ts_us() held it to years 1..9999 */
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
	p->frame = run->frame;
	p->ts_us = ts;
	if (!run->frag)
		run->frag = frag_table_new();   /* NULL: fragments are only counted */
	r = pkt_decode_frag(run->frag, dlt, data, caplen, wirelen, p);
	if (r == PKT_OK && p->encap.depth) {
		run->tunnelled++;
		if (run->inner_filter && !inner_passes(run, p)) {
			run->inner_rejected++;
			return PKT_NOT_TCP;   /* read and counted as a packet, not analyzed */
		}
	}
	run->ps.by_result[r]++;
	if (r != PKT_OK)
		return r;
	if (p->encap.kind == ENCAP_VXLAN)
		run->ps.vxlan++;
	else if (p->encap.kind == ENCAP_GENEVE)
		run->ps.geneve++;
	if (p->reassembled)
		run->ps.reassembled++;
	if (p->src.family == 4)
		run->ps.ipv4++;
	else
		run->ps.ipv6++;
	if (p->vlan_depth)
		run->ps.vlan++;
	if (p->truncated)
		run->ps.truncated_payload++;
	return PKT_OK;
}

void cap_packet(struct cap_run *run, struct cap_input *in, int64_t ts, const uint8_t *data,
		uint32_t caplen, uint32_t wirelen)
{
	cap_packet_link(run, in, in->dlt, ts, data, caplen, wirelen);
}

void cap_packet_link(struct cap_run *run, struct cap_input *in, int dlt, int64_t ts, const uint8_t *data,
		     uint32_t caplen, uint32_t wirelen)
{
	struct pkt p;
	enum pkt_result r = cap_count_decode(run, in, dlt, ts, data, caplen, wirelen, &p);
	if (ts > run->now_us)
		run->now_us = ts;
	if (r == PKT_OK)
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

/* The input's name in messages. */
static const char *in_name(const struct cap_input *in)
{
	return strcmp(in->path, "-") ? in->path : "(stdin)";
}

/* Why an input is not a capture when its first bytes (as stored) say so
 * better than libpcap's "unknown file format": a compression we do not
 * read, with the command that does. 1 with `msg`. */
static int format_hint(const uint8_t *m, size_t n, char *msg, size_t len)
{
	static const struct {
		uint8_t magic[6];
		size_t n;
		const char *what, *tool;
	} kinds[] = {
		{ { 0x1f, 0x8b }, 2, "gzip-compressed, and this tlswhy was built without zlib", "zcat" },
		{ { 0x28, 0xb5, 0x2f, 0xfd }, 4, "zstd-compressed, and this tlswhy was built without libzstd", "zstdcat" },
		{ { 0xfd, '7', 'z', 'X', 'Z', 0 }, 6, "xz-compressed, which tlswhy does not read directly", "xzcat" },
		{ { 'B', 'Z', 'h' }, 3, "bzip2-compressed, which tlswhy does not read directly", "bzcat" },
		{ { 0x04, 0x22, 0x4d, 0x18 }, 4, "lz4-compressed, which tlswhy does not read directly", "lz4cat" },
	};
	size_t i;
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (n >= kinds[i].n && memcmp(m, kinds[i].magic, kinds[i].n) == 0 && (i > 1 || !cap_src_can_decompress(m, n))) {
			snprintf(msg, len, "%s: %s FILE | tlswhy -r - ...", kinds[i].what, kinds[i].tool);
			return 1;
		}
	return 0;
}

enum cap_err cap_check_file(struct cap_input *in, const char *filter, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	struct bpf_program prog;
	FILE *f = cap_src_check_stream(in->src);
	enum cap_err rc = CAP_OK;
	pcap_t *pc;
	uint8_t m[6];
	size_t mn;
	int c;
	if (!f)
		return CAP_OK;   /* checked as it is read */
	mn = cap_src_peek(in->src, m, sizeof(m));
	c = getc(f);
	if (c == EOF || format_hint(m, mn, ebuf, sizeof(ebuf))) {
		fclose(f);
		if (c == EOF)
			snprintf(ebuf, sizeof(ebuf), mn ? "no data after decompression" : "empty file");
		snprintf(err, errlen, "%s: %s", in->path, ebuf);
		rc = CAP_ERR_OPEN;
		goto done;
	}
	ungetc(c, f);
	pc = pcap_fopen_offline(f, ebuf);
	if (!pc) {
		fclose(f);
		/* libpcap names the file in some messages and not in others */
		if (strncmp(ebuf, in->path, strlen(in->path)) == 0)
			snprintf(err, errlen, "%s", ebuf);
		else
			snprintf(err, errlen, "%s: %s", in->path, ebuf);
		rc = CAP_ERR_OPEN;
	} else {
		if (filter && *filter) {
			if (pcap_compile(pc, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
				snprintf(err, errlen, "filter '%s': %s", filter, pcap_geterr(pc));
				rc = CAP_ERR_FILTER;
			} else {
				pcap_freecode(&prog);
			}
		}
		pcap_close(pc);   /* closes f */
	}
done:
	if (cap_src_check_done(in->src) && rc == CAP_OK) {
		snprintf(err, errlen, "%s: cannot go back to its start", in->path);
		rc = CAP_ERR_OPEN;
	}
	return rc;
}

enum cap_err cap_set_filter(pcap_t *pc, const char *filter, uint32_t mask, char *err, size_t errlen, char *bad,
			    size_t badlen)
{
	struct bpf_program prog;
	if (pcap_compile(pc, &prog, filter, 1, mask) < 0) {
		snprintf(err, errlen, "filter '%s': %s", filter, pcap_geterr(pc));
		if (bad)
			snprintf(bad, badlen, "bad filter: %s", pcap_geterr(pc));
		return CAP_ERR_FILTER;
	}
	if (pcap_setfilter(pc, &prog) < 0) {
		snprintf(err, errlen, "filter '%s': %s", filter, pcap_geterr(pc));
		pcap_freecode(&prog);
		return CAP_ERR_FILTER;
	}
	pcap_freecode(&prog);
	return CAP_OK;
}

/* ---- reading ------------------------------------------------------------ */

enum cap_end cap_pcap_end(pcap_t *pc)
{
	/* libpcap's reads are freads on this stream: a short one that was not
	 * an error set its end-of-file flag */
	return feof(pcap_file(pc)) ? CAP_END_TRUNCATED : CAP_END_CORRUPT;
}

/* The reference: every packet through pcap_next_ex, on this thread, up
 * to `count` packets in the run (0: all). */
static enum cap_end read_reference(const struct cap_rd *r, uint64_t count, char *why, size_t whylen)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	int rc = 1;
	while ((!count || r->run->ps.packets < count) && (rc = pcap_next_ex(r->pc, &h, &data)) == 1) {
		/* libpcap scales every file to the microsecond precision we asked for */
		int64_t ts = pkt_ts_us(h->ts.tv_sec, h->ts.tv_usec, NULL);
		cap_packet(r->run, r->in, ts, data, h->caplen, h->len);
	}
	if (count && r->run->ps.packets >= count)
		return CAP_END_CLEAN;
	if (rc != -1)
		return CAP_END_CLEAN;
	snprintf(why, whylen, "%s", pcap_geterr(r->pc));
	return cap_pcap_end(r->pc);
}

static enum cap_err cap_finish_end(struct cap_run *run, struct cap_input *in, enum cap_end end, const char *why,
				   char *err, size_t errlen);

/* ---- pcapng, read by capture/pcapng.c ----------------------------------- */

#define NG_MAX_LINKS 64   /* distinct (link type, snapshot) pairs a filter is compiled for */
#define NG_MAX_NAMES 8    /* distinct link types named in the report */

struct ng_link {
	int dlt;
	uint32_t snapshot;
	struct bpf_program prog;
	int compiled;
};

struct cap_ngrd {
	struct cap_ng *rd;
	const char *filter;
	/* reading side */
	struct ng_link link[NG_MAX_LINKS];
	int nlink;
	struct dbuf if_b;        /* if_link's bytes */
	uint8_t *if_link;        /* per interface of the section: index into link */
	uint32_t n_if;
	int open_failed;         /* ended before the first interface: as libpcap failing to open */
	int filter_failed;       /* the filter does not compile for an interface's link type */
	/* analysis side */
	int dlts[NG_MAX_NAMES];
	int ndlt, more_dlts, all_supported;
};

static size_t ng_src_read(void *arg, uint8_t *buf, size_t n, int *err)
{
	return cap_src_read(arg, buf, n, err);
}

/* The compiled filter for an interface's link type (made once per pair). */
static int ng_link_for(struct cap_ngrd *g, const struct cap_ng_iface *f, char *why, size_t whylen)
{
	int i;
	pcap_t *dead;
	struct ng_link *l;
	for (i = 0; i < g->nlink; i++)
		if (g->link[i].dlt == f->dlt && g->link[i].snapshot == f->snapshot)
			return i;
	if (g->nlink == NG_MAX_LINKS) {
		snprintf(why, whylen, "more than %d different link types", NG_MAX_LINKS);
		return -1;
	}
	l = &g->link[g->nlink];
	memset(l, 0, sizeof(*l));
	l->dlt = f->dlt;
	l->snapshot = f->snapshot;
	if (g->filter && *g->filter) {
		dead = pcap_open_dead(f->dlt, (int)(f->snapshot > 0x7fffffff ? 0x7fffffff : f->snapshot));
		if (!dead) {
			snprintf(why, whylen, "out of memory");
			return -1;
		}
		if (pcap_compile(dead, &l->prog, g->filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
			const char *name = pcap_datalink_val_to_name(f->dlt);
			snprintf(why, whylen, "filter '%s' on interface %u (%s): %s", g->filter, f->index,
				 name ? name : "unknown link type", pcap_geterr(dead));
			pcap_close(dead);
			g->filter_failed = 1;
			return -1;
		}
		pcap_close(dead);
		l->compiled = 1;
	}
	return g->nlink++;
}

int cap_ng_pull(const struct cap_rd *r, struct cap_item *it, enum cap_end *end, char *why, size_t whylen)
{
	struct cap_ngrd *g = r->ng;
	struct cap_ng_event ev;
	for (;;) {
		cap_ng_next(g->rd, &ev);
		switch (ev.kind) {
		case CAP_NG_IFACE: {
			int li = ng_link_for(g, ev.iface, why, whylen);
			if (li < 0) {
				*end = CAP_END_CORRUPT;
				return 0;
			}
			if (ev.iface->index == 0)
				g->n_if = 0;   /* a new section */
			if (ev.iface->index >= g->n_if) {
				if (dbuf_grow(&g->if_b, (size_t)ev.iface->index + 1) != DBUF_OK) {
					snprintf(why, whylen, "out of memory");
					*end = CAP_END_CORRUPT;
					return 0;
				}
				g->if_link = g->if_b.p;
				g->n_if = ev.iface->index + 1;
			}
			g->if_link[ev.iface->index] = (uint8_t)li;
			memset(it, 0, sizeof(*it));
			it->kind = CAP_ITEM_IFACE;
			it->dlt = ev.iface->dlt;
			return 1;
		}
		case CAP_NG_PACKET: {
			const struct ng_link *l = &g->link[g->if_link[ev.pkt.iface->index]];
			if (l->compiled) {
				/* what pcap_next_ex would have passed to the filter */
				struct pcap_pkthdr h;
				memset(&h, 0, sizeof(h));
				h.caplen = ev.pkt.caplen;
				h.len = ev.pkt.len;
				if (!pcap_offline_filter(&l->prog, &h, ev.pkt.data))
					continue;
			}
			it->kind = CAP_ITEM_PACKET;
			it->dlt = l->dlt;
			it->ts_us = ev.pkt.ts_us;
			it->caplen = ev.pkt.caplen;
			it->len = ev.pkt.len;
			it->data = ev.pkt.data;
			return 1;
		}
		case CAP_NG_SECRETS:
			memset(it, 0, sizeof(*it));
			it->kind = CAP_ITEM_SECRETS;
			it->caplen = ev.secrets.len;
			it->len = ev.secrets.type;
			it->data = ev.secrets.data;
			return 1;
		case CAP_NG_END:
			*end = ev.end;
			g->open_failed = ev.open;
			if (ev.end != CAP_END_CLEAN)
				snprintf(why, whylen, "%s", ev.why);
			return 0;
		}
	}
}

void cap_ng_deliver(const struct cap_rd *r, const struct cap_item *it)
{
	struct cap_ngrd *g = r->ng;
	int i;
	switch (it->kind) {
	case CAP_ITEM_PACKET:
		cap_packet_link(r->run, r->in, it->dlt, it->ts_us, it->data, it->caplen, it->len);
		break;
	case CAP_ITEM_IFACE:
		if (g->ndlt == 0 && !g->more_dlts) {
			r->in->dlt = it->dlt;
			g->all_supported = 1;
		}
		if (!pkt_dlt_supported(it->dlt))
			g->all_supported = 0;
		for (i = 0; i < g->ndlt && g->dlts[i] != it->dlt; i++)
			;
		if (i == g->ndlt) {
			if (g->ndlt < NG_MAX_NAMES)
				g->dlts[g->ndlt++] = it->dlt;
			else
				g->more_dlts = 1;
		}
		break;
	case CAP_ITEM_SECRETS:
		if (r->run->secrets)
			r->run->secrets(r->run->secrets_arg, r->in, it->len, it->data, it->caplen);
		break;
	}
}

/* The input's link types for the report: "EN10MB", or "EN10MB+LINUX_SLL+LINUX_SLL2". */
static void ng_link_names(struct cap_input *in, const struct cap_ngrd *g)
{
	char names[256] = "";
	size_t o = 0;
	int i;
	for (i = 0; i < g->ndlt; i++) {
		const char *n = pcap_datalink_val_to_name(g->dlts[i]);
		char num[16];
		if (!n) {
			snprintf(num, sizeof(num), "%d", g->dlts[i]);
			n = num;
		}
		o += (size_t)snprintf(names + o, sizeof(names) - o, "%s%s", i ? "+" : "", n);
		if (o >= sizeof(names))
			break;
	}
	if (g->more_dlts && o < sizeof(names))
		snprintf(names + o, sizeof(names) - o, "+...");
	free(in->link_name);
	in->link_name = strdup(g->ndlt ? names : "unknown");
	in->link_supported = g->ndlt && g->all_supported;
}

/* A pcapng input on this thread alone. */
static enum cap_end read_ng_here(const struct cap_rd *r, char *why, size_t whylen)
{
	struct cap_item it;
	enum cap_end end = CAP_END_CLEAN;
	while (cap_ng_pull(r, &it, &end, why, whylen))
		cap_ng_deliver(r, &it);
	return end;
}

/* Reads a pcapng input with capture/pcapng.c to its end. */
static enum cap_err read_ng(struct cap_rd *r, const char *filter, const struct cap_read_opts *ro, char *err,
			    size_t errlen)
{
	char why[CAP_BLK_WHY] = "";
	struct cap_input *in = r->in;
	struct cap_ngrd *g = calloc(1, sizeof(*g));
	enum cap_end end = CAP_END_CLEAN;
	size_t hlen;
	const uint8_t *head = cap_src_head(in->src, &hlen);
	int i;
	if (g) {
		dbuf_init(&g->if_b, 16, CAP_NG_MAX_IFACES);
		g->rd = cap_ng_new(head, hlen, ng_src_read, in->src);
	}
	if (!g || !g->rd) {
		free(g);
		snprintf(err, errlen, "%s: out of memory", in_name(in));
		snprintf(in->error, sizeof(in->error), "out of memory");
		cap_src_finish(in->src);
		return CAP_ERR_OPEN;
	}
	g->filter = filter;
	r->ng = g;
	in->first_frame = r->run->frame + 1;
	if (ro->show)
		fprintf(stderr, "tlswhy: reader: pcapng: %s\n", in->path);
	r->fills = ro->fills;
	if (cap_fast_read(r, !ro->one_thread, &end, why, sizeof(why)))
		end = read_ng_here(r, why, sizeof(why));
	ng_link_names(in, g);
	for (i = 0; i < g->nlink; i++)
		if (g->link[i].compiled)
			pcap_freecode(&g->link[i].prog);
	cap_ng_free(g->rd);
	dbuf_free(&g->if_b);
	cap_src_finish(in->src);
	r->ng = NULL;
	if (g->filter_failed || g->open_failed) {
		int filt = g->filter_failed;
		free(g);
		if (filt) {
			snprintf(err, errlen, "%s", why);
			snprintf(in->error, sizeof(in->error), "bad filter: %s", why);
			return CAP_ERR_FILTER;
		}
		snprintf(err, errlen, "%s: %s", in_name(in), why);
		snprintf(in->error, sizeof(in->error), "%s", why);
		return CAP_ERR_OPEN;
	}
	free(g);
	return cap_finish_end(r->run, in, end, why, err, errlen);
}

/* libpcap on the file header alone, from the source's first bytes, when
 * the block reader can read the rest exactly as libpcap would (block.c):
 * the records then never pass through a stdio stream. NULL otherwise. */
static pcap_t *open_for_blocks(struct cap_rd *r)
{
	char ebuf[PCAP_ERRBUF_SIZE];
	size_t len;
	const uint8_t *head = cap_src_head(r->in->src, &len);
	FILE *f;
	pcap_t *pc;
	if (len < CAP_BLK_HDR || !cap_blk_eligible(head, 1, 1))
		return NULL;   /* not classic pcap in this host's byte order */
	f = fmemopen((void *)(uintptr_t)head, CAP_BLK_HDR, "rb");
	pc = f ? pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_MICRO, ebuf) : NULL;
	if (!pc) {
		if (f)
			fclose(f);
		return NULL;   /* libpcap says why when it reads the whole input */
	}
	if (pcap_is_swapped(pc) ||
	    !cap_blk_eligible(head, pkt_dlt_supported(pcap_datalink(pc)), pcap_snapshot(pc))) {
		pcap_close(pc);
		return NULL;
	}
	r->blocks = 1;
	r->src.from = r->in->src;
	r->src.snapshot = (uint32_t)pcap_snapshot(pc);
	r->src.nsec = cap_blk_nsec(head);
	return pc;
}

/* Opens libpcap on the input: on its header for the block reader, else on
 * the whole of it. NULL with `ebuf`. */
static pcap_t *open_input(struct cap_rd *r, const struct cap_read_opts *ro, char *ebuf)
{
	FILE *f;
	pcap_t *pc = ro->reference || ro->count ? NULL : open_for_blocks(r);
	if (pc)
		return pc;
	f = cap_src_stream(r->in->src);
	if (!f) {
		snprintf(ebuf, PCAP_ERRBUF_SIZE, "out of memory");
		return NULL;
	}
	return pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_MICRO, ebuf);
}

/* The link type, and the filter: set on libpcap, and for the block reader
 * compiled to run as pcap_next_ex would run it. */
static enum cap_err set_up(struct cap_rd *r, const char *filter, char *err, size_t errlen)
{
	struct cap_input *in = r->in;
	const char *name;
	enum cap_err rc;
	in->dlt = pcap_datalink(r->pc);
	name = pcap_datalink_val_to_name(in->dlt);
	in->link_name = strdup(name ? name : "unknown");
	in->link_supported = pkt_dlt_supported(in->dlt);
	in->first_frame = r->run->frame + 1;
	if (!filter || !*filter)
		return CAP_OK;
	rc = cap_set_filter(r->pc, filter, PCAP_NETMASK_UNKNOWN, err, errlen, in->error, sizeof(in->error));
	if (rc == CAP_OK && r->blocks) {
		/* compiled as cap_set_filter did, which succeeded */
		if (pcap_compile(r->pc, &r->prog, filter, 1, PCAP_NETMASK_UNKNOWN) == 0)
			r->filtered = 1;
		else
			rc = CAP_ERR_FILTER;
	}
	return rc;
}

enum cap_err cap_read_file(struct cap_run *run, struct cap_input *in, const char *filter,
			   const struct cap_read_opts *ro, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	char why[CAP_BLK_WHY] = "";   /* how the read ended, from libpcap or block.c */
	enum cap_end end = CAP_END_CLEAN;
	enum cap_err rc;
	struct cap_rd r;

	memset(&r, 0, sizeof(r));
	r.run = run;
	r.in = in;
	{
		size_t hlen, mn;
		const uint8_t *head = cap_src_head(in->src, &hlen);
		const uint8_t *m = cap_src_magic(in->src, &mn);
		if (!hlen || format_hint(m, mn, ebuf, sizeof(ebuf))) {
			if (!hlen)
				snprintf(ebuf, sizeof(ebuf), "%s",
					 cap_src_zerror(in->src) ? cap_src_zerror(in->src)
					 : cap_src_ztruncated(in->src) ? "the compressed data ends before any capture data"
					 : cap_src_compression(in->src) ? "no data after decompression" : "empty file");
			cap_src_finish(in->src);
			snprintf(err, errlen, "%s: %s", in_name(in), ebuf);
			snprintf(in->error, sizeof(in->error), "%s", ebuf);
			return CAP_ERR_OPEN;
		}
		if (!ro->reference && cap_ng_is(head, hlen))
			return read_ng(&r, filter, ro, err, errlen);
	}
	r.pc = open_input(&r, ro, ebuf);
	if (!r.pc) {
		snprintf(err, errlen, "%s: %s", in_name(in), ebuf);
		snprintf(in->error, sizeof(in->error), "%s", ebuf);
		return CAP_ERR_OPEN;
	}
	rc = set_up(&r, filter, err, errlen);
	if (rc == CAP_OK) {
		if (ro->show)   /* tests/reader.sh: which way read it */
			fprintf(stderr, "tlswhy: reader: %s: %s\n", r.blocks ? "blocks" : "libpcap", in->path);
		r.fills = ro->fills;
		if (ro->count || cap_fast_read(&r, !ro->one_thread, &end, why, sizeof(why)))
			end = read_reference(&r, ro->count, why, sizeof(why));
	}
	if (r.filtered)
		pcap_freecode(&r.prog);
	pcap_close(r.pc);
	cap_src_finish(in->src);   /* the hash of the whole input, read to its end or not */
	if (rc != CAP_OK)
		return rc;
	return cap_finish_end(run, in, end, why, err, errlen);
}

/* How reading an input ended, said in `in` and `err`. */
static enum cap_err cap_finish_end(struct cap_run *run, struct cap_input *in, enum cap_end end, const char *why,
				   char *err, size_t errlen)
{
	char zwhy[CAP_BLK_WHY];
	if (cap_src_zerror(in->src) && end != CAP_END_CORRUPT) {
		/* the capture reader saw a short read; the decompressor knows why */
		snprintf(zwhy, sizeof(zwhy), "%s", cap_src_zerror(in->src));
		why = zwhy;
		end = CAP_END_CORRUPT;
	} else if (cap_src_zerror(in->src)) {
		snprintf(zwhy, sizeof(zwhy), "%s", cap_src_zerror(in->src));
		why = zwhy;
	} else if (end == CAP_END_CLEAN && cap_src_ztruncated(in->src)) {
		snprintf(zwhy, sizeof(zwhy), "the %s stream ends early", cap_src_compression(in->src));
		why = zwhy;
		end = CAP_END_TRUNCATED;
	}
	if (end == CAP_END_TRUNCATED) {
		/* the file ends mid-packet: what came before counts */
		in->truncated = 1;
		snprintf(in->warning, sizeof(in->warning), "%s", why);
	} else if (end == CAP_END_CORRUPT) {
		/* damaged mid-way (a record length libpcap refuses): the
		 * packets before it were analyzed; the caller reports both */
		snprintf(err, errlen, "%s: corrupt after %llu packets: %s", in_name(in),
			 (unsigned long long)in->packets, why);
		snprintf(in->error, sizeof(in->error), "corrupt after %llu packets: %s",
			 (unsigned long long)in->packets, why);
		return CAP_ERR_CORRUPT;
	}
	cap_frag_release(run);
	return CAP_OK;
}

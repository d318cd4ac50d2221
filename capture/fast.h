/*
 * fast.h - reading a capture file faster than pcap_next_ex one packet at
 * a time, with the same result: the block reader (capture/block.c) and a
 * reader thread, behind one entry point, cap_fast_read(). capture/cap.c
 * opens the input, fills a struct cap_rd, and calls it; when it declines,
 * cap.c's reference loop reads. Internal to capture/.
 */
#ifndef TLSWHY_CAP_FAST_H
#define TLSWHY_CAP_FAST_H

#include <pcap/pcap.h>

#include "capture/block.h"
#include "capture/cap.h"

struct cap_ngrd;             /* cap.c: a pcapng input read by capture/pcapng.c */

struct cap_rd {              /* one input being read */
	pcap_t *pc;              /* blocks: open on the file header only; else on the whole input; NULL with ng */
	struct cap_ngrd *ng;     /* pcapng read by capture/pcapng.c (not libpcap): cap_ng_pull, cap_ng_deliver */
	int blocks;              /* 1: capture/block.c reads the records; 0: pcap_next_ex */
	struct cap_blk_src src;  /* blocks: where the records come from */
	struct bpf_program prog; /* blocks with a filter: libpcap applies it only in pcap_next_ex */
	int filtered;
	int fills;               /* enum cap_fills (cap_read_opts) */
	struct cap_run *run;
	struct cap_input *in;
};

/* Reads the input to its end, as the reference loop would: 0 with *end
 * (and `why` unless clean), or 1 when it declines (libpcap reading on this
 * thread, or no memory for a block: nothing was read). `threads`: a reader
 * thread may be used. */
int cap_fast_read(const struct cap_rd *r, int threads, enum cap_end *end, char *why, size_t whylen);

/* capture/cap.c's: everything cap_packet does before the flow table but
 * the capture clock, which the reader thread runs ahead of the analysis.
 * PKT_OK: *p is a TCP segment for flow_packet. */
enum pkt_result cap_count_decode(struct cap_run *run, struct cap_input *in, int dlt, int64_t ts,
				 const uint8_t *data, uint32_t caplen, uint32_t wirelen, struct pkt *p);
/* What the reading side of a pcapng input hands the analysis side, in
 * file order: a packet (its interface's link type), an interface (the
 * input's link types, for the report), a Decryption Secrets Block. */
enum cap_item_kind { CAP_ITEM_PACKET = 0, CAP_ITEM_IFACE, CAP_ITEM_SECRETS };
struct cap_item {
	int kind;
	int dlt;                 /* packet, interface */
	int64_t ts_us;
	uint32_t caplen;         /* bytes at data */
	uint32_t len;            /* packet: its length on the wire; secrets: the secrets type */
	const uint8_t *data;     /* valid until the next cap_ng_pull */
};
/* Reading side (the reader thread): the next item the filter keeps; 0 at
 * the end, with *end (and `why` unless clean). */
int cap_ng_pull(const struct cap_rd *r, struct cap_item *it, enum cap_end *end, char *why, size_t whylen);
/* Analysis side: the item into cap_packet_link(), the input's link types,
 * or run->secrets. */
void cap_ng_deliver(const struct cap_rd *r, const struct cap_item *it);

/* How a pcap_next_ex that returned -1 ended: the stream ran out mid-packet
 * (libpcap asked for bytes that were not there), or anything else. */
enum cap_end cap_pcap_end(pcap_t *pc);

#endif

/*
 * fuzz_flow.c - libFuzzer target: the flow table and TCP reassembly
 * (dissect/flow.c) with the TLS dissector behind it, from synthetic
 * segments, with caps small enough that every one of them is hit (the
 * table-wide out-of-order budget too).
 *
 * Input: byte 0 options (bit 0: --max-segments 0 and --max-buffer 0; bit 1:
 * early reporting, as live capture runs it: hs_timeout 2 s, settle 0.3 s,
 * with flow_tick() after packets whose reserved byte 12 is odd), then
 * packets, each a 14-byte header and its payload:
 *   0      TCP flags
 *   1      bit 0 direction (0 client port -> server port), bits 1-2 which
 *          of 4 connections, bit 3 snaplen cut (wirelen = paylen + 100),
 *          bits 4-7 packet time advance in 0.5 s steps (idle/linger expiry)
 *   2-5    sequence number relative to that direction's base
 *   6-9    acknowledgement number relative to the other direction's base
 *   10-11  payload length (clipped to what is left)
 *   12     bit 0: flow_tick() 1 s later after this packet (early reporting);
 *          bits 1-2 the IPv4 header checksum (enum pkt_csum); bit 3 the
 *          TCP checksum is checked, over the 20 input bytes before the
 *          payload taken as the TCP header (most fail: a bad checksum;
 *          a field holding the pseudo-header's sum is offload);
 *          bits 4-7 a SYN's MSS option in 128-byte steps (0: none):
 *          a bad-checksum segment larger than it is read (TSO/GRO)
 *   13     bits 0-3 a SYN's window scale (15: none), bits 4-7 the window's
 *          high nibble (window = nibble << 12 | 0xfff): the window checks
 *          and the first-copy-wins overlap handling (queued and in order)
 *          see wrapped, scaled, unscaled and tiny windows
 * Overlaps come from the sequence numbers (any segment may cover queued or
 * delivered bytes with other bytes). The bases sit just below 2^32 so
 * streams wrap. Records are checked and
 * freed as the flow table retires them.
 * Seeds (fuzz/seeds.c): the first connection of each recorded capture.
 */
#include "fuzz/fuzz.h"
#include "dissect/flow.h"
#include "dissect/x509.h"

#include <string.h>

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void done(struct hs_record *r, void *arg)
{
	(void)arg;
	fuzz_record_check(r);
	fuzz_record_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct flow_limits lim;
	struct flow_table *ft;
	size_t i = 1;
	uint64_t frame = 0;
	int64_t ts = 1700000000000000LL;
	static const uint32_t base[2] = { 0xfffff000u, 0x7ffffff0u };
	if (size < 1)
		return 0;
	flow_limits_default(&lim);
	lim.max_flows = 3;
	lim.max_segments = (data[0] & 1) ? 0 : 8;
	lim.max_bytes = (data[0] & 1) ? 0 : 4096;
	lim.max_total = 6000;   /* less than 3 flows x 2 directions x 4096 */
	lim.idle_us = 5000000;
	lim.linger_us = 1000000;
	if (data[0] & 2) {
		lim.hs_timeout_us = 2000000;
		lim.settle_us = 300000;
	}
	ft = flow_table_new(&lim, done, NULL);
	if (!ft)
		return 0;
	while (i + 14 <= size) {
		const uint8_t *h = data + i;
		struct pkt p;
		int dir = h[1] & 1, conn = (h[1] >> 1) & 3;
		size_t len = (size_t)h[10] << 8 | h[11];
		i += 14;
		if (len > size - i)
			len = size - i;
		memset(&p, 0, sizeof(p));
		p.frame = ++frame;
		ts += (int64_t)(h[1] >> 4) * 500000;
		p.ts_us = ts;
		p.src.family = p.dst.family = 4;
		p.src.addr[0] = p.dst.addr[0] = 10;
		p.src.addr[3] = (uint8_t)(dir ? 2 : 1);
		p.dst.addr[3] = (uint8_t)(dir ? 1 : 2);
		p.src.port = (uint16_t)(dir ? 443 : 40000 + conn);
		p.dst.port = (uint16_t)(dir ? 40000 + conn : 443);
		p.flags = h[0];
		p.seq = base[dir] + rd32(h + 2);
		p.ack = base[!dir] + rd32(h + 6);
		p.payload = data + i;
		p.paylen = (uint32_t)len;
		p.wirelen = (uint32_t)len + ((h[1] & 8) ? 100 : 0);
		p.truncated = p.wirelen > p.paylen;
		p.win = (uint16_t)((h[13] >> 4) << 12 | 0xfff);
		p.wscale = (h[13] & 15) == 15 ? PKT_NO_WSCALE : (uint8_t)(h[13] & 15);
		p.ip_csum = (uint8_t)((h[12] >> 1) & 3);
		if (p.flags & 0x02)
			p.mss = (uint16_t)((h[12] >> 4) * 128);
		if ((h[12] & 8) && !p.truncated && i >= 20)
			p.tcp_hl = 5;
		flow_packet(ft, &p);
		if ((data[0] & 2) && (h[12] & 1)) {
			ts += 1000000;
			flow_tick(ft, ts);
		}
		i += len;
	}
	FUZZ_CHECK(flow_table_active(ft) <= lim.max_flows);
	flow_table_free(ft, ts);
	return 0;
}

/*
 * decode.h - link layer, IP and TCP header decoding into struct pkt.
 *
 * One call per captured packet: pkt_decode() walks the link header
 * (Ethernet, 802.1Q/802.1ad stacks, Linux cooked v1/v2, BSD loopback/NULL,
 * raw IPv4/IPv6), IPv4 (with options) or IPv6 (with extension headers) and
 * the TCP header, and points `payload` into the packet bytes: nothing is
 * copied. Anything it does not handle is counted in struct pkt_stats and
 * skipped; nothing here is fatal.
 */
#ifndef TLSWHY_DECODE_H
#define TLSWHY_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "dissect/record.h"

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10

#define PKT_MAX_VLAN_DEPTH 8

struct pkt {
	uint64_t frame;
	int64_t ts_us;
	struct hs_addr src, dst;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;
	const uint8_t *payload;
	uint32_t paylen;        /* bytes present in the capture */
	uint32_t wirelen;       /* bytes the IP header says the segment carried */
	uint8_t truncated;      /* paylen < wirelen: cut by snaplen */
	uint8_t vlan_depth;
};

enum pkt_result {
	PKT_OK = 0,
	PKT_NOT_IP,             /* ARP, LLDP, ... */
	PKT_NOT_TCP,            /* UDP, ICMP, ... */
	PKT_LINK_UNSUPPORTED,   /* a link type we do not decode */
	PKT_FRAGMENT,           /* an IPv4/IPv6 fragment (not reassembled yet) */
	PKT_TRUNCATED,          /* headers cut short by the capture */
	PKT_MALFORMED,          /* headers that contradict themselves */
	PKT__COUNT
};

struct pkt_stats {
	uint64_t packets;
	uint64_t bytes;
	uint64_t by_result[PKT__COUNT];
	uint64_t ipv4, ipv6, vlan, truncated_payload;
};

/* `dlt` is the pcap link type (DLT_* / LINKTYPE_*). */
enum pkt_result pkt_decode(int dlt, const uint8_t *data, uint32_t caplen, uint32_t wirelen,
			   struct pkt *out);
const char *pkt_result_name(enum pkt_result r);
int pkt_dlt_supported(int dlt);

#endif

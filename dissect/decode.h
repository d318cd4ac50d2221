/*
 * decode.h - link layer, IP and TCP header decoding into struct pkt.
 *
 * One call per captured packet: pkt_decode() walks the link header
 * (Ethernet, 802.1Q/802.1ad stacks, Linux cooked v1/v2, BSD loopback/NULL,
 * raw IPv4/IPv6), IPv4 (with options) or IPv6 (with extension headers) and
 * the TCP header, and points `payload` into the packet bytes: nothing is
 * copied. Anything it does not handle is counted in struct pkt_stats and
 * skipped; nothing here is fatal.
 *
 * Tunnels: UDP to port 4789 is VXLAN (RFC 7348; AWS VPC Traffic Mirroring)
 * and carries an Ethernet frame; UDP to port 6081 is GENEVE (RFC 8926; AWS
 * Gateway Load Balancer) and carries what its protocol type says (IPv4 or
 * IPv6 without Ethernet, or Ethernet). Both are opened up to
 * PKT_MAX_ENCAP_DEPTH levels; the outermost tunnel's addresses, kind and
 * VNI stay in struct pkt (`encap`), the inner packet is decoded as usual.
 *
 * IPv4 fragments: pkt_decode_frag() with a struct frag_table reassembles
 * them (dissect/frag.h); when a fragment completes its datagram, `payload`
 * points into the table's buffer, valid until the next call. pkt_decode()
 * without a table reports fragments as PKT_FRAGMENT.
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
#define PKT_MAX_ENCAP_DEPTH 4     /* tunnels inside tunnels opened, at most */
#define PKT_VXLAN_PORT 4789
#define PKT_GENEVE_PORT 6081

enum pkt_encap {
	ENCAP_NONE = 0,
	ENCAP_VXLAN,
	ENCAP_GENEVE,
};

/* The outermost tunnel a packet came through. */
struct pkt_encap_info {
	uint8_t kind;           /* enum pkt_encap */
	uint8_t depth;          /* tunnels opened */
	uint32_t vni;           /* VXLAN/GENEVE virtual network identifier */
	struct hs_addr src, dst;/* outer IP addresses and UDP ports */
	/* The innermost tunnel's packet, as carried (inside the captured
	 * bytes, valid while they are): an Ethernet frame (VXLAN, GENEVE
	 * 0x6558) or, with inner_eth 0, an IP packet (GENEVE 0x0800/0x86dd).
	 * For a filter on the decapsulated packet (--inner-filter). */
	const uint8_t *inner;
	uint32_t inner_len;
	uint8_t inner_eth;
};

struct frag_table;

/* Packet time in microseconds since the epoch. A capture's timestamp can be
 * anything a file says (pcapng: 64 bits at any resolution, plus an offset),
 * so seconds are clamped to years 1 .. 9999 before the multiplication: every
 * later sum or difference of two packet times stays far from INT64 limits,
 * and every time prints as a four-digit year (unless a classic file's
 * microsecond field is itself out of range, which libpcap passes on). `*clamped` (when not NULL) is
 * set to 1 when the time was out of that range. */
#define PKT_TS_MIN_S (-62135596800LL)   /* 0001-01-01T00:00:00Z */
#define PKT_TS_MAX_S 253402300799LL     /* 9999-12-31T23:59:59Z */
static inline int64_t pkt_ts_us(int64_t sec, int64_t usec, int *clamped)
{
	int out = 0;
	/* libpcap passes a classic file's microsecond field as it is (up to
	 * 2^32 - 1); only an absurd one is held, so sums cannot overflow */
	if (usec < -1000000000000LL || usec > 1000000000000LL) {
		usec = usec < 0 ? -1000000000000LL : 1000000000000LL;
		out = 1;
	}
	if (sec < PKT_TS_MIN_S) {
		sec = PKT_TS_MIN_S, usec = 0;
		out = 1;
	} else if (sec > PKT_TS_MAX_S) {
		sec = PKT_TS_MAX_S, usec = 999999;
		out = 1;
	}
	if (clamped)
		*clamped = out;
	return sec * 1000000 + usec;
}

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
	uint8_t reassembled;    /* carried by IPv4 fragments put back together */
	/* Checksums (dissect/flow.c decides per direction whether the capture's
	 * checksums are real or left to the NIC). The TCP one is checked on
	 * demand, pkt_tcp_csum(), for a segment captured whole: its TCP header
	 * is the tcp_hl bytes before payload (0: not checkable: cut by snaplen,
	 * reassembled from fragments, or built by hand). */
	uint8_t tcp_hl;
	uint8_t ip_csum;        /* enum pkt_csum of the IPv4 header (PKT_CSUM_NONE for IPv6) */
	uint8_t wscale;         /* a SYN's window scale option (RFC 7323), PKT_NO_WSCALE without */
	uint16_t mss;           /* a SYN's MSS option, 0 without */
	struct pkt_encap_info encap;
	struct frag_table *frag;/* set by pkt_decode_frag() for the decoders; not output */
};

enum pkt_csum {
	PKT_CSUM_NONE = 0,      /* not checked: cut by snaplen, reassembled, IPv6 header, no bytes */
	PKT_CSUM_OK,
	PKT_CSUM_BAD,
	PKT_CSUM_ZERO,          /* the field is 0: a NIC fills it in (checksum offload) */
	PKT_CSUM_PARTIAL        /* TCP: the field holds the pseudo-header's sum (or its
				 * complement): the capture host left the rest to its NIC */
};
#define PKT_NO_WSCALE 0xff

/* The TCP checksum of a decoded segment (enum pkt_csum), computed now. */
int pkt_tcp_csum(const struct pkt *p);
/* The one's complement sum (RFC 1071) of n bytes, folded, in network byte
 * order (0xffff over a header whose checksum is right). */
uint16_t pkt_csum_sum(const uint8_t *p, size_t n);

enum pkt_result {
	PKT_OK = 0,
	PKT_NOT_IP,             /* ARP, LLDP, ... */
	PKT_NOT_TCP,            /* UDP, ICMP, ... */
	PKT_LINK_UNSUPPORTED,   /* a link type we do not decode */
	PKT_FRAGMENT,           /* an IPv4/IPv6 fragment (held for reassembly, or not reassembled) */
	PKT_TRUNCATED,          /* headers cut short by the capture */
	PKT_MALFORMED,          /* headers that contradict themselves */
	PKT__COUNT
};

struct pkt_stats {
	uint64_t packets;
	uint64_t bytes;
	uint64_t by_result[PKT__COUNT];
	uint64_t ipv4, ipv6, vlan, truncated_payload;
	uint64_t vxlan, geneve;           /* TCP segments that came out of a tunnel */
	uint64_t reassembled;             /* TCP segments rebuilt from IPv4 fragments */
	uint64_t frag_dropped;            /* IPv4 datagrams given up (dissect/frag.h) */
	uint64_t ts_clamped;              /* packet times outside years 1..9999 (pkt_ts_us) */
};

/* `dlt` is the pcap link type (DLT_* / LINKTYPE_*). */
enum pkt_result pkt_decode(int dlt, const uint8_t *data, uint32_t caplen, uint32_t wirelen,
			   struct pkt *out);
/* The same, reassembling IPv4 fragments in `frag` (NULL: as pkt_decode).
 * out->ts_us must hold the packet time (fragment timeouts). */
enum pkt_result pkt_decode_frag(struct frag_table *frag, int dlt, const uint8_t *data, uint32_t caplen,
				uint32_t wirelen, struct pkt *out);
const char *pkt_encap_name(enum pkt_encap e);
const char *pkt_result_name(enum pkt_result r);
int pkt_dlt_supported(int dlt);

#endif

/*
 * decode.c - from captured bytes to a TCP segment (see decode.h).
 *
 * Link layers (pcap LINKTYPE values):
 *   1   EN10MB      dst(6) src(6) type(2), then 802.1Q/802.1ad tags (4 each),
 *                   Cisco MetaData / SGT (0x8909, 8 bytes), PPPoE session
 *                   (0x8864, RFC 2516: its length bounds the PPP packet)
 *   113 LINUX_SLL   pkttype(2) hatype(2) halen(2) addr(8) protocol(2)
 *   276 LINUX_SLL2  protocol(2) reserved(2) ifindex(4) hatype(2) pkttype(1) halen(1) addr(8)
 *   0   NULL / 108 LOOP: 4-byte address family (host order for NULL, network for LOOP)
 *   12/14/101 RAW, 228 IPV4, 229 IPV6
 *
 * IPv4 (RFC 791): IHL >= 5, options skipped; total length bounds the
 * payload (Ethernet padding is cut off); fragments go to the reassembly
 * table when there is one (dissect/frag.c), else are counted and skipped.
 * IPv6 (RFC 8200): hop-by-hop, routing, destination options and fragment
 * headers walked (at most 8); payload length bounds the payload.
 * TCP (RFC 9293): data offset >= 5, options skipped.
 * UDP (RFC 768) only to find tunnels, by destination port:
 *   VXLAN (RFC 7348), 4789:  flags(8, I = 0x08) reserved(24) VNI(24) reserved(8)
 *                            then an Ethernet frame
 *   GENEVE (RFC 8926), 6081: ver(2) optlen(6, 4-byte words) O C rsvd(6)
 *                            protocol type(16) VNI(24) reserved(8) options
 *                            then by protocol type: 0x0800 IPv4, 0x86dd
 *                            IPv6, 0x6558 Ethernet
 * A tunnel nested deeper than PKT_MAX_ENCAP_DEPTH is malformed. Inside a
 * tunnel, an inner IP length beyond the bytes present is a cut (VPC
 * Traffic Mirroring truncates to its PacketLength), even when the outer
 * frame was captured whole.
 *
 * Invariant: `payload` + `paylen` lies inside the captured bytes; `wirelen`
 * is what the headers claim, so `truncated` tells a snaplen cut from a lie.
 * A frame captured whole (caplen >= its wire length) whose IP length claims
 * more is a lie, not a cut: wirelen is clipped to what is there.
 */
#include "dissect/decode.h"
#include "dissect/cursor.h"
#include "dissect/frag.h"

#include <string.h>

/* Big-endian 16 and 32 bits at p (the caller knows they are there). */
static inline uint16_t rd_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t rd_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

#define ETH_IPV4 0x0800
#define ETH_IPV6 0x86dd
#define ETH_VLAN 0x8100
#define ETH_QINQ 0x88a8
#define ETH_QINQ_OLD 0x9100
#define ETH_CISCO_MD 0x8909       /* Cisco MetaData: TrustSec SGT tag */
#define ETH_PPPOE_SESSION 0x8864
#define ETH_TEB 0x6558            /* transparent Ethernet bridging (GENEVE) */

/* The options of a SYN [p, end): its window scale (RFC 7323 2.2: kind 3,
 * length 3, the shift; more than 14 counts as 14), PKT_NO_WSCALE when
 * absent, and its MSS (RFC 9293 3.2: kind 2, length 4) into *mss, left
 * alone when absent. */
static uint8_t syn_options(const uint8_t *p, const uint8_t *end, uint16_t *mss)
{
	uint8_t ws = PKT_NO_WSCALE;
	while (p < end) {
		uint8_t kind = p[0], len;
		if (kind == 0)
			break;
		if (kind == 1) {
			p++;
			continue;
		}
		if (end - p < 2 || (len = p[1]) < 2 || len > end - p)
			break;
		if (kind == 3 && len == 3 && ws == PKT_NO_WSCALE)
			ws = p[2] > 14 ? 14 : p[2];
		if (kind == 2 && len == 4 && !*mss)
			*mss = (uint16_t)(p[2] << 8 | p[3]);
		p += len;
	}
	return ws;
}

/* One's complement sum of n bytes, added to s, not folded (RFC 1071),
 * in the machine's byte order (RFC 1071 2(B): the sum is the same, byte
 * swapped, as long as every piece starts at an even offset of the data
 * summed). 32-bit words into four 64-bit sums, which cannot overflow
 * (2^32 words), so no carry chain holds the loop back; the carries are
 * folded in at the end (RFC 1071 2(C), deferred carries). memcpy makes
 * the loads safe at any alignment (compilers turn it into one load). The
 * tail is loaded in words too, never through a byte copy (a wide load
 * of bytes just stored one by one stalls the CPU). */
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define CSUM_AVX2 1
/* The same sums 64 bytes a step with AVX2 (each 32-bit word zero-extended
 * into one of eight 64-bit lanes), for the whole 64-byte steps of p[0..n);
 * returns their sum folded to 32-bit pieces for csum_add() to add. Only
 * called where the CPU has AVX2 (csum_avx2_ok()). */
__attribute__((target("avx2"))) static uint64_t csum_avx2(const uint8_t *p, size_t steps)
{
	const __m256i z = _mm256_setzero_si256();
	__m256i a0 = z, a1 = z, a2 = z, a3 = z;
	uint64_t l[4], s = 0;
	int i;
	while (steps--) {
		__m256i v = _mm256_loadu_si256((const __m256i *)(const void *)p);
		__m256i u = _mm256_loadu_si256((const __m256i *)(const void *)(p + 32));
		a0 = _mm256_add_epi64(a0, _mm256_unpacklo_epi32(v, z));
		a1 = _mm256_add_epi64(a1, _mm256_unpackhi_epi32(v, z));
		a2 = _mm256_add_epi64(a2, _mm256_unpacklo_epi32(u, z));
		a3 = _mm256_add_epi64(a3, _mm256_unpackhi_epi32(u, z));
		p += 64;
	}
	a0 = _mm256_add_epi64(_mm256_add_epi64(a0, a1), _mm256_add_epi64(a2, a3));
	_mm256_storeu_si256((__m256i *)(void *)l, a0);
	for (i = 0; i < 4; i++)   /* each lane is under 2^62: no carry is lost */
		s += (l[i] >> 32) + (l[i] & 0xffffffffu);
	return s;
}

static int csum_avx2_ok(void)
{
	static int ok = -1;   /* a race only computes the same answer twice */
	int v = __atomic_load_n(&ok, __ATOMIC_RELAXED);
	if (v < 0) {
		v = __builtin_cpu_supports("avx2") ? 1 : 0;
		__atomic_store_n(&ok, v, __ATOMIC_RELAXED);
	}
	return v;
}
#endif

static uint64_t csum_add(uint64_t s, const uint8_t *p, size_t n)
{
	uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
	uint32_t w0, w1, w2, w3;
	uint16_t h;
#ifdef CSUM_AVX2
	/* whole 64-byte steps keep every later piece at an even offset */
	if (n >= 256 && csum_avx2_ok()) {
		s += csum_avx2(p, n / 64);
		p += n / 64 * 64;
		n %= 64;
	}
#endif
	while (n >= 16) {
		memcpy(&w0, p, 4);
		memcpy(&w1, p + 4, 4);
		memcpy(&w2, p + 8, 4);
		memcpy(&w3, p + 12, 4);
		a0 += w0;
		a1 += w1;
		a2 += w2;
		a3 += w3;
		p += 16;
		n -= 16;
	}
	while (n >= 4) {
		memcpy(&w0, p, 4);
		a0 += w0;
		p += 4;
		n -= 4;
	}
	if (n >= 2) {
		memcpy(&h, p, 2);
		a1 += h;
		p += 2;
		n -= 2;
	}
	if (n) {
		/* a last odd byte: the high-order byte of a 16-bit word (a
		 * zero after it, read as the machine reads its words) */
		uint8_t b[2];
		b[0] = p[0];
		b[1] = 0;
		memcpy(&h, b, 2);
		a2 += h;
	}
	s += (a0 >> 32) + (a0 & 0xffffffffu) + (a1 >> 32) + (a1 & 0xffffffffu);
	s += (a2 >> 32) + (a2 & 0xffffffffu) + (a3 >> 32) + (a3 & 0xffffffffu);
	return s;
}

/* The 16-bit sum of csum_add()'s, in network byte order. */
static uint16_t csum_fold(uint64_t s)
{
	uint16_t v;
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	v = (uint16_t)s;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	return v;
#else
	{
		const uint16_t one = 1;
		uint8_t lo;
		memcpy(&lo, &one, 1);
		return lo ? (uint16_t)(v << 8 | v >> 8) : v;
	}
#endif
}

uint16_t pkt_csum_sum(const uint8_t *p, size_t n)
{
	return csum_fold(csum_add(0, p, n));
}

int pkt_tcp_csum(const struct pkt *p)
{
	uint64_t s;
	uint8_t ph[8];
	const uint8_t *tcp;
	uint32_t tcp_len;
	uint16_t field, partial, comp;
	size_t alen = p->src.family == 4 ? 4 : 16;
	if (p->tcp_hl < 5 || !p->payload || p->paylen != p->wirelen)
		return PKT_CSUM_NONE;
	tcp = p->payload - (size_t)p->tcp_hl * 4;
	tcp_len = p->wirelen + (uint32_t)p->tcp_hl * 4;
	/* the pseudo-header (RFC 9293 3.1, RFC 8200 8.1): addresses, the TCP
	 * length, the protocol; the same sum for both forms */
	ph[0] = (uint8_t)(tcp_len >> 24);
	ph[1] = (uint8_t)(tcp_len >> 16);
	ph[2] = (uint8_t)(tcp_len >> 8);
	ph[3] = (uint8_t)tcp_len;
	ph[4] = ph[5] = ph[6] = 0;
	ph[7] = 6;
	/* csum_add()'s sum of these whole 32-bit words, without its loops
	 * (every piece is a multiple of 4 bytes; issue 19) */
	{
		uint32_t w;
		size_t i;
		s = 0;
		for (i = 0; i < alen; i += 4) {
			memcpy(&w, p->src.addr + i, 4);
			s += w;
			memcpy(&w, p->dst.addr + i, 4);
			s += w;
		}
		memcpy(&w, ph, 4);
		s += w;
		memcpy(&w, ph + 4, 4);
		s += w;
	}
	partial = csum_fold(s);
	s = csum_add(s, tcp, tcp_len);
	/* a correct checksum can be 0 too (a sum of 0xffff): zero means
	 * "left to the NIC" only when it does not verify */
	if (csum_fold(s) == 0xffff)
		return PKT_CSUM_OK;
	field = (uint16_t)(tcp[16] << 8 | tcp[17]);
	if (!field)
		return PKT_CSUM_ZERO;
	/* Checksum offload: the capture host's stack put the pseudo-header's
	 * sum in the field for the NIC to finish (Linux's CHECKSUM_PARTIAL,
	 * sending, and the segments GRO merged, receiving); some store its
	 * complement */
	comp = (uint16_t)(0xffffu - partial);
	if (field == partial || field == comp)
		return PKT_CSUM_PARTIAL;
	return PKT_CSUM_BAD;
}

static enum pkt_result tcp_decode(struct cur *c, uint32_t ip_payload_len, struct pkt *o)
{
	const uint8_t *start = c->p, *end = c->end;
	uint8_t off, flags;
	uint32_t wirelen, paylen;
	size_t hl, have;
	if (!c->err && (size_t)(end - start) >= 20) {
		/* the fixed header is there: read it in place (the cursor's
		 * checks per field, each through memory, were most of the
		 * decoding's time; issue 19) */
		o->src.port = rd_be16(start);
		o->dst.port = rd_be16(start + 2);
		o->seq = rd_be32(start + 4);
		o->ack = rd_be32(start + 8);
		off = start[12];
		flags = start[13];
		o->win = rd_be16(start + 14);
		c->p = start + 20;
	} else {
		o->src.port = cur_u16(c);
		o->dst.port = cur_u16(c);
		o->seq = cur_u32(c);
		o->ack = cur_u32(c);
		off = cur_u8(c);
		flags = cur_u8(c);
		o->win = cur_u16(c);
		cur_skip(c, 4);  /* checksum, urgent pointer */
	}
	o->flags = flags;
	if (c->err)
		return PKT_TRUNCATED;
	hl = (size_t)(off >> 4) * 4;
	if (hl < 20 || hl > ip_payload_len)
		return PKT_MALFORMED;
	if (hl > (size_t)(end - start))
		return PKT_TRUNCATED;
	o->payload = start + hl;
	wirelen = ip_payload_len - (uint32_t)hl;
	have = (size_t)(end - (start + hl));
	paylen = have < wirelen ? (uint32_t)have : wirelen;
	o->wirelen = wirelen;
	o->paylen = paylen;
	o->truncated = paylen < wirelen;
	o->wscale = PKT_NO_WSCALE;
	o->mss = 0;
	if (flags & 0x02)
		o->wscale = syn_options(start + 20, start + hl, &o->mss);
	if (paylen >= wirelen && !o->reassembled)
		o->tcp_hl = (uint8_t)(hl / 4);
	return PKT_OK;
}

static enum pkt_result ipv4_decode(struct cur *c, struct pkt *o);
static enum pkt_result ipv6_decode(struct cur *c, struct pkt *o);
static enum pkt_result by_ethertype(struct cur *c, uint16_t type, struct pkt *o);

/* Where the tunnel's own packet starts: the rest of the UDP payload. */
static void inner_at(const struct cur *c, int eth, struct pkt *o)
{
	o->encap.inner = c->p;
	o->encap.inner_len = (uint32_t)(c->end - c->p);
	o->encap.inner_eth = (uint8_t)eth;
}

/* UDP: only a tunnel to open is of interest. */
static enum pkt_result udp_decode(struct cur *c, uint32_t ip_payload_len, struct pkt *o)
{
	uint16_t sport, dport, ulen, type;
	uint32_t vni;
	uint8_t b0;
	sport = cur_u16(c);
	dport = cur_u16(c);
	ulen = cur_u16(c);
	cur_skip(c, 2);
	if (c->err || (dport != PKT_VXLAN_PORT && dport != PKT_GENEVE_PORT))
		return PKT_NOT_TCP;
	if (ulen < 8 || ulen > ip_payload_len || o->encap.depth >= PKT_MAX_ENCAP_DEPTH)
		return PKT_MALFORMED;
	if ((size_t)(c->end - c->p) > (size_t)(ulen - 8))
		c->end = c->p + (ulen - 8);
	if (o->encap.depth++ == 0) {
		/* the outermost tunnel is the one the capture point saw */
		o->encap.kind = dport == PKT_VXLAN_PORT ? ENCAP_VXLAN : ENCAP_GENEVE;
		o->encap.src = o->src;
		o->encap.dst = o->dst;
		o->encap.src.port = sport;
		o->encap.dst.port = dport;
	}
	if (dport == PKT_VXLAN_PORT) {
		b0 = cur_u8(c);
		cur_skip(c, 3);
		vni = cur_u24(c);
		cur_skip(c, 1);
		if (c->err)
			return PKT_TRUNCATED;
		if (!(b0 & 0x08))
			return PKT_MALFORMED;   /* no valid VNI: not VXLAN */
		if (o->encap.depth == 1)
			o->encap.vni = vni;
		inner_at(c, 1, o);
		cur_skip(c, 12);
		type = cur_u16(c);
		if (c->err)
			return PKT_TRUNCATED;
		return by_ethertype(c, type, o);
	}
	b0 = cur_u8(c);
	cur_skip(c, 1);
	type = cur_u16(c);
	vni = cur_u24(c);
	cur_skip(c, 1);
	cur_skip(c, (size_t)(b0 & 0x3f) * 4);   /* options, e.g. AWS class 0x0108 */
	if (c->err)
		return PKT_TRUNCATED;
	if (b0 >> 6)
		return PKT_MALFORMED;   /* GENEVE version 0 only */
	if (o->encap.depth == 1)
		o->encap.vni = vni;
	inner_at(c, type == ETH_TEB, o);
	switch (type) {
	case ETH_IPV4: return ipv4_decode(c, o);
	case ETH_IPV6: return ipv6_decode(c, o);
	case ETH_TEB:
		cur_skip(c, 12);
		type = cur_u16(c);
		if (c->err)
			return PKT_TRUNCATED;
		return by_ethertype(c, type, o);
	default: return PKT_NOT_IP;
	}
}

static enum pkt_result ip_payload(struct cur *c, uint8_t proto, uint32_t len, struct pkt *o)
{
	switch (proto) {
	case 6: return tcp_decode(c, len, o);
	case 17: return udp_decode(c, len, o);
	default: return PKT_NOT_TCP;
	}
}

static enum pkt_result ipv4_decode(struct cur *c, struct pkt *o)
{
	const uint8_t *start = c->p, *end = c->end;
	uint8_t vihl, proto;
	uint16_t total, frag, id, ipsum;
	size_t ihl;
	struct cur t;
	if (!c->err && (size_t)(end - start) >= 20) {
		/* the fixed header is there: read in place (see tcp_decode) */
		vihl = start[0];
		total = rd_be16(start + 2);
		id = rd_be16(start + 4);
		frag = rd_be16(start + 6);
		proto = start[9];
		c->p = start + 12;
	} else {
		vihl = cur_u8(c);
		cur_skip(c, 1);
		total = cur_u16(c);
		id = cur_u16(c);
		frag = cur_u16(c);
		cur_skip(c, 1);
		proto = cur_u8(c);
		cur_skip(c, 2);
		if (c->err)
			return PKT_TRUNCATED;
	}
	if ((vihl >> 4) != 4)
		return PKT_MALFORMED;
	ihl = (size_t)(vihl & 15) * 4;
	if (ihl < 20 || total < ihl)
		return PKT_MALFORMED;
	o->src.family = o->dst.family = 4;
	memset(o->src.addr, 0, 16);
	memset(o->dst.addr, 0, 16);
	if ((size_t)(end - start) < 20) {
		(void)cur_has(c, 8);   /* sets the cursor's error, as reading would */
		return PKT_TRUNCATED;
	}
	memcpy(o->src.addr, start + 12, 4);
	memcpy(o->dst.addr, start + 16, 4);
	if (ihl > (size_t)(end - start))
		return PKT_TRUNCATED;
	/* ihl is whole 32-bit words (20 to 60 bytes): csum_add()'s sum without
	 * its loops; the usual 20 in two independent sums */
	{
		uint64_t sum = 0, sum2 = 0;
		uint32_t w[5];
		size_t i;
		memcpy(w, start, 20);
		sum = (uint64_t)w[0] + w[1] + w[4];
		sum2 = (uint64_t)w[2] + w[3];
		for (i = 20; i < ihl; i += 4) {
			memcpy(&w[0], start + i, 4);
			sum += w[0];
		}
		ipsum = csum_fold(sum + sum2);
	}
	o->ip_csum = ipsum == 0xffff ? PKT_CSUM_OK
		     : start[10] == 0 && start[11] == 0 ? PKT_CSUM_ZERO : PKT_CSUM_BAD;
	/* The IP total length bounds the segment; capture padding is dropped. */
	t.p = start + ihl;
	t.end = (size_t)(c->end - start) > total ? start + total : c->end;
	t.err = CUR_OK;
	if (frag & 0x3fff) {   /* MF set or offset non-zero */
		struct frag_in fi;
		const uint8_t *whole;
		uint32_t wlen = 0;
		if (!o->frag || (proto != 6 && proto != 17))
			return PKT_FRAGMENT;
		memcpy(fi.src, o->src.addr, 4);
		memcpy(fi.dst, o->dst.addr, 4);
		fi.id = id;
		fi.proto = proto;
		fi.offset = (uint16_t)((frag & 0x1fff) * 8);
		fi.more = (frag & 0x2000) != 0;
		fi.data = t.p;
		fi.len = (uint32_t)(total - ihl);
		fi.have = (uint32_t)(t.end - t.p);
		fi.ts_us = o->ts_us;
		whole = frag_add(o->frag, &fi, &wlen);
		if (!whole)
			return PKT_FRAGMENT;
		o->reassembled = 1;
		t.p = whole;
		t.end = whole + wlen;
		return ip_payload(&t, proto, wlen, o);
	}
	return ip_payload(&t, proto, (uint32_t)(total - ihl), o);
}

static enum pkt_result ipv6_decode(struct cur *c, struct pkt *o)
{
	uint32_t vtf;
	uint16_t plen;
	uint8_t nh;
	int hops;
	const uint8_t *pstart;
	struct cur t;
	vtf = cur_u32(c);
	plen = cur_u16(c);
	nh = cur_u8(c);
	cur_skip(c, 1);
	if (!cur_has(c, 32))
		return PKT_TRUNCATED;
	if ((vtf >> 28) != 6)
		return PKT_MALFORMED;
	o->src.family = o->dst.family = 6;
	o->ip_csum = PKT_CSUM_NONE;   /* IPv6 has no header checksum (an outer IPv4 one is not this one's) */
	memcpy(o->src.addr, c->p, 16);
	memcpy(o->dst.addr, c->p + 16, 16);
	c->p += 32;
	pstart = c->p;
	t.p = c->p;
	t.end = (size_t)(c->end - c->p) > plen ? c->p + plen : c->end;
	t.err = CUR_OK;
	for (hops = 0; hops < 8; hops++) {
		uint8_t len8;
		switch (nh) {
		case 0:    /* hop-by-hop */
		case 43:   /* routing */
		case 60:   /* destination options */
			nh = cur_u8(&t);
			len8 = cur_u8(&t);
			cur_skip(&t, 6 + (size_t)len8 * 8);
			if (t.err)
				return PKT_TRUNCATED;
			continue;
		case 44:   /* fragment */
			return PKT_FRAGMENT;
		case 6:
		case 17: {
			size_t used = (size_t)(t.p - pstart);
			if (used > plen)
				return PKT_MALFORMED;
			return ip_payload(&t, nh, (uint32_t)(plen - used), o);
		}
		default:
			return PKT_NOT_TCP;
		}
	}
	return PKT_NOT_TCP;
}

static enum pkt_result ip_by_version(struct cur *c, struct pkt *o)
{
	if (!cur_has(c, 1))
		return PKT_TRUNCATED;
	switch (cur_peek_u8(c, 0) >> 4) {
	case 4: return ipv4_decode(c, o);
	case 6: return ipv6_decode(c, o);
	default: return PKT_NOT_IP;
	}
}

static enum pkt_result by_ethertype(struct cur *c, uint16_t type, struct pkt *o)
{
	while (type == ETH_VLAN || type == ETH_QINQ || type == ETH_QINQ_OLD || type == ETH_CISCO_MD) {
		if (o->vlan_depth >= PKT_MAX_VLAN_DEPTH)
			return PKT_MALFORMED;
		o->vlan_depth++;
		/* 802.1Q: TCI(2). Cisco MetaData (SGT): version(1) length(1)
		 * option type(2) SGT(2), as Wireshark's packet-cmd.c reads it. */
		cur_skip(c, type == ETH_CISCO_MD ? 6 : 2);
		type = cur_u16(c);
		if (c->err)
			return PKT_TRUNCATED;
	}
	if (type == ETH_PPPOE_SESSION) {
		/* RFC 2516: ver/type(1) code(1) session(2) length(2), then PPP protocol(2) */
		uint16_t ppp, plen;
		const uint8_t *pstart;
		cur_skip(c, 4);
		plen = cur_u16(c);
		pstart = c->p;
		ppp = cur_u16(c);
		if (c->err)
			return PKT_TRUNCATED;
		/* the PPPoE length (PPP protocol included) bounds the packet:
		 * what follows is Ethernet padding, not IP */
		if (plen >= 2 && (size_t)(c->end - pstart) > plen)
			c->end = pstart + plen;
		switch (ppp) {
		case 0x0021: return ipv4_decode(c, o);
		case 0x0057: return ipv6_decode(c, o);
		default: return PKT_NOT_IP;
		}
	}
	switch (type) {
	case ETH_IPV4: return ipv4_decode(c, o);
	case ETH_IPV6: return ipv6_decode(c, o);
	default: return PKT_NOT_IP;
	}
}

int pkt_dlt_supported(int dlt)
{
	switch (dlt) {
	case 0: case 1: case 12: case 14: case 101: case 108: case 113: case 228: case 229: case 276:
		return 1;
	}
	return 0;
}

static enum pkt_result decode_link(int dlt, const uint8_t *data, uint32_t caplen, uint32_t wirelen,
				   struct pkt *o)
{
	struct cur c = cur_make(data, caplen);
	uint32_t af;
	uint16_t type;
	(void)wirelen;
	o->vlan_depth = 0;
	o->payload = NULL;
	o->paylen = o->wirelen = 0;
	o->truncated = 0;
	switch (dlt) {
	case 1:     /* Ethernet */
		cur_skip(&c, 12);
		type = cur_u16(&c);
		if (c.err)
			return PKT_TRUNCATED;
		return by_ethertype(&c, type, o);
	case 113:   /* Linux cooked v1 */
		cur_skip(&c, 14);
		type = cur_u16(&c);
		if (c.err)
			return PKT_TRUNCATED;
		return by_ethertype(&c, type, o);
	case 276:   /* Linux cooked v2 */
		type = cur_u16(&c);
		cur_skip(&c, 18);
		if (c.err)
			return PKT_TRUNCATED;
		return by_ethertype(&c, type, o);
	case 0:     /* BSD loopback: AF in host byte order of the writer */
	case 108:   /* OpenBSD loop: network order */
		if (!cur_has(&c, 4))
			return PKT_TRUNCATED;
		af = dlt == 108 ? cur_u32(&c) : cur_u32le(&c);
		if (dlt == 0 && af > 0xffff)   /* written big-endian */
			af = (af >> 24) | ((af >> 8) & 0xff00);
		switch (af) {
		case 2: return ipv4_decode(&c, o);
		case 10: case 24: case 28: case 30: return ipv6_decode(&c, o);
		default: return PKT_NOT_IP;
		}
	case 12: case 14: case 101:   /* raw IP */
		return ip_by_version(&c, o);
	case 228:
		return ipv4_decode(&c, o);
	case 229:
		return ipv6_decode(&c, o);
	}
	return PKT_LINK_UNSUPPORTED;
}

enum pkt_result pkt_decode(int dlt, const uint8_t *data, uint32_t caplen, uint32_t wirelen,
			   struct pkt *o)
{
	return pkt_decode_frag(NULL, dlt, data, caplen, wirelen, o);
}

const char *pkt_encap_name(enum pkt_encap e)
{
	switch (e) {
	case ENCAP_NONE: return "none";
	case ENCAP_VXLAN: return "vxlan";
	case ENCAP_GENEVE: return "geneve";
	}
	return "unknown";
}

enum pkt_result pkt_decode_frag(struct frag_table *frag, int dlt, const uint8_t *data, uint32_t caplen,
				uint32_t wirelen, struct pkt *o)
{
	enum pkt_result r;
	o->frag = frag;
	o->reassembled = 0;
	o->ip_csum = PKT_CSUM_NONE;
	o->tcp_hl = 0;
	memset(&o->encap, 0, sizeof(o->encap));
	r = decode_link(dlt, data, caplen, wirelen, o);
	/* Captured whole (no snaplen cut), yet the IP length claims more than
	 * the frame holds: the header lies. Those bytes never existed, so they
	 * are not a gap in the stream; keep what is there. */
	if (r == PKT_OK && o->truncated && caplen >= wirelen && !o->encap.depth) {
		o->wirelen = o->paylen;
		o->truncated = 0;
	}
	return r;
}

const char *pkt_result_name(enum pkt_result r)
{
	switch (r) {
	case PKT_OK: return "tcp";
	case PKT_NOT_IP: return "not_ip";
	case PKT_NOT_TCP: return "not_tcp";
	case PKT_LINK_UNSUPPORTED: return "link_unsupported";
	case PKT_FRAGMENT: return "ip_fragment";
	case PKT_TRUNCATED: return "headers_truncated";
	case PKT_MALFORMED: return "headers_malformed";
	case PKT__COUNT: break;
	}
	return "unknown";
}

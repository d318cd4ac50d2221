/*
 * craft.c - re-emits the TCP connections of a recorded capture under named
 * transformations, building every header with libnet, for the metamorphic
 * tests (tests/metamorphic.sh) and the committed files in pcaps/crafted/.
 *
 *   craft -t onebyte+reverse+vxlan [-m manifest.tsv] -o out.pcap in.pcap
 *   craft -l                       list the transformations
 *
 * How it works
 *   1. Read the input (Ethernet or raw IP, IPv4/IPv6, TCP) with libpcap
 *      and a small extractor of its own (it does not use dissect/, whose
 *      behaviour is what the output is for testing). Each TCP connection
 *      becomes two byte streams, indexed by offset from ISN + 1, and a
 *      list of segments (direction, flags, stream offset and length, ACK
 *      as an offset into the peer's stream, window, timestamp).
 *   2. Transform the segment list: resegment (onebyte, hdrsplit, multirec),
 *      drop bytes (gap-*), add copies (dup, overlap-*), permute within a
 *      flight (reverse, random), change the ISNs (wrap), drop the SYNs
 *      (nosyn). A flight is a run of consecutive payload segments of one
 *      connection and direction with no packet of the peer in between, so
 *      a permutation never puts an ACK before the bytes it acknowledges.
 *   3. Build each segment with libnet (LIBNET_NONE, libnet_build_tcp,
 *      _ipv4/_ipv6, _ethernet/_802_1q, _udp, _data for the VXLAN, GENEVE
 *      and Linux cooked headers libnet has no builder for, then
 *      libnet_pblock_coalesce), and write it with pcap_dump, or as pcapng
 *      (a small writer here: libpcap 1.10 cannot write pcapng).
 *
 * Determinism: no clock, no unseeded randomness. Timestamps are the
 * original packet's (pieces of one segment share it), the PRNG is
 * splitmix64 seeded from a constant, the connection and the flight. Two
 * runs give byte-identical files.
 *
 * The manifest (-m) has one line per connection of the input, in order
 * of first packet: the client and server ports, whether the connection is
 * still in the output, the anomalies the transformation injected (named
 * as tlswhy names them), the handshake messages that are intact (entirely
 * before the first byte lost), and the encapsulation. The tests compare
 * tlswhy's JSON with it.
 *
 * Limits: at most CRAFT_MAX_CONNS connections and CRAFT_MAX_SEGS segments
 * after transformation; inputs are Ethernet (with VLAN tags) or raw IP;
 * IPv6 extension headers and IP options are not read (the recorded
 * captures have none).
 */
#include <libnet.h>
#include <pcap/pcap.h>

#include "dissect/flow.h"   /* FLOW_DEFAULT_MAX_SEGMENTS: the queue cap tlswhy reports */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CRAFT_MAX_CONNS   64
#define CRAFT_MAX_SEGS    (1u << 20)
#define CRAFT_MAX_STREAM  (16u << 20)
#define CRAFT_SEED        0x7e57c0de5eedULL
#define GAP_BYTES         16u        /* bytes removed by gap-ch and gap-cert */
#define FRAG_CHUNK        64u        /* IPv4 fragment payload (multiple of 8) */
#define MIRROR_TRUNC      1024u      /* vxlan-trunc: AWS PacketLength (inner frame bytes kept) */
#define SNAPLEN_SHORT     256u       /* snaplen: bytes of each frame kept */
#define MULTIREC_PER_SEG  3          /* multirec: TLS records per segment */
#define VXLAN_PORT        4789
#define GENEVE_PORT       6081
#define VXLAN_VNI         4242u
#define MAX_FRAME         70000u

enum {
	T_NOSYN = 1u << 0, T_ONEBYTE = 1u << 1, T_HDRSPLIT = 1u << 2, T_MULTIREC = 1u << 3,
	T_GAP_CH = 1u << 4, T_GAP_CERT = 1u << 5, T_GAP_ALERT = 1u << 6, T_OVL_SAME = 1u << 7,
	T_OVL_DIFF = 1u << 8, T_DUP = 1u << 9, T_REVERSE = 1u << 10, T_RANDOM = 1u << 11,
	T_WRAP = 1u << 12, T_IPV6 = 1u << 13, T_VLAN = 1u << 14, T_QINQ = 1u << 15,
	T_VXLAN = 1u << 16, T_VXLAN_TRUNC = 1u << 17, T_GENEVE = 1u << 18, T_FRAG = 1u << 19,
	T_SLL = 1u << 20, T_SLL2 = 1u << 21, T_SNAPLEN = 1u << 22, T_PCAPNG = 1u << 23,
	T_FINFIRST = 1u << 24, T_ACKFIRST = 1u << 25, T_ALERTFIRST = 1u << 26, T_FLIGHTFIRST = 1u << 27,
};

static const struct { const char *name; uint32_t bit; const char *what; } tnames[] = {
	{ "none", 0, "re-emit unchanged (Ethernet, pcap)" },
	{ "nosyn", T_NOSYN, "drop SYN and SYN-ACK: the capture starts mid-stream" },
	{ "onebyte", T_ONEBYTE, "every payload byte in its own segment" },
	{ "hdrsplit", T_HDRSPLIT, "cut every TLS record after each byte of its 5-byte header" },
	{ "hdrsplit1", T_HDRSPLIT, "cut every TLS record after byte 1 of its header" },
	{ "hdrsplit2", T_HDRSPLIT, "cut every TLS record after byte 2 of its header" },
	{ "hdrsplit3", T_HDRSPLIT, "cut every TLS record after byte 3 of its header" },
	{ "hdrsplit4", T_HDRSPLIT, "cut every TLS record after byte 4 of its header" },
	{ "hdrsplit5", T_HDRSPLIT, "cut every TLS record after its header" },
	{ "multirec", T_MULTIREC, "several TLS records per segment (a flight re-cut at record boundaries)" },
	{ "gap-ch", T_GAP_CH, "lose 16 bytes in the middle of the ClientHello" },
	{ "gap-cert", T_GAP_CERT, "lose 16 bytes in the middle of the server's Certificate" },
	{ "gap-alert", T_GAP_ALERT, "lose the first plaintext alert record" },
	{ "overlap-same", T_OVL_SAME, "after each segment, a retransmission overlapping it, same bytes" },
	{ "overlap-diff", T_OVL_DIFF, "the same with different bytes where it overlaps (first copy wins)" },
	{ "dup", T_DUP, "every payload segment twice" },
	{ "reverse", T_REVERSE, "each flight's segments in reverse order" },
	{ "random", T_RANDOM, "each flight's segments in a seeded random order" },
	{ "finfirst", T_FINFIRST, "a FIN recorded before the peer's last segments it acknowledges (capture points out of step)" },
	{ "ackfirst", T_ACKFIRST, "the same for every packet without payload (bare ACKs and FINs)" },
	{ "alertfirst", T_ALERTFIRST, "the same for every FIN and every segment that starts with an alert record" },
	{ "flightfirst", T_FLIGHTFIRST, "the same for every packet: a flight recorded before the one it answers" },
	{ "wrap", T_WRAP, "initial sequence numbers just below 2^32: wraps inside the handshake" },
	{ "ipv6", T_IPV6, "IPv4 addresses mapped into fd00:6::/96" },
	{ "vlan", T_VLAN, "802.1Q tag (VLAN 100)" },
	{ "qinq", T_QINQ, "802.1ad outer tag (S-VLAN 200) and 802.1Q inner tag (C-VLAN 100)" },
	{ "vxlan", T_VXLAN, "VPC Traffic Mirroring: Ethernet/IPv4/UDP 4789/VXLAN VNI 4242/inner Ethernet" },
	{ "vxlan-trunc", T_VXLAN | T_VXLAN_TRUNC, "vxlan with mirrored packets cut to 1024 bytes" },
	{ "geneve", T_GENEVE, "GWLB: Ethernet/IPv4/UDP 6081/GENEVE with AWS options (class 0x0108)/inner IP" },
	{ "frag", T_FRAG, "IPv4 fragments of 64 bytes (every other datagram's fragments in reverse)" },
	{ "sll", T_SLL, "Linux cooked v1 link layer" },
	{ "sll2", T_SLL2, "Linux cooked v2 link layer" },
	{ "snaplen", T_SNAPLEN, "frames cut to 256 bytes (snaplen)" },
	{ "pcapng", T_PCAPNG, "written as pcapng" },
};

/* ---- input model ------------------------------------------------------- */

struct conn {
	uint8_t family;              /* 4 or 6 */
	uint8_t addr[2][16];         /* [dir]: dir 0 sent the connection's first packet */
	uint16_t port[2];
	uint32_t isn[2];             /* SYN's seq, or first seq - 1 */
	uint8_t have_isn[2];
	uint8_t had_syn[2];
	uint8_t *stream[2];          /* bytes by offset from isn + 1; owned */
	uint32_t slen[2], scap[2];
	uint32_t newisn[2];
	uint8_t client;              /* dir of the client (SYN sender, else ClientHello sender, else 0) */
	uint32_t lost_from[2];       /* first stream offset lost, UINT32_MAX none */
	uint32_t drop_from[2], drop_to[2];   /* bytes a gap-* transformation removed (to > from) */
	uint32_t injected;           /* anomaly bits (A_*) tlswhy must report */
	uint32_t maybe;              /* injected where tlswhy may have stopped looking */
	uint32_t boundary[2];        /* first CCS, alert or application_data record: past it
				      * tlswhy may stop buffering the direction */
	uint8_t alive;               /* still has a packet in the output */
	uint8_t encap;               /* 1 some packet was emitted encapsulated */
};

/* One TCP segment to emit. Payload comes from the stream unless `alt`. */
struct seg {
	uint16_t conn;
	uint8_t dir;
	uint8_t flags;               /* TCP flags */
	uint32_t off, len;           /* stream offset (SYN: 0, 0) */
	uint32_t ackoff;             /* ack - (peer isn + 1), valid with ACK */
	uint16_t win;
	uint8_t flip;                /* overlap-diff: bytes before `flipto` differ */
	uint32_t flipto;
	int64_t ts;
};

struct segv {
	struct seg *v;
	size_t n, cap;
};

/* Anomalies as tlswhy names them (dissect/record.c). */
enum { A_GAP = 1, A_RETRANS = 2, A_OOO = 4, A_CONFLICT = 8, A_MIDSTREAM = 16, A_TRUNC = 32,
       A_CAPSEG = 64, A_EVCLIP = 128 };
#define A_COUNT 8
static const char *const anames[A_COUNT] = { "gap", "retransmission", "out_of_order", "overlap_conflict",
					     "midstream", "truncated_packet", "cap_segments",
					     "events_clipped" };

static struct conn conns[CRAFT_MAX_CONNS];
static int nconns;
static uint32_t tf;            /* T_* bits */
static int hdrsplit_at;        /* 0 = every header byte, else 1..5 */

static void die(const char *m)
{
	fprintf(stderr, "craft: %s\n", m);
	exit(2);
}

static void segv_push(struct segv *sv, const struct seg *s)
{
	if (sv->n == sv->cap) {
		size_t nc = sv->cap ? sv->cap * 2 : 1024;
		struct seg *nv;
		if (nc > CRAFT_MAX_SEGS)
			die("too many segments");
		nv = realloc(sv->v, nc * sizeof(*nv));
		if (!nv)
			die("out of memory");
		sv->v = nv;
		sv->cap = nc;
	}
	sv->v[sv->n++] = *s;
}

static uint64_t rng_state;
static uint64_t rng_next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ---- reading the input ------------------------------------------------- */

struct raw {                   /* one TCP packet of the input */
	uint16_t conn;
	uint8_t dir, flags;
	uint32_t seq, ack, len;
	uint16_t win;
	int64_t ts;
	const uint8_t *pay;
};

static int find_conn(uint8_t fam, const uint8_t *sa, const uint8_t *da, uint16_t sp, uint16_t dp,
		     int *dir)
{
	int i;
	size_t al = fam == 4 ? 4 : 16;
	for (i = 0; i < nconns; i++) {
		struct conn *c = &conns[i];
		if (c->family != fam)
			continue;
		if (c->port[0] == sp && c->port[1] == dp && !memcmp(c->addr[0], sa, al) &&
		    !memcmp(c->addr[1], da, al)) {
			*dir = 0;
			return i;
		}
		if (c->port[1] == sp && c->port[0] == dp && !memcmp(c->addr[1], sa, al) &&
		    !memcmp(c->addr[0], da, al)) {
			*dir = 1;
			return i;
		}
	}
	if (nconns == CRAFT_MAX_CONNS)
		die("too many connections");
	memset(&conns[nconns], 0, sizeof(conns[0]));
	conns[nconns].family = fam;
	memcpy(conns[nconns].addr[0], sa, al);
	memcpy(conns[nconns].addr[1], da, al);
	conns[nconns].port[0] = sp;
	conns[nconns].port[1] = dp;
	*dir = 0;
	return nconns++;
}

/* Ethernet (with 802.1Q tags) or raw IP, then IPv4/IPv6 and TCP. 0 = not TCP. */
static int extract(int dlt, const uint8_t *p, uint32_t n, int64_t ts, struct raw *r)
{
	uint16_t type;
	uint32_t o = 0, iplen, thl;
	uint8_t fam, proto;
	const uint8_t *sa, *da;
	if (dlt == DLT_EN10MB) {
		if (n < 14)
			return 0;
		type = rd16(p + 12);
		o = 14;
		while ((type == 0x8100 || type == 0x88a8) && o + 4 <= n) {
			type = rd16(p + o + 2);
			o += 4;
		}
		if (type != 0x0800 && type != 0x86dd)
			return 0;
	} else if (dlt != DLT_RAW) {
		die("input link type not supported (Ethernet or raw IP)");
	}
	if (o + 40 > n)
		return 0;
	if ((p[o] >> 4) == 4) {
		uint32_t ihl = (uint32_t)(p[o] & 15) * 4;
		fam = 4;
		iplen = rd16(p + o + 2);
		proto = p[o + 9];
		sa = p + o + 12;
		da = p + o + 16;
		if (rd16(p + o + 6) & 0x3fff)
			return 0;
		if (iplen > n - o)
			iplen = n - o;   /* the recorded captures are never cut */
		n = o + iplen;
		o += ihl;
	} else {
		fam = 6;
		proto = p[o + 6];
		sa = p + o + 8;
		da = p + o + 24;
		iplen = rd16(p + o + 4) + 40u;
		if (iplen < n - o)
			n = o + iplen;
		o += 40;
	}
	if (proto != 6 || o + 20 > n)
		return 0;
	thl = (uint32_t)(p[o + 12] >> 4) * 4;
	if (thl < 20 || o + thl > n)
		return 0;
	{
		int dir;
		r->conn = (uint16_t)find_conn(fam, sa, da, rd16(p + o), rd16(p + o + 2), &dir);
		r->dir = (uint8_t)dir;
	}
	r->seq = rd32(p + o + 4);
	r->ack = rd32(p + o + 8);
	r->flags = p[o + 13];
	r->win = rd16(p + o + 14);
	r->pay = p + o + thl;
	r->len = n - o - thl;
	r->ts = ts;
	return 1;
}

static void stream_put(struct conn *c, int d, uint32_t off, const uint8_t *p, uint32_t n)
{
	if ((uint64_t)off + n > CRAFT_MAX_STREAM)
		die("stream too long");
	if (off + n > c->scap[d]) {
		uint32_t nc = c->scap[d] ? c->scap[d] : 4096;
		uint8_t *nb;
		while (nc < off + n)
			nc *= 2;
		nb = realloc(c->stream[d], nc);
		if (!nb)
			die("out of memory");
		memset(nb + c->scap[d], 0, nc - c->scap[d]);
		c->stream[d] = nb;
		c->scap[d] = nc;
	}
	memcpy(c->stream[d] + off, p, n);
	if (off + n > c->slen[d])
		c->slen[d] = off + n;
}

/*
 * Reads the whole input into conns[] and a segment list. A payload that
 * comes with FIN or RST is split into the payload and a bare FIN/RST, so
 * later steps only ever move pure payload segments.
 */
static void read_input(const char *path, struct segv *sv)
{
	char eb[PCAP_ERRBUF_SIZE];
	pcap_t *pc = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_MICRO, eb);
	struct pcap_pkthdr *h;
	const u_char *data;
	struct raw *raws = NULL;
	uint8_t **copies = NULL;
	size_t nr = 0, cr = 0, i;
	int dlt;
	if (!pc)
		die(eb);
	dlt = pcap_datalink(pc);
	while (pcap_next_ex(pc, &h, &data) == 1) {
		struct raw r;
		if (!extract(dlt, data, h->caplen, (int64_t)h->ts.tv_sec * 1000000 + h->ts.tv_usec, &r))
			continue;
		if (nr == cr) {
			cr = cr ? cr * 2 : 256;
			raws = realloc(raws, cr * sizeof(*raws));
			copies = realloc(copies, cr * sizeof(*copies));
			if (!raws || !copies)
				die("out of memory");
		}
		copies[nr] = malloc(r.len ? r.len : 1);
		if (!copies[nr])
			die("out of memory");
		memcpy(copies[nr], r.pay, r.len);
		r.pay = copies[nr];
		raws[nr++] = r;
	}
	pcap_close(pc);
	/* ISNs: from the SYN, else one before the first sequence number */
	for (i = 0; i < nr; i++) {
		struct conn *c = &conns[raws[i].conn];
		int d = raws[i].dir;
		if (raws[i].flags & TH_SYN) {
			if (!c->had_syn[d]) {
				c->isn[d] = raws[i].seq;
				c->have_isn[d] = c->had_syn[d] = 1;
			}
		} else if (!c->have_isn[d]) {
			c->isn[d] = raws[i].seq - 1;
			c->have_isn[d] = 1;
		}
	}
	for (i = 0; i < nr; i++) {
		struct raw *r = &raws[i];
		struct conn *c = &conns[r->conn];
		struct seg s;
		int d = r->dir;
		memset(&s, 0, sizeof(s));
		s.conn = r->conn;
		s.dir = (uint8_t)d;
		s.win = r->win;
		s.ts = r->ts;
		s.ackoff = r->ack - (c->isn[1 - d] + 1);
		if (r->flags & TH_SYN) {
			s.flags = r->flags;
			segv_push(sv, &s);
			continue;
		}
		s.off = r->seq - (c->isn[d] + 1);
		if (r->len) {
			stream_put(c, d, s.off, r->pay, r->len);
			s.len = r->len;
			s.flags = (uint8_t)((r->flags & (TH_ACK | TH_PUSH)) | TH_PUSH);
			segv_push(sv, &s);
			s.off += r->len;
			s.len = 0;
		}
		if (!r->len || (r->flags & (TH_FIN | TH_RST))) {
			s.flags = r->flags;
			if (r->len && !(r->flags & (TH_FIN | TH_RST)))
				continue;
			segv_push(sv, &s);
		}
	}
	for (i = 0; i < nr; i++)
		free(copies[i]);
	free(copies);
	free(raws);
}

/* ---- TLS structure of a stream (for cuts and gap targets) -------------- */

struct tmsg {
	uint8_t type;        /* handshake type, or 0x100 - content type for non-handshake records */
	uint8_t is_record;   /* 1: a whole record (alert, CCS, appdata), 0: a handshake message */
	uint8_t ctype;
	uint32_t start, end; /* stream offsets: first byte, one past the last */
};

/* Record start offsets of a stream; n = count; stops at the first non-TLS byte. */
static uint32_t *records(const struct conn *c, int d, size_t *n)
{
	uint32_t o = 0, *v = NULL;
	size_t k = 0, cap = 0;
	const uint8_t *s = c->stream[d];
	while (o + 5 <= c->slen[d] && s[o] >= 20 && s[o] <= 24 && s[o + 1] == 3) {
		if (k == cap) {
			cap = cap ? cap * 2 : 64;
			v = realloc(v, cap * sizeof(*v));
			if (!v)
				die("out of memory");
		}
		v[k++] = o;
		o += 5u + rd16(s + o + 3);
	}
	*n = k;
	return v;
}

/* Plaintext handshake messages and records of a stream, in stream order. */
static size_t tls_messages(const struct conn *c, int d, struct tmsg *out, size_t max)
{
	size_t nrec, i, k = 0;
	uint32_t *rec = records(c, d, &nrec);
	const uint8_t *s = c->stream[d];
	int encrypted = 0;
	uint32_t need = 0, msg_start = 0;   /* bytes still owed to the current message */
	uint8_t hdr[4];
	int hdr_have = 0;
	for (i = 0; i < nrec && k < max; i++) {
		uint32_t o = rec[i], len = rd16(s + o + 3), j;
		uint32_t end = o + 5 + len;
		if (end > c->slen[d])
			end = c->slen[d];
		if (s[o] != 22 || encrypted) {
			if (s[o] == 20)
				encrypted = 1;
			out[k].type = 0;
			out[k].is_record = 1;
			out[k].ctype = s[o];
			out[k].start = o;
			out[k].end = end;
			k++;
			continue;
		}
		for (j = o + 5; j < end && k < max; ) {
			if (need == 0) {
				if (hdr_have == 0)
					msg_start = j;
				hdr[hdr_have++] = s[j++];
				if (hdr_have == 4) {
					need = (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
					hdr_have = 0;
					if (need == 0) {
						out[k].type = hdr[0];
						out[k].is_record = 0;
						out[k].ctype = 22;
						out[k].start = msg_start;
						out[k].end = j;
						k++;
					}
				}
				continue;
			}
			{
				uint32_t take = end - j < need ? end - j : need;
				j += take;
				need -= take;
				if (need == 0) {
					out[k].type = hdr[0];
					out[k].is_record = 0;
					out[k].ctype = 22;
					out[k].start = msg_start;
					out[k].end = j;
					k++;
				}
			}
		}
	}
	free(rec);
	return k;
}

/* ---- transformations on the segment list ------------------------------- */

static int is_payload(const struct seg *s)
{
	return s->len && !(s->flags & (TH_SYN | TH_FIN | TH_RST));
}

/* Replaces each payload segment by pieces cut at the offsets cut(c, d, from, to) lists. */
typedef size_t cut_fn(const struct conn *c, int d, uint32_t from, uint32_t to, uint32_t *cuts,
		      size_t max);

static void resegment(struct segv *sv, cut_fn *fn)
{
	struct segv out = { 0 };
	size_t i, k, max = 1u << 16;
	uint32_t *cuts = malloc(max * sizeof(*cuts));
	if (!cuts)
		die("out of memory");
	for (i = 0; i < sv->n; i++) {
		struct seg s = sv->v[i];
		size_t nc;
		uint32_t from;
		if (!is_payload(&s)) {
			segv_push(&out, &s);
			continue;
		}
		nc = fn(&conns[s.conn], s.dir, s.off, s.off + s.len, cuts, max);
		from = s.off;
		for (k = 0; k <= nc; k++) {
			uint32_t to = k < nc ? cuts[k] : s.off + s.len;
			struct seg p = s;
			if (to <= from)
				continue;
			p.off = from;
			p.len = to - from;
			segv_push(&out, &p);
			from = to;
		}
	}
	free(cuts);
	free(sv->v);
	*sv = out;
}

static size_t cut_onebyte(const struct conn *c, int d, uint32_t from, uint32_t to, uint32_t *cuts,
			  size_t max)
{
	size_t n = 0;
	uint32_t o;
	(void)c;
	(void)d;
	for (o = from + 1; o < to && n < max; o++)
		cuts[n++] = o;
	return n;
}

/* Cuts after header byte k (1..5) of every record starting inside [from, to). */
static size_t cut_hdr(const struct conn *c, int d, uint32_t from, uint32_t to, uint32_t *cuts,
		      size_t max)
{
	size_t nrec, i, n = 0;
	uint32_t *rec = records(c, d, &nrec);
	int k;
	for (i = 0; i < nrec; i++)
		for (k = 1; k <= 5; k++) {
			uint32_t o = rec[i] + (uint32_t)k;
			if (hdrsplit_at && k != hdrsplit_at)
				continue;
			if (o > from && o < to && n < max)
				cuts[n++] = o;
		}
	free(rec);
	return n;
}

/*
 * multirec: each flight is re-cut so that one segment carries
 * MULTIREC_PER_SEG whole records (the last may be partial when the flight
 * ends mid-record). All pieces take the position and time of the flight's
 * first segment.
 */
static void multirec(struct segv *sv)
{
	struct segv out = { 0 };
	size_t i = 0;
	while (i < sv->n) {
		struct seg s = sv->v[i];
		size_t j = i + 1, nrec, r;
		uint32_t from, to, *rec, last;
		int count = 0;
		if (!is_payload(&s)) {
			segv_push(&out, &s);
			i++;
			continue;
		}
		to = s.off + s.len;
		while (j < sv->n && is_payload(&sv->v[j]) && sv->v[j].conn == s.conn &&
		       sv->v[j].dir == s.dir && sv->v[j].off == to) {
			to += sv->v[j].len;
			j++;
		}
		from = s.off;
		rec = records(&conns[s.conn], s.dir, &nrec);
		last = from;
		for (r = 0; r < nrec; r++) {
			if (rec[r] <= from || rec[r] >= to)
				continue;
			if (++count % MULTIREC_PER_SEG)
				continue;
			s.off = last;
			s.len = rec[r] - last;
			segv_push(&out, &s);
			last = rec[r];
		}
		s.off = last;
		s.len = to - last;
		if (s.len)
			segv_push(&out, &s);
		free(rec);
		i = j;
	}
	free(sv->v);
	*sv = out;
}

/* Removes stream bytes [from, to) of (conn, dir) from every segment. */
static void drop_bytes(struct segv *sv, int ci, int d, uint32_t from, uint32_t to)
{
	struct segv out = { 0 };
	size_t i;
	for (i = 0; i < sv->n; i++) {
		struct seg s = sv->v[i];
		uint32_t e = s.off + s.len;
		if (!is_payload(&s) || s.conn != ci || s.dir != d || e <= from || s.off >= to) {
			segv_push(&out, &s);
			continue;
		}
		if (s.off < from) {
			struct seg a = s;
			a.len = from - s.off;
			segv_push(&out, &a);
		}
		if (e > to) {
			struct seg b = s;
			b.off = to;
			b.len = e - to;
			segv_push(&out, &b);
		}
	}
	free(sv->v);
	*sv = out;
	if (from < conns[ci].lost_from[d])
		conns[ci].lost_from[d] = from;
	conns[ci].drop_from[d] = from;
	conns[ci].drop_to[d] = to;
}

/*
 * A removed range is a gap tlswhy can know of only when something comes
 * after it: a later segment or FIN of the same direction, or an ACK from
 * the peer for bytes in it. Else the capture looks merely short.
 */
static int gap_visible(const struct segv *sv, int ci, int d)
{
	const struct conn *c = &conns[ci];
	size_t i;
	for (i = 0; i < sv->n; i++) {
		const struct seg *s = &sv->v[i];
		if (s->conn != ci)
			continue;
		if (s->dir == d && (is_payload(s) || (s->flags & TH_FIN)) && s->off >= c->drop_to[d])
			return 1;
		if (s->dir != d && (s->flags & TH_ACK) && (int32_t)(s->ackoff - c->drop_from[d]) > 0)
			return 1;
	}
	return 0;
}

static void gaps(struct segv *sv)
{
	int ci, d;
	struct tmsg m[256];
	for (ci = 0; ci < nconns; ci++) {
		int done_alert = 0;
		for (d = 0; d < 2; d++) {
			size_t n = tls_messages(&conns[ci], d, m, 256), k;
			for (k = 0; k < n; k++) {
				uint32_t mid = m[k].start + (m[k].end - m[k].start) / 2;
				if ((tf & T_GAP_CH) && !m[k].is_record && m[k].type == 1 &&
				    m[k].end - m[k].start > 2 * GAP_BYTES) {
					drop_bytes(sv, ci, d, mid, mid + GAP_BYTES);
					break;
				}
				if ((tf & T_GAP_CERT) && !m[k].is_record && m[k].type == 11 &&
				    m[k].end - m[k].start > 2 * GAP_BYTES) {
					drop_bytes(sv, ci, d, mid, mid + GAP_BYTES);
					break;
				}
				if (m[k].is_record && m[k].ctype == 20)
					break;   /* encrypted from here on */
				if ((tf & T_GAP_ALERT) && m[k].is_record && m[k].ctype == 21 && !done_alert) {
					drop_bytes(sv, ci, d, m[k].start, m[k].end);
					done_alert = 1;
					break;
				}
			}
		}
	}
}

/*
 * overlap-same / overlap-diff: after each payload segment A of two bytes
 * or more, a segment O from the middle of A to the middle of the next
 * segment of the flight (to A's end when there is none). With -diff, O's
 * bytes inside A are inverted: they were delivered already, so the first
 * copy wins and the stream is unchanged; the bytes beyond A are the true
 * ones, since O delivers them first.
 */
static void overlaps(struct segv *sv)
{
	struct segv out = { 0 };
	size_t i, j;
	for (i = 0; i < sv->n; i++) {
		struct seg a = sv->v[i], o;
		uint32_t end = a.off + a.len;
		segv_push(&out, &a);
		if (!is_payload(&a) || a.len < 2)
			continue;
		o = a;
		o.off = a.off + a.len / 2;
		o.len = end - o.off;
		for (j = i + 1; j < sv->n; j++) {
			const struct seg *b = &sv->v[j];
			if (b->conn != a.conn)
				continue;
			if (b->dir != a.dir || !is_payload(b))
				break;
			if (b->off == end)
				o.len += b->len / 2;
			break;
		}
		if (tf & T_OVL_DIFF) {
			o.flip = 1;
			o.flipto = end;
		}
		segv_push(&out, &o);
	}
	free(sv->v);
	*sv = out;
}

static void dups(struct segv *sv)
{
	struct segv out = { 0 };
	size_t i;
	for (i = 0; i < sv->n; i++) {
		segv_push(&out, &sv->v[i]);
		if (is_payload(&sv->v[i]))
			segv_push(&out, &sv->v[i]);
	}
	free(sv->v);
	*sv = out;
}

/*
 * reverse / random: the payload segments of each flight are permuted
 * among the flight's positions (times stay with the positions). A flight
 * ends at any packet of the same connection that is not a payload segment
 * of the same direction.
 */
static void permute(struct segv *sv)
{
	size_t i = 0, flight = 0;
	size_t *pos = malloc(sv->n * sizeof(*pos));
	struct seg *tmp = malloc(sv->n * sizeof(*tmp));
	if (!pos || !tmp)
		die("out of memory");
	while (i < sv->n) {
		const struct seg *s = &sv->v[i];
		size_t n = 0, j, k;
		if (!is_payload(s)) {
			i++;
			continue;
		}
		for (j = i; j < sv->n; j++) {
			const struct seg *t = &sv->v[j];
			if (t->conn != s->conn)
				continue;
			if (t->dir != s->dir || !is_payload(t))
				break;
			pos[n++] = j;
		}
		flight++;
		for (k = 0; k < n; k++)
			tmp[k] = sv->v[pos[k]];
		if (tf & T_REVERSE) {
			for (k = 0; k < n / 2; k++) {
				struct seg t = tmp[k];
				tmp[k] = tmp[n - 1 - k];
				tmp[n - 1 - k] = t;
			}
		} else {
			rng_state = CRAFT_SEED ^ ((uint64_t)s->conn << 40) ^ flight;
			for (k = n; k > 1; k--) {
				size_t r = (size_t)(rng_next() % k);
				struct seg t = tmp[k - 1];
				tmp[k - 1] = tmp[r];
				tmp[r] = t;
			}
		}
		for (k = 0; k < n; k++) {
			int64_t ts = sv->v[pos[k]].ts;
			sv->v[pos[k]] = tmp[k];
			sv->v[pos[k]].ts = ts;
		}
		/* next flight: the first payload segment after this one's first position not in it */
		i++;
		while (i < sv->n) {
			int in = 0;
			for (k = 0; k < n; k++)
				if (pos[k] == i)
					in = 1;
			if (!in)
				break;
			i++;
		}
	}
	free(pos);
	free(tmp);
}

/*
 * finfirst: a FIN (with ACK) that acknowledges the payload segments of the
 * other side right before it, in the same connection, is moved before
 * them (times stay with the positions): what a capture shows when the two
 * directions reach it out of step (a mirror, a host with several queues).
 * Each direction's own order is unchanged. ackfirst: the same for every
 * packet without payload (a bare ACK or a FIN); alertfirst: for every FIN
 * and every segment that starts with an alert record; flightfirst: for
 * every packet.
 */
enum { MOVE_FINS, MOVE_BARE, MOVE_ALERTS, MOVE_ALL };

/* The segment starts a TLS alert record: type 21, or a TLS 1.3 one (24
 * bytes of type 23, length 19). */
static int starts_alert_rec(const struct conn *c, const struct seg *s)
{
	const uint8_t *p;
	if (!s->len || (uint64_t)s->off + s->len > c->slen[s->dir])
		return 0;
	p = c->stream[s->dir] + s->off;
	return p[0] == 21 || (s->len == 24 && p[0] == 23 && p[3] == 0 && p[4] == 19);
}

static void finfirst(struct segv *sv, int what)
{
	size_t i;
	for (i = 0; i < sv->n; i++) {
		struct seg fin = sv->v[i];
		size_t j = i, k;
		if (!(fin.flags & TH_ACK) || (fin.flags & (TH_SYN | TH_RST)))
			continue;
		if (what == MOVE_BARE ? fin.len != 0
		    : what == MOVE_FINS ? !(fin.flags & TH_FIN)
		    : what == MOVE_ALERTS ? !(fin.flags & TH_FIN) && !starts_alert_rec(&conns[fin.conn], &fin)
					  : 0)
			continue;
		/* back over the other side's payload segments it acknowledges,
		 * skipping other connections' packets */
		for (k = i; k-- > 0;) {
			const struct seg *t = &sv->v[k];
			if (t->conn != fin.conn)
				continue;
			if (t->dir == fin.dir || !is_payload(t) || (int32_t)(fin.ackoff - (t->off + t->len)) < 0)
				break;
			j = k;
		}
		if (j == i)
			continue;
		{
			int64_t ts = sv->v[j].ts;
			for (k = i; k > j; k--) {
				int64_t t2 = sv->v[k].ts;
				sv->v[k] = sv->v[k - 1];
				sv->v[k].ts = t2;
			}
			sv->v[j] = fin;
			sv->v[j].ts = ts;
		}
	}
}

/*
 * What a receiver that keeps the first copy sees, per (conn, dir): a
 * segment that starts beyond the contiguous end is out_of_order (unless it
 * repeats a queued one: a retransmission); one that starts before it is a
 * retransmission, and an overlap_conflict when its bytes there differ; one
 * cut by the snaplen is truncated_packet and a gap. An anomaly injected
 * while the contiguous end has not passed the direction's boundary must be
 * reported; later, tlswhy may have stopped buffering that direction.
 */
static uint32_t trunc_keep = UINT32_MAX;   /* IP + TCP bytes a frame keeps (snaplen, mirror) */

struct span { uint32_t s, e; };   /* queued bytes [s, e); consumed: e == s */

/* The bytes before upto are given up on (a gap): the contiguous end moves
 * there, and on over the queued spans it reaches, which are consumed. */
static void lose_upto(struct span *q, size_t nq, uint32_t upto, uint32_t *next, size_t *active)
{
	size_t k;
	*next = upto;
	for (k = 0; k < nq; k++)
		if (q[k].e > q[k].s && q[k].s <= *next) {
			if (q[k].e > *next)
				*next = q[k].e;
			q[k].e = q[k].s;
			(*active)--;
		}
}

static void simulate(const struct segv *sv)
{
	struct span *q;
	size_t i, ci;
	q = malloc((sv->n + 1) * sizeof(*q));
	if (!q)
		die("out of memory");
	for (ci = 0; ci < (size_t)nconns; ci++) {
		struct conn *c = &conns[ci];
		uint32_t iptcp = (c->family == 6 || (tf & T_IPV6)) ? 60 : 40;
		int d;
		for (d = 0; d < 2; d++) {
			uint32_t next = 0, pend = 0;
			size_t nq = 0, k, active = 0;
			int started = 0, capped = 0;
			if (c->drop_to[d] > c->drop_from[d])
				*(gap_visible(sv, (int)ci, d) ? &c->injected : &c->maybe) |= A_GAP;
			for (i = 0; i < sv->n; i++) {
				const struct seg *s = &sv->v[i];
				uint32_t got = 0;
				int again;
				if (s->conn != ci)
					continue;
				if (s->dir != d && started && (s->flags & TH_ACK) && (int32_t)(s->ackoff - next) > 0) {
					/* the peer acknowledged bytes not seen: when that covers
					 * bytes queued after the hole, tlswhy declares them lost
					 * at once and takes what it queued up to there; else it
					 * waits for this side's next packet (the sides may be out
					 * of step in the capture) */
					int covers = 0;
					for (k = 0; k < nq; k++)
						if (q[k].e > q[k].s && (int32_t)(s->ackoff - q[k].s) > 0)
							covers = 1;
					if (!covers) {
						if ((int32_t)(s->ackoff - pend) > 0)
							pend = s->ackoff;
						continue;
					}
					lose_upto(q, nq, s->ackoff, &next, &active);
					continue;
				}
				if (s->dir != d)
					continue;
				if (started && (int32_t)(pend - next) > 0 && (s->off != next || !is_payload(s)) &&
				    (is_payload(s) || (s->flags & (TH_FIN | TH_RST))) &&
				    !(is_payload(s) && (int32_t)(s->off - next) > 0 && (int32_t)(pend - s->off) > 0)) {
					/* this side's next packet does not start them (nor
					 * carries some of them out of order): lost */
					lose_upto(q, nq, pend, &next, &active);
				}
				if (!is_payload(s))
					continue;
				if (!started) {
					started = 1;
					next = c->had_syn[d] && !(tf & T_NOSYN) ? 0 : s->off;
				}
				if (trunc_keep != UINT32_MAX && s->len + iptcp > trunc_keep) {
					uint32_t keep = trunc_keep > iptcp ? trunc_keep - iptcp : 0;
					got |= A_TRUNC | A_GAP;
					if (s->off + keep < c->lost_from[d])
						c->lost_from[d] = s->off + keep;
				}
				if (s->off < next) {
					got |= A_RETRANS;
					if (s->flip)
						got |= A_CONFLICT;
				} else if (s->off > next) {
					again = 0;
					for (k = 0; k < nq; k++)
						if (q[k].s == s->off && q[k].e >= s->off + s->len)
							again = 1;
					got |= again ? A_RETRANS : A_OOO;
					if (!again && active >= FLOW_DEFAULT_MAX_SEGMENTS && !capped) {
						/* the queue cap: tlswhy gives up on the bytes before
						 * the queue; from here on its view and ours part */
						got |= A_CAPSEG | A_GAP;
						capped = 1;
						if (next < c->lost_from[d])
							c->lost_from[d] = next;
					}
					if (!again) {
						q[nq++] = (struct span){ s->off, s->off + s->len };
						active++;
					}
				}
				if (next <= c->boundary[d] && !(capped && !(got & A_CAPSEG)))
					c->injected |= got;
				else
					c->maybe |= got;
				if (capped)
					c->maybe |= A_RETRANS | A_OOO | A_GAP | A_EVCLIP;
				/* truncated_packet is counted before the reassembly looks */
				c->injected |= got & A_TRUNC;
				if (s->off > next)
					continue;
				if (s->off + s->len > next)
					next = s->off + s->len;
				for (;;) {
					int moved = 0;
					for (k = 0; k < nq; k++)
						if (q[k].s <= next && q[k].e > q[k].s) {
							if (q[k].e > next)
								next = q[k].e;
							q[k].e = q[k].s;   /* consumed */
							active--;
							moved = 1;
						}
					if (!moved)
						break;
				}
			}
		}
	}
	free(q);
}

/* ---- building frames with libnet --------------------------------------- */

struct out {
	pcap_t *dead;
	pcap_dumper_t *dump;
	FILE *ng;
	int dlt;
	uint32_t snaplen;
	libnet_t *l;
	uint16_t ipid[CRAFT_MAX_CONNS][2];
	uint32_t frames;
	uint32_t datagrams;
};

static const uint8_t mac[2][6] = { { 2, 0, 0, 0, 0, 1 }, { 2, 0, 0, 0, 0, 2 } };
static const uint8_t outer_mac[2][6] = { { 2, 0, 0, 0, 1, 1 }, { 2, 0, 0, 0, 1, 2 } };
#define OUTER_SRC 0x0a00000aU  /* 10.0.0.10: the mirrored ENI / the GWLB */
#define OUTER_DST 0x0a000114U  /* 10.0.1.20: the mirror target / the appliance */

static void put_le32(FILE *f, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
	fwrite(b, 1, 4, f);
}

static void put_le16(FILE *f, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
	fwrite(b, 1, 2, f);
}

static void write_frame(struct out *o, int64_t ts, const uint8_t *p, uint32_t len)
{
	uint32_t cap = len < o->snaplen ? len : o->snaplen;
	o->frames++;
	if (o->ng) {
		/* Enhanced Packet Block (pcapng section 4.3), microsecond resolution */
		uint32_t pad = (4 - cap % 4) % 4, blen = 32 + cap + pad;
		uint64_t t = (uint64_t)ts;
		static const uint8_t zero[4];
		put_le32(o->ng, 6);
		put_le32(o->ng, blen);
		put_le32(o->ng, 0);
		put_le32(o->ng, (uint32_t)(t >> 32));
		put_le32(o->ng, (uint32_t)t);
		put_le32(o->ng, cap);
		put_le32(o->ng, len);
		fwrite(p, 1, cap, o->ng);
		fwrite(zero, 1, pad, o->ng);
		put_le32(o->ng, blen);
	} else {
		struct pcap_pkthdr h;
		h.ts.tv_sec = (time_t)(ts / 1000000);
		h.ts.tv_usec = (suseconds_t)(ts % 1000000);
		h.caplen = cap;
		h.len = len;
		pcap_dump((u_char *)o->dump, &h, p);
	}
}

static void lnet_check(libnet_t *l, libnet_ptag_t t)
{
	if (t == -1) {
		fprintf(stderr, "craft: libnet: %s\n", libnet_geterror(l));
		exit(2);
	}
}

/* Coalesces the context into buf; returns the length. */
static uint32_t lnet_take(libnet_t *l, uint8_t *buf)
{
	uint8_t *p;
	uint32_t n;
	if (libnet_pblock_coalesce(l, &p, &n) < 0 || n > MAX_FRAME) {
		fprintf(stderr, "craft: libnet: %s\n", libnet_geterror(l));
		exit(2);
	}
	memcpy(buf, p, n);
	libnet_adv_free_packet(l, p);
	libnet_clear_packet(l);
	return n;
}

static void v6_of(const struct conn *c, int d, struct libnet_in6_addr *a)
{
	if (c->family == 6) {
		memcpy(a, c->addr[d], 16);
		return;
	}
	/* fd00:6::a.b.c.d */
	memset(a, 0, 16);
	((uint8_t *)a)[0] = 0xfd;
	((uint8_t *)a)[3] = 6;
	memcpy((uint8_t *)a + 12, c->addr[d], 4);
}

static uint32_t v4_of(const struct conn *c, int d)
{
	uint32_t a;
	memcpy(&a, c->addr[d], 4);
	return a;
}

/* The link layer (or none, for GENEVE's inner packet) over the IP packet in l. */
static void build_link(libnet_t *l, int d, int v6, int inner_for_geneve)
{
	uint16_t et = v6 ? 0x86dd : 0x0800;
	if (inner_for_geneve)
		return;
	if (tf & T_SLL) {
		/* Linux cooked v1: packet type, ARPHRD, address length, address(8), protocol */
		uint8_t h[16] = { 0, (uint8_t)(d ? 0 : 4), 0, 1, 0, 6 };
		memcpy(h + 6, mac[d], 6);
		h[14] = (uint8_t)(et >> 8);
		h[15] = (uint8_t)et;
		lnet_check(l, libnet_build_data(h, sizeof(h), l, 0));
	} else if (tf & T_SLL2) {
		/* Linux cooked v2: protocol, reserved, ifindex, ARPHRD, packet type, addr len, addr(8) */
		uint8_t h[20] = { (uint8_t)(et >> 8), (uint8_t)et, 0, 0, 0, 0, 0, 1, 0, 1, (uint8_t)(d ? 0 : 4), 6 };
		memcpy(h + 12, mac[d], 6);
		lnet_check(l, libnet_build_data(h, sizeof(h), l, 0));
	} else if (tf & T_QINQ) {
		uint8_t inner[4] = { 0, 100, (uint8_t)(et >> 8), (uint8_t)et };
		lnet_check(l, libnet_build_data(inner, 4, l, 0));
		lnet_check(l, libnet_build_802_1q(mac[1 - d], mac[d], 0x88a8, 0, 0, 200, 0x8100, NULL, 0, l, 0));
	} else if (tf & T_VLAN) {
		lnet_check(l, libnet_build_802_1q(mac[1 - d], mac[d], 0x8100, 0, 0, 100, et, NULL, 0, l, 0));
	} else {
		lnet_check(l, libnet_build_ethernet(mac[1 - d], mac[d], et, NULL, 0, l, 0));
	}
}

/* Wraps an inner frame/packet in Ethernet/IPv4/UDP/VXLAN or GENEVE, then writes it. */
static void emit_encap(struct out *o, const struct seg *s, const uint8_t *inner, uint32_t ilen)
{
	static uint8_t buf[MAX_FRAME];
	uint8_t hdr[40];
	uint32_t hl, n;
	uint16_t port = (tf & T_GENEVE) ? GENEVE_PORT : VXLAN_PORT;
	/* source port: a per-flow hash, as both AWS services do */
	uint16_t sport = (uint16_t)(49152u + (s->conn * 977u) % 16384u);
	if (tf & T_VXLAN_TRUNC && ilen > MIRROR_TRUNC)
		ilen = MIRROR_TRUNC;
	if (tf & T_GENEVE) {
		/* RFC 8926: Ver(2) OptLen(6) | O C Rsvd(6) | Protocol Type(16) | VNI(24) Rsvd(8),
		 * then options: class(16) type(8) R(3) len(5, 4-byte words) data */
		static const uint8_t opts[] = {
			0x01, 0x08, 0x01, 0x02, 0x00, 0x00, 0x0e, 0x7a, 0x00, 0x00, 0x00, 0x01, /* endpoint id */
			0x01, 0x08, 0x02, 0x02, 0x00, 0x00, 0x0a, 0x77, 0x00, 0x00, 0x00, 0x02, /* attachment id */
			0x01, 0x08, 0x03, 0x01, 0x00, 0x00, 0x00, 0x00,                         /* flow cookie */
		};
		uint16_t pt = (inner[0] >> 4) == 6 ? 0x86dd : 0x0800;
		hdr[0] = (uint8_t)(sizeof(opts) / 4);
		hdr[1] = 0;
		hdr[2] = (uint8_t)(pt >> 8);
		hdr[3] = (uint8_t)pt;
		hdr[4] = 0; hdr[5] = 0; hdr[6] = 0; hdr[7] = 0;   /* GWLB uses VNI 0 */
		memcpy(hdr + 8, opts, sizeof(opts));
		hdr[8 + 28] = (uint8_t)(s->conn >> 8);            /* the flow cookie names the flow */
		hdr[8 + 29] = (uint8_t)s->conn;
		hl = 8 + sizeof(opts);
	} else {
		/* RFC 7348: flags (I = 0x08), 24 reserved bits, VNI(24), 8 reserved */
		memset(hdr, 0, 8);
		hdr[0] = 0x08;
		hdr[4] = (uint8_t)(VXLAN_VNI >> 16);
		hdr[5] = (uint8_t)(VXLAN_VNI >> 8);
		hdr[6] = (uint8_t)VXLAN_VNI;
		hl = 8;
	}
	{
		static uint8_t pay[MAX_FRAME];
		libnet_ptag_t udp;
		memcpy(pay, hdr, hl);
		memcpy(pay + hl, inner, ilen);
		udp = libnet_build_udp(sport, port, (uint16_t)(8 + hl + ilen), 0, pay, hl + ilen, o->l, 0);
		lnet_check(o->l, udp);
		/* VXLAN and GENEVE over IPv4 send a zero UDP checksum (RFC 7348, RFC 8926) */
		libnet_toggle_checksum(o->l, udp, LIBNET_OFF);
	}
	lnet_check(o->l, libnet_build_ipv4((uint16_t)(20 + 8 + hl + ilen), 0, (uint16_t)(o->datagrams++), 0x4000, 64,
					   IPPROTO_UDP, 0, htonl(OUTER_SRC), htonl(OUTER_DST), NULL, 0, o->l, 0));
	lnet_check(o->l, libnet_build_ethernet(outer_mac[1], outer_mac[0], 0x0800, NULL, 0, o->l, 0));
	n = lnet_take(o->l, buf);
	conns[s->conn].encap = 1;
	write_frame(o, s->ts, buf, n);
}

/* The TCP header and payload of a segment (checksummed), into l. */
static uint32_t seg_seq(const struct seg *s)
{
	const struct conn *c = &conns[s->conn];
	return (s->flags & TH_SYN) ? c->newisn[s->dir] : c->newisn[s->dir] + 1 + s->off;
}

static void emit_seg(struct out *o, const struct seg *s)
{
	static uint8_t buf[MAX_FRAME], pay[MAX_FRAME], tcp[MAX_FRAME];
	const struct conn *c = &conns[s->conn];
	int d = s->dir;
	int v6 = c->family == 6 || (tf & T_IPV6);
	uint32_t ack = (s->flags & TH_ACK) ? c->newisn[1 - d] + 1 + s->ackoff : 0;
	uint32_t n, i, tlen;
	struct libnet_in6_addr a6[2];
	uint16_t id = o->ipid[s->conn][d]++;
	int geneve = (tf & T_GENEVE) != 0;
	int encap = (tf & (T_VXLAN | T_GENEVE)) != 0;
	if (s->len)   /* a direction without bytes has no stream buffer */
		memcpy(pay, c->stream[d] + s->off, s->len);
	if (s->flip)
		for (i = 0; i < s->len && s->off + i < s->flipto; i++)
			pay[i] ^= 0xff;
	v6_of(c, 0, &a6[0]);
	v6_of(c, 1, &a6[1]);
	lnet_check(o->l, libnet_build_tcp(c->port[d], c->port[1 - d], seg_seq(s), ack, s->flags, s->win, 0, 0,
					  (uint16_t)(20 + s->len), s->len ? pay : NULL, s->len, o->l, 0));
	if (v6) {
		lnet_check(o->l, libnet_build_ipv6(0, 0, (uint16_t)(20 + s->len), IPPROTO_TCP, 64, a6[d], a6[1 - d],
						   NULL, 0, o->l, 0));
	} else {
		lnet_check(o->l, libnet_build_ipv4((uint16_t)(40 + s->len), 0, id, 0x4000, 64, IPPROTO_TCP, 0,
						   v4_of(c, d), v4_of(c, 1 - d), NULL, 0, o->l, 0));
	}
	if ((tf & T_FRAG) && !v6 && s->len + 20 > FRAG_CHUNK) {
		/* the checksummed TCP segment, then one IPv4 datagram per chunk */
		uint32_t off, nfrag, k;
		n = lnet_take(o->l, tcp);
		tlen = n - 20;
		nfrag = (tlen + FRAG_CHUNK - 1) / FRAG_CHUNK;
		o->datagrams++;
		for (k = 0; k < nfrag; k++) {
			uint32_t idx = (o->datagrams % 2) ? nfrag - 1 - k : k;
			uint32_t clen;
			off = idx * FRAG_CHUNK;
			clen = tlen - off < FRAG_CHUNK ? tlen - off : FRAG_CHUNK;
			lnet_check(o->l, libnet_build_data(tcp + 20 + off, clen, o->l, 0));
			lnet_check(o->l, libnet_build_ipv4((uint16_t)(20 + clen), 0, id,
							   (uint16_t)((off / 8) | (idx + 1 < nfrag ? 0x2000 : 0)), 64,
							   IPPROTO_TCP, 0, v4_of(c, d), v4_of(c, 1 - d), NULL, 0, o->l, 0));
			build_link(o->l, d, 0, 0);
			n = lnet_take(o->l, buf);
			write_frame(o, s->ts, buf, n);
		}
		return;
	}
	build_link(o->l, d, v6, geneve);
	n = lnet_take(o->l, buf);
	if (encap)
		emit_encap(o, s, buf, n);
	else
		write_frame(o, s->ts, buf, n);
}

/* ---- main ----------------------------------------------------------------- */

static uint32_t parse_transforms(const char *spec)
{
	char *dup = strdup(spec), *tok, *save = NULL;
	uint32_t bits = 0;
	size_t i;
	if (!dup)
		die("out of memory");
	for (tok = strtok_r(dup, "+,", &save); tok; tok = strtok_r(NULL, "+,", &save)) {
		int found = 0;
		for (i = 0; i < sizeof(tnames) / sizeof(tnames[0]); i++)
			if (!strcmp(tok, tnames[i].name)) {
				bits |= tnames[i].bit;
				found = 1;
				if (!strncmp(tok, "hdrsplit", 8) && tok[8])
					hdrsplit_at = tok[8] - '0';
			}
		if (!found) {
			fprintf(stderr, "craft: unknown transformation '%s' (craft -l lists them)\n", tok);
			exit(2);
		}
	}
	free(dup);
	if (__builtin_popcount(bits & (T_ONEBYTE | T_HDRSPLIT | T_MULTIREC)) > 1)
		die("onebyte, hdrsplit and multirec each cut segments: choose one");
	if ((bits & T_REVERSE) && (bits & T_RANDOM))
		die("reverse and random: choose one");
	if (__builtin_popcount(bits & (T_VLAN | T_QINQ | T_SLL | T_SLL2 | T_VXLAN | T_GENEVE)) > 1)
		die("choose one link layer or encapsulation");
	if ((bits & T_OVL_DIFF) && (bits & (T_REVERSE | T_RANDOM)))
		die("overlap-diff with reordering would let the altered copy arrive first");
	if ((bits & T_FRAG) && (bits & (T_VXLAN | T_GENEVE)))
		die("frag fragments the inner packet: not combined with encapsulation");
	return bits;
}

static void usage(void)
{
	size_t i;
	fprintf(stderr, "usage: craft -t T[+T...] [-m manifest.tsv] -o out.pcap in.pcap\n"
			"       craft -l\ntransformations:\n");
	for (i = 0; i < sizeof(tnames) / sizeof(tnames[0]); i++)
		fprintf(stderr, "  %-13s %s\n", tnames[i].name, tnames[i].what);
}

static void write_manifest(const char *path, const struct segv *sv)
{
	FILE *f = fopen(path, "w");
	int ci, d;
	struct tmsg m[256];
	static const char *const hs_name[256] = { [1] = "client_hello", [2] = "server_hello",
						  [11] = "certificates", [12] = "server_key_exchange",
						  [13] = "certificate_request", [14] = "server_hello_done",
						  [16] = "client_key_exchange", [4] = "new_session_ticket" };
	/* RFC 8446 4.1.3: a ServerHello with this random is a HelloRetryRequest */
	static const uint8_t hrr_random[32] = {
		0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
		0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
	};
	size_t i;
	if (!f)
		die("cannot write the manifest");
	fprintf(f, "conn\tclient_port\tserver_port\tpresent\tinjected\tmaybe\tintact\tencapsulation\n");
	for (ci = 0; ci < nconns; ci++) {
		struct conn *c = &conns[ci];
		int first = 1, b, cl = c->client, seen_ch = 0;
		c->alive = 0;
		for (i = 0; i < sv->n; i++)
			if (sv->v[i].conn == ci && (sv->v[i].len || (sv->v[i].flags & TH_SYN)))
				c->alive = 1;
		fprintf(f, "%d\t%u\t%u\t%s\t", ci + 1, c->port[cl], c->port[1 - cl], c->alive ? "yes" : "no");
		for (b = 0; b < A_COUNT; b++)
			if (c->injected & (1u << b)) {
				fprintf(f, "%s%s", first ? "" : ",", anames[b]);
				first = 0;
			}
		fprintf(f, "%s\t", first ? "-" : "");
		first = 1;
		for (b = 0; b < A_COUNT; b++)
			if ((c->maybe & ~c->injected) & (1u << b)) {
				fprintf(f, "%s%s", first ? "" : ",", anames[b]);
				first = 0;
			}
		fprintf(f, "%s\t", first ? "-" : "");
		first = 1;
		for (d = 0; d < 2; d++) {
			size_t n = tls_messages(c, d, m, 256), k;
			for (k = 0; k < n; k++) {
				const char *nm = m[k].is_record ? NULL : hs_name[m[k].type];
				if (!nm || m[k].end > c->lost_from[d])
					continue;
				if (m[k].type == 11)
					nm = d == cl ? "client_certificates" : "server_certificates";
				if (m[k].type == 2 && m[k].start + 38 <= c->slen[d] &&
				    !memcmp(c->stream[d] + m[k].start + 6, hrr_random, 32))
					nm = "hello_retry_request";
				if (m[k].type == 1 && seen_ch++)
					nm = "client_hello_2";
				fprintf(f, "%s%s", first ? "" : ",", nm);
				first = 0;
			}
		}
		fprintf(f, "%s\t%s\n", first ? "-" : "",
			(tf & T_VXLAN) ? "vxlan" : (tf & T_GENEVE) ? "geneve" : "-");
	}
	fclose(f);
}

int main(int argc, char **argv)
{
	const char *spec = NULL, *outp = NULL, *manp = NULL;
	struct segv sv = { 0 };
	struct out o;
	char err[LIBNET_ERRBUF_SIZE];
	size_t i;
	int opt, ci, d;
	while ((opt = getopt(argc, argv, "t:o:m:lh")) != -1) {
		switch (opt) {
		case 't': spec = optarg; break;
		case 'o': outp = optarg; break;
		case 'm': manp = optarg; break;
		case 'l': usage(); return 0;
		default: usage(); return 2;
		}
	}
	if (!spec || !outp || optind != argc - 1) {
		usage();
		return 2;
	}
	tf = parse_transforms(spec);
	read_input(argv[optind], &sv);

	for (ci = 0; ci < nconns; ci++) {
		struct conn *c = &conns[ci];
		struct tmsg m[4];
		c->lost_from[0] = c->lost_from[1] = UINT32_MAX;
		for (d = 0; d < 2; d++) {
			struct tmsg all[256];
			size_t n = tls_messages(c, d, all, 256), k;
			c->boundary[d] = n ? c->slen[d] : 0;
			for (k = 0; k < n; k++)
				if (all[k].is_record && all[k].ctype != 22) {
					c->boundary[d] = all[k].start;
					break;
				}
		}
		c->newisn[0] = c->isn[0];
		c->newisn[1] = c->isn[1];
		if (c->had_syn[1] && !c->had_syn[0])
			c->client = 1;   /* only the SYN-ACK was seen */
		else if (!c->had_syn[0] && tls_messages(c, 1, m, 1) && !m[0].is_record && m[0].type == 1)
			c->client = 1;
	}
	if (tf & T_NOSYN) {
		struct segv out = { 0 };
		for (i = 0; i < sv.n; i++) {
			if (sv.v[i].flags & TH_SYN) {
				conns[sv.v[i].conn].injected |= A_MIDSTREAM;
				continue;
			}
			segv_push(&out, &sv.v[i]);
		}
		free(sv.v);
		sv = out;
	}
	if (tf & T_ONEBYTE)
		resegment(&sv, cut_onebyte);
	if (tf & T_HDRSPLIT)
		resegment(&sv, cut_hdr);
	if (tf & T_MULTIREC)
		multirec(&sv);
	if (tf & (T_GAP_CH | T_GAP_CERT | T_GAP_ALERT))
		gaps(&sv);
	if (tf & (T_OVL_SAME | T_OVL_DIFF))
		overlaps(&sv);
	if (tf & T_DUP)
		dups(&sv);
	if (tf & (T_REVERSE | T_RANDOM))
		permute(&sv);
	if (tf & (T_FINFIRST | T_ACKFIRST | T_ALERTFIRST | T_FLIGHTFIRST))
		finfirst(&sv, (tf & T_FLIGHTFIRST) ? MOVE_ALL : (tf & T_ALERTFIRST) ? MOVE_ALERTS
			      : (tf & T_ACKFIRST) ? MOVE_BARE : MOVE_FINS);
	if (tf & (T_SNAPLEN | T_VXLAN_TRUNC)) {
		/* IP and TCP bytes left in a frame cut by the snaplen or the mirror length */
		uint32_t cut = (tf & T_SNAPLEN) ? SNAPLEN_SHORT : MIRROR_TRUNC;
		uint32_t l2 = (tf & T_SLL) ? 16 : (tf & T_SLL2) ? 20 : (tf & T_QINQ) ? 22 : (tf & T_VLAN) ? 18 : 14;
		if ((tf & T_SNAPLEN) && (tf & T_VXLAN))
			l2 += 14 + 20 + 8 + 8;
		if ((tf & T_SNAPLEN) && (tf & T_GENEVE))
			l2 = 14 + 20 + 8 + 40;
		trunc_keep = cut - l2;
	}
	simulate(&sv);
	if (tf & T_WRAP) {
		/* the client's sequence space wraps 100 bytes into its stream, the server's 1000 */
		for (ci = 0; ci < nconns; ci++) {
			conns[ci].newisn[conns[ci].client] = 0xffffffffu - 100;
			conns[ci].newisn[1 - conns[ci].client] = 0xffffffffu - 1000;
		}
	}
	for (ci = 0; ci < nconns; ci++) {
		/* a connection without SYN: nothing marks it midstream unless it has payload */
		if (!conns[ci].had_syn[0] && !conns[ci].had_syn[1])
			conns[ci].injected &= ~(uint32_t)A_MIDSTREAM;
	}

	memset(&o, 0, sizeof(o));
	o.l = libnet_init(LIBNET_NONE, NULL, err);
	if (!o.l)
		die(err);
	o.snaplen = (tf & T_SNAPLEN) ? SNAPLEN_SHORT : 262144;
	o.dlt = (tf & T_SLL) ? DLT_LINUX_SLL : (tf & T_SLL2) ? 276 /* LINKTYPE_LINUX_SLL2 */ : DLT_EN10MB;
	o.datagrams = 1;
	for (ci = 0; ci < nconns; ci++) {
		/* IP IDs never repeat between connections that share addresses */
		o.ipid[ci][0] = (uint16_t)(ci * 1024);
		o.ipid[ci][1] = (uint16_t)(ci * 1024 + 512);
	}
	if (tf & T_PCAPNG) {
		o.ng = fopen(outp, "wb");
		if (!o.ng)
			die("cannot write the output");
		/* Section Header Block, then one Interface Description Block (microseconds) */
		put_le32(o.ng, 0x0a0d0d0a);
		put_le32(o.ng, 28);
		put_le32(o.ng, 0x1a2b3c4d);
		put_le16(o.ng, 1);
		put_le16(o.ng, 0);
		put_le32(o.ng, 0xffffffffu);
		put_le32(o.ng, 0xffffffffu);
		put_le32(o.ng, 28);
		put_le32(o.ng, 1);
		put_le32(o.ng, 20);
		put_le16(o.ng, (uint16_t)o.dlt);
		put_le16(o.ng, 0);
		put_le32(o.ng, o.snaplen);
		put_le32(o.ng, 20);
	} else {
		o.dead = pcap_open_dead_with_tstamp_precision(o.dlt, (int)o.snaplen, PCAP_TSTAMP_PRECISION_MICRO);
		o.dump = o.dead ? pcap_dump_open(o.dead, outp) : NULL;
		if (!o.dump)
			die(o.dead ? pcap_geterr(o.dead) : "pcap_open_dead failed");
	}
	for (i = 0; i < sv.n; i++)
		emit_seg(&o, &sv.v[i]);
	if (manp)
		write_manifest(manp, &sv);
	if (o.ng)
		fclose(o.ng);
	else {
		pcap_dump_close(o.dump);
		pcap_close(o.dead);
	}
	libnet_destroy(o.l);
	for (ci = 0; ci < nconns; ci++) {
		free(conns[ci].stream[0]);
		free(conns[ci].stream[1]);
	}
	free(sv.v);
	return 0;
}

/*
 * test_csum.c - the one's complement sum of dissect/decode.c (16 bytes a
 * step, or 64 with AVX2 where the CPU has it) against a plain byte-wise
 * one, and pkt_tcp_csum()'s verdicts.
 *
 *   1. pkt_csum_sum() equals the byte-wise RFC 1071 sum on random buffers
 *      of every length 0..2000 at every alignment 0..7 (and on all-0xff
 *      and all-zero buffers, where the carries pile up or vanish), and on
 *      64 KiB ones (the largest IP payload: the widest sums).
 *   2. Hand-built Ethernet/IPv4 and /IPv6 TCP segments: a right checksum
 *      is OK, one bit off is BAD, a zero field is ZERO, the pseudo-header's
 *      sum (or its complement) in the field is PARTIAL (checksum offload),
 *      a segment cut by the snaplen is not checked; the IPv4 header's
 *      checksum the same way (OK, BAD).
 *   2b. A frame cut at every length (IPv4 with and without options): the
 *      headers read in place when whole, through the cursor when cut.
 *   3. Every TCP segment of the real captures pcaps/alb-tls12-ok.pcap (taken
 *      on a host with checksum offload: pseudo-header sums) and
 *      pcaps/crafted/midstream-hdrsplit-reversed.pcap (right checksums):
 *      the verdict agrees with one computed byte-wise from the frame.
 * Run from the repository root. Last line "N passed, N failed"; exit 1 on failure.
 */
#include "dissect/decode.h"
#include "tests/unit/check.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* RFC 1071, one 16-bit word at a time, big-endian words. */
static uint32_t ref_add(uint32_t s, const uint8_t *p, size_t n)
{
	size_t i;
	for (i = 0; i + 1 < n; i += 2) {
		s += (uint32_t)p[i] << 8 | p[i + 1];
		s = (s & 0xffff) + (s >> 16);
	}
	if (n & 1) {
		s += (uint32_t)p[n - 1] << 8;
		s = (s & 0xffff) + (s >> 16);
	}
	return s;
}

static uint16_t ref_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static uint64_t rng = 0x9e3779b97f4a7c15u;
static uint8_t rnd8(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint8_t)(rng >> 24);
}

static void sums(void)
{
	static uint8_t buf[2000 + 16];
	size_t len, al, i;
	unsigned bad = 0, runs = 0;
	for (len = 0; len <= 2000; len++)
		for (al = 0; al < 8; al++) {
			for (i = 0; i < len + 8; i++)
				buf[i] = rnd8();
			runs++;
			if (pkt_csum_sum(buf + al, len) != ref_fold(ref_add(0, buf + al, len))) {
				if (!bad)
					CHECKF(0, "random bytes, length %zu at alignment %zu", len, al);
				bad++;
			}
		}
	CHECKF(bad == 0, "random buffers: %u of %u sums differ from the byte-wise one", bad, runs);
	for (al = 0; al < 8; al++) {
		memset(buf, 0xff, sizeof(buf));
		CHECK_INTF(pkt_csum_sum(buf + al, 2000), ref_fold(ref_add(0, buf + al, 2000)), "all 0xff, alignment %zu", al);
		CHECK_INTF(pkt_csum_sum(buf + al, 1999), ref_fold(ref_add(0, buf + al, 1999)), "all 0xff, odd, alignment %zu", al);
		memset(buf, 0, sizeof(buf));
		CHECK_INTF(pkt_csum_sum(buf + al, 1001), 0, "all zero, alignment %zu", al);
	}
	{
		static uint8_t big[65535 + 8];
		size_t n;
		for (n = 65535 - 3; n <= 65535; n++)
			for (al = 0; al < 8; al += 3) {
				memset(big, 0xff, sizeof(big));
				CHECK_INTF(pkt_csum_sum(big + al, n), ref_fold(ref_add(0, big + al, n)),
					   "all 0xff, length %zu, alignment %zu", n, al);
				for (i = 0; i < sizeof(big); i++)
					big[i] = rnd8();
				CHECK_INTF(pkt_csum_sum(big + al, n), ref_fold(ref_add(0, big + al, n)),
					   "random bytes, length %zu, alignment %zu", n, al);
			}
	}
}

/* Ethernet + IPv4 or IPv6 + a 20-byte TCP header + paylen bytes, with
 * both checksums right; returns the frame length. */
static size_t build(uint8_t *f, int v6, size_t paylen, uint16_t *pseudo)
{
	size_t ip = 14, iphl = v6 ? 40 : 20, t = ip + iphl, i;
	uint32_t s, tcplen = (uint32_t)(20 + paylen);
	uint8_t ph[8];
	memset(f, 0, t + 20 + paylen);
	f[12] = v6 ? 0x86 : 0x08;
	f[13] = v6 ? 0xdd : 0x00;
	if (v6) {
		f[ip] = 0x60;
		f[ip + 4] = (uint8_t)(tcplen >> 8);
		f[ip + 5] = (uint8_t)tcplen;
		f[ip + 6] = 6;
		f[ip + 7] = 64;
		for (i = 0; i < 32; i++)
			f[ip + 8 + i] = rnd8();
	} else {
		uint32_t tot = 20 + tcplen;
		f[ip] = 0x45;
		f[ip + 2] = (uint8_t)(tot >> 8);
		f[ip + 3] = (uint8_t)tot;
		f[ip + 8] = 64;
		f[ip + 9] = 6;
		for (i = 0; i < 8; i++)
			f[ip + 12 + i] = rnd8();
		s = 0xffff ^ ref_fold(ref_add(0, f + ip, 20));
		f[ip + 10] = (uint8_t)(s >> 8);
		f[ip + 11] = (uint8_t)s;
	}
	f[t] = 0xc3;          /* ports 50000 -> 443 */
	f[t + 1] = 0x50;
	f[t + 3] = 0xbb;
	f[t + 12] = 0x50;     /* 20-byte header */
	f[t + 13] = 0x18;     /* PSH ACK */
	f[t + 14] = 0xff;
	for (i = 0; i < paylen; i++)
		f[t + 20 + i] = rnd8();
	memset(ph, 0, sizeof(ph));
	ph[2] = (uint8_t)(tcplen >> 8);
	ph[3] = (uint8_t)tcplen;
	ph[7] = 6;
	s = v6 ? ref_add(0, f + ip + 8, 32) : ref_add(0, f + ip + 12, 8);
	s = ref_add(s, ph, 8);
	*pseudo = ref_fold(s);
	s = ref_add(s, f + t, tcplen);
	s = 0xffff ^ ref_fold(s);
	f[t + 16] = (uint8_t)(s >> 8);
	f[t + 17] = (uint8_t)s;
	return t + 20 + paylen;
}

static int verdict(const uint8_t *f, size_t len, size_t cap, int *ip)
{
	struct pkt p;
	*ip = -1;
	memset(&p, 0, sizeof(p));
	if (pkt_decode(1, f, (uint32_t)cap, (uint32_t)len, &p) != PKT_OK)
		return -1;
	*ip = p.ip_csum;
	return pkt_tcp_csum(&p);
}

static void segments(void)
{
	static uint8_t f[14 + 40 + 20 + 3000];
	static const size_t lens[] = { 0, 1, 7, 8, 33, 536, 1448, 2896 };
	int v6, ip;
	size_t k;
	for (v6 = 0; v6 < 2; v6++)
		for (k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
			uint16_t ps;
			size_t n = build(f, v6, lens[k], &ps), t = 14 + (v6 ? 40 : 20);
			const char *fam = v6 ? "IPv6" : "IPv4";
			CHECK_INTF(verdict(f, n, n, &ip), PKT_CSUM_OK, "%s, %zu bytes: right checksum", fam, lens[k]);
			CHECK_INTF(ip, v6 ? PKT_CSUM_NONE : PKT_CSUM_OK, "%s, %zu bytes: IP header checksum", fam, lens[k]);
			f[n - 1] ^= 0x01;
			CHECK_INTF(verdict(f, n, n, &ip), lens[k] ? PKT_CSUM_BAD : PKT_CSUM_BAD,
				   "%s, %zu bytes: one bit off", fam, lens[k]);
			f[n - 1] ^= 0x01;
			if (lens[k])
				CHECK_INTF(verdict(f, n, n - 1, &ip), PKT_CSUM_NONE, "%s, %zu bytes: cut by the snaplen",
					   fam, lens[k]);
			f[t + 16] = (uint8_t)(ps >> 8);
			f[t + 17] = (uint8_t)ps;
			CHECK_INTF(verdict(f, n, n, &ip), PKT_CSUM_PARTIAL, "%s, %zu bytes: the pseudo-header's sum",
				   fam, lens[k]);
			f[t + 16] ^= 0xff;
			f[t + 17] ^= 0xff;
			CHECK_INTF(verdict(f, n, n, &ip), PKT_CSUM_PARTIAL, "%s, %zu bytes: its complement", fam,
				   lens[k]);
			f[t + 16] = f[t + 17] = 0;
			CHECK_INTF(verdict(f, n, n, &ip), PKT_CSUM_ZERO, "%s, %zu bytes: zero", fam, lens[k]);
			if (!v6) {
				f[14 + 10] ^= 0x10;
				verdict(f, n, n, &ip);
				CHECK_INTF(ip, PKT_CSUM_BAD, "IPv4, %zu bytes: bad header checksum", lens[k]);
			}
		}
}

static unsigned seen[8];    /* verdicts met in the real captures */

/* Every TCP segment of a classic Ethernet pcap: pkt_tcp_csum() against
 * the byte-wise verdict. Returns the segments checked. */
static unsigned real_capture(const char *path)
{
	FILE *fp = fopen(path, "rb");
	uint8_t gh[24], rh[16];
	static uint8_t fr[65536];
	unsigned n = 0, bad = 0;
	if (!fp)
		return 0;
	if (fread(gh, 1, 24, fp) != 24 || gh[0] != 0xd4 || gh[1] != 0xc3 || gh[20] != 1) {
		fclose(fp);
		return 0;
	}
	while (fread(rh, 1, 16, fp) == 16) {
		uint32_t cap = (uint32_t)rh[8] | (uint32_t)rh[9] << 8 | (uint32_t)rh[10] << 16 | (uint32_t)rh[11] << 24;
		uint32_t wire = (uint32_t)rh[12] | (uint32_t)rh[13] << 8 | (uint32_t)rh[14] << 16 | (uint32_t)rh[15] << 24;
		struct pkt p;
		const uint8_t *t;
		uint32_t s, tl;
		uint16_t ps, comp, field;
		uint8_t ph[8];
		int want, got;
		if (cap > sizeof(fr) || fread(fr, 1, cap, fp) != cap)
			break;
		memset(&p, 0, sizeof(p));
		if (pkt_decode(1, fr, cap, wire, &p) != PKT_OK || !p.tcp_hl)
			continue;
		t = p.payload - p.tcp_hl * 4;
		tl = p.wirelen + p.tcp_hl * 4u;
		memset(ph, 0, sizeof(ph));
		ph[2] = (uint8_t)(tl >> 8);
		ph[3] = (uint8_t)tl;
		ph[7] = 6;
		s = ref_add(0, p.src.addr, p.src.family == 4 ? 4 : 16);
		s = ref_add(s, p.dst.addr, p.src.family == 4 ? 4 : 16);
		s = ref_add(s, ph, 8);
		ps = ref_fold(s);
		comp = (uint16_t)(0xffffu - ps);
		field = (uint16_t)(t[16] << 8 | t[17]);
		if (ref_fold(ref_add(s, t, tl)) == 0xffff)
			want = PKT_CSUM_OK;
		else if (!field)
			want = PKT_CSUM_ZERO;
		else if (field == ps || field == comp)
			want = PKT_CSUM_PARTIAL;
		else
			want = PKT_CSUM_BAD;
		got = pkt_tcp_csum(&p);
		n++;
		seen[want & 7]++;
		if (got != want && !bad++)
			CHECKF(0, "%s: segment %u: verdict %d, byte-wise %d", path, n, got, want);
	}
	fclose(fp);
	CHECKF(bad == 0, "%s: %u of %u verdicts differ", path, bad, n);
	return n;
}

/* The fixed IPv4 and TCP headers are read in place when they are whole
 * and through the cursor when the frame ends inside them: at every cut of
 * a frame (with IPv4 options too), the result is what the header bytes
 * present allow, and a segment decoded whole carries the full frame's
 * fields. */
static void cuts(void)
{
	static uint8_t f[14 + 24 + 20 + 100];
	int opt, bad = 0;
	for (opt = 0; opt < 2; opt++) {
		uint16_t ps;
		size_t n = build(f, 0, 100, &ps), cut, ip = 14, hl = opt ? 24 : 20;
		struct pkt whole, p;
		if (opt) {   /* one word of IPv4 options (NOPs): the TCP header moves 4 bytes */
			memmove(f + ip + 24, f + ip + 20, n - ip - 20);
			memset(f + ip + 20, 1, 4);
			f[ip] = 0x46;
			f[ip + 3] = (uint8_t)(f[ip + 3] + 4);
			f[ip + 10] = f[ip + 11] = 0;
			ps = (uint16_t)(0xffff ^ ref_fold(ref_add(0, f + ip, 24)));
			f[ip + 10] = (uint8_t)(ps >> 8);
			f[ip + 11] = (uint8_t)ps;
			n += 4;
		}
		memset(&whole, 0, sizeof(whole));
		CHECK(pkt_decode(1, f, (uint32_t)n, (uint32_t)n, &whole) == PKT_OK && whole.paylen == 100);
		for (cut = 0; cut <= n; cut++) {
			enum pkt_result r, want = cut < ip + hl + 20 ? PKT_TRUNCATED : PKT_OK;
			memset(&p, 0, sizeof(p));
			r = pkt_decode(1, f, (uint32_t)cut, (uint32_t)n, &p);
			if (cut < ip + 2)
				want = PKT_TRUNCATED;   /* no ethertype */
			if (r != want) {
				bad++;
				fprintf(stderr, "cut at %zu (options %d): %d, not %d\n", cut, opt, (int)r, (int)want);
				continue;
			}
			if (r == PKT_OK &&
			    (p.src.port != whole.src.port || p.dst.port != whole.dst.port || p.seq != whole.seq ||
			     p.ack != whole.ack || p.flags != whole.flags || p.win != whole.win ||
			     memcmp(p.src.addr, whole.src.addr, 16) || memcmp(p.dst.addr, whole.dst.addr, 16) ||
			     p.wirelen != 100 || p.paylen != cut - (ip + hl + 20) || p.truncated != (cut < n) ||
			     p.tcp_hl != (cut < n ? 0 : 5) || p.ip_csum != PKT_CSUM_OK)) {
				bad++;
				fprintf(stderr, "cut at %zu (options %d): fields differ from the whole frame's\n", cut, opt);
			}
		}
	}
	CHECKF(bad == 0, "%d cuts of a frame decoded wrong", bad);
}

int main(void)
{
	sums();
	segments();
	cuts();
	/* a capture on the client host (checksum offload) and one made with
	 * real checksums */
	CHECKF(real_capture("pcaps/alb-tls12-ok.pcap") > 10, "pcaps/alb-tls12-ok.pcap: TCP segments checked");
	CHECKF(real_capture("pcaps/crafted/midstream-hdrsplit-reversed.pcap") > 10,
	       "pcaps/crafted/midstream-hdrsplit-reversed.pcap: TCP segments checked");
	CHECKF(seen[PKT_CSUM_OK] > 10 && seen[PKT_CSUM_PARTIAL] > 10,
	       "real captures: %u right checksums, %u pseudo-header sums", seen[PKT_CSUM_OK], seen[PKT_CSUM_PARTIAL]);
	return check_done();
}

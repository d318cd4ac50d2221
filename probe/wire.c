/*
 * wire.c - raw IPv4/IPv6 + TCP packets for a probe conversation (wire.h).
 *
 * Headers are written by hand into a fixed buffer rather than with libnet:
 * tlswhy itself links only libpcap and libcrypto, and the two headers and
 * one checksum needed here are shorter than the glue to a third library.
 *
 *   IPv4 (RFC 791):  45 00 totlen(2) id(2) 40 00 (DF) ttl=64 proto=6 csum(2) src(4) dst(4)
 *   IPv6 (RFC 8200): 6 tc/flow(28 bits) paylen(2) next=6 hop=64 src(16) dst(16)
 *   TCP (RFC 9293):  sport dport seq(4) ack(4) off=5|6 flags win(2) csum(2) urg(2)
 *                    [MSS option on SYN and SYN-ACK: 02 04 mss(2)]
 *   checksum: ones' complement sum over the pseudo-header (RFC 9293 3.1,
 *   RFC 8200 8.1) and the TCP segment.
 *
 * Segments carry at most MSS bytes (1460 over IPv4, 1440 over IPv6); every
 * data segment is acknowledged by the peer, as a real stack would (delayed
 * ACKs aside).
 */
#include "probe/wire.h"

#include <stdlib.h>
#include <string.h>

#define MSS4 1460u
#define MSS6 1440u
#define PKT_MAX (40 + 24 + MSS4)

int probe_conv_init(struct probe_conv *c)
{
	memset(c, 0, sizeof(*c));
	c->bytes[0] = malloc(PROBE_WIRE_MAX_BYTES);
	c->bytes[1] = malloc(PROBE_WIRE_MAX_BYTES);
	if (!c->bytes[0] || !c->bytes[1]) {
		probe_conv_free(c);
		return -1;
	}
	return 0;
}

void probe_conv_free(struct probe_conv *c)
{
	free(c->bytes[0]);
	free(c->bytes[1]);
	c->bytes[0] = c->bytes[1] = NULL;
}

void probe_conv_add(struct probe_conv *c, int64_t ts_us, enum probe_wire_ev kind, int dir,
		    const uint8_t *data, size_t len)
{
	struct probe_wire_event *e;
	if (c->nev >= PROBE_WIRE_MAX_EVENTS) {
		c->clipped = 1;
		return;
	}
	if (kind == PW_DATA) {
		size_t room = PROBE_WIRE_MAX_BYTES - c->nbytes[dir];
		if (len > room) {
			len = room;
			c->clipped = 1;
		}
		if (len == 0)
			return;
		memcpy(c->bytes[dir] + c->nbytes[dir], data, len);
	}
	e = &c->ev[c->nev++];
	e->ts_us = ts_us;
	e->kind = (uint8_t)kind;
	e->dir = (uint8_t)dir;
	e->off = kind == PW_DATA ? c->nbytes[dir] : 0;
	e->len = kind == PW_DATA ? (uint32_t)len : 0;
	if (kind == PW_DATA)
		c->nbytes[dir] += (uint32_t)len;
}

static uint32_t sum16(uint32_t s, const uint8_t *p, size_t n)
{
	size_t i;
	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void be16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

struct emitter {
	const struct probe_conv *c;
	probe_wire_sink *sink;
	void *arg;
	uint32_t seq[2];       /* next sequence number each direction sends */
	uint16_t ipid[2];
};

/* One packet from `dir`; len <= MSS. */
static void send_pkt(struct emitter *m, int dir, int64_t ts, uint8_t flags, const uint8_t *data, uint32_t len)
{
	uint8_t b[PKT_MAX];
	const struct probe_ep *s = dir ? &m->c->srv : &m->c->cli, *d = dir ? &m->c->cli : &m->c->srv;
	int v6 = s->family == 6;
	size_t ipl = v6 ? 40 : 20, optl = (flags & 0x02) ? 4 : 0, tcpl = 20 + optl;
	size_t tot = ipl + tcpl + len, alen = v6 ? 16 : 4;
	uint8_t *t = b + ipl;
	uint32_t sum;
	if (tot > sizeof(b))
		return;
	memset(b, 0, ipl + tcpl);
	if (v6) {
		b[0] = 0x60;
		be16(b + 4, (uint32_t)(tcpl + len));
		b[6] = 6;
		b[7] = 64;
		memcpy(b + 8, s->addr, 16);
		memcpy(b + 24, d->addr, 16);
	} else {
		b[0] = 0x45;
		be16(b + 2, (uint32_t)tot);
		be16(b + 4, m->ipid[dir]++);
		b[6] = 0x40;
		b[8] = 64;
		b[9] = 6;
		memcpy(b + 12, s->addr, 4);
		memcpy(b + 16, d->addr, 4);
		be16(b + 10, fold(sum16(0, b, 20)));
	}
	be16(t, s->port);
	be16(t + 2, d->port);
	be32(t + 4, m->seq[dir]);
	be32(t + 8, (flags & 0x10) ? m->seq[!dir] : 0);
	t[12] = (uint8_t)((tcpl / 4) << 4);
	t[13] = flags;
	be16(t + 14, 64240);
	if (optl) {
		t[20] = 2;
		t[21] = 4;
		be16(t + 22, v6 ? MSS6 : MSS4);
	}
	if (len)
		memcpy(t + tcpl, data, len);
	/* pseudo-header: addresses, protocol, TCP length */
	sum = sum16(0, s->addr, alen);
	sum = sum16(sum, d->addr, alen);
	sum += 6 + (uint32_t)(tcpl + len);
	sum = sum16(sum, t, tcpl + len);
	be16(t + 16, fold(sum));
	m->seq[dir] += len + ((flags & 0x03) ? 1 : 0);   /* SYN and FIN take one */
	m->sink(m->arg, ts, b, (uint32_t)tot);
}

void probe_wire_emit(const struct probe_conv *c, uint32_t isn, probe_wire_sink *sink, void *arg)
{
	struct emitter m;
	size_t i;
	uint32_t mss = c->cli.family == 6 ? MSS6 : MSS4;
	int fin[2] = { 0, 0 }, rst = 0;
	memset(&m, 0, sizeof(m));
	m.c = c;
	m.sink = sink;
	m.arg = arg;
	m.seq[0] = isn;
	m.seq[1] = isn ^ 0x5a5a0000u;
	m.ipid[0] = (uint16_t)isn;
	m.ipid[1] = (uint16_t)(isn >> 16);
	for (i = 0; i < c->nev && !rst; i++) {
		const struct probe_wire_event *e = &c->ev[i];
		int d = e->dir;
		switch (e->kind) {
		case PW_SYN:
			send_pkt(&m, 0, e->ts_us, 0x02, NULL, 0);
			break;
		case PW_SYNACK:
			send_pkt(&m, 1, e->ts_us, 0x12, NULL, 0);
			send_pkt(&m, 0, e->ts_us, 0x10, NULL, 0);
			break;
		case PW_REFUSED:
			m.seq[1] = 0;
			send_pkt(&m, 1, e->ts_us, 0x14, NULL, 0);
			rst = 1;
			break;
		case PW_DATA: {
			uint32_t off = 0;
			while (off < e->len) {
				uint32_t n = e->len - off > mss ? mss : e->len - off;
				send_pkt(&m, d, e->ts_us, (uint8_t)(0x10 | (off + n == e->len ? 0x08 : 0)),
					 c->bytes[d] + e->off + off, n);
				off += n;
			}
			if (!fin[!d])
				send_pkt(&m, !d, e->ts_us, 0x10, NULL, 0);
			break;
		}
		case PW_FIN:
			if (fin[d])
				break;
			send_pkt(&m, d, e->ts_us, 0x11, NULL, 0);
			fin[d] = 1;
			send_pkt(&m, !d, e->ts_us, 0x10, NULL, 0);
			break;
		case PW_RST:
			send_pkt(&m, d, e->ts_us, 0x14, NULL, 0);
			rst = 1;
			break;
		}
	}
}

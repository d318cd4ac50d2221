/*
 * pcapng.c - a streaming pcapng reader (see pcapng.h): every interface with
 * its own link type, and the Decryption Secrets Blocks.
 *
 * The format (draft-ietf-opsawg-pcapng), each block in its section's byte
 * order, 32-bit aligned:
 *
 *   block        +------+--------+---------------------------+--------+
 *                | type | length | body (length - 12)        | length |
 *                +------+--------+---------------------------+--------+
 *   SHB 0x0A0D0D0A  byte-order magic 1A2B3C4D, major 1, minor 0|2, section length 8, options
 *   IDB 1           link type 2, reserved 2, snaplen 4, options (if_tsresol 9, if_tsoffset 14)
 *   EPB 6           interface 4, ts high 4, ts low 4, caplen 4, len 4, data (padded), options
 *   SPB 3           len 4, data: interface 0, no time stamp
 *   PB  2           interface 2, drops 2, ts high 4, ts low 4, caplen 4, len 4, data (obsolete)
 *   DSB 0x0A        secrets type 4, length 4, secrets (padded), options
 *   option          code 2, length 2, value padded to 4; code 0 ends the list
 *
 * Invariant: for every file libpcap 1.10.3 reads to its end, the packets,
 * their times (scaled to microseconds with libpcap's integer arithmetic,
 * then pkt_ts_us()), caplen, len and bytes are exactly pcap_next_ex's; a
 * file libpcap refuses part-way ends here with libpcap's words where the
 * same rule applies (tests/reader.sh, fuzz/fuzz_reader.c). On purpose
 * different: interfaces need not share a link type or snapshot length
 * (each packet goes with its own interface's), sections may change byte
 * order, and a Decryption Secrets Block is handed out (a malformed one is
 * skipped, as libpcap skips them all).
 *
 * Limits: a block is at most CAP_NG_MAX_BLOCK bytes (libpcap's limit for
 * the link types we decode), the first SHB at most CAP_NG_MAX_SHB,
 * CAP_NG_MAX_IFACES interfaces a section. The one buffer holds a window of
 * the input (CAP_NG_BUF, or the largest block met); every length is
 * checked against what the block holds before it is read.
 */
#include "capture/pcapng.h"
#include "dissect/dbuf.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <time.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CAP_NG_BUF   (1u << 20)   /* bytes read at once */
#define BOM          0x1A2B3C4Du
#define BT_IDB       1u
#define BT_PB        2u
#define BT_SPB       3u
#define BT_EPB       6u
#define BT_DSB       0x0Au
#define USER_TSRESOL 1000000u     /* microseconds, as cap.c asks libpcap */

struct cap_ng {
	cap_ng_read_fn *rd;
	void *arg;
	struct dbuf win;         /* the window of the input: CAP_NG_BUF, or the largest block */
	uint8_t *buf;            /* win.p */
	size_t cap, lo, hi;      /* win.cap; buf[lo, hi): read, not yet consumed */
	int eof, err;            /* the source ended; errno of a failed read */
	int started;             /* the first SHB was read */
	int swapped;             /* this section's byte order is not the host's */
	struct dbuf ifs_b;       /* the section's interfaces */
	struct cap_ng_iface *ifs;   /* ifs_b.p */
	uint32_t n_if;
	uint32_t seq;            /* interfaces in the whole file */
	int done;
	struct cap_ng_event end;
	int cache_lt, cache_dlt; /* the last link type mapped */
};

int cap_ng_is(const uint8_t *head, size_t len)
{
	uint32_t t, bom;
	if (len < 12)
		return 0;
	memcpy(&t, head, 4);
	memcpy(&bom, head + 8, 4);
	return t == CAP_NG_SHB_TYPE && (bom == BOM || bom == __builtin_bswap32(BOM));
}

struct cap_ng *cap_ng_new(const uint8_t *head, size_t head_len, cap_ng_read_fn *rd, void *arg)
{
	struct cap_ng *ng = calloc(1, sizeof(*ng));
	if (!ng)
		return NULL;
	dbuf_init(&ng->win, CAP_NG_BUF, (size_t)CAP_NG_MAX_BLOCK + CAP_NG_BUF);
	dbuf_init(&ng->ifs_b, 8 * sizeof(struct cap_ng_iface),
		  (size_t)CAP_NG_MAX_IFACES * sizeof(struct cap_ng_iface));
	if (head_len > CAP_NG_BUF || dbuf_grow(&ng->win, CAP_NG_BUF) != DBUF_OK) {
		free(ng);
		return NULL;
	}
	ng->buf = ng->win.p;
	ng->cap = ng->win.cap;
	memcpy(ng->buf, head, head_len);
	ng->hi = head_len;
	ng->rd = rd;
	ng->arg = arg;
	ng->cache_lt = -1;
	return ng;
}

void cap_ng_free(struct cap_ng *ng)
{
	if (!ng)
		return;
	dbuf_free(&ng->win);
	dbuf_free(&ng->ifs_b);
	free(ng);
}

/* At least `need` bytes from lo when the input has them; returns how many
 * there are (fewer: the end, or a read error in ng->err). -1: no memory. */
static long long fill(struct cap_ng *ng, size_t need)
{
	while (ng->hi - ng->lo < need && !ng->eof) {
		size_t got;
		int err = 0;
		if (ng->cap - ng->lo < need) {
			if (ng->lo) {
				memmove(ng->buf, ng->buf + ng->lo, ng->hi - ng->lo);
				ng->hi -= ng->lo;
				ng->lo = 0;
			}
			if (ng->cap < need) {
				if (dbuf_grow(&ng->win, need) != DBUF_OK)
					return -1;
				ng->buf = ng->win.p;
				ng->cap = ng->win.cap;
			}
		}
		got = ng->rd(ng->arg, ng->buf + ng->hi, ng->cap - ng->hi, &err);
		ng->hi += got;
		if (got == 0) {
			ng->eof = 1;
			ng->err = err;
		}
	}
	return (long long)(ng->hi - ng->lo);
}

static uint32_t u32(const struct cap_ng *ng, const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return ng->swapped ? __builtin_bswap32(v) : v;
}

static uint16_t u16(const struct cap_ng *ng, const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return ng->swapped ? __builtin_bswap16(v) : v;
}

static uint64_t u64(const struct cap_ng *ng, const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return ng->swapped ? __builtin_bswap64(v) : v;
}

/* Ends the input: every later call returns this. */
static void finish(struct cap_ng *ng, struct cap_ng_event *ev, enum cap_end how, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void finish(struct cap_ng *ng, struct cap_ng_event *ev, enum cap_end how, const char *fmt, ...)
{
	memset(&ng->end, 0, sizeof(ng->end));
	ng->end.kind = CAP_NG_END;
	ng->end.end = how;
	ng->end.open = ng->seq == 0 && how != CAP_END_CLEAN;
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(ng->end.why, sizeof(ng->end.why), fmt, ap);
		va_end(ap);
	}
	ng->done = 1;
	*ev = ng->end;
}

/* The end of the input where a block (or its first `want` bytes) was due. */
static void short_read(struct cap_ng *ng, struct cap_ng_event *ev, size_t want, size_t got)
{
	if (ng->err)   /* libpcap's pcap_fmt_errmsg_for_errno() form */
		finish(ng, ev, CAP_END_CORRUPT, "error reading dump file: %s", strerror(ng->err));
	else
		finish(ng, ev, CAP_END_TRUNCATED, "truncated pcapng dump file; tried to read %zu bytes, only got %zu",
		       want, got);
}

/* libpcap's DLT_ for a LINKTYPE_, from libpcap itself (a classic file
 * header read from memory), so names and filters are its own. */
static int lt_to_dlt(struct cap_ng *ng, uint16_t lt)
{
	char ebuf[PCAP_ERRBUF_SIZE];
	uint32_t h[6] = { 0xa1b2c3d4u, 2u | (4u << 16), 0, 0, 65535, lt };
	FILE *f;
	pcap_t *pc;
	int dlt = lt;
	if (ng->cache_lt == lt)
		return ng->cache_dlt;
	f = fmemopen(h, sizeof(h), "rb");
	pc = f ? pcap_fopen_offline(f, ebuf) : NULL;
	if (pc) {
		dlt = pcap_datalink(pc);
		pcap_close(pc);
	} else if (f) {
		fclose(f);
	}
	ng->cache_lt = lt;
	ng->cache_dlt = dlt;
	return dlt;
}

static uint32_t max_snaplen(int dlt)
{
	switch (dlt) {   /* libpcap 1.10.3's max_snaplen_for_dlt() */
	case 231: return 128u << 20;   /* DLT_DBUS */
	case 279: return 8u << 20;     /* DLT_EBHSCR */
	case 249: return 1u << 20;     /* DLT_USBPCAP */
	default: return 262144u;
	}
}

/* The options of an IDB: 0, or -1 with ev finished (libpcap's checks and words). */
static int idb_options(struct cap_ng *ng, const uint8_t *p, size_t n, struct cap_ng_iface *f,
		       struct cap_ng_event *ev, uint32_t btype)
{
	int saw_res = 0, saw_off = 0;
	while (n) {
		uint16_t code, len;
		size_t padded;
		if (n < 4)
			goto short_block;
		code = u16(ng, p);
		len = u16(ng, p + 2);
		p += 4, n -= 4;
		padded = ((size_t)len + 3) & ~(size_t)3;
		if (n < padded)
			goto short_block;
		switch (code) {
		case 0:
			if (len != 0) {
				finish(ng, ev, CAP_END_CORRUPT,
				       "Interface Description Block has opt_endofopt option with length %u != 0", len);
				return -1;
			}
			return 0;
		case 9:   /* if_tsresol */
			if (len != 1) {
				finish(ng, ev, CAP_END_CORRUPT,
				       "Interface Description Block has if_tsresol option with length %u != 1", len);
				return -1;
			}
			if (saw_res) {
				finish(ng, ev, CAP_END_CORRUPT, "Interface Description Block has more than one if_tsresol option");
				return -1;
			}
			saw_res = 1;
			if (p[0] & 0x80) {
				unsigned shift = p[0] & 0x7f;
				if (shift > 63) {
					finish(ng, ev, CAP_END_CORRUPT,
					       "Interface Description Block if_tsresol option resolution 2^-%u is too high", shift);
					return -1;
				}
				f->binary = 1;
				f->tsresol = (uint64_t)1 << shift;
			} else {
				unsigned i, e = p[0];
				if (e > 19) {
					finish(ng, ev, CAP_END_CORRUPT,
					       "Interface Description Block if_tsresol option resolution 10^-%u is too high", e);
					return -1;
				}
				f->binary = 0;
				f->tsresol = 1;
				for (i = 0; i < e; i++)
					f->tsresol *= 10;
			}
			break;
		case 14:   /* if_tsoffset */
			if (len != 8) {
				finish(ng, ev, CAP_END_CORRUPT,
				       "Interface Description Block has if_tsoffset option with length %u != 8", len);
				return -1;
			}
			if (saw_off) {
				finish(ng, ev, CAP_END_CORRUPT, "Interface Description Block has more than one if_tsoffset option");
				return -1;
			}
			saw_off = 1;
			f->tsoffset = (int64_t)u64(ng, p);
			break;
		default:
			break;
		}
		p += padded, n -= padded;
	}
	return 0;
short_block:
	finish(ng, ev, CAP_END_CORRUPT, "block of type %u in pcapng dump file is too short", btype);
	return -1;
}

/* The packet time as pcap_next_ex gives it with microseconds asked
 * (sf-pcapng.c: the same unsigned 64-bit steps), then pkt_ts_us(). */
static int64_t ts_of(const struct cap_ng_iface *f, uint64_t t)
{
	uint64_t sec = t / f->tsresol + (uint64_t)f->tsoffset;
	uint64_t frac = t % f->tsresol;
	if (f->tsresol == USER_TSRESOL)
		;
	else if (f->binary)
		frac = frac * USER_TSRESOL / f->tsresol;
	else if (f->tsresol > USER_TSRESOL)
		frac /= f->tsresol / USER_TSRESOL;
	else
		frac *= USER_TSRESOL / f->tsresol;
	return pkt_ts_us((int64_t)(time_t)sec, (int64_t)(int32_t)(uint32_t)frac, NULL);
}

/* The first Section Header Block, as libpcap checks it when it opens the file. */
static int first_shb(struct cap_ng *ng, struct cap_ng_event *ev)
{
	uint32_t len, bom;
	long long have = fill(ng, 12);
	const uint8_t *b;
	if (have < 0)
		goto nomem;
	b = ng->buf + ng->lo;
	memcpy(&bom, b + 8, 4);
	ng->swapped = bom != BOM;
	len = u32(ng, b + 4);
	if (len < 28 || len > CAP_NG_MAX_SHB) {
		finish(ng, ev, CAP_END_CORRUPT,
		       "Section Header Block in pcapng dump file has invalid length %zu < _%u_ < %u (BT_SHB_INSANE_MAX)",
		       (size_t)28, len, CAP_NG_MAX_SHB);
		return -1;
	}
	have = fill(ng, len);
	if (have < 0)
		goto nomem;
	if (have < len) {
		short_read(ng, ev, len - 12, (size_t)have - 12);
		return -1;
	}
	b = ng->buf + ng->lo;
	if (!(u16(ng, b + 12) == 1 && (u16(ng, b + 14) == 0 || u16(ng, b + 14) == 2))) {
		finish(ng, ev, CAP_END_CORRUPT, "unsupported pcapng savefile version %u.%u", u16(ng, b + 12),
		       u16(ng, b + 14));
		return -1;
	}
	ng->lo += len;   /* libpcap does not look at this block's trailer */
	ng->started = 1;
	return 0;
nomem:
	finish(ng, ev, CAP_END_CORRUPT, "out of memory");
	return -1;
}

static int add_iface(struct cap_ng *ng, const uint8_t *body, size_t blen, struct cap_ng_event *ev)
{
	struct cap_ng_iface *f;
	uint32_t snaplen;
	if (blen < 8) {
		finish(ng, ev, CAP_END_CORRUPT, "block of type %u in pcapng dump file is too short", BT_IDB);
		return -1;
	}
	if (ng->n_if >= CAP_NG_MAX_IFACES) {
		finish(ng, ev, CAP_END_CORRUPT, "more than %u interfaces in a section", CAP_NG_MAX_IFACES);
		return -1;
	}
	if (dbuf_grow(&ng->ifs_b, ((size_t)ng->n_if + 1) * sizeof(*ng->ifs)) != DBUF_OK) {
		finish(ng, ev, CAP_END_CORRUPT, "out of memory for per-interface information (%u interfaces)",
		       ng->n_if + 1);
		return -1;
	}
	ng->ifs = (struct cap_ng_iface *)ng->ifs_b.p;
	f = &ng->ifs[ng->n_if];
	memset(f, 0, sizeof(*f));
	f->linktype = u16(ng, body);
	snaplen = u32(ng, body + 4);
	f->tsresol = USER_TSRESOL;
	if (idb_options(ng, body + 8, blen - 8, f, ev, BT_IDB))
		return -1;
	f->dlt = lt_to_dlt(ng, f->linktype);
	f->snapshot = snaplen == 0 || snaplen > INT_MAX ? max_snaplen(f->dlt) : snaplen;
	f->index = ng->n_if++;
	f->seq = ng->seq++;
	memset(ev, 0, sizeof(*ev));
	ev->kind = CAP_NG_IFACE;
	ev->iface = f;
	return 0;
}

void cap_ng_next(struct cap_ng *ng, struct cap_ng_event *ev)
{
	for (;;) {
		uint32_t type, len, iface, caplen, wlen;
		uint64_t t;
		const uint8_t *b, *body, *data;
		size_t blen;
		long long have;
		const struct cap_ng_iface *f;
		if (ng->done) {
			*ev = ng->end;
			return;
		}
		if (!ng->started) {
			if (first_shb(ng, ev))
				return;
			continue;
		}
		have = fill(ng, 8);
		if (have < 0)
			goto nomem;
		if (have < 8) {
			if (have == 0 && !ng->err) {
				if (ng->seq == 0)
					finish(ng, ev, CAP_END_CORRUPT, "the capture file has no Interface Description Blocks");
				else
					finish(ng, ev, CAP_END_CLEAN, NULL);
			} else {
				short_read(ng, ev, 8, (size_t)have);
			}
			return;
		}
		b = ng->buf + ng->lo;
		memcpy(&type, b, 4);
		if (type == CAP_NG_SHB_TYPE) {
			/* a new section says its own byte order: read it before its length */
			uint32_t bom;
			have = fill(ng, 12);
			if (have < 0)
				goto nomem;
			if (have < 12) {
				short_read(ng, ev, 4, (size_t)have - 8);
				return;
			}
			b = ng->buf + ng->lo;
			memcpy(&bom, b + 8, 4);
			if (bom != BOM && bom != __builtin_bswap32(BOM)) {
				finish(ng, ev, CAP_END_CORRUPT, "the file has a section with a bad byte order magic field");
				return;
			}
			ng->swapped = bom != BOM;
		}
		type = u32(ng, b);
		len = u32(ng, b + 4);
		if (len < 12) {
			finish(ng, ev, CAP_END_CORRUPT, "block in pcapng dump file has a length of %u < %zu", len, (size_t)12);
			return;
		}
		if (len % 4) {
			finish(ng, ev, CAP_END_CORRUPT,
			       "block in pcapng dump file has a length of %u that is not a multiple of 4", len);
			return;
		}
		if (len > CAP_NG_MAX_BLOCK) {
			finish(ng, ev, CAP_END_CORRUPT, "pcapng block size %u > maximum %u", len, CAP_NG_MAX_BLOCK);
			return;
		}
		have = fill(ng, len);
		if (have < 0)
			goto nomem;
		if (have < len) {
			short_read(ng, ev, len - 8, (size_t)have - 8);
			return;
		}
		b = ng->buf + ng->lo;
		if (u32(ng, b + len - 4) != len) {
			finish(ng, ev, CAP_END_CORRUPT, "block total length in header and trailer don't match");
			return;
		}
		ng->lo += len;   /* b stays valid until the next fill() */
		body = b + 8;
		blen = len - 12;
		switch (type) {
		case BT_EPB:
			if (blen < 20)
				goto short_block;
			iface = u32(ng, body);
			t = (uint64_t)u32(ng, body + 4) << 32 | u32(ng, body + 8);
			caplen = u32(ng, body + 12);
			wlen = u32(ng, body + 16);
			body += 20, blen -= 20;
			break;
		case BT_PB:
			if (blen < 20)
				goto short_block;
			iface = u16(ng, body);
			t = (uint64_t)u32(ng, body + 4) << 32 | u32(ng, body + 8);
			caplen = u32(ng, body + 12);
			wlen = u32(ng, body + 16);
			body += 20, blen -= 20;
			break;
		case BT_SPB:
			if (blen < 4)
				goto short_block;
			iface = 0;
			t = 0;
			wlen = u32(ng, body);
			caplen = ng->n_if && wlen > ng->ifs[0].snapshot ? ng->ifs[0].snapshot : wlen;
			body += 4, blen -= 4;
			break;
		case BT_IDB:
			add_iface(ng, body, blen, ev);   /* the interface, or the end */
			return;
		case CAP_NG_SHB_TYPE:
			if (blen < 16)
				goto short_block;
			if (u16(ng, body + 4) != 1) {
				finish(ng, ev, CAP_END_CORRUPT, "unknown pcapng savefile major version number %u",
				       u16(ng, body + 4));
				return;
			}
			ng->n_if = 0;   /* a section has its own interfaces */
			continue;
		case BT_DSB:
			if (blen >= 8 && u32(ng, body + 4) <= blen - 8) {
				memset(ev, 0, sizeof(*ev));
				ev->kind = CAP_NG_SECRETS;
				ev->secrets.type = u32(ng, body);
				ev->secrets.len = u32(ng, body + 4);
				ev->secrets.data = body + 8;
				return;
			}
			continue;   /* malformed: skipped, as libpcap skips every DSB */
		default:
			continue;
		}
		/* a packet */
		if (ng->seq == 0) {
			finish(ng, ev, CAP_END_CORRUPT,
			       "the capture file has a packet block before any Interface Description Blocks");
			return;
		}
		if (iface >= ng->n_if) {
			finish(ng, ev, CAP_END_CORRUPT,
			       "a packet arrived on interface %u, but there's no Interface Description Block for that interface",
			       iface);
			return;
		}
		f = &ng->ifs[iface];
		if (caplen > f->snapshot) {
			finish(ng, ev, CAP_END_CORRUPT, "invalid packet capture length %u, bigger than snaplen of %d", caplen,
			       (int)f->snapshot);
			return;
		}
		if (caplen > blen)
			goto short_block;
		data = body;
		memset(ev, 0, sizeof(*ev));
		ev->kind = CAP_NG_PACKET;
		ev->pkt.ts_us = ts_of(f, t);
		ev->pkt.caplen = caplen;
		ev->pkt.len = wlen;
		ev->pkt.data = data;
		ev->pkt.iface = f;
		return;
short_block:
		finish(ng, ev, CAP_END_CORRUPT, "block of type %u in pcapng dump file is too short", type);
		return;
	}
nomem:
	finish(ng, ev, CAP_END_CORRUPT, "out of memory");
}

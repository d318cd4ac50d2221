/*
 * evidence.c - the evidence capture, -w FILE (see evidence.h for the
 * design: marks during the run, a second pass at the end).
 *
 * Marks live in a table of 5-tuples keyed by the connection's endpoints in
 * a canonical order (lower address:port first), so a packet finds its
 * connection whichever way it travels; several connections may share a
 * 5-tuple over time (port reuse) and are told apart by frame range. The
 * hash is keyed with a random key per run (dissect/hash.h's mixer), so
 * endpoints chosen on the wire cannot all land in one bucket, and a
 * 5-tuple's ranges are sorted and merged once, before the second pass:
 * frames come in order there, so each 5-tuple keeps a cursor into its
 * ranges and a packet costs O(1) however many connections reused its
 * ports (issue 16: 80,000 reused connections were 25 s with a chain walk
 * per packet). Both arrays are struct dbuf with their maximum set at
 * creation (CAP_EV_MAX_CONNS).
 */
#define _GNU_SOURCE   /* fopencookie */
#include "capture/evidence.h"
#include "capture/source.h"
#include "dissect/dbuf.h"
#include "dissect/decode.h"
#include "dissect/flow.h"
#include "dissect/frag.h"
#include "dissect/hash.h"

#include <errno.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

struct ev_mark {
	uint64_t first, last;         /* frame range */
	uint32_t tuple;               /* index into tuples */
};

struct ev_tuple {
	struct hs_addr a, b;          /* canonical order */
	uint32_t next;                /* bucket chain, 0 = end (indices are 1-based) */
	uint32_t lo, hi, cur;         /* after ev_prepare: its merged ranges, marks[lo, hi), the next one */
};

struct cap_evidence {
	char *path;
	int all;
	struct dbuf marks;            /* struct ev_mark, one per marked connection */
	uint32_t n;                   /* marks (merged ranges once prepared) */
	uint32_t nmarked;             /* connections marked */
	uint32_t nmerged;             /* after ev_prepare: marks[0, nmerged) are the merged ranges */
	struct dbuf tuples;           /* struct ev_tuple; [0] unused */
	uint32_t nt;                  /* tuples, counting [0] */
	uint32_t *bucket;
	uint32_t nbucket;             /* power of two */
	uint64_t key[4];              /* the hash key, random per run */
	int prepared;                 /* marks sorted and merged; a new mark undoes it */
	uint64_t dropped_marks;       /* connections over CAP_EV_MAX_CONNS */
	uint64_t packets, bytes;
	uint64_t skipped_inputs;      /* other link type, or no second pass possible */
	int written;
	char hex[65];
	int dlt, snaplen;
	int fd;                       /* the output (capture/outfile.c; not owned), -1 until given */
	int pcapng;                   /* the name ends in .pcapng */
	uint64_t *map;                /* map[i]: the original frame of evidence frame i + 1 */
	uint32_t nmap;
	struct dbuf mapb;             /* map's bytes, capped at CAP_EV_MAX_MAP entries */
	int map_partial;              /* over CAP_EV_MAX_MAP packets: the map stops */
	/* live spool */
	int live;
	FILE *spool_f;
	struct flow_table *ft;        /* which connections are still to be judged */
	uint64_t live_frame;          /* frames seen by the tap */
	uint64_t spool_bytes, spool_max, spool_next, offered, compact_after;
	uint64_t spool_dropped;       /* packets not spooled: over the cap */
	int64_t compact_ts;           /* capture time of the last compaction */
	int64_t retry_us;             /* the next timed compaction, after that much capture time */
	uint64_t compactions;
};

static int addr_cmp(const struct hs_addr *x, const struct hs_addr *y)
{
	int c = memcmp(x->addr, y->addr, 16);
	if (c)
		return c;
	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	return x->port < y->port ? -1 : x->port > y->port;
}

static void canon(const struct hs_addr *x, const struct hs_addr *y, struct hs_addr *a, struct hs_addr *b)
{
	if (addr_cmp(x, y) <= 0) {
		*a = *x;
		*b = *y;
	} else {
		*a = *y;
		*b = *x;
	}
}

static uint64_t word(const uint8_t *p)
{
	uint64_t w;
	memcpy(&w, p, 8);
	return w;
}

static uint32_t hash(const struct cap_evidence *ev, const struct hs_addr *a, const struct hs_addr *b)
{
	uint64_t h = hash_mum(word(a->addr) ^ ev->key[0], word(a->addr + 8) ^ ev->key[1]);
	h = hash_mum(h ^ word(b->addr) ^ ev->key[2], word(b->addr + 8) ^ ev->key[3]);
	h = hash_mum(h ^ ((uint64_t)a->port << 32 | (uint64_t)b->port << 16 | (uint64_t)a->family << 8 | b->family),
		     ev->key[0] ^ ev->key[3]);
	return (uint32_t)(h ^ h >> 32);
}

static int same(const struct hs_addr *x, const struct hs_addr *y)
{
	return x->family == y->family && x->port == y->port && memcmp(x->addr, y->addr, 16) == 0;
}

static struct ev_tuple *tuple_at(const struct cap_evidence *ev, uint32_t i)
{
	return (struct ev_tuple *)(void *)ev->tuples.p + i;
}

static struct ev_mark *mark_at(const struct cap_evidence *ev, uint32_t i)
{
	return (struct ev_mark *)(void *)ev->marks.p + i;
}

struct cap_evidence *cap_ev_new(const char *path, int all)
{
	struct cap_evidence *ev = calloc(1, sizeof(*ev));
	if (!ev)
		return NULL;
	ev->path = strdup(path);
	ev->all = all;
	ev->nbucket = 1024;
	ev->bucket = calloc(ev->nbucket, sizeof(*ev->bucket));
	ev->dlt = -1;
	dbuf_init(&ev->marks, 256 * sizeof(struct ev_mark), (size_t)CAP_EV_MAX_CONNS * sizeof(struct ev_mark));
	dbuf_init(&ev->tuples, 256 * sizeof(struct ev_tuple), ((size_t)CAP_EV_MAX_CONNS + 1) * sizeof(struct ev_tuple));
	ev->nt = 1;   /* index 0 is "none" */
	dbuf_init(&ev->mapb, 1024 * sizeof(uint64_t), (size_t)CAP_EV_MAX_MAP * sizeof(uint64_t));
	ev->fd = -1;
	{
		size_t n = strlen(path);
		ev->pcapng = n >= 7 && strcasecmp(path + n - 7, ".pcapng") == 0;
	}
	if (getrandom(ev->key, sizeof(ev->key), GRND_NONBLOCK) != (ssize_t)sizeof(ev->key)) {
		/* no entropy yet: ASLR bits, spread by splitmix64 */
		uint64_t x = (uint64_t)(uintptr_t)ev ^ 0x2545f491u;
		int i;
		for (i = 0; i < 4; i++)
			ev->key[i] = hash_splitmix64(&x);
	}
	if (!ev->path || !ev->bucket) {
		cap_ev_free(ev);
		return NULL;
	}
	return ev;
}

/* Four times the buckets once there are two tuples a bucket; on failure
 * the chains get longer, still correct. */
static void rehash(struct cap_evidence *ev)
{
	uint32_t nb = ev->nbucket * 4, i, *b;
	if (ev->nt <= ev->nbucket * 2 || nb < ev->nbucket || !(b = calloc(nb, sizeof(*b))))
		return;
	for (i = 1; i < ev->nt; i++) {
		struct ev_tuple *t = tuple_at(ev, i);
		uint32_t h = hash(ev, &t->a, &t->b) & (nb - 1);
		t->next = b[h];
		b[h] = i;
	}
	free(ev->bucket);
	ev->bucket = b;
	ev->nbucket = nb;
}

static uint32_t find_tuple(const struct cap_evidence *ev, const struct hs_addr *a, const struct hs_addr *b)
{
	uint32_t i;
	for (i = ev->bucket[hash(ev, a, b) & (ev->nbucket - 1)]; i; i = tuple_at(ev, i)->next) {
		const struct ev_tuple *t = tuple_at(ev, i);
		if (same(&t->a, a) && same(&t->b, b))
			return i;
	}
	return 0;
}

void cap_ev_mark(struct cap_evidence *ev, const struct hs_record *rec, int findings)
{
	struct hs_addr a, b;
	struct ev_mark *m;
	uint32_t t;
	if (!ev || (!findings && !ev->all))
		return;
	if (ev->prepared) {   /* marks[0, nmerged) stay valid ranges; sorted again at the next pass */
		ev->n = ev->nmerged;
		ev->prepared = 0;
	}
	if (dbuf_grow(&ev->marks, ((size_t)ev->n + 1) * sizeof(*m))) {
		ev->dropped_marks++;
		return;
	}
	canon(&rec->cli, &rec->srv, &a, &b);
	t = find_tuple(ev, &a, &b);
	if (!t) {
		struct ev_tuple *nt;
		uint32_t h;
		if (dbuf_grow(&ev->tuples, ((size_t)ev->nt + 1) * sizeof(*nt))) {
			ev->dropped_marks++;
			return;
		}
		t = ev->nt++;
		nt = tuple_at(ev, t);
		memset(nt, 0, sizeof(*nt));
		nt->a = a;
		nt->b = b;
		h = hash(ev, &a, &b) & (ev->nbucket - 1);
		nt->next = ev->bucket[h];
		ev->bucket[h] = t;
		rehash(ev);
	}
	m = mark_at(ev, ev->n++);
	m->first = rec->first_frame;
	m->last = hs_last_frame(rec);
	m->tuple = t;
	ev->nmarked++;
}

static int mark_order(const void *x, const void *y)
{
	const struct ev_mark *a = x, *b = y;
	if (a->tuple != b->tuple)
		return a->tuple < b->tuple ? -1 : 1;
	if (a->first != b->first)
		return a->first < b->first ? -1 : 1;
	return (a->last > b->last) - (a->last < b->last);
}

/* Before a pass over packets in frame order (the second pass, and each
 * compaction of the live spool): each tuple's ranges sorted by first frame
 * and merged where they overlap or touch, so a cursor can walk them. */
static void ev_prepare(struct cap_evidence *ev)
{
	uint32_t i, out = 0;
	ev->prepared = 1;
	if (!ev->n)
		return;
	qsort(ev->marks.p, ev->n, sizeof(struct ev_mark), mark_order);
	for (i = 0; i < ev->n; i++) {
		struct ev_mark *m = mark_at(ev, i), *o = out ? mark_at(ev, out - 1) : NULL;
		if (o && o->tuple == m->tuple && (o->last == UINT64_MAX || m->first <= o->last + 1)) {
			if (m->last > o->last)
				o->last = m->last;
			continue;
		}
		if (!o || o->tuple != m->tuple)
			tuple_at(ev, m->tuple)->lo = tuple_at(ev, m->tuple)->cur = out;
		tuple_at(ev, m->tuple)->hi = out + 1;
		*mark_at(ev, out++) = *m;
	}
	ev->nmerged = out;
}

/* The start of a pass: ranges prepared, every cursor at its first range. */
static void ev_pass_begin(struct cap_evidence *ev)
{
	uint32_t i;
	if (!ev->prepared)
		ev_prepare(ev);
	for (i = 1; i < ev->nt; i++)
		tuple_at(ev, i)->cur = tuple_at(ev, i)->lo;
}

/* Within a pass (ev_pass_begin), frames come in increasing order. */
static int wanted(struct cap_evidence *ev, const struct pkt *p, uint64_t frame)
{
	struct hs_addr a, b;
	struct ev_tuple *t;
	uint32_t i;
	if (!ev->prepared)
		ev_prepare(ev);
	canon(&p->src, &p->dst, &a, &b);
	i = find_tuple(ev, &a, &b);
	if (!i)
		return 0;
	t = tuple_at(ev, i);
	while (t->cur < t->hi && mark_at(ev, t->cur)->last < frame)
		t->cur++;
	return t->cur < t->hi && mark_at(ev, t->cur)->first <= frame;
}

/* ---- the writer: pcap through libpcap, or pcapng written here ---------- */

/* Everything written goes through the run's descriptor (opened before
 * privileges were dropped, capture/outfile.c) and is hashed on the way. */
struct ev_sink {
	int fd;
	EVP_MD_CTX *md;
	uint64_t bytes;
	int err;
};

static ssize_t sink_write(void *c, const char *buf, size_t n)
{
	struct ev_sink *s = c;
	size_t done = 0;
	while (done < n) {
		ssize_t w = write(s->fd, buf + done, n - done);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			s->err = errno;
			return -1;
		}
		done += (size_t)w;
	}
	EVP_DigestUpdate(s->md, buf, n);
	s->bytes += n;
	return (ssize_t)n;
}

struct ev_out {
	struct ev_sink sink;
	FILE *f;
	pcap_t *dead;
	pcap_dumper_t *dump;   /* pcap; NULL for pcapng */
};

static void put32(FILE *f, uint32_t v) { fwrite(&v, 4, 1, f); }
static void put16(FILE *f, uint16_t v) { fwrite(&v, 2, 1, f); }

/* An option: code, length, value padded to 4 bytes. */
static void ng_opt(FILE *f, uint16_t code, const void *v, uint16_t len)
{
	static const uint8_t zero[4];
	put16(f, code);
	put16(f, len);
	fwrite(v, 1, len, f);
	fwrite(zero, 1, (4 - len % 4) % 4, f);
}

static uint32_t pad4(uint32_t n) { return (n + 3) & ~3u; }

/* Section header and the one interface (nanosecond timestamps), in the
 * writer's byte order as pcapng allows (RFC draft-ietf-opsawg-pcapng). */
static void ng_head(FILE *f, int dlt, int snaplen)
{
	static const char app[] = "tlswhy";
	uint32_t shb = 28 + 4 + pad4(sizeof(app) - 1) + 4, idb = 20 + 8 + 4;
	uint8_t res = 9;
	int linktype = pcap_datalink_val_to_name(dlt) ? dlt : 1;
	put32(f, 0x0A0D0D0A);
	put32(f, shb);
	put32(f, 0x1A2B3C4D);
	put16(f, 1);
	put16(f, 0);
	put32(f, 0xffffffffu);   /* section length unknown */
	put32(f, 0xffffffffu);
	ng_opt(f, 4, app, sizeof(app) - 1);   /* shb_userappl */
	put32(f, 0);                          /* opt_endofopt */
	put32(f, shb);
	put32(f, 1);
	put32(f, idb);
	put16(f, (uint16_t)linktype);
	put16(f, 0);
	put32(f, (uint32_t)snaplen);
	ng_opt(f, 9, &res, 1);                /* if_tsresol: 10^-9 */
	put32(f, 0);
	put32(f, idb);
}

/* An enhanced packet block with the comment "original frame N". */
static void ng_packet(FILE *f, int64_t sec, uint32_t nsec, uint32_t caplen, uint32_t wirelen, const uint8_t *data,
		      uint64_t orig)
{
	static const uint8_t zero[4];
	char c[48];
	int cl = snprintf(c, sizeof(c), "original frame %" PRIu64, orig);
	/* 64 bits of nanoseconds reach 2554: times outside 1970..2554 are held to its ends */
	uint64_t ts = sec < 0 ? 0 : sec >= 18446744073LL ? UINT64_MAX : (uint64_t)sec * 1000000000u + nsec;
	uint32_t len = 28 + pad4(caplen) + 4 + pad4((uint32_t)cl) + 4 + 4;
	put32(f, 6);
	put32(f, len);
	put32(f, 0);
	put32(f, (uint32_t)(ts >> 32));
	put32(f, (uint32_t)ts);
	put32(f, caplen);
	put32(f, wirelen);
	fwrite(data, 1, caplen, f);
	fwrite(zero, 1, pad4(caplen) - caplen, f);
	ng_opt(f, 1, c, (uint16_t)cl);        /* opt_comment */
	put32(f, 0);
	put32(f, len);
}

static int out_begin(struct cap_evidence *ev, struct ev_out *o, int dlt, int snaplen, char *err, size_t errlen)
{
	static const cookie_io_functions_t io = { NULL, sink_write, NULL, NULL };
	if (o->f)
		return 0;
	o->sink.fd = ev->fd;
	o->sink.md = EVP_MD_CTX_new();
	if (!o->sink.md || !EVP_DigestInit_ex(o->sink.md, EVP_sha256(), NULL) || !(o->f = fopencookie(&o->sink, "w", io))) {
		snprintf(err, errlen, "-w %s: out of memory", ev->path);
		return -1;
	}
	if (ev->pcapng) {
		ng_head(o->f, dlt, snaplen);
		return 0;
	}
	o->dead = pcap_open_dead(dlt, snaplen);
	if (!o->dead || !(o->dump = pcap_dump_fopen(o->dead, o->f))) {
		snprintf(err, errlen, "-w %s: %s", ev->path, o->dead ? pcap_geterr(o->dead) : "out of memory");
		return -1;
	}
	return 0;
}

/* One packet; `frac` is microseconds for pcap, nanoseconds for pcapng. */
static void out_packet(struct cap_evidence *ev, struct ev_out *o, int64_t sec, uint32_t frac, uint32_t caplen,
		       uint32_t wirelen, const uint8_t *data, uint64_t orig)
{
	if (ev->pcapng) {
		ng_packet(o->f, sec, frac, caplen, wirelen, data, orig);
	} else {
		struct pcap_pkthdr h;
		h.ts.tv_sec = (time_t)sec;
		h.ts.tv_usec = (suseconds_t)frac;
		h.caplen = caplen;
		h.len = wirelen;
		pcap_dump((u_char *)o->dump, &h, data);
	}
	ev->packets++;
	if (ev->nmap < CAP_EV_MAX_MAP) {
		if (dbuf_grow(&ev->mapb, ((size_t)ev->nmap + 1) * sizeof(*ev->map)) != DBUF_OK) {
			ev->map_partial = 1;
			return;
		}
		ev->map = (uint64_t *)ev->mapb.p;
		ev->map[ev->nmap++] = orig;
	} else {
		ev->map_partial = 1;
	}
}

/* Flushes and closes; 0, or -1 with `err` (the write error). */
static int out_end(struct cap_evidence *ev, struct ev_out *o, int rc, char *err, size_t errlen)
{
	unsigned char d[32];
	unsigned int dl = 0, i;
	if (o->f) {
		if (fflush(o->f) != 0 || ferror(o->f) || o->sink.err) {
			if (rc == 0)
				snprintf(err, errlen, "-w %s: write error: %s", ev->path,
					 strerror(o->sink.err ? o->sink.err : EIO));
			rc = -1;
		}
		if (o->dump)
			pcap_dump_close(o->dump);   /* closes o->f */
		else
			fclose(o->f);
	}
	if (o->dead)
		pcap_close(o->dead);
	if (rc == 0 && o->sink.md) {
		EVP_DigestFinal_ex(o->sink.md, d, &dl);
		for (i = 0; i < dl && i < 32; i++)
			snprintf(ev->hex + 2 * i, 3, "%02x", d[i]);
		ev->bytes = o->sink.bytes;
	}
	EVP_MD_CTX_free(o->sink.md);
	return rc;
}

/* ---- the live spool: the packets that may still become evidence -------- */

/* A spooled packet: this header (host order, a private file), then the bytes. */
struct sp_hdr {
	uint64_t frame;
	int64_t ts_us;
	uint32_t caplen, wirelen;
};

#define SPOOL_MIN (4ull << 20)   /* the first compaction, at the latest */

int cap_ev_live_begin(struct cap_evidence *ev, int dlt, int snaplen, struct flow_table *ft, uint64_t spool_max,
		      char *err, size_t errlen)
{
	ev->spool_f = tmpfile();   /* unlinked at once: nothing to clean up, nothing to find */
	if (!ev->spool_f) {
		snprintf(err, errlen, "-w: cannot create a temporary spool: %s", strerror(errno));
		return -1;
	}
	ev->live = 1;
	ev->dlt = dlt;
	ev->snaplen = snaplen;
	ev->ft = ft;
	ev->spool_max = spool_max;
	ev->spool_next = SPOOL_MIN < spool_max ? SPOOL_MIN : spool_max;
	ev->retry_us = 1000000;
	return 0;
}

/* Reads the next spooled packet into buf (CAP_EV_SPOOL_SNAP bytes). 1, or 0 at the end. */
static int spool_next_rec(FILE *f, struct sp_hdr *h, uint8_t *buf)
{
	if (fread(h, sizeof(*h), 1, f) != 1 || h->caplen > CAP_EV_SPOOL_SNAP)
		return 0;
	return fread(buf, 1, h->caplen, f) == h->caplen;
}

/* Rewrites the spool with only what may still be evidence: packets of the
 * connections marked, of those not judged yet, and IP fragments. */
static void spool_compact(struct cap_evidence *ev)
{
	FILE *nf = tmpfile();
	uint8_t *buf = malloc(CAP_EV_SPOOL_SNAP);
	struct frag_table *frag = frag_table_new();
	struct sp_hdr h;
	uint64_t kept = 0;
	int ok = nf && buf && fflush(ev->spool_f) == 0;
	if (ok) {
		ev_pass_begin(ev);
		rewind(ev->spool_f);
		while (spool_next_rec(ev->spool_f, &h, buf)) {
			struct pkt p;
			enum pkt_result r;
			memset(&p, 0, sizeof(p));
			p.frame = h.frame;
			p.ts_us = h.ts_us;
			r = pkt_decode_frag(frag, ev->dlt, buf, h.caplen, h.wirelen, &p);
			if (r == PKT_FRAGMENT ||
			    (r == PKT_OK && (wanted(ev, &p, h.frame) || (ev->ft && flow_unreported(ev->ft, &p))))) {
				if (fwrite(&h, sizeof(h), 1, nf) != 1 || fwrite(buf, 1, h.caplen, nf) != h.caplen) {
					ok = 0;
					break;
				}
				kept += sizeof(h) + h.caplen;
			}
		}
	}
	frag_table_free(frag);
	free(buf);
	if (!ok) {   /* no room for a second file: go on with the first */
		if (nf)
			fclose(nf);
		fseek(ev->spool_f, 0, SEEK_END);
		return;
	}
	fclose(ev->spool_f);
	ev->spool_f = nf;
	ev->spool_bytes = kept;
	ev->compactions++;
}

/* After a compaction that freed little, a second chance before a quarter
 * of the cap has come: `retry_us` of capture time later (1 s, doubled by
 * each such retry that frees little, up to a minute), for the connections
 * judged since. */
static int retry_due(const struct cap_evidence *ev, int64_t ts_us)
{
	return ts_us - ev->compact_ts >= ev->retry_us;
}

/* Before `need` more bytes go in: compacts when the spool outgrew its
 * threshold (unless a compaction that freed little was too recent). */
static void spool_room(struct cap_evidence *ev, uint64_t need, int64_t ts_us)
{
	uint64_t before = ev->spool_bytes;
	int timed;
	ev->offered += need;
	if (ev->spool_bytes + need <= ev->spool_next)
		return;
	timed = ev->offered < ev->compact_after;
	if (timed && !retry_due(ev, ts_us))
		return;
	spool_compact(ev);
	ev->offered = 0;
	ev->compact_ts = ts_us;
	if (before - ev->spool_bytes >= ev->spool_max / 4)
		ev->retry_us = 1000000;
	else if (timed && ev->retry_us < 60000000)
		ev->retry_us *= 2;
	ev->spool_next = 2 * ev->spool_bytes > SPOOL_MIN ? 2 * ev->spool_bytes : SPOOL_MIN;
	if (ev->spool_next > ev->spool_max)
		ev->spool_next = ev->spool_max;
	/* compaction freed little: the next one waits for a quarter of the cap */
	ev->compact_after = ev->spool_bytes > ev->spool_max / 2 ? ev->spool_max / 4 : 0;
}

void cap_ev_tap(void *arg, const struct cap_input *in, int64_t ts_us, const uint8_t *data, uint32_t caplen,
	    uint32_t wirelen)
{
	struct cap_evidence *ev = arg;
	struct sp_hdr h;
	uint64_t need;
	(void)in;
	ev->live_frame++;
	if (!ev->spool_f)
		return;
	if (caplen > CAP_EV_SPOOL_SNAP)
		caplen = CAP_EV_SPOOL_SNAP;
	need = sizeof(h) + caplen;
	spool_room(ev, need, ts_us);
	if (ev->spool_bytes + need > ev->spool_max) {
		ev->spool_dropped++;
		return;
	}
	h.frame = ev->live_frame;
	h.ts_us = ts_us;
	h.caplen = caplen;
	h.wirelen = wirelen;
	if (fwrite(&h, sizeof(h), 1, ev->spool_f) != 1 || fwrite(data, 1, caplen, ev->spool_f) != caplen) {
		ev->spool_dropped++;   /* the spool's file system is full: counted like the cap */
		return;
	}
	ev->spool_bytes += need;
}

/* ---- the second pass ------------------------------------------------------ */

/* Reads one input again, writing the marked packets. `frame` runs on. */
static int pass(struct cap_evidence *ev, pcap_t *pc, struct ev_out *o, const char *filter, uint64_t *frame,
		int write, int nano, char *err, size_t errlen)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	struct frag_table *frag = frag_table_new();
	int rc;
	if (filter && *filter) {
		struct bpf_program prog;
		if (pcap_compile(pc, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0 || pcap_setfilter(pc, &prog) < 0) {
			snprintf(err, errlen, "-w: filter: %s", pcap_geterr(pc));
			frag_table_free(frag);
			return -1;
		}
		pcap_freecode(&prog);
	}
	while ((rc = pcap_next_ex(pc, &h, &data)) == 1) {
		struct pkt p;
		enum pkt_result r;
		(*frame)++;
		if (!write)
			continue;
		memset(&p, 0, sizeof(p));
		p.frame = *frame;
		p.ts_us = pkt_ts_us(h->ts.tv_sec, nano ? h->ts.tv_usec / 1000 : h->ts.tv_usec, NULL);
		r = pkt_decode_frag(frag, pcap_datalink(pc), data, h->caplen, h->len, &p);
		if (r != PKT_OK || !wanted(ev, &p, *frame))
			continue;
		if (out_begin(ev, o, ev->dlt, ev->snaplen, err, errlen)) {
			frag_table_free(frag);
			return -1;
		}
		out_packet(ev, o, h->ts.tv_sec, (uint32_t)h->ts.tv_usec, h->caplen, h->len, data, *frame);
	}
	frag_table_free(frag);
	return 0;
}

/* The live spool, read back in the same way. */
static int pass_spool(struct cap_evidence *ev, struct ev_out *o, char *err, size_t errlen)
{
	uint8_t *buf = malloc(CAP_EV_SPOOL_SNAP);
	struct frag_table *frag = frag_table_new();
	struct sp_hdr h;
	int rc = 0;
	if (!buf || fflush(ev->spool_f) != 0) {
		snprintf(err, errlen, "-w: the spool cannot be read back: %s", buf ? strerror(errno) : "out of memory");
		free(buf);
		frag_table_free(frag);
		return -1;
	}
	rewind(ev->spool_f);
	while (rc == 0 && spool_next_rec(ev->spool_f, &h, buf)) {
		struct pkt p;
		int64_t sec = h.ts_us / 1000000, us = h.ts_us % 1000000;
		memset(&p, 0, sizeof(p));
		p.frame = h.frame;
		p.ts_us = h.ts_us;
		if (us < 0) {
			us += 1000000;
			sec--;
		}
		if (pkt_decode_frag(frag, ev->dlt, buf, h.caplen, h.wirelen, &p) != PKT_OK || !wanted(ev, &p, h.frame))
			continue;
		rc = out_begin(ev, o, ev->dlt, ev->snaplen, err, errlen);
		if (rc == 0)
			out_packet(ev, o, sec, (uint32_t)(ev->pcapng ? us * 1000 : us), h.caplen, h.wirelen, buf, h.frame);
	}
	free(buf);
	frag_table_free(frag);
	return rc;
}

int cap_ev_write(struct cap_evidence *ev, int nin, struct cap_src *const *src,
	     const char *filter, char *err, size_t errlen)
{
	struct ev_out o;
	uint64_t frame = 0;
	int i, rc = 0, prec = ev->pcapng ? PCAP_TSTAMP_PRECISION_NANO : PCAP_TSTAMP_PRECISION_MICRO;
	char ebuf[PCAP_ERRBUF_SIZE];

	memset(&o, 0, sizeof(o));
	ev->ft = NULL;   /* the flow table is gone by now */
	ev_pass_begin(ev);   /* frames in order from here: inputs one after another, or the spool */
	if (ev->fd < 0) {
		snprintf(err, errlen, "-w %s: not opened", ev->path);
		return -1;
	}
	if (ev->live) {   /* the spool is the one input, filtered already */
		if (ev->spool_f)
			rc = pass_spool(ev, &o, err, errlen);
	} else {
		for (i = 0; i < nin && rc == 0; i++) {
			FILE *f = src ? cap_src_reopen(src[i]) : NULL;   /* the input opened once, again */
			pcap_t *pc;
			int write;
			if (!f) {
				/* no second pass possible: frame numbers after it would not line up */
				ev->skipped_inputs += (uint64_t)(nin - i);
				break;
			}
			pc = pcap_fopen_offline_with_tstamp_precision(f, (u_int)prec, ebuf);
			if (!pc) {
				fclose(f);
				ev->skipped_inputs += (uint64_t)(nin - i);
				break;
			}
			if (ev->dlt < 0) {
				ev->dlt = pcap_datalink(pc);
				ev->snaplen = pcap_snapshot(pc);
			}
			write = pcap_datalink(pc) == ev->dlt;
			if (!write)
				ev->skipped_inputs++;
			else if (pcap_snapshot(pc) > ev->snaplen)
				ev->snaplen = pcap_snapshot(pc);
			rc = pass(ev, pc, &o, filter, &frame, write, ev->pcapng, err, errlen);
			pcap_close(pc);
		}
	}
	/* nothing to keep: still a valid, empty capture */
	if (rc == 0)
		rc = out_begin(ev, &o, ev->dlt >= 0 ? ev->dlt : DLT_EN10MB, ev->snaplen > 0 ? ev->snaplen : 262144,
			       err, errlen);
	rc = out_end(ev, &o, rc, err, errlen);
	if (rc == 0)
		ev->written = 1;
	return rc;
}

const char *cap_ev_path(const struct cap_evidence *ev) { return ev->path; }
const char *cap_ev_sha256(const struct cap_evidence *ev) { return ev->written ? ev->hex : ""; }
uint64_t cap_ev_packets(const struct cap_evidence *ev) { return ev->packets; }
uint64_t cap_ev_connections(const struct cap_evidence *ev) { return ev->nmarked; }
uint64_t cap_ev_bytes(const struct cap_evidence *ev) { return ev->bytes; }
int cap_ev_written(const struct cap_evidence *ev) { return ev->written; }
void cap_ev_output(struct cap_evidence *ev, int fd) { ev->fd = fd; }
int cap_ev_pcapng(const struct cap_evidence *ev) { return ev->pcapng; }
uint64_t cap_ev_spool_dropped(const struct cap_evidence *ev) { return ev->spool_dropped; }
const uint64_t *cap_ev_frame_map(const struct cap_evidence *ev, uint32_t *n, int *partial)
{
	*n = ev->nmap;
	*partial = ev->map_partial;
	return ev->map;
}
uint64_t cap_ev_not_kept(const struct cap_evidence *ev) { return ev->dropped_marks; }
uint64_t cap_ev_inputs_skipped(const struct cap_evidence *ev) { return ev->skipped_inputs; }

void cap_ev_free(struct cap_evidence *ev)
{
	if (!ev)
		return;
	if (ev->spool_f)
		fclose(ev->spool_f);
	dbuf_free(&ev->mapb);
	dbuf_free(&ev->marks);
	dbuf_free(&ev->tuples);
	free(ev->bucket);
	free(ev->path);
	free(ev);
}

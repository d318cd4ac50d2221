/*
 * flow.c - flow table and TCP reassembly (RFC 9293), see flow.h.
 *
 * Per flow: two half-streams indexed by *record* direction (0 = client to
 * server). A packet's raw direction (0 = sent by the flow's first sender)
 * maps to it through `swapped`, which flips when the roles are learned
 * late (no SYN: the ClientHello sender is the client).
 *
 * Reassembly per half-stream:
 *   - next_seq is the next byte owed to the TLS parser; all comparisons
 *     are wrap-safe (seq_lt and friends).
 *   - In-order bytes are handed over in place, without a copy.
 *   - Out-of-order segments are copied into a list sorted by sequence,
 *     bounded by max_segments and max_bytes. Hitting a cap declares a gap
 *     up to the first queued segment: progress over completeness, and the
 *     gap is recorded.
 *   - The first copy of a byte wins, in order or queued: bytes seen again
 *     are compared with the last WIN_BYTES delivered (a window given back
 *     once the peer acknowledged all of it: the receiver then drops any
 *     copy, so none can change what it read), or with the queued
 *     copy (the queue never holds two copies of a byte: a new segment is
 *     split around what is queued; an in-order segment over queued bytes
 *     is taken whole only when they are the same). A difference is an
 *     overlap_conflict anomaly, with its first frame (hs_steer).
 *   - Sequence and acknowledgement numbers are judged against the window
 *     the receiver advertised (win_bound(): window scaling from the SYNs,
 *     WIN_UNKNOWN_BOUND without them); what lies far outside is an
 *     out_of_window anomaly and is ignored, never a gap.
 *   - Per direction, the first checkable segment with payload tells
 *     whether the capture's checksums are real (csum_accepts()); where
 *     they are, a segment with a bad one is a bad_checksum anomaly and
 *     ignored, data or not (the receiver dropped it: a retransmission
 *     fills its bytes, else they are a gap), unless the bad checksum is
 *     the capture host's offload: the pseudo-header's sum in the field,
 *     or a segment larger than the wire carries (TSO, GRO).
 *   - A gap is declared when the peer acknowledges bytes the capture never
 *     showed (the receiver had them, we did not; queued or not), when a cap
 *     is hit, when the flow is retired with segments still queued, and
 *     when it is retired short of its FIN's sequence number. A FIN the
 *     capture lost but the peer acknowledged counts as one missing byte.
 *   - Segments cut by snaplen deliver what was captured, then a gap for
 *     the rest.
 * Once the TLS parser needs nothing more from a direction, its queue and
 * window are freed and later payload is only counted.
 *
 * Lifetime: flows live in one of two lists ordered by last activity:
 * `active`, and `closing` (a FIN from both sides or an RST). Closing flows
 * retire after linger_us of packet time without activity, active ones
 * after idle_us. Time is packet time only.
 *
 * Early reporting (hs_timeout_us > 0, see flow.h) adds two lists: `settling`
 * (outcome known, in the order it became known, reported settle_us later)
 * and `done` (tombstones of reported, still open connections, by last
 * activity, freed after idle_us). `active` then holds only flows whose
 * outcome is pending, so the handshake-timeout sweep stops at the first
 * flow that is not due. A reported closing flow lingers as before and is
 * freed without a second report.
 */
#include "dissect/flow.h"
#include "dissect/flow_ahead.h"
#include "dissect/cursor.h"
#include "dissect/dbuf.h"
#include "dissect/hash.h"
#include "dissect/names.h"
#include "dissect/tls.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define WIN_BYTES 4096u
_Static_assert(WIN_BYTES <= UINT16_MAX, "struct half's win_head is 16 bits");

struct seg {
	struct seg *next;
	uint32_t seq;
	uint32_t len;       /* captured bytes in data[] */
	uint32_t wlen;      /* sequence space the segment covers */
	uint8_t data[];
};

/* Fields by size, widest first, the flags in bits (88 bytes; issue 19). */
struct half {
	struct seg *ooo;
	struct dbuf win;    /* last bytes delivered, ending at next_seq: a ring once full;
			     * storage (win.cap grows to WIN_BYTES as needed, freed when the
			     * peer acknowledges every byte, ack_ahead()), and win.len the
			     * bytes of the ring in use */
	uint32_t fin_seq;   /* the FIN's sequence number, when fin */
	uint32_t next_seq;
	uint32_t nseg;
	uint32_t qbytes;
	/* What this direction's sender told about itself, for judging the
	 * other's sequence numbers and this one's (win_bound(), csum_accepts()) */
	uint32_t bad_seq, bad_end;  /* [bad_seq, bad_end): the last data segments ignored for their
				     * checksum, when have_bad (one range: a run of them, gap_bad_checksum()) */
	uint32_t max_end;   /* highest sequence number + 1 with payload seen, even when done */
	uint32_t win_max;   /* the largest receive window it advertised, in bytes (scaled when known) */
	uint32_t hi_end;    /* highest sequence number + 1 of an accepted segment (have_hi) */
	uint32_t pf_start;  /* where the hole before new bytes after the peer's FIN starts (pf_pending),
			     * or an alert record's start or end (pf_hdr) */
	uint32_t fin_ack;   /* the acknowledgement number of its FIN, when have_fin_ack */
	uint32_t ack_upto;  /* the peer acknowledged bytes not seen up to here, when ack_pend (ack_ahead()) */
	uint16_t win_head;  /* where the next byte goes (win.len while the ring has not wrapped; < WIN_BYTES) */
	uint16_t syn_mss;   /* its SYN's MSS option, 0 without */
	uint8_t csum;       /* CS_UNKNOWN, CS_REAL, CS_OFFLOADED: this direction's checksums */
	uint8_t syn_ws;     /* its SYN's window scale, PKT_NO_WSCALE without; WS_NO_SYN before a SYN */
	uint8_t fin : 1;
	uint8_t have_end : 1;
	uint8_t have_hi : 1, have_win : 1;
	uint8_t win_scaled : 1; /* win_max came from a segment after the SYN */
	uint8_t have_bad : 1;   /* bad_seq and bad_end hold a range */
	uint8_t pf_pending : 1; /* data after the peer's FIN came after a hole at pf_start: judged when it fills */
	uint8_t have_fin_ack : 1;
	uint8_t ack_pend : 1;
	uint8_t have_seq : 1;
	uint8_t done : 1;
	/* An alert record after the peer's FIN cut across segments (pf_judge()):
	 * 1-4 its header bytes seen, pf_start where it starts; 5 header whole,
	 * pf_start where it ends; 0 none. pf_t13: a TLS 1.3 one (type 23, which
	 * counts as data until its header shows the length 19). */
	uint8_t pf_hdr : 3;
	uint8_t pf_t13 : 1;
};

enum { CS_UNKNOWN = 0, CS_REAL, CS_OFFLOADED };
#define WS_NO_SYN 0xfe
/* How far past the next byte owed a segment (or an acknowledgement) may
 * reach when the window is not known: no SYN with its scale option, or
 * no packet yet from the receiver. Generous (a 65535 window at the
 * largest scale is 1 GiB), but a forged segment or ACK 1 GiB ahead is
 * still told from data. */
#define WIN_UNKNOWN_BOUND (64u << 20)

/* Fields by size, widest first, hnext and hash at the head (issue 19). */
struct flow {
	struct flow *hnext;
	uint32_t hash;      /* next to hnext: a chain walk rejects others on one cache line */
	uint8_t list;       /* 0 active, 1 closing */
	uint8_t swapped;
	uint8_t reported;
	uint8_t cut;            /* the capture ended while the outcome was pending */
	struct flow *prev, *next;
	struct hs_record *r;    /* NULL once reported (a tombstone) */
	int64_t last_ts;
	int64_t settle_ts;      /* when the outcome became known */
	struct half h[2];
	struct tls_conn tls;
	struct hs_addr a, b;
	uint8_t fin_raw;        /* FIN seen, bit per raw direction */
	uint8_t rst;
	uint16_t nstash;        /* packets in stash */
	uint32_t stash_bytes;   /* memory they take (at most lim.max_bytes) */
	struct stash *stash;    /* one side's packets held back, in capture order (stash_wanted()) */
};

/* A packet held back until the bytes of the other side it acknowledges
 * come (the sides out of step): its TCP header and payload copied. */
struct stash {
	struct stash *next;
	struct stash *tail;     /* in the first one: the last one */
	struct pkt p;
	uint32_t size;          /* memory it takes, with data[] */
	uint8_t raw;
	uint8_t data[];
};
#define STASH_MAX_PKTS 4096
#define STASH_MAX_US 1000000   /* of packet time: what a capture point's skew can explain */

/* FL_OPEN (early reporting only): the handshake completed and the
 * connection is still open. It is judged when it closes (a keep-alive race
 * shows only then) or after idle_us, not at completion. */
enum { FL_ACTIVE = 0, FL_CLOSING, FL_SETTLING, FL_DONE, FL_OPEN, FL__N };

struct flist {
	struct flow *head, *tail;
};

struct flow_table {
	/* Read on the reader thread for every packet (flow_hash_pkt, which
	 * decodes ahead in capture/fast.c), so it shares no cache line with
	 * what the analysis thread writes for every packet: written to, such
	 * a line would move between the two cores at every packet. */
	uint64_t key[4];          /* hash key, random per table */
	char key_pad[64];
	struct flow_limits lim;
	flow_done_fn *done;
	void *arg;
	struct flow **bucket;
	uint32_t nbuckets;
	uint64_t count;
	uint64_t next_id;
	uint64_t ooo_bytes;
	struct flist lists[FL__N];
	struct flow_stats st;
	struct flow *spare;       /* retired flows kept for reuse (FLOW_SPARE_MAX, linked by hnext) */
	uint32_t nspare;
};

/* A capture makes and retires a flow for every connection; a retired one
 * is kept (up to this many, newest first, so likely still in the cache)
 * for the next connection instead of a trip through the allocator. */
#define FLOW_SPARE_MAX 256u
/* The analysis thread's spare buffer blocks (dbuf_pool_begin()) pay while
 * few connections are open and their windows and handshake buffers come
 * and go through the same sizes; with many open they are memory an open
 * connection could use, and they scatter the heap (issue 19: 64,000 open
 * handshakes took 1.5 MiB more with them). Off past FLOW_POOL_OPEN_MAX
 * open flows, on again below half of it. */
#define FLOW_POOL_OPEN_MAX 4096u

void flow_limits_default(struct flow_limits *lim)
{
	lim->max_flows = FLOW_DEFAULT_MAX_FLOWS;
	lim->max_segments = FLOW_DEFAULT_MAX_SEGMENTS;
	lim->max_bytes = FLOW_DEFAULT_MAX_BYTES;
	lim->max_total = FLOW_DEFAULT_MAX_TOTAL;
	lim->idle_us = FLOW_DEFAULT_IDLE_US;
	lim->linger_us = FLOW_DEFAULT_LINGER_US;
	lim->hs_timeout_us = 0;
	lim->settle_us = FLOW_DEFAULT_SETTLE_US;
	lim->tls = (struct tls_limits)TLS_LIMITS_DEFAULT;
	lim->certs = NULL;
}

/* ---- lists ---------------------------------------------------------- */

static void list_del(struct flow_table *ft, struct flow *f)
{
	struct flist *l = &ft->lists[f->list];
	if (f->prev)
		f->prev->next = f->next;
	else
		l->head = f->next;
	if (f->next)
		f->next->prev = f->prev;
	else
		l->tail = f->prev;
	f->prev = f->next = NULL;
}

static void list_add_tail(struct flow_table *ft, struct flow *f, uint8_t which)
{
	struct flist *l = &ft->lists[which];
	f->list = which;
	f->next = NULL;
	f->prev = l->tail;
	if (l->tail)
		l->tail->next = f;
	else
		l->head = f;
	l->tail = f;
}

/* ---- hashing ---------------------------------------------------------- */

static inline uint64_t ep_hash(const struct hs_addr *e, const uint64_t *key)
{
	uint64_t w0, w1;
	if (e->family == 4) {
		uint32_t v;
		memcpy(&v, e->addr, 4);
		w0 = v;
		w1 = 0;
	} else {
		memcpy(&w0, e->addr, 8);
		memcpy(&w1, e->addr + 8, 8);
	}
	return hash_mum(w0 ^ key[0], w1 ^ ((uint64_t)e->port << 8 | e->family) ^ key[1]);
}

/* Symmetric: both directions of a connection hash alike. Keyed by the
 * table's random key, so addresses and ports chosen on the wire cannot be
 * precomputed to share one bucket (a chain of max_flows flows would make
 * every packet a linear search): each endpoint is mixed with the key by a
 * folded 128-bit multiply, and the symmetric combination once more. */
static inline uint32_t flow_hash(const struct flow_table *ft, const struct hs_addr *s, const struct hs_addr *d)
{
	uint64_t a = ep_hash(s, ft->key), b = ep_hash(d, ft->key);
	uint64_t h = hash_mum((a ^ b) ^ ft->key[2], (a + b) ^ ft->key[3]);
	return (uint32_t)(h ^ h >> 32);
}

static inline int ep_eq(const struct hs_addr *x, const struct hs_addr *y)
{
	uint64_t x0, y0, x1, y1;
	uint32_t x4, y4;
	if (x->family != y->family || x->port != y->port)
		return 0;
	if (x->family == 4) {
		memcpy(&x4, x->addr, 4);
		memcpy(&y4, y->addr, 4);
		return x4 == y4;
	}
	memcpy(&x0, x->addr, 8);
	memcpy(&y0, y->addr, 8);
	memcpy(&x1, x->addr + 8, 8);
	memcpy(&y1, y->addr + 8, 8);
	return ((x0 ^ y0) | (x1 ^ y1)) == 0;
}

static void rehash(struct flow_table *ft, uint32_t n)
{
	struct flow **nb = calloc(n, sizeof(*nb));
	uint32_t i;
	if (!nb)
		return;   /* keep the old table; chains just get longer */
	for (i = 0; i < ft->nbuckets; i++) {
		struct flow *f = ft->bucket[i], *nx;
		for (; f; f = nx) {
			nx = f->hnext;
			f->hnext = nb[f->hash & (n - 1)];
			nb[f->hash & (n - 1)] = f;
		}
	}
	free(ft->bucket);
	ft->bucket = nb;
	ft->nbuckets = n;
}

/* ---- table life cycle ------------------------------------------------- */

struct flow_table *flow_table_new(const struct flow_limits *lim, flow_done_fn *done, void *arg)
{
	struct flow_table *ft = calloc(1, sizeof(*ft));
	if (!ft)
		return NULL;
	if (lim)
		ft->lim = *lim;
	else
		flow_limits_default(&ft->lim);
	if (ft->lim.max_flows == 0)
		ft->lim.max_flows = 1;
	ft->lim.tls.certs = ft->lim.certs;   /* each connection reaches it through its limits */
	ft->done = done;
	ft->arg = arg;
	if (getrandom(ft->key, sizeof(ft->key), GRND_NONBLOCK) != (ssize_t)sizeof(ft->key)) {
		/* no entropy yet: ASLR bits, spread by splitmix64 */
		uint64_t x = (uint64_t)(uintptr_t)ft ^ 0x5bd1e995u;
		int i;
		for (i = 0; i < 4; i++)
			ft->key[i] = hash_splitmix64(&x);
	}
	ft->nbuckets = 1024;
	ft->bucket = calloc(ft->nbuckets, sizeof(*ft->bucket));
	if (!ft->bucket) {
		free(ft);
		return NULL;
	}
	return ft;
}

static void half_release(struct flow_table *ft, struct half *h)
{
	struct seg *s = h->ooo, *nx;
	for (; s; s = nx) {
		nx = s->next;
		free(s);
	}
	ft->ooo_bytes -= h->qbytes;
	h->ooo = NULL;
	h->nseg = 0;
	h->qbytes = 0;
	dbuf_free(&h->win);
	h->win.len = h->win_head = 0;
}

static void deliver(struct flow_table *ft, struct flow *f, int d, const uint8_t *p, uint32_t len,
		    uint32_t wlen, uint64_t frame, int64_t ts);
static void drain(struct flow_table *ft, struct flow *f, int d, uint64_t frame, int64_t ts);
static void expire(struct flow_table *ft, int64_t now);
static void gap_bad_checksum(struct flow *f, int d, uint32_t start, uint32_t len);

/* Direction d's rare facts (record.h: struct hs_rare), allocated on first
 * use; NULL when memory runs out (the count is lost, the anomaly bit the
 * caller sets still tells). */
static struct hs_rare_dir *rare_dir(struct hs_record *r, int d)
{
	struct hs_rare *x = record_rare(r);
	return x ? &x->d[d] : NULL;
}

/* `len` bytes of direction d declared missing. */
static void note_gap(struct flow *f, int d, uint32_t len)
{
	struct hs_rare_dir *x = rare_dir(f->r, d);
	f->r->anomalies |= AN_GAP;
	if (x) {
		x->gaps++;
		x->gap_bytes += len;
	}
}

static void note_retransmission(struct hs_record *r, int d)
{
	struct hs_rare_dir *x = rare_dir(r, d);
	if (x)
		x->retransmissions++;
}

static void note_out_of_order(struct hs_record *r, int d)
{
	struct hs_rare_dir *x = rare_dir(r, d);
	if (x)
		x->out_of_order++;
}

/* Declares the bytes up to the first queued segment missing. */
static void gap_to_queue(struct flow_table *ft, struct flow *f, int d, uint64_t frame, int64_t ts)
{
	struct half *h = &f->h[d];
	uint32_t len;
	if (!h->ooo)
		return;
	len = h->ooo->seq - h->next_seq;
	if (seq_gt(h->ooo->seq, h->next_seq)) {
		note_gap(f, d, len);
		gap_bad_checksum(f, d, h->next_seq, len);
		tls_gap(&f->tls, d, len, frame, ts);
		h->next_seq = h->ooo->seq;
		h->win.len = h->win_head = 0;   /* the window must end at next_seq, with no hole */
	}
	drain(ft, f, d, frame, ts);
}

static void gap_upto(struct flow_table *ft, struct flow *f, int d, uint32_t upto, uint64_t frame,
		     int64_t ts);
static void ack_gap_flush(struct flow_table *ft, struct flow *f, int d, uint64_t frame, int64_t ts);

static void stash_release(struct flow_table *ft, struct flow *f, int all, int final);

/* Finishes the record and hands it over; the flow is a tombstone after. */
static void flow_report(struct flow_table *ft, struct flow *f, int64_t end_us)
{
	int d;
	if (f->reported)
		return;
	stash_release(ft, f, 1, 1);
	for (d = 0; d < 2; d++) {
		/* as of the last packet of either side */
		int lf = hs_at_frame(f->r, 1 - d, HS_AT_LAST) > hs_at_frame(f->r, d, HS_AT_LAST) ? 1 - d : d;
		ack_gap_flush(ft, f, d, hs_at_frame(f->r, lf, HS_AT_LAST), hs_at_ts(f->r, lf, HS_AT_LAST));
		while (f->h[d].ooo && !f->h[d].done)
			gap_to_queue(ft, f, d, hs_at_frame(f->r, d, HS_AT_LAST), hs_at_ts(f->r, d, HS_AT_LAST));
		/* everything before the FIN was sent: what we lack is lost */
		if (f->h[d].fin)
			gap_upto(ft, f, d, f->h[d].fin_seq, hs_at_frame(f->r, d, HS_AT_LAST), hs_at_ts(f->r, d, HS_AT_LAST));
	}
	tls_finish(&f->tls);
	if (f->r->role_by == ROLE_UNKNOWN) {
		/* no segment began with a hello (one-byte segments, say), but the
		 * TLS layer may have parsed one: its sender tells the roles */
		uint16_t i;
		for (i = 0; i < f->r->n_events; i++) {
			const struct hs_event e = hs_ev(f->r, i);
			if (e.kind != EV_HANDSHAKE || (e.hs_type != 1 && e.hs_type != 2))
				continue;
			if ((e.dir == DIR_C2S) != (e.hs_type == 1))
				record_swap_dirs(f->r);
			f->r->role_by = e.hs_type == 1 ? ROLE_CLIENT_HELLO : ROLE_SERVER_HELLO;
			break;
		}
	}
	if (f->r->role_by == ROLE_UNKNOWN) {
		/* nothing told the roles apart: the lower port is the server */
		f->r->role_by = ROLE_PORT_GUESS;
		if (f->r->cli.port < f->r->srv.port)
			record_swap_dirs(f->r);
	}
	record_finish(f->r, end_us);
	if (f->cut && (f->r->stage == STAGE_NO_CLIENT_HELLO || f->r->stage == STAGE_CH_UNANSWERED))
		f->r->stage = STAGE_CAPTURE_ENDED;
	for (d = 0; d < 2; d++) {
		half_release(ft, &f->h[d]);
		f->h[d].done = 1;
	}
	tls_conn_free(&f->tls);
	if (ft->done)
		ft->done(f->r, ft->arg);
	else
		record_free(f->r);
	f->r = NULL;
	f->reported = 1;
}

static void flow_retire(struct flow_table *ft, struct flow *f, int64_t end_us)
{
	struct flow **pp = &ft->bucket[f->hash & (ft->nbuckets - 1)];
	while (*pp && *pp != f)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = f->hnext;
	list_del(ft, f);
	ft->count--;
	if (ft->count == FLOW_POOL_OPEN_MAX / 2)
		dbuf_pool_cap(DBUF_POOL_BYTES);
	flow_report(ft, f, end_us);
	if (ft->nspare < FLOW_SPARE_MAX) {
		f->hnext = ft->spare;
		ft->spare = f;
		ft->nspare++;
	} else {
		free(f);
	}
}

static int cmp_id(const void *x, const void *y)
{
	const struct flow *a = *(struct flow *const *)x, *b = *(struct flow *const *)y;
	return a->r->id < b->r->id ? -1 : a->r->id > b->r->id;
}

void flow_table_free(struct flow_table *ft, int64_t capture_end_us)
{
	struct flow **all;
	uint64_t n = 0, i;
	int l;
	if (!ft)
		return;
	if (ft->lim.hs_timeout_us)
		expire(ft, capture_end_us);   /* what is due is reported as usual */
	/* tombstones first: they have nothing left to report */
	for (l = 0; l < FL__N; l++) {
		struct flow *f, *nx;
		for (f = ft->lists[l].head; f; f = nx) {
			nx = f->next;
			if (f->reported)
				flow_retire(ft, f, capture_end_us);
			else if (l == FL_ACTIVE && ft->lim.hs_timeout_us)
				f->cut = 1;
		}
	}
	all = ft->count ? malloc(ft->count * sizeof(*all)) : NULL;
	for (l = 0; l < FL__N; l++) {
		struct flow *f;
		for (f = ft->lists[l].head; f; f = f->next)
			if (all)
				all[n++] = f;
	}
	if (all) {
		qsort(all, n, sizeof(*all), cmp_id);
		for (i = 0; i < n; i++)
			flow_retire(ft, all[i], capture_end_us);
		free(all);
	}
	/* allocation failure above: retire in list order */
	for (l = 0; l < FL__N; l++)
		while (ft->lists[l].head)
			flow_retire(ft, ft->lists[l].head, capture_end_us);
	while (ft->spare) {
		struct flow *f = ft->spare;
		ft->spare = f->hnext;
		free(f);
	}
	free(ft->bucket);
	free(ft);
}

const struct flow_stats *flow_table_stats(const struct flow_table *ft)
{
	return &ft->st;
}

void flow_table_set_keylog(struct flow_table *ft, const struct keylog *kl)
{
	ft->lim.tls.keylog = kl;   /* each connection's decoder points at ft->lim.tls */
}

uint64_t flow_table_active(const struct flow_table *ft)
{
	return ft->count;
}

/* Early reporting: report now, keep a tombstone (closing ones stay closing). */
static void report_early(struct flow_table *ft, struct flow *f, int64_t now)
{
	flow_report(ft, f, now);
	if (f->list != FL_CLOSING) {
		list_del(ft, f);
		list_add_tail(ft, f, FL_DONE);
	}
}

static void expire(struct flow_table *ft, int64_t now)
{
	struct flow *f;
	if (ft->lim.hs_timeout_us) {
		while ((f = ft->lists[FL_SETTLING].head) && f->settle_ts + ft->lim.settle_us <= now)
			report_early(ft, f, now);
		while ((f = ft->lists[FL_ACTIVE].head) && f->last_ts + ft->lim.hs_timeout_us <= now) {
			f->r->timed_out = 1;   /* judged by the handshake timer, not the end of the capture */
			report_early(ft, f, now);
		}
		while ((f = ft->lists[FL_DONE].head) && f->last_ts + ft->lim.idle_us < now)
			flow_retire(ft, f, now);
		while ((f = ft->lists[FL_OPEN].head) && f->last_ts + ft->lim.idle_us < now)
			flow_retire(ft, f, now);
	}
	while ((f = ft->lists[1].head) && f->last_ts + ft->lim.linger_us < now)
		flow_retire(ft, f, now);
	while ((f = ft->lists[0].head) && f->last_ts + ft->lim.idle_us < now)
		flow_retire(ft, f, now);
}

void flow_tick(struct flow_table *ft, int64_t now_us)
{
	expire(ft, now_us);
}

static struct flow *flow_find(struct flow_table *ft, const struct pkt *p, uint32_t hash, int *raw_dir)
{
	struct flow *f;
	for (f = ft->bucket[hash & (ft->nbuckets - 1)]; f; f = f->hnext) {
		if (f->hash != hash)
			continue;
		if (ep_eq(&f->a, &p->src) && ep_eq(&f->b, &p->dst)) {
			*raw_dir = 0;
			return f;
		}
		if (ep_eq(&f->a, &p->dst) && ep_eq(&f->b, &p->src)) {
			*raw_dir = 1;
			return f;
		}
	}
	return NULL;
}

static struct flow *flow_create(struct flow_table *ft, const struct pkt *p, uint32_t hash)
{
	struct flow *f;
	if (ft->count >= ft->lim.max_flows) {
		/* cheapest first: closed, reported, outcome known, pending */
		static const uint8_t order[FL__N] = { FL_CLOSING, FL_DONE, FL_OPEN, FL_SETTLING, FL_ACTIVE };
		struct flow *victim = NULL;
		int i;
		for (i = 0; i < FL__N && !victim; i++)
			victim = ft->lists[order[i]].head;
		if (victim) {
			if (victim->r)
				victim->r->anomalies |= AN_EVICTED;
			ft->st.flows_evicted++;
			flow_retire(ft, victim, p->ts_us);
		}
	}
	if (ft->spare) {
		f = ft->spare;
		ft->spare = f->hnext;
		ft->nspare--;
		memset(f, 0, sizeof(*f));
	} else if (!(f = calloc(1, sizeof(*f)))) {
		return NULL;
	}
	f->r = record_new(++ft->next_id);
	if (!f->r) {
		free(f);
		return NULL;
	}
	f->a = p->src;
	f->b = p->dst;
	f->hash = hash;
	f->r->cli = p->src;
	f->r->srv = p->dst;
	tls_conn_init(&f->tls, f->r, &ft->lim.tls);
	dbuf_init(&f->h[0].win, 512, WIN_BYTES);
	dbuf_init(&f->h[1].win, 512, WIN_BYTES);
	f->h[0].syn_ws = f->h[1].syn_ws = WS_NO_SYN;
	f->hnext = ft->bucket[hash & (ft->nbuckets - 1)];
	ft->bucket[hash & (ft->nbuckets - 1)] = f;
	list_add_tail(ft, f, 0);
	ft->count++;
	if (ft->count == FLOW_POOL_OPEN_MAX + 1)
		dbuf_pool_cap(0);
	ft->st.flows_created++;
	if (ft->count > ft->st.flows_active_max)
		ft->st.flows_active_max = ft->count;
	if (ft->count > (uint64_t)ft->nbuckets * 2 && ft->nbuckets < (1u << 24))
		rehash(ft, ft->nbuckets * 2);
	return f;
}

/* Roles learned: make record direction 0 the client. */
static void swap_roles(struct flow *f)
{
	struct half t = f->h[0];
	f->h[0] = f->h[1];
	f->h[1] = t;
	tls_swap(&f->tls);
	record_swap_dirs(f->r);
	f->swapped ^= 1;
}

/* ---- reassembly ------------------------------------------------------- */

static void win_append(struct half *h, const uint8_t *p, uint32_t len)
{
	uint32_t k, wcap;
	if (h->win.cap < WIN_BYTES && h->win.len + len > h->win.cap) {
		/* grown on demand, to what it holds (dbuf_fit(), not doubled): a
		 * client's window rarely needs more than its ClientHello, and open
		 * flows are most of the memory (bench/RESULTS.md).
		 * Below WIN_BYTES the bytes sit at [0, win.len), unwrapped. */
		uint32_t want = len < WIN_BYTES - h->win.len ? h->win.len + len : WIN_BYTES;
		if (dbuf_fit(&h->win, want)) {
			dbuf_free(&h->win);   /* no window: retransmissions are not compared */
			h->win.len = h->win_head = 0;
			return;
		}
		h->win_head = (uint16_t)h->win.len;   /* a full copy left it at 0 */
	}
	wcap = (uint32_t)h->win.cap;
	if (!wcap)
		return;
	if (len >= wcap) {
		memcpy(h->win.p, p + len - wcap, wcap);
		h->win.len = wcap;
		h->win_head = 0;
		return;
	}
	/* a ring: at most two copies, nothing moved */
	if (h->win_head >= wcap)
		h->win_head = 0;
	k = wcap - h->win_head;
	if (k > len)
		k = len;
	memcpy(h->win.p + h->win_head, p, k);
	memcpy(h->win.p, p + k, len - k);
	h->win_head = (uint16_t)(h->win_head + len - (len - k ? wcap : 0));
	h->win.len = h->win.len + len > wcap ? wcap : h->win.len + len;
}

/* Compares bytes at `seq` seen again with what was delivered; 1 = differ. */
static int conflicts_with_window(const struct half *h, uint32_t seq, const uint8_t *p, uint32_t len)
{
	uint32_t win_start = h->next_seq - h->win.len;
	uint32_t wcap = (uint32_t)h->win.cap;
	uint32_t from, to;
	if (!h->win.p || !h->win.len)
		return 0;
	from = seq_lt(seq, win_start) ? win_start : seq;
	to = seq + len;
	if (seq_gt(to, h->next_seq))
		to = h->next_seq;
	if (!seq_lt(from, to))
		return 0;
	{
		/* window index 0 (win_start) sits win.len bytes before win_head;
		 * the compared bytes are at most two runs of the ring */
		uint32_t at = (h->win_head + wcap - h->win.len + (from - win_start)) % wcap;
		uint32_t cnt = to - from, first = cnt < wcap - at ? cnt : wcap - at;
		const uint8_t *q = p + (from - seq);
		return memcmp(h->win.p + at, q, first) != 0 || memcmp(h->win.p, q + first, cnt - first) != 0;
	}
}

/* Compares the captured bytes [seq, seq + len) at p with the queued
 * segment s where both hold bytes; 1 = they differ. */
static int conflicts_with_seg(const struct seg *s, uint32_t seq, const uint8_t *p, uint32_t len)
{
	uint32_t from = seq_gt(s->seq, seq) ? s->seq : seq;
	uint32_t e1 = seq + len, e2 = s->seq + s->len;
	uint32_t to = seq_lt(e1, e2) ? e1 : e2;
	if (!seq_lt(from, to))
		return 0;
	return memcmp(s->data + (from - s->seq), p + (from - seq), to - from) != 0;
}

/* Two copies of the same stream bytes differed; the first was kept. */
static void note_conflict(struct flow *f, int d, uint64_t frame, int64_t ts)
{
	struct hs_rare_dir *s = rare_dir(f->r, d);
	struct hs_steer *st = record_steer(f->r);
	(void)ts;
	f->r->anomalies |= AN_OVERLAP_CONFLICT;
	if (s && s->overlap_conflicts < UINT32_MAX)
		s->overlap_conflicts++;
	if (st && !st->conflict_frame[d])
		st->conflict_frame[d] = frame;
}

/* A segment that plainly starts an alert: a TLS <= 1.2 alert record, or a
 * lone TLS 1.3 alert-sized protected record (5 + 19 bytes, type 23). */
static int starts_alert(const uint8_t *q, size_t n)
{
	struct cur c = cur_make(q, n);
	uint8_t type = cur_u8(&c);
	uint16_t len;
	cur_skip(&c, 2);
	len = cur_u16(&c);
	return type == CT_ALERT || (n == 24 && type == CT_APPDATA && len == 19);
}

/* The new bytes after the peer's FIN, `total` of them, start with the n
 * bytes at q (n >= 1): are they one alert record and nothing more? What the
 * header shows must agree (a TLS <= 1.2 alert: type 21, a length under 256;
 * a TLS 1.3 one: type 23, length 19); what it does not show yet is bounded
 * by the largest such record. */
static int lone_alert(const uint8_t *q, uint32_t n, uint32_t total)
{
	if (q[0] != CT_ALERT && q[0] != CT_APPDATA)
		return 0;
	if (n >= 4 && q[3] != 0)
		return 0;
	if (q[0] == CT_APPDATA)
		return (n < 5 || q[4] == 19) && total <= 24;
	return total <= 5u + (n >= 5 ? q[4] : 255u);
}

static void half_check_done(struct flow_table *ft, struct flow *f, int d)
{
	if (!f->h[d].done && tls_dir_done(&f->tls, d)) {
		f->h[d].done = 1;
		half_release(ft, &f->h[d]);
	}
}

/* The handshake completed on bytes of direction d just delivered (they
 * end at next_seq), in a record whose rest may still be to come (its
 * header alone can complete it). Bytes of d beyond that record already
 * seen, queued out of order, were sent after it: they count as after the
 * handshake, as the bytes of later packets do (data_after_peer_fin), so the
 * count follows sequence order and not the order the capture shows them
 * in. The record's own rest is not new data: max_end moves past it. */
static void after_handshake_cut(struct flow *f, int d)
{
	struct half *h = &f->h[d];
	uint32_t cut = h->next_seq + tls_record_left(&f->tls, d);
	if (h->have_end && seq_gt(h->max_end, cut))
		f->r->d[d].payload_after_handshake += h->max_end - cut;
	else {
		h->max_end = cut;
		h->have_end = 1;
	}
}

/* Bytes of direction d the peer's FIN acknowledged came after it in
 * the capture (the directions reached it out of step): what they showed
 * happened before the close, and is what it came after. */
static void close_saw(struct flow *f, int d, uint16_t nal)
{
	struct hs_record *r = f->r;
	r->closed_after_kind = hs_ev(r, r->n_events - 1u).kind;
	r->closed_after_hs_type = f->tls.d[d].last_hs_type;
	for (; nal < r->n_alerts; nal++)
		r->alerts[nal].before_close = 1;
}

static void deliver(struct flow_table *ft, struct flow *f, int d, const uint8_t *p, uint32_t len,
		    uint32_t wlen, uint64_t frame, int64_t ts)
{
	struct half *h = &f->h[d];
	struct hs_dir *s = &f->r->d[d];
	int was_complete = f->r->rat[HS_RAT_COMPLETE].frame != 0;
	uint16_t nev = f->r->n_events, nal = f->r->n_alerts;
	if (len) {
		if (!h->done)
			win_append(h, p, len);
		s->stream_bytes += len;
		tls_feed(&f->tls, d, p, len, frame, ts);
	}
	h->next_seq += wlen;
	if (f->r->n_events != nev && f->r->closed_by == 1 - d && f->h[1 - d].have_fin_ack &&
	    !seq_gt(h->next_seq, f->h[1 - d].fin_ack) && f->r->closed_with == EV_FIN)
		close_saw(f, d, nal);
	if (!was_complete && f->r->rat[HS_RAT_COMPLETE].frame)
		after_handshake_cut(f, d);
	if (wlen > len) {
		h->win.len = h->win_head = 0;   /* the window must end at next_seq, with no hole */
		note_gap(f, d, wlen - len);
		tls_gap(&f->tls, d, wlen - len, frame, ts);
	}
	half_check_done(ft, f, d);
}

static void drain(struct flow_table *ft, struct flow *f, int d, uint64_t frame, int64_t ts)
{
	struct half *h = &f->h[d];
	struct seg *s;
	while (!h->done && (s = h->ooo) && seq_le(s->seq, h->next_seq)) {
		uint32_t off = h->next_seq - s->seq;
		h->ooo = s->next;
		h->nseg--;
		h->qbytes -= s->len;
		ft->ooo_bytes -= s->len;
		if (off < s->wlen) {
			uint32_t skip = off < s->len ? off : s->len;
			if (off && conflicts_with_window(h, s->seq, s->data, s->len))
				note_conflict(f, d, frame, ts);
			deliver(ft, f, d, s->data + skip, s->len - skip, s->wlen - off, frame, ts);
		}
		free(s);
	}
}

/* Queueing `len` more bytes in h would pass its byte cap or the table's. */
static int over_bytes(const struct flow_table *ft, const struct half *h, uint32_t len)
{
	return h->qbytes + (uint64_t)len > ft->lim.max_bytes ||
	       ft->ooo_bytes + (uint64_t)len > ft->lim.max_total;
}

/*
 * Walks the queue for new bytes [seq, seq + wlen) (len of them captured,
 * at p). The queue never holds two copies of a byte: where a queued
 * segment already covers the new bytes, the first copy wins and the two
 * are compared (return 1 when they differ); the parts no queued segment
 * covers are counted in *pieces and *bytes (captured bytes), and with
 * `apply` inserted in order.
 */
static int queue_merge(struct flow_table *ft, struct half *h, uint32_t seq, const uint8_t *p, uint32_t len,
		       uint32_t wlen, int apply, uint32_t *pieces, uint32_t *bytes)
{
	struct seg **pp = &h->ooo;
	uint32_t cur = seq, end = seq + wlen;
	int differ = 0;
	*pieces = 0;
	*bytes = 0;
	while (seq_lt(cur, end)) {
		struct seg *s = *pp;
		uint32_t upto;
		if (s && seq_le(s->seq + s->wlen, cur)) {
			pp = &s->next;
			continue;
		}
		upto = !s || seq_ge(s->seq, end) ? end : s->seq;
		if (seq_lt(cur, upto)) {
			/* [cur, upto) is new: no queued segment has it */
			uint32_t off = cur - seq, w = upto - cur;
			uint32_t n = off < len ? (w < len - off ? w : len - off) : 0;
			(*pieces)++;
			*bytes += n;
			if (apply) {
				struct seg *ns = malloc(sizeof(*ns) + n);
				if (!ns)
					return differ;
				ns->seq = cur;
				ns->len = n;
				ns->wlen = w;
				if (n)
					memcpy(ns->data, p + off, n);
				ns->next = s;
				*pp = ns;
				pp = &ns->next;
				h->nseg++;
				h->qbytes += n;
				ft->ooo_bytes += n;
			}
			cur = upto;
			continue;
		}
		/* s holds cur: the queued copy stays */
		if (apply && conflicts_with_seg(s, seq, p, len))
			differ = 1;
		cur = s->seq + s->wlen;
		pp = &s->next;
	}
	return differ;
}

/*
 * Queues a segment that begins after next_seq (*differ = 1 when a queued
 * copy of some of its bytes differs). Returns 1 when making room (the
 * caps) moved next_seq to or past its start: the caller then takes it as
 * in-order bytes.
 */
static int enqueue(struct flow_table *ft, struct flow *f, int d, uint32_t seq, const uint8_t *p,
		   uint32_t len, uint32_t wlen, uint64_t frame, int64_t ts, int *differ)
{
	struct half *h = &f->h[d];
	uint32_t pieces, bytes;
	queue_merge(ft, h, seq, p, len, wlen, 0, &pieces, &bytes);
	if (pieces && (h->nseg + pieces > ft->lim.max_segments || over_bytes(ft, h, bytes))) {
		if (h->nseg + pieces > ft->lim.max_segments) {
			f->r->anomalies |= AN_CAP_SEGMENTS;
			ft->st.cap_segments_hit++;
		} else {
			f->r->anomalies |= AN_CAP_BYTES;
			ft->st.cap_bytes_hit++;
		}
		/* make room by giving up on the missing bytes before the queue */
		while (h->ooo && !h->done && (h->nseg + pieces > ft->lim.max_segments || over_bytes(ft, h, bytes))) {
			gap_to_queue(ft, f, d, frame, ts);
			if (h->done || seq_le(seq, h->next_seq))
				break;
			queue_merge(ft, h, seq, p, len, wlen, 0, &pieces, &bytes);
		}
		if (h->done)
			return 0;
		if (seq_le(seq, h->next_seq))
			return 1;   /* the segment itself is now next (or old) */
		if (over_bytes(ft, h, bytes)) {
			/* larger than the whole budget, or the other flows hold the
			 * table's: declare the gap before it */
			uint32_t g = seq - h->next_seq;
			note_gap(f, d, g);
			gap_bad_checksum(f, d, h->next_seq, g);
			tls_gap(&f->tls, d, g, frame, ts);
			h->next_seq = seq;
			h->win.len = h->win_head = 0;
			return 1;
		}
	}
	if (queue_merge(ft, h, seq, p, len, wlen, 1, &pieces, &bytes))
		*differ = 1;
	if (!pieces) {
		/* every byte was queued already: first copy wins */
		note_retransmission(f->r, d);
		f->r->anomalies |= AN_RETRANSMISSION;
		return 0;
	}
	if (ft->ooo_bytes > ft->st.ooo_bytes_max)
		ft->st.ooo_bytes_max = ft->ooo_bytes;
	note_out_of_order(f->r, d);
	f->r->anomalies |= AN_OUT_OF_ORDER;
	return 0;
}

/*
 * Declares the bytes before `upto` missing when the capture never showed
 * them (what the peer acknowledged, what came before a FIN), draining the
 * queued segments on the way.
 */
static void gap_upto(struct flow_table *ft, struct flow *f, int d, uint32_t upto, uint64_t frame,
		     int64_t ts)
{
	struct half *h = &f->h[d];
	uint32_t len;
	while (!h->done && h->ooo && seq_le(h->ooo->seq, upto))
		gap_to_queue(ft, f, d, frame, ts);
	if (h->done || !h->have_seq || !seq_gt(upto, h->next_seq))
		return;
	len = upto - h->next_seq;
	note_gap(f, d, len);
	gap_bad_checksum(f, d, h->next_seq, len);
	tls_gap(&f->tls, d, len, frame, ts);
	h->next_seq = upto;
	h->win.len = h->win_head = 0;
	half_check_done(ft, f, d);
}

/* Declares what a pending acknowledgement of unseen bytes of direction d
 * left missing (ack_ahead()), as of the frame that proved it. */
static void ack_gap_flush(struct flow_table *ft, struct flow *f, int d, uint64_t frame, int64_t ts)
{
	struct half *h = &f->h[d];
	if (!h->ack_pend)
		return;
	h->ack_pend = 0;
	gap_upto(ft, f, d, h->ack_upto, frame, ts);
}

/*
 * The peer acknowledged direction d's bytes up to `upto` (in window):
 * whatever of them was not seen is lost to us. When the acknowledgement
 * covers bytes queued after a hole, the hole is declared at once. When it
 * covers only bytes not seen at all, not yet: a capture may show the two
 * directions out of step (a mirror, a host with several queues), so they
 * may still come. That gap is declared when the next packet of d does not
 * start the missing bytes, when an acknowledgement covers queued bytes,
 * or when the flow is reported, as of that moment (a later
 * acknowledgement only moves its end); bytes that do come fill it.
 */
static void ack_ahead(struct flow_table *ft, struct flow *f, int d, uint32_t upto, uint64_t frame, int64_t ts)
{
	struct half *h = &f->h[d];
	if (h->done || !h->have_seq)
		return;
	if (h->win.p && !seq_lt(upto, h->next_seq)) {
		/* the receiver has every byte delivered: a later copy of them
		 * cannot change what it read (it drops it), so there is nothing
		 * left to compare one with; an open handshake waiting on its
		 * peer keeps no window (issue 19) */
		dbuf_free(&h->win);
		h->win_head = 0;
	}
	if (h->ooo && seq_le(h->ooo->seq, upto)) {
		if (h->ack_pend && seq_gt(h->ack_upto, upto))
			upto = h->ack_upto;
		h->ack_pend = 0;
		gap_upto(ft, f, d, upto, frame, ts);
		return;
	}
	if (!seq_gt(upto, h->next_seq))
		return;   /* nothing unseen acknowledged */
	if (h->ack_pend && !seq_gt(upto, h->ack_upto))
		return;
	h->ack_upto = upto;
	h->ack_pend = 1;
}

/* A packet of direction d covering [seq, end) (empty for a bare ACK, FIN
 * or RST) is about to be taken: a pending acknowledged gap is declared
 * unless the packet starts its bytes, carries none at the point where
 * they would start, or carries some of them out of order. */
static void ack_gap_check(struct flow_table *ft, struct flow *f, int d, uint32_t seq, uint32_t end,
			  uint64_t frame, int64_t ts)
{
	struct half *h = &f->h[d];
	if (seq == end && seq == h->next_seq && seq_gt(h->ack_upto, h->next_seq))
		return;   /* no byte, and none skipped: proves nothing */
	if (seq != end && !h->done && seq_gt(seq, h->next_seq) && seq_lt(seq, h->ack_upto))
		return;   /* some of the acknowledged bytes, out of order: the rest may still come */
	if (h->done || !seq_gt(h->ack_upto, h->next_seq) ||
	    !(seq_le(seq, h->next_seq) && seq_gt(end, h->next_seq)))
		ack_gap_flush(ft, f, d, frame, ts);
}

/* 1 when a queued segment holds bytes of [seq, seq + len) (captured at p)
 * that differ from p's. */
static int queue_differs(const struct half *h, uint32_t seq, const uint8_t *p, uint32_t len)
{
	const struct seg *s;
	for (s = h->ooo; s && seq_lt(s->seq, seq + len); s = s->next)
		if (conflicts_with_seg(s, seq, p, len))
			return 1;
	return 0;
}

/*
 * New bytes of direction d: [seq, seq + wlen), len of them captured at p.
 * The first copy of every byte wins, in order or queued: bytes already
 * delivered are compared with the window, bytes already queued with the
 * queue, and only the rest is taken; in-order bytes go to the TLS parser
 * in place, without a copy. Returns 1 when a copy differed.
 */
static int take_bytes(struct flow_table *ft, struct flow *f, int d, uint32_t seq, const uint8_t *data,
		      uint32_t len, uint32_t wlen, uint64_t frame, int64_t ts)
{
	struct half *h = &f->h[d];
	int first = 1, differ = 0;
	for (;;) {
		uint32_t n, nl;
		if (h->done)
			return differ;
		if (seq_lt(seq, h->next_seq)) {
			uint32_t off = h->next_seq - seq;
			if (conflicts_with_window(h, seq, data, len))
				differ = 1;
			if (first) {
				note_retransmission(f->r, d);
				f->r->anomalies |= AN_RETRANSMISSION;
			}
			if (off >= wlen)
				return differ;
			seq += off;
			wlen -= off;
			if (off >= len) {
				data += len;
				len = 0;
			} else {
				data += off;
				len -= off;
			}
		}
		first = 0;
		if (seq != h->next_seq) {
			if (enqueue(ft, f, d, seq, data, len, wlen, frame, ts, &differ))
				continue;
			return differ;
		}
		/* in order. Where queued segments hold some of these bytes, their
		 * copy came first: when it is the same and this one is whole,
		 * the segment is taken whole (the queued copies then drain as
		 * old bytes); else only up to the first queued segment. */
		n = wlen;
		if (h->ooo && seq_lt(h->ooo->seq, seq + wlen) &&
		    (len != wlen || queue_differs(h, seq, data, len))) {
			n = h->ooo->seq - seq;
			if (len == wlen)
				differ = 1;
		}
		nl = n < len ? n : len;
		deliver(ft, f, d, data, nl, n, frame, ts);
		drain(ft, f, d, frame, ts);
		if (n == wlen)
			return differ;
		seq += n;
		wlen -= n;
		data += nl;
		len -= nl;
	}
}

static void take(struct flow_table *ft, struct flow *f, int d, uint32_t seq, const uint8_t *data,
		 uint32_t len, uint32_t wlen, uint64_t frame, int64_t ts)
{
	if (take_bytes(ft, f, d, seq, data, len, wlen, frame, ts))
		note_conflict(f, d, frame, ts);
}

/* How far ahead of next_seq direction d's bytes may reach: twice the
 * largest window its receiver advertised, plus 64 KiB for what the capture
 * missed, when both SYNs (and so the window scale) were seen; else
 * WIN_UNKNOWN_BOUND, which also caps it. */
static uint32_t win_bound(const struct flow *f, int d)
{
	const struct half *rcv = &f->h[1 - d];
	uint64_t b, w;
	if (!rcv->have_win || f->h[0].syn_ws == WS_NO_SYN || f->h[1].syn_ws == WS_NO_SYN)
		return WIN_UNKNOWN_BOUND;
	w = rcv->win_max;
	/* only the SYN's (unscaled) window seen: later ones may be as large
	 * as it is, scaled */
	if (!rcv->win_scaled && f->h[0].syn_ws < 15 && f->h[1].syn_ws < 15)
		w <<= rcv->syn_ws;
	b = 2 * w + 65536;
	return b < WIN_UNKNOWN_BOUND ? (uint32_t)b : WIN_UNKNOWN_BOUND;
}

/* Notes the receive window a packet of direction d advertises. A SYN's is
 * never scaled (RFC 7323 2.2); later ones are, when both SYNs offered
 * scaling. */
static void note_window(struct flow *f, int d, const struct pkt *p)
{
	struct half *h = &f->h[d];
	uint64_t w = p->win;
	if (!(p->flags & TCP_SYN)) {
		if (f->h[0].syn_ws < 15 && f->h[1].syn_ws < 15)
			w <<= h->syn_ws;
		if (!h->win_scaled) {
			h->win_scaled = 1;
			h->have_win = 0;   /* the SYN's window was a stand-in */
		}
	}
	if (!h->have_win || w > h->win_max) {
		h->win_max = w > UINT32_MAX ? UINT32_MAX : (uint32_t)w;
		h->have_win = 1;
	}
}

/* A segment or ACK of direction d that makes no sense for the window:
 * counted on the connection, and ignored. */
static void note_out_of_window(struct flow *f, int d, const struct pkt *p)
{
	struct hs_steer *st = record_steer(f->r);
	f->r->anomalies |= AN_OUT_OF_WINDOW;
	if (!st)
		return;
	if (st->out_of_window[d] < UINT32_MAX)
		st->out_of_window[d]++;
	if (!st->out_of_window_frame[d])
		st->out_of_window_frame[d] = p->frame;
}

/* 1 when the payload of this segment of direction d lies where the
 * receiver could have accepted it: within win_bound() of next_seq, ahead
 * or behind. */
static int seg_in_window(const struct flow *f, int d, const struct pkt *p)
{
	const struct half *h = &f->h[d];
	uint32_t seq = p->seq + ((p->flags & TCP_SYN) ? 1u : 0u), b;
	if (!h->have_seq || h->done)
		return 1;
	b = win_bound(f, d);
	if (seq_gt(seq, h->next_seq))
		return seq - h->next_seq <= b;
	return h->next_seq - (seq + p->wirelen) <= b || seq_ge(seq + p->wirelen, h->next_seq);
}

/* 1 when an acknowledgement of direction o's bytes is no further ahead of
 * what o was seen to send than o's window allows. */
static int ack_in_window(const struct flow *f, int o, uint32_t ack)
{
	const struct half *h = &f->h[o];
	uint32_t base = h->have_hi && seq_gt(h->hi_end, h->next_seq) ? h->hi_end : h->next_seq;
	return !seq_gt(ack, base) || ack - base <= win_bound(f, o);
}

static void segment(struct flow_table *ft, struct flow *f, int d, const struct pkt *p)
{
	struct half *h = &f->h[d];
	uint32_t seq = p->seq;
	if (p->flags & TCP_SYN)
		seq++;
	if (!h->have_seq) {
		h->have_seq = 1;
		h->next_seq = seq;
		f->r->anomalies |= AN_MIDSTREAM;
	}
	if (!h->have_hi || seq_gt(seq + p->wirelen, h->hi_end)) {
		h->hi_end = seq + p->wirelen;
		h->have_hi = 1;
	}
	take(ft, f, d, seq, p->payload, p->paylen, p->wirelen, p->frame, p->ts_us);
}

/* The largest payload one segment of direction d can have carried on the
 * wire: the MSS its receiver announced, else its own (its link's), else
 * an Ethernet path's. A larger one was made by the capture host: a send
 * its NIC segments (TSO) or a receive merged before the capture (GRO,
 * LRO), whose checksum field the wire never saw. */
static uint32_t wire_mss(const struct flow *f, int d, const struct pkt *p)
{
	if (f->h[!d].syn_mss)
		return f->h[!d].syn_mss;
	if (f->h[d].syn_mss)
		return f->h[d].syn_mss;
	return p->src.family == 4 ? 1460 : 1440;
}

/* Whether the capture's checksums of direction d are real is decided by its
 * first segment with payload whose checksums could be checked: if they
 * verify, they are; if they fail, are zero or hold the pseudo-header's sum
 * (offload: a capture on the sending host), the NIC fills them in and none
 * is judged. Where they are real, a later segment whose checksum fails
 * never reached the peer's TCP: counted (bad_checksum) and ignored, data
 * or not; its bytes are missing until a retransmission brings them (a gap
 * if none does). Not failures there: a TCP checksum holding the
 * pseudo-header's sum (PKT_CSUM_PARTIAL: the capture host's own offload,
 * Linux shows it on the segments it sends through TSO and on those GRO
 * merged on receive while the others verify), and a segment larger than
 * any one the wire carried (wire_mss()). 1 = take the segment. */
static int csum_accepts(struct flow *f, int d, const struct pkt *p)
{
	struct half *h = &f->h[d];
	int ip = p->ip_csum, tcp, bad;
	if (h->csum == CS_OFFLOADED)
		return 1;
	/* bytes no longer read: only a close still matters */
	if (h->csum == CS_REAL && f->h[0].done && f->h[1].done && !(p->flags & (TCP_FIN | TCP_RST)))
		return 1;
	tcp = pkt_tcp_csum(p);
	bad = ip == PKT_CSUM_BAD || ip == PKT_CSUM_ZERO || tcp == PKT_CSUM_BAD || tcp == PKT_CSUM_ZERO;
	if (h->csum == CS_UNKNOWN) {
		/* only a segment with payload decides: a NIC often leaves the
		 * checksums of data segments to the hardware (TSO) while
		 * SYNs and ACKs carry real ones */
		if (!p->paylen || tcp == PKT_CSUM_NONE)
			return 1;
		h->csum = bad || tcp == PKT_CSUM_PARTIAL ? CS_OFFLOADED : CS_REAL;
		return 1;
	}
	if (!bad || (p->paylen > wire_mss(f, d, p)))
		return 1;
	{
		struct hs_steer *st = record_steer(f->r);
		f->r->anomalies |= AN_BAD_CHECKSUM;
		if (st && st->bad_checksums[d] < UINT32_MAX)
			st->bad_checksums[d]++;
		if (st && !st->bad_checksum_frame[d])
			st->bad_checksum_frame[d] = p->frame;
		if (st && p->paylen && st->bad_checksum_data[d] < UINT32_MAX)
			st->bad_checksum_data[d]++;
	}
	if (p->paylen) {
		/* kept as one range: extended by a segment that touches it
		 * (a run of them), else replaced */
		uint32_t end = p->seq + p->paylen;
		if (h->have_bad && !seq_gt(p->seq, h->bad_end) && !seq_gt(h->bad_seq, end)) {
			if (seq_gt(h->bad_seq, p->seq))
				h->bad_seq = p->seq;
			if (seq_gt(end, h->bad_end))
				h->bad_end = end;
		} else {
			h->bad_seq = p->seq;
			h->bad_end = end;
		}
		h->have_bad = 1;
	}
	return 0;
}

/* A gap [start, start + len) of direction d was declared: the bytes of it
 * that a segment ignored for its checksum held are counted. */
static void gap_bad_checksum(struct flow *f, int d, uint32_t start, uint32_t len)
{
	struct half *h = &f->h[d];
	uint32_t end = start + len, lo, hi;
	struct hs_steer *st;
	if (!h->have_bad || !len)
		return;
	lo = seq_gt(h->bad_seq, start) ? h->bad_seq : start;
	hi = seq_gt(h->bad_end, end) ? end : h->bad_end;
	if (!seq_gt(hi, lo) || !f->r->rare || !(st = f->r->rare->steer))
		return;
	if (st->bad_checksum_gap_bytes[d] > UINT32_MAX - (hi - lo))
		st->bad_checksum_gap_bytes[d] = UINT32_MAX;
	else
		st->bad_checksum_gap_bytes[d] += hi - lo;
}

/*
 * Early reporting: is the handshake's outcome known? Complete; an alert
 * that ends a handshake (hs_alert_ends_handshake() in record.c); a FIN or RST;
 * a non-TLS answer; a client done scanning without ever speaking TLS.
 */
static int outcome_known(const struct flow *f)
{
	const struct hs_record *r = f->r;
	uint16_t i;
	if (r->complete || f->fin_raw || f->rst || r->nontls_dir != 255)
		return 1;
	if (f->h[DIR_C2S].done && !r->d[DIR_C2S].tls)
		return 1;
	for (i = 0; i < r->n_alerts; i++)
		if (hs_alert_ends_handshake(&r->alerts[i]))
			return 1;
	return 0;
}

static void early_check(struct flow_table *ft, struct flow *f, int64_t now)
{
	if (f->reported)
		return;
	if (f->list == FL_CLOSING) {
		report_early(ft, f, now);
	} else if (f->list == FL_OPEN) {
		/* complete and open: the full close (both FINs, or a RST: the
		 * flow is then closing, above) judges it; a lone FIN does not,
		 * since a request racing a keep-alive close comes after it.
		 * An alert settles it. */
		if (f->r->n_alerts) {
			list_del(ft, f);
			f->settle_ts = now;
			list_add_tail(ft, f, FL_SETTLING);
		}
	} else if (f->list == FL_ACTIVE && outcome_known(f)) {
		int open = f->r->complete && !f->fin_raw && !f->rst;
		list_del(ft, f);
		f->settle_ts = now;
		list_add_tail(ft, f, open ? FL_OPEN : FL_SETTLING);
	}
}

/* A packet of a reported connection: keep time, notice the close. */
static void tomb_packet(struct flow_table *ft, struct flow *f, int raw, const struct pkt *p)
{
	f->last_ts = p->ts_us;
	if (p->flags & TCP_FIN)
		f->fin_raw |= (uint8_t)(1u << raw);
	if (p->flags & TCP_RST)
		f->rst = 1;
	list_del(ft, f);
	list_add_tail(ft, f, (f->fin_raw == 3 || f->rst) ? FL_CLOSING : f->list);
}

static void mark_closing(struct flow_table *ft, struct flow *f)
{
	if (f->list == 1)
		return;
	list_del(ft, f);
	list_add_tail(ft, f, 1);
}

uint32_t flow_hash_pkt(const struct flow_table *ft, const struct pkt *p)
{
	return flow_hash(ft, &p->src, &p->dst);
}

void flow_prefetch_slot(const struct flow_table *ft, uint32_t hash)
{
	__builtin_prefetch(&ft->bucket[hash & (ft->nbuckets - 1)]);
}

void flow_prefetch_flow(const struct flow_table *ft, uint32_t hash)
{
	const struct flow *f = ft->bucket[hash & (ft->nbuckets - 1)];
	if (f)
		__builtin_prefetch(f);
}

int flow_unreported(struct flow_table *ft, const struct pkt *p)
{
	int raw;
	const struct flow *f = flow_find(ft, p, flow_hash(ft, &p->src, &p->dst), &raw);
	return f && !f->reported;
}

void flow_packet(struct flow_table *ft, const struct pkt *p)
{
	flow_packet_hashed(ft, p, flow_hash(ft, &p->src, &p->dst));
}

/* The flow a packet belongs to, created when it may start one; NULL when
 * the packet is done with (a straggler of a reported flow, an untracked
 * segment, no memory). *raw is the packet's direction in the flow's terms. */
static struct flow *flow_for_packet(struct flow_table *ft, const struct pkt *p, uint32_t hash, int *raw)
{
	struct flow *f = flow_find(ft, p, hash, raw);
	if (f && f->reported) {
		if ((p->flags & (TCP_SYN | TCP_ACK)) != TCP_SYN) {
			tomb_packet(ft, f, *raw, p);
			return NULL;
		}
		flow_retire(ft, f, p->ts_us);   /* a new connection on the same ports */
		f = NULL;
	}
	if (!f) {
		if (!(p->flags & TCP_SYN) && p->paylen == 0) {
			ft->st.untracked_segments++;
			return NULL;
		}
		f = flow_create(ft, p, hash);
		if (!f)
			return NULL;
		*raw = 0;
		if ((p->flags & (TCP_SYN | TCP_ACK)) == TCP_SYN) {
			f->r->role_by = ROLE_SYN;
		} else if ((p->flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK)) {
			f->r->role_by = ROLE_SYNACK;
			swap_roles(f);
		}
	}
	return f;
}

/* A first payload that is a hello tells the roles. */
static void roles_from_hello(struct flow *f, const struct pkt *p, int raw)
{
	struct hs_record *r = f->r;
	int is_ch, is_sh;
	if (r->role_by != ROLE_UNKNOWN || p->paylen < 6)
		return;
	is_ch = tls_client_hello_dir(p->payload, p->paylen);
	is_sh = tls_handshake_record(p->payload, p->paylen, HT_SERVER_HELLO, NULL);
	if (is_ch || is_sh) {
		int sender_is_client = is_ch;
		int sender_rec_dir = raw ^ f->swapped;
		if ((sender_rec_dir == DIR_C2S) != sender_is_client)
			swap_roles(f);
		r->role_by = is_ch ? ROLE_CLIENT_HELLO : ROLE_SERVER_HELLO;
	}
}

/* Counts the packet in direction d: tunnel, sizes, first and last frames. */
static void count_packet(struct hs_record *r, int d, const struct pkt *p)
{
	struct hs_dir *s = &r->d[d];
	if (p->encap.kind) {
		/* the first tunnelled packet of a direction names its tunnel */
		struct hs_encap *e = record_encap(r, d);   /* NULL: out of memory, not described */
		if (e && !e->packets) {
			e->kind = p->encap.kind;
			e->vni = p->encap.vni;
			e->src = p->encap.src;
			e->dst = p->encap.dst;
		}
		if (e)
			e->packets++;
	}
	if (p->reassembled) {
		struct hs_rare *x = record_rare(r);
		if (x)
			x->ip_reassembled++;
	}
	s->packets++;
	s->payload_bytes += p->paylen;
	if (!r->first_frame) {   /* before any moment: their base (struct hs_at) */
		r->first_frame = p->frame;
		r->first_ts_us = p->ts_us;
	}
	{
		/* record_at(r, d, HS_AT_LAST, ...) for every packet, its common
		 * case first (p->frame is never 0) */
		struct hs_at *a = &s->at[HS_AT_LAST];
		uint64_t df = p->frame - r->first_frame, dt = (uint64_t)p->ts_us - (uint64_t)r->first_ts_us;
		if (df < HS_AT_WIDE - 1 && dt + 0x80000000u <= UINT32_MAX) {
			a->frame = (uint32_t)df + 1;
			a->ts = (int32_t)(uint32_t)dt;
		} else {
			record_at(r, d, HS_AT_LAST, p->frame, p->ts_us);   /* the record's last too (hs_last_frame) */
		}
	}
	if (p->truncated) {
		struct hs_rare_dir *x = rare_dir(r, d);
		if (x)
			x->truncated_packets++;
		r->anomalies |= AN_TRUNCATED_PACKET;
	}
	if (p->paylen && !s->at[HS_AT_FIRST_PAYLOAD].frame) {
		record_at(r, d, HS_AT_FIRST_PAYLOAD, p->frame, p->ts_us);
		s->spoke_first = !r->d[1 - d].at[HS_AT_FIRST_PAYLOAD].frame;
	}
}

static void on_syn(struct flow *f, int d, const struct pkt *p)
{
	struct hs_dir *s = &f->r->d[d];
	struct half *h = &f->h[d];
	if (!s->at[HS_AT_SYN].frame) {
		record_at(f->r, d, HS_AT_SYN, p->frame, p->ts_us);
		record_event(f->r, (uint8_t)d, (p->flags & TCP_ACK) ? EV_SYNACK : EV_SYN, p->frame,
			     p->ts_us, 0, 0);
		h->have_seq = 1;
		h->next_seq = p->seq + 1;
		h->syn_ws = p->wscale;
		h->syn_mss = p->mss;
	} else if (h->have_seq && p->seq + 1 != h->next_seq && !s->payload_bytes) {
		/* a new SYN with another ISN: the port was reused */
		h->next_seq = p->seq + 1;
	} else {
		note_retransmission(f->r, d);
	}
}

/* Judges the bytes of p from lo (inside p, new after the peer's FIN) record
 * by record: an alert record is not data, whatever segments carry it (a
 * TLS <= 1.2 alert: type 21 and a length under 256; a TLS 1.3 one: type
 * 23 and length 19, the 24 bytes of an encrypted alert). Anything else is
 * data, recorded at p. A header cut across segments is carried in pf_hdr
 * (its type in pf_t13, its start in pf_start) and its body skipped to its
 * end: only the bytes a real record could not explain count. A TLS 1.3
 * candidate counts as data (at the frame where it started) until its
 * header is whole; a TLS <= 1.2 one never does. Returns with pf_hdr
 * still set when p ends inside the record. */
static void pf_judge(struct flow *f, int d, const struct pkt *p, uint32_t lo)
{
	struct hs_record *r = f->r;
	struct half *h = &f->h[d];
	uint32_t end = p->seq + p->paylen;
	while (seq_lt(lo, end)) {
		const uint8_t *q = p->payload + (lo - p->seq);
		uint32_t n = end - lo, i, k;
		if (h->pf_hdr == 5) {
			/* inside an alert's body: skip to its end */
			if (!seq_gt(end, h->pf_start))
				return;
			lo = h->pf_start;
			h->pf_hdr = 0;
			continue;
		}
		if (!h->pf_hdr) {
			if (q[0] != CT_ALERT && q[0] != CT_APPDATA) {
				record_at(r, d, HS_AT_DATA_AFTER_PEER_FIN, p->frame, p->ts_us);
				return;
			}
			h->pf_t13 = q[0] == CT_APPDATA;
			h->pf_start = lo;
			h->pf_hdr = 1;
			if (h->pf_t13)   /* data until its header proves it an alert */
				record_at(r, d, HS_AT_DATA_AFTER_PEER_FIN, p->frame, p->ts_us);
			q++;
			n--;
			lo++;
		}
		/* header bytes pf_hdr.. of the record at pf_start, from q */
		k = 5u - h->pf_hdr < n ? 5u - h->pf_hdr : n;
		for (i = 0; i < k; i++) {
			unsigned at = h->pf_hdr + i;
			if ((at == 3 && q[i] != 0) || (at == 4 && h->pf_t13 && q[i] != 19)) {
				/* not an alert's header: a TLS 1.3 one stays data; a
				 * TLS <= 1.2 one started as an alert and is left so */
				h->pf_hdr = 0;
				return;
			}
		}
		h->pf_hdr = (uint8_t)(h->pf_hdr + k);
		lo += k;
		if (h->pf_hdr < 5)
			return;
		if (h->pf_t13 && hs_at_frame(r, d, HS_AT_DATA_AFTER_PEER_FIN))
			record_at(r, d, HS_AT_DATA_AFTER_PEER_FIN, 0, 0);   /* a lone alert after all */
		h->pf_start = h->pf_start + 5u + q[k - 1];   /* its length is under 256 */
	}
}

/* New application data after the peer's FIN: a request racing a keep-alive
 * close. Retransmissions are not new; alerts are not data, in one segment
 * or cut across several (pf_judge()). Also counts the new bytes after the
 * handshake completed (payload_after_handshake). */
static void data_after_peer_fin(struct flow *f, int d, const struct pkt *p)
{
	struct hs_record *r = f->r;
	struct half *h = &f->h[d];
	const struct half *o = &f->h[1 - d];
	uint32_t end = p->seq + p->paylen;
	uint32_t old_end = h->max_end, lo;
	int had_end = h->have_end;
	int fresh = !h->have_end || seq_gt(end, h->max_end);
	if (fresh && r->rat[HS_RAT_COMPLETE].frame && p->frame > hs_rat_frame(r, HS_RAT_COMPLETE))   /* new bytes, not a retransmission */
		r->d[d].payload_after_handshake += h->have_end && seq_gt(p->seq, h->max_end) ? p->paylen
						   : h->have_end ? end - h->max_end : p->paylen;
	if (fresh) {
		h->max_end = end;
		h->have_end = 1;
	}
	if (!r->d[1 - d].at[HS_AT_FIN].frame)
		return;
	if (h->pf_pending) {
		/* new bytes came after a hole: the segment that fills the hole's
		 * start tells whether they were a lone alert after all (the
		 * close_notify answering the FIN, reordered) */
		if (!seq_gt(p->seq, h->pf_start) && seq_gt(end, h->pf_start)) {
			uint32_t off = h->pf_start - p->seq;
			h->pf_pending = 0;
			if (lone_alert(p->payload + off, p->paylen - off, h->max_end - h->pf_start))
				record_at(r, d, HS_AT_DATA_AFTER_PEER_FIN, 0, 0);
		}
		return;
	}
	if (!fresh)
		return;
	if (h->pf_hdr) {
		/* an alert record cut across segments goes on here, in order;
		 * a hole in it ends it, and what follows the hole is judged
		 * below like any new bytes after one */
		uint32_t at = h->pf_hdr == 5 ? old_end : h->pf_start + h->pf_hdr;
		if (!seq_gt(p->seq, at)) {
			pf_judge(f, d, p, at);
			return;
		}
		if (h->pf_hdr == 5 && !seq_gt(p->seq, h->pf_start)) {
			pf_judge(f, d, p, p->seq);   /* its body, after a hole in it */
			return;
		}
		if (h->pf_hdr == 5)
			old_end = h->pf_start;   /* the hole follows the whole alert */
		h->pf_hdr = 0;
	}
	if (hs_at_frame(r, d, HS_AT_DATA_AFTER_PEER_FIN))
		return;
	/* Bytes the peer acknowledged in its FIN had reached it before it
	 * closed, whatever order the capture shows them in: the new bytes
	 * after the FIN start at the later of that and what was seen. */
	lo = had_end ? old_end : p->seq;
	if (o->have_fin_ack && seq_gt(o->fin_ack, lo))
		lo = o->fin_ack;
	if (!seq_gt(end, lo))
		return;
	/* a request split still shows as new bytes. New bytes after a hole
	 * count unless they plainly start an alert, until the hole's start is
	 * seen (above). */
	if (!seq_gt(p->seq, lo)) {
		pf_judge(f, d, p, lo);
	} else if (!starts_alert(p->payload, p->paylen)) {
		record_at(r, d, HS_AT_DATA_AFTER_PEER_FIN, p->frame, p->ts_us);
		h->pf_pending = 1;
		h->pf_start = lo;
	}
}

/* The first FIN or RST (kind EV_FIN or EV_RST) from direction d: noted as
 * its moment `at`, and as the close when it is the first of either side. */
static void on_close(struct flow *f, int d, uint8_t kind, enum hs_at_kind at, const struct pkt *p)
{
	struct hs_record *r = f->r;
	record_at(r, d, at, p->frame, p->ts_us);
	if (r->closed_by == 255) {
		r->closed_by = (uint8_t)d;
		r->closed_with = kind;
		r->closed_after_kind = r->n_events ? hs_ev(r, r->n_events - 1u).kind : 255;
		r->closed_after_hs_type = f->tls.d[1 - d].last_hs_type;
	}
	record_event(r, (uint8_t)d, kind, p->frame, p->ts_us, 0, 0);
}

/* ---- the sides out of step ---------------------------------------------
 *
 * A capture can show a segment before the other side's bytes it
 * acknowledges (a mirror, a host with several queues): its sender had
 * them first. Such a data segment is held back, with every later packet of
 * its side, until those bytes come in order (or the other side shows they
 * will not: data past them, a FIN, a RST), STASH_MAX_US of packet time
 * passes, or the flow is reported: the TLS parser then reads both sides in
 * the order their senders had them, and every fact that follows the order
 * of the two sides (what an alert answered, when the handshake was over,
 * who spoke first) follows it too. One side at a time: the other side's
 * packets are never held while one is. */

/* The end of what direction o showed: its bytes seen (delivered or
 * queued), its FIN. */
static uint32_t seen_end(const struct half *o)
{
	uint32_t e = o->have_hi && seq_gt(o->hi_end, o->next_seq) ? o->hi_end : o->next_seq;
	if (o->fin && seq_gt(o->fin_seq + 1u, e))
		e = o->fin_seq + 1u;
	return e;
}

/* A data segment that acknowledges bytes of the other side the capture has
 * not shown yet, within its window. */
static inline __attribute__((always_inline)) int stash_wanted(const struct flow_table *ft, const struct flow *f, int raw,
							 const struct pkt *p)
{
	int d = raw ^ f->swapped;
	const struct half *o = &f->h[1 - d];
	(void)ft;
	if (!p->paylen || (p->flags & (TCP_ACK | TCP_SYN | TCP_RST)) != TCP_ACK || f->reported ||
	    f->h[d].done || o->done || !o->have_seq)
		return 0;
	return seq_gt(p->ack, seen_end(o)) && ack_in_window(f, 1 - d, p->ack);
}

/* The end of what direction o delivered in order (with its FIN). */
static uint32_t got_end(const struct half *o)
{
	return o->fin && o->next_seq == o->fin_seq ? o->fin_seq + 1u : o->next_seq;
}

/* A packet of raw direction raw, the other side of the held ones, that
 * ends the wait: a FIN or RST, or data past what the first held packet
 * acknowledged (the bytes before were lost, or come later still). */
static int stash_over(const struct flow *f, int raw, const struct pkt *p)
{
	return (p->flags & (TCP_FIN | TCP_RST)) || (p->paylen && f->h[raw ^ f->swapped].have_seq &&
						   !seq_lt(p->seq, f->stash->p.ack));
}

static int stash_add(struct flow_table *ft, struct flow *f, int raw, const struct pkt *p)
{
	size_t hl = p->payload ? (size_t)p->tcp_hl * 4u : 0;
	size_t n = hl + (p->payload ? p->paylen : 0), size = sizeof(struct stash) + n;
	struct stash *st;
	/* bounded like the out-of-order queues: per flow and for the table */
	if (f->nstash >= STASH_MAX_PKTS || f->stash_bytes + size > ft->lim.max_bytes ||
	    ft->ooo_bytes + size > ft->lim.max_total || !(st = malloc(size)))
		return 0;
	st->next = NULL;
	st->p = *p;
	st->raw = (uint8_t)raw;
	st->size = (uint32_t)size;
	if (n)
		memcpy(st->data, p->payload - hl, n);
	st->p.payload = p->payload ? st->data + hl : NULL;
	if (f->stash)
		f->stash->tail->next = st;
	else
		f->stash = st;
	f->stash->tail = st;
	f->nstash++;
	f->stash_bytes += (uint32_t)size;
	ft->ooo_bytes += size;
	return 1;
}

static void packet_body(struct flow_table *ft, struct flow *f, int raw, const struct pkt *p, int final,
			uint32_t hash);

/* Takes the held packets whose wait is over (all: every one), in order. */
static void stash_release(struct flow_table *ft, struct flow *f, int all, int final)
{
	while (f->stash) {
		struct stash *st = f->stash;
		int d = st->raw ^ f->swapped;
		const struct half *o = &f->h[1 - d];
		if (!all && (st->p.flags & TCP_ACK) && !o->done && !f->h[d].done && seq_gt(st->p.ack, got_end(o)))
			break;
		f->stash = st->next;
		if (f->stash)
			f->stash->tail = st->tail;
		f->nstash--;
		f->stash_bytes -= st->size;
		ft->ooo_bytes -= st->size;
		if (f->r)
			packet_body(ft, f, st->raw, &st->p, final, 0);
		free(st);
	}
}

/* Everything a packet of raw direction raw tells, in the order packets are
 * taken (capture order, but for the ones held back). `f` NULL: a packet
 * from the capture, whose flow is found (hash) and which may be held back;
 * else a held one of f taken now. `final`: taken while the flow is being
 * reported (no list moves). One function, so that its parts stay inlined. */
static __attribute__((noinline)) void packet_body(struct flow_table *ft, struct flow *f, int raw,
						  const struct pkt *p, int final, uint32_t hash)
{
	struct hs_record *r;
	struct hs_dir *s;
	int d, sane;
	if (!f) {
		/* a packet from the capture (f given: one held back, stash_release()) */
		expire(ft, p->ts_us);
		f = flow_for_packet(ft, p, hash, &raw);
		if (!f)
			return;
		f->last_ts = p->ts_us;
		if (f->list != FL_SETTLING) {   /* that one is in the order outcomes became known */
			list_del(ft, f);
			list_add_tail(ft, f, f->list);
		}
		if (p->flags & TCP_FIN)
			f->fin_raw |= (uint8_t)(1u << raw);
		if (p->flags & TCP_RST)
			f->rst = 1;
		/* a segment the peer's TCP dropped for its checksum carried nothing */
		if (!csum_accepts(f, raw ^ f->swapped, p))
			return;
		roles_from_hello(f, p, raw);
		if (__builtin_expect(f->stash != NULL, 0) || stash_wanted(ft, f, raw, p)) {
			if (f->stash && f->stash->raw != raw) {
				/* the other side: what it shows may end the wait */
				int over = stash_over(f, raw, p);
				packet_body(ft, f, raw, p, 0, 0);
				stash_release(ft, f, over, 0);
				return;
			}
			if (f->stash && p->ts_us - f->stash->p.ts_us > STASH_MAX_US)
				stash_release(ft, f, 1, 0);   /* waited long enough: as the capture shows it */
			if (f->r && (f->stash || stash_wanted(ft, f, raw, p)) && stash_add(ft, f, raw, p))
				return;
			stash_release(ft, f, 1, 0);   /* no room */
			if (!f->r)
				return;   /* the held packets settled it and it was reported (early reporting) */
		}
	}
	r = f->r;
	d = raw ^ f->swapped;
	s = &r->d[d];
	count_packet(r, d, p);
	if (p->flags & TCP_SYN)
		on_syn(f, d, p);
	sane = !(p->paylen || p->wirelen) || seg_in_window(f, d, p);
	if (!sane) {
		/* no receiver would take these bytes: not data (a forged or
		 * corrupt segment must not push the real bytes aside) */
		note_out_of_window(f, d, p);
	} else {
		if (p->paylen)
			data_after_peer_fin(f, d, p);
		if (f->h[d].ack_pend) {
			/* a segment, FIN or RST that does not start the bytes
			 * the peer acknowledged proves them lost */
			uint32_t from = p->seq + ((p->flags & TCP_SYN) ? 1u : 0u);
			ack_gap_check(ft, f, d, from, from + p->wirelen, p->frame, p->ts_us);
		}
		if ((p->paylen || p->wirelen) && !f->h[d].done)
			segment(ft, f, d, p);
	}

	/* the peer acknowledges bytes we never saw: they are lost to us (the
	 * FIN's sequence number, when we saw the FIN, is not a byte); an
	 * acknowledgement of bytes the other side could not have sent yet is
	 * noted and ignored */
	if ((p->flags & TCP_ACK) && !f->h[1 - d].done && f->h[1 - d].have_seq) {
		const struct half *o = &f->h[1 - d];
		uint32_t upto = o->fin && seq_gt(p->ack, o->fin_seq) ? o->fin_seq : p->ack;
		if (ack_in_window(f, 1 - d, upto)) {
			ack_ahead(ft, f, 1 - d, upto, p->frame, p->ts_us);
		} else {
			note_out_of_window(f, d, p);
			sane = 0;
		}
	}
	if (sane)
		note_window(f, d, p);
	if ((p->flags & TCP_FIN) && !f->h[d].fin) {
		f->h[d].fin = 1;
		f->h[d].fin_ack = p->ack;
		f->h[d].have_fin_ack = !!(p->flags & TCP_ACK);
		f->h[d].fin_seq = p->seq + p->wirelen + ((p->flags & TCP_SYN) ? 1u : 0u);
	}
	if ((p->flags & TCP_FIN) && !s->at[HS_AT_FIN].frame)
		on_close(f, d, EV_FIN, HS_AT_FIN, p);
	if ((p->flags & TCP_RST) && !hs_at_frame(r, d, HS_AT_RST))
		on_close(f, d, EV_RST, HS_AT_RST, p);
	if (final)
		return;
	if ((r->d[0].at[HS_AT_FIN].frame && r->d[1].at[HS_AT_FIN].frame) || hs_at_frame(r, 0, HS_AT_RST) ||
	    hs_at_frame(r, 1, HS_AT_RST))
		mark_closing(ft, f);
	if (ft->lim.hs_timeout_us)
		early_check(ft, f, p->ts_us);
}

void flow_packet_hashed(struct flow_table *ft, const struct pkt *p, uint32_t hash)
{
	packet_body(ft, NULL, 0, p, 0, hash);
}



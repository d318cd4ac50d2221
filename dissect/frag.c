/*
 * frag.c - bounded IPv4 fragment reassembly (see frag.h).
 *
 *   IPv4 header:  ... | Identification (16) | flags (3) | fragment offset (13, x 8 bytes) | ...
 *                                            0 DF MF
 *   datagram key: source, destination, identification, protocol (RFC 791)
 *
 * Each datagram in reassembly has a buffer that grows to the highest byte
 * any fragment reaches (never past 65535 - 20) and a short list of the
 * byte ranges received. It is complete when the fragment without MF has
 * set the total length and the ranges cover [0, total). Overlaps are
 * allowed when the bytes agree (a retransmitted fragment); a difference
 * drops the datagram (RFC 5722 takes the same line for IPv6).
 *
 * Datagrams sit in a doubly linked list ordered by arrival of their first
 * fragment; timeouts are measured in packet time, checked on every call,
 * oldest first. Lookups go through a hash table of FRAG_BUCKETS chains
 * keyed with a random key per table (dissect/hash.h), so a fragment costs
 * O(1) whatever the datagrams in flight (issue 16: a walk of the list made
 * a fragment cost up to 1,024 comparisons, 6 us, with the table full).
 */
#include "dissect/frag.h"
#include "dissect/dbuf.h"
#include "dissect/hash.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/types.h>

#define FRAG_MAX_PAYLOAD (65535u - 20u)

struct range {
	uint32_t from, to;
};

#define FRAG_BUCKETS (2 * FRAG_MAX_DATAGRAMS)   /* a power of two */

struct dgram {
	struct dgram *next, *prev;   /* arrival order */
	struct dgram *hnext;         /* bucket chain */
	uint32_t bucket;
	uint8_t src[4], dst[4];
	uint16_t id;
	uint8_t proto;
	int64_t first_ts;
	uint32_t total;              /* 0 until the last fragment is seen */
	struct dbuf buf;             /* the payload, written at fragment offsets; max FRAG_MAX_PAYLOAD */
	uint32_t nr;
	struct range r[FRAG_MAX_PIECES];
};

struct frag_table {
	struct dgram *head, *tail;
	struct dgram *bucket[FRAG_BUCKETS];
	uint64_t key[2];
	uint32_t count;
	uint64_t bytes;
	uint8_t *done;               /* the last reassembled payload; owned */
	struct frag_stats st;
};

struct frag_table *frag_table_new(void)
{
	struct frag_table *t = calloc(1, sizeof(struct frag_table));
	if (t && getrandom(t->key, sizeof(t->key), GRND_NONBLOCK) != (ssize_t)sizeof(t->key)) {
		/* no entropy yet: ASLR bits, spread by splitmix64 */
		uint64_t x = (uint64_t)(uintptr_t)t ^ 0x85ebca6bu;
		t->key[0] = hash_splitmix64(&x);
		t->key[1] = hash_splitmix64(&x);
	}
	return t;
}

static uint32_t bucket_of(const struct frag_table *t, const uint8_t src[4], const uint8_t dst[4], uint16_t id,
			  uint8_t proto)
{
	uint64_t a = (uint64_t)src[0] << 24 | (uint64_t)src[1] << 16 | (uint64_t)src[2] << 8 | src[3];
	uint64_t b = (uint64_t)dst[0] << 24 | (uint64_t)dst[1] << 16 | (uint64_t)dst[2] << 8 | dst[3];
	uint64_t h = hash_mum(a << 32 ^ b ^ t->key[0], (uint64_t)id << 8 ^ proto ^ t->key[1]);
	return (uint32_t)(h ^ h >> 32) & (FRAG_BUCKETS - 1);
}

static void dgram_free(struct frag_table *t, struct dgram *g)
{
	t->bytes -= g->buf.cap;
	t->count--;
	dbuf_free(&g->buf);
	free(g);
}

/* Unlinks g from the arrival list and its bucket. */
static void unlink_dgram(struct frag_table *t, struct dgram *g)
{
	struct dgram **pp = &t->bucket[g->bucket];
	if (g->prev)
		g->prev->next = g->next;
	else
		t->head = g->next;
	if (g->next)
		g->next->prev = g->prev;
	else
		t->tail = g->prev;
	while (*pp && *pp != g)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = g->hnext;
}

static void drop_oldest(struct frag_table *t)
{
	struct dgram *g = t->head;
	if (!g)
		return;
	unlink_dgram(t, g);
	t->st.dropped++;
	dgram_free(t, g);
}

void frag_flush(struct frag_table *t)
{
	while (t->head)
		drop_oldest(t);
}

void frag_table_free(struct frag_table *t)
{
	if (!t)
		return;
	frag_flush(t);
	free(t->done);
	free(t);
}

const struct frag_stats *frag_table_stats(const struct frag_table *t)
{
	return &t->st;
}

static void expire(struct frag_table *t, int64_t now)
{
	while (t->head && t->head->first_ts + FRAG_TIMEOUT_US < now) {
		t->st.timeouts++;
		drop_oldest(t);
	}
}

static struct dgram *find(struct frag_table *t, const struct frag_in *f, uint32_t h)
{
	struct dgram *g;
	for (g = t->bucket[h]; g; g = g->hnext)
		if (g->id == f->id && g->proto == f->proto && !memcmp(g->src, f->src, 4) &&
		    !memcmp(g->dst, f->dst, 4))
			return g;
	return NULL;
}

/* 1 when the ranges cover [0, total). Ranges are kept sorted and merged. */
static int covered(const struct dgram *g)
{
	return g->total && g->nr == 1 && g->r[0].from == 0 && g->r[0].to >= g->total;
}

/* Adds [from, to) to the sorted, merged range list; -1 when the list is full. */
static int add_range(struct dgram *g, uint32_t from, uint32_t to)
{
	uint32_t i = 0, j;
	while (i < g->nr && g->r[i].to < from)
		i++;
	j = i;
	while (j < g->nr && g->r[j].from <= to) {
		if (g->r[j].from < from)
			from = g->r[j].from;
		if (g->r[j].to > to)
			to = g->r[j].to;
		j++;
	}
	if (j == i) {
		/* no merge: insert at i */
		if (g->nr >= FRAG_MAX_PIECES)
			return -1;
		memmove(&g->r[i + 1], &g->r[i], (g->nr - i) * sizeof(g->r[0]));
		g->nr++;
	} else if (j > i + 1) {
		memmove(&g->r[i + 1], &g->r[j], (g->nr - j) * sizeof(g->r[0]));
		g->nr -= j - i - 1;
	}
	g->r[i].from = from;
	g->r[i].to = to;
	return 0;
}

/* 1 when bytes already received inside [from, from + len) differ from p. */
static int conflicts(const struct dgram *g, uint32_t from, const uint8_t *p, uint32_t len)
{
	uint32_t i, to = from + len;
	for (i = 0; i < g->nr; i++) {
		uint32_t a = g->r[i].from > from ? g->r[i].from : from;
		uint32_t b = g->r[i].to < to ? g->r[i].to : to;
		if (a < b && memcmp(g->buf.p + a, p + (a - from), b - a) != 0)
			return 1;
	}
	return 0;
}

static void give_up(struct frag_table *t, struct dgram *g)
{
	unlink_dgram(t, g);
	t->st.dropped++;
	dgram_free(t, g);
}

const uint8_t *frag_add(struct frag_table *t, const struct frag_in *f, uint32_t *len)
{
	struct dgram *g;
	uint32_t end = (uint32_t)f->offset + f->len;
	uint32_t h = bucket_of(t, f->src, f->dst, f->id, f->proto);
	t->st.fragments++;
	expire(t, f->ts_us);
	g = find(t, f, h);
	if (!g) {
		if (t->count >= FRAG_MAX_DATAGRAMS)
			drop_oldest(t);
		g = calloc(1, sizeof(*g));
		if (!g)
			return NULL;
		memcpy(g->src, f->src, 4);
		memcpy(g->dst, f->dst, 4);
		g->id = f->id;
		g->proto = f->proto;
		g->first_ts = f->ts_us;
		dbuf_init(&g->buf, 2048, FRAG_MAX_PAYLOAD);
		g->prev = t->tail;
		if (t->tail)
			t->tail->next = g;
		else
			t->head = g;
		t->tail = g;
		g->bucket = h;
		g->hnext = t->bucket[h];
		t->bucket[h] = g;
		t->count++;
	}
	/* the snaplen cut this fragment, or it reaches past any IPv4 datagram */
	if (f->have < f->len || end > FRAG_MAX_PAYLOAD ||
	    (!f->more && g->total && g->total != end) || (g->total && end > g->total) ||
	    (!f->more && end < (g->nr ? g->r[g->nr - 1].to : 0))) {
		give_up(t, g);
		return NULL;
	}
	if (end > g->buf.cap) {
		/* end <= FRAG_MAX_PAYLOAD (checked above), so the plan is not 0 */
		size_t old = g->buf.cap, nc = dbuf_plan(&g->buf, end);
		if (t->bytes + (nc - old) > FRAG_MAX_BYTES || dbuf_grow(&g->buf, end)) {
			give_up(t, g);
			return NULL;
		}
		t->bytes += nc - old;
	}
	if (conflicts(g, f->offset, f->data, f->len)) {
		t->st.conflicts++;
		give_up(t, g);
		return NULL;
	}
	if (f->len) {
		memcpy(g->buf.p + f->offset, f->data, f->len);
		if (add_range(g, f->offset, end) < 0) {
			give_up(t, g);
			return NULL;
		}
	}
	if (!f->more)
		g->total = end;
	if (!covered(g))
		return NULL;
	/* complete: keep its bytes until the next call */
	free(t->done);
	t->bytes -= g->buf.cap;
	t->done = dbuf_take(&g->buf);
	*len = g->total;
	unlink_dgram(t, g);
	t->count--;
	free(g);
	t->st.reassembled++;
	return t->done;
}

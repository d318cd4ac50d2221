/*
 * record.c - the handshake record's life cycle, its ladder of events, and
 * the stage decision.
 *
 * The stage is decided once, from facts only, in record_finish(). The
 * order of the tests below is the order of progress: a connection that got
 * further is described by how it got further.
 */
#include "dissect/record.h"
#include "dissect/names.h"

#include <stdlib.h>
#include <string.h>

static const char *const stage_names[STAGE__COUNT] = {
	[STAGE_NO_SYNACK] = "no_synack",
	[STAGE_REFUSED] = "refused",
	[STAGE_NO_CLIENT_HELLO] = "no_client_hello",
	[STAGE_CH_UNANSWERED] = "client_hello_unanswered",
	[STAGE_NON_TLS_ANSWER] = "non_tls_answer",
	[STAGE_ALERT] = "alert",
	[STAGE_CLOSED_BY_PEER] = "closed_by_peer",
	[STAGE_CAPTURE_ENDED] = "capture_ended",
	[STAGE_COMPLETE] = "complete",
	[STAGE_COMPLETE_CLOSED] = "complete_closed",
};

const char *hs_stage_name(enum hs_stage s)
{
	return (unsigned)s < STAGE__COUNT ? stage_names[s] : "unknown";
}

int hs_stage_from_name(const char *s)
{
	int i;
	for (i = 0; i < STAGE__COUNT; i++)
		if (strcmp(stage_names[i], s) == 0)
			return i;
	return -1;
}

const char *hs_role_by_name(enum hs_role_by r)
{
	switch (r) {
	case ROLE_UNKNOWN: return "unknown";
	case ROLE_SYN: return "syn";
	case ROLE_SYNACK: return "synack";
	case ROLE_CLIENT_HELLO: return "client_hello";
	case ROLE_SERVER_HELLO: return "server_hello";
	case ROLE_PORT_GUESS: return "port_guess";
	}
	return "unknown";
}

const char *hs_ev_kind_name(enum hs_ev_kind k)
{
	switch (k) {
	case EV_SYN: return "syn";
	case EV_SYNACK: return "synack";
	case EV_FIN: return "fin";
	case EV_RST: return "rst";
	case EV_HANDSHAKE: return "handshake";
	case EV_ENC_HANDSHAKE: return "encrypted_handshake";
	case EV_CCS: return "change_cipher_spec";
	case EV_ALERT: return "alert";
	case EV_APPDATA: return "application_data";
	case EV_HEARTBEAT: return "heartbeat";
	case EV_SSLV2: return "sslv2";
	case EV_NON_TLS: return "non_tls";
	case EV_GAP: return "gap";
	case EV__COUNT: break;
	}
	return "unknown";
}

const char *hs_anomaly_name(enum hs_anomaly a)
{
	switch (a) {
	case AN_TRUNCATED_PACKET: return "truncated_packet";
	case AN_GAP: return "gap";
	case AN_RETRANSMISSION: return "retransmission";
	case AN_OUT_OF_ORDER: return "out_of_order";
	case AN_OVERLAP_CONFLICT: return "overlap_conflict";
	case AN_MIDSTREAM: return "midstream";
	case AN_CAP_SEGMENTS: return "cap_segments";
	case AN_CAP_BYTES: return "cap_bytes";
	case AN_TLS_MALFORMED: return "tls_malformed";
	case AN_TLS_TRUNCATED: return "tls_truncated";
	case AN_CERT_MALFORMED: return "cert_malformed";
	case AN_LISTS_CLIPPED: return "lists_clipped";
	case AN_HS_TOO_LONG: return "handshake_too_long";
	case AN_EVENTS_CLIPPED: return "events_clipped";
	case AN_EVICTED: return "evicted";
	case AN_CERT_UNVERIFIED: return "cert_unverified";
	case AN_OUT_OF_WINDOW: return "out_of_window";
	case AN_BAD_CHECKSUM: return "bad_checksum";
	}
	return "unknown";
}

/* A direction's first plaintext bytes (hs_dir.pre points at b) and when
 * the first of them came: kept here, not in every record's two hs_dir,
 * since few streams have any (issue 19). */
struct pre_block {
	uint8_t b[HS_NONTLS_BYTES];
	uint64_t frame;
	int64_t ts_us;
};

/* What `pre` and `nontls` point at until their first byte: read as empty
 * (their lengths are 0; a pre_block's frame and time 0), never written,
 * never freed. */
static _Alignas(struct pre_block) uint8_t no_bytes[sizeof(struct pre_block)];

const struct hs_rare hs_no_rare = {
	.d = { { .pre = no_bytes }, { .pre = no_bytes } },
	.nontls = no_bytes,
};

struct hs_rare *record_rare(struct hs_record *r)
{
	if (!r->rare) {
		struct hs_rare *x = calloc(1, sizeof(*x));
		if (!x)
			return NULL;
		x->d[0].pre = x->d[1].pre = x->nontls = no_bytes;
		r->rare = x;
	}
	return r->rare;
}

static void bytes_free(uint8_t *p)
{
	if (p != no_bytes)
		free(p);
}

/* ---- per-thread free lists ---------------------------------------------
 * A capture makes and frees the same few objects for every connection; the
 * big ones (a record, a ClientHello) are past glibc's per-thread cache and
 * cost a trip through the arena each time (bench/RESULTS.md). Each thread
 * keeps up to POOL_MAX freed objects of each kind and hands them out
 * zeroed. Memory is bounded (POOL_MAX objects per kind and thread); an
 * object freed on another thread simply lands in that thread's lists. */
enum { PK_RECORD, PK_CH, PK_SH, PK_EV, PK__N };
#define POOL_MAX 256u
#define EV_FIRST 8u    /* a first event array holds this many (pooled): a handshake under way rarely needs more (issue 19) */

/* A hello at full capacity, as the parser fills it: the structure, then
 * its lists (a ClientHello's `lists` block starts at suites[]; a
 * ServerHello's pointers point here). Only these are pooled:
 * a kept hello is one plain allocation of its real size. */
struct ch_full {
	struct hs_client_hello h;
	uint16_t suites[HS_MAX_SUITES];
	uint16_t ext_type[HS_MAX_EXTS], ext_len[HS_MAX_EXTS];
	uint16_t alpn_off[HS_MAX_ALPN];
	uint16_t groups[HS_MAX_GROUPS];
	uint16_t sigalgs[HS_MAX_SIGALGS], sigalgs_cert[HS_MAX_SIGALGS];
	uint16_t versions[HS_MAX_VERSIONS];
	uint16_t key_share[HS_MAX_SMALL], key_share_len[HS_MAX_SMALL];
	uint8_t comp[HS_MAX_SMALL], ecpf[HS_MAX_SMALL], psk_modes[HS_MAX_SMALL];
	uint8_t sni[HS_SNI_BYTES];
	uint8_t alpn[HS_ALPN_BYTES];
};

struct sh_full {
	struct hs_server_hello h;
	uint16_t ext_type[HS_MAX_EXTS], ext_len[HS_MAX_EXTS];
	uint8_t alpn[HS_SH_ALPN_BYTES];
};

static const size_t pool_size[PK__N] = {
	sizeof(struct hs_record), sizeof(struct ch_full), sizeof(struct sh_full),
	EV_FIRST * sizeof(struct hs_ev_packed),
};
/* What a reused object gets zeroed: all of it, but a hello's lists, which
 * the parser writes before anything reads them and every reader reads
 * only up to their counts (the compact copy keeps no more: record_keep_*),
 * so a ClientHello costs 192 bytes of memset, not 2,800 (issue 19). */
static const size_t pool_zero[PK__N] = {
	sizeof(struct hs_record), sizeof(struct hs_client_hello), sizeof(struct hs_server_hello),
	EV_FIRST * sizeof(struct hs_ev_packed),
};

struct pool {
	void *head;
	unsigned n;
};

static _Thread_local struct pool pools[PK__N];

static void *pool_get(int k)
{
	struct pool *p = &pools[k];
	void *o = p->head;
	if (!o)
		return calloc(1, pool_size[k]);
	memcpy(&p->head, o, sizeof(void *));
	p->n--;
	memset(o, 0, pool_zero[k]);
	return o;
}

static void pool_put(int k, void *o)
{
	struct pool *p = &pools[k];
	if (!o)
		return;
	if (p->n >= POOL_MAX) {
		free(o);
		return;
	}
	memcpy(o, &p->head, sizeof(void *));
	p->head = o;
	p->n++;
}

void record_pools_free(void)
{
	int k;
	for (k = 0; k < PK__N; k++) {
		while (pools[k].head) {
			void *o = pools[k].head;
			memcpy(&pools[k].head, o, sizeof(void *));
			free(o);
		}
		pools[k].n = 0;
	}
}

struct hs_client_hello *record_new_client_hello(void)
{
	struct ch_full *f = pool_get(PK_CH);
	if (!f)
		return NULL;
	f->h.lists = (uint8_t *)f->suites;
#define P(x) f->h.o_##x = (uint16_t)(offsetof(struct ch_full, x) - offsetof(struct ch_full, suites))
	P(suites); P(ext_type); P(ext_len); P(alpn_off); P(groups); P(sigalgs); P(sigalgs_cert);
	P(versions); P(key_share); P(key_share_len); P(comp); P(ecpf); P(psk_modes); P(sni); P(alpn);
#undef P
	return &f->h;
}

struct hs_server_hello *record_new_server_hello(void)
{
	struct sh_full *f = pool_get(PK_SH);
	if (!f)
		return NULL;
	f->h.ext_type = f->ext_type;
	f->h.ext_len = f->ext_len;
	f->h.alpn = f->alpn;
	return &f->h;
}

void record_free_client_hello(struct hs_client_hello *ch)
{
	if (ch && ch->compact)
		free(ch);
	else
		pool_put(PK_CH, ch);
}

void record_free_server_hello(struct hs_server_hello *sh)
{
	if (sh && sh->compact)
		free(sh);
	else
		pool_put(PK_SH, sh);
}

static size_t at_most(size_t n, size_t cap)
{
	return n < cap ? n : cap;
}

/* Moves list `f` of `n` entries (at most `cap`) to `*w` and points `k`'s
 * copy there. */
#define TAKE(k, f, x, n, cap, w) do { \
		size_t n_ = at_most((n), (cap)); \
		(k)->x = (w); \
		memcpy((w), (f)->x, n_ * sizeof(*(w))); \
		(w) += n_; \
	} while (0)
/* The same for a ClientHello's list: its offset in k's block. */
#define TAKE_CH(k, f, x, n, cap, w) do { \
		size_t n_ = at_most((n), (cap)); \
		(k)->o_##x = (uint16_t)((uint8_t *)(w) - (k)->lists); \
		memcpy((w), hs_ch_##x(f), n_ * sizeof(*(w))); \
		(w) += n_; \
	} while (0)

struct hs_client_hello *record_keep_client_hello(struct hs_client_hello *f)
{
	struct hs_client_hello *k;
	uint16_t *w;
	uint8_t *b;
	size_t n16, n8;
	if (!f || f->compact)
		return f;
	n16 = at_most(f->n_suites, HS_MAX_SUITES) + 2 * at_most(f->n_exts, HS_MAX_EXTS) +
	      at_most(f->n_alpn, HS_MAX_ALPN) + at_most(f->n_groups, HS_MAX_GROUPS) +
	      at_most(f->n_sigalgs, HS_MAX_SIGALGS) + at_most(f->n_sigalgs_cert, HS_MAX_SIGALGS) +
	      at_most(f->n_versions, HS_MAX_VERSIONS) + 2 * at_most(f->n_key_share, HS_MAX_SMALL);
	n8 = at_most(f->n_comp, HS_MAX_SMALL) + at_most(f->n_ecpf, HS_MAX_SMALL) +
	     at_most(f->n_psk_modes, HS_MAX_SMALL) + at_most(f->sni_len, HS_SNI_BYTES) +
	     at_most(f->alpn_bytes, HS_ALPN_BYTES);
	k = malloc(sizeof(*k) + n16 * sizeof(uint16_t) + n8);
	if (!k)
		return f;
	*k = *f;
	k->lists = (uint8_t *)(k + 1);
	w = (uint16_t *)(void *)k->lists;
	TAKE_CH(k, f, suites, f->n_suites, HS_MAX_SUITES, w);
	TAKE_CH(k, f, ext_type, f->n_exts, HS_MAX_EXTS, w);
	TAKE_CH(k, f, ext_len, f->n_exts, HS_MAX_EXTS, w);
	TAKE_CH(k, f, alpn_off, f->n_alpn, HS_MAX_ALPN, w);
	TAKE_CH(k, f, groups, f->n_groups, HS_MAX_GROUPS, w);
	TAKE_CH(k, f, sigalgs, f->n_sigalgs, HS_MAX_SIGALGS, w);
	TAKE_CH(k, f, sigalgs_cert, f->n_sigalgs_cert, HS_MAX_SIGALGS, w);
	TAKE_CH(k, f, versions, f->n_versions, HS_MAX_VERSIONS, w);
	TAKE_CH(k, f, key_share, f->n_key_share, HS_MAX_SMALL, w);
	TAKE_CH(k, f, key_share_len, f->n_key_share, HS_MAX_SMALL, w);
	b = (uint8_t *)w;
	TAKE_CH(k, f, comp, f->n_comp, HS_MAX_SMALL, b);
	TAKE_CH(k, f, ecpf, f->n_ecpf, HS_MAX_SMALL, b);
	TAKE_CH(k, f, psk_modes, f->n_psk_modes, HS_MAX_SMALL, b);
	TAKE_CH(k, f, sni, f->sni_len, HS_SNI_BYTES, b);
	TAKE_CH(k, f, alpn, f->alpn_bytes, HS_ALPN_BYTES, b);
	k->compact = 1;
	record_free_client_hello(f);
	return k;
}

struct hs_server_hello *record_keep_server_hello(struct hs_server_hello *f)
{
	struct hs_server_hello *k;
	uint16_t *w;
	uint8_t *b;
	size_t ne, na;
	if (!f || f->compact)
		return f;
	ne = at_most(f->n_exts, HS_MAX_EXTS);
	na = at_most(f->alpn_len, HS_SH_ALPN_BYTES);
	k = malloc(sizeof(*k) + 2 * ne * sizeof(uint16_t) + na);
	if (!k)
		return f;
	*k = *f;
	w = (uint16_t *)(k + 1);
	TAKE(k, f, ext_type, f->n_exts, HS_MAX_EXTS, w);
	TAKE(k, f, ext_len, f->n_exts, HS_MAX_EXTS, w);
	b = (uint8_t *)w;
	TAKE(k, f, alpn, f->alpn_len, HS_SH_ALPN_BYTES, b);
	k->compact = 1;
	record_free_server_hello(f);
	return k;
}
#undef TAKE
#undef TAKE_CH

struct hs_record *record_new(uint64_t id)
{
	struct hs_record *r = pool_get(PK_RECORD);
	if (!r)
		return NULL;
	r->id = id;
	r->closed_by = 255;
	r->nontls_dir = 255;
	return r;
}

void record_free(struct hs_record *r)
{
	if (!r)
		return;
	record_free_client_hello(r->ch);
	record_free_server_hello(r->sh);
	if (r->cap_events == EV_FIRST && !r->ev_wide)
		pool_put(PK_EV, r->ev);
	else
		free(r->ev);
	free(r->server_chain.c);
	free(r->alerts);
	if (r->rare) {
		struct hs_rare *x = r->rare;
		record_free_client_hello(x->ch2);
		record_free_server_hello(x->hrr);
		free(x->client_chain.c);
		free(x->dec);
		free(x->steer);
		free(x->at_wide);
		free(x->d[0].encap);
		free(x->d[1].encap);
		bytes_free(x->d[0].pre);
		bytes_free(x->d[1].pre);
		bytes_free(x->nontls);
		free(x);
	}
	pool_put(PK_RECORD, r);
}

_Static_assert(HS_MAX_CERTS <= UINT8_MAX, "struct hs_chain counts certificates in 8 bits");

struct hs_cert *record_chain_certs(struct hs_chain *ch, uint32_t want)
{
	if (!ch->c) {
		/* the message's count, not the cap: a chain is 2 or 3 as a rule */
		size_t n = want < 1 ? 1 : want > HS_MAX_CERTS ? HS_MAX_CERTS : want;
		ch->c = calloc(n, sizeof(*ch->c));
		ch->cap = ch->c ? (uint8_t)n : 0;
	}
	return ch->c;
}

/* The packed ladder's entries */
static struct hs_ev_packed *ev_packed(const struct hs_record *r)
{
	return (struct hs_ev_packed *)r->ev;
}

/* Room for `cap` events in the current form */
static size_t ev_bytes(const struct hs_record *r, size_t cap)
{
	return cap * (r->ev_wide ? sizeof(struct hs_event) : sizeof(struct hs_ev_packed));
}

/* Gives back an event array of `cap` entries in the current form */
static void ev_free(const struct hs_record *r, void *ev, uint16_t cap)
{
	if (cap == EV_FIRST && !r->ev_wide)
		pool_put(PK_EV, ev);
	else
		free(ev);
}

/* Turns the packed ladder into struct hs_event entries (room for `cap`);
 * 0 when memory runs out (the ladder is then as it was). */
static int ev_widen(struct hs_record *r, uint16_t cap)
{
	struct hs_event *w = malloc(cap * sizeof(*w));
	uint16_t i;
	if (!w)
		return 0;
	for (i = 0; i < r->n_events; i++)
		w[i] = hs_ev(r, i);
	ev_free(r, r->ev, r->cap_events);
	r->ev = w;
	r->ev_wide = 1;
	r->cap_events = cap;
	return 1;
}

/* Room for one more event (n_events == cap_events): the first block from
 * the pool, then doubling; 0 when memory runs out. Out of line: the
 * common call of record_event() does not grow. */
static __attribute__((noinline)) int ev_grow(struct hs_record *r)
{
	uint16_t cap = r->cap_events ? (uint16_t)(r->cap_events * 2) : EV_FIRST;
	void *nv;
	if (cap > HS_MAX_EVENTS)
		cap = HS_MAX_EVENTS;
	if (!r->cap_events) {
		nv = pool_get(PK_EV);
	} else if (r->cap_events == EV_FIRST && !r->ev_wide) {
		/* out of the pool's size: a plain allocation from here on */
		nv = malloc(ev_bytes(r, cap));
		if (nv) {
			memcpy(nv, r->ev, ev_bytes(r, r->cap_events));
			pool_put(PK_EV, r->ev);
		}
	} else {
		nv = realloc(r->ev, ev_bytes(r, cap));
	}
	if (!nv)
		return 0;
	r->ev = nv;
	r->cap_events = cap;
	return 1;
}

/* The wide form's event (after ev_widen()). */
static __attribute__((noinline)) void ev_put_wide(struct hs_record *r, uint8_t dir, enum hs_ev_kind k,
						  uint64_t frame, int64_t ts_us, uint8_t hs_type, uint32_t len)
{
	struct hs_event *e = (struct hs_event *)r->ev + r->n_events++;
	e->frame = frame;
	e->ts_us = ts_us;
	e->dir = dir;
	e->kind = (uint8_t)k;
	e->hs_type = hs_type;
	e->aux = 0;
	e->len = len;
}

int record_event_slow(struct hs_record *r, uint8_t dir, enum hs_ev_kind k,
		      uint64_t frame, int64_t ts_us, uint8_t hs_type, uint32_t len)
{
	if (r->total_events < UINT32_MAX)
		r->total_events++;
	if (r->n_events >= HS_MAX_EVENTS || (r->n_events == r->cap_events && !ev_grow(r))) {
		r->anomalies |= AN_EVENTS_CLIPPED;
		return 0;
	}
	if (!r->ev_wide) {
		/* both offsets in 32 bits (modulo 2^64, as record_event() in
		 * record.h), or the wide form: never a wrong value */
		uint64_t df = frame - r->first_frame;
		uint64_t dt = (uint64_t)ts_us - (uint64_t)r->first_ts_us;
		if ((df | (dt + 0x80000000u)) >> 32 == 0) {
			struct hs_ev_packed *e = ev_packed(r) + r->n_events++;
			e->frame = (uint32_t)df;
			e->ts_us = (int32_t)(uint32_t)dt;
			e->dir = dir;
			e->kind = (uint8_t)k;
			e->hs_type = hs_type;
			e->aux = 0;
			e->len = len;
			return 1;
		}
		if (!ev_widen(r, r->cap_events)) {
			r->anomalies |= AN_EVENTS_CLIPPED;
			return 0;
		}
	}
	ev_put_wide(r, dir, k, frame, ts_us, hs_type, len);
	return 1;
}

void record_event_aux(struct hs_record *r, uint8_t aux)
{
	if (!r->n_events)
		return;
	if (r->ev_wide)
		((struct hs_event *)r->ev)[r->n_events - 1].aux = aux;
	else
		ev_packed(r)[r->n_events - 1].aux = aux;
}

static uint8_t flip(uint8_t d)
{
	return d <= 1 ? (uint8_t)(1 - d) : d;
}

int record_at_wide(struct hs_record *r, struct hs_at *a, unsigned slot, uint64_t frame, int64_t ts_us)
{
	struct hs_rare *x = record_rare(r);
	if (x && !x->at_wide)
		x->at_wide = calloc(1, sizeof(*x->at_wide));
	if (!x || !x->at_wide) {
		a->frame = 0;
		a->ts = 0;
		return 0;
	}
	x->at_wide->frame[slot] = frame;
	x->at_wide->ts_us[slot] = ts_us;
	a->frame = HS_AT_WIDE;
	a->ts = 0;
	return 1;
}

struct hs_at *record_at_rare(struct hs_record *r, int dir, enum hs_at_kind k)
{
	struct hs_rare *x = record_rare(r);
	return x ? &x->at[dir][k - HS_AT_KEPT] : NULL;
}

struct hs_at *record_rat_rare(struct hs_record *r, enum hs_rat_kind k)
{
	struct hs_rare *x = record_rare(r);
	return x ? &x->rat[k - HS_RAT_KEPT] : NULL;
}

struct hs_steer *record_steer(struct hs_record *r)
{
	struct hs_rare *x = record_rare(r);
	if (x && !x->steer)
		x->steer = calloc(1, sizeof(*x->steer));
	return x ? x->steer : NULL;
}

static uint8_t *bytes_of(uint8_t **p, size_t size)
{
	if (*p == no_bytes || !*p) {
		uint8_t *n = calloc(1, size);
		if (!n)
			return NULL;
		*p = n;
	}
	return *p;
}

uint8_t *record_pre(struct hs_record *r, int dir)
{
	struct hs_rare *x = record_rare(r);
	return x ? bytes_of(&x->d[dir].pre, sizeof(struct pre_block)) : NULL;
}

/* pre points at the b[] that opens a pre_block (or at no_bytes, as big) */
static struct pre_block *pre_of(const struct hs_record *r, int dir)
{
	return (struct pre_block *)(void *)hs_rare(r)->d[dir].pre;
}

void record_pre_at(struct hs_record *r, int dir, uint64_t frame, int64_t ts_us)
{
	if (!r->rare || r->rare->d[dir].pre == no_bytes || !r->rare->d[dir].pre)
		return;
	pre_of(r, dir)->frame = frame;
	pre_of(r, dir)->ts_us = ts_us;
}

uint64_t record_pre_frame(const struct hs_record *r, int dir)
{
	return hs_rare(r)->d[dir].pre ? pre_of(r, dir)->frame : 0;
}

int64_t record_pre_ts(const struct hs_record *r, int dir)
{
	return hs_rare(r)->d[dir].pre ? pre_of(r, dir)->ts_us : 0;
}

uint8_t *record_nontls(struct hs_record *r)
{
	struct hs_rare *x = record_rare(r);
	return x ? bytes_of(&x->nontls, HS_NONTLS_BYTES) : NULL;
}

struct hs_alert *record_alerts(struct hs_record *r)
{
	if (!r->alerts)
		r->alerts = calloc(HS_MAX_ALERTS, sizeof(*r->alerts));
	return r->alerts;
}

struct hs_encap *record_encap(struct hs_record *r, int dir)
{
	struct hs_rare *x = record_rare(r);
	if (x && !x->d[dir].encap)
		x->d[dir].encap = calloc(1, sizeof(*x->d[dir].encap));
	return x ? x->d[dir].encap : NULL;
}

#define SWAP2(a) do { __typeof__((a)[0]) t_ = (a)[0]; (a)[0] = (a)[1]; (a)[1] = t_; } while (0)

void record_swap_dirs(struct hs_record *r)
{
	struct hs_addr a = r->cli;
	struct hs_dir d = r->d[0];   /* every per-direction fact: one swap (and the rare part's) */
	struct hs_rare *rr = r->rare;
	uint16_t i;
	r->cli = r->srv;
	r->srv = a;
	r->d[0] = r->d[1];
	r->d[1] = d;
	if (rr) {
		struct hs_rare_dir t = rr->d[0];
		struct hs_at at[HS_AT__N - HS_AT_KEPT];
		rr->d[0] = rr->d[1];
		rr->d[1] = t;
		memcpy(at, rr->at[0], sizeof(at));
		memcpy(rr->at[0], rr->at[1], sizeof(at));
		memcpy(rr->at[1], at, sizeof(at));
	}
	for (i = 0; i < r->n_events; i++) {
		if (r->ev_wide)
			((struct hs_event *)r->ev)[i].dir = flip(((struct hs_event *)r->ev)[i].dir);
		else
			ev_packed(r)[i].dir = flip(ev_packed(r)[i].dir);
	}
	for (i = 0; i < r->n_alerts; i++)
		r->alerts[i].dir = flip(r->alerts[i].dir);
	r->closed_by = flip(r->closed_by);
	r->nontls_dir = flip(r->nontls_dir);
	if (rr && rr->at_wide) {
		struct hs_at_wide w = *rr->at_wide;
		int k;
		for (k = 0; k < HS_AT__N; k++) {   /* the directions' slots; the record's stay */
			rr->at_wide->frame[k] = w.frame[HS_AT__N + k];
			rr->at_wide->frame[HS_AT__N + k] = w.frame[k];
			rr->at_wide->ts_us[k] = w.ts_us[HS_AT__N + k];
			rr->at_wide->ts_us[HS_AT__N + k] = w.ts_us[k];
		}
	}
	if (rr && rr->steer) {
		struct hs_steer *x = rr->steer;
		SWAP2(x->conflict_frame);
		SWAP2(x->out_of_window_frame);
		SWAP2(x->bad_checksum_frame);
		SWAP2(x->out_of_window);
		SWAP2(x->bad_checksums);
		SWAP2(x->bad_checksum_data);
		SWAP2(x->bad_checksum_gap_bytes);
	}
	if (rr && rr->dec) {
		struct hs_decrypted *x = rr->dec, y = *x;
		int k;
		for (k = 0; k < 2; k++) {
			x->keyed[k] = y.keyed[1 - k];
			x->records_ok[k] = y.records_ok[1 - k];
			x->records_failed[k] = y.records_failed[1 - k];
			x->first_error[k] = y.first_error[1 - k];
			x->n_hs[k] = y.n_hs[1 - k];
			x->total_hs[k] = y.total_hs[1 - k];
			memcpy(x->hs_types[k], y.hs_types[1 - k], HS_DEC_TYPES);
			x->first_len[k] = y.first_len[1 - k];
			memcpy(x->first[k], y.first[1 - k], HS_DEC_FIRST);
			x->first_frame[k] = y.first_frame[1 - k];
		}
	}
}

int hs_alert_ends_handshake(const struct hs_alert *a)
{
	return a->encrypted || a->level != ALERT_LEVEL_WARNING ||
	       (a->description != ALERT_CLOSE_NOTIFY && a->description != ALERT_USER_CANCELED &&
		a->description != ALERT_NO_RENEGOTIATION);
}

uint16_t hs_max_offered(const struct hs_client_hello *c)
{
	uint16_t i, v, m = 0;
	if (c->has_supported_versions)
		for (i = 0; i < c->n_versions; i++) {
			v = hs_ch_versions(c)[i];
			if (names_is_grease(v))
				continue;
			if ((v & VER_TLS13_DRAFT_MASK) == VER_TLS13_DRAFT)    /* a TLS 1.3 draft */
				v = VER_TLS13;
			if (v > m)
				m = v;
		}
	return m ? m : c->legacy_version;
}

void record_derive(struct hs_record *r)
{
	uint16_t i;
	if (r->ch)
		r->ch->max_offered = hs_max_offered(r->ch);
	if (hs_rare(r)->ch2)
		hs_rare(r)->ch2->max_offered = hs_max_offered(hs_rare(r)->ch2);
	r->ending_alert = 255;
	for (i = 0; i < r->n_alerts && i < 255; i++)
		if (hs_alert_ends_handshake(&r->alerts[i])) {
			r->ending_alert = (uint8_t)i;
			break;
		}
}

/*
 * The stage, from the facts, in order of progress:
 *   complete (then closed or not); refused / no SYN-ACK; no ClientHello;
 *   a non-TLS answer; an alert - unless the server had already closed, in
 *   which case the client's alert is a reaction and the close is the story;
 *   a ClientHello that got nothing back (the server closed: closed_by_peer;
 *   else unanswered); closed by someone mid-handshake; capture ended.
 */
void record_finish(struct hs_record *r, int64_t capture_end_us)
{
	const struct hs_dir *c = &r->d[DIR_C2S], *s = &r->d[DIR_S2C];
	uint64_t c_fin = hs_at_frame(r, DIR_C2S, HS_AT_FIN), c_rst = hs_at_frame(r, DIR_C2S, HS_AT_RST);
	uint64_t s_fin = hs_at_frame(r, DIR_S2C, HS_AT_FIN), s_rst = hs_at_frame(r, DIR_S2C, HS_AT_RST);
	int closed = c_fin || c_rst || s_fin || s_rst;
	uint64_t alert;
	record_derive(r);
	alert = r->ending_alert != 255 ? r->alerts[r->ending_alert].frame : 0;
	r->judged_us = capture_end_us > hs_last_ts(r) ? capture_end_us : hs_last_ts(r);

	if (r->complete) {
		r->stage = closed ? STAGE_COMPLETE_CLOSED : STAGE_COMPLETE;
		return;
	}
	if (hs_at_frame(r, DIR_C2S, HS_AT_SYN) && !hs_at_frame(r, DIR_S2C, HS_AT_SYN) && !s->payload_bytes &&
	    !c->payload_bytes) {
		r->stage = s_rst ? STAGE_REFUSED : STAGE_NO_SYNACK;
		return;
	}
	if (!r->ch && !c->tls) {
		r->stage = STAGE_NO_CLIENT_HELLO;
		return;
	}
	if (r->nontls_dir == DIR_S2C) {
		r->stage = STAGE_NON_TLS_ANSWER;
		return;
	}
	if (alert) {
		uint64_t sclose = s_fin && s_rst ? (s_fin < s_rst ? s_fin : s_rst) : (s_fin ? s_fin : s_rst);
		if (r->closed_by == DIR_S2C && sclose && sclose < alert && !r->alerts[r->ending_alert].before_close)
			r->stage = STAGE_CLOSED_BY_PEER;
		else
			r->stage = STAGE_ALERT;
		return;
	}
	if (!s->payload_bytes && !r->sh) {
		/* nothing came back: the server closed, or it stayed silent
		 * (perhaps until the client gave up, which closed_by tells) */
		r->stage = (s_fin || s_rst) ? STAGE_CLOSED_BY_PEER : STAGE_CH_UNANSWERED;
		return;
	}
	r->stage = closed ? STAGE_CLOSED_BY_PEER : STAGE_CAPTURE_ENDED;
}

int record_proxy_header(const struct hs_record *r)
{
	/* HAProxy's proxy-protocol.txt: v1 is the text "PROXY ", v2 a 12-byte signature */
	static const uint8_t v2[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a };
	const uint8_t *p = hs_rare(r)->d[DIR_C2S].pre;
	uint16_t n = hs_rare(r)->d[DIR_C2S].pre_len;
	if (n >= 6 && !memcmp(p, "PROXY ", 6))
		return 1;
	if (n >= 12 && !memcmp(p, v2, 12))
		return 2;
	return 0;
}

int record_http_request(const struct hs_record *r)
{
	static const char *const methods[] = { "GET ", "POST ", "HEAD ", "PUT ", "DELETE ", "OPTIONS ",
					       "PATCH ", "CONNECT ", "TRACE " };
	const uint8_t *p = hs_rare(r)->d[DIR_C2S].pre;
	size_t n = hs_rare(r)->d[DIR_C2S].pre_len, i, m = 0;
	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		m = strlen(methods[i]);
		if (n >= m && !memcmp(p, methods[i], m))
			break;
	}
	if (i == sizeof(methods) / sizeof(methods[0]))
		return 0;
	for (; m + 8 <= n; m++) {
		if (p[m] == '\r' || p[m] == '\n')
			return 0;
		if (!memcmp(p + m, " HTTP/1.", 8))
			return 1;
	}
	return 0;
}

int record_http_status(const struct hs_record *r)
{
	const uint8_t *p;
	size_t n;
	int st = 0, i;
	if (!hs_rare(r)->dec)
		return 0;
	p = hs_rare(r)->dec->first[DIR_S2C];
	n = hs_rare(r)->dec->first_len[DIR_S2C] < HS_DEC_FIRST ? hs_rare(r)->dec->first_len[DIR_S2C] : HS_DEC_FIRST;
	/* "HTTP/1.x NNN" */
	if (n < 12 || memcmp(p, "HTTP/1.", 7) != 0 || p[8] != ' ')
		return 0;
	for (i = 9; i < 12; i++) {
		if (p[i] < '0' || p[i] > '9')
			return 0;
		st = st * 10 + (p[i] - '0');
	}
	return st >= 100 && st <= 599 ? st : 0;
}

/*
 * servers.c - per-server knowledge across the connections of a run
 * (servers.h).
 *
 * Table: SRV_MAX_SERVERS places, open addressing over SRV_PROBES places
 * from the address's hash; when all of them hold other servers, the one
 * learned least recently is forgotten (counted). A place holds the number
 * of its server's slot; slots are handed out in order, so the memory a run
 * touches is its servers' slots, not pages all over the table (issue 19:
 * 2.3 MB to 0.9 for 384 servers). Every list keeps a count per
 * value, so a snapshot can leave out the asking connection's own
 * contribution exactly (the caller may have learned it already).
 *
 * Invariants: a slot's counts equal the sums over the records learned into
 * it; nothing here allocates after srv_table_new() but the x509 references.
 */
#include "dissect/servers.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "dissect/hash.h"
#include "dissect/names.h"
#include "dissect/x509.h"

#define SRV_PROBES 8
_Static_assert(SRV_MAX_SERVERS <= UINT16_MAX, "a place holds a slot's number in 16 bits");

struct srv_val {
	uint64_t v;                  /* suite, version, or offer hash */
	uint32_t count;
	uint64_t id;                 /* first connection that gave it */
	uint8_t sni;
};

struct srv_slot {
	struct hs_addr srv;
	uint64_t last_learned;       /* table clock at the last srv_learn */
	uint32_t conns, completed, completed_sni, completed_nosni, failed_nosni, tls_conns;
	uint64_t completed_id[2];    /* the first two completed connections */
	uint16_t completed_suite[2], completed_version[2];
	uint64_t completed_sni_id[2];
	struct srv_val suites[SRV_MAX_SUITES];
	struct srv_val versions[SRV_MAX_VERSIONS];
	struct srv_val offers[SRV_MAX_OFFERS];
	struct srv_val groups[SRV_MAX_GROUPS];
	struct srv_val names[SRV_MAX_NAMES];
	uint32_t completed_ems, completed_noems, completed_proxy;
	const struct x509_facts *leaf;
	uint64_t leaf_id;            /* the connection that presented it */
};

struct srv_table {
	struct srv_slot *slot;       /* SRV_MAX_SERVERS, the first nslots in use */
	uint16_t *place;             /* SRV_MAX_SERVERS: 0 empty, else 1 + a slot's index */
	uint32_t nslots;
	uint64_t clock;
	uint64_t forgotten;
	uint64_t key[2];             /* random per table: the offer and name hashes */
};

static int addr_eq(const struct hs_addr *a, const struct hs_addr *b)
{
	return a->family == b->family && a->port == b->port && memcmp(a->addr, b->addr, 16) == 0;
}

static uint64_t load64(const uint8_t *p)
{
	uint64_t x;
	memcpy(&x, p, 8);
	return x;
}

/* Where a server's probe sequence starts: the one mixer (hash.h) with
 * fixed keys, so which servers share slots, and which one a full table
 * forgets, is the same in every run (the report must not depend on a
 * random key). Server addresses are the capture's targets, not values a
 * client picks. */
static uint32_t addr_hash(const struct hs_addr *a)
{
	uint64_t h = hash_mum(load64(a->addr) ^ 0x9e3779b97f4a7c15ull,
			      load64(a->addr + 8) ^ ((uint64_t)a->port << 8 | a->family));
	return (uint32_t)(h ^ h >> 32);
}

struct srv_table *srv_table_new(void)
{
	struct srv_table *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->slot = calloc(SRV_MAX_SERVERS, sizeof(*t->slot));
	t->place = calloc(SRV_MAX_SERVERS, sizeof(*t->place));
	if (!t->slot || !t->place) {
		free(t->slot);
		free(t->place);
		free(t);
		return NULL;
	}
	if (getrandom(t->key, sizeof(t->key), GRND_NONBLOCK) != (ssize_t)sizeof(t->key)) {
		uint64_t x = (uint64_t)(uintptr_t)t ^ 0x2545f4914f6cdd1dull;   /* ASLR bits */
		t->key[0] = hash_splitmix64(&x);
		t->key[1] = hash_splitmix64(&x);
	}
	return t;
}

void srv_table_free(struct srv_table *t)
{
	size_t i;
	if (!t)
		return;
	for (i = 0; i < t->nslots; i++)
		if (t->slot[i].leaf)
			x509_put(t->slot[i].leaf);
	free(t->slot);
	free(t->place);
	free(t);
}

uint64_t srv_table_forgotten(const struct srv_table *t)
{
	return t ? t->forgotten : 0;
}

/* The offer and name hashes stand for the values themselves (a snapshot
 * compares only them), so they are keyed with the table's random key: a
 * client cannot choose a name or an offer that collides with another one
 * it never sent. 64 bits: an accidental collision is never seen. */
static uint64_t mix(uint64_t h, uint64_t word, const uint64_t key[2])
{
	return hash_mum(h ^ word ^ key[0], key[1]);
}

uint64_t srv_offer_hash(const struct srv_table *t, const struct hs_client_hello *ch)
{
	uint64_t h = 0, w = 0;
	unsigned in_w = 0, kept = 0;
	uint16_t i;
	if (!t || !ch)
		return 0;
	for (i = 0; i < ch->n_suites; i++) {
		if (names_is_grease(hs_ch_suites(ch)[i]))
			continue;
		w = w << 16 | hs_ch_suites(ch)[i];
		kept++;
		if (++in_w == 4) {
			h = mix(h, w, t->key);
			w = 0;
			in_w = 0;
		}
	}
	h = mix(h, w ^ (uint64_t)in_w << 62, t->key);
	h = mix(h, kept, t->key);
	return h ? h : 1;
}

uint64_t srv_name_hash(const struct srv_table *t, const struct hs_client_hello *ch)
{
	size_t n, i;
	uint64_t h = 0, w;
	if (!t || !ch || !ch->has_sni)
		return 0;
	n = ch->sni_len < HS_SNI_BYTES ? ch->sni_len : HS_SNI_BYTES;
	for (i = 0; i + 8 <= n; i += 8)
		h = mix(h, load64(hs_ch_sni(ch) + i), t->key);
	w = 0;
	memcpy(&w, hs_ch_sni(ch) + i, n - i);
	h = mix(h, w, t->key);
	h = mix(h, n, t->key);
	return h ? h : 1;
}

/* The key-exchange group a record's server selected, 0 when none. */
static uint16_t selected_group(const struct hs_record *r)
{
	if (r->sh && r->sh->has_key_share)
		return r->sh->key_share_group;
	return r->ske ? r->ske_group : 0;
}

static struct srv_slot *find(const struct srv_table *t, const struct hs_addr *a)
{
	uint32_t h = addr_hash(a);
	unsigned i;
	for (i = 0; i < SRV_PROBES; i++) {
		uint16_t k = t->place[(h + i) % SRV_MAX_SERVERS];
		if (k && addr_eq(&t->slot[k - 1].srv, a))
			return &t->slot[k - 1];
	}
	return NULL;
}

/* The server's slot, made (or taken from the stalest server) when absent. */
static struct srv_slot *claim(struct srv_table *t, const struct hs_addr *a)
{
	uint32_t h = addr_hash(a);
	struct srv_slot *free_s = NULL, *old = NULL;
	uint16_t *free_p = NULL;
	unsigned i;
	for (i = 0; i < SRV_PROBES; i++) {
		uint16_t *p = &t->place[(h + i) % SRV_MAX_SERVERS];
		struct srv_slot *s = *p ? &t->slot[*p - 1] : NULL;
		if (s && addr_eq(&s->srv, a))
			return s;
		if (!s && !free_p)
			free_p = p;
		if (s && (!old || s->last_learned < old->last_learned))
			old = s;
	}
	if (free_p) {
		/* every server has one place, so a free place means a free slot */
		free_s = &t->slot[t->nslots++];
		*free_p = (uint16_t)t->nslots;
	} else {
		t->forgotten++;
		if (old->leaf)
			x509_put(old->leaf);
		free_s = old;
	}
	memset(free_s, 0, sizeof(*free_s));
	free_s->srv = *a;
	return free_s;
}

static void add_val(struct srv_val *v, size_t cap, uint64_t x, uint64_t id, uint8_t sni)
{
	size_t i;
	for (i = 0; i < cap && v[i].count; i++) {
		if (v[i].v == x) {
			v[i].count++;
			return;
		}
	}
	if (i < cap) {
		v[i].v = x;
		v[i].count = 1;
		v[i].id = id;
		v[i].sni = sni;
	}
}

static int sni_of(const struct hs_record *r)
{
	return r->ch && r->ch->has_sni;
}

/* The server answered in TLS: a ServerHello, or a plaintext TLS alert. */
static int spoke_tls(const struct hs_record *r)
{
	return r->sh || hs_rare(r)->hrr || r->d[DIR_S2C].tls;
}

void srv_learn(struct srv_table *t, const struct hs_record *r)
{
	struct srv_slot *s;
	if (!t || !r || r->role_by == ROLE_UNKNOWN)
		return;
	s = claim(t, &r->srv);
	s->last_learned = ++t->clock;
	s->conns++;
	if (spoke_tls(r))
		s->tls_conns++;
	if (r->sh && !r->sh->is_hrr) {
		add_val(s->suites, SRV_MAX_SUITES, r->sh->cipher, r->id, (uint8_t)sni_of(r));
		add_val(s->versions, SRV_MAX_VERSIONS, r->sh->version, r->id, (uint8_t)sni_of(r));
	}
	if (selected_group(r))
		add_val(s->groups, SRV_MAX_GROUPS, selected_group(r), r->id, (uint8_t)sni_of(r));
	if (r->complete) {
		unsigned k = s->completed < 2 ? s->completed : 2;
		if (k < 2) {
			s->completed_id[k] = r->id;
			s->completed_suite[k] = r->sh ? r->sh->cipher : 0;
			s->completed_version[k] = r->sh ? r->sh->version : 0;
		}
		s->completed++;
		if (sni_of(r)) {
			if (s->completed_sni < 2)
				s->completed_sni_id[s->completed_sni] = r->id;
			s->completed_sni++;
		} else {
			s->completed_nosni++;
		}
		if (r->ch) {
			add_val(s->offers, SRV_MAX_OFFERS, srv_offer_hash(t, r->ch), r->id, (uint8_t)sni_of(r));
			if (record_proxy_header(r))
				s->completed_proxy++;
			if (r->ch->has_extended_master_secret)
				s->completed_ems++;
			else
				s->completed_noems++;
			if (r->ch->has_sni)
				add_val(s->names, SRV_MAX_NAMES, srv_name_hash(t, r->ch), r->id, 1);
		}
	} else if (r->ch && !r->ch->has_sni) {
		s->failed_nosni++;
	}
	if (!s->leaf && r->server_chain.n && r->server_chain.c && r->server_chain.c[0].x &&
	    !r->server_chain.c[0].x->malformed) {
		s->leaf = x509_ref(r->server_chain.c[0].x);
		s->leaf_id = r->id;
	}
}

/* Copies the values of v into out[], less one count of `mine` (r's own). */
static uint16_t copy_vals(const struct srv_val *v, size_t cap, uint64_t mine, int has_mine,
			  uint16_t *out16, uint64_t *out64, uint64_t *ids, uint8_t *sni, uint64_t self_id)
{
	uint16_t n = 0;
	size_t i;
	for (i = 0; i < cap && v[i].count; i++) {
		uint32_t c = v[i].count;
		if (has_mine && v[i].v == mine)
			c--;
		if (!c)
			continue;
		if (out16)
			out16[n] = (uint16_t)v[i].v;
		if (out64)
			out64[n] = v[i].v;
		if (ids)
			ids[n] = v[i].id == self_id ? 0 : v[i].id;   /* 0: "another connection" */
		if (sni)
			sni[n] = v[i].sni;
		n++;
	}
	return n;
}

int srv_snapshot(const struct srv_table *t, const struct hs_record *r, struct srv_known *k)
{
	const struct srv_slot *s;
	int self;
	uint64_t oh, nh;
	memset(k, 0, sizeof(*k));
	if (!t || !r)
		return 0;
	s = find(t, &r->srv);
	if (!s)
		return 0;
	oh = srv_offer_hash(t, r->ch);   /* once: the hashes this connection is compared by */
	nh = srv_name_hash(t, r->ch);
	/* r's own facts are in the slot: the caller learns every record
	 * before it asks (servers.h), so they are taken out again here */
	self = 1;
	k->conns = s->conns - (self ? 1 : 0);
	k->completed = s->completed;
	k->completed_sni = s->completed_sni;
	k->completed_nosni = s->completed_nosni;
	k->failed_nosni = s->failed_nosni;
	k->tls_conns = s->tls_conns;
	if (self) {
		if (spoke_tls(r) && k->tls_conns)
			k->tls_conns--;
		if (r->complete) {
			k->completed--;
			if (sni_of(r))
				k->completed_sni--;
			else
				k->completed_nosni--;
		} else if (r->ch && !r->ch->has_sni && k->failed_nosni) {
			k->failed_nosni--;
		}
	}
	k->completed_id = s->completed_id[0] == r->id ? s->completed_id[1] : s->completed_id[0];
	k->completed_suite = s->completed_id[0] == r->id ? s->completed_suite[1] : s->completed_suite[0];
	k->completed_version = s->completed_id[0] == r->id ? s->completed_version[1] : s->completed_version[0];
	k->completed_sni_id = s->completed_sni_id[0] == r->id ? s->completed_sni_id[1] : s->completed_sni_id[0];
	if (!k->completed)
		k->completed_id = 0, k->completed_suite = 0, k->completed_version = 0;
	if (!k->completed_sni)
		k->completed_sni_id = 0;
	{
		int mine_sh = self && r->sh && !r->sh->is_hrr;
		k->n_suites = copy_vals(s->suites, SRV_MAX_SUITES, mine_sh ? r->sh->cipher : 0, mine_sh, k->suites,
					NULL, NULL, NULL, r->id);
		k->n_versions = copy_vals(s->versions, SRV_MAX_VERSIONS, mine_sh ? r->sh->version : 0, mine_sh,
					  k->versions, NULL, NULL, NULL, r->id);
		k->n_offers = copy_vals(s->offers, SRV_MAX_OFFERS, oh, self && r->complete && r->ch,
					NULL, k->offer_hash, k->offer_id, k->offer_sni, r->id);
		k->n_groups = copy_vals(s->groups, SRV_MAX_GROUPS, selected_group(r), self && selected_group(r),
					k->groups, NULL, NULL, NULL, r->id);
		k->n_names = copy_vals(s->names, SRV_MAX_NAMES, nh, self && r->complete && nh, NULL, k->name_hash,
				       NULL, NULL, r->id);
	}
	k->completed_proxy = s->completed_proxy - (self && r->complete && r->ch && record_proxy_header(r) ? 1 : 0);
	k->completed_ems = s->completed_ems;
	k->completed_noems = s->completed_noems;
	if (self && r->complete && r->ch) {
		if (r->ch->has_extended_master_secret)
			k->completed_ems--;
		else
			k->completed_noems--;
	}
	k->same_offer = (uint8_t)srv_offer_completed(k, oh, &k->same_offer_id);
	k->same_name = (uint8_t)srv_name_completed(k, nh);
	if (s->leaf && s->leaf_id != r->id)
		k->leaf = x509_ref(s->leaf);
	k->valid = k->conns > 0;
	return k->valid;
}

void srv_known_release(struct srv_known *k)
{
	if (k && k->leaf) {
		x509_put(k->leaf);
		k->leaf = NULL;
	}
}

int srv_offer_completed(const struct srv_known *k, uint64_t hash, uint64_t *id)
{
	uint16_t i;
	if (!k || !hash)
		return 0;
	for (i = 0; i < k->n_offers; i++) {
		if (k->offer_hash[i] == hash) {
			if (id)
				*id = k->offer_id[i];
			return 1;
		}
	}
	return 0;
}

int srv_name_completed(const struct srv_known *k, uint64_t hash)
{
	uint16_t i;
	if (!k || !hash)
		return 0;
	for (i = 0; i < k->n_names; i++)
		if (k->name_hash[i] == hash)
			return 1;
	return 0;
}

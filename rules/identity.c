/*
 * identity.c - which client sent a ClientHello, and how exact the match is.
 *
 * An identity is a named list of suites with an `identity` text (rule files,
 * docs/rules.md "Client identity"), optionally with the versions, groups and
 * extensions that client offers. Every identity list is compared with the
 * (first) ClientHello and the best one wins:
 *
 *   offer   C02B C02F ... 0035 00FF        GREASE, 00FF: never compared
 *   list    C02B C02F ... 0035             `values`
 *           same sequence + stated keys agree + no 5600 -> exact
 *           same set                                     -> same-suites
 *           |A and B| / |A or B| >= 90%, same first 3    -> close
 *           otherwise                                    -> unknown
 *
 * The "stated keys" are `versions` (a set: supported_versions without
 * GREASE, or, without that extension, legacy_version must be the highest
 * stated version and TLS 1.3 must not be stated), `groups` (supported_groups
 * in order, GREASE aside) and `extensions` (the set of extension types,
 * GREASE and the situational ones of rk_situational_ext() aside).
 * TLS_FALLBACK_SCSV (0x5600) marks a retry at a lower version, so an offer
 * carrying it is at best same-suites.
 *
 * A list's `match` key sets the weakest level at which it is reported at
 * all (the AWS backend policies: exact only, since other clients offer the
 * same 18 suites in another order).
 *
 * Ranking: the better match level, then the higher suite similarity, then
 * more stated keys that agree, then the list loaded first.
 *
 * Invariants: reads the ClientHello only; allocates nothing (the memo of
 * recent offers is a fixed per-thread table, below). The lists'
 * sets are sorted once at load (rk_identity_prepare); per call, the offer's
 * suites go into a bit set (a thread-local one, left all zero on return),
 * and its versions and extensions are sorted at most once;
 * a list whose suite set cannot reach "close" (sizes too far apart, or
 * another first 3 suites with another set) is rejected on its sizes and
 * prefix, without a merge.
 */
#include "rules/rule_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dissect/hash.h"
#include "dissect/names.h"
#include "dissect/record.h"

#define CLOSE_PERCENT 90   /* Jaccard similarity of the suite sets, percent */
#define CLOSE_PREFIX 3     /* leading suites that must agree, in order */

int rk_situational_ext(uint16_t ext)
{
	switch (ext) {
	case EXT_SERVER_NAME:      /* only when the client was given a host name */
	case EXT_PADDING:          /* only for some ClientHello lengths */
	case EXT_PRE_SHARED_KEY:   /* only when resuming (TLS 1.3) */
	case EXT_EARLY_DATA:       /* only when resuming with 0-RTT */
	case EXT_COOKIE:           /* only after a HelloRetryRequest */
		return 1;
	default:
		return 0;
	}
}

static int cmp_u16(const void *a, const void *b)
{
	uint16_t x = *(const uint16_t *)a, y = *(const uint16_t *)b;
	return (x > y) - (x < y);
}

/* Sorts and removes duplicates in place; returns the new count. */
static size_t sort_unique(uint16_t *v, size_t n)
{
	size_t i, o = 0;
	if (n <= 64) {
		/* the usual size: insertion sort beats qsort's setup and calls */
		for (i = 1; i < n; i++) {
			uint16_t x = v[i];
			size_t j = i;
			for (; j && v[j - 1] > x; j--)
				v[j] = v[j - 1];
			v[j] = x;
		}
	} else {
		qsort(v, n, sizeof(*v), cmp_u16);
	}
	for (i = 0; i < n; i++)
		if (!o || v[o - 1] != v[i])
			v[o++] = v[i];
	return o;
}

/* The offer's suites as a bit set over all 65536 values: set and cleared
 * again by rk_identify() (only the words its suites touch), so it is all
 * zero between calls and costs nothing to start from. */
static _Thread_local uint64_t offer_bits[65536 / 64];

static int offer_has(uint16_t x)
{
	return (int)(offer_bits[x >> 6] >> (x & 63) & 1);
}

/* Values of b[] (unique) that the offer holds. */
static size_t common(const uint16_t *b, size_t nb)
{
	size_t j, c = 0;
	for (j = 0; j < nb; j++)
		c += (size_t)offer_has(b[j]);
	return c;
}

/* At most this many of the offer's versions or extensions are compared; a
 * list stating more never agrees. */
#define SET_CAP (HS_MAX_EXTS > HS_MAX_VERSIONS ? HS_MAX_EXTS : HS_MAX_VERSIONS)

/* A ClientHello's values as a set: the first SET_CAP that `skip` does not
 * reject, sorted and unique. */
struct vset {
	uint16_t v[SET_CAP];
	size_t n;
	int done;
};

static void vset_make(struct vset *x, const uint16_t *a, size_t na, int (*skip)(uint16_t))
{
	size_t i;
	x->n = 0;
	for (i = 0; i < na && x->n < SET_CAP; i++)
		if (!skip(a[i]))
			x->v[x->n++] = a[i];
	x->n = sort_unique(x->v, x->n);
	x->done = 1;
}

/* Equal as sets: x and a list key stated with nl values, prepared as l[nls]. */
static int same_set(const struct vset *x, size_t nl, const uint16_t *l, size_t nls)
{
	if (nl > SET_CAP)
		return 0;
	return x->n == nls && (nls == 0 || memcmp(x->v, l, nls * sizeof(*l)) == 0);
}

static int skip_grease(uint16_t v)
{
	return names_is_grease(v);
}

static int skip_ext(uint16_t v)
{
	return names_is_grease(v) || rk_situational_ext(v);
}

struct offer {
	uint16_t seq[HS_MAX_SUITES];   /* in order, GREASE and 00FF removed */
	size_t n;
	size_t nset;                   /* distinct values in seq (offer_bits holds them) */
	int fallback;                  /* TLS_FALLBACK_SCSV present */
	struct vset versions;          /* supported_versions, GREASE aside (on first use) */
	struct vset exts;              /* extension types, GREASE and situational aside (on first use) */
};

static int versions_agree(struct offer *o, const struct hs_client_hello *ch, const struct rk_list *l)
{
	uint16_t hi = l->id_max_version;
	if (ch->has_supported_versions) {
		if (!o->versions.done)
			vset_make(&o->versions, hs_ch_versions(ch), ch->n_versions, skip_grease);
		return same_set(&o->versions, l->n_id_versions, l->id_version_set, l->n_id_version_set);
	}
	return hi < VER_TLS13 && ch->legacy_version == hi;
}

static int groups_agree(const struct hs_client_hello *ch, const struct rk_list *l)
{
	uint16_t i, j = 0;
	for (i = 0; i < ch->n_groups; i++) {
		if (names_is_grease(hs_ch_groups(ch)[i]))
			continue;
		if (j >= l->n_id_groups || hs_ch_groups(ch)[i] != l->id_groups[j])
			return 0;
		j++;
	}
	return j == l->n_id_groups;
}

struct score {
	int match;
	unsigned permille;             /* suite similarity */
	int agree;                     /* stated keys that agree */
};

void rk_identity_prepare(struct rk_list *l)
{
	size_t ns = l->n < HS_MAX_SUITES ? l->n : HS_MAX_SUITES;
	uint16_t *p, i;
	free(l->id_prep);
	l->id_prep = NULL;
	l->id_suite_set = l->id_version_set = l->id_ext_set = NULL;
	l->n_id_suite_set = l->n_id_version_set = l->n_id_ext_set = 0;
	l->id_max_version = 0;
	for (i = 0; i < l->n_id_versions; i++)
		if (l->id_versions[i] > l->id_max_version)
			l->id_max_version = l->id_versions[i];
	if (!l->identity || l->kind != VK_SUITE || !l->n || !l->sorted)
		return;
	p = malloc((ns + l->n_id_versions + l->n_id_exts + 1) * sizeof(*p));
	if (!p)
		exit(2);
	l->id_prep = p;
	memcpy(p, l->sorted, ns * sizeof(*p));
	l->id_suite_set = p;
	l->n_id_suite_set = (uint16_t)sort_unique(p, ns);
	p += ns;
	if (l->n_id_versions)
		memcpy(p, l->id_versions, l->n_id_versions * sizeof(*p));
	l->id_version_set = p;
	l->n_id_version_set = (uint16_t)sort_unique(p, l->n_id_versions);
	p += l->n_id_versions;
	if (l->n_id_exts)
		memcpy(p, l->id_exts, l->n_id_exts * sizeof(*p));
	l->id_ext_set = p;
	l->n_id_ext_set = (uint16_t)sort_unique(p, l->n_id_exts);
}

/* 0 when the list cannot reach "close" with this offer, judged on the set
 * sizes and the first suites alone: exact and same-suites need equal sets
 * (so equal set sizes); close needs |A and B| / |A or B| >= 90%, at most
 * min/max of the sizes, and the same first CLOSE_PREFIX suites. */
static int may_match(const struct offer *o, const struct rk_list *l)
{
	size_t nl = l->n < HS_MAX_SUITES ? l->n : HS_MAX_SUITES, ns = l->n_id_suite_set, lo, hi, k;
	if (o->nset == ns)
		return 1;
	lo = o->nset < ns ? o->nset : ns;
	hi = o->nset < ns ? ns : o->nset;
	if (lo * 100 < (size_t)CLOSE_PERCENT * hi)
		return 0;
	k = nl < CLOSE_PREFIX ? nl : CLOSE_PREFIX;
	return o->n >= k && memcmp(o->seq, l->v, k * sizeof(*o->seq)) == 0;
}

static void score_list(struct offer *o, const struct hs_client_hello *ch, const struct rk_list *l,
		       struct score *sc)
{
	const uint16_t *lset = l->id_suite_set;
	size_t nl = l->n < HS_MAX_SUITES ? l->n : HS_MAX_SUITES, nlset = l->n_id_suite_set, inter, uni, k;
	int in_order, stated = 0;
	memset(sc, 0, sizeof(*sc));
	inter = common(lset, nlset);
	uni = o->nset + nlset - inter;
	sc->permille = uni ? (unsigned)(inter * 1000 / uni) : 0;
	in_order = o->n == l->n && memcmp(o->seq, l->v, o->n * sizeof(*o->seq)) == 0;
	if (l->n_id_versions) {
		stated++;
		sc->agree += versions_agree(o, ch, l);
	}
	if (l->n_id_groups) {
		stated++;
		sc->agree += groups_agree(ch, l);
	}
	if (l->n_id_exts) {
		stated++;
		if (!o->exts.done)
			vset_make(&o->exts, hs_ch_ext_type(ch), ch->n_exts, skip_ext);
		sc->agree += same_set(&o->exts, l->n_id_exts, l->id_ext_set, l->n_id_ext_set);
	}
	k = nl < CLOSE_PREFIX ? nl : CLOSE_PREFIX;
	if (in_order && sc->agree == stated && !o->fallback)
		sc->match = RULE_MATCH_EXACT;
	else if (inter == o->nset && inter == nlset)
		sc->match = RULE_MATCH_SAME_SUITES;
	else if (inter * 100 >= (size_t)CLOSE_PERCENT * uni && o->n >= k &&
		 memcmp(o->seq, l->v, k * sizeof(*o->seq)) == 0)
		sc->match = RULE_MATCH_CLOSE;
	else
		sc->match = RULE_MATCH_UNKNOWN;
}

static int better(const struct score *a, const struct score *b)
{
	if (a->match != b->match)
		return a->match > b->match;
	if (a->permille != b->permille)
		return a->permille > b->permille;
	return a->agree > b->agree;
}

static int identify(const struct rule_set *rs, const struct hs_client_hello *ch, int *match)
{
	struct offer o;                        /* about 2 KiB */
	struct score best, sc;
	size_t i;
	int found = -1;
	*match = RULE_MATCH_UNKNOWN;
	if (!rs || !ch)
		return -1;
	o.n = 0;
	o.fallback = 0;
	o.versions.done = o.exts.done = 0;
	for (i = 0; i < ch->n_suites; i++) {
		if (hs_ch_suites(ch)[i] == SUITE_FALLBACK_SCSV)
			o.fallback = 1;
		if (rk_ignored_value(VK_SUITE, hs_ch_suites(ch)[i]))
			continue;
		o.seq[o.n++] = hs_ch_suites(ch)[i];
	}
	if (!o.n)
		return -1;
	o.nset = 0;
	for (i = 0; i < o.n; i++) {
		uint16_t x = o.seq[i];
		if (!offer_has(x)) {
			offer_bits[x >> 6] |= (uint64_t)1 << (x & 63);
			o.nset++;
		}
	}
	memset(&best, 0, sizeof(best));
	for (i = 0; i < rs->n_list; i++) {
		const struct rk_list *l = rs->list[i];
		if (!l->identity || l->kind != VK_SUITE || !l->n || !l->id_prep || !may_match(&o, l))
			continue;
		score_list(&o, ch, l, &sc);
		if (sc.match < (l->min_match ? l->min_match : RULE_MATCH_CLOSE))
			continue;
		if (found < 0 || better(&sc, &best)) {
			best = sc;
			found = (int)i;
		}
	}
	for (i = 0; i < o.n; i++)
		offer_bits[o.seq[i] >> 6] = 0;
	if (found >= 0)
		*match = best.match;
	return found;
}

/* ---- memo ---------------------------------------------------------------
 * One client's connections carry the same ClientHello, so its identity is
 * kept per thread for the last offers seen, keyed by everything identify()
 * reads of it (legacy_version, whether supported_versions was sent, and
 * the suites, versions, groups and extension types, each with its count,
 * GREASE values aside as identify() sets them aside) and by the rule
 * set's generation. Two places an offer may be kept (two halves of its
 * hash), the one used longer ago given up: a capture's few hundred
 * distinct offers mostly stay (the benchmark's: 99.9% found, where 64
 * direct-mapped slots found 86%). A hit is confirmed on the whole key, so
 * a collision (chosen on the wire or not) only costs a miss. An offer
 * whose key is longer than ID_KEY values is not kept. */
#define ID_SLOTS 256u
#define ID_KEY   192u

struct id_memo {
	uint64_t gen;            /* the rule set's; 0 = empty */
	uint64_t h;
	uint64_t used;           /* id_clock when last found or kept */
	uint16_t n;              /* values in key */
	int32_t found;
	int16_t match;
	uint16_t key[ID_KEY];
};
static _Thread_local struct id_memo id_memo[ID_SLOTS];
static _Thread_local uint64_t id_clock;

static int id_hit(const struct id_memo *m, const struct rule_set *rs, uint64_t h, const uint16_t *key, size_t n)
{
	return m->gen == rs->gen && m->h == h && m->n == n && memcmp(m->key, key, n * sizeof(*key)) == 0;
}

/* v[0..n) after its count, GREASE values left out: identify() and what it
 * calls skip them wherever they stand (suites, versions, groups, extension
 * types), so the offers of a client that draws new GREASE values for every
 * connection share one entry. */
static size_t key_put(uint16_t *k, size_t o, const uint16_t *v, uint16_t n)
{
	size_t c = o++;
	uint16_t i;
	if (o + n > ID_KEY)
		return ID_KEY + 1;
	for (i = 0; i < n; i++)
		if (!names_is_grease(v[i]))
			k[o++] = v[i];
	k[c] = (uint16_t)(o - c - 1);
	return o;
}

int rk_identify(const struct rule_set *rs, const struct hs_client_hello *ch, int *match)
{
	uint16_t key[ID_KEY];
	size_t n = 0, i;
	uint64_t h = 0x9e3779b97f4a7c15ull;
	struct id_memo *m, *a, *b;
	int found;
	if (!rs || !ch || !rs->gen)
		return identify(rs, ch, match);
	key[n++] = ch->legacy_version;
	key[n++] = ch->has_supported_versions;
	n = key_put(key, n, hs_ch_suites(ch), ch->n_suites);
	if (n <= ID_KEY)
		n = key_put(key, n, hs_ch_versions(ch), ch->n_versions);
	if (n <= ID_KEY)
		n = key_put(key, n, hs_ch_groups(ch), ch->n_groups);
	if (n <= ID_KEY)
		n = key_put(key, n, hs_ch_ext_type(ch), ch->n_exts);
	if (n > ID_KEY)
		return identify(rs, ch, match);
	for (i = 0; i + 4 <= n; i += 4) {
		uint64_t w;
		memcpy(&w, key + i, sizeof(w));
		h = hash_mum(h ^ w, 0xbf58476d1ce4e5b9ull);
	}
	for (; i < n; i++)
		h = hash_mum(h ^ key[i], 0x94d049bb133111ebull);
	h ^= rs->gen;
	a = &id_memo[h % ID_SLOTS];
	b = &id_memo[(h >> 32) % ID_SLOTS];
	m = id_hit(a, rs, h, key, n) ? a : id_hit(b, rs, h, key, n) ? b : NULL;
	if (m) {
		m->used = ++id_clock;
		*match = m->match;
		return m->found;
	}
	found = identify(rs, ch, match);
	m = a->used <= b->used ? a : b;
	m->used = ++id_clock;
	m->gen = rs->gen;
	m->h = h;
	m->n = (uint16_t)n;
	m->found = (int32_t)found;
	m->match = (int16_t)*match;
	memcpy(m->key, key, n * sizeof(*key));
	return found;
}

const char *rule_match_name(enum rule_match m)
{
	switch (m) {
	case RULE_MATCH_UNKNOWN: return "unknown";
	case RULE_MATCH_CLOSE: return "close";
	case RULE_MATCH_SAME_SUITES: return "same-suites";
	case RULE_MATCH_EXACT: return "exact";
	}
	return "unknown";
}

int rule_client_identity(const struct rule_set *rs, const struct hs_record *r, struct rule_identity *id)
{
	int m, i;
	memset(id, 0, sizeof(*id));
	id->match = RULE_MATCH_UNKNOWN;
	if (!r || !r->ch)
		return 0;
	i = rk_identify(rs, r->ch, &m);
	rk_identity_fill(rs, i, m, id);
	return 1;
}

void rk_identity_fill(const struct rule_set *rs, int i, int m, struct rule_identity *id)
{
	memset(id, 0, sizeof(*id));
	id->match = RULE_MATCH_UNKNOWN;
	if (i < 0)
		return;
	id->match = (enum rule_match)m;
	id->name = rs->list[i]->name;
	id->description = rs->list[i]->identity;
	id->source = rs->list[i]->source;
	id->aws_lb = rs->list[i]->vendor && strcmp(rs->list[i]->vendor, "aws") == 0 &&
		     m >= RULE_MATCH_SAME_SUITES;
}

char *rule_identity_text(const struct rule_identity *id, char *buf, size_t n)
{
	const char *how = "";
	switch (id->match) {
	case RULE_MATCH_EXACT: how = "exact match"; break;
	case RULE_MATCH_SAME_SUITES: how = "same suites, but their order or the other offers differ"; break;
	case RULE_MATCH_CLOSE: how = "close match: most suites the same, not identical"; break;
	case RULE_MATCH_UNKNOWN: break;
	}
	if (id->match == RULE_MATCH_UNKNOWN || !id->description)
		snprintf(buf, n, "unknown (no client profile matches)");
	else
		snprintf(buf, n, "%s (%s)", id->description, how);
	return buf;
}

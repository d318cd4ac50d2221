/*
 * hello.c - builds the ClientHello an AWS load balancer sends to a target
 * (see hello.h for what is documented and what is inferred).
 *
 * Wire format written (RFC 8446 section 4.1.2, RFC 5246 section 7.4.1.2):
 *
 *   record:     type 22 | version 0x0301 | length(2)
 *   handshake:  type 1  | length(3)
 *   body:       legacy_version(2) random(32) session_id<0..32>
 *               cipher_suites<2..2^16-2> compression<1..2^8-1> = {0}
 *               extensions<0..2^16-1>, in this order when present:
 *                 server_name(0) ec_point_formats(11) supported_groups(10)
 *                 application_layer_protocol_negotiation(16)
 *                 extended_master_secret(23) signature_algorithms(13)
 *                 supported_versions(43) psk_key_exchange_modes(45)
 *                 key_share(51)
 *
 * Invariants: every write goes through a bounded writer whose error is
 * sticky; length fields are patched once their contents are written, and a
 * length that does not fit its field is an error, never a wrap.
 */
#include "probe/hello.h"
#include "probe/tls13.h"

#include "dissect/cursor.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <stdio.h>
#include <string.h>

/* ---- backend policies (IANA codes; reference/aws-alb-target-tls.md) ---- */

static const uint16_t suites_2016_08[] = {
	0xc02b, 0xc02f, 0xc023, 0xc027, 0xc009, 0xc013, 0xc02c, 0xc030, 0xc024,
	0xc028, 0xc014, 0xc00a, 0x009c, 0x003c, 0x002f, 0x009d, 0x003d, 0x0035,
};
static const uint16_t suites_tls13[] = { 0x1301, 0x1302, 0x1303 };
/* ELBSecurityPolicy-TLS13-1-0-FIPS-2023-04, in the order of AWS's FIPS
 * "Ciphers by policy" table: no CHACHA20, and ECDHE-RSA-AES256-SHA (C014)
 * before ECDHE-ECDSA-AES256-SHA (C00A) */
static const uint16_t suites_fips[] = {
	0x1301, 0x1302, 0xc02b, 0xc02f, 0xc023, 0xc027, 0xc009, 0xc013, 0xc02c, 0xc030,
	0xc024, 0xc028, 0xc014, 0xc00a, 0x009c, 0x003c, 0x002f, 0x009d, 0x003d, 0x0035,
};
/* FIPS: the NIST curves only (an inference, see hello.h) */
static const uint16_t groups_fips[] = { 0x0017, 0x0018 };
/* FIPS: SHA-2 signature schemes only (an inference, see hello.h) */
static const uint16_t sigalgs_fips[] = {
	0x0804, 0x0805, 0x0806, 0x0403, 0x0503, 0x0603, 0x0401, 0x0501, 0x0601,
};

/* s2n-tls ecc_preferences_20140601 (used by its ELBSecurityPolicy-2016-08) */
static const uint16_t groups_2016_08[] = { 0x0017, 0x0018 };
/* TLS 1.3 policy: x25519 first, as s2n's TLS 1.3 policies list it */
static const uint16_t groups_tls13[] = { 0x001d, 0x0017, 0x0018 };
/* s2n-tls signature_preferences_20140601: RSA-PKCS1 and ECDSA, SHA-2 then SHA-1 */
static const uint16_t sigalgs_2016_08[] = {
	0x0401, 0x0501, 0x0601, 0x0301, 0x0403, 0x0503, 0x0603, 0x0303, 0x0201, 0x0203,
};
/* TLS 1.3 needs RSA-PSS for RSA keys (RFC 8446 4.2.3): rsa_pss_rsae first */
static const uint16_t sigalgs_tls13[] = {
	0x0804, 0x0805, 0x0806, 0x0403, 0x0503, 0x0603, 0x0401, 0x0501, 0x0601, 0x0201, 0x0203,
};

static const char *const policy_names[PROBE_POL__COUNT] = {
	[PROBE_POL_2016_08] = "ELBSecurityPolicy-2016-08",
	[PROBE_POL_TLS13_1_0] = "ELBSecurityPolicy-TLS13-1-0-2021-06",
	[PROBE_POL_TLS13_1_0_FIPS] = "ELBSecurityPolicy-TLS13-1-0-FIPS-2023-04",
};

const char *probe_policy_name(enum probe_policy p)
{
	return (unsigned)p < PROBE_POL__COUNT ? policy_names[p] : "?";
}

int probe_policy_parse(const char *s)
{
	int i;
	if (strcmp(s, "2016-08") == 0)
		return PROBE_POL_2016_08;
	if (strcmp(s, "tls13") == 0 || strcmp(s, "TLS13-1-0-2021-06") == 0)
		return PROBE_POL_TLS13_1_0;
	if (strcmp(s, "fips") == 0 || strcmp(s, "TLS13-1-0-FIPS-2023-04") == 0)
		return PROBE_POL_TLS13_1_0_FIPS;
	for (i = 0; i < PROBE_POL__COUNT; i++)
		if (strcmp(s, policy_names[i]) == 0)
			return i;
	return -1;
}

int probe_list_has(const uint16_t *list, size_t n, uint16_t v)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (list[i] == v)
			return 1;
	return 0;
}

int probe_list_add(uint16_t *list, size_t *n, size_t cap, uint16_t v, int front)
{
	if (probe_list_has(list, *n, v))
		return 0;
	if (*n >= cap)
		return -1;
	if (front) {
		memmove(list + 1, list, *n * sizeof(*list));
		list[0] = v;
	} else {
		list[*n] = v;
	}
	(*n)++;
	return 0;
}

#define COPY_LIST(dst, ndst, src) \
	do { memcpy((dst), (src), sizeof(src)); *(ndst) = sizeof(src) / sizeof((src)[0]); } while (0)

void probe_hello_default(struct probe_hello_cfg *c, enum probe_policy p)
{
	memset(c, 0, sizeof(*c));
	c->legacy_version = 0x0303;
	c->ems = 1;
	if (p == PROBE_POL_TLS13_1_0) {
		static const uint16_t v[] = { 0x0304, 0x0303, 0x0302, 0x0301 };
		size_t i;
		COPY_LIST(c->versions, &c->nversions, v);
		COPY_LIST(c->suites, &c->nsuites, suites_tls13);
		for (i = 0; i < sizeof(suites_2016_08) / sizeof(suites_2016_08[0]); i++)
			c->suites[c->nsuites++] = suites_2016_08[i];
		COPY_LIST(c->groups, &c->ngroups, groups_tls13);
		c->shares[0] = 0x001d;
		c->nshares = 1;
		COPY_LIST(c->sigalgs, &c->nsigalgs, sigalgs_tls13);
		c->session_id = 1;
	} else if (p == PROBE_POL_TLS13_1_0_FIPS) {
		static const uint16_t v[] = { 0x0304, 0x0303, 0x0302, 0x0301 };
		COPY_LIST(c->versions, &c->nversions, v);
		COPY_LIST(c->suites, &c->nsuites, suites_fips);
		COPY_LIST(c->groups, &c->ngroups, groups_fips);
		c->shares[0] = 0x0017;
		c->nshares = 1;
		COPY_LIST(c->sigalgs, &c->nsigalgs, sigalgs_fips);
		c->session_id = 1;
	} else {
		COPY_LIST(c->suites, &c->nsuites, suites_2016_08);
		COPY_LIST(c->groups, &c->ngroups, groups_2016_08);
		COPY_LIST(c->sigalgs, &c->nsigalgs, sigalgs_2016_08);
	}
}

/* ---- bounded writer ---- */

struct wr {
	uint8_t *p;
	size_t len, cap;
	int err;
};

static void put(struct wr *w, const void *b, size_t n)
{
	if (w->err || n > w->cap - w->len) {
		w->err = 1;
		return;
	}
	memcpy(w->p + w->len, b, n);
	w->len += n;
}

static void put_u8(struct wr *w, unsigned v)
{
	uint8_t b = (uint8_t)v;
	put(w, &b, 1);
}

static void put_u16(struct wr *w, unsigned v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };
	put(w, b, 2);
}

/* Reserves an n-byte length field; returns its offset. */
static size_t len_open(struct wr *w, size_t n)
{
	static const uint8_t zero[3];
	size_t at = w->len;
	put(w, zero, n);
	return at;
}

/* Fills the n-byte field at `at` with the bytes written after it. */
static void len_close(struct wr *w, size_t at, size_t n)
{
	size_t v, i;
	if (w->err)
		return;
	v = w->len - at - n;
	if (n < sizeof(size_t) && v >> (8 * n)) {
		w->err = 1;
		return;
	}
	for (i = 0; i < n; i++)
		w->p[at + i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

static void put_u16_list(struct wr *w, const uint16_t *v, size_t n, size_t lenbytes)
{
	size_t at = len_open(w, lenbytes), i;
	for (i = 0; i < n; i++)
		put_u16(w, v[i]);
	len_close(w, at, lenbytes);
}

/* A fresh public key for a named group, as key_share carries it; the
 * private half goes to keys (when not NULL and not full). */
static size_t key_share_pub(uint16_t group, uint8_t *out, size_t cap, struct probe_keys *keys)
{
	EVP_PKEY *k = NULL;
	size_t len = 0;
	switch (group) {
	case 0x001d: k = EVP_PKEY_Q_keygen(NULL, NULL, "X25519"); break;
	case 0x001e: k = EVP_PKEY_Q_keygen(NULL, NULL, "X448"); break;
	case 0x0017: k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"); break;
	case 0x0018: k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384"); break;
	case 0x0019: k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521"); break;
	default: return 0;
	}
	if (!k)
		return 0;
	if (!EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, out, cap, &len))
		len = 0;
	if (len && keys && keys->n < PROBE_MAX_SHARES) {
		keys->group[keys->n] = group;
		keys->pkey[keys->n++] = k;
	} else {
		EVP_PKEY_free(k);
	}
	return len;
}

size_t probe_hello_build(const struct probe_hello_cfg *c, uint8_t *out, size_t cap, struct probe_keys *keys,
			 char *err, size_t errlen)
{
	struct wr w = { out, 0, cap, 0 };
	uint8_t rnd[32], sid[32];
	size_t rec, hs, exts, e, i;
	if (RAND_bytes(rnd, sizeof(rnd)) != 1 || RAND_bytes(sid, sizeof(sid)) != 1) {
		snprintf(err, errlen, "no random bytes from libcrypto");
		return 0;
	}
	put_u8(&w, 22);
	put_u16(&w, 0x0301);
	rec = len_open(&w, 2);
	put_u8(&w, 1);
	hs = len_open(&w, 3);
	put_u16(&w, c->legacy_version);
	put(&w, rnd, sizeof(rnd));
	put_u8(&w, c->session_id ? 32 : 0);
	if (c->session_id)
		put(&w, sid, sizeof(sid));
	put_u16_list(&w, c->suites, c->nsuites, 2);
	put_u8(&w, 1);
	put_u8(&w, 0);
	exts = len_open(&w, 2);
	if (c->sni[0]) {
		size_t n = strlen(c->sni);
		put_u16(&w, 0);
		e = len_open(&w, 2);
		{
			size_t l = len_open(&w, 2);
			put_u8(&w, 0);
			put_u16(&w, (unsigned)n);
			put(&w, c->sni, n);
			len_close(&w, l, 2);
		}
		len_close(&w, e, 2);
	}
	if (c->ngroups) {
		/* ec_point_formats: uncompressed only */
		put_u16(&w, 11);
		put_u16(&w, 2);
		put_u8(&w, 1);
		put_u8(&w, 0);
		put_u16(&w, 10);
		e = len_open(&w, 2);
		put_u16_list(&w, c->groups, c->ngroups, 2);
		len_close(&w, e, 2);
	}
	if (c->alpn[0][0]) {
		put_u16(&w, 16);
		e = len_open(&w, 2);
		{
			size_t l = len_open(&w, 2);
			for (i = 0; i < 2 && c->alpn[i][0]; i++) {
				size_t n = strlen(c->alpn[i]);
				put_u8(&w, (unsigned)n);
				put(&w, c->alpn[i], n);
			}
			len_close(&w, l, 2);
		}
		len_close(&w, e, 2);
	}
	if (c->ems) {
		put_u16(&w, 23);
		put_u16(&w, 0);
	}
	if (c->nsigalgs) {
		put_u16(&w, 13);
		e = len_open(&w, 2);
		put_u16_list(&w, c->sigalgs, c->nsigalgs, 2);
		len_close(&w, e, 2);
	}
	if (c->nversions) {
		put_u16(&w, 43);
		e = len_open(&w, 2);
		{
			size_t l = len_open(&w, 1);
			for (i = 0; i < c->nversions; i++)
				put_u16(&w, c->versions[i]);
			len_close(&w, l, 1);
		}
		len_close(&w, e, 2);
	}
	if (probe_list_has(c->versions, c->nversions, 0x0304)) {
		put_u16(&w, 45);   /* psk_key_exchange_modes: psk_dhe_ke */
		put_u16(&w, 2);
		put_u8(&w, 1);
		put_u8(&w, 1);
		put_u16(&w, 51);
		e = len_open(&w, 2);
		{
			size_t l = len_open(&w, 2);
			for (i = 0; i < c->nshares; i++) {
				uint8_t pub[160];
				size_t n = key_share_pub(c->shares[i], pub, sizeof(pub), keys);
				if (!n) {
					snprintf(err, errlen, "no key share for group 0x%04x (libcrypto)", c->shares[i]);
					return 0;
				}
				put_u16(&w, c->shares[i]);
				put_u16(&w, (unsigned)n);
				put(&w, pub, n);
			}
			len_close(&w, l, 2);
		}
		len_close(&w, e, 2);
	}
	len_close(&w, exts, 2);
	len_close(&w, hs, 3);
	len_close(&w, rec, 2);
	if (w.err || w.len > 5 + 16384) {
		snprintf(err, errlen, "ClientHello does not fit (%zu bytes of room)", cap);
		return 0;
	}
	return w.len;
}

/* ---- reading one back (a replayed ClientHello) ---- */

static void read_u16_list(struct cur *c, uint16_t *list, size_t *n, size_t cap)
{
	*n = 0;
	while (!c->err && cur_left(c) >= 2) {
		uint16_t v = cur_u16(c);
		if (*n < cap)
			list[(*n)++] = v;
	}
}

static int can_share(uint16_t g)
{
	return g == 0x001d || g == 0x001e || g == 0x0017 || g == 0x0018 || g == 0x0019;
}

int probe_hello_parse(const uint8_t *rec, size_t len, struct probe_hello_cfg *c, size_t *dropped)
{
	static uint8_t hs[65536];
	size_t hl = 0;
	struct cur r = cur_make(rec, len), m, e;
	uint32_t ml;
	memset(c, 0, sizeof(*c));
	*dropped = 0;
	/* join the handshake bytes of the records */
	while (cur_left(&r) >= 5) {
		uint8_t type = cur_u8(&r);
		const uint8_t *body;
		uint16_t bl;
		cur_skip(&r, 2);
		bl = cur_u16(&r);
		body = cur_bytes(&r, bl);
		if (type != 22 || !body || bl > sizeof(hs) - hl)
			return -1;
		memcpy(hs + hl, body, bl);
		hl += bl;
	}
	m = cur_make(hs, hl);
	if (cur_u8(&m) != 1)
		return -1;
	ml = cur_u24(&m);
	m = cur_sub(&m, ml);
	c->legacy_version = cur_u16(&m);
	cur_skip(&m, 32);
	{
		uint8_t sl = cur_u8(&m);
		c->session_id = sl == 32;
		cur_skip(&m, sl);
	}
	{
		struct cur s = cur_sub(&m, cur_u16(&m));
		read_u16_list(&s, c->suites, &c->nsuites, PROBE_MAX_SUITES);
	}
	cur_skip(&m, cur_u8(&m));
	if (m.err)
		return -1;
	e = cur_sub(&m, cur_u16(&m));
	while (!e.err && cur_left(&e) >= 4) {
		uint16_t et = cur_u16(&e);
		struct cur v = cur_sub(&e, cur_u16(&e)), l;
		switch (et) {
		case 0:
			l = cur_sub(&v, cur_u16(&v));
			if (cur_u8(&l) == 0) {
				uint16_t n = cur_u16(&l);
				const uint8_t *name = cur_bytes(&l, n);
				if (name && n < sizeof(c->sni)) {
					memcpy(c->sni, name, n);
					c->sni[n] = 0;
				}
			}
			break;
		case 10:
			l = cur_sub(&v, cur_u16(&v));
			read_u16_list(&l, c->groups, &c->ngroups, PROBE_MAX_GROUPS);
			break;
		case 11:
			break;   /* ec_point_formats: rebuilt whenever there are groups */
		case 13:
			l = cur_sub(&v, cur_u16(&v));
			read_u16_list(&l, c->sigalgs, &c->nsigalgs, PROBE_MAX_SIGALGS);
			break;
		case 16: {
			size_t k = 0;
			l = cur_sub(&v, cur_u16(&v));
			while (!l.err && cur_left(&l) >= 1) {
				uint8_t n = cur_u8(&l);
				const uint8_t *proto = cur_bytes(&l, n);
				if (proto && k < 2 && n < sizeof(c->alpn[0])) {
					memcpy(c->alpn[k], proto, n);
					c->alpn[k++][n] = 0;
				}
			}
			break;
		}
		case 23:
			c->ems = 1;
			break;
		case 43:
			l = cur_sub(&v, cur_u8(&v));
			read_u16_list(&l, c->versions, &c->nversions, PROBE_MAX_VERSIONS);
			break;
		case 45:
			break;   /* psk_key_exchange_modes: rebuilt with TLS 1.3 */
		case 51:
			l = cur_sub(&v, cur_u16(&v));
			while (!l.err && cur_left(&l) >= 4) {
				uint16_t g = cur_u16(&l);
				cur_skip(&l, cur_u16(&l));
				if (can_share(g) && c->nshares < PROBE_MAX_SHARES)
					c->shares[c->nshares++] = g;
			}
			break;
		default:
			(*dropped)++;
			break;
		}
	}
	if (m.err || !c->nsuites)
		return -1;
	if (probe_list_has(c->versions, c->nversions, 0x0304) && !c->nshares) {
		size_t i;
		for (i = 0; i < c->ngroups && !c->nshares; i++)
			if (can_share(c->groups[i]))
				c->shares[c->nshares++] = c->groups[i];
		if (!c->nshares)
			c->shares[c->nshares++] = 0x001d;
	}
	return 0;
}

/*
 * x509.c - certificate facts through OpenSSL 3 (libcrypto), with a bounded,
 * refcounted cache keyed by the SHA-256 of the DER.
 *
 * What it does: x509_get() looks the DER up by a cheap keyed hash and a
 * byte-exact comparison with a copy kept in the cache; failing that, it
 * hashes the DER with SHA-256 and looks that up, and on a miss
 * decodes the bytes once with d2i_X509() and writes down plain facts
 * (names, SANs, serial, validity, key, signature algorithm, CA flag,
 * self-issued / self-signed). No X509 object outlives the call that decoded
 * it; the cache holds struct x509_facts (about 2.5 KiB each) and copies of
 * the DER, at most X509_DER_COPY_MAX bytes each and X509_DER_BYTES_MAX in
 * all (beyond that, entries go without a copy and are found by SHA-256), so
 * its memory is bounded whatever size the certificates are. The SHA-256 of
 * a certificate is computed once while it stays cached, not per connection.
 * x509_verify_link() decodes the two certificates it is given and remembers
 * its last answer in the child's cache entry (and whether it is self-signed
 * in another), so a chain seen on every connection to one target is
 * verified once. Signature checks are bounded (issue 16; x509.h says how):
 *   - Key limits, decided once when the certificate is decoded
 *     (key_limits): an RSA or DSA modulus over 8192 bits is not used
 *     (OpenSSL would take up to 16384; the Web PKI stops at 4096, and 8192
 *     bits is about 15 times the cost of 2048 already). An RSA public
 *     exponent over 32 bits is not used: the cost of a check grows with
 *     the exponent's length (a 3071-bit exponent with a 3072-bit modulus,
 *     which OpenSSL accepts, made a check about 8 ms, 500 times the usual),
 *     every CA uses 65537 (the CA/Browser Forum asks for an odd exponent
 *     from 2^16+1, and no CA issues past 32 bits), and common clients
 *     refuse such keys anyway (Windows CryptoAPI holds the exponent in 32
 *     bits, Go's crypto/rsa refuses one of 2^31 or more). An even exponent
 *     is not an RSA key at all (e must be coprime to lambda(n), which is
 *     even), so no signature can be checked with it.
 *   - Units: a check costs about (modulus bits / 2048)^2 x (exponent bits +
 *     set bits) / 19 RSA-2048 checks (19 for 65537); DSA as RSA with a
 *     160-bit exponent; EC 4 up to 256 bits, 40 above (P-384 is ten times
 *     P-256 in OpenSSL 3.0); Ed25519 4, Ed448 10; anything else 40.
 *   - Order: dissect/tls.c asks what the rules read first (the leaf's
 *     link, then whether the leaf is self-signed) and the rest after, so a
 *     budget that runs out skips what only the report shows.
 *   - A skipped check is not remembered: a later connection with budget
 *     left makes it. Whether a check is made depends only on the order and
 *     capture times of the certificates, never on the wall clock, so the
 *     report is the same on every run.
 *
 * Invariants:
 *   - Facts are never NULL except on allocation failure. DER that d2i_X509()
 *     rejects, or that it accepts with bytes left over, gives malformed = 1
 *     with sha256 and der_len filled and every other field zero or empty.
 *   - Every string field is NUL-terminated and fits its array. Strings may
 *     carry any non-NUL byte from the wire (report/ escapes them); an
 *     embedded NUL in a CN or a SAN is written as the three characters
 *     "\00", the way RFC 2253 output escapes it.
 *   - An entry with refs > 0 is never freed. The table never holds more
 *     than `max` entries; when it is full and every entry is referenced, a
 *     new certificate gets a detached entry that is freed by its last
 *     x509_put() (counted as "uncached").
 *   - Idle entries (refs == 0) sit on an LRU list; the least recently
 *     released is evicted first. Lookup is O(1): chained buckets, a power of
 *     two at least the entry count, indexed by a keyed mix of the hash (the
 *     key comes from RAND_bytes so crafted certificates cannot all land in
 *     one bucket).
 *   - The packet path never exits; OpenSSL's error queue is cleared after
 *     every decode so failures do not pile up.
 *   - All state lives in a struct x509_cache, owned by the run (app/) and
 *     passed down to each connection's TLS decoder, behind its own mutex:
 *     the analysis thread gets certificates while the report thread
 *     (app/main.c) refs and puts them; every entry knows its cache. Without
 *     a cache (NULL), x509_get() decodes for the caller alone. Facts never change once made,
 *     so reading them needs no lock, only a reference.
 *   - `refs` changes by atomic operations only. A reference taken or
 *     given back that leaves it above zero takes no lock (ref_fast(),
 *     put_fast()): the report thread refs and puts a leaf for every
 *     connection while the analysis thread gets certificates, and the two
 *     queued on the lock (issue 19: most of a run's futex calls). Going to
 *     zero (the LRU list, a free) and coming back from it happen under the
 *     lock, and a count at zero can only change there: ref_fast() needs it
 *     above zero, put_fast() above one.
 *
 * Decisions:
 *   - subject / issuer: X509_NAME_print_ex() with exactly XN_FLAG_RFC2253
 *     (so control bytes and bytes >= 0x80 come out as \XX, specials as \,).
 *     If OpenSSL refuses the whole name (invalid UTF-8 in a UTF8String, a
 *     code point out of range), each attribute is printed on its own and the
 *     ones it refuses are written as '#' and the hex of their DER, which is
 *     RFC 2253's own form for a value without a string representation.
 *     (Defensive: OpenSSL 3.0 already makes d2i_X509() fail on such names,
 *     because it cannot build their canonical form, so those certificates
 *     come out malformed.)
 *   - subject_cn: the last CN in the DN (the most specific one), converted
 *     to UTF-8 by ASN1_STRING_to_UTF8(); when that fails, the raw bytes.
 *   - SANs: DNS and IP only, in certificate order, joined by ", "; IPv4 as
 *     dotted quad, IPv6 by inet_ntop(), any other length as "IP:#<hex>".
 *     n_san_dns counts every DNS SAN, including those that did not fit
 *     (saturating at 65535).
 *   - serial_hex: lowercase hex of the magnitude with no leading zero
 *     octets; a negative serial (invalid per RFC 5280 4.1.2.2 but seen in
 *     the wild) gets a leading '-', as `openssl x509 -serial` prints it;
 *     zero is "00".
 *   - is_ca: basicConstraints cA when the extension decodes; -1 when it is
 *     absent, repeated, or does not decode.
 *   - times: ASN1_TIME_to_tm() + timegm(), 64-bit, UTCTime and
 *     GeneralizedTime, before 1970 and after 2038. A time OpenSSL cannot
 *     parse sets bad_time and leaves the value 0; x509_valid_at() then
 *     answers 0 like it does for malformed certificates.
 *   - key_type: EVP_PKEY_get_base_id(). When the key does not decode (d2i
 *     still accepts the certificate), the type comes from the algorithm OID
 *     with key_bits 0, self_signed 0 and x509_issued_by() "unknown"; an OID
 *     OpenSSL does not know is XK_OTHER. key_curve is the group name, or
 *     "explicit" for explicit curve parameters.
 *   - sig_alg: OBJ_nid2ln(X509_get_signature_nid()); an OID OpenSSL does not
 *     know is written in dotted form.
 *
 * Limits: a string longer than its field is cut at a character boundary
 * with no marker (subject / issuer / CN: compare chains with
 * x509_issued_by(), not with these strings) or at an entry boundary ending
 * in "..." (SANs); a serial longer than 39 octets keeps its first 37
 * (negative) or 38 octets and ends in "...". A DER longer than 2^32-1
 * bytes is treated as malformed.
 *
 * Sources: RFC 5280 (certificate profile), RFC 2253 (string form of names),
 * OpenSSL 3.0 manual pages d2i_X509(3), X509_NAME_print_ex(3),
 * X509_verify(3), ASN1_TIME_to_tm(3), EVP_PKEY_get_bits(3),
 * EVP_PKEY_get_utf8_string_param(3), X509_get_ext_d2i(3).
 */
#include "dissect/x509.h"
#include "dissect/cursor.h"
#include "dissect/hash.h"

#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define X509_CACHE_DEFAULT_MAX 4096
#define X509_MIN_BUCKETS 64
/* DER copies kept for the byte-exact lookup (see x509_get): at most this
 * many bytes in all, and none of a certificate larger than the second. A
 * certificate without a copy is still cached, found by its SHA-256. */
#define X509_DER_BYTES_MAX (16u * 1024 * 1024)
#define X509_DER_COPY_MAX  (64u * 1024)

/* A cache entry; `f` is first so a facts pointer converts back to it. */
struct x509_entry {
	struct x509_facts f;
	struct x509_cache *c;                  /* the cache it came from; NULL: made without one */
	struct x509_entry *hnext;              /* bucket chain (by SHA-256) */
	struct x509_entry *dnext;              /* DER chain, only while der != NULL */
	uint64_t dhash;                        /* der_hash() of the DER, when der != NULL */
	uint8_t *der;                          /* a copy of the DER (der_len bytes), or NULL */
	struct x509_entry *lru_prev, *lru_next; /* idle list, only while refs == 0 */
	uint8_t in_table;
	uint8_t memo_valid;                    /* last issued_by() answer, for the issuer memo_parent */
	uint8_t memo_result;
	uint8_t self_valid;                    /* self-signed: checked (self_result) */
	uint8_t self_result;
	uint8_t memo_parent[32];               /* the issuing certificate's SHA-256: it fixes the key */
	uint32_t open_refs;                    /* x509_hold()s by open connections */
};

/* docs/robustness.md counts about 2.7 KiB an entry in its memory bounds */
_Static_assert(sizeof(struct x509_entry) <= 2765, "an entry is at most 2.7 KiB");

struct x509_cache {
	pthread_mutex_t mu;
	struct x509_entry **bucket;
	struct x509_entry **dbucket;           /* entries with a DER copy, by der_hash() */
	size_t nbuckets;                       /* power of two (both arrays), or 0 before first use */
	size_t der_bytes;                      /* bytes of DER copies held, <= X509_DER_BYTES_MAX */
	size_t count;                          /* entries in the table */
	size_t max;
	struct x509_entry *lru_head, *lru_tail; /* idle entries, oldest first */
	uint64_t hits, misses, evictions, uncached;
	uint64_t key0, key1;
	int keyed;
	/* signature checks: the run's budget per second of capture time */
	uint64_t tokens;                       /* units, <= X509_VERIFY_BURST_UNITS */
	int64_t tokens_ts;                     /* the capture time they were counted at */
	int tokens_set;
	uint64_t verify_made, verify_skipped;
	size_t detached;                       /* live entries outside the table (refs > 0) */
	size_t open_facts;                     /* entries with open_refs > 0 */
	uint64_t not_kept;                     /* facts refused by x509_hold() */
};

/* ---- small helpers ---------------------------------------------------- */

/* A bounded string builder: appends never overflow, `full` is sticky. */
struct sbuf {
	char *p;
	size_t cap;   /* bytes available, including the NUL */
	size_t len;
	int full;
};

static void sb_init(struct sbuf *s, char *p, size_t cap)
{
	s->p = p;
	s->cap = cap;
	s->len = 0;
	s->full = 0;
	if (cap)
		p[0] = '\0';
}

/* Appends all n bytes or none of them, keeping `reserve` bytes spare. */
static int sb_add_all(struct sbuf *s, const char *b, size_t n, size_t reserve)
{
	if (s->full || s->cap == 0 || n + reserve >= s->cap - s->len) {
		s->full = 1;
		return 0;
	}
	memcpy(s->p + s->len, b, n);
	s->len += n;
	s->p[s->len] = '\0';
	return 1;
}

static int sb_puts(struct sbuf *s, const char *str, size_t reserve)
{
	return sb_add_all(s, str, strlen(str), reserve);
}

/* Copies n wire bytes, an embedded NUL as "\00", into dst (cap bytes), cut
 * where it no longer fits. Returns the length written. */
static size_t copy_wire(char *dst, size_t cap, const unsigned char *b, size_t n)
{
	size_t o = 0;

	if (cap == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (b[i] == '\0') {
			if (cap - o <= 3)
				break;
			memcpy(dst + o, "\\00", 3);
			o += 3;
		} else {
			if (cap - o <= 1)
				break;
			dst[o++] = (char)b[i];
		}
	}
	dst[o] = '\0';
	return o;
}

/* Shortens a NUL-terminated string of length len so it does not end in the
 * middle of a UTF-8 sequence (only matters once it has been cut). */
static void cut_utf8(char *s, size_t len)
{
	size_t i = len, back = 0;

	while (i > 0 && back < 4 && ((unsigned char)s[i - 1] & 0xC0) == 0x80) {
		i--;
		back++;
	}
	if (i > 0 && ((unsigned char)s[i - 1] & 0xC0) == 0xC0) {
		unsigned char lead = (unsigned char)s[i - 1];
		size_t need = lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : 1;
		if (back < need)
			s[i - 1] = '\0';
	}
}

/* Copies the contents of a memory BIO into dst as a string. Returns 1 when
 * everything fitted, 0 when it was cut. */
static int bio_to_str(BIO *b, char *dst, size_t cap)
{
	char *data = NULL;
	long n = BIO_get_mem_data(b, &data);
	size_t len, i;

	if (cap == 0)
		return 0;
	if (n <= 0 || data == NULL) {
		dst[0] = '\0';
		return 1;
	}
	len = (size_t)n;
	int fits = len < cap;
	if (!fits)
		len = cap - 1;
	memcpy(dst, data, len);
	dst[len] = '\0';
	for (i = 0; i < len; i++)   /* the escaping flags make this unlikely */
		if (dst[i] == '\0')
			dst[i] = '?';
	if (!fits)
		cut_utf8(dst, len);
	return fits;
}

/* ---- names ------------------------------------------------------------- */

/* Prints one attribute as RFC 2253 into b; a value OpenSSL refuses to
 * convert is dumped as '#' + hex of its DER. */
static int print_entry(BIO *b, const X509_NAME_ENTRY *ne)
{
	X509_NAME *one = X509_NAME_new();
	int ok = 0;

	if (one == NULL)
		return 0;
	if (X509_NAME_add_entry(one, ne, -1, 0)) {
		BIO *tmp = BIO_new(BIO_s_mem());
		if (tmp != NULL) {
			if (X509_NAME_print_ex(tmp, one, 0, XN_FLAG_RFC2253) < 0) {
				(void)BIO_reset(tmp);
				if (X509_NAME_print_ex(tmp, one, 0,
				                       XN_FLAG_RFC2253 | ASN1_STRFLGS_DUMP_ALL) < 0)
					(void)BIO_reset(tmp);
			}
			char *data = NULL;
			long n = BIO_get_mem_data(tmp, &data);
			ok = n <= 0 || BIO_write(b, data, (int)n) == (int)n;
			BIO_free(tmp);
		}
	}
	X509_NAME_free(one);
	return ok;
}

static void name_line(const X509_NAME *name, char *dst, size_t cap)
{
	BIO *b;

	dst[0] = '\0';
	if (name == NULL || (b = BIO_new(BIO_s_mem())) == NULL)
		return;
	if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253) < 0) {
		/* Per attribute, most specific first, as XN_FLAG_DN_REV does. */
		int n = X509_NAME_entry_count(name);
		(void)BIO_reset(b);
		for (int i = n - 1; i >= 0; i--) {
			const X509_NAME_ENTRY *ne = X509_NAME_get_entry(name, i);
			if (ne == NULL)
				break;
			if (i != n - 1) {
				const X509_NAME_ENTRY *prev = X509_NAME_get_entry(name, i + 1);
				int same = prev != NULL &&
				           X509_NAME_ENTRY_set(prev) == X509_NAME_ENTRY_set(ne);
				(void)BIO_write(b, same ? "+" : ",", 1);
			}
			if (!print_entry(b, ne))
				break;
		}
	}
	(void)bio_to_str(b, dst, cap);
	BIO_free(b);
}

static void subject_cn(const X509_NAME *name, char *dst, size_t cap)
{
	int i = -1, last = -1;

	dst[0] = '\0';
	while ((i = X509_NAME_get_index_by_NID(name, NID_commonName, i)) >= 0)
		last = i;
	if (last < 0)
		return;
	const X509_NAME_ENTRY *ne = X509_NAME_get_entry(name, last);
	const ASN1_STRING *s = ne ? X509_NAME_ENTRY_get_data(ne) : NULL;
	if (s == NULL)
		return;
	unsigned char *u = NULL;
	int n = ASN1_STRING_to_UTF8(&u, s);
	size_t len;
	if (n >= 0 && u != NULL) {
		len = copy_wire(dst, cap, u, (size_t)n);
		if ((size_t)n >= cap)
			cut_utf8(dst, len);
		OPENSSL_free(u);
	} else {
		int raw = ASN1_STRING_length(s);
		const unsigned char *d = ASN1_STRING_get0_data(s);
		if (raw > 0 && d != NULL)
			(void)copy_wire(dst, cap, d, (size_t)raw);
	}
}

/* ---- extensions -------------------------------------------------------- */

static void san_facts(const X509 *x, struct x509_facts *f)
{
	static const char more[] = "...";
	const size_t reserve = sizeof more - 1;
	int crit = -1;
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, &crit, NULL);
	struct sbuf sb;
	unsigned dns = 0;

	sb_init(&sb, f->san, sizeof f->san);
	if (gens == NULL)
		return;
	for (int i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		char item[X509_SAN_BYTES];
		size_t n = 0;

		if (g == NULL)
			continue;
		if (g->type == GEN_DNS) {
			const ASN1_IA5STRING *s = g->d.dNSName;
			if (dns < UINT16_MAX)
				dns++;
			memcpy(item, "DNS:", 4);
			n = 4;
			if (s != NULL && s->length > 0 && s->data != NULL)
				n += copy_wire(item + 4, sizeof item - 4, s->data, (size_t)s->length);
		} else if (g->type == GEN_IPADD) {
			const ASN1_OCTET_STRING *s = g->d.iPAddress;
			int len = s ? s->length : 0;
			memcpy(item, "IP:", 3);
			n = 3;
			item[3] = '\0';
			if (len == 4 || len == 16) {
				if (inet_ntop(len == 4 ? AF_INET : AF_INET6, s->data,
				              item + 3, (socklen_t)(sizeof item - 3)) == NULL)
					item[3] = '\0';
				n += strlen(item + 3);
			} else if (len > 0 && s->data != NULL) {
				item[n++] = '#';
				for (int k = 0; k < len && n + 3 < sizeof item; k++)
					n += (size_t)snprintf(item + n, sizeof item - n, "%02x", s->data[k]);
			}
		} else {
			continue;
		}
		if (sb.full)
			continue;   /* keep counting DNS names */
		if (sb.len > 0 && !sb_puts(&sb, ", ", reserve))
			continue;
		(void)sb_add_all(&sb, item, n, reserve);
	}
	if (sb.full) {
		/* Drop a dangling separator, then mark the cut. */
		if (sb.len >= 2 && memcmp(sb.p + sb.len - 2, ", ", 2) == 0) {
			sb.len -= 2;
			sb.p[sb.len] = '\0';
		}
		sb.full = 0;
		(void)sb_add_all(&sb, more, reserve, 0);
	}
	f->n_san_dns = (uint16_t)dns;
	GENERAL_NAMES_free(gens);
}

static int8_t ca_flag(const X509 *x)
{
	int crit = -1;
	BASIC_CONSTRAINTS *bc = X509_get_ext_d2i(x, NID_basic_constraints, &crit, NULL);
	int8_t r = -1;

	if (bc != NULL) {
		r = bc->ca ? 1 : 0;
		BASIC_CONSTRAINTS_free(bc);
	}
	return r;
}

/* ---- serial, times, key, signature ------------------------------------- */

static void serial_hex(const X509 *x, char *dst, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	const ASN1_INTEGER *s = X509_get0_serialNumber(x);
	const unsigned char *d;
	int n, i = 0;
	size_t o = 0, octets, room;

	dst[0] = '\0';
	if (s == NULL || cap < 8)
		return;
	d = ASN1_STRING_get0_data(s);
	n = ASN1_STRING_length(s);
	if (d == NULL || n < 0)
		n = 0;
	while (i < n && d[i] == 0)
		i++;
	if (i == n) {
		memcpy(dst, "00", 3);
		return;
	}
	if (ASN1_STRING_type(s) == V_ASN1_NEG_INTEGER)
		dst[o++] = '-';
	octets = (size_t)(n - i);
	if (o + 2 * octets + 1 > cap) {   /* cut, leaving room for "..." + NUL */
		room = (cap - o - 4) / 2;
		if (octets > room)
			octets = room;
	} else {
		room = 0;
	}
	for (size_t k = 0; k < octets; k++, i++) {
		dst[o++] = hex[d[i] >> 4];
		dst[o++] = hex[d[i] & 15];
	}
	if (room) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = '\0';
}

/* Returns 1 and sets *out when t parses. */
static int unix_time(const ASN1_TIME *t, int64_t *out)
{
	struct tm tm;

	*out = 0;
	if (t == NULL)
		return 0;
	memset(&tm, 0, sizeof tm);
	if (!ASN1_TIME_to_tm(t, &tm))
		return 0;
	*out = (int64_t)timegm(&tm);
	return 1;
}

static uint32_t ceil_div(uint64_t a, uint64_t b)
{
	uint64_t q = (a + b - 1) / b;
	return q > 0xffff ? 0xffff : q ? (uint32_t)q : 1;
}

/* key_skip and verify_units (see the file head). */
static void key_limits(EVP_PKEY *pk, struct x509_facts *f)
{
	uint64_t nb = (uint64_t)f->key_bits;
	switch (f->key_type) {
	case XK_RSA:
	case XK_RSA_PSS: {
		BIGNUM *e = NULL;
		int eb, pop = 0, i;
		if (nb > X509_VERIFY_MAX_BITS) {
			f->key_skip = X509_SKIP_KEY_SIZE;
			return;
		}
		if (!EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &e)) {
			f->key_skip = X509_SKIP_KEY_EXPONENT;
			return;
		}
		eb = BN_num_bits(e);
		if (eb > 32 || !BN_is_odd(e)) {
			f->key_skip = X509_SKIP_KEY_EXPONENT;
			BN_free(e);
			return;
		}
		for (i = 0; i < eb; i++)
			pop += BN_is_bit_set(e, i);
		BN_free(e);
		f->verify_units = (uint16_t)ceil_div(nb * nb * (uint64_t)(eb + pop), 2048ull * 2048 * 19);
		return;
	}
	case XK_DSA:
		if (nb > X509_VERIFY_MAX_BITS) {
			f->key_skip = X509_SKIP_KEY_SIZE;
			return;
		}
		f->verify_units = (uint16_t)ceil_div(nb * nb * 160, 2048ull * 2048 * 19);
		return;
	case XK_EC:      f->verify_units = nb <= 256 ? 4 : 40; return;
	case XK_ED25519: f->verify_units = 4; return;
	case XK_ED448:   f->verify_units = 10; return;
	default:         f->verify_units = 40; return;
	}
}

static void key_facts(const X509 *x, struct x509_facts *f)
{
	EVP_PKEY *pk = X509_get0_pubkey(x);

	if (pk == NULL) {
		/* The key did not decode, or OpenSSL does not know its algorithm:
		 * name the type from the algorithm OID, with no size. */
		ASN1_OBJECT *oid = NULL;
		const X509_PUBKEY *spki = X509_get_X509_PUBKEY(x);
		int nid = NID_undef;
		if (spki != NULL && X509_PUBKEY_get0_param(&oid, NULL, NULL, NULL, spki) &&
		    oid != NULL)
			nid = OBJ_obj2nid(oid);
		switch (nid) {
		case NID_rsaEncryption:       f->key_type = XK_RSA; break;
		case NID_rsassaPss:           f->key_type = XK_RSA_PSS; break;
		case NID_X9_62_id_ecPublicKey: f->key_type = XK_EC; break;
		case NID_ED25519:             f->key_type = XK_ED25519; break;
		case NID_ED448:               f->key_type = XK_ED448; break;
		case NID_dsa:                 f->key_type = XK_DSA; break;
		default:                      f->key_type = XK_OTHER; break;
		}
		return;
	}
	switch (EVP_PKEY_get_base_id(pk)) {
	case EVP_PKEY_RSA:     f->key_type = XK_RSA; break;
	case EVP_PKEY_RSA_PSS: f->key_type = XK_RSA_PSS; break;
	case EVP_PKEY_EC:      f->key_type = XK_EC; break;
	case EVP_PKEY_ED25519: f->key_type = XK_ED25519; break;
	case EVP_PKEY_ED448:   f->key_type = XK_ED448; break;
	case EVP_PKEY_DSA:     f->key_type = XK_DSA; break;
	default:
		/* Provider-only keys have base id -1; ask by name. */
		if (EVP_PKEY_is_a(pk, "RSA"))
			f->key_type = XK_RSA;
		else if (EVP_PKEY_is_a(pk, "RSA-PSS"))
			f->key_type = XK_RSA_PSS;
		else if (EVP_PKEY_is_a(pk, "EC"))
			f->key_type = XK_EC;
		else if (EVP_PKEY_is_a(pk, "ED25519"))
			f->key_type = XK_ED25519;
		else if (EVP_PKEY_is_a(pk, "ED448"))
			f->key_type = XK_ED448;
		else if (EVP_PKEY_is_a(pk, "DSA"))
			f->key_type = XK_DSA;
		else
			f->key_type = XK_OTHER;
		break;
	}
	int bits = EVP_PKEY_get_bits(pk);
	f->key_bits = bits > 0 ? bits : 0;
	key_limits(pk, f);
	if (f->key_type == XK_EC) {
		size_t len = 0;
		char enc[32];
		if (!EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME,
		                                    f->key_curve, sizeof f->key_curve, &len)) {
			f->key_curve[0] = '\0';
			if (EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_EC_ENCODING,
			                                   enc, sizeof enc, &len) &&
			    strcmp(enc, OSSL_PKEY_EC_ENCODING_EXPLICIT) == 0)
				memcpy(f->key_curve, "explicit", sizeof "explicit");
		}
	}
}

static void sig_facts(const X509 *x, struct x509_facts *f)
{
	const ASN1_BIT_STRING *sig = NULL;
	const X509_ALGOR *alg = NULL;
	int nid = X509_get_signature_nid(x);
	const char *ln = nid != NID_undef ? OBJ_nid2ln(nid) : NULL;

	f->sig_nid = nid;
	if (ln != NULL) {
		size_t n = strlen(ln);
		if (n >= sizeof f->sig_alg)
			n = sizeof f->sig_alg - 1;
		memcpy(f->sig_alg, ln, n);
		f->sig_alg[n] = '\0';
		return;
	}
	X509_get0_signature(&sig, &alg, x);
	if (alg != NULL) {
		const ASN1_OBJECT *obj = NULL;
		X509_ALGOR_get0(&obj, NULL, NULL, alg);
		if (obj == NULL || OBJ_obj2txt(f->sig_alg, (int)sizeof f->sig_alg, obj, 1) <= 0)
			f->sig_alg[0] = '\0';
	}
}

/* ---- decoding ---------------------------------------------------------- */

/* d2i_X509 that also rejects trailing bytes. NULL when malformed. */
static X509 *decode(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	X509 *x;

	if (der == NULL || len == 0 || len > (size_t)LONG_MAX)
		return NULL;
	x = d2i_X509(NULL, &p, (long)len);
	if (x != NULL && p != der + len) {
		X509_free(x);
		x = NULL;
	}
	return x;
}

static void fill_facts(struct x509_facts *f, const uint8_t *der, size_t len)
{
	X509 *x = len > UINT32_MAX ? NULL : decode(der, len);

	if (x == NULL) {
		f->malformed = 1;
		ERR_clear_error();
		return;
	}
	long v = X509_get_version(x);
	f->version = v >= 0 && v < INT_MAX ? (int)v + 1 : 0;
	const X509_NAME *subj = X509_get_subject_name(x);
	const X509_NAME *iss = X509_get_issuer_name(x);
	name_line(subj, f->subject, sizeof f->subject);
	name_line(iss, f->issuer, sizeof f->issuer);
	if (subj != NULL)
		subject_cn(subj, f->subject_cn, sizeof f->subject_cn);
	san_facts(x, f);
	serial_hex(x, f->serial_hex, sizeof f->serial_hex);
	int ok = unix_time(X509_get0_notBefore(x), &f->not_before);
	ok &= unix_time(X509_get0_notAfter(x), &f->not_after);
	if (!ok) {
		f->bad_time = 1;
		f->not_before = f->not_after = 0;
	}
	f->self_issued = subj != NULL && iss != NULL && X509_NAME_cmp(subj, iss) == 0;
	f->is_ca = ca_flag(x);
	key_facts(x, f);
	sig_facts(x, f);
	X509_free(x);
	ERR_clear_error();
}

/* ---- the cache --------------------------------------------------------- */

static void digest(const uint8_t *der, size_t len, uint8_t out[32])
{
	static const uint8_t empty[1];
	unsigned int n = 0;

	static EVP_MD *sha256;   /* fetched once: EVP_sha256() is looked up again on every use */
	if (!sha256)
		sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (!EVP_Digest(der ? der : empty, der ? len : 0, out, &n, sha256 ? sha256 : EVP_sha256(), NULL) ||
	    n != 32)
		memset(out, 0, 32);   /* practically unreachable; the entry still works */
}

static uint64_t load64(const uint8_t *p)
{
	struct cur c = cur_make(p, 8);
	uint64_t hi = cur_u32(&c);
	return hi << 32 | cur_u32(&c);
}

static size_t bucket_of(const struct x509_cache *c, const uint8_t sha[32], size_t nbuckets)
{
	uint64_t h = hash_mum(load64(sha) ^ c->key0, load64(sha + 8) ^ c->key1);
	return (size_t)(h ^ h >> 32) & (nbuckets - 1);
}

static uint64_t load64le(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

/*
 * A cheap hash of the DER keyed by the cache's random key (a wyhash-style
 * chain of 128-bit multiplies, ~0.5 instruction a byte against SHA-256's
 * ~20): it only picks the DER chain and rejects most mismatches; a hit is
 * the byte-exact comparison with the stored copy. Keyed so that crafted
 * certificates cannot be made to share one chain. Four chains over the
 * 64-byte steps, joined at the end: each multiply waits for the one
 * before it in its chain only, so a certificate of every connection
 * (a kilobyte or more) costs a quarter of the wait (issue 19).
 */
static uint64_t der_hash(const struct x509_cache *c, const uint8_t *p, size_t len)
{
	uint64_t h = c->key0 ^ hash_mum(len ^ c->key1, 0x9E3779B97F4A7C15ull);
	size_t i = 0;

	if (len >= 64) {
		uint64_t h1 = h ^ 0x8EBC6AF09C88C6E3ull, h2 = h ^ 0x589965CC75374CC3ull, h3 = h ^ 0x1D8E4E27C47D124Full;
		for (; i + 64 <= len; i += 64) {
			h = hash_mum(load64le(p + i) ^ c->key1, load64le(p + i + 8) ^ h);
			h1 = hash_mum(load64le(p + i + 16) ^ c->key1, load64le(p + i + 24) ^ h1);
			h2 = hash_mum(load64le(p + i + 32) ^ c->key1, load64le(p + i + 40) ^ h2);
			h3 = hash_mum(load64le(p + i + 48) ^ c->key1, load64le(p + i + 56) ^ h3);
		}
		h = hash_mum(h ^ h1, h2 ^ h3 ^ c->key0);
	}
	for (; i + 16 <= len; i += 16)
		h = hash_mum(load64le(p + i) ^ c->key1, load64le(p + i + 8) ^ h);
	if (i < len) {
		uint8_t t[16] = { 0 };
		memcpy(t, p + i, len - i);
		h = hash_mum(load64le(t) ^ c->key1, load64le(t + 8) ^ h);
	}
	return hash_mum(h ^ c->key0, len ^ 0xE7037ED1A0B428DBull);
}

static size_t dbucket_of(uint64_t dh, size_t nbuckets)
{
	return (size_t)(dh ^ dh >> 32) & (nbuckets - 1);
}

static void lru_unlink(struct x509_cache *c, struct x509_entry *e)
{
	if (e->lru_prev)
		e->lru_prev->lru_next = e->lru_next;
	else if (c->lru_head == e)
		c->lru_head = e->lru_next;
	if (e->lru_next)
		e->lru_next->lru_prev = e->lru_prev;
	else if (c->lru_tail == e)
		c->lru_tail = e->lru_prev;
	e->lru_prev = e->lru_next = NULL;
}

static void lru_append(struct x509_cache *c, struct x509_entry *e)
{
	e->lru_next = NULL;
	e->lru_prev = c->lru_tail;
	if (c->lru_tail)
		c->lru_tail->lru_next = e;
	else
		c->lru_head = e;
	c->lru_tail = e;
}

static struct x509_entry *find(const struct x509_cache *c, const uint8_t sha[32])
{
	if (c->nbuckets == 0)
		return NULL;
	for (struct x509_entry *e = c->bucket[bucket_of(c, sha, c->nbuckets)]; e; e = e->hnext)
		if (memcmp(e->f.sha256, sha, 32) == 0)
			return e;
	return NULL;
}

/* An entry in the table with these DER bytes and a copy of them, or NULL. */
static struct x509_entry *find_der(const struct x509_cache *c, const uint8_t *der, size_t len, uint64_t dh)
{
	if (c->nbuckets == 0)
		return NULL;
	for (struct x509_entry *e = c->dbucket[dbucket_of(dh, c->nbuckets)]; e; e = e->dnext)
		if (e->dhash == dh && e->f.der_len == len && memcmp(e->der, der, len) == 0)
			return e;
	return NULL;
}

/* Keeps a copy of the DER of e (in the table) when the byte budget allows. */
static void der_attach(struct x509_cache *c, struct x509_entry *e, const uint8_t *der, size_t len, uint64_t dh)
{
	size_t b;

	if (e->der != NULL || !e->in_table || der == NULL || len == 0 || len > X509_DER_COPY_MAX ||
	    c->der_bytes + len > X509_DER_BYTES_MAX)
		return;
	e->der = malloc(len);
	if (e->der == NULL)
		return;
	memcpy(e->der, der, len);
	e->dhash = dh;
	c->der_bytes += len;
	b = dbucket_of(dh, c->nbuckets);
	e->dnext = c->dbucket[b];
	c->dbucket[b] = e;
}

static void table_remove(struct x509_cache *c, struct x509_entry *e)
{
	struct x509_entry **pp = &c->bucket[bucket_of(c, e->f.sha256, c->nbuckets)];

	while (*pp && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = e->hnext;
	e->hnext = NULL;
	if (e->der != NULL) {
		pp = &c->dbucket[dbucket_of(e->dhash, c->nbuckets)];
		while (*pp && *pp != e)
			pp = &(*pp)->dnext;
		if (*pp)
			*pp = e->dnext;
		e->dnext = NULL;
		c->der_bytes -= e->f.der_len;
		free(e->der);
		e->der = NULL;
	}
	e->in_table = 0;
	c->count--;
}

/* Frees the least recently released idle entry. Returns 0 when none. */
static int evict_one(struct x509_cache *c)
{
	struct x509_entry *e = c->lru_head;

	if (e == NULL)
		return 0;
	lru_unlink(c, e);
	table_remove(c, e);
	c->evictions++;
	free(e);
	return 1;
}

/* Makes room for one more entry; returns 0 when the table must not grow. */
static int table_room(struct x509_cache *c)
{
	if (c->max == 0)
		return 0;
	while (c->count >= c->max)
		if (!evict_one(c))
			return 0;
	if (c->nbuckets == 0 || c->count + 1 > c->nbuckets) {
		size_t nb = c->nbuckets ? c->nbuckets * 2 : X509_MIN_BUCKETS;
		struct x509_entry **nbk, **ndb;
		if (nb < c->nbuckets || nb > SIZE_MAX / sizeof *nbk)
			return c->nbuckets != 0;
		nbk = calloc(nb, sizeof *nbk);
		ndb = calloc(nb, sizeof *ndb);
		if (nbk == NULL || ndb == NULL) {
			free(nbk);
			free(ndb);
			return c->nbuckets != 0;   /* keep the old, longer chains */
		}
		for (size_t i = 0; i < c->nbuckets; i++) {
			struct x509_entry *e = c->bucket[i], *next;
			for (; e; e = next) {
				next = e->hnext;
				size_t b = bucket_of(c, e->f.sha256, nb);
				e->hnext = nbk[b];
				nbk[b] = e;
			}
			for (e = c->dbucket[i]; e; e = next) {
				next = e->dnext;
				size_t b = dbucket_of(e->dhash, nb);
				e->dnext = ndb[b];
				ndb[b] = e;
			}
		}
		free(c->bucket);
		free(c->dbucket);
		c->bucket = nbk;
		c->dbucket = ndb;
		c->nbuckets = nb;
	}
	return 1;
}

static void ensure_key(struct x509_cache *c)
{
	unsigned char k[16];

	if (c->keyed)
		return;
	if (RAND_bytes(k, sizeof k) == 1) {
		c->key0 = load64(k);
		c->key1 = load64(k + 8);
	} else {
		c->key0 = 0x243F6A8885A308D3ull ^ (uint64_t)(uintptr_t)c;
		c->key1 = 0x13198A2E03707344ull ^ (uint64_t)time(NULL);
	}
	ERR_clear_error();
	c->keyed = 1;
}

/* Under the lock (or without a cache): one more reference; an idle entry
 * leaves the LRU list. At zero no other thread can change the count (see
 * the top of the file); above it, ref_fast() and put_fast() may. */
static void ref_locked(struct x509_entry *e)
{
	uint32_t r = __atomic_load_n(&e->f.refs, __ATOMIC_RELAXED);
	if (r == 0 && e->in_table)
		lru_unlink(e->c, e);   /* idle in the cache: in use again */
	while (r < UINT32_MAX &&
	       !__atomic_compare_exchange_n(&e->f.refs, &r, r + 1, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

/* Without the lock: one more reference to an entry the caller holds one
 * of; 0 when the count is at zero or saturated (the lock decides then). */
static int ref_fast(struct x509_entry *e)
{
	uint32_t r = __atomic_load_n(&e->f.refs, __ATOMIC_RELAXED);
	while (r > 0 && r < UINT32_MAX)
		if (__atomic_compare_exchange_n(&e->f.refs, &r, r + 1, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
			return 1;
	return 0;
}

/* Without the lock: one reference given back, when others remain; 0 when
 * this may be the last one (the lock decides then). */
static int put_fast(struct x509_entry *e)
{
	uint32_t r = __atomic_load_n(&e->f.refs, __ATOMIC_RELAXED);
	while (r > 1)
		if (__atomic_compare_exchange_n(&e->f.refs, &r, r - 1, 1, __ATOMIC_RELEASE, __ATOMIC_RELAXED))
			return 1;
	return 0;
}

static const struct x509_facts *x509_get_locked(struct x509_cache *c, const uint8_t *der, size_t len)
{
	uint8_t sha[32];
	struct x509_entry *e;
	uint64_t dh;

	if (der == NULL)
		len = 0;
	ensure_key(c);
	/* the same bytes as a cached copy: no SHA-256 (it is in the facts) */
	dh = der_hash(c, der, len);
	e = len <= X509_DER_COPY_MAX ? find_der(c, der, len, dh) : NULL;
	if (e == NULL) {
		digest(der, len, sha);
		e = find(c, sha);
		if (e != NULL)
			der_attach(c, e, der, len, dh);   /* cached when the budget was spent */
	}
	if (e != NULL) {
		c->hits++;
		ref_locked(e);
		return &e->f;
	}
	c->misses++;
	e = calloc(1, sizeof *e);
	if (e == NULL)
		return NULL;
	e->c = c;
	memcpy(e->f.sha256, sha, 32);
	e->f.der_len = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
	fill_facts(&e->f, der, len);
	e->f.refs = 1;
	if (table_room(c)) {
		size_t b = bucket_of(c, sha, c->nbuckets);
		e->hnext = c->bucket[b];
		c->bucket[b] = e;
		e->in_table = 1;
		c->count++;
		der_attach(c, e, der, len, dh);
	} else {
		c->uncached++;
		c->detached++;
	}
	return &e->f;
}

static const struct x509_facts *x509_ref_locked(const struct x509_facts *f)
{
	ref_locked((struct x509_entry *)(void *)(uintptr_t)f);   /* f is e->f, the first member */
	return f;
}

static void x509_put_locked(const struct x509_facts *f)
{
	struct x509_entry *e = (struct x509_entry *)(void *)(uintptr_t)f;   /* f is e->f, the first member */
	struct x509_cache *c = e->c;

	if (__atomic_load_n(&e->f.refs, __ATOMIC_RELAXED) == 0)
		return;   /* a double put; ignore rather than corrupt the list */
	/* acquire: what the other holders did before their puts (put_fast())
	 * happens before the entry goes idle or is freed */
	if (__atomic_sub_fetch(&e->f.refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	if (!e->in_table) {
		if (c != NULL && c->detached > 0)
			c->detached--;
		free(e);
		return;
	}
	if (c->count > c->max) {   /* the maximum was lowered meanwhile */
		table_remove(c, e);
		c->evictions++;
		free(e);
		return;
	}
	lru_append(c, e);
}

void x509_vbudget_init(struct x509_vbudget *b)
{
	b->left = X509_VERIFY_CONN_UNITS;
}

const char *x509_skip_name(enum x509_skip s)
{
	switch (s) {
	case X509_SKIP_NONE: return "none";
	case X509_SKIP_KEY_SIZE: return "key_size";
	case X509_SKIP_KEY_EXPONENT: return "key_exponent";
	case X509_SKIP_CONN_BUDGET: return "connection_budget";
	case X509_SKIP_CAPTURE_BUDGET: return "capture_budget";
	}
	return "unknown";
}

/* Takes `units` from the connection's budget and the run's (refilled for
 * the capture time that passed); the reason when either has too few. */
static enum x509_skip budget_take(struct x509_cache *cc, struct x509_vbudget *b, int64_t ts_us, uint32_t units)
{
	if (b != NULL && b->left < units)
		return X509_SKIP_CONN_BUDGET;
	if (cc != NULL) {
		if (!cc->tokens_set) {
			cc->tokens_set = 1;
			cc->tokens = X509_VERIFY_BURST_UNITS;
			cc->tokens_ts = ts_us;
		} else if (ts_us > cc->tokens_ts) {
			uint64_t dt = (uint64_t)ts_us - (uint64_t)cc->tokens_ts;
			uint64_t add = dt >= 1000000ull * X509_VERIFY_BURST_UNITS ? X509_VERIFY_BURST_UNITS
				       : dt * X509_VERIFY_RATE_UNITS / 1000000u;
			if (add) {   /* else the time is kept, so short steps still add up */
				cc->tokens = cc->tokens + add > X509_VERIFY_BURST_UNITS ? X509_VERIFY_BURST_UNITS
											 : cc->tokens + add;
				cc->tokens_ts = ts_us;
			}
		}
		if (cc->tokens < units)
			return X509_SKIP_CAPTURE_BUDGET;
		cc->tokens -= units;
	}
	if (b != NULL)
		b->left -= units;
	return X509_SKIP_NONE;
}

static int verify_with(X509 *c, EVP_PKEY *pk)
{
	int v = pk != NULL ? X509_verify(c, pk) : -1;
	if (v == 1)
		return 1;
	if (v == 0)
		return 0;
	/* An error: a key of the wrong type is a plain "no"; an algorithm
	 * OpenSSL cannot check is "unknown". */
	unsigned long e = ERR_peek_last_error();
	return pk != NULL && ERR_GET_LIB(e) == ERR_LIB_ASN1 && ERR_GET_REASON(e) == ASN1_R_WRONG_PUBLIC_KEY_TYPE ? 0
														   : 2;
}

/* The check itself; the caller holds the cache's lock (when there is one).
 * `self`: child and parent are the same certificate. */
static int issued_by(struct x509_cache *cc, struct x509_vbudget *b, int64_t ts_us, int use_budget,
		     struct x509_entry *ce, const struct x509_facts *pf, const uint8_t psha[32], int self,
		     const uint8_t *child_der, size_t clen, const uint8_t *parent_der, size_t plen,
		     enum x509_skip *skip)
{
	X509 *c, *p;
	int r;

	*skip = X509_SKIP_NONE;
	if (ce != NULL && self && ce->self_valid)
		return ce->self_result;
	if (ce != NULL && !self && ce->memo_valid && memcmp(ce->memo_parent, psha, 32) == 0)
		return ce->memo_result;
	if (self && ce != NULL && !ce->f.self_issued)
		return 0;
	c = decode(child_der, clen);
	p = self ? NULL : decode(parent_der, plen);
	if (c == NULL || (!self && p == NULL)) {
		r = 2;
	} else if (!self && X509_NAME_cmp(X509_get_issuer_name(c), X509_get_subject_name(p)) != 0) {
		r = 0;
	} else if (self && X509_NAME_cmp(X509_get_issuer_name(c), X509_get_subject_name(c)) != 0) {
		r = 0;
	} else {
		/* the key's limits and cost: from its facts, else from the key */
		struct x509_facts tmp;
		const struct x509_facts *kf = pf;
		if (kf == NULL) {
			memset(&tmp, 0, sizeof(tmp));
			key_facts(self ? c : p, &tmp);
			kf = &tmp;
		}
		if (kf->key_skip)
			*skip = (enum x509_skip)kf->key_skip;
		else if (use_budget)
			*skip = budget_take(cc, b, ts_us, kf->verify_units ? kf->verify_units : 1);
		if (*skip) {
			if (cc != NULL)
				cc->verify_skipped++;
			X509_free(c);
			X509_free(p);
			ERR_clear_error();
			return 2;   /* not remembered: the next connection may have budget */
		}
		if (cc != NULL)
			cc->verify_made++;
		r = verify_with(c, X509_get0_pubkey(self ? c : p));
	}
	X509_free(c);
	X509_free(p);
	ERR_clear_error();
	if (ce != NULL && self) {
		ce->self_result = (uint8_t)r;
		ce->self_valid = 1;
	} else if (ce != NULL) {
		memcpy(ce->memo_parent, psha, 32);
		ce->memo_result = (uint8_t)r;
		ce->memo_valid = 1;
	}
	return r;
}

int x509_issued_by(struct x509_cache *c, const uint8_t *child_der, size_t clen, const uint8_t *parent_der,
		   size_t plen)
{
	uint8_t csha[32], psha[32];
	enum x509_skip skip;
	int r;

	digest(child_der, child_der ? clen : 0, csha);
	digest(parent_der, parent_der ? plen : 0, psha);
	if (c == NULL)
		return issued_by(NULL, NULL, 0, 0, NULL, NULL, psha, 0, child_der, clen, parent_der, plen, &skip);
	pthread_mutex_lock(&c->mu);
	r = issued_by(c, NULL, 0, 0, find(c, csha), NULL, psha, 0, child_der, clen, parent_der, plen, &skip);
	pthread_mutex_unlock(&c->mu);
	return r;
}

int x509_verify_link(struct x509_vbudget *b, int64_t ts_us, const struct x509_facts *cf, const uint8_t *child_der,
		     size_t clen, const struct x509_facts *pf, const uint8_t *parent_der, size_t plen,
		     enum x509_skip *skip)
{
	struct x509_entry *ce;
	struct x509_cache *c;
	enum x509_skip dummy;
	int r, self = cf == pf;

	if (skip == NULL)
		skip = &dummy;
	*skip = X509_SKIP_NONE;
	if (cf == NULL || pf == NULL || cf->malformed || pf->malformed)
		return 2;
	ce = (struct x509_entry *)(void *)(uintptr_t)cf;   /* facts are the first member of their entry */
	c = ce->c;
	if (c != NULL)
		pthread_mutex_lock(&c->mu);
	r = issued_by(c, b, ts_us, 1, ce, pf, pf->sha256, self, child_der, clen, parent_der, plen, skip);
	if (c != NULL)
		pthread_mutex_unlock(&c->mu);
	return r;
}

int x509_self_signed(const struct x509_facts *f)
{
	const struct x509_entry *e = (const struct x509_entry *)(const void *)f;
	int r;
	if (f == NULL || !f->self_issued)
		return 0;
	if (e->c != NULL)
		pthread_mutex_lock(&e->c->mu);
	r = e->self_valid && e->self_result == 1;
	if (e->c != NULL)
		pthread_mutex_unlock(&e->c->mu);
	return r;
}

int x509_hold(const struct x509_facts *f, int must)
{
	struct x509_entry *e = (struct x509_entry *)(void *)(uintptr_t)f;
	int keep = 1;
	if (f == NULL || e->c == NULL)
		return 1;
	pthread_mutex_lock(&e->c->mu);
	if (e->open_refs == 0) {
		if (!must && e->c->open_facts >= X509_OPEN_FACTS_MAX) {
			keep = 0;
			e->c->not_kept++;
		} else {
			e->c->open_facts++;
		}
	}
	if (keep && e->open_refs < UINT32_MAX)
		e->open_refs++;
	pthread_mutex_unlock(&e->c->mu);
	return keep;
}

void x509_unhold(const struct x509_facts *f)
{
	struct x509_entry *e = (struct x509_entry *)(void *)(uintptr_t)f;
	if (f == NULL || e->c == NULL)
		return;
	pthread_mutex_lock(&e->c->mu);
	if (e->open_refs > 0 && --e->open_refs == 0 && e->c->open_facts > 0)
		e->c->open_facts--;
	pthread_mutex_unlock(&e->c->mu);
}

void x509_verify_counts(struct x509_cache *c, uint64_t *made, uint64_t *skipped)
{
	if (c == NULL) {
		*made = *skipped = 0;
		return;
	}
	pthread_mutex_lock(&c->mu);
	*made = c->verify_made;
	*skipped = c->verify_skipped;
	pthread_mutex_unlock(&c->mu);
}

int x509_valid_at(const struct x509_facts *f, int64_t t)
{
	if (f == NULL || f->malformed || f->bad_time)
		return 0;
	if (t < f->not_before)
		return -1;
	if (t > f->not_after)
		return 1;
	return 0;
}

const char *x509_key_name(enum x509_key k)
{
	switch (k) {
	case XK_UNKNOWN: return "unknown";
	case XK_RSA:     return "RSA";
	case XK_EC:      return "EC";
	case XK_ED25519: return "Ed25519";
	case XK_ED448:   return "Ed448";
	case XK_DSA:     return "DSA";
	case XK_RSA_PSS: return "RSA-PSS";
	case XK_OTHER:   return "other";
	}
	return "unknown";
}

void x509_cache_stats(struct x509_cache *c, uint64_t *hits, uint64_t *misses, uint64_t *entries)
{
	pthread_mutex_lock(&c->mu);
	if (hits)
		*hits = c->hits;
	if (misses)
		*misses = c->misses;
	if (entries)
		*entries = c->count;
	pthread_mutex_unlock(&c->mu);
}

void x509_cache_limits(struct x509_cache *c, uint64_t *evictions, uint64_t *uncached)
{
	pthread_mutex_lock(&c->mu);
	if (evictions)
		*evictions = c->evictions;
	if (uncached)
		*uncached = c->uncached;
	pthread_mutex_unlock(&c->mu);
}

static void x509_cache_clear_locked(struct x509_cache *c)
{
	while (c->lru_head != NULL) {
		struct x509_entry *e = c->lru_head;
		lru_unlink(c, e);
		table_remove(c, e);
		free(e);
	}
	if (c->count == 0) {
		free(c->bucket);
		free(c->dbucket);
		c->bucket = NULL;
		c->dbucket = NULL;
		c->nbuckets = 0;
	}
}

static void x509_set_cache_max_locked(struct x509_cache *c, size_t n)
{
	c->max = n;
	while (c->count > c->max)
		if (!evict_one(c))
			break;
}

/* ---- the locked entry points ------------------------------------------- */

struct x509_cache *x509_cache_new(void)
{
	struct x509_cache *c = calloc(1, sizeof *c);

	if (c == NULL)
		return NULL;
	if (pthread_mutex_init(&c->mu, NULL) != 0) {
		free(c);
		return NULL;
	}
	c->max = X509_CACHE_DEFAULT_MAX;
	ensure_key(c);
	return c;
}

void x509_cache_free(struct x509_cache *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	x509_cache_clear_locked(c);
	pthread_mutex_unlock(&c->mu);
	if (c->count != 0 || c->detached != 0)
		return;   /* still referenced: a leak of the caller's, not a use after free */
	pthread_mutex_destroy(&c->mu);
	free(c);
}

const struct x509_facts *x509_get(struct x509_cache *c, const uint8_t *der, size_t len)
{
	const struct x509_facts *f;
	struct x509_entry *e;

	if (c != NULL) {
		pthread_mutex_lock(&c->mu);
		f = x509_get_locked(c, der, len);
		pthread_mutex_unlock(&c->mu);
		return f;
	}
	/* no cache: decoded for this caller alone, freed by its last x509_put() */
	if (der == NULL)
		len = 0;
	e = calloc(1, sizeof *e);
	if (e == NULL)
		return NULL;
	digest(der, len, e->f.sha256);
	e->f.der_len = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
	fill_facts(&e->f, der, len);
	e->f.refs = 1;
	return &e->f;
}

/* Entries of a cache change under its lock; one made without a cache
 * belongs to whoever holds it. */
static struct x509_cache *lock_of(const struct x509_facts *f)
{
	return ((const struct x509_entry *)(const void *)f)->c;
}

const struct x509_facts *x509_ref(const struct x509_facts *f)
{
	struct x509_cache *c;

	if (f == NULL)
		return NULL;
	c = lock_of(f);
	if (c && ref_fast((struct x509_entry *)(void *)(uintptr_t)f))
		return f;
	if (c)
		pthread_mutex_lock(&c->mu);
	f = x509_ref_locked(f);
	if (c)
		pthread_mutex_unlock(&c->mu);
	return f;
}

void x509_put(const struct x509_facts *f)
{
	struct x509_cache *c;

	if (f == NULL)
		return;
	c = lock_of(f);
	if (c && put_fast((struct x509_entry *)(void *)(uintptr_t)f))
		return;
	if (c)
		pthread_mutex_lock(&c->mu);
	x509_put_locked(f);
	if (c)
		pthread_mutex_unlock(&c->mu);
}

void x509_cache_clear(struct x509_cache *c)
{
	pthread_mutex_lock(&c->mu);
	x509_cache_clear_locked(c);
	pthread_mutex_unlock(&c->mu);
}

void x509_set_cache_max(struct x509_cache *c, size_t n)
{
	pthread_mutex_lock(&c->mu);
	x509_set_cache_max_locked(c, n);
	pthread_mutex_unlock(&c->mu);
}

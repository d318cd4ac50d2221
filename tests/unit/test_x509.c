/*
 * test_x509.c - unit test for dissect/x509.c.
 *
 * Makes real certificates at run time with the OpenSSL API (RSA 2048 and
 * 1024, EC P-256 and P-384, Ed25519, Ed448): a self-signed root, an
 * intermediate signed by it, a leaf signed by the intermediate with DNS and
 * IP SANs, an expired v1 certificate from before 1970 with a negative
 * serial, one valid past 2050 (GeneralizedTime), impostors that name the
 * root as issuer but are signed by other keys, and certificates whose names
 * and SANs carry control bytes, NUL and invalid UTF-8. Each is serialized
 * with i2d_X509() and every fact x509_get() reports is checked, then
 * x509_issued_by() both ways, x509_valid_at() around the edges, the cache
 * (hits, misses, refcounts, LRU eviction, a table full of referenced
 * entries, a lowered maximum) and hostile DER (empty, 1 byte, garbage,
 * every truncation of every certificate, trailing bytes, byte flips).
 *
 * Invariants: everything allocated is freed, so LeakSanitizer is clean.
 * Output: failures as they happen, then "N passed, N failed"; exit status
 * non-zero on any failure.
 */
#include "dissect/x509.h"
#include "tests/unit/check.h"

#include <pthread.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* ---- certificate factory ------------------------------------------------ */

struct spec {
	const char *cn;          /* NULL: no CN */
	const char *org;         /* NULL: no O */
	X509_NAME *name;         /* overrides cn/org when set (not taken) */
	EVP_PKEY *key;           /* subject key */
	X509 *issuer;            /* issuer name from here; NULL: self */
	EVP_PKEY *signer;        /* signing key; NULL: key (self) */
	long version;            /* 0 = v1, 2 = v3 */
	const char *serial;      /* hex, may start with '-' */
	const char *not_before;  /* ASN1_TIME_set_string form */
	const char *not_after;
	int ca;                  /* basicConstraints: -1 absent, 0, 1 */
	const char *san;         /* v3 conf form, NULL: none */
	GENERAL_NAMES *gens;     /* raw SANs (not taken) */
	const EVP_MD *md;        /* NULL for Ed25519 / Ed448 */
};

struct blob {
	uint8_t *p;
	size_t n;
};

static EVP_PKEY *key_rsa(unsigned bits)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
	if (k == NULL) {
		fprintf(stderr, "RSA keygen failed\n");
		exit(2);
	}
	return k;
}

static EVP_PKEY *key_named(const char *type, const char *curve)
{
	EVP_PKEY *k = curve ? EVP_PKEY_Q_keygen(NULL, NULL, type, curve)
	                    : EVP_PKEY_Q_keygen(NULL, NULL, type);
	if (k == NULL) {
		fprintf(stderr, "%s keygen failed\n", type);
		exit(2);
	}
	return k;
}

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (ext == NULL || !X509_add_ext(x, ext, -1)) {
		fprintf(stderr, "extension %d %s failed\n", nid, value);
		exit(2);
	}
	X509_EXTENSION_free(ext);
}

static X509 *make_cert(const struct spec *s)
{
	X509 *x = X509_new();
	BIGNUM *bn = NULL;
	ASN1_INTEGER *serial;
	X509_NAME *name;
	int ok = x != NULL;

	ok = ok && X509_set_version(x, s->version);
	ok = ok && BN_hex2bn(&bn, s->serial) > 0;
	serial = ok ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
	ok = ok && serial != NULL && X509_set_serialNumber(x, serial);
	ASN1_INTEGER_free(serial);
	BN_free(bn);
	if (s->name) {
		name = X509_NAME_dup(s->name);
	} else {
		name = X509_NAME_new();
		if (s->org)
			ok = ok && X509_NAME_add_entry_by_NID(name, NID_organizationName, MBSTRING_UTF8,
			                                      (const unsigned char *)s->org, -1, -1, 0);
		if (s->cn)
			ok = ok && X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
			                                      (const unsigned char *)s->cn, -1, -1, 0);
	}
	ok = ok && name != NULL && X509_set_subject_name(x, name);
	ok = ok && X509_set_issuer_name(x, s->issuer ? X509_get_subject_name(s->issuer) : name);
	X509_NAME_free(name);
	ok = ok && ASN1_TIME_set_string(X509_getm_notBefore(x), s->not_before);
	ok = ok && ASN1_TIME_set_string(X509_getm_notAfter(x), s->not_after);
	ok = ok && X509_set_pubkey(x, s->key);
	if (!ok) {
		fprintf(stderr, "building certificate %s failed\n", s->cn ? s->cn : "?");
		ERR_print_errors_fp(stderr);
		exit(2);
	}
	if (s->ca >= 0)
		add_ext(x, s->issuer, NID_basic_constraints, s->ca ? "critical,CA:TRUE" : "CA:FALSE");
	if (s->san)
		add_ext(x, s->issuer, NID_subject_alt_name, s->san);
	if (s->gens && !X509_add1_ext_i2d(x, NID_subject_alt_name, s->gens, 0, 0)) {
		fprintf(stderr, "raw SAN failed\n");
		exit(2);
	}
	if (X509_sign(x, s->signer ? s->signer : s->key, s->md) <= 0) {
		fprintf(stderr, "signing %s failed\n", s->cn ? s->cn : "?");
		ERR_print_errors_fp(stderr);
		exit(2);
	}
	return x;
}

static struct blob der_of(X509 *x)
{
	struct blob b = { NULL, 0 };
	int n = i2d_X509(x, NULL);
	unsigned char *p;

	if (n <= 0 || (b.p = malloc((size_t)n)) == NULL) {
		fprintf(stderr, "i2d_X509 failed\n");
		exit(2);
	}
	p = b.p;
	if (i2d_X509(x, &p) != n) {
		fprintf(stderr, "i2d_X509 length changed\n");
		exit(2);
	}
	b.n = (size_t)n;
	return b;
}

/* ---- fact helpers ------------------------------------------------------- */

static int terminated(const char *s, size_t cap)
{
	return memchr(s, '\0', cap) != NULL;
}

static int bounded(const struct x509_facts *f)
{
	return terminated(f->subject, sizeof f->subject) &&
	       terminated(f->issuer, sizeof f->issuer) &&
	       terminated(f->subject_cn, sizeof f->subject_cn) &&
	       terminated(f->san, sizeof f->san) &&
	       terminated(f->serial_hex, sizeof f->serial_hex) &&
	       terminated(f->key_curve, sizeof f->key_curve) &&
	       terminated(f->sig_alg, sizeof f->sig_alg);
}

static int sha_ok(const struct x509_facts *f, const uint8_t *p, size_t n)
{
	static const uint8_t empty[1];
	uint8_t md[32];
	unsigned len = 0;

	if (!EVP_Digest(n ? p : empty, n, md, &len, EVP_sha256(), NULL) || len != 32)
		return 0;
	return memcmp(md, f->sha256, 32) == 0;
}

/* Malformed facts: hash and length only, the rest zero or empty. */
/* x509_verify_link() asked whether f (whose DER is p, n) is self-signed, no budget. */
static int selfsig(const struct x509_facts *f, const uint8_t *p, size_t n)
{
	return x509_verify_link(NULL, 0, f, p, n, f, p, n, NULL) == 1;
}

static int malformed_only(const struct x509_facts *f, const uint8_t *p, size_t n)
{
	return f != NULL && f->malformed == 1 && f->der_len == n && sha_ok(f, p, n) &&
	       f->version == 0 && f->subject[0] == 0 && f->issuer[0] == 0 &&
	       f->subject_cn[0] == 0 && f->san[0] == 0 && f->n_san_dns == 0 &&
	       f->serial_hex[0] == 0 && f->not_before == 0 && f->not_after == 0 &&
	       f->bad_time == 0 && f->self_issued == 0 && f->key_skip == 0 && f->verify_units == 0 &&
	       f->is_ca == 0 && f->key_type == XK_UNKNOWN && f->key_bits == 0 &&
	       f->key_curve[0] == 0 && f->sig_alg[0] == 0 && f->sig_nid == 0 &&
	       x509_valid_at(f, 0) == 0;
}

/* ---- the certificates --------------------------------------------------- */

enum { ROOT, INTER, LEAF, EXPIRED, FAR, ED448, FAKE_RSA, FAKE_EC, SELF_ISSUED, NCERTS };

static EVP_PKEY *k_rsa2048, *k_rsa1024, *k_p256, *k_p384, *k_ed25519, *k_ed448;
static X509 *certs[NCERTS];
static struct x509_cache *xc;   /* the cache under test */
static struct blob der[NCERTS];

static void make_chain(void)
{
	struct spec s;

	k_rsa2048 = key_rsa(2048);
	k_rsa1024 = key_rsa(1024);
	k_p256 = key_named("EC", "P-256");
	k_p384 = key_named("EC", "P-384");
	k_ed25519 = key_named("ED25519", NULL);
	k_ed448 = key_named("ED448", NULL);

	memset(&s, 0, sizeof s);
	s.cn = "Test Root CA";
	s.org = "tlswhy";
	s.key = k_rsa2048;
	s.version = 2;
	s.serial = "01";
	s.not_before = "200101000000Z";        /* UTCTime 2020-01-01 */
	s.not_after = "20400101000000Z";       /* GeneralizedTime past 2038 */
	s.ca = 1;
	s.md = EVP_sha256();
	certs[ROOT] = make_cert(&s);

	memset(&s, 0, sizeof s);
	s.cn = "Test Intermediate";
	s.org = "tlswhy";
	s.key = k_p384;
	s.issuer = certs[ROOT];
	s.signer = k_rsa2048;
	s.version = 2;
	s.serial = "00000BADC0FFEE";
	s.not_before = "200601000000Z";
	s.not_after = "300101000000Z";
	s.ca = 1;
	s.md = EVP_sha256();
	certs[INTER] = make_cert(&s);

	memset(&s, 0, sizeof s);
	s.cn = "www.example.com";
	s.org = "Acme, Inc.";
	s.key = k_p256;
	s.issuer = certs[INTER];
	s.signer = k_p384;
	s.version = 2;
	s.serial = "8000000000000000000000000000000000000001";   /* 20 octets, top bit set */
	s.not_before = "240101000000Z";
	s.not_after = "250101000000Z";
	s.ca = 0;
	s.san = "DNS:www.example.com, DNS:example.com, IP:192.0.2.7, IP:2001:db8::1";
	s.md = EVP_sha384();
	certs[LEAF] = make_cert(&s);

	memset(&s, 0, sizeof s);
	s.cn = "Old Times";
	s.key = k_rsa1024;
	s.version = 0;                          /* v1, no extensions */
	s.serial = "-1234";
	s.not_before = "650101000000Z";         /* UTCTime 1965 */
	s.not_after = "991231235959Z";
	s.ca = -1;
	s.md = EVP_sha256();
	certs[EXPIRED] = make_cert(&s);

	memset(&s, 0, sizeof s);
	s.cn = "Far Future";
	s.key = k_ed25519;
	s.version = 2;
	s.serial = "0";
	s.not_before = "20100615120000Z";
	s.not_after = "20510101000000Z";
	s.ca = 0;
	s.san = "DNS:far.example";
	certs[FAR] = make_cert(&s);

	memset(&s, 0, sizeof s);
	s.cn = "Ed448 Root";
	s.key = k_ed448;
	s.version = 2;
	s.serial = "7F";
	s.not_before = "20100615120000Z";
	s.not_after = "99991231235959Z";
	s.ca = 1;
	certs[ED448] = make_cert(&s);

	/* Names the root as issuer, signed by a different RSA key. */
	memset(&s, 0, sizeof s);
	s.cn = "Impostor RSA";
	s.key = k_rsa1024;
	s.issuer = certs[ROOT];
	s.signer = k_rsa1024;
	s.version = 2;
	s.serial = "02";
	s.not_before = "200101000000Z";
	s.not_after = "300101000000Z";
	s.ca = -1;
	s.md = EVP_sha256();
	certs[FAKE_RSA] = make_cert(&s);

	/* Names the root as issuer, signed by an EC key: wrong key type. */
	s.cn = "Impostor EC";
	s.signer = k_p256;
	certs[FAKE_EC] = make_cert(&s);

	/* subject == issuer, but signed by someone else's key. */
	memset(&s, 0, sizeof s);
	s.cn = "Self Issued";
	s.key = k_p256;
	s.signer = k_p384;
	s.version = 2;
	s.serial = "03";
	s.not_before = "200101000000Z";
	s.not_after = "300101000000Z";
	s.ca = -1;
	s.md = EVP_sha256();
	certs[SELF_ISSUED] = make_cert(&s);

	for (int i = 0; i < NCERTS; i++)
		der[i] = der_of(certs[i]);
}

/* ---- tests -------------------------------------------------------------- */

static void test_key_names(void)
{
	CHECK_STR(x509_key_name(XK_UNKNOWN), "unknown");
	CHECK_STR(x509_key_name(XK_RSA), "RSA");
	CHECK_STR(x509_key_name(XK_EC), "EC");
	CHECK_STR(x509_key_name(XK_ED25519), "Ed25519");
	CHECK_STR(x509_key_name(XK_ED448), "Ed448");
	CHECK_STR(x509_key_name(XK_DSA), "DSA");
	CHECK_STR(x509_key_name(XK_RSA_PSS), "RSA-PSS");
	CHECK_STR(x509_key_name(XK_OTHER), "other");
	CHECK_STR(x509_key_name((enum x509_key)99), "unknown");
}

static void test_facts(void)
{
	const struct x509_facts *f;

	f = x509_get(xc, der[ROOT].p, der[ROOT].n);
	CHECK(f != NULL);
	CHECK(bounded(f));
	CHECK_INT(f->malformed, 0);
	CHECK_INT(f->der_len, der[ROOT].n);
	CHECK(sha_ok(f, der[ROOT].p, der[ROOT].n));
	CHECK_INT(f->version, 3);
	CHECK_STR(f->subject, "CN=Test Root CA,O=tlswhy");
	CHECK_STR(f->issuer, "CN=Test Root CA,O=tlswhy");
	CHECK_STR(f->subject_cn, "Test Root CA");
	CHECK_STR(f->san, "");
	CHECK_INT(f->n_san_dns, 0);
	CHECK_STR(f->serial_hex, "01");
	CHECK_INT(f->not_before, 1577836800);
	CHECK_INT(f->not_after, 2208988800LL);
	CHECK_INT(f->bad_time, 0);
	CHECK_INT(f->self_issued, 1);
	CHECK_INT(selfsig(f, der[ROOT].p, der[ROOT].n), 1);
	CHECK_INT(f->is_ca, 1);
	CHECK_INT(f->key_type, XK_RSA);
	CHECK_INT(f->key_bits, 2048);
	CHECK_STR(f->key_curve, "");
	CHECK_STR(f->sig_alg, "sha256WithRSAEncryption");
	CHECK_INT(f->sig_nid, NID_sha256WithRSAEncryption);
	CHECK_INT(x509_valid_at(f, 1577836799), -1);
	CHECK_INT(x509_valid_at(f, 1577836800), 0);
	CHECK_INT(x509_valid_at(f, 2000000000), 0);
	CHECK_INT(x509_valid_at(f, 2208988800LL), 0);
	CHECK_INT(x509_valid_at(f, 2208988801LL), 1);
	x509_put(f);

	f = x509_get(xc, der[INTER].p, der[INTER].n);
	CHECK(f != NULL && bounded(f));
	CHECK_INT(f->malformed, 0);
	CHECK_INT(f->version, 3);
	CHECK_STR(f->subject, "CN=Test Intermediate,O=tlswhy");
	CHECK_STR(f->issuer, "CN=Test Root CA,O=tlswhy");
	CHECK_STR(f->subject_cn, "Test Intermediate");
	CHECK_STR(f->serial_hex, "0badc0ffee");
	CHECK_INT(f->self_issued, 0);
	CHECK_INT(selfsig(f, der[INTER].p, der[INTER].n), 0);
	CHECK_INT(f->is_ca, 1);
	CHECK_INT(f->key_type, XK_EC);
	CHECK_INT(f->key_bits, 384);
	CHECK_STR(f->key_curve, "secp384r1");
	CHECK_STR(f->sig_alg, "sha256WithRSAEncryption");
	x509_put(f);

	f = x509_get(xc, der[LEAF].p, der[LEAF].n);
	CHECK(f != NULL && bounded(f));
	CHECK_INT(f->malformed, 0);
	CHECK_STR(f->subject, "CN=www.example.com,O=Acme\\, Inc.");
	CHECK_STR(f->issuer, "CN=Test Intermediate,O=tlswhy");
	CHECK_STR(f->subject_cn, "www.example.com");
	CHECK_STR(f->san, "DNS:www.example.com, DNS:example.com, IP:192.0.2.7, IP:2001:db8::1");
	CHECK_INT(f->n_san_dns, 2);
	CHECK_STR(f->serial_hex, "8000000000000000000000000000000000000001");
	CHECK_INT(f->is_ca, 0);
	CHECK_INT(f->key_type, XK_EC);
	CHECK_INT(f->key_bits, 256);
	CHECK_STR(f->key_curve, "prime256v1");
	CHECK_STR(f->sig_alg, OBJ_nid2ln(NID_ecdsa_with_SHA384));
	CHECK_STR(f->sig_alg, "ecdsa-with-SHA384");
	CHECK_INT(f->sig_nid, NID_ecdsa_with_SHA384);
	CHECK_INT(f->self_issued, 0);
	CHECK_INT(selfsig(f, der[LEAF].p, der[LEAF].n), 0);
	x509_put(f);

	f = x509_get(xc, der[EXPIRED].p, der[EXPIRED].n);
	CHECK(f != NULL && bounded(f));
	CHECK_INT(f->malformed, 0);
	CHECK_INT(f->version, 1);
	CHECK_STR(f->subject, "CN=Old Times");
	CHECK_STR(f->serial_hex, "-1234");
	CHECK_INT(f->not_before, -157766400LL);
	CHECK_INT(f->not_after, 946684799LL);
	CHECK_INT(f->is_ca, -1);
	CHECK_INT(f->self_issued, 1);
	CHECK_INT(selfsig(f, der[EXPIRED].p, der[EXPIRED].n), 1);
	CHECK_INT(f->key_type, XK_RSA);
	CHECK_INT(f->key_bits, 1024);
	CHECK_INT(x509_valid_at(f, 1700000000), 1);
	CHECK_INT(x509_valid_at(f, 946684800), 1);
	CHECK_INT(x509_valid_at(f, 946684799), 0);
	CHECK_INT(x509_valid_at(f, 0), 0);
	CHECK_INT(x509_valid_at(f, -157766400LL), 0);
	CHECK_INT(x509_valid_at(f, -157766401LL), -1);
	x509_put(f);

	f = x509_get(xc, der[FAR].p, der[FAR].n);
	CHECK(f != NULL && bounded(f));
	CHECK_INT(f->malformed, 0);
	CHECK_STR(f->serial_hex, "00");
	CHECK_INT(f->not_before, 1276603200LL);
	CHECK_INT(f->not_after, 2556144000LL);
	CHECK_INT(f->key_type, XK_ED25519);
	CHECK_INT(f->key_bits, 256);   /* what EVP_PKEY_get_bits says for Ed25519 in 3.0 */
	CHECK_STR(f->sig_alg, OBJ_nid2ln(NID_ED25519));
	CHECK_INT(f->sig_nid, NID_ED25519);
	CHECK_INT(selfsig(f, der[FAR].p, der[FAR].n), 1);
	CHECK_INT(f->is_ca, 0);
	CHECK_STR(f->san, "DNS:far.example");
	CHECK_INT(f->n_san_dns, 1);
	CHECK_INT(x509_valid_at(f, 2556144000LL), 0);
	CHECK_INT(x509_valid_at(f, 4102444799LL), 1);
	x509_put(f);

	f = x509_get(xc, der[ED448].p, der[ED448].n);
	CHECK(f != NULL && bounded(f));
	CHECK_INT(f->key_type, XK_ED448);
	CHECK_INT(f->key_bits, 456);
	CHECK_INT(f->not_after, 253402300799LL);
	CHECK_STR(f->serial_hex, "7f");
	CHECK_INT(selfsig(f, der[ED448].p, der[ED448].n), 1);
	CHECK_INT(f->sig_nid, NID_ED448);
	x509_put(f);

	f = x509_get(xc, der[SELF_ISSUED].p, der[SELF_ISSUED].n);
	CHECK(f != NULL && bounded(f));
	CHECK_INT(f->self_issued, 1);
	CHECK_INT(selfsig(f, der[SELF_ISSUED].p, der[SELF_ISSUED].n), 0);
	CHECK_STR(f->sig_alg, "ecdsa-with-SHA256");
	x509_put(f);

	f = x509_get(xc, der[FAKE_RSA].p, der[FAKE_RSA].n);
	CHECK(f != NULL && bounded(f));
	CHECK_STR(f->issuer, "CN=Test Root CA,O=tlswhy");
	CHECK_INT(f->self_issued, 0);
	x509_put(f);
}

static void test_issued_by(void)
{
	static const uint8_t junk[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };

	CHECK_INT(x509_issued_by(xc, der[INTER].p, der[INTER].n, der[ROOT].p, der[ROOT].n), 1);
	CHECK_INT(x509_issued_by(xc, der[LEAF].p, der[LEAF].n, der[INTER].p, der[INTER].n), 1);
	CHECK_INT(x509_issued_by(xc, der[ROOT].p, der[ROOT].n, der[ROOT].p, der[ROOT].n), 1);
	CHECK_INT(x509_issued_by(xc, der[ROOT].p, der[ROOT].n, der[INTER].p, der[INTER].n), 0);
	CHECK_INT(x509_issued_by(xc, der[INTER].p, der[INTER].n, der[LEAF].p, der[LEAF].n), 0);
	CHECK_INT(x509_issued_by(xc, der[LEAF].p, der[LEAF].n, der[ROOT].p, der[ROOT].n), 0);
	CHECK_INT(x509_issued_by(xc, der[FAKE_RSA].p, der[FAKE_RSA].n, der[ROOT].p, der[ROOT].n), 0);
	CHECK_INT(x509_issued_by(xc, der[FAKE_EC].p, der[FAKE_EC].n, der[ROOT].p, der[ROOT].n), 0);
	CHECK_INT(x509_issued_by(xc, der[SELF_ISSUED].p, der[SELF_ISSUED].n,
	                         der[SELF_ISSUED].p, der[SELF_ISSUED].n), 0);
	CHECK_INT(x509_issued_by(xc, der[LEAF].p, der[LEAF].n, junk, sizeof junk), 2);
	CHECK_INT(x509_issued_by(xc, junk, sizeof junk, der[ROOT].p, der[ROOT].n), 2);
	CHECK_INT(x509_issued_by(xc, NULL, 0, NULL, 0), 2);
	CHECK_INT(x509_issued_by(xc, der[LEAF].p, der[LEAF].n - 1, der[INTER].p, der[INTER].n), 2);

	/* With the child cached, the answer is remembered and stays the same. */
	const struct x509_facts *leaf = x509_get(xc, der[LEAF].p, der[LEAF].n);
	const struct x509_facts *fake = x509_get(xc, der[FAKE_RSA].p, der[FAKE_RSA].n);
	for (int i = 0; i < 3; i++) {
		CHECK_INT(x509_issued_by(xc, der[LEAF].p, der[LEAF].n, der[INTER].p, der[INTER].n), 1);
		CHECK_INT(x509_issued_by(xc, der[LEAF].p, der[LEAF].n, der[ROOT].p, der[ROOT].n), 0);
		CHECK_INT(x509_issued_by(xc, der[FAKE_RSA].p, der[FAKE_RSA].n, der[ROOT].p, der[ROOT].n), 0);
	}
	x509_put(leaf);
	x509_put(fake);
}

static void test_hostile_names(void)
{
	static const unsigned char bad_cn[] = "ev\x01il\xff\xfe\x00tail\x1b[31m";
	static const unsigned char bad_dns[] = "a\x1b[31m\xff\xc3\x00" "b.example";
	static const unsigned char odd_ip[] = { 10, 0, 0, 1, 99 };
	X509_NAME *name = X509_NAME_new();
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
	GENERAL_NAME *g;
	ASN1_IA5STRING *ia5;
	ASN1_OCTET_STRING *ip;
	struct spec s;
	int ok;

	/* Control bytes and invalid UTF-8 in a T61String (OpenSSL reads it as
	 * Latin-1) and valid UTF-8 with a control byte in an O. */
	ok = X509_NAME_add_entry_by_NID(name, NID_organizationName, MBSTRING_UTF8,
	                                (const unsigned char *)"\xc3\x9cn\x07i", -1, -1, 0);
	ok = ok && X509_NAME_add_entry_by_NID(name, NID_commonName, V_ASN1_T61STRING,
	                                      bad_cn, (int)sizeof bad_cn - 1, -1, 0);
	g = GENERAL_NAME_new();
	ia5 = ASN1_IA5STRING_new();
	ok = ok && g && ia5 && ASN1_STRING_set(ia5, bad_dns, (int)sizeof bad_dns - 1);
	if (ok) {
		GENERAL_NAME_set0_value(g, GEN_DNS, ia5);
		ok = sk_GENERAL_NAME_push(gens, g) > 0;
	}
	g = GENERAL_NAME_new();
	ip = ASN1_OCTET_STRING_new();
	ok = ok && g && ip && ASN1_OCTET_STRING_set(ip, odd_ip, (int)sizeof odd_ip);
	if (ok) {
		GENERAL_NAME_set0_value(g, GEN_IPADD, ip);
		ok = sk_GENERAL_NAME_push(gens, g) > 0;
	}
	CHECK(ok);
	if (!ok)
		exit(2);

	memset(&s, 0, sizeof s);
	s.name = name;
	s.key = k_p256;
	s.version = 2;
	s.serial = "42";
	s.not_before = "200101000000Z";
	s.not_after = "300101000000Z";
	s.ca = -1;
	s.gens = gens;
	s.md = EVP_sha256();
	X509 *x = make_cert(&s);
	struct blob b = der_of(x);
	const struct x509_facts *f = x509_get(xc, b.p, b.n);
	CHECK(f != NULL && bounded(f));
	CHECK_INT(f->malformed, 0);
	printf("hostile subject: %s\n", f->subject);
	CHECK(strncmp(f->subject, "CN=ev\\01il\\C3\\BF\\C3\\BE\\00tail\\1B[31m,O=\\C3\\9Cn\\07i", 80) == 0);
	/* The CN is converted to UTF-8 (T61 read as Latin-1); NUL as "\00". */
	CHECK_STR(f->subject_cn, "ev\x01il\xc3\xbf\xc3\xbe\\00tail\x1b[31m");
	CHECK_STR(f->san, "DNS:a\x1b[31m\xff\xc3\\00b.example, IP:#0a00000163");
	CHECK_INT(f->n_san_dns, 1);
	CHECK_INT(selfsig(f, b.p, b.n), 1);
	x509_put(f);
	X509_free(x);
	free(b.p);
	X509_NAME_free(name);
	GENERAL_NAMES_free(gens);
}

/* A UTF8String holding invalid UTF-8 cannot be built through the API (the
 * name's canonical form fails), so patch a valid certificate's bytes: the
 * CN value of a certificate whose CN is "ABCDEFGH" becomes invalid UTF-8.
 * OpenSSL may reject the result at decode time or print it per attribute;
 * either way the facts must be bounded and the call must not crash. */
static void test_invalid_utf8_name(void)
{
	struct spec s;
	memset(&s, 0, sizeof s);
	s.cn = "ABCDEFGH";
	s.org = "Org";
	s.key = k_p256;
	s.version = 2;
	s.serial = "43";
	s.not_before = "200101000000Z";
	s.not_after = "300101000000Z";
	s.ca = -1;
	s.md = EVP_sha256();
	X509 *x = make_cert(&s);
	struct blob b = der_of(x);
	int patched = 0;

	for (size_t i = 0; i + 10 <= b.n; i++) {
		if (b.p[i] == 0x0c && b.p[i + 1] == 8 && memcmp(b.p + i + 2, "ABCDEFGH", 8) == 0) {
			memcpy(b.p + i + 2, "\xff\x01\xc3(\x00\xe2\x82Z", 8);
			patched++;
		}
	}
	CHECK_INT(patched, 2);   /* subject and issuer */
	const struct x509_facts *f = x509_get(xc, b.p, b.n);
	CHECK(f != NULL && bounded(f));
	if (f != NULL && !f->malformed) {
		printf("invalid UTF-8 subject: %s\n", f->subject);
		CHECK(strstr(f->subject, "O=Org") != NULL);
		CHECK(f->subject[0] == 'C' && f->subject[1] == 'N' && f->subject[2] == '=');
		CHECK(f->self_issued == 1);
		CHECK(selfsig(f, b.p, b.n) == 0);   /* the signature covered the old bytes */
		CHECK_STR(f->subject_cn, "\xff\x01\xc3(\\00\xe2\x82Z");
	} else if (f != NULL) {
		/* OpenSSL 3.0: the name's canonical form fails, so d2i does. */
		printf("invalid UTF-8 subject: OpenSSL rejects the certificate\n");
		CHECK(malformed_only(f, b.p, b.n));
	}
	x509_put(f);
	X509_free(x);
	free(b.p);
}

/* Patches the first occurrence of pat in a copy of b at offset off. */
static struct blob patched_copy(struct blob b, const uint8_t *pat, size_t plen, size_t off, uint8_t val)
{
	struct blob c = { malloc(b.n), b.n };

	if (c.p == NULL)
		exit(2);
	memcpy(c.p, b.p, b.n);
	for (size_t i = 0; i + plen <= c.n; i++)
		if (memcmp(c.p + i, pat, plen) == 0) {
			c.p[i + off] = val;
			return c;
		}
	free(c.p);
	c.p = NULL;
	return c;
}

/* A key that does not decode, and a key algorithm OpenSSL does not know. */
static void test_odd_keys(void)
{
	/* RSAPublicKey of a 1024-bit key: SEQUENCE { INTEGER (129 bytes) ... } */
	static const uint8_t rsa_seq[] = { 0x30, 0x81, 0x89, 0x02, 0x81, 0x81 };
	/* rsaEncryption OID followed by its NULL parameters */
	static const uint8_t rsa_oid[] = { 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d,
	                                   0x01, 0x01, 0x01, 0x05, 0x00 };
	struct blob c = patched_copy(der[EXPIRED], rsa_seq, sizeof rsa_seq, 3, 0x04);
	const struct x509_facts *f;

	CHECK(c.p != NULL);
	if (c.p != NULL) {
		f = x509_get(xc, c.p, c.n);
		CHECK(f != NULL && bounded(f));
		CHECK_INT(f->malformed, 0);
		CHECK_INT(f->key_type, XK_RSA);
		CHECK_INT(f->key_bits, 0);
		CHECK_INT(f->self_issued, 1);
		CHECK_INT(selfsig(f, c.p, c.n), 0);
		CHECK_STR(f->subject, "CN=Old Times");
		CHECK_INT(x509_issued_by(xc, c.p, c.n, c.p, c.n), 2);
		CHECK_INT(x509_issued_by(xc, der[EXPIRED].p, der[EXPIRED].n, c.p, c.n), 2);
		x509_put(f);
		free(c.p);
	}
	c = patched_copy(der[EXPIRED], rsa_oid, sizeof rsa_oid, 10, 0x63);
	CHECK(c.p != NULL);
	if (c.p != NULL) {
		f = x509_get(xc, c.p, c.n);
		CHECK(f != NULL && bounded(f));
		CHECK_INT(f->malformed, 0);
		CHECK_INT(f->key_type, XK_OTHER);
		CHECK_INT(f->key_bits, 0);
		CHECK_STR(f->sig_alg, "sha256WithRSAEncryption");
		x509_put(f);
		free(c.p);
	}
	/* A notAfter whose seconds are 99: bad_time, or rejected outright. */
	static const uint8_t na[] = "991231235959Z";
	c = patched_copy(der[EXPIRED], na, sizeof na - 1, 10, '9');
	CHECK(c.p != NULL);
	if (c.p != NULL) {
		f = x509_get(xc, c.p, c.n);
		CHECK(f != NULL && bounded(f));
		if (f != NULL && !f->malformed) {
			CHECK_INT(f->bad_time, 1);
			CHECK_INT(f->not_before, 0);
			CHECK_INT(f->not_after, 0);
			CHECK_INT(x509_valid_at(f, 1700000000), 0);
			CHECK_STR(f->subject, "CN=Old Times");
		} else {
			printf("bad notAfter: OpenSSL rejects the certificate\n");
			CHECK(malformed_only(f, c.p, c.n));
		}
		x509_put(f);
		free(c.p);
	}
	/* A signature algorithm OpenSSL does not know: dotted OID. */
	static const uint8_t sha256rsa[] = { 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d,
	                                     0x01, 0x01, 0x0b };
	c.n = der[EXPIRED].n;
	c.p = malloc(c.n);
	if (c.p == NULL)
		exit(2);
	memcpy(c.p, der[EXPIRED].p, c.n);
	int n = 0;
	for (size_t i = 0; i + sizeof sha256rsa <= c.n; i++)
		if (memcmp(c.p + i, sha256rsa, sizeof sha256rsa) == 0) {
			c.p[i + 10] = 0x7e;   /* both the inner and the outer copy */
			n++;
		}
	CHECK_INT(n, 2);
	f = x509_get(xc, c.p, c.n);
	CHECK(f != NULL && bounded(f));
	CHECK_INT(f->malformed, 0);
	CHECK_STR(f->sig_alg, "1.2.840.113549.1.1.126");
	CHECK_INT(f->sig_nid, NID_undef);
	CHECK_INT(selfsig(f, c.p, c.n), 0);
	CHECK_INT(x509_issued_by(xc, c.p, c.n, c.p, c.n), 2);
	x509_put(f);
	free(c.p);
}

static void test_long_fields(void)
{
	char san[8192], cn[64];
	X509_NAME *name = X509_NAME_new();
	struct spec s;
	size_t o = 0;
	int ok = name != NULL;

	for (int i = 0; i < 200; i++)
		o += (size_t)snprintf(san + o, sizeof san - o, "%sDNS:host%03d.example.com", i ? "," : "", i);
	for (int i = 0; i < 40 && ok; i++) {
		snprintf(cn, sizeof cn, "unit-%02d-with-a-longish-name", i);
		ok = X509_NAME_add_entry_by_NID(name, NID_organizationalUnitName, MBSTRING_UTF8,
		                                (const unsigned char *)cn, -1, -1, 0);
	}
	memset(cn, 'x', 63);   /* the API allows at most 64 characters in a CN */
	cn[63] = '\0';
	ok = ok && X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
	                                      (const unsigned char *)cn, -1, -1, 0);
	CHECK(ok);
	memset(&s, 0, sizeof s);
	s.name = name;
	s.key = k_p256;
	s.version = 2;
	s.serial = "112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF00112233";
	s.not_before = "200101000000Z";
	s.not_after = "300101000000Z";
	s.ca = 0;
	s.san = san;
	s.md = EVP_sha256();
	X509 *x = make_cert(&s);
	struct blob b = der_of(x);
	const struct x509_facts *f = x509_get(xc, b.p, b.n);
	CHECK(f != NULL && bounded(f));
	CHECK_INT(f->malformed, 0);
	CHECK_INT(f->n_san_dns, 200);
	CHECK(strlen(f->san) < sizeof f->san);
	CHECK(strncmp(f->san, "DNS:host000.example.com, DNS:host001.example.com", 48) == 0);
	CHECK(strlen(f->san) >= 3 && strcmp(f->san + strlen(f->san) - 3, "...") == 0);
	CHECK(strlen(f->san) > 900);
	CHECK_INT(strlen(f->subject), sizeof f->subject - 1);
	CHECK(strncmp(f->subject, "CN=xxxx", 7) == 0);
	CHECK_INT(strlen(f->subject_cn), 63);
	CHECK_STR(f->serial_hex, "112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00112233");
	x509_put(f);
	X509_free(x);
	free(b.p);

	/* A serial too long for the field (45 octets), positive and negative. */
	s.serial = "0102030405060708090A0102030405060708090A0102030405060708090A0102030405060708090A0102030405";
	x = make_cert(&s);
	b = der_of(x);
	f = x509_get(xc, b.p, b.n);
	CHECK(f != NULL && bounded(f));
	CHECK_INT(strlen(f->serial_hex), 38 * 2 + 3);
	CHECK(strncmp(f->serial_hex, "0102030405", 10) == 0);
	CHECK(strcmp(f->serial_hex + 76, "...") == 0);
	x509_put(f);
	X509_free(x);
	free(b.p);
	s.serial = "-0102030405060708090A0102030405060708090A0102030405060708090A0102030405060708090A0102030405";
	x = make_cert(&s);
	b = der_of(x);
	f = x509_get(xc, b.p, b.n);
	CHECK(f != NULL && bounded(f));
	CHECK_INT(strlen(f->serial_hex), 1 + 37 * 2 + 3);
	CHECK(strncmp(f->serial_hex, "-0102030405", 11) == 0);
	x509_put(f);
	X509_free(x);
	free(b.p);
	X509_NAME_free(name);
}

static void test_hostile_der(void)
{
	static const uint8_t one[1] = { 0x30 };
	uint8_t garbage[512];
	uint32_t r = 12345;
	const struct x509_facts *f;

	f = x509_get(xc, NULL, 0);
	CHECK(malformed_only(f, NULL, 0));
	x509_put(f);
	f = x509_get(xc, one, 0);
	CHECK(malformed_only(f, one, 0));
	x509_put(f);
	f = x509_get(xc, one, 1);
	CHECK(malformed_only(f, one, 1));
	x509_put(f);
	for (size_t i = 0; i < sizeof garbage; i++) {
		r = r * 1103515245u + 12345u;
		garbage[i] = (uint8_t)(r >> 16);
	}
	f = x509_get(xc, garbage, sizeof garbage);
	CHECK(malformed_only(f, garbage, sizeof garbage));
	x509_put(f);
	garbage[0] = 0x30;   /* a SEQUENCE with a long length and junk inside */
	garbage[1] = 0x82;
	garbage[2] = 0x01;
	garbage[3] = 0xfc;
	f = x509_get(xc, garbage, sizeof garbage);
	CHECK(malformed_only(f, garbage, sizeof garbage));
	x509_put(f);

	/* Every truncation of every certificate. */
	for (int c = 0; c < NCERTS; c++) {
		unsigned bad = 0;
		for (size_t n = 0; n < der[c].n; n++) {
			f = x509_get(xc, der[c].p, n);
			if (!malformed_only(f, der[c].p, n)) {
				if (bad++ < 3)
					printf("  cert %d truncated to %zu not malformed\n", c, n);
			}
			x509_put(f);
		}
		CHECKF(bad == 0, "every truncation is malformed");
	}

	/* Trailing bytes: one zero, and a second certificate. */
	struct blob t;
	t.n = der[LEAF].n + der[ROOT].n;
	t.p = malloc(t.n);
	CHECK(t.p != NULL);
	if (t.p == NULL)
		return;
	memcpy(t.p, der[LEAF].p, der[LEAF].n);
	t.p[der[LEAF].n] = 0;
	f = x509_get(xc, t.p, der[LEAF].n + 1);
	CHECK(malformed_only(f, t.p, der[LEAF].n + 1));
	x509_put(f);
	memcpy(t.p + der[LEAF].n, der[ROOT].p, der[ROOT].n);
	f = x509_get(xc, t.p, t.n);
	CHECK(malformed_only(f, t.p, t.n));
	x509_put(f);
	CHECK_INT(x509_issued_by(xc, t.p, t.n, der[INTER].p, der[INTER].n), 2);
	free(t.p);

	/* Flip every byte of the leaf: whatever parses, nothing crashes. */
	uint8_t *m = malloc(der[LEAF].n);
	unsigned unbounded = 0, parsed = 0;
	CHECK(m != NULL);
	if (m == NULL)
		return;
	for (size_t i = 0; i < der[LEAF].n; i++) {
		memcpy(m, der[LEAF].p, der[LEAF].n);
		m[i] ^= 0xff;
		f = x509_get(xc, m, der[LEAF].n);
		if (f == NULL || !bounded(f) || f->der_len != der[LEAF].n)
			unbounded++;
		else if (!f->malformed)
			parsed++;
		(void)x509_valid_at(f, 1700000000);
		(void)x509_issued_by(xc, m, der[LEAF].n, der[INTER].p, der[INTER].n);
		(void)x509_issued_by(xc, der[LEAF].p, der[LEAF].n, m, der[LEAF].n);
		x509_put(f);
	}
	CHECK_INT(unbounded, 0);
	CHECK(parsed > 0);   /* flips inside names and the signature still decode */
	free(m);
}

static void test_cache(void)
{
	uint64_t h0, m0, e0, h, m, e, ev0, ev, un0, un;
	const struct x509_facts *a, *a2, *b, *c, *d, *g;

	x509_cache_clear(xc);
	x509_cache_stats(xc, &h0, &m0, &e0);
	CHECK_INT(e0, 0);
	x509_cache_limits(xc, &ev0, &un0);

	a = x509_get(xc, der[ROOT].p, der[ROOT].n);
	a2 = x509_get(xc, der[ROOT].p, der[ROOT].n);
	CHECK(a == a2);
	CHECK_INT(a->refs, 2);
	x509_cache_stats(xc, &h, &m, &e);
	CHECK_INT(h - h0, 1);
	CHECK_INT(m - m0, 1);
	CHECK_INT(e, 1);
	x509_put(a2);
	CHECK_INT(a->refs, 1);
	x509_cache_clear(xc);   /* a is referenced: it stays */
	x509_cache_stats(xc, NULL, NULL, &e);
	CHECK_INT(e, 1);
	CHECK_STR(a->subject_cn, "Test Root CA");
	x509_put(a);
	x509_cache_clear(xc);
	x509_cache_stats(xc, NULL, NULL, &e);
	CHECK_INT(e, 0);

	/* LRU eviction under a maximum of 3. */
	x509_set_cache_max(xc, 3);
	a = x509_get(xc, der[ROOT].p, der[ROOT].n);
	b = x509_get(xc, der[INTER].p, der[INTER].n);
	c = x509_get(xc, der[LEAF].p, der[LEAF].n);
	x509_put(a);
	x509_put(b);
	x509_put(c);
	x509_cache_stats(xc, &h0, &m0, &e);
	CHECK_INT(e, 3);
	d = x509_get(xc, der[FAR].p, der[FAR].n);   /* evicts ROOT, released first */
	x509_cache_stats(xc, &h, &m, &e);
	x509_cache_limits(xc, &ev, NULL);
	CHECK_INT(e, 3);
	CHECK_INT(m - m0, 1);
	CHECK_INT(ev - ev0, 1);
	g = x509_get(xc, der[INTER].p, der[INTER].n);   /* still there: a hit */
	x509_cache_stats(xc, &h, &m, NULL);
	CHECK_INT(h - h0, 1);
	CHECK_INT(m - m0, 1);
	CHECK_STR(g->subject_cn, "Test Intermediate");
	x509_put(g);
	a = x509_get(xc, der[ROOT].p, der[ROOT].n);   /* was evicted: a miss, evicts LEAF */
	x509_cache_stats(xc, &h, &m, &e);
	CHECK_INT(m - m0, 2);
	CHECK_INT(e, 3);
	CHECK_STR(a->subject_cn, "Test Root CA");
	c = x509_get(xc, der[LEAF].p, der[LEAF].n);   /* LEAF was least recent: a miss */
	x509_cache_stats(xc, &h, &m, &e);
	CHECK_INT(m - m0, 3);
	CHECK_INT(e, 3);

	/* Now ROOT, FAR, LEAF are referenced and the table is full. */
	b = x509_get(xc, der[INTER].p, der[INTER].n);
	x509_cache_stats(xc, NULL, NULL, &e);
	x509_cache_limits(xc, NULL, &un);
	CHECK_INT(e, 3);
	CHECK_INT(un - un0, 1);
	CHECK_STR(b->subject_cn, "Test Intermediate");
	CHECK_INT(b->refs, 1);
	g = x509_get(xc, der[INTER].p, der[INTER].n);   /* uncached again: a separate copy */
	CHECK(g != b);
	CHECK_STR(g->subject_cn, "Test Intermediate");
	x509_put(g);
	x509_put(b);   /* freed here; ASan would see a use after this */
	CHECK_STR(a->subject_cn, "Test Root CA");
	CHECK_STR(c->subject_cn, "www.example.com");
	CHECK_STR(d->subject_cn, "Far Future");

	/* Lowering the maximum never frees a referenced entry ... */
	x509_set_cache_max(xc, 1);
	x509_cache_stats(xc, NULL, NULL, &e);
	CHECK_INT(e, 3);
	CHECK_STR(a->subject_cn, "Test Root CA");
	/* ... but each release brings the table back down. */
	x509_put(a);
	x509_cache_stats(xc, NULL, NULL, &e);
	CHECK_INT(e, 2);
	x509_put(c);
	x509_cache_stats(xc, NULL, NULL, &e);
	CHECK_INT(e, 1);
	x509_put(d);
	x509_cache_stats(xc, NULL, NULL, &e);
	CHECK_INT(e, 1);
	x509_put(NULL);   /* harmless */

	/* A maximum of 0 caches nothing. */
	x509_set_cache_max(xc, 0);
	x509_cache_stats(xc, NULL, NULL, &e);
	CHECK_INT(e, 0);
	a = x509_get(xc, der[ROOT].p, der[ROOT].n);
	CHECK(a != NULL && selfsig(a, der[ROOT].p, der[ROOT].n) == 1);
	x509_cache_stats(xc, NULL, NULL, &e);
	CHECK_INT(e, 0);
	x509_put(a);

	/* Many entries under the default maximum: O(1) lookups, all hits. */
	x509_set_cache_max(xc, 4096);
	x509_cache_stats(xc, &h0, &m0, NULL);
	for (int round = 0; round < 2; round++)
		for (size_t n = 0; n < der[ROOT].n; n++)
			x509_put(x509_get(xc, der[ROOT].p, n));
	x509_cache_stats(xc, &h, &m, &e);
	CHECK_INT(m - m0, der[ROOT].n);
	CHECK_INT(h - h0, der[ROOT].n);
	CHECK_INT(e, der[ROOT].n);
	x509_cache_clear(xc);
	x509_cache_stats(xc, NULL, NULL, &e);
	CHECK_INT(e, 0);
}

/* References from two threads at once (the analysis thread gets and puts
 * certificates while the report thread refs and puts leaves): the count
 * changes without the lock while it stays above zero and goes to or from
 * zero under it, so however the threads interleave, every reference taken
 * is given back once, an entry idle at the end is on the idle list (the
 * cache can clear it) and one still held is not freed. */
struct ref_arg {
	const uint8_t *der;
	size_t n;
	const struct x509_facts *held;   /* a reference the thread may copy */
	int rounds;
	int bad;
};

static void *ref_worker(void *p)
{
	struct ref_arg *a = p;
	int i;
	for (i = 0; i < a->rounds; i++) {
		const struct x509_facts *f = x509_get(xc, a->der, a->n);   /* 0 -> 1 under the lock, or a hit */
		const struct x509_facts *g = x509_ref(f);                  /* above zero: no lock */
		const struct x509_facts *h = a->held ? x509_ref(a->held) : NULL;
		if (!f || g != f || strcmp(f->subject_cn, "Test Root CA") != 0)
			a->bad = 1;
		x509_put(h);
		x509_put(g);
		x509_put(f);   /* maybe the last: the lock */
	}
	return NULL;
}

static void test_refs_threads(void)
{
	struct ref_arg a[3];
	pthread_t t[3];
	const struct x509_facts *held;
	uint64_t e;
	int i, started[3];
	x509_set_cache_max(xc, 64);
	x509_cache_clear(xc);
	held = x509_get(xc, der[INTER].p, der[INTER].n);
	for (i = 0; i < 3; i++) {
		a[i].der = der[ROOT].p;
		a[i].n = der[ROOT].n;
		a[i].held = i == 2 ? NULL : held;
		a[i].rounds = 20000;
		a[i].bad = 0;
		started[i] = pthread_create(&t[i], NULL, ref_worker, &a[i]) == 0;
		CHECK(started[i]);
	}
	for (i = 0; i < 3; i++)
		if (started[i])
			pthread_join(t[i], NULL);
	for (i = 0; i < 3; i++)
		CHECK_INT(a[i].bad, 0);
	CHECK_INT(held->refs, 1);                  /* every ref of the threads given back */
	CHECK_STR(held->subject_cn, "Test Intermediate");
	x509_cache_clear(xc);                      /* ROOT is idle: cleared; INTER is held: kept */
	x509_cache_stats(xc, NULL, NULL, &e);
	CHECK_INT(e, 1);
	x509_put(held);
	x509_cache_clear(xc);
	x509_cache_stats(xc, NULL, NULL, &e);
	CHECK_INT(e, 0);
}

int main(void)
{
	xc = x509_cache_new();
	if (!xc)
		return 1;
	make_chain();
	test_key_names();
	test_facts();
	test_issued_by();
	test_hostile_names();
	test_invalid_utf8_name();
	test_odd_keys();
	test_long_fields();
	test_hostile_der();
	test_cache();
	test_refs_threads();

	x509_cache_free(xc);
	for (int i = 0; i < NCERTS; i++) {
		X509_free(certs[i]);
		free(der[i].p);
	}
	EVP_PKEY_free(k_rsa2048);
	EVP_PKEY_free(k_rsa1024);
	EVP_PKEY_free(k_p256);
	EVP_PKEY_free(k_p384);
	EVP_PKEY_free(k_ed25519);
	EVP_PKEY_free(k_ed448);
	return check_done();
}

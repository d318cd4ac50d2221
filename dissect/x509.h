/*
 * x509.h - certificate facts through OpenSSL, with a bounded cache.
 *
 * Every connection to one target presents the same chain, so each distinct
 * DER (keyed by its SHA-256) is decoded once. Facts are shared and
 * refcounted: x509_get() returns a new reference, x509_put() drops it.
 * Validity against a capture time is per connection: x509_valid_at().
 *
 * DER that OpenSSL cannot decode yields facts with `malformed` set (and the
 * hash and length filled), never a crash and never NULL except on
 * allocation failure.
 */
#ifndef TLSWHY_X509_H
#define TLSWHY_X509_H

#include <stddef.h>
#include <stdint.h>

#define X509_NAME_BYTES 512
#define X509_SAN_BYTES  1024

enum x509_key { XK_UNKNOWN = 0, XK_RSA, XK_EC, XK_ED25519, XK_ED448, XK_DSA, XK_RSA_PSS, XK_OTHER };

struct x509_facts {
	uint32_t refs;
	uint8_t sha256[32];
	uint32_t der_len;
	uint8_t malformed;
	int version;                    /* 1, 2 or 3 */
	char subject[X509_NAME_BYTES];  /* RFC 2253 one-line form; may hold any bytes the cert had, escaped by report/ */
	char issuer[X509_NAME_BYTES];
	char subject_cn[256];
	char san[X509_SAN_BYTES];       /* DNS and IP SANs, comma-separated ("DNS:a, IP:1.2.3.4") */
	uint16_t n_san_dns;
	char serial_hex[80];            /* lowercase hex, no leading zero octets */
	int64_t not_before;             /* Unix seconds */
	int64_t not_after;
	uint8_t bad_time;               /* notBefore or notAfter did not parse; both then 0 */
	uint8_t self_signed;            /* subject == issuer and the signature verifies with its own key */
	uint8_t self_issued;            /* subject == issuer */
	int8_t is_ca;                   /* basicConstraints CA: 1, 0, -1 absent */
	uint8_t key_type;               /* enum x509_key */
	int key_bits;
	char key_curve[32];             /* "prime256v1", "secp384r1", ... for EC */
	char sig_alg[64];               /* e.g. "sha256WithRSAEncryption" */
	int sig_nid;
};

/* A cache of decoded certificates, one per run (app/ owns it). */
struct x509_cache;
struct x509_cache *x509_cache_new(void);
/* Frees the cache once nothing holds its facts any more (else it stays). */
void x509_cache_free(struct x509_cache *c);
/* Returns facts for the DER, from the cache or freshly decoded; `c` NULL:
 * decoded for this caller alone (freed by its last x509_put). */
const struct x509_facts *x509_get(struct x509_cache *c, const uint8_t *der, size_t len);
void x509_put(const struct x509_facts *f);
/* Another reference to facts already held; returns f. */
const struct x509_facts *x509_ref(const struct x509_facts *f);
/* 1 when `child` names `parent` as issuer and parent's key verifies child's signature; 0 no; 2 unknown. */
int x509_issued_by(struct x509_cache *c, const uint8_t *child_der, size_t clen, const uint8_t *parent_der, size_t plen);
/* The same, with the facts x509_get() returned for these DER bytes (NULL:
 * unknown), so their SHA-256 is not computed again. */
int x509_issued_by_facts(const struct x509_facts *cf, const uint8_t *child_der, size_t clen,
			 const struct x509_facts *pf, const uint8_t *parent_der, size_t plen);
/* -1 not yet valid, 0 valid, 1 expired, at Unix time t (both ends inclusive).
 * 0 as well when malformed or bad_time: the caller checks those. */
int x509_valid_at(const struct x509_facts *f, int64_t t);
const char *x509_key_name(enum x509_key k);
void x509_cache_stats(struct x509_cache *c, uint64_t *hits, uint64_t *misses, uint64_t *entries);
/* Evicted idle entries, and certificates handed out uncached because the
 * table was full of referenced entries (freed by their last x509_put). */
void x509_cache_limits(struct x509_cache *c, uint64_t *evictions, uint64_t *uncached);
void x509_cache_clear(struct x509_cache *c);    /* frees entries with no references */
void x509_set_cache_max(struct x509_cache *c, size_t n);

#endif

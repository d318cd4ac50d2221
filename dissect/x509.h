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
 *
 * Signature checks (x509_verify_link: "is this certificate signed by that
 * one's key", or by its own) are the one costly step, and their keys come
 * from the wire, so they are bounded (issue 16):
 *   - keys beyond sane limits are never used: an RSA or DSA modulus over
 *     X509_VERIFY_MAX_BITS (8192) bits; an RSA public exponent over 32 bits
 *     or even (see x509.c for why);
 *   - each check costs units (1 = one RSA-2048 check with e = 65537, about
 *     16 us here), taken from the connection's budget (X509_VERIFY_CONN_UNITS)
 *     and from the run's budget per second of capture time
 *     (X509_VERIFY_RATE_UNITS a second, at most X509_VERIFY_BURST_UNITS
 *     saved up); a check with no budget left is skipped;
 *   - answers are remembered in the certificate's cache entry, keyed by the
 *     issuing certificate's SHA-256 (which fixes the issuer key), so a
 *     chain seen on every connection to a target is checked once and costs
 *     nothing after.
 * A skipped check answers "unknown" and says why (enum x509_skip).
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
	uint8_t self_issued;            /* subject == issuer (whether its own key verifies it: x509_verify_link) */
	uint8_t key_skip;               /* enum x509_skip: its key is beyond the limits of a signature check */
	uint16_t verify_units;          /* what a check with its key costs (see x509.c) */
	int8_t is_ca;                   /* basicConstraints CA: 1, 0, -1 absent */
	uint8_t key_type;               /* enum x509_key */
	int key_bits;
	char key_curve[32];             /* "prime256v1", "secp384r1", ... for EC */
	char sig_alg[64];               /* e.g. "sha256WithRSAEncryption" */
	int sig_nid;
};

/* Why a signature check was not made. */
enum x509_skip {
	X509_SKIP_NONE = 0,
	X509_SKIP_KEY_SIZE,        /* modulus over X509_VERIFY_MAX_BITS */
	X509_SKIP_KEY_EXPONENT,    /* RSA public exponent over 32 bits, or even */
	X509_SKIP_CONN_BUDGET,     /* the connection's checks used up X509_VERIFY_CONN_UNITS */
	X509_SKIP_CAPTURE_BUDGET,  /* the run's checks per second of capture time were used up */
};
const char *x509_skip_name(enum x509_skip s);   /* "key_size", ... */

#define X509_VERIFY_MAX_BITS     8192
#define X509_VERIFY_CONN_UNITS   256u      /* about 4 ms a connection */
#define X509_VERIFY_RATE_UNITS   5000u     /* a second of capture time: about 80 ms */
#define X509_VERIFY_BURST_UNITS  20000u    /* saved up at most: about 0.3 s */

/* A connection's verification budget (dissect/tls.c keeps one per connection). */
struct x509_vbudget {
	uint32_t left;             /* units; x509_vbudget_init: X509_VERIFY_CONN_UNITS */
};
void x509_vbudget_init(struct x509_vbudget *b);

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
/* 1 when `child` names `parent` as issuer and parent's key verifies child's
 * signature; 0 no; 2 unknown. Key limits apply, no budget. */
int x509_issued_by(struct x509_cache *c, const uint8_t *child_der, size_t clen, const uint8_t *parent_der, size_t plen);
/* The same within budgets, with the facts x509_get() returned for these DER
 * bytes (their SHA-256 is not computed again; NULL: unknown, answer 2).
 * `pf` == `cf` (and the same DER) asks whether the certificate is
 * self-signed: self-issued and verified by its own key. `b` is the
 * connection's budget (NULL: none), `ts_us` the capture time (the run's
 * budget per second of it). On 2, *skip (when not NULL) says why a check
 * was not made, or X509_SKIP_NONE when it was made and could not tell. */
int x509_verify_link(struct x509_vbudget *b, int64_t ts_us, const struct x509_facts *cf, const uint8_t *child_der,
		     size_t clen, const struct x509_facts *pf, const uint8_t *parent_der, size_t plen,
		     enum x509_skip *skip);
/* 1 when a check made by x509_verify_link found `f` self-signed (on any
 * connection: the answer is kept with the certificate); 0 no, or not
 * checked (not self-issued, or every check was skipped). */
int x509_self_signed(const struct x509_facts *f);
/* Facts held by open connections (issue 16). A connection holds the facts
 * of up to 32 certificates until it is judged; x509_hold() counts the
 * distinct ones held by open connections (the analysis thread's own count,
 * so the answer never depends on when the report thread lets go of a
 * record) and answers 0 when `f` is not held yet and X509_OPEN_FACTS_MAX
 * are: the caller keeps what it judged from the certificate and puts the
 * facts back. `must` (dissect/tls.c: the server's leaf, which the rules
 * read) is never refused. x509_unhold() when the connection is judged.
 * So open connections hold at most X509_OPEN_FACTS_MAX facts + one leaf
 * each. */
#define X509_OPEN_FACTS_MAX 4096u
int x509_hold(const struct x509_facts *f, int must);
void x509_unhold(const struct x509_facts *f);
/* Checks made and skipped by the run, for the report's statistics. */
void x509_verify_counts(struct x509_cache *c, uint64_t *made, uint64_t *skipped);
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

/*
 * hello.h - ClientHello bytes as an AWS load balancer offers them to its
 * targets, and the one-change variants the differential probe sends.
 *
 * What is documented and what is not (shown by `tlswhy probe`):
 *  - AWS documents the versions and the cipher suites, in order, of the
 *    backend policies (reference/aws-alb-target-tls.md); those are exact.
 *  - AWS does not document the groups, signature algorithms and extensions
 *    a load balancer sends to targets. The defaults here follow the policy
 *    of the same name in s2n-tls, AWS's TLS library (tls/s2n_security_policies.c:
 *    ELBSecurityPolicy-2016-08 = groups P-256, P-384; signature schemes
 *    RSA-PKCS1 and ECDSA with SHA-256/384/512/224 and SHA-1), with the
 *    extension set and order an OpenSSL client uses. That the ALB's backend
 *    side behaves this way is an inference; --client-hello-from replays the
 *    real bytes when a capture has them.
 *  - The FIPS backend policy (ELBSecurityPolicy-TLS13-1-0-FIPS-2023-04, used
 *    toward targets when a listener is on a FIPS policy): versions and
 *    suites from AWS's FIPS policy tables (TLS 1.0-1.3; 1301 1302, then the
 *    2016-08 suites with C014 before C00A, as the table lists them; no
 *    CHACHA20). Groups P-256, P-384 (no X25519: not a FIPS 140 curve for
 *    AWS-LC's 2023 module) and signature schemes RSA-PSS, ECDSA, RSA-PKCS1
 *    with SHA-2 only are an inference, as for the other policies.
 *
 * Limits: at most PROBE_MAX_* entries per list; the record is one TLS
 * record (a ClientHello under 16 KiB).
 */
#ifndef TLSWHY_PROBE_HELLO_H
#define TLSWHY_PROBE_HELLO_H

#include <stddef.h>
#include <stdint.h>

#define PROBE_MAX_SUITES   64
#define PROBE_MAX_GROUPS   16
#define PROBE_MAX_SIGALGS  32
#define PROBE_MAX_VERSIONS 8
#define PROBE_MAX_SHARES   4
#define PROBE_HELLO_MAX    4096   /* bytes of one built record */

enum probe_policy {
	PROBE_POL_2016_08 = 0,       /* ELBSecurityPolicy-2016-08 (default backend policy) */
	PROBE_POL_TLS13_1_0,         /* ELBSecurityPolicy-TLS13-1-0-2021-06 (listener on TLS 1.3) */
	PROBE_POL_TLS13_1_0_FIPS,    /* ELBSecurityPolicy-TLS13-1-0-FIPS-2023-04 (listener on a FIPS policy) */
	PROBE_POL__COUNT
};

/* What one ClientHello offers. Lists are in wire order. */
struct probe_hello_cfg {
	uint16_t legacy_version;                 /* 0x0303 */
	uint16_t versions[PROBE_MAX_VERSIONS];   /* supported_versions; n = 0: no extension */
	size_t nversions;
	uint16_t suites[PROBE_MAX_SUITES];
	size_t nsuites;
	uint16_t groups[PROBE_MAX_GROUPS];       /* supported_groups */
	size_t ngroups;
	uint16_t shares[PROBE_MAX_SHARES];       /* key_share entries (TLS 1.3 only) */
	size_t nshares;
	uint16_t sigalgs[PROBE_MAX_SIGALGS];
	size_t nsigalgs;
	int ems;                                 /* extended_master_secret */
	int session_id;                          /* 32 random bytes (TLS 1.3 middlebox compatibility) */
	char sni[256];                           /* "" = no server_name */
	char alpn[2][16];                        /* "" = unused */
};

const char *probe_policy_name(enum probe_policy p);
/* "2016-08", "tls13", "fips" or a full policy name; -1 when unknown. */
int probe_policy_parse(const char *s);
/* The offer of a backend policy (see the file head for what is inferred). */
void probe_hello_default(struct probe_hello_cfg *c, enum probe_policy p);

/* Appends v to a list unless present; 0, or -1 when the list is full. */
int probe_list_add(uint16_t *list, size_t *n, size_t cap, uint16_t v, int front);
int probe_list_has(const uint16_t *list, size_t n, uint16_t v);

/* Reads a ClientHello (whole TLS records, as built here or replayed from a
 * capture) into c, so variants of a replayed offer can be built: versions,
 * suites, groups, key share groups (those this file can make keys for),
 * signature schemes, extended_master_secret, SNI, ALPN. Other extensions
 * are not rebuilt: *dropped counts them. Lists longer than the cfg's are
 * clipped. Returns 0, or -1 when the bytes are not a ClientHello. */
int probe_hello_parse(const uint8_t *rec, size_t len, struct probe_hello_cfg *c, size_t *dropped);

struct probe_keys;   /* probe/tls13.h */

/* Builds the TLS record carrying the ClientHello into out (cap bytes),
 * with a fresh random, session id and key shares (libcrypto). The private
 * halves go to `keys` when not NULL (the caller frees them with
 * probe_keys_free), else are dropped. Returns the length, or 0 with `err`
 * set. */
size_t probe_hello_build(const struct probe_hello_cfg *c, uint8_t *out, size_t cap, struct probe_keys *keys,
			 char *err, size_t errlen);

#endif

/*
 * names.h - IANA TLS registries as {value, name} tables: the one source of
 * every protocol name tlswhy prints or matches.
 *
 * Lookups never invent a name: an unknown value returns NULL, and callers
 * print the number instead (names_fmt_* do that for you).
 *
 * Sources: IANA "Transport Layer Security (TLS) Parameters" and "TLS
 * Extensiontype Values" registries, RFC 8446, RFC 8701 (GREASE).
 */
#ifndef TLSWHY_NAMES_H
#define TLSWHY_NAMES_H

#include <stddef.h>
#include <stdint.h>

struct tok16 {
	uint16_t v;
	const char *name;
};

/* Key exchange, authentication, bulk cipher and MAC of a cipher suite. */
enum suite_kx { KX_NULL = 0, KX_RSA, KX_DHE, KX_ECDHE, KX_DH, KX_ECDH, KX_PSK,
		KX_DHE_PSK, KX_ECDHE_PSK, KX_RSA_PSK, KX_SRP, KX_KRB5, KX_ANY /* TLS 1.3 */,
		KX_OTHER };
enum suite_au { AU_NULL = 0, AU_RSA, AU_DSS, AU_ECDSA, AU_PSK, AU_ANON, AU_ANY /* TLS 1.3 */,
		AU_KRB5, AU_OTHER };

struct suite_info {
	uint16_t v;
	const char *name;       /* IANA name, e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 */
	uint8_t kx;             /* enum suite_kx */
	uint8_t au;             /* enum suite_au */
	const char *cipher;     /* e.g. "AES_128_GCM" */
	const char *mac;        /* e.g. "SHA256", "AEAD" */
	uint16_t min_version;   /* lowest TLS version it can be used with (0x0300..0x0304) */
	uint16_t max_version;   /* highest (0x0303 for pre-1.3 suites, 0x0304 for 1.3 ones) */
};

const struct suite_info *names_suite(uint16_t v);     /* NULL when unknown */
const char *names_suite_name(uint16_t v);
const char *names_extension(uint16_t v);
const char *names_group(uint16_t v);
const char *names_sigalg(uint16_t v);
const char *names_alert(uint8_t v);
const char *names_alert_level(uint8_t v);
const char *names_version(uint16_t v);                /* "TLS 1.2", "SSL 3.0", ... */
const char *names_hs_type(uint8_t v);                 /* "ClientHello", ... */
const char *names_content_type(uint8_t v);
int names_is_grease(uint16_t v);                      /* RFC 8701: 0x?A?A with equal bytes */

/* Reverse lookups for rule files: accept the IANA name (case-insensitive). Return -1 when unknown. */
int names_suite_by_name(const char *s);
int names_group_by_name(const char *s);
int names_sigalg_by_name(const char *s);
int names_alert_by_name(const char *s);
int names_version_by_name(const char *s);             /* "TLS1.2", "TLS 1.2", "tls12" */

/* Writes the name, or "0x%04x" for unknowns, into buf; returns buf. */
const char *names_fmt16(char *buf, size_t n, const char *(*fn)(uint16_t), uint16_t v);

/* The tables, for tests and listings. */
extern const struct suite_info names_suites[];
extern const size_t names_suites_n;
extern const struct tok16 names_extensions[], names_groups[], names_sigalgs[], names_alerts[],
	names_versions[], names_hs_types[];
extern const size_t names_extensions_n, names_groups_n, names_sigalgs_n, names_alerts_n,
	names_versions_n, names_hs_types_n;

#endif

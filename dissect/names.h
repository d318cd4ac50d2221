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

/*
 * Wire values, named once. The tables below give each its printed name;
 * parsers compare against these constants, never against bare numbers.
 */
enum tls_content_type {   /* RFC 8446 5.1; heartbeat RFC 6520 */
	CT_CCS = 20, CT_ALERT = 21, CT_HANDSHAKE = 22, CT_APPDATA = 23, CT_HEARTBEAT = 24,
};

enum tls_hs_type {        /* RFC 8446 4 */
	HT_HELLO_REQUEST = 0, HT_CLIENT_HELLO = 1, HT_SERVER_HELLO = 2, HT_NEW_SESSION_TICKET = 4,
	HT_END_OF_EARLY_DATA = 5, HT_ENCRYPTED_EXTENSIONS = 8, HT_CERTIFICATE = 11,
	HT_SERVER_KEY_EXCHANGE = 12, HT_CERTIFICATE_REQUEST = 13, HT_SERVER_HELLO_DONE = 14,
	HT_CERTIFICATE_VERIFY = 15, HT_CLIENT_KEY_EXCHANGE = 16, HT_FINISHED = 20,
};

enum sslv2_msg {          /* SSL 2.0 message types in an SSLv2-format record */
	SSLV2_CLIENT_HELLO = 1, SSLV2_SERVER_HELLO = 4,
};

enum tls_ext {            /* IANA TLS ExtensionType Values */
	EXT_SERVER_NAME = 0, EXT_STATUS_REQUEST = 5, EXT_PADDING = 21, EXT_COOKIE = 44, EXT_SUPPORTED_GROUPS = 10, EXT_EC_POINT_FORMATS = 11,
	EXT_SIGNATURE_ALGORITHMS = 13, EXT_ALPN = 16, EXT_ENCRYPT_THEN_MAC = 22,
	EXT_EXTENDED_MASTER_SECRET = 23, EXT_RECORD_SIZE_LIMIT = 28, EXT_SESSION_TICKET = 35,
	EXT_PRE_SHARED_KEY = 41, EXT_EARLY_DATA = 42, EXT_SUPPORTED_VERSIONS = 43,
	EXT_PSK_KEY_EXCHANGE_MODES = 45, EXT_SIGNATURE_ALGORITHMS_CERT = 50, EXT_KEY_SHARE = 51,
	EXT_ENCRYPTED_CLIENT_HELLO = 0xfe0d, EXT_RENEGOTIATION_INFO = 0xff01,
};

enum tls_alert_level { ALERT_LEVEL_WARNING = 1, ALERT_LEVEL_FATAL = 2 };

enum tls_alert {          /* the descriptions tested for by name; names_alerts has them all */
	ALERT_CLOSE_NOTIFY = 0, ALERT_BAD_CERTIFICATE = 42, ALERT_UNSUPPORTED_CERTIFICATE = 43,
	ALERT_CERTIFICATE_REVOKED = 44, ALERT_CERTIFICATE_EXPIRED = 45, ALERT_CERTIFICATE_UNKNOWN = 46,
	ALERT_UNKNOWN_CA = 48, ALERT_USER_CANCELED = 90, ALERT_NO_RENEGOTIATION = 100,
};

enum tls_version {        /* protocol versions as on the wire */
	VER_SSL2 = 0x0002, VER_SSL3 = 0x0300, VER_TLS10 = 0x0301, VER_TLS11 = 0x0302,
	VER_TLS12 = 0x0303, VER_TLS13 = 0x0304,
};

enum tls_sigscheme {      /* signature schemes tested for by name (RFC 8446 4.2.3; TLS 1.2 hash/sig pairs) */
	SCHEME_RSA_PKCS1_SHA1 = 0x0201, SCHEME_DSA_SHA1 = 0x0202, SCHEME_ECDSA_SHA1 = 0x0203,
	SCHEME_RSA_PKCS1_SHA256 = 0x0401, SCHEME_DSA_SHA256 = 0x0402, SCHEME_ECDSA_SECP256R1_SHA256 = 0x0403,
	SCHEME_RSA_PKCS1_SHA384 = 0x0501, SCHEME_DSA_SHA384 = 0x0502, SCHEME_ECDSA_SECP384R1_SHA384 = 0x0503,
	SCHEME_RSA_PKCS1_SHA512 = 0x0601, SCHEME_DSA_SHA512 = 0x0602, SCHEME_ECDSA_SECP521R1_SHA512 = 0x0603,
	SCHEME_RSA_PSS_RSAE_SHA256 = 0x0804, SCHEME_RSA_PSS_RSAE_SHA512 = 0x0806, SCHEME_ED25519 = 0x0807,
	SCHEME_ED448 = 0x0808, SCHEME_RSA_PSS_PSS_SHA256 = 0x0809, SCHEME_RSA_PSS_PSS_SHA512 = 0x080b,
};

enum { EC_CURVE_NAMED = 3 };   /* ECCurveType named_curve, RFC 8422 5.4 */
#define SUITE_FALLBACK_SCSV 0x5600   /* TLS_FALLBACK_SCSV, RFC 7507: a retry at a lower version */
#define VER_TLS13_DRAFT_MASK 0xff00  /* 0x7fXX: a TLS 1.3 draft (draft-ietf-tls-tls13-XX) */
#define VER_TLS13_DRAFT 0x7f00

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
/* RFC 8701: 0x?A?A with equal bytes. Inline: the offers' lists are
 * walked value by value with it (the servers' table, the client identity,
 * the rules), so the call cost more than the test. */
static inline int names_is_grease(uint16_t v)
{
	return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

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

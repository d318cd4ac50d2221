/*
 * test_names.c - table-driven tests for dissect/names.c.
 *
 * Checks, in order:
 *   1. every table is sorted by value with no duplicates (the lookups are
 *      binary searches and silently miss entries otherwise), and no name is
 *      NULL or empty;
 *   2. every cipher suite row agrees with its own IANA name: the key
 *      exchange and authentication words, the cipher and MAC words, and
 *      the version range rules stated in names.c's head comment. This is a
 *      second, independent derivation of what the static table says;
 *   3. known values, per table, written out by hand from the registries;
 *   4. unknown and reserved values return NULL; GREASE (RFC 8701);
 *   5. reverse lookups, including the spellings of versions;
 *   6. names_fmt16.
 *
 * The last line printed is "N passed, N failed"; the exit status is 1 if
 * anything failed.
 */
#include "dissect/names.h"
#include "dissect/record.h"
#include "report/report.h"
#include "tests/unit/check.h"

#include <stdio.h>
#include <string.h>

static int streq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

/* ------------------------------------------------------------- 1. order */

static void test_sorted_tok(const char *what, const struct tok16 *t, size_t n)
{
	size_t i;

	CHECKF(n > 0, "%s (0x%04lx, 0x%04lx)", what, (long)(n), (long)(0));
	for (i = 0; i < n; i++) {
		CHECKF(t[i].name && t[i].name[0], "%s (0x%04lx, 0x%04lx)", what, (long)(t[i].v), (long)(i));
		if (i > 0)
			CHECKF(t[i - 1].v < t[i].v, "%s (0x%04lx, 0x%04lx)", what, (long)(t[i - 1].v), (long)(t[i].v));
	}
}

static void test_sorted(void)
{
	size_t i, j;

	test_sorted_tok("extensions sorted", names_extensions, names_extensions_n);
	test_sorted_tok("groups sorted", names_groups, names_groups_n);
	test_sorted_tok("sigalgs sorted", names_sigalgs, names_sigalgs_n);
	test_sorted_tok("alerts sorted", names_alerts, names_alerts_n);
	test_sorted_tok("versions sorted", names_versions, names_versions_n);
	test_sorted_tok("hs types sorted", names_hs_types, names_hs_types_n);

	CHECKF(names_suites_n == 352, "suite count (0x%04lx, 0x%04lx)", (long)(names_suites_n), (long)(352));
	for (i = 0; i < names_suites_n; i++) {
		const struct suite_info *s = &names_suites[i];

		CHECKF(s->name && strncmp(s->name, "TLS_", 4) == 0, "suite name (0x%04lx, 0x%04lx)", (long)(s->v), (long)(i));
		CHECKF(s->cipher && s->cipher[0] && s->mac && s->mac[0], "suite strings (0x%04lx, 0x%04lx)", (long)(s->v), (long)(i));
		if (i > 0)
			CHECKF(names_suites[i - 1].v < s->v, "suites sorted (0x%04lx, 0x%04lx)", (long)(names_suites[i - 1].v), (long)(s->v));
		/* every row is reachable through the lookup */
		CHECKF(names_suite(s->v) == s, "suite lookup (0x%04lx, 0x%04lx)", (long)(s->v), (long)(i));
	}
	/* names are unique too, so reverse lookups are unambiguous */
	for (i = 0; i < names_suites_n; i++)
		for (j = i + 1; j < names_suites_n; j++)
			CHECKF(strcmp(names_suites[i].name, names_suites[j].name) != 0, "suite names unique (0x%04lx, 0x%04lx)", (long)(names_suites[i].v), (long)(names_suites[j].v));
	for (i = 0; i < names_groups_n; i++)
		CHECKF(names_group(names_groups[i].v) == names_groups[i].name, "group lookup (0x%04lx, 0x%04lx)", (long)(names_groups[i].v), (long)(i));
	for (i = 0; i < names_extensions_n; i++)
		CHECKF(names_extension(names_extensions[i].v) == names_extensions[i].name, "extension lookup (0x%04lx, 0x%04lx)", (long)(names_extensions[i].v), (long)(i));
}

/* ------------------------------------------------- 2. suites vs. names */

static const struct {
	const char *word;       /* between "TLS_" and "_WITH_" */
	int kx, au;
	int export;
} kx_words[] = {
	{ "NULL", KX_NULL, AU_NULL, 0 },
	{ "RSA", KX_RSA, AU_RSA, 0 },
	{ "RSA_EXPORT", KX_RSA, AU_RSA, 1 },
	{ "DH_DSS", KX_DH, AU_DSS, 0 },
	{ "DH_DSS_EXPORT", KX_DH, AU_DSS, 1 },
	{ "DH_RSA", KX_DH, AU_RSA, 0 },
	{ "DH_RSA_EXPORT", KX_DH, AU_RSA, 1 },
	{ "DHE_DSS", KX_DHE, AU_DSS, 0 },
	{ "DHE_DSS_EXPORT", KX_DHE, AU_DSS, 1 },
	{ "DHE_RSA", KX_DHE, AU_RSA, 0 },
	{ "DHE_RSA_EXPORT", KX_DHE, AU_RSA, 1 },
	{ "DH_anon", KX_DH, AU_ANON, 0 },
	{ "DH_anon_EXPORT", KX_DH, AU_ANON, 1 },
	{ "KRB5", KX_KRB5, AU_KRB5, 0 },
	{ "KRB5_EXPORT", KX_KRB5, AU_KRB5, 1 },
	{ "PSK", KX_PSK, AU_PSK, 0 },
	{ "DHE_PSK", KX_DHE_PSK, AU_PSK, 0 },
	{ "PSK_DHE", KX_DHE_PSK, AU_PSK, 0 },
	{ "ECDHE_PSK", KX_ECDHE_PSK, AU_PSK, 0 },
	{ "RSA_PSK", KX_RSA_PSK, AU_RSA, 0 },
	{ "ECDH_ECDSA", KX_ECDH, AU_ECDSA, 0 },
	{ "ECDH_RSA", KX_ECDH, AU_RSA, 0 },
	{ "ECDH_anon", KX_ECDH, AU_ANON, 0 },
	{ "ECDHE_ECDSA", KX_ECDHE, AU_ECDSA, 0 },
	{ "ECDHE_RSA", KX_ECDHE, AU_RSA, 0 },
	{ "SRP_SHA", KX_SRP, AU_OTHER, 0 },
	{ "SRP_SHA_RSA", KX_SRP, AU_RSA, 0 },
	{ "SRP_SHA_DSS", KX_SRP, AU_DSS, 0 },
	{ "ECCPWD", KX_OTHER, AU_OTHER, 0 },
	{ "GOSTR341112_256", KX_OTHER, AU_OTHER, 0 },
};

static int has(const char *s, const char *sub)
{
	return strstr(s, sub) != NULL;
}

static int is_aead(const char *cipher)
{
	return has(cipher, "GCM") || has(cipher, "CCM") || has(cipher, "POLY1305") ||
	       has(cipher, "MGM") || has(cipher, "AEGIS");
}

static void test_suite_consistency(void)
{
	size_t i, k;

	for (i = 0; i < names_suites_n; i++) {
		const struct suite_info *s = &names_suites[i];
		const char *with = strstr(s->name, "_WITH_");
		int tls13 = s->min_version == 0x0304;

		CHECKF(s->min_version >= 0x0300 && s->min_version <= s->max_version &&
		      s->max_version <= 0x0304, "suite version range (0x%04lx, 0x%04lx)", (long)(s->v), (long)(s->min_version));
		CHECKF(strcmp(s->mac, "AEAD") == 0 ? is_aead(s->cipher) || has(s->cipher, "SM4")
						   : !is_aead(s->cipher), "suite mac AEAD iff AEAD cipher (0x%04lx, 0x%04lx)", (long)(s->v), (long)(0));
		if (has(s->name, "_SCSV")) {
			CHECKF(s->kx == KX_OTHER && s->au == AU_OTHER && streq(s->cipher, "SCSV") &&
			      s->min_version == 0x0300 && s->max_version == 0x0304, "SCSV row (0x%04lx, 0x%04lx)", (long)(s->v), (long)(0));
			continue;
		}
		if (tls13) {
			/* TLS 1.3: the suite says nothing about kx or au */
			CHECKF(s->kx == KX_ANY && s->au == AU_ANY && s->max_version == 0x0304, "TLS 1.3 suite (0x%04lx, 0x%04lx)", (long)(s->v), (long)(s->kx));
			CHECKF(streq(s->cipher, "NULL") || has(s->name, s->cipher), "TLS 1.3 cipher in name (0x%04lx, 0x%04lx)", (long)(s->v), (long)(0));
			continue;
		}
		CHECKF(s->kx != KX_ANY && s->au != AU_ANY, "pre-1.3 suite kx/au (0x%04lx, 0x%04lx)", (long)(s->v), (long)(s->kx));
		CHECKF(with != NULL, "pre-1.3 suite has _WITH_ (0x%04lx, 0x%04lx)", (long)(s->v), (long)(0));
		if (!with)
			continue;
		/* key exchange and authentication from the words before _WITH_ */
		for (k = 0; k < sizeof kx_words / sizeof kx_words[0]; k++) {
			size_t len = strlen(kx_words[k].word);

			if (len == (size_t)(with - s->name - 4) &&
			    strncmp(s->name + 4, kx_words[k].word, len) == 0)
				break;
		}
		CHECKF(k < sizeof kx_words / sizeof kx_words[0], "kx word known (0x%04lx, 0x%04lx)", (long)(s->v), (long)(0));
		if (k == sizeof kx_words / sizeof kx_words[0])
			continue;
		CHECKF(s->kx == kx_words[k].kx, "suite kx (0x%04lx, 0x%04lx)", (long)(s->v), (long)(s->kx));
		CHECKF(s->au == kx_words[k].au, "suite au (0x%04lx, 0x%04lx)", (long)(s->v), (long)(s->au));
		CHECKF(kx_words[k].export ? s->max_version == 0x0301 :
		      s->max_version == (s->kx == KX_OTHER && s->au == AU_OTHER &&
					 has(s->name, "ECCPWD") ? 0x0304 : 0x0303), "suite max_version (0x%04lx, 0x%04lx)", (long)(s->v), (long)(s->max_version));
		/* the cipher is the text right after _WITH_ */
		CHECKF(strncmp(with + 6, s->cipher, strlen(s->cipher)) == 0, "suite cipher (0x%04lx, 0x%04lx)", (long)(s->v), (long)(0));
		/* the MAC is the last word, unless AEAD */
		if (strcmp(s->mac, "AEAD") != 0) {
			const char *last = strrchr(s->name, '_') + 1;
			const char *want = strcmp(last, "SHA") == 0 ? "SHA1" : last;

			CHECKF(streq(s->mac, want), "suite mac (0x%04lx, 0x%04lx)", (long)(s->v), (long)(0));
		}
		/* min_version rules */
		{
			int ec = s->kx == KX_ECDHE || s->kx == KX_ECDH || s->kx == KX_ECDHE_PSK ||
				 has(s->name, "ECCPWD");
			int psk = s->kx == KX_PSK || s->kx == KX_DHE_PSK || s->kx == KX_ECDHE_PSK ||
				  s->kx == KX_RSA_PSK;
			int sha2 = streq(s->mac, "SHA256") || streq(s->mac, "SHA384");
			unsigned want;

			if (strcmp(s->mac, "AEAD") == 0 || has(s->name, "GOSTR"))
				want = 0x0303;
			else if (sha2)
				want = psk ? 0x0301 : 0x0303;
			else if (ec)
				want = 0x0301;
			else
				want = 0x0300;
			CHECKF(s->min_version == want, "suite min_version (0x%04lx, 0x%04lx)", (long)(s->v), (long)(s->min_version));
		}
	}
}

/* ---------------------------------------------------------- 3. known */

static const struct {
	uint16_t v;
	const char *name;
	int kx, au;
	const char *cipher, *mac;
	uint16_t min, max;
} known_suites[] = {
	{ 0x0000, "TLS_NULL_WITH_NULL_NULL", KX_NULL, AU_NULL, "NULL", "NULL", 0x0300, 0x0303 },
	{ 0x0003, "TLS_RSA_EXPORT_WITH_RC4_40_MD5", KX_RSA, AU_RSA, "RC4_40", "MD5", 0x0300, 0x0301 },
	{ 0x0004, "TLS_RSA_WITH_RC4_128_MD5", KX_RSA, AU_RSA, "RC4_128", "MD5", 0x0300, 0x0303 },
	{ 0x0005, "TLS_RSA_WITH_RC4_128_SHA", KX_RSA, AU_RSA, "RC4_128", "SHA1", 0x0300, 0x0303 },
	{ 0x000a, "TLS_RSA_WITH_3DES_EDE_CBC_SHA", KX_RSA, AU_RSA, "3DES_EDE_CBC", "SHA1", 0x0300, 0x0303 },
	{ 0x0016, "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA", KX_DHE, AU_RSA, "3DES_EDE_CBC", "SHA1", 0x0300, 0x0303 },
	{ 0x0018, "TLS_DH_anon_WITH_RC4_128_MD5", KX_DH, AU_ANON, "RC4_128", "MD5", 0x0300, 0x0303 },
	{ 0x0026, "TLS_KRB5_EXPORT_WITH_DES_CBC_40_SHA", KX_KRB5, AU_KRB5, "DES_CBC_40", "SHA1", 0x0300, 0x0301 },
	{ 0x002f, "TLS_RSA_WITH_AES_128_CBC_SHA", KX_RSA, AU_RSA, "AES_128_CBC", "SHA1", 0x0300, 0x0303 },
	{ 0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA", KX_RSA, AU_RSA, "AES_256_CBC", "SHA1", 0x0300, 0x0303 },
	{ 0x003c, "TLS_RSA_WITH_AES_128_CBC_SHA256", KX_RSA, AU_RSA, "AES_128_CBC", "SHA256", 0x0303, 0x0303 },
	{ 0x0067, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256", KX_DHE, AU_RSA, "AES_128_CBC", "SHA256", 0x0303, 0x0303 },
	{ 0x008c, "TLS_PSK_WITH_AES_128_CBC_SHA", KX_PSK, AU_PSK, "AES_128_CBC", "SHA1", 0x0300, 0x0303 },
	{ 0x0096, "TLS_RSA_WITH_SEED_CBC_SHA", KX_RSA, AU_RSA, "SEED_CBC", "SHA1", 0x0300, 0x0303 },
	{ 0x009c, "TLS_RSA_WITH_AES_128_GCM_SHA256", KX_RSA, AU_RSA, "AES_128_GCM", "AEAD", 0x0303, 0x0303 },
	{ 0x009f, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", KX_DHE, AU_RSA, "AES_256_GCM", "AEAD", 0x0303, 0x0303 },
	{ 0x00ae, "TLS_PSK_WITH_AES_128_CBC_SHA256", KX_PSK, AU_PSK, "AES_128_CBC", "SHA256", 0x0301, 0x0303 },
	{ 0x00b6, "TLS_RSA_PSK_WITH_AES_128_CBC_SHA256", KX_RSA_PSK, AU_RSA, "AES_128_CBC", "SHA256", 0x0301, 0x0303 },
	{ 0x00c0, "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA256", KX_RSA, AU_RSA, "CAMELLIA_256_CBC", "SHA256", 0x0303, 0x0303 },
	{ 0x00c6, "TLS_SM4_GCM_SM3", KX_ANY, AU_ANY, "SM4_GCM", "AEAD", 0x0304, 0x0304 },
	{ 0x00c7, "TLS_SM4_CCM_SM3", KX_ANY, AU_ANY, "SM4_CCM", "AEAD", 0x0304, 0x0304 },
	{ 0x00ff, "TLS_EMPTY_RENEGOTIATION_INFO_SCSV", KX_OTHER, AU_OTHER, "SCSV", "SCSV", 0x0300, 0x0304 },
	{ 0x1301, "TLS_AES_128_GCM_SHA256", KX_ANY, AU_ANY, "AES_128_GCM", "AEAD", 0x0304, 0x0304 },
	{ 0x1302, "TLS_AES_256_GCM_SHA384", KX_ANY, AU_ANY, "AES_256_GCM", "AEAD", 0x0304, 0x0304 },
	{ 0x1303, "TLS_CHACHA20_POLY1305_SHA256", KX_ANY, AU_ANY, "CHACHA20_POLY1305", "AEAD", 0x0304, 0x0304 },
	{ 0x1304, "TLS_AES_128_CCM_SHA256", KX_ANY, AU_ANY, "AES_128_CCM", "AEAD", 0x0304, 0x0304 },
	{ 0x1305, "TLS_AES_128_CCM_8_SHA256", KX_ANY, AU_ANY, "AES_128_CCM_8", "AEAD", 0x0304, 0x0304 },
	{ 0x1306, "TLS_AEGIS_256_SHA384", KX_ANY, AU_ANY, "AEGIS_256", "AEAD", 0x0304, 0x0304 },
	{ 0x1307, "TLS_AEGIS_128L_SHA256", KX_ANY, AU_ANY, "AEGIS_128L", "AEAD", 0x0304, 0x0304 },
	{ 0x5600, "TLS_FALLBACK_SCSV", KX_OTHER, AU_OTHER, "SCSV", "SCSV", 0x0300, 0x0304 },
	{ 0xc009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", KX_ECDHE, AU_ECDSA, "AES_128_CBC", "SHA1", 0x0301, 0x0303 },
	{ 0xc013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", KX_ECDHE, AU_RSA, "AES_128_CBC", "SHA1", 0x0301, 0x0303 },
	{ 0xc014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", KX_ECDHE, AU_RSA, "AES_256_CBC", "SHA1", 0x0301, 0x0303 },
	{ 0xc018, "TLS_ECDH_anon_WITH_AES_128_CBC_SHA", KX_ECDH, AU_ANON, "AES_128_CBC", "SHA1", 0x0301, 0x0303 },
	{ 0xc01d, "TLS_SRP_SHA_WITH_AES_128_CBC_SHA", KX_SRP, AU_OTHER, "AES_128_CBC", "SHA1", 0x0300, 0x0303 },
	{ 0xc01e, "TLS_SRP_SHA_RSA_WITH_AES_128_CBC_SHA", KX_SRP, AU_RSA, "AES_128_CBC", "SHA1", 0x0300, 0x0303 },
	{ 0xc023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", KX_ECDHE, AU_ECDSA, "AES_128_CBC", "SHA256", 0x0303, 0x0303 },
	{ 0xc028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", KX_ECDHE, AU_RSA, "AES_256_CBC", "SHA384", 0x0303, 0x0303 },
	{ 0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", KX_ECDHE, AU_ECDSA, "AES_128_GCM", "AEAD", 0x0303, 0x0303 },
	{ 0xc02c, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", KX_ECDHE, AU_ECDSA, "AES_256_GCM", "AEAD", 0x0303, 0x0303 },
	{ 0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", KX_ECDHE, AU_RSA, "AES_128_GCM", "AEAD", 0x0303, 0x0303 },
	{ 0xc030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", KX_ECDHE, AU_RSA, "AES_256_GCM", "AEAD", 0x0303, 0x0303 },
	{ 0xc032, "TLS_ECDH_RSA_WITH_AES_256_GCM_SHA384", KX_ECDH, AU_RSA, "AES_256_GCM", "AEAD", 0x0303, 0x0303 },
	{ 0xc035, "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA", KX_ECDHE_PSK, AU_PSK, "AES_128_CBC", "SHA1", 0x0301, 0x0303 },
	{ 0xc037, "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256", KX_ECDHE_PSK, AU_PSK, "AES_128_CBC", "SHA256", 0x0301, 0x0303 },
	{ 0xc03c, "TLS_RSA_WITH_ARIA_128_CBC_SHA256", KX_RSA, AU_RSA, "ARIA_128_CBC", "SHA256", 0x0303, 0x0303 },
	{ 0xc061, "TLS_ECDHE_RSA_WITH_ARIA_256_GCM_SHA384", KX_ECDHE, AU_RSA, "ARIA_256_GCM", "AEAD", 0x0303, 0x0303 },
	{ 0xc09c, "TLS_RSA_WITH_AES_128_CCM", KX_RSA, AU_RSA, "AES_128_CCM", "AEAD", 0x0303, 0x0303 },
	{ 0xc0a0, "TLS_RSA_WITH_AES_128_CCM_8", KX_RSA, AU_RSA, "AES_128_CCM_8", "AEAD", 0x0303, 0x0303 },
	{ 0xc0aa, "TLS_PSK_DHE_WITH_AES_128_CCM_8", KX_DHE_PSK, AU_PSK, "AES_128_CCM_8", "AEAD", 0x0303, 0x0303 },
	{ 0xc0ae, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8", KX_ECDHE, AU_ECDSA, "AES_128_CCM_8", "AEAD", 0x0303, 0x0303 },
	{ 0xc0b0, "TLS_ECCPWD_WITH_AES_128_GCM_SHA256", KX_OTHER, AU_OTHER, "AES_128_GCM", "AEAD", 0x0303, 0x0304 },
	{ 0xc0b4, "TLS_SHA256_SHA256", KX_ANY, AU_ANY, "NULL", "SHA256", 0x0304, 0x0304 },
	{ 0xc0b5, "TLS_SHA384_SHA384", KX_ANY, AU_ANY, "NULL", "SHA384", 0x0304, 0x0304 },
	{ 0xc100, "TLS_GOSTR341112_256_WITH_KUZNYECHIK_CTR_OMAC", KX_OTHER, AU_OTHER, "KUZNYECHIK_CTR", "OMAC", 0x0303, 0x0303 },
	{ 0xc102, "TLS_GOSTR341112_256_WITH_28147_CNT_IMIT", KX_OTHER, AU_OTHER, "28147_CNT", "IMIT", 0x0303, 0x0303 },
	{ 0xc103, "TLS_GOSTR341112_256_WITH_KUZNYECHIK_MGM_L", KX_ANY, AU_ANY, "KUZNYECHIK_MGM_L", "AEAD", 0x0304, 0x0304 },
	{ 0xc106, "TLS_GOSTR341112_256_WITH_MAGMA_MGM_S", KX_ANY, AU_ANY, "MAGMA_MGM_S", "AEAD", 0x0304, 0x0304 },
	{ 0xcca8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", KX_ECDHE, AU_RSA, "CHACHA20_POLY1305", "AEAD", 0x0303, 0x0303 },
	{ 0xcca9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", KX_ECDHE, AU_ECDSA, "CHACHA20_POLY1305", "AEAD", 0x0303, 0x0303 },
	{ 0xccae, "TLS_RSA_PSK_WITH_CHACHA20_POLY1305_SHA256", KX_RSA_PSK, AU_RSA, "CHACHA20_POLY1305", "AEAD", 0x0303, 0x0303 },
	{ 0xd001, "TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256", KX_ECDHE_PSK, AU_PSK, "AES_128_GCM", "AEAD", 0x0303, 0x0303 },
	{ 0xd005, "TLS_ECDHE_PSK_WITH_AES_128_CCM_SHA256", KX_ECDHE_PSK, AU_PSK, "AES_128_CCM", "AEAD", 0x0303, 0x0303 },
};

static void test_known_suites(void)
{
	size_t i;

	for (i = 0; i < sizeof known_suites / sizeof known_suites[0]; i++) {
		const struct suite_info *s = names_suite(known_suites[i].v);

		CHECKF(s != NULL, "known suite present (0x%04lx, 0x%04lx)", (long)(known_suites[i].v), (long)(0));
		if (!s)
			continue;
		CHECK_STRF(s->name, known_suites[i].name, "suite name 0x%04lx", (long)(s->v));
		CHECK_STRF(names_suite_name(s->v), known_suites[i].name, "suite_name() 0x%04lx", (long)(s->v));
		CHECKF(s->kx == known_suites[i].kx, "suite kx (0x%04lx, 0x%04lx)", (long)(s->v), (long)(s->kx));
		CHECKF(s->au == known_suites[i].au, "suite au (0x%04lx, 0x%04lx)", (long)(s->v), (long)(s->au));
		CHECK_STRF(s->cipher, known_suites[i].cipher, "suite cipher 0x%04lx", (long)(s->v));
		CHECK_STRF(s->mac, known_suites[i].mac, "suite mac 0x%04lx", (long)(s->v));
		CHECKF(s->min_version == known_suites[i].min, "suite min (0x%04lx, 0x%04lx)", (long)(s->v), (long)(s->min_version));
		CHECKF(s->max_version == known_suites[i].max, "suite max (0x%04lx, 0x%04lx)", (long)(s->v), (long)(s->max_version));
	}
}

struct case16 {
	uint16_t v;
	const char *name;       /* NULL: must be unknown */
};

static void run16(const char *what, const char *(*fn)(uint16_t), const struct case16 *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		CHECK_STRF(fn(c[i].v), c[i].name, "%s 0x%04lx", what, (long)(c[i].v));
}

#define RUN16(what, fn, cases) run16((what), (fn), (cases), sizeof (cases) / sizeof (cases)[0])

static const struct case16 suite_names[] = {
	{ 0x0a0a, NULL },       /* GREASE */
	{ 0x001c, NULL },       /* reserved: SSLv3 Fortezza */
	{ 0x0060, NULL },       /* reserved: EXPORT1024 */
	{ 0x0080, NULL },       /* GOST 2001, never registered */
	{ 0x00c8, NULL },
	{ 0x1300, NULL },
	{ 0x1308, NULL },
	{ 0xc0b6, NULL },
	{ 0xc107, NULL },
	{ 0xcc13, NULL },       /* pre-RFC ChaCha20 */
	{ 0xd004, NULL },
	{ 0xfefe, NULL },
	{ 0xffff, NULL },
};

static const struct case16 ext_cases[] = {
	{ 0x0000, "server_name" },
	{ 0x0005, "status_request" },
	{ 0x000a, "supported_groups" },
	{ 0x000b, "ec_point_formats" },
	{ 0x000d, "signature_algorithms" },
	{ 0x0010, "application_layer_protocol_negotiation" },
	{ 0x0012, "signed_certificate_timestamp" },
	{ 0x0015, "padding" },
	{ 0x0016, "encrypt_then_mac" },
	{ 0x0017, "extended_master_secret" },
	{ 0x001b, "compress_certificate" },
	{ 0x001c, "record_size_limit" },
	{ 0x0022, "delegated_credential" },
	{ 0x0023, "session_ticket" },
	{ 0x0029, "pre_shared_key" },
	{ 0x002a, "early_data" },
	{ 0x002b, "supported_versions" },
	{ 0x002c, "cookie" },
	{ 0x002d, "psk_key_exchange_modes" },
	{ 0x002f, "certificate_authorities" },
	{ 0x0031, "post_handshake_auth" },
	{ 0x0032, "signature_algorithms_cert" },
	{ 0x0033, "key_share" },
	{ 0x0035, "connection_id (deprecated)" },
	{ 0x0036, "connection_id" },
	{ 0x0039, "quic_transport_parameters" },
	{ 0x003d, "rrc" },
	{ 0xfd00, "ech_outer_extensions" },
	{ 0xfe0d, "encrypted_client_hello" },
	{ 0xff01, "renegotiation_info" },
	{ 0x0028, NULL },       /* reserved (draft key_share) */
	{ 0x002e, NULL },       /* reserved (draft ticket_early_data_info) */
	{ 0x0a0a, NULL },       /* GREASE */
	{ 0x3374, NULL },       /* next_protocol_negotiation: never registered */
	{ 0x4469, NULL },       /* ALPS (old codepoint): not registered */
	{ 0x44cd, NULL },       /* ALPS: not registered */
	{ 0x7550, NULL },       /* channel_id: not registered */
	{ 0xfe0c, NULL },
	{ 0xff00, NULL },       /* private use */
	{ 0xffa5, NULL },       /* draft QUIC transport parameters */
	{ 0xffce, NULL },       /* draft ESNI */
};

static const struct case16 group_cases[] = {
	{ 0x0001, "sect163k1" },
	{ 0x0017, "secp256r1" },
	{ 0x0018, "secp384r1" },
	{ 0x0019, "secp521r1" },
	{ 0x001a, "brainpoolP256r1" },
	{ 0x001d, "x25519" },
	{ 0x001e, "x448" },
	{ 0x001f, "brainpoolP256r1tls13" },
	{ 0x0021, "brainpoolP512r1tls13" },
	{ 0x0029, "curveSM2" },
	{ 0x0100, "ffdhe2048" },
	{ 0x0104, "ffdhe8192" },
	{ 0x0200, "MLKEM512" },
	{ 0x0201, "MLKEM768" },
	{ 0x0202, "MLKEM1024" },
	{ 0x11eb, "SecP256r1MLKEM768" },
	{ 0x11ec, "X25519MLKEM768" },
	{ 0x11ed, "SecP384r1MLKEM1024" },
	{ 0x6399, "X25519Kyber768Draft00" },
	{ 0xff01, "arbitrary_explicit_prime_curves" },
	{ 0xff02, "arbitrary_explicit_char2_curves" },
	{ 0x0000, NULL },
	{ 0x002a, NULL },
	{ 0x0105, NULL },
	{ 0x01fc, NULL },       /* private use */
	{ 0x0203, NULL },
	{ 0x023c, NULL },       /* OQS kyber768: not registered */
	{ 0x0a0a, NULL },
	{ 0xfafa, NULL },
	{ 0xfe00, NULL },       /* private use */
	{ 0xff03, NULL },
};

static const struct case16 sigalg_cases[] = {
	{ 0x0201, "rsa_pkcs1_sha1" },
	{ 0x0203, "ecdsa_sha1" },
	{ 0x0401, "rsa_pkcs1_sha256" },
	{ 0x0403, "ecdsa_secp256r1_sha256" },
	{ 0x0420, "rsa_pkcs1_sha256_legacy" },
	{ 0x0501, "rsa_pkcs1_sha384" },
	{ 0x0503, "ecdsa_secp384r1_sha384" },
	{ 0x0601, "rsa_pkcs1_sha512" },
	{ 0x0603, "ecdsa_secp521r1_sha512" },
	{ 0x0708, "sm2sig_sm3" },
	{ 0x0804, "rsa_pss_rsae_sha256" },
	{ 0x0805, "rsa_pss_rsae_sha384" },
	{ 0x0806, "rsa_pss_rsae_sha512" },
	{ 0x0807, "ed25519" },
	{ 0x0808, "ed448" },
	{ 0x0809, "rsa_pss_pss_sha256" },
	{ 0x080b, "rsa_pss_pss_sha512" },
	{ 0x081a, "ecdsa_brainpoolP256r1tls13_sha256" },
	{ 0x081c, "ecdsa_brainpoolP512r1tls13_sha512" },
	{ 0x0904, "mldsa44" },
	{ 0x0906, "mldsa87" },
	{ 0x0101, NULL },       /* TLS 1.2 md5/rsa: not in the registry */
	{ 0x0202, NULL },       /* sha1/dsa */
	{ 0x0301, NULL },       /* sha224/rsa */
	{ 0x0402, NULL },       /* sha256/dsa */
	{ 0x0502, NULL },
	{ 0x0840, NULL },       /* reserved (GOST) */
	{ 0x0a0a, NULL },
	{ 0xfe00, NULL },       /* private use */
	{ 0xfea0, NULL },       /* OQS dilithium2: not registered */
};

static const struct case16 version_cases[] = {
	{ 0x0002, "SSL 2.0" },
	{ 0x0300, "SSL 3.0" },
	{ 0x0301, "TLS 1.0" },
	{ 0x0302, "TLS 1.1" },
	{ 0x0303, "TLS 1.2" },
	{ 0x0304, "TLS 1.3" },
	{ 0x7f12, "TLS 1.3 draft 18" },
	{ 0x7f1c, "TLS 1.3 draft 28" },
	{ 0xfeff, "DTLS 1.0" },
	{ 0xfefd, "DTLS 1.2" },
	{ 0xfefc, "DTLS 1.3" },
	{ 0x0000, NULL },
	{ 0x0100, NULL },
	{ 0x0305, NULL },
	{ 0x7f0d, NULL },
	{ 0x7f1d, NULL },
	{ 0x0a0a, NULL },
	{ 0xfefe, NULL },
};

static const struct {
	uint8_t v;
	const char *name;
} alert_cases[] = {
	{ 0, "close_notify" },
	{ 10, "unexpected_message" },
	{ 20, "bad_record_mac" },
	{ 21, "decryption_failed" },
	{ 22, "record_overflow" },
	{ 40, "handshake_failure" },
	{ 42, "bad_certificate" },
	{ 45, "certificate_expired" },
	{ 46, "certificate_unknown" },
	{ 47, "illegal_parameter" },
	{ 48, "unknown_ca" },
	{ 50, "decode_error" },
	{ 51, "decrypt_error" },
	{ 70, "protocol_version" },
	{ 71, "insufficient_security" },
	{ 80, "internal_error" },
	{ 86, "inappropriate_fallback" },
	{ 90, "user_canceled" },
	{ 100, "no_renegotiation" },
	{ 109, "missing_extension" },
	{ 110, "unsupported_extension" },
	{ 112, "unrecognized_name" },
	{ 115, "unknown_psk_identity" },
	{ 116, "certificate_required" },
	{ 120, "no_application_protocol" },
	{ 121, "ech_required" },
	{ 1, NULL },
	{ 2, NULL },
	{ 118, NULL },
	{ 122, NULL },
	{ 255, NULL },
}, hs_cases[] = {
	{ 0, "HelloRequest" },
	{ 1, "ClientHello" },
	{ 2, "ServerHello" },
	{ 4, "NewSessionTicket" },
	{ 8, "EncryptedExtensions" },
	{ 11, "Certificate" },
	{ 12, "ServerKeyExchange" },
	{ 13, "CertificateRequest" },
	{ 14, "ServerHelloDone" },
	{ 15, "CertificateVerify" },
	{ 16, "ClientKeyExchange" },
	{ 20, "Finished" },
	{ 22, "CertificateStatus" },
	{ 24, "KeyUpdate" },
	{ 25, "CompressedCertificate" },
	{ 254, "MessageHash" },
	{ 7, NULL },
	{ 18, NULL },
	{ 19, NULL },
	{ 67, NULL },
	{ 255, NULL },
}, ct_cases[] = {
	{ 20, "change_cipher_spec" },
	{ 21, "alert" },
	{ 22, "handshake" },
	{ 23, "application_data" },
	{ 24, "heartbeat" },
	{ 25, "tls12_cid" },
	{ 26, "ACK" },
	{ 0, NULL },
	{ 19, NULL },
	{ 27, NULL },
	{ 128, NULL },          /* an SSLv2 record header byte */
	{ 255, NULL },
}, level_cases[] = {
	{ 1, "warning" },
	{ 2, "fatal" },
	{ 0, NULL },
	{ 3, NULL },
	{ 255, NULL },
};

static void test_known(void)
{
	size_t i;

	test_known_suites();
	RUN16("suite", names_suite_name, suite_names);
	for (i = 0; i < sizeof suite_names / sizeof suite_names[0]; i++)
		CHECKF(names_suite(suite_names[i].v) == NULL, "unknown suite info (0x%04lx, 0x%04lx)", (long)(suite_names[i].v), (long)(0));
	RUN16("extension", names_extension, ext_cases);
	RUN16("group", names_group, group_cases);
	RUN16("sigalg", names_sigalg, sigalg_cases);
	RUN16("version", names_version, version_cases);
	for (i = 0; i < sizeof alert_cases / sizeof alert_cases[0]; i++)
		CHECK_STRF(names_alert(alert_cases[i].v), alert_cases[i].name, "alert 0x%04lx", (long)(alert_cases[i].v));
	for (i = 0; i < sizeof hs_cases / sizeof hs_cases[0]; i++)
		CHECK_STRF(names_hs_type(hs_cases[i].v), hs_cases[i].name, "hs type 0x%04lx", (long)(hs_cases[i].v));
	for (i = 0; i < sizeof ct_cases / sizeof ct_cases[0]; i++)
		CHECK_STRF(names_content_type(ct_cases[i].v), ct_cases[i].name, "content type 0x%04lx", (long)(ct_cases[i].v));
	for (i = 0; i < sizeof level_cases / sizeof level_cases[0]; i++)
		CHECK_STRF(names_alert_level(level_cases[i].v), level_cases[i].name, "alert level 0x%04lx", (long)(level_cases[i].v));
}

/* ----------------------------------------------------------- 4. GREASE */

static void test_grease(void)
{
	unsigned v, count = 0;
	size_t i;

	for (v = 0; v <= 0xffff; v++) {
		int want = (v & 0xff) == (v >> 8) && (v & 0x0f) == 0x0a;

		CHECKF(names_is_grease((uint16_t)v) == want, "grease (0x%04lx, 0x%04lx)", (long)(v), (long)(want));
		count += (unsigned)want;
	}
	CHECKF(count == 16, "16 GREASE values (0x%04lx, 0x%04lx)", (long)(count), (long)(16));
	CHECKF(names_is_grease(0x0a0a) && names_is_grease(0x1a1a) && names_is_grease(0xfafa), "grease examples (0x%04lx, 0x%04lx)", (long)(0), (long)(0));
	CHECKF(!names_is_grease(0x0a1a) && !names_is_grease(0x0b0b) && !names_is_grease(0xaaab) &&
	      !names_is_grease(0x0000) && !names_is_grease(0x1301), "not grease (0x%04lx, 0x%04lx)", (long)(0), (long)(0));
	/* no GREASE value has a name in any table */
	for (v = 0x0a0a; v <= 0xfafa; v += 0x1010) {
		CHECKF(!names_suite_name((uint16_t)v) && !names_extension((uint16_t)v) &&
		      !names_group((uint16_t)v) && !names_sigalg((uint16_t)v) &&
		      !names_version((uint16_t)v), "GREASE unnamed (0x%04lx, 0x%04lx)", (long)(v), (long)(0));
	}
	for (i = 0; i < names_suites_n; i++)
		CHECKF(!names_is_grease(names_suites[i].v), "suite not GREASE (0x%04lx, 0x%04lx)", (long)(names_suites[i].v), (long)(0));
}

/* ---------------------------------------------------------- 5. reverse */

static const struct {
	const char *s;
	int v;
} version_names[] = {
	{ "TLS1.2", 0x0303 }, { "TLS 1.2", 0x0303 }, { "tls12", 0x0303 }, { "TLSv1.2", 0x0303 },
	{ "tlsv1_2", 0x0303 }, { "TLS-1.2", 0x0303 }, { "tls1.3", 0x0304 }, { "TLSv1.3", 0x0304 },
	{ "TLS 1.3", 0x0304 }, { "TLS1", 0x0301 }, { "TLSv1", 0x0301 }, { "TLS 1.0", 0x0301 },
	{ "tls1.1", 0x0302 }, { "TLSv1.1", 0x0302 }, { "SSL3", 0x0300 }, { "SSLv3", 0x0300 },
	{ "SSL 3.0", 0x0300 }, { "sslv3.0", 0x0300 }, { "SSLv2", 0x0002 }, { "SSL 2.0", 0x0002 },
	{ "DTLS1.2", 0xfefd }, { "DTLSv1.2", 0xfefd }, { "DTLS 1.0", 0xfeff }, { "DTLS1.3", 0xfefc },
	{ "TLS 1.3 draft 28", 0x7f1c },
	{ "", -1 }, { "TLS", -1 }, { "TLS1.4", -1 }, { "tls 2", -1 }, { "SSL 3.1", -1 },
	{ "TLSv1.2x", -1 }, { "v1.2", -1 }, { "1.2", -1 }, { "TLS 1.2 please and thank you", -1 },
};

static void test_reverse(void)
{
	size_t i;

	for (i = 0; i < names_suites_n; i++)
		CHECKF(names_suite_by_name(names_suites[i].name) == names_suites[i].v, "suite round trip (0x%04lx, 0x%04lx)", (long)(names_suites[i].v), (long)(0));
	for (i = 0; i < names_groups_n; i++)
		CHECKF(names_group_by_name(names_groups[i].name) == names_groups[i].v, "group round trip (0x%04lx, 0x%04lx)", (long)(names_groups[i].v), (long)(0));
	for (i = 0; i < names_sigalgs_n; i++)
		CHECKF(names_sigalg_by_name(names_sigalgs[i].name) == names_sigalgs[i].v, "sigalg round trip (0x%04lx, 0x%04lx)", (long)(names_sigalgs[i].v), (long)(0));
	for (i = 0; i < names_alerts_n; i++)
		CHECKF(names_alert_by_name(names_alerts[i].name) == names_alerts[i].v, "alert round trip (0x%04lx, 0x%04lx)", (long)(names_alerts[i].v), (long)(0));
	for (i = 0; i < names_versions_n; i++)
		CHECKF(names_version_by_name(names_versions[i].name) == names_versions[i].v, "version round trip (0x%04lx, 0x%04lx)", (long)(names_versions[i].v), (long)(0));

	CHECKF(names_suite_by_name("tls_ecdhe_rsa_with_aes_128_gcm_sha256") == 0xc02f, "suite ci (0x%04lx, 0x%04lx)", (long)(0), (long)(0));
	CHECKF(names_suite_by_name("TLS_FALLBACK_SCSV") == 0x5600, "suite scsv (0x%04lx, 0x%04lx)", (long)(0), (long)(0));
	CHECKF(names_suite_by_name("ECDHE-RSA-AES128-GCM-SHA256") == -1, "openssl name (0x%04lx, 0x%04lx)", (long)(0), (long)(0));
	CHECKF(names_suite_by_name("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA25") == -1, "prefix (0x%04lx, 0x%04lx)", (long)(0), (long)(0));
	CHECKF(names_suite_by_name("") == -1 && names_suite_by_name(NULL) == -1, "empty (0x%04lx, 0x%04lx)", (long)(0), (long)(0));
	CHECKF(names_group_by_name("x25519mlkem768") == 0x11ec, "group ci (0x%04lx, 0x%04lx)", (long)(0), (long)(0));
	CHECKF(names_group_by_name("SECP256R1") == 0x0017, "group ci (0x%04lx, 0x%04lx)", (long)(0), (long)(0));
	CHECKF(names_group_by_name("P-256") == -1, "group alias (0x%04lx, 0x%04lx)", (long)(0), (long)(0));
	CHECKF(names_sigalg_by_name("ED25519") == 0x0807, "sigalg ci (0x%04lx, 0x%04lx)", (long)(0), (long)(0));
	CHECKF(names_sigalg_by_name("Rsa_Pss_Rsae_Sha256") == 0x0804, "sigalg ci (0x%04lx, 0x%04lx)", (long)(0), (long)(0));
	CHECKF(names_alert_by_name("Certificate_Required") == 116, "alert ci (0x%04lx, 0x%04lx)", (long)(0), (long)(0));
	CHECKF(names_alert_by_name("HANDSHAKE_FAILURE") == 40, "alert ci (0x%04lx, 0x%04lx)", (long)(0), (long)(0));
	CHECKF(names_alert_by_name("handshake failure") == -1, "alert space (0x%04lx, 0x%04lx)", (long)(0), (long)(0));
	CHECKF(names_group_by_name(NULL) == -1 && names_sigalg_by_name(NULL) == -1 &&
	      names_alert_by_name(NULL) == -1 && names_version_by_name(NULL) == -1, "NULL (0x%04lx, 0x%04lx)", (long)(0), (long)(0));
	for (i = 0; i < sizeof version_names / sizeof version_names[0]; i++) {
		int got = names_version_by_name(version_names[i].s);

		if (got != version_names[i].v)
			printf("  version \"%s\": got %d\n", version_names[i].s, got);
		CHECKF(got == version_names[i].v, "version by name (0x%04lx, 0x%04lx)", (long)(got), (long)(version_names[i].v));
	}
}

/* ------------------------------------------------------------ 6. fmt16 */

static void test_fmt(void)
{
	char buf[64], small[4];

	CHECK_STRF(names_fmt16(buf, sizeof buf, names_suite_name, 0xc02f), "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "fmt known 0x%04lx", (long)(0xc02f));
	CHECK_STRF(names_fmt16(buf, sizeof buf, names_group, 0x11ec), "X25519MLKEM768", "fmt group 0x%04lx", (long)(0));
	CHECK_STRF(names_fmt16(buf, sizeof buf, names_group, 0x6398), "0x6398", "fmt unknown 0x%04lx", (long)(0));
	CHECK_STRF(names_fmt16(buf, sizeof buf, names_extension, 0x4469), "0x4469", "fmt unknown 0x%04lx", (long)(0));
	CHECK_STRF(names_fmt16(buf, sizeof buf, names_extension, 0x0001), "max_fragment_length", "fmt 0x%04lx", (long)(1));
	CHECK_STRF(names_fmt16(buf, sizeof buf, names_suite_name, 0x0a0a), "0x0a0a", "fmt grease 0x%04lx", (long)(0));
	CHECK_STRF(names_fmt16(buf, sizeof buf, names_sigalg, 0), "0x0000", "fmt zero 0x%04lx", (long)(0));
	CHECK_STRF(names_fmt16(buf, sizeof buf, names_version, 0xffff), "0xffff", "fmt ffff 0x%04lx", (long)(0));
	CHECKF(names_fmt16(buf, sizeof buf, names_version, 0x0303) == buf, "fmt returns buf (0x%04lx, 0x%04lx)", (long)(0), (long)(0));
	CHECK_STRF(names_fmt16(small, sizeof small, names_version, 0x1234), "0x1", "fmt truncates 0x%04lx", (long)(0));
	CHECK_STRF(names_fmt16(small, sizeof small, names_version, 0x0303), "TLS", "fmt truncates 0x%04lx", (long)(0));
}

/* The names a compact JSON ladder event copies without escaping
 * (report/json.c, table_name): printable ASCII, no '"' or '\\', at most
 * 64 bytes, for every value. */
static int plain_name(const char *s)
{
	size_t i;
	for (i = 0; s[i]; i++)
		if (i == 64 || s[i] < 0x20 || s[i] > 0x7e || s[i] == '"' || s[i] == '\\')
			return 0;
	return 1;
}

static void test_ladder_names(void)
{
	int v, bad = 0;
	for (v = 0; v < 256; v++) {
		const char *h = names_hs_type((uint8_t)v), *a = names_alert((uint8_t)v);
		bad += !plain_name(rpt_dir_name((uint8_t)v));
		bad += h && !plain_name(h);
		bad += a && !plain_name(a);
	}
	for (v = 0; v <= EV__COUNT; v++)
		bad += !plain_name(hs_ev_kind_name((enum hs_ev_kind)v));
	CHECKF(bad == 0, "%d ladder names need an escape or are longer than 64 bytes", bad);
	CHECK(!plain_name("a\"b") && !plain_name("a\\b") && !plain_name("\x01") && plain_name("ClientHello"));
}

int main(void)
{
	test_ladder_names();
	test_sorted();
	test_suite_consistency();
	test_known();
	test_grease();
	test_reverse();
	test_fmt();
	return check_done();
}

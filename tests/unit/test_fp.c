/*
 * test_fp.c - JA3, JA3S, JA4 and JA4_r (dissect/fp.c) against the examples
 * published with their specifications.
 *
 * ClientHello and ServerHello bodies are built byte by byte here and parsed
 * with tls_parse_client_hello() / tls_parse_server_hello(), so the test
 * covers the path the tool takes. Expected values:
 *   - salesforce/ja3 README: the two JA3 strings and their MD5s;
 *   - FoxIO-LLC/ja4 technical_details/JA4.md: the example JA4, JA4_r, the
 *     no-signature-algorithms hash 6d807ffa2a79, the ALPN examples
 *     (ab, ad, 3b, 3d, 01, h2, h1), the version table, "00", "99" caps,
 *     000000000000 for empty lists;
 *   - a JA3S as tshark 4.0 printed it for arkime/badcurveball.pcap
 *     (the JA3 README gives JA3S hashes, but not their strings).
 *
 * The last line printed is "N passed, N failed"; exit status 1 on failure.
 */
#include "dissect/fp.h"
#include "tests/unit/check.h"
#include "dissect/tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a tiny ClientHello / ServerHello builder ---------------------------- */

struct bb {
	uint8_t b[8192];
	size_t n;
};

static void u8(struct bb *b, unsigned v) { b->b[b->n++] = (uint8_t)v; }
static void u16(struct bb *b, unsigned v) { u8(b, v >> 8); u8(b, v & 0xff); }
static void bytes(struct bb *b, const void *p, size_t n) { memcpy(b->b + b->n, p, n); b->n += n; }
static void put16_at(struct bb *b, size_t at, size_t v) { b->b[at] = (uint8_t)(v >> 8); b->b[at + 1] = (uint8_t)v; }

struct ch_spec {
	uint16_t legacy;
	const uint16_t *suites; size_t n_suites;
	int no_ext_block;
	/* extensions in wire order; the known ones get a body from the fields below */
	const uint16_t *exts; size_t n_exts;
	const uint16_t *groups; size_t n_groups;
	const uint8_t *ecpf; size_t n_ecpf;
	const uint16_t *sigalgs; size_t n_sigalgs;
	const uint16_t *versions; size_t n_versions;
	const uint8_t *alpn1; size_t alpn1_len;   /* first ALPN value */
	const char *sni;
};

static void u16vec(struct bb *b, const uint16_t *v, size_t n)
{
	size_t i;
	u16(b, (unsigned)(2 * n));
	for (i = 0; i < n; i++)
		u16(b, v[i]);
}

static size_t build_ch(struct bb *b, const struct ch_spec *s)
{
	size_t i, xl;
	static const uint8_t rnd[32];
	b->n = 0;
	u16(b, s->legacy);
	bytes(b, rnd, 32);
	u8(b, 0);                       /* session id */
	u16vec(b, s->suites, s->n_suites);
	u8(b, 1);
	u8(b, 0);                       /* compression: null */
	if (s->no_ext_block)
		return b->n;
	xl = b->n;
	u16(b, 0);
	for (i = 0; i < s->n_exts; i++) {
		uint16_t t = s->exts[i];
		size_t at;
		u16(b, t);
		at = b->n;
		u16(b, 0);
		switch (t) {
		case 0x0000: {
			size_t k = strlen(s->sni ? s->sni : "example.com");
			u16(b, (unsigned)(k + 3));
			u8(b, 0);
			u16(b, (unsigned)k);
			bytes(b, s->sni ? s->sni : "example.com", k);
			break;
		}
		case 0x000a: u16vec(b, s->groups, s->n_groups); break;
		case 0x000b: u8(b, (unsigned)s->n_ecpf); bytes(b, s->ecpf, s->n_ecpf); break;
		case 0x000d: u16vec(b, s->sigalgs, s->n_sigalgs); break;
		case 0x0010:
			u16(b, (unsigned)(s->alpn1_len + 1 + 9));
			u8(b, (unsigned)s->alpn1_len);
			bytes(b, s->alpn1, s->alpn1_len);
			u8(b, 8);
			bytes(b, "http/1.1", 8);
			break;
		case 0x002b: {
			size_t k;
			u8(b, (unsigned)(2 * s->n_versions));
			for (k = 0; k < s->n_versions; k++)
				u16(b, s->versions[k]);
			break;
		}
		default: break;   /* empty body */
		}
		put16_at(b, at, b->n - at - 2);
	}
	put16_at(b, xl, b->n - xl - 2);
	return b->n;
}

/* The hellos' lists (record.h: a hello is filled at full capacity): each
 * test hello gets a block of its own the first time, reused after. */
static struct hs_client_hello *held[16];
static size_t n_held;

/* Zeroes *ch, keeping (or giving it) lists of its own. */
static void ch_reset(struct hs_client_hello *ch)
{
	struct hs_client_hello *f = NULL;
	size_t i;
	for (i = 0; i < n_held; i++)
		if (ch->lists == held[i]->lists)
			f = held[i];
	if (!f) {
		if (n_held == sizeof(held) / sizeof(held[0]) || (f = record_new_client_hello()) == NULL)
			abort();
		held[n_held++] = f;
	}
	*ch = *f;   /* a held block's own fields are never written: zero */
}

/* *dst = *src with lists of its own (a change to dst leaves src alone). */
static void ch_copy(struct hs_client_hello *dst, const struct hs_client_hello *src)
{
	struct hs_client_hello l;
	ch_reset(dst);
	l = *dst;
	*dst = *src;
	dst->lists = l.lists;
#define L(x, cap) do { \
		dst->o_##x = l.o_##x; \
		memcpy(hs_ch_##x(dst), hs_ch_##x(src), (cap) * sizeof(*hs_ch_##x(dst))); \
	} while (0)
	L(suites, HS_MAX_SUITES); L(comp, HS_MAX_SMALL); L(ext_type, HS_MAX_EXTS); L(ext_len, HS_MAX_EXTS);
	L(sni, HS_SNI_BYTES); L(alpn_off, HS_MAX_ALPN); L(alpn, HS_ALPN_BYTES); L(groups, HS_MAX_GROUPS);
	L(ecpf, HS_MAX_SMALL); L(sigalgs, HS_MAX_SIGALGS); L(sigalgs_cert, HS_MAX_SIGALGS);
	L(versions, HS_MAX_VERSIONS); L(key_share, HS_MAX_SMALL); L(key_share_len, HS_MAX_SMALL);
	L(psk_modes, HS_MAX_SMALL);
#undef L
}

static void parse_ch(const struct ch_spec *s, struct hs_client_hello *ch)
{
	static struct bb b;
	size_t n = build_ch(&b, s);
	ch_reset(ch);
	CHECK_INTF(tls_parse_client_hello(b.b, n, ch), 0, "ClientHello parses");
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- JA3 ----------------------------------------------------------------- */

static void test_ja3(void)
{
	static struct hs_client_hello ch;
	static char full[FP_FULL_MAX];
	char md5[FP_MD5_HEX];
	/* README example 1, with GREASE sprinkled in (JA3 ignores it) */
	static const uint16_t s1[] = { 0x0a0a, 47, 53, 5, 10, 49161, 49162, 49171, 49172, 50, 56, 19, 4 };
	static const uint16_t e1[] = { 0x1a1a, 0, 10, 11, 0xfafa };
	static const uint16_t g1[] = { 0x2a2a, 23, 24, 25 };
	static const uint8_t p1[] = { 0 };
	struct ch_spec a = { .legacy = 769, .suites = s1, .n_suites = N(s1), .exts = e1, .n_exts = N(e1),
			     .groups = g1, .n_groups = N(g1), .ecpf = p1, .n_ecpf = N(p1) };
	/* README example 2: no extensions at all */
	static const uint16_t s2[] = { 4, 5, 10, 9, 100, 98, 3, 6, 19, 18, 99 };
	struct ch_spec c = { .legacy = 769, .suites = s2, .n_suites = N(s2), .no_ext_block = 1 };

	parse_ch(&a, &ch);
	CHECK_INTF(fp_ja3(&ch, full, sizeof(full), md5), FP_OK, "ja3 example 1 rc");
	CHECK_STRF(full, "769,47-53-5-10-49161-49162-49171-49172-50-56-19-4,0-10-11,23-24-25,0", "ja3 example 1 string");
	CHECK_STRF(md5, "ada70206e40642a3e4461f35503241d5", "ja3 example 1 md5");

	parse_ch(&c, &ch);
	CHECK_INTF(fp_ja3(&ch, full, sizeof(full), md5), FP_OK, "ja3 example 2 rc");
	CHECK_STRF(full, "769,4-5-10-9-100-98-3-6-19-18-99,,,", "ja3 example 2 string");
	CHECK_STRF(md5, "de350869b8c85de67a350c8d186f11e6", "ja3 example 2 md5");

	/* SSLv2-format hello: JA3 is not defined */
	ch.sslv2 = 1;
	CHECK_INTF(fp_ja3(&ch, full, sizeof(full), md5), FP_NA, "ja3 of an SSLv2 hello");
	CHECK_STRF(md5, "", "ja3 of an SSLv2 hello is empty");
	CHECK_INTF(fp_ja3(NULL, full, sizeof(full), md5), FP_NA, "ja3 without a ClientHello");

	/* a clipped list is flagged */
	parse_ch(&a, &ch);
	ch.total_exts = (uint16_t)(ch.n_exts + 1);
	CHECK_INTF(fp_ja3(&ch, full, sizeof(full), md5), FP_CLIPPED, "ja3 over a clipped extension list");
}

/* ---- JA3S ---------------------------------------------------------------- */

static void test_ja3s(void)
{
	struct hs_server_hello *sh = record_new_server_hello();
	static char full[FP_FULL_MAX];
	char md5[FP_MD5_HEX];
	static const uint8_t rnd[32] = { 1 };
	struct bb b = { .n = 0 };
	static const uint16_t exts[] = { 0, 65281, 11, 35, 16 };
	size_t i, xl;
	u16(&b, 771);
	bytes(&b, rnd, 32);
	u8(&b, 0);
	u16(&b, 49195);
	u8(&b, 0);
	xl = b.n;
	u16(&b, 0);
	for (i = 0; i < N(exts); i++) {
		u16(&b, exts[i]);
		if (exts[i] == 65281) {
			u16(&b, 1);
			u8(&b, 0);
		} else if (exts[i] == 11) {
			u16(&b, 2);
			u8(&b, 1);
			u8(&b, 0);
		} else if (exts[i] == 16) {
			u16(&b, 11);
			u16(&b, 9);
			u8(&b, 8);
			bytes(&b, "http/1.1", 8);
		} else {
			u16(&b, 0);
		}
	}
	put16_at(&b, xl, b.n - xl - 2);
	if (!sh)
		abort();
	CHECK_INTF(tls_parse_server_hello(b.b, b.n, sh), 0, "ServerHello parses");
	CHECK_INTF(fp_ja3s(sh, full, sizeof(full), md5), FP_OK, "ja3s rc");
	CHECK_STRF(full, "771,49195,0-65281-11-35-16", "ja3s string (tshark, arkime/badcurveball.pcap)");
	CHECK_STRF(md5, "2d1eb5817ece335c24904f516ad5da12", "ja3s md5 (tshark, arkime/badcurveball.pcap)");
	CHECK_INTF(fp_ja3s(NULL, full, sizeof(full), md5), FP_NA, "ja3s without a ServerHello");
	/* the memo: a ServerHello that differs in any field JA3S reads is
	 * never answered from another's entry (sizeof(full) - 1 is another
	 * key: computed afresh) */
	{
		static char f2[FP_FULL_MAX];
		char m2[FP_MD5_HEX];
		int k;
		for (k = 0; k < 5; k++) {
			uint16_t v0 = sh->legacy_version, c0 = sh->cipher, e1 = sh->ext_type[1];
			uint8_t n0 = (uint8_t)sh->n_exts;
			enum fp_rc x, y;
			fp_ja3s(sh, full, sizeof(full), md5);   /* the original in the memo */
			switch (k) {
			case 0: break;
			case 1: sh->legacy_version = 0x0301; break;
			case 2: sh->cipher ^= 1; break;
			case 3: sh->ext_type[1] ^= 1; break;
			case 4: sh->n_exts = (uint8_t)(sh->n_exts - 1); break;
			}
			x = fp_ja3s(sh, full, sizeof(full), md5);
			y = fp_ja3s(sh, f2, sizeof(f2) - 1, m2);
			CHECKF(x == y && !strcmp(full, f2) && !strcmp(md5, m2), "ja3s memo: change %d (%s / %s)", k,
			       full, f2);
			CHECKF(k == 0 || strcmp(full, "771,49195,0-65281-11-35-16"), "ja3s memo: change %d is seen", k);
			sh->legacy_version = v0;
			sh->cipher = c0;
			sh->ext_type[1] = e1;
			sh->n_exts = n0;
		}
	}
	record_free_server_hello(sh);
}

/* ---- JA4 ----------------------------------------------------------------- */

/* The JA4.md example, in wire order, with GREASE added where browsers put it. */
static const uint16_t j_suites[] = { 0x8a8a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9,
				     0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035 };
static const uint16_t j_exts[] = { 0x3a3a, 0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d,
				   0x0005, 0x0023, 0x0012, 0x002b, 0xff01, 0x000b, 0x000a, 0x0015, 0x5a5a };
static const uint16_t j_sigs[] = { 0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601 };
static const uint16_t j_groups[] = { 0x4a4a, 0x001d, 0x0017, 0x0018 };
static const uint16_t j_versions[] = { 0x6a6a, 0x0304, 0x0303 };
static const uint8_t j_ecpf[] = { 0 };

static struct ch_spec ja4_spec(void)
{
	struct ch_spec s = { .legacy = 0x0303, .suites = j_suites, .n_suites = N(j_suites), .exts = j_exts,
			     .n_exts = N(j_exts), .groups = j_groups, .n_groups = N(j_groups), .ecpf = j_ecpf,
			     .n_ecpf = N(j_ecpf), .sigalgs = j_sigs, .n_sigalgs = N(j_sigs),
			     .versions = j_versions, .n_versions = N(j_versions),
			     .alpn1 = (const uint8_t *)"h2", .alpn1_len = 2 };
	return s;
}

static const char *ja4_of(const struct ch_spec *s, char ja4[FP_JA4_LEN], char *raw, size_t rawsz, int *rc)
{
	static struct hs_client_hello ch;
	parse_ch(s, &ch);
	*rc = fp_ja4(&ch, ja4, raw, rawsz);
	return ja4;
}

static void test_ja4_example(void)
{
	static char raw[FP_FULL_MAX];
	char ja4[FP_JA4_LEN];
	int rc;
	struct ch_spec s = ja4_spec();
	static const uint16_t ext_nosni[] = { 0x001b, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d, 0x0005,
					      0x0023, 0x0012, 0x002b, 0xff01, 0x000b, 0x000a, 0x0015 };

	CHECK_STRF(ja4_of(&s, ja4, raw, sizeof(raw), &rc), "t13d1516h2_8daaf6152771_e5627efa2ab1", "JA4.md example");
	CHECK_INTF(rc, FP_OK, "JA4.md example rc");
	CHECK_STRF(raw, "t13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_"
		 "0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_"
		 "0403,0804,0401,0503,0805,0501,0806,0601", "JA4.md example JA4_r");

	/* no signature algorithms: "the string ends without an underscore" */
	s.n_sigalgs = 0;
	CHECK_STRF(ja4_of(&s, ja4, raw, sizeof(raw), &rc), "t13d1516h2_8daaf6152771_6d807ffa2a79", "JA4.md no sigalgs hash");
	CHECK_STRF(strrchr(raw, '_'), "_0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01", "JA4_r without sigalgs has no trailing part");

	/* no SNI: 'i', one extension fewer, same c hash (SNI is not hashed) */
	s = ja4_spec();
	s.exts = ext_nosni;
	s.n_exts = N(ext_nosni);
	CHECK_STRF(ja4_of(&s, ja4, raw, sizeof(raw), &rc), "t13i1515h2_8daaf6152771_e5627efa2ab1", "JA4 without SNI");

	/* no ALPN value: "00" */
	s = ja4_spec();
	s.alpn1_len = 0;
	CHECK_STRF(ja4_of(&s, ja4, raw, sizeof(raw), &rc), "t13d151600_8daaf6152771_e5627efa2ab1", "JA4 empty first ALPN");

	/* no supported_versions: the ClientHello's version */
	s = ja4_spec();
	s.n_versions = 0;
	{
		static const uint16_t ext_nosv[] = { 0x001b, 0x0000, 0x0033, 0x0010, 0x000d, 0x000a };
		s.exts = ext_nosv;
		s.n_exts = N(ext_nosv);
		ja4_of(&s, ja4, raw, sizeof(raw), &rc);
		CHECK_INTF(strncmp(ja4, "t12d1506h2_8daaf6152771_", 24), 0, "JA4 version from legacy_version");
		s.legacy = 0x0301;
		ja4_of(&s, ja4, raw, sizeof(raw), &rc);
		CHECK_INTF(strncmp(ja4, "t10d1506h2_", 11), 0, "JA4 TLS 1.0");
	}
	/* supported_versions with GREASE only: fall back to legacy_version */
	{
		static const uint16_t g_only[] = { 0x7a7a };
		s = ja4_spec();
		s.versions = g_only;
		s.n_versions = 1;
		ja4_of(&s, ja4, raw, sizeof(raw), &rc);
		CHECK_INTF(strncmp(ja4, "t12d1516h2_", 11), 0, "JA4 supported_versions with only GREASE");
	}
	/* no ciphers, no extensions: the zero hashes */
	{
		static struct hs_client_hello ch;
		ch_reset(&ch);
		ch.legacy_version = 0x0303;
		fp_ja4(&ch, ja4, raw, sizeof(raw));
		CHECK_STRF(ja4, "t12i000000_000000000000_000000000000", "JA4 of an empty hello");
		CHECK_STRF(raw, "t12i000000__", "JA4_r of an empty hello");
	}
}

static void test_ja4_alpn(void)
{
	static const struct {
		const char *bytes;
		size_t n;
		const char *want;
	} t[] = {
		{ "h2", 2, "h2" },
		{ "http/1.1", 8, "h1" },
		{ "\xab", 1, "ab" },
		{ "\xab\xcd", 2, "ad" },
		{ "\x30\xab", 2, "3b" },
		{ "\x30\x31\xab\xcd", 4, "3d" },
		{ "\x30\xab\xcd\x31", 4, "01" },
		{ "x", 1, "xx" },         /* a single character is both first and last */
		{ "_a", 2, "51" },        /* '_' is not alphanumeric: hex 5f..61 */
		{ "", 0, "00" },
	};
	static char raw[FP_FULL_MAX];
	char ja4[FP_JA4_LEN], what[64];
	size_t i;
	int rc;
	for (i = 0; i < N(t); i++) {
		struct ch_spec s = ja4_spec();
		s.alpn1 = (const uint8_t *)t[i].bytes;
		s.alpn1_len = t[i].n;
		ja4_of(&s, ja4, raw, sizeof(raw), &rc);
		snprintf(what, sizeof(what), "JA4 ALPN case %zu", i);
		ja4[10] = '\0';
		CHECK_STRF(ja4 + 8, t[i].want, "%s", what);
	}
	/* no ALPN extension at all */
	{
		static const uint16_t ext_noalpn[] = { 0x0000, 0x000d, 0x000a };
		struct ch_spec s = ja4_spec();
		s.exts = ext_noalpn;
		s.n_exts = N(ext_noalpn);
		ja4_of(&s, ja4, raw, sizeof(raw), &rc);
		CHECK_INTF(strncmp(ja4, "t12d150300_", 11), 0, "JA4 without an ALPN extension");
	}
}

static void test_ja4_counts(void)
{
	static uint16_t many[120], ext[80];
	static char raw[FP_FULL_MAX];
	char ja4[FP_JA4_LEN];
	size_t i;
	int rc;
	struct ch_spec s = ja4_spec();
	for (i = 0; i < N(many); i++)
		many[i] = (uint16_t)(0x0100 + i);
	s.suites = many;
	s.n_suites = N(many);
	ja4_of(&s, ja4, raw, sizeof(raw), &rc);
	CHECK_INTF(strncmp(ja4, "t13d9916h2_", 11), 0, "JA4 cipher count capped at 99");
	CHECK_INTF(rc, FP_OK, "120 suites fit the record");

	/* 70 extensions: count capped, and the record's 64 are fewer than the wire's */
	s = ja4_spec();
	ext[0] = 0x0000;
	for (i = 1; i < 70; i++)
		ext[i] = (uint16_t)(0x0100 + i);
	s.exts = ext;
	s.n_exts = 70;
	ja4_of(&s, ja4, raw, sizeof(raw), &rc);
	CHECK_INTF(strncmp(ja4, "t12d156400_", 11), 0, "JA4 over 64 kept extensions");
	CHECK_INTF(rc, FP_CLIPPED, "JA4 over a clipped extension list is flagged");
}

static void test_ja4_versions(void)
{
	static const struct {
		uint16_t v;
		const char *s;
	} t[] = {
		{ 0x0304, "13" }, { 0x0303, "12" }, { 0x0302, "11" }, { 0x0301, "10" }, { 0x0300, "s3" },
		{ 0x0002, "s2" }, { 0xfeff, "d1" }, { 0xfefd, "d2" }, { 0xfefc, "d3" }, { 0x7f1c, "00" },
		{ 0x0a0a, "00" },
	};
	size_t i;
	for (i = 0; i < N(t); i++)
		CHECK_STRF(fp_ja4_version(t[i].v), t[i].s, "JA4 version table");
}

static void test_sslv2(void)
{
	/* SSLv2-compatible ClientHello (RFC 5246 E.2), SSL 2.0 version, two TLS
	 * suites and one SSLv2 kind */
	static const uint8_t rec[] = {
		0x80, 0x22, 0x01, 0x00, 0x02, 0x00, 0x09, 0x00, 0x00, 0x00, 0x10,
		0x00, 0x00, 0x35, 0x00, 0x00, 0x2f, 0x07, 0x00, 0xc0,
		1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
	};
	static struct hs_client_hello ch;
	static char raw[FP_FULL_MAX], full[FP_FULL_MAX];
	char ja4[FP_JA4_LEN], md5[FP_MD5_HEX];
	ch_reset(&ch);
	CHECK_INTF(tls_parse_sslv2_client_hello(rec, sizeof(rec), &ch), 0, "SSLv2 hello parses");
	CHECK_INTF(fp_ja3(&ch, full, sizeof(full), md5), FP_NA, "no JA3 for SSLv2");
	CHECK_INTF(fp_ja4(&ch, ja4, raw, sizeof(raw)), FP_OK, "JA4 for SSLv2");
	CHECK_INTF(strncmp(ja4, "ts2i020000_", 11), 0, "JA4 SSLv2: s2, no SNI, 2 TLS suites, no extensions, no ALPN");
	CHECK_INTF(strcmp(ja4 + 24, "000000000000"), 0, "JA4 SSLv2: no extensions hash");
	CHECK_STRF(raw, "ts2i020000_002f,0035_", "JA4_r SSLv2");
}

/* The per-thread memo (fp.c) gives what computing again gives: a hello
 * that differs in any one field the fingerprints read is never answered
 * from another's entry. A different buffer size is another key, so
 * asking with sizeof(raw) - 1 computes afresh. */
static void test_memo(void)
{
	static struct hs_client_hello a, b;
	struct ch_spec sp = ja4_spec();
	char j3[FP_FULL_MAX], m3[FP_MD5_HEX], j4[FP_JA4_LEN], r4[FP_FULL_MAX];
	char j3b[FP_FULL_MAX], m3b[FP_MD5_HEX], j4b[FP_JA4_LEN], r4b[FP_FULL_MAX];
	int k;
	parse_ch(&sp, &a);
	for (k = 0; k < 10; k++) {
		enum fp_rc x3, y3, x4, y4;
		ch_copy(&b, &a);
		switch (k) {
		case 0: break;
		case 1: hs_ch_suites(&b)[1] ^= 1; break;
		case 2: hs_ch_ext_type(&b)[1] ^= 1; break;
		case 3: hs_ch_groups(&b)[1] ^= 1; break;
		case 4: b.n_ecpf = 0; break;
		case 5: hs_ch_sigalgs(&b)[0] ^= 1; break;
		case 6: hs_ch_versions(&b)[1] = 0x0303; break;
		case 7: b.has_sni = !b.has_sni; break;
		case 8: hs_ch_alpn(&b)[hs_ch_alpn_off(&b)[0] + 1] = 'x'; break;
		case 9: b.legacy_version = 0x0301; break;
		}
		fp_ja3(&a, j3, sizeof(j3), m3);   /* a in the memo first */
		fp_ja4(&a, j4, r4, sizeof(r4));
		x3 = fp_ja3(&b, j3, sizeof(j3), m3);
		x4 = fp_ja4(&b, j4, r4, sizeof(r4));
		y3 = fp_ja3(&b, j3b, sizeof(j3b) - 1, m3b);
		y4 = fp_ja4(&b, j4b, r4b, sizeof(r4b) - 1);
		CHECKF(x3 == y3 && !strcmp(j3, j3b) && !strcmp(m3, m3b), "memo: JA3 after change %d", k);
		CHECKF(x4 == y4 && !strcmp(j4, j4b) && !strcmp(r4, r4b), "memo: JA4 after change %d", k);
		x3 = fp_ja3(&b, j3b, sizeof(j3b), m3b);   /* now from the memo */
		CHECKF(x3 == y3 && !strcmp(j3, j3b) && !strcmp(m3, m3b), "memo: JA3 again after change %d", k);
	}
}

/* More distinct hellos than the memo holds: every answer, asked again in
 * the other order (hits, misses and evictions mixed) and after the memo is
 * freed, is what was computed the first time. */
static void test_memo_many(void)
{
	static struct hs_client_hello a;
	static char j3[600][FP_MD5_HEX], j4[600][FP_JA4_LEN], raw[FP_FULL_MAX];
	struct ch_spec sp = ja4_spec();
	char m[FP_MD5_HEX], k4[FP_JA4_LEN], full[FP_FULL_MAX];
	int i, pass, bad = 0;
	parse_ch(&sp, &a);
	for (pass = 0; pass < 3; pass++) {
		for (i = 0; i < 600; i++) {
			int v = pass == 1 ? 599 - i : i;
			hs_ch_suites(&a)[1] = (uint16_t)(0x1000 + v);
			if (pass == 0) {
				fp_ja3(&a, full, sizeof(full), j3[v]);
				fp_ja4(&a, j4[v], raw, sizeof(raw));
				continue;
			}
			fp_ja3(&a, full, sizeof(full), m);
			fp_ja4(&a, k4, raw, sizeof(raw));
			bad += strcmp(m, j3[v]) != 0 || strcmp(k4, j4[v]) != 0;
		}
		if (pass == 1)
			fp_memo_free();
	}
	CHECKF(bad == 0, "memo: %d of 1200 answers differ from the first", bad);
	CHECK(strcmp(j3[0], j3[1]) != 0 && strcmp(j4[0], j4[599]) != 0);
	fp_memo_free();
}

int main(void)
{
	test_memo();
	test_memo_many();
	test_ja3();
	test_ja3s();
	test_ja4_example();
	test_ja4_alpn();
	test_ja4_counts();
	test_ja4_versions();
	test_sslv2();
	while (n_held)
		record_free_client_hello(held[--n_held]);
	record_pools_free();
	return check_done();
}

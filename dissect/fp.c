/*
 * fp.c - JA3, JA3S, JA4 and JA4_r from the handshake record.
 *
 * Specifications implemented (read from their public texts, not from any
 * implementation):
 *   JA3/JA3S  salesforce/ja3 README: decimal values, ',' between fields,
 *             '-' between values, GREASE ignored, MD5 of the string.
 *               JA3  = SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats
 *               JA3S = SSLVersion,Cipher,Extensions
 *             SSLVersion is the hello's legacy_version (client_version /
 *             server_version), never supported_versions.
 *   JA4       FoxIO-LLC/ja4 technical_details/JA4.md (BSD-3-Clause part of
 *             JA4+; JA4S and JA4X are under FoxIO License 1.1 and are NOT
 *             implemented here).
 *
 *     t 13 d 15 16 h2 _ 8daaf6152771 _ e5627efa2ab1
 *     | |  | |  |  |    |              `- sha256(sorted exts minus SNI/ALPN
 *     | |  | |  |  |    |                 "_" sigalgs in wire order)[:12]
 *     | |  | |  |  |    `- sha256(sorted ciphers)[:12]
 *     | |  | |  |  `- first/last char of the first ALPN value ("00" none;
 *     | |  | |  |     hex of it when either end is not [0-9A-Za-z])
 *     | |  | |  `- extension count (GREASE excluded, SNI/ALPN included, max 99)
 *     | |  | `- cipher count (GREASE excluded, max 99)
 *     | |  `- 'd' SNI extension present, 'i' absent
 *     | `- highest non-GREASE supported_versions value, else legacy_version
 *     `- 't': TLS over TCP (this tool sees no QUIC or DTLS)
 *
 *   Lists are 4-digit lower-case hex, comma separated. An empty cipher list
 *   or an empty (SNI/ALPN-less) extension list hashes to "000000000000";
 *   with no signature algorithms the extension string has no '_'. JA4_r
 *   prints the same strings that are hashed.
 *
 * Choices where the texts are silent (documented in docs/json.md):
 *  - supported_versions present but holding only GREASE: legacy_version.
 *  - SSLv2-format ClientHello: no JA3 (FP_NA; JA3 is defined on the TLS
 *    handshake record, and tshark agrees); JA4 from its version field
 *    ("s2" for 0x0002), the cipher specs that map to TLS suites (first byte
 *    0), no extensions: e.g. "ts2i020000_<hash>_000000000000".
 *
 * Limits: computed from struct hs_client_hello, whose lists have fixed
 * capacities. When one was clipped (n < total) the result is computed over
 * what was kept and FP_CLIPPED says so; the report marks it.
 */
#include "dissect/fp.h"
#include "dissect/communityid.h"
#include "dissect/hash.h"
#include "dissect/names.h"

#include <openssl/evp.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A bounded string builder: never writes past cap, remembers overflow. */
struct sb {
	char *p;
	size_t cap, len;
	int over;
};

static void sb_init(struct sb *b, char *p, size_t cap)
{
	b->p = p;
	b->cap = cap;
	b->len = 0;
	b->over = cap == 0;
	if (cap)
		p[0] = '\0';
}

static void sb_printf(struct sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sb *b, const char *fmt, ...)
{
	va_list ap;
	int n;
	if (b->over)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= b->cap - b->len) {
		b->over = 1;
		b->p[b->len] = '\0';   /* drop the partial value */
		return;
	}
	b->len += (size_t)n;
}

/*
 * Appends sep (none when 0) and v in decimal, or in 4-digit hex: what
 * sb_printf(b, "%s%u") or "%s%04x" would write, without parsing a format.
 * Fingerprints are built for every connection reported, and vsnprintf per
 * list value was most of their cost (bench/RESULTS.md).
 */
static void sb_sep_num(struct sb *b, char sep, uint16_t v, int hex4)
{
	static const char hx[] = "0123456789abcdef";
	char t[8];
	size_t n = 0, i;
	if (b->over)
		return;
	if (sep)
		t[n++] = sep;
	if (hex4) {
		t[n++] = hx[(v >> 12) & 15];
		t[n++] = hx[(v >> 8) & 15];
		t[n++] = hx[(v >> 4) & 15];
		t[n++] = hx[v & 15];
	} else {
		char r[5];
		size_t k = 0;
		unsigned u = v;
		do {
			r[k++] = (char)('0' + u % 10);
			u /= 10;
		} while (u);
		while (k)
			t[n++] = r[--k];
	}
	if (n >= b->cap - b->len) {
		b->over = 1;
		b->p[b->len] = '\0';   /* drop the partial value */
		return;
	}
	for (i = 0; i < n; i++)
		b->p[b->len + i] = t[i];
	b->len += n;
	b->p[b->len] = '\0';
}

/* MD5 or SHA-256, fetched once: EVP_md5()/EVP_sha256() make OpenSSL 3 look
 * the implementation up again on every EVP_Digest call. */
static const EVP_MD *md_get(int sha256)
{
	static EVP_MD *md[2];
	if (!md[sha256])
		md[sha256] = EVP_MD_fetch(NULL, sha256 ? "SHA256" : "MD5", NULL);
	if (md[sha256])
		return md[sha256];
	return sha256 ? EVP_sha256() : EVP_md5();
}

static int digest_hex(const EVP_MD *md, const char *s, size_t n, char *out, size_t nhex)
{
	static const char hx[] = "0123456789abcdef";
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int dl = 0, i;
	if (!md || !EVP_Digest(s, n, d, &dl, md, NULL) || nhex > 2 * (size_t)dl)
		return -1;
	for (i = 0; i < nhex; i++)
		out[i] = hx[(d[i / 2] >> (i % 2 ? 0 : 4)) & 0xf];
	out[nhex] = '\0';
	return 0;
}

/* Appends the non-GREASE values of v[0..n) in decimal, '-' separated. */
static void dec_list(struct sb *b, const uint16_t *v, size_t n)
{
	size_t i;
	int first = 1;
	for (i = 0; i < n; i++) {
		if (names_is_grease(v[i]))
			continue;
		sb_sep_num(b, first ? 0 : '-', v[i], 0);
		first = 0;
	}
}

static enum fp_rc ja3_compute(const struct hs_client_hello *ch, char *full, size_t fullsz, char md5hex[FP_MD5_HEX])
{
	struct sb b;
	uint8_t i;
	md5hex[0] = '\0';
	sb_init(&b, full, fullsz);
	if (!ch || ch->sslv2)
		return FP_NA;
	sb_printf(&b, "%u,", ch->legacy_version);
	dec_list(&b, hs_ch_suites(ch), ch->n_suites);
	sb_printf(&b, ",");
	dec_list(&b, hs_ch_ext_type(ch), ch->n_exts);
	sb_printf(&b, ",");
	dec_list(&b, hs_ch_groups(ch), ch->n_groups);
	sb_printf(&b, ",");
	for (i = 0; i < ch->n_ecpf; i++)
		sb_sep_num(&b, i ? '-' : 0, hs_ch_ecpf(ch)[i], 0);
	if (digest_hex(md_get(0), full, b.len, md5hex, 32)) {
		md5hex[0] = '\0';
		full[0] = '\0';
		return FP_ERR;
	}
	if (b.over || ch->n_suites < ch->total_suites || ch->n_exts < ch->total_exts ||
	    ch->n_groups < ch->total_groups || ch->n_ecpf < ch->total_ecpf)
		return FP_CLIPPED;
	return FP_OK;
}

static enum fp_rc ja3s_compute(const struct hs_server_hello *sh, char *full, size_t fullsz, char md5hex[FP_MD5_HEX])
{
	struct sb b;
	md5hex[0] = '\0';
	sb_init(&b, full, fullsz);
	if (!sh || sh->sslv2)
		return FP_NA;
	sb_printf(&b, "%u,%u,", sh->legacy_version, sh->cipher);
	dec_list(&b, sh->ext_type, sh->n_exts);
	if (digest_hex(md_get(0), full, b.len, md5hex, 32)) {
		md5hex[0] = '\0';
		full[0] = '\0';
		return FP_ERR;
	}
	return b.over || sh->n_exts < sh->total_exts ? FP_CLIPPED : FP_OK;
}

const char *fp_ja4_version(uint16_t v)
{
	switch (v) {
	case 0x0304: return "13";
	case 0x0303: return "12";
	case 0x0302: return "11";
	case 0x0301: return "10";
	case 0x0300: return "s3";
	case 0x0002: return "s2";
	case 0xfeff: return "d1";
	case 0xfefd: return "d2";
	case 0xfefc: return "d3";
	default: return "00";
	}
}

static int alnum(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int cmp_u16(const void *a, const void *b)
{
	uint16_t x = *(const uint16_t *)a, y = *(const uint16_t *)b;
	return (x > y) - (x < y);
}

/* Ascending; insertion sort for the usual few dozen values (qsort's setup
 * cost more than the sort), qsort beyond. */
static void sort_u16(uint16_t *v, size_t n)
{
	size_t i, j;
	if (n > 64) {
		qsort(v, n, sizeof(*v), cmp_u16);
		return;
	}
	for (i = 1; i < n; i++) {
		uint16_t x = v[i];
		for (j = i; j && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

/* Appends the values in 4-digit hex, ',' separated. */
static void hex_list(struct sb *b, const uint16_t *v, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		sb_sep_num(b, i ? ',' : 0, v[i], 1);
}

/* Copies the non-GREASE values of src (minus SNI and ALPN when skip_sni_alpn)
 * to dst; returns how many. */
static size_t keep(uint16_t *dst, const uint16_t *src, size_t n, int skip_sni_alpn)
{
	size_t i, k = 0;
	for (i = 0; i < n; i++) {
		if (names_is_grease(src[i]))
			continue;
		if (skip_sni_alpn && (src[i] == 0x0000 || src[i] == 0x0010))
			continue;
		dst[k++] = src[i];
	}
	return k;
}

static enum fp_rc ja4_compute(const struct hs_client_hello *ch, char ja4[FP_JA4_LEN], char *ja4_r, size_t rsz)
{
	static const char hx[] = "0123456789abcdef";
	uint16_t suites[HS_MAX_SUITES], exts[HS_MAX_EXTS], sigs[HS_MAX_SIGALGS];
	size_t ns, ne, nsig, n_ext_all = 0, i;
	uint16_t ver;
	int sni = 0, clipped;
	char a[11], alpn[3] = "00", hb[13], hc[13];
	char tmp[FP_FULL_MAX];
	struct sb b, r;

	ja4[0] = '\0';
	sb_init(&r, ja4_r, rsz);
	if (!ch)
		return FP_NA;

	/* a: version */
	ver = ch->legacy_version;
	if (ch->has_supported_versions) {
		int found = 0;
		uint16_t best = 0;
		for (i = 0; i < ch->n_versions; i++)
			if (!names_is_grease(hs_ch_versions(ch)[i]) && (!found || hs_ch_versions(ch)[i] > best)) {
				best = hs_ch_versions(ch)[i];
				found = 1;
			}
		if (found)
			ver = best;
	}
	/* a: SNI flag and extension count (SNI and ALPN count here) */
	for (i = 0; i < ch->n_exts; i++) {
		if (names_is_grease(hs_ch_ext_type(ch)[i]))
			continue;
		n_ext_all++;
		if (hs_ch_ext_type(ch)[i] == 0x0000)
			sni = 1;
	}
	if (ch->has_sni)
		sni = 1;
	/* a: ALPN first value */
	if (ch->n_alpn) {
		uint16_t o = hs_ch_alpn_off(ch)[0];
		uint8_t len = hs_ch_alpn(ch)[o];
		if (len && (size_t)o + 1 + len <= HS_ALPN_BYTES) {
			uint8_t f = hs_ch_alpn(ch)[o + 1], l = hs_ch_alpn(ch)[o + len];
			if (alnum(f) && alnum(l)) {
				alpn[0] = (char)f;
				alpn[1] = (char)l;
			} else {
				alpn[0] = hx[f >> 4];
				alpn[1] = hx[l & 0xf];
			}
		}
	}
	ns = keep(suites, hs_ch_suites(ch), ch->n_suites, 0);
	ne = keep(exts, hs_ch_ext_type(ch), ch->n_exts, 1);
	nsig = keep(sigs, hs_ch_sigalgs(ch), ch->n_sigalgs, 0);
	snprintf(a, sizeof(a), "t%s%c%02u%02u%c%c", fp_ja4_version(ver), sni ? 'd' : 'i',
		 (unsigned)(ns > 99 ? 99 : ns), (unsigned)(n_ext_all > 99 ? 99 : n_ext_all), alpn[0], alpn[1]);

	/* b: sorted ciphers */
	sort_u16(suites, ns);
	sb_init(&b, tmp, sizeof(tmp));
	hex_list(&b, suites, ns);
	sb_printf(&r, "%s_%s_", a, tmp);
	if (!ns)
		memcpy(hb, "000000000000", 13);
	else if (digest_hex(md_get(1), tmp, b.len, hb, 12))
		goto err;
	clipped = b.over;

	/* c: sorted extensions (no SNI, no ALPN), then sigalgs in wire order */
	sort_u16(exts, ne);
	sb_init(&b, tmp, sizeof(tmp));
	hex_list(&b, exts, ne);
	if (nsig) {
		sb_printf(&b, "_");
		hex_list(&b, sigs, nsig);
	}
	sb_printf(&r, "%s", tmp);
	if (!ne)
		memcpy(hc, "000000000000", 13);
	else if (digest_hex(md_get(1), tmp, b.len, hc, 12))
		goto err;
	clipped |= b.over || r.over;

	snprintf(ja4, FP_JA4_LEN, "%s_%s_%s", a, hb, hc);
	if (ch->sslv2)
		clipped |= ch->n_suites >= HS_MAX_SUITES && ch->total_suites > ch->n_suites;
	else
		clipped |= ch->n_suites < ch->total_suites;
	clipped |= ch->n_exts < ch->total_exts || ch->n_sigalgs < ch->total_sigalgs ||
		   ch->n_versions < ch->total_versions;
	return clipped ? FP_CLIPPED : FP_OK;
err:
	ja4[0] = '\0';
	if (rsz)
		ja4_r[0] = '\0';
	return FP_ERR;
}

/* ---- memo -------------------------------------------------------------
 * Connections from one client carry the same ClientHello but for its
 * random and session id (and a server answers them with the same
 * ServerHello but for its random), and the reports fingerprint every
 * connection: results are kept per thread, keyed by every field
 * ja3_compute(), ja4_compute() and ja3s_compute() read (the lists below
 * are all of them: a field added to one must be added here) and the
 * caller's buffer size. A key that does not fit MEMO_KEY, or a string too
 * long to keep, is computed every time. Each kind has MEMO_SLOTS entries,
 * two-way: a key may sit in one of two slots, and a new one replaces the
 * one of the two used longer ago (a capture's few hundred distinct hellos
 * otherwise evict each other in turn). Entries are allocated at their
 * size on first use and freed by fp_memo_free(), which each thread that
 * fingerprints calls before it ends. */
#define MEMO_SLOTS 256
#define MEMO_KEY   FP_KEY_MAX
#define MEMO_FULL  1024
enum { MK_JA3, MK_JA4, MK_JA3S, MK__N };
struct memo {
	uint64_t h;
	uint64_t used;          /* the memo's clock when last hit or kept */
	uint16_t klen;
	uint16_t flen;          /* strlen(full) */
	size_t bufsz;
	enum fp_rc rc;
	char small[FP_JA4_LEN]; /* the MD5 hex, or the JA4 */
	uint8_t kf[];           /* the key, then full and its NUL */
};
struct memo_tab {
	uint64_t clock;
	struct memo *slot[MK__N][MEMO_SLOTS];
};
static _Thread_local struct memo_tab *memo_t;

void fp_memo_free(void)
{
	size_t k, i;
	fp_cid_free();
	if (!memo_t)
		return;
	for (k = 0; k < MK__N; k++)
		for (i = 0; i < MEMO_SLOTS; i++)
			free(memo_t->slot[k][i]);
	free(memo_t);
	memo_t = NULL;
}

struct kb {
	uint8_t *p;
	size_t n, cap;
};

static void kput(struct kb *k, const void *v, size_t n)
{
	if (n > k->cap - k->n) {
		k->cap = 0;   /* does not fit: no memo */
		k->n = 0;
		return;
	}
	memcpy(k->p + k->n, v, n);
	k->n += n;
}
#define KPUT(k, field) kput((k), &(field), sizeof(field))
/* a one-bit flag (struct hs_client_hello), as one byte */
#define KPUT_FLAG(k, flag) do { uint8_t f_ = (uint8_t)(flag); kput((k), &f_, 1); } while (0)

static size_t ch_key(const struct hs_client_hello *ch, size_t bufsz, uint8_t *out)
{
	struct kb k = { out, 0, MEMO_KEY };
	KPUT(&k, bufsz);
	KPUT_FLAG(&k, ch->sslv2);
	KPUT(&k, ch->legacy_version);
	KPUT(&k, ch->n_suites);
	KPUT(&k, ch->total_suites);
	kput(&k, hs_ch_suites(ch), (size_t)ch->n_suites * 2);
	KPUT(&k, ch->n_exts);
	KPUT(&k, ch->total_exts);
	kput(&k, hs_ch_ext_type(ch), (size_t)ch->n_exts * 2);
	KPUT(&k, ch->n_groups);
	KPUT(&k, ch->total_groups);
	kput(&k, hs_ch_groups(ch), (size_t)ch->n_groups * 2);
	KPUT(&k, ch->n_ecpf);
	KPUT(&k, ch->total_ecpf);
	kput(&k, hs_ch_ecpf(ch), ch->n_ecpf);
	KPUT(&k, ch->n_sigalgs);
	KPUT(&k, ch->total_sigalgs);
	kput(&k, hs_ch_sigalgs(ch), (size_t)ch->n_sigalgs * 2);
	KPUT_FLAG(&k, ch->has_supported_versions);
	KPUT(&k, ch->n_versions);
	KPUT(&k, ch->total_versions);
	kput(&k, hs_ch_versions(ch), (size_t)ch->n_versions * 2);
	KPUT_FLAG(&k, ch->has_sni);
	KPUT(&k, ch->n_alpn);
	if (ch->n_alpn) {   /* JA4 reads the first value only */
		uint16_t o = hs_ch_alpn_off(ch)[0];
		KPUT(&k, o);
		if (o < HS_ALPN_BYTES) {
			size_t l = (size_t)hs_ch_alpn(ch)[o] + 1;
			kput(&k, hs_ch_alpn(ch) + o, l <= (size_t)HS_ALPN_BYTES - o ? l : (size_t)HS_ALPN_BYTES - o);
		}
	}
	return k.cap ? k.n : 0;
}

/* The one mixer (dissect/hash.h), 8 bytes a step; a hit is confirmed by
 * comparing the whole key, so a collision costs a miss, never a wrong answer. */
static uint64_t key_hash(const uint8_t *p, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ n, w;
	size_t i;
	for (i = 0; i + 8 <= n; i += 8) {
		memcpy(&w, p + i, 8);
		h = hash_mum(h ^ w, 0xe7037ed1a0b428dbull);
	}
	w = 0;
	memcpy(&w, p + i, n - i);
	return hash_mum(h ^ w, 0x8ebc6af09c88c6e3ull);
}

/* The entry holding this key, or NULL (then *slot is where to keep it;
 * NULL too when there is no table and none can be made). */
static struct memo *memo_find(int kind, const uint8_t *key, size_t klen, uint64_t h, struct memo ***slot)
{
	struct memo **a, **b;
	*slot = NULL;
	if (!memo_t && !(memo_t = calloc(1, sizeof(*memo_t))))
		return NULL;
	a = &memo_t->slot[kind][h % MEMO_SLOTS];
	b = &memo_t->slot[kind][(h >> 32) % MEMO_SLOTS];
	if (*a && (*a)->klen == klen && (*a)->h == h && memcmp((*a)->kf, key, klen) == 0) {
		(*a)->used = ++memo_t->clock;
		return *a;
	}
	if (*b && (*b)->klen == klen && (*b)->h == h && memcmp((*b)->kf, key, klen) == 0) {
		(*b)->used = ++memo_t->clock;
		return *b;
	}
	*slot = !*a ? a : !*b ? b : (*a)->used <= (*b)->used ? a : b;
	return NULL;
}

static void memo_keep(struct memo **slot, const uint8_t *key, size_t klen, uint64_t h, size_t bufsz,
		      enum fp_rc rc, const char *small, const char *full)
{
	size_t fl = strlen(full);
	struct memo *m;
	if (!slot || fl >= MEMO_FULL || strlen(small) >= sizeof(m->small))
		return;
	m = malloc(sizeof(*m) + klen + fl + 1);
	if (!m)
		return;
	m->h = h;
	m->used = ++memo_t->clock;
	m->klen = (uint16_t)klen;
	m->flen = (uint16_t)fl;
	m->bufsz = bufsz;
	m->rc = rc;
	memcpy(m->kf, key, klen);
	memcpy(m->kf + klen, full, fl + 1);
	strcpy(m->small, small);
	free(*slot);
	*slot = m;
}

/* A hit: the kept strings to the caller's buffers. */
static enum fp_rc memo_hit(const struct memo *m, char *full, char *small)
{
	memcpy(full, m->kf + m->klen, (size_t)m->flen + 1);
	strcpy(small, m->small);
	return m->rc;
}

enum fp_rc fp_ja3(const struct hs_client_hello *ch, char *full, size_t fullsz, char md5hex[FP_MD5_HEX])
{
	uint8_t key[MEMO_KEY];
	size_t klen;
	uint64_t h;
	struct memo *m, **slot;
	enum fp_rc rc;
	if (!ch || fullsz == 0 || !(klen = ch_key(ch, fullsz, key)))
		return ja3_compute(ch, full, fullsz, md5hex);
	h = key_hash(key, klen);
	if ((m = memo_find(MK_JA3, key, klen, h, &slot)))
		return memo_hit(m, full, md5hex);
	rc = ja3_compute(ch, full, fullsz, md5hex);
	memo_keep(slot, key, klen, h, fullsz, rc, md5hex, full);
	return rc;
}

enum fp_rc fp_ja4(const struct hs_client_hello *ch, char ja4[FP_JA4_LEN], char *ja4_r, size_t rsz)
{
	uint8_t key[MEMO_KEY];
	size_t klen;
	uint64_t h;
	struct memo *m, **slot;
	enum fp_rc rc;
	if (!ch || rsz == 0 || !(klen = ch_key(ch, rsz, key)))
		return ja4_compute(ch, ja4, ja4_r, rsz);
	h = key_hash(key, klen);
	if ((m = memo_find(MK_JA4, key, klen, h, &slot)))
		return memo_hit(m, ja4_r, ja4);
	rc = ja4_compute(ch, ja4, ja4_r, rsz);
	memo_keep(slot, key, klen, h, rsz, rc, ja4, ja4_r);
	return rc;
}

size_t fp_ch_key(const struct hs_client_hello *ch, uint8_t *out)
{
	return ch ? ch_key(ch, FP_FULL_MAX, out) : 0;
}

/* Every field ja3s_compute() reads. */
static size_t sh_key(const struct hs_server_hello *sh, size_t bufsz, uint8_t *out)
{
	struct kb k = { out, 0, MEMO_KEY };
	uint8_t v2 = (uint8_t)sh->sslv2;
	KPUT(&k, bufsz);
	kput(&k, &v2, 1);
	KPUT(&k, sh->legacy_version);
	KPUT(&k, sh->cipher);
	KPUT(&k, sh->n_exts);
	KPUT(&k, sh->total_exts);
	kput(&k, sh->ext_type, (size_t)sh->n_exts * 2);
	return k.cap ? k.n : 0;
}

size_t fp_sh_key(const struct hs_server_hello *sh, uint8_t *out)
{
	return sh ? sh_key(sh, FP_FULL_MAX, out) : 0;
}

enum fp_rc fp_ja3s(const struct hs_server_hello *sh, char *full, size_t fullsz, char md5hex[FP_MD5_HEX])
{
	uint8_t key[MEMO_KEY];
	size_t klen;
	uint64_t h;
	struct memo *m, **slot;
	enum fp_rc rc;
	if (!sh || fullsz == 0 || !(klen = sh_key(sh, fullsz, key)))
		return ja3s_compute(sh, full, fullsz, md5hex);
	h = key_hash(key, klen);
	if ((m = memo_find(MK_JA3S, key, klen, h, &slot)))
		return memo_hit(m, full, md5hex);
	rc = ja3s_compute(sh, full, fullsz, md5hex);
	memo_keep(slot, key, klen, h, fullsz, rc, md5hex, full);
	return rc;
}

/*
 * communityid.c - Community ID v1 (communityid.h).
 *
 * One SHA-1 per call, over at most 2 + 16 + 16 + 2 + 4 bytes built on the
 * stack: one 64-byte block, hashed by the CPU's SHA instructions where it
 * has them (fp_sha1_short), else through libcrypto; base64 by
 * EVP_EncodeBlock. A digest context is kept per thread (fp_cid_free), and
 * the last result for the same flow asked again.
 */
#include "dissect/communityid.h"

#include <string.h>

#include <openssl/evp.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>
#define CID_SHA_NI 1
#endif

/* -1, 0, 1: endpoint a before, equal to, after b (address bytes, then port) */
static int ep_cmp(const struct hs_addr *a, const struct hs_addr *b, size_t alen)
{
	int c = memcmp(a->addr, b->addr, alen);
	if (c)
		return c < 0 ? -1 : 1;
	return a->port < b->port ? -1 : a->port > b->port;
}

/* SHA-1, fetched once: EVP_sha1() makes OpenSSL 3 look the implementation
 * up again on every EVP_Digest call, which cost more than the hash of
 * these 40 bytes (one call per connection reported). Only the thread that
 * reports calls this. */
static const EVP_MD *sha1_md(void)
{
	static EVP_MD *md;
	if (!md)
		md = EVP_MD_fetch(NULL, "SHA1", NULL);
	return md ? md : EVP_sha1();
}

/* A digest context per thread, set up again for each flow rather than
 * made and freed by EVP_Digest each time (issue 19: that was most of a
 * Community ID's cost); fp_memo_free() frees it. */
static _Thread_local EVP_MD_CTX *cid_ctx;

void fp_cid_free(void)
{
	EVP_MD_CTX_free(cid_ctx);
	cid_ctx = NULL;
}

#ifdef CID_SHA_NI
static int sha_ni_off;   /* fp_sha1_cpu(0): the tests' way to the libcrypto path */

/* 1 when the CPU has the SHA extensions (CPUID leaf 7, EBX bit 29) and
 * the SSSE3 and SSE4.1 the code below also uses (leaf 1, ECX bits 9, 19),
 * and fp_sha1_cpu(0) did not turn them off. */
static int has_sha_ni(void)
{
	static int known = -1;   /* the same answer whichever thread asks first */
	unsigned a, b, c, d;
	if (sha_ni_off)
		return 0;
	if (known < 0) {
		int yes = __get_cpuid(1, &a, &b, &c, &d) && (c >> 9 & 1) && (c >> 19 & 1) &&
			  __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b >> 29 & 1);
		known = yes;
	}
	return known;
}

/* Four rounds of SHA-1 (FIPS 180-4, 6.1.2) by the SHA extensions: the
 * message schedule four words at a time (W[g] from the four groups before
 * it: sha1msg1, xor, sha1msg2), E of a group from A before the group
 * before (sha1nexte), the round function chosen by rounds 0-19, 20-39,
 * 40-59, 60-79 (the immediate 0-3). */
#define SHA1_GROUP(g)                                                                              \
	do {                                                                                       \
		if ((g) >= 4)                                                                      \
			w[(g) & 3] = _mm_sha1msg2_epu32(                                           \
				_mm_xor_si128(_mm_sha1msg1_epu32(w[(g) & 3], w[((g) + 1) & 3]),    \
					      w[((g) + 2) & 3]),                                   \
				w[((g) + 3) & 3]);                                                 \
		e = (g) ? _mm_sha1nexte_epu32(prev, w[(g) & 3]) : _mm_add_epi32(e, w[0]);          \
		prev = abcd;                                                                       \
		abcd = _mm_sha1rnds4_epu32(abcd, e, (g) / 5);                                      \
	} while (0)

__attribute__((target("sha,ssse3,sse4.1"))) static void sha1_ni_block(uint32_t st[5], const uint8_t blk[64])
{
	/* big-endian words: the 16 bytes reversed, so word 0 is the top lane */
	const __m128i rev = _mm_set_epi64x(0x0001020304050607ll, 0x08090a0b0c0d0e0fll);
	__m128i abcd = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)(const void *)st), 0x1b);
	__m128i e = _mm_set_epi32((int)st[4], 0, 0, 0), abcd0 = abcd, e0 = e, prev, w[4];
	int i;
	for (i = 0; i < 4; i++)
		w[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(const void *)(blk + 16 * i)), rev);
	SHA1_GROUP(0);  SHA1_GROUP(1);  SHA1_GROUP(2);  SHA1_GROUP(3);  SHA1_GROUP(4);
	SHA1_GROUP(5);  SHA1_GROUP(6);  SHA1_GROUP(7);  SHA1_GROUP(8);  SHA1_GROUP(9);
	SHA1_GROUP(10); SHA1_GROUP(11); SHA1_GROUP(12); SHA1_GROUP(13); SHA1_GROUP(14);
	SHA1_GROUP(15); SHA1_GROUP(16); SHA1_GROUP(17); SHA1_GROUP(18); SHA1_GROUP(19);
	e = _mm_sha1nexte_epu32(prev, e0);   /* E + rol(A before the last group, 30) */
	abcd = _mm_shuffle_epi32(_mm_add_epi32(abcd, abcd0), 0x1b);
	_mm_storeu_si128((__m128i *)(void *)st, abcd);
	st[4] = (uint32_t)_mm_extract_epi32(e, 3);
}
#undef SHA1_GROUP
#endif

void fp_sha1_cpu(int on)
{
#ifdef CID_SHA_NI
	sha_ni_off = !on;
#else
	(void)on;
#endif
}

int fp_sha1_short(const uint8_t *p, size_t n, uint8_t md[20])
{
#ifdef CID_SHA_NI
	uint32_t st[5] = { 0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u, 0xc3d2e1f0u };
	uint8_t blk[64] = { 0 };
	uint64_t bits = (uint64_t)n * 8;
	int i;
	if (n > 55 || !has_sha_ni())
		return 0;
	memcpy(blk, p, n);   /* the padding: 0x80, zeros, the length in bits */
	blk[n] = 0x80;
	for (i = 0; i < 8; i++)
		blk[63 - i] = (uint8_t)(bits >> (8 * i));
	sha1_ni_block(st, blk);
	for (i = 0; i < 5; i++) {
		md[4 * i] = (uint8_t)(st[i] >> 24);
		md[4 * i + 1] = (uint8_t)(st[i] >> 16);
		md[4 * i + 2] = (uint8_t)(st[i] >> 8);
		md[4 * i + 3] = (uint8_t)st[i];
	}
	return 1;
#else
	(void)p;
	(void)n;
	(void)md;
	return 0;
#endif
}

/* SHA-1 of p[0..n) into md (20 bytes); 0 on failure. */
static int sha1(const uint8_t *p, size_t n, uint8_t *md)
{
	unsigned mdlen = 0;
	/* a Community ID's bytes are one block: the SHA instructions take
	 * about a tenth of what libcrypto's call does (issue 19) */
	if (fp_sha1_short(p, n, md))
		return 1;
	if (!cid_ctx && !(cid_ctx = EVP_MD_CTX_new()))
		return 0;
	if (!EVP_DigestInit_ex2(cid_ctx, sha1_md(), NULL) || !EVP_DigestUpdate(cid_ctx, p, n) ||
	    !EVP_DigestFinal_ex(cid_ctx, md, &mdlen))
		return 0;
	return mdlen == 20;
}

static _Thread_local uint8_t last_buf[2 + 16 + 16 + 2 + 4];
static _Thread_local size_t last_k;   /* 0: none yet */
static _Thread_local char last_id[FP_CID_LEN];

static int has_ports(uint8_t proto)
{
	return proto == 6 || proto == 17 || proto == 132;
}

char *fp_community_id(const struct hs_addr *a, const struct hs_addr *b, uint8_t proto, uint16_t seed,
		      char *out, size_t n)
{
	uint8_t buf[2 + 16 + 16 + 2 + 4], md[EVP_MAX_MD_SIZE];
	size_t alen, k = 0;
	const struct hs_addr *lo = a, *hi = b;
	if (n)
		out[0] = 0;
	if (n < FP_CID_LEN || a->family != b->family || (a->family != 4 && a->family != 6))
		return NULL;
	alen = a->family == 4 ? 4 : 16;
	if (ep_cmp(a, b, alen) > 0)
		lo = b, hi = a;
	buf[k++] = (uint8_t)(seed >> 8);
	buf[k++] = (uint8_t)seed;
	memcpy(buf + k, lo->addr, alen);
	k += alen;
	memcpy(buf + k, hi->addr, alen);
	k += alen;
	buf[k++] = proto;
	buf[k++] = 0;
	if (has_ports(proto)) {
		buf[k++] = (uint8_t)(lo->port >> 8);
		buf[k++] = (uint8_t)lo->port;
		buf[k++] = (uint8_t)(hi->port >> 8);
		buf[k++] = (uint8_t)hi->port;
	}
	/* the last flow's, per thread: a report that names a connection's
	 * Community ID twice (ECS) hashes it once */
	if (k == last_k && memcmp(buf, last_buf, k) == 0) {
		memcpy(out, last_id, FP_CID_LEN);
		return out;
	}
	if (!sha1(buf, k, md))
		return NULL;
	out[0] = '1';
	out[1] = ':';
	EVP_EncodeBlock((unsigned char *)out + 2, md, 20);   /* 28 characters and a NUL */
	memcpy(last_buf, buf, k);
	memcpy(last_id, out, FP_CID_LEN);
	last_k = k;
	return out;
}

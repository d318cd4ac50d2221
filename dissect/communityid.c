/*
 * communityid.c - Community ID v1 (communityid.h).
 *
 * One SHA-1 through libcrypto per call, over at most 2 + 16 + 16 + 2 + 4
 * bytes built on the stack; base64 by EVP_EncodeBlock. A digest context is
 * kept per thread (fp_cid_free), and the last result for the same flow
 * asked again.
 */
#include "dissect/communityid.h"

#include <string.h>

#include <openssl/evp.h>

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

/* SHA-1 of p[0..n) into md (20 bytes); 0 on failure. */
static int sha1(const uint8_t *p, size_t n, uint8_t *md)
{
	unsigned mdlen = 0;
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

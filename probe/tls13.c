/*
 * tls13.c - opening a TLS 1.3 server's first flight with the probe's own
 * key share (tls13.h).
 *
 * Key schedule (RFC 8446 section 7.1), Hash = SHA-256 or SHA-384 by suite:
 *   early   = HKDF-Extract(0, 0...)
 *   derived = HKDF-Expand-Label(early, "derived", Hash(""), Hash.len)
 *   hs      = HKDF-Extract(derived, ECDHE shared secret)
 *   s_hs    = HKDF-Expand-Label(hs, "s hs traffic", Hash(ClientHello..ServerHello), Hash.len)
 *   key     = HKDF-Expand-Label(s_hs, "key", "", key.len); iv = ...("iv", "", 12)
 *   HkdfLabel = length(2) | label<7..255> = "tls13 " + Label | context<0..255>
 * Record protection (section 5.2-5.3): nonce = iv XOR (64-bit sequence
 * number, left-padded); additional data = the 5-byte record header;
 * plaintext = content | type(1) | zeros.
 *
 * Every read of the server's bytes goes through dissect/cursor.h; a record
 * that does not open ends the walk (what was read so far stands).
 */
#include "probe/tls13.h"

#include "dissect/cursor.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include <stdio.h>
#include <string.h>

#define MAXH 48

void probe_keys_free(struct probe_keys *k)
{
	size_t i;
	for (i = 0; i < k->n; i++)
		EVP_PKEY_free(k->pkey[i]);
	k->n = 0;
}

static int hmac(const char *md, const uint8_t *key, size_t klen, const uint8_t *d, size_t dlen, uint8_t *out,
		size_t outsz)
{
	size_t n = 0;
	return EVP_Q_mac(NULL, "HMAC", NULL, md, NULL, key, klen, d, dlen, out, outsz, &n) && n == outsz ? 0 : -1;
}

static int expand_label(const char *md, size_t hl, const uint8_t *secret, const char *label, const uint8_t *ctx,
			size_t ctxlen, uint8_t *out, size_t outlen)
{
	uint8_t info[2 + 1 + 6 + 32 + 1 + MAXH + 1], t[MAXH] = { 0 }, buf[MAXH + sizeof(info)];
	size_t ll = strlen(label), il, done = 0, tl = 0;
	uint8_t ctr = 1;
	if (ll > 32 || ctxlen > MAXH || outlen > 255)
		return -1;
	info[0] = (uint8_t)(outlen >> 8);
	info[1] = (uint8_t)outlen;
	info[2] = (uint8_t)(6 + ll);
	memcpy(info + 3, "tls13 ", 6);
	memcpy(info + 9, label, ll);
	info[9 + ll] = (uint8_t)ctxlen;
	if (ctxlen)
		memcpy(info + 10 + ll, ctx, ctxlen);
	il = 10 + ll + ctxlen;
	while (done < outlen) {
		size_t n;
		memcpy(buf, t, tl);
		memcpy(buf + tl, info, il);
		buf[tl + il] = ctr++;
		if (hmac(md, secret, hl, buf, tl + il + 1, t, hl))
			return -1;
		tl = hl;
		n = outlen - done < hl ? outlen - done : hl;
		memcpy(out + done, t, n);
		done += n;
	}
	return 0;
}

static EVP_PKEY *peer_key(EVP_PKEY *mine, uint16_t group, const uint8_t *pub, size_t len)
{
	EVP_PKEY *p;
	if (group == 0x001d)
		return EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, pub, len);
	if (group == 0x001e)
		return EVP_PKEY_new_raw_public_key(EVP_PKEY_X448, NULL, pub, len);
	p = EVP_PKEY_new();
	if (!p)
		return NULL;
	if (EVP_PKEY_copy_parameters(p, mine) != 1 || EVP_PKEY_set1_encoded_public_key(p, pub, len) != 1) {
		EVP_PKEY_free(p);
		return NULL;
	}
	return p;
}

static size_t shared_secret(EVP_PKEY *mine, EVP_PKEY *peer, uint8_t *out, size_t cap)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(mine, NULL);
	size_t n = cap;
	if (!c || EVP_PKEY_derive_init(c) != 1 || EVP_PKEY_derive_set_peer(c, peer) != 1 ||
	    EVP_PKEY_derive(c, out, &n) != 1)
		n = 0;
	EVP_PKEY_CTX_free(c);
	return n;
}

/* Opens one record in place; returns the inner plaintext length (without
 * type and padding) and its type in *type, or -1. */
static long open_record(const EVP_CIPHER *ciph, const uint8_t *key, const uint8_t *iv, uint64_t seq,
			const uint8_t *hdr, const uint8_t *ct, size_t ctlen, uint8_t *out, uint8_t *type)
{
	EVP_CIPHER_CTX *c;
	uint8_t nonce[12];
	int l1 = 0, l2 = 0, ok;
	size_t i;
	long n;
	if (ctlen < 17)
		return -1;
	memcpy(nonce, iv, 12);
	for (i = 0; i < 8; i++)
		nonce[11 - i] ^= (uint8_t)(seq >> (8 * i));
	c = EVP_CIPHER_CTX_new();
	if (!c)
		return -1;
	ok = EVP_DecryptInit_ex(c, ciph, NULL, NULL, NULL) == 1 &&
	     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL) == 1 &&
	     EVP_DecryptInit_ex(c, NULL, NULL, key, nonce) == 1 &&
	     EVP_DecryptUpdate(c, NULL, &l1, hdr, 5) == 1 &&
	     EVP_DecryptUpdate(c, out, &l1, ct, (int)(ctlen - 16)) == 1 &&
	     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, 16, (void *)(ct + ctlen - 16)) == 1 &&
	     EVP_DecryptFinal_ex(c, out + l1, &l2) == 1;
	EVP_CIPHER_CTX_free(c);
	if (!ok)
		return -1;
	n = l1 + l2;
	while (n > 0 && out[n - 1] == 0)
		n--;
	if (n == 0)
		return -1;
	*type = out[n - 1];
	return n - 1;
}

int probe_t13_open(const struct probe_keys *k, const uint8_t *ch, size_t chlen, const uint8_t *srv,
		   size_t srvlen, struct probe_t13 *out)
{
	static uint8_t hs[PROBE_T13_MAX_HS], plain[16384 + 256];
	struct cur c = cur_make(srv, srvlen);
	size_t hslen = 0, shlen = 0, i, hl, kl;
	const uint8_t *shpub = NULL;
	uint16_t shpublen = 0;
	const char *md;
	const EVP_CIPHER *ciph;
	EVP_PKEY *mine = NULL, *peer;
	uint8_t ikm[160], zero[MAXH], early[MAXH], derived[MAXH], hsec[MAXH], shs[MAXH], th[MAXH], key[32], iv[12];
	size_t ikmlen;
	uint64_t seq = 0;
	unsigned int thl = 0;
	memset(out, 0, sizeof(*out));
	/* the ServerHello: plaintext handshake records from the first byte */
	while (!c.err && shlen == 0) {
		uint8_t type = cur_u8(&c);
		uint16_t len;
		const uint8_t *body;
		cur_skip(&c, 2);
		len = cur_u16(&c);
		body = cur_bytes(&c, len);
		if (!body || type != 22 || len > sizeof(hs) - hslen) {
			snprintf(out->why, sizeof(out->why), "no whole ServerHello");
			return -1;
		}
		memcpy(hs + hslen, body, len);
		hslen += len;
		if (hslen >= 4 && hs[0] == 2) {
			size_t ml = 4 + ((size_t)hs[1] << 16 | (size_t)hs[2] << 8 | hs[3]);
			if (hslen >= ml)
				shlen = ml;
		}
	}
	if (!shlen || hslen != shlen) {
		snprintf(out->why, sizeof(out->why), "ServerHello not alone in its records");
		return -1;
	}
	{
		struct cur s = cur_make(hs + 4, shlen - 4);
		struct cur e;
		cur_skip(&s, 2 + 32);
		cur_skip(&s, cur_u8(&s));
		out->suite = cur_u16(&s);
		cur_skip(&s, 1);
		e = cur_sub(&s, cur_u16(&s));
		while (!e.err && cur_left(&e) >= 4) {
			uint16_t et = cur_u16(&e);
			struct cur ev = cur_sub(&e, cur_u16(&e));
			if (et == 51) {
				out->group = cur_u16(&ev);
				shpublen = cur_u16(&ev);
				shpub = cur_bytes(&ev, shpublen);
			}
		}
	}
	switch (out->suite) {
	case 0x1301: md = "SHA256"; ciph = EVP_aes_128_gcm(); kl = 16; break;
	case 0x1302: md = "SHA384"; ciph = EVP_aes_256_gcm(); kl = 32; break;
	case 0x1303: md = "SHA256"; ciph = EVP_chacha20_poly1305(); kl = 32; break;
	default:
		snprintf(out->why, sizeof(out->why), "suite 0x%04x is not a TLS 1.3 suite opened here", out->suite);
		return -1;
	}
	hl = strcmp(md, "SHA384") == 0 ? 48 : 32;
	for (i = 0; i < k->n; i++)
		if (k->group[i] == out->group)
			mine = k->pkey[i];
	if (!shpub || !mine) {
		snprintf(out->why, sizeof(out->why), "no key share of ours for the server's group 0x%04x", out->group);
		return -1;
	}
	peer = peer_key(mine, out->group, shpub, shpublen);
	ikmlen = peer ? shared_secret(mine, peer, ikm, sizeof(ikm)) : 0;
	EVP_PKEY_free(peer);
	if (!ikmlen) {
		snprintf(out->why, sizeof(out->why), "the server's key share does not combine with ours");
		return -1;
	}
	/* the transcript: ClientHello then ServerHello */
	{
		EVP_MD_CTX *h = EVP_MD_CTX_new();
		EVP_MD *m = EVP_MD_fetch(NULL, md, NULL);
		int ok = h && m && EVP_DigestInit_ex(h, m, NULL) == 1 && EVP_DigestUpdate(h, ch, chlen) == 1 &&
			 EVP_DigestUpdate(h, hs, shlen) == 1 && EVP_DigestFinal_ex(h, th, &thl) == 1;
		uint8_t empty[MAXH];
		unsigned int el = 0;
		if (ok)
			ok = EVP_Digest("", 0, empty, &el, m, NULL) == 1;
		EVP_MD_CTX_free(h);
		memset(zero, 0, sizeof(zero));
		ok = ok && hmac(md, zero, hl, zero, hl, early, hl) == 0 &&
		     expand_label(md, hl, early, "derived", empty, el, derived, hl) == 0 &&
		     hmac(md, derived, hl, ikm, ikmlen, hsec, hl) == 0 &&
		     expand_label(md, hl, hsec, "s hs traffic", th, thl, shs, hl) == 0 &&
		     expand_label(md, hl, shs, "key", NULL, 0, key, kl) == 0 &&
		     expand_label(md, hl, shs, "iv", NULL, 0, iv, 12) == 0;
		EVP_MD_free(m);
		if (!ok) {
			snprintf(out->why, sizeof(out->why), "key schedule failed (libcrypto)");
			return -1;
		}
	}
	/* the protected records after the ServerHello */
	hslen = 0;
	while (!c.err && cur_left(&c) >= 5) {
		const uint8_t *hdr = c.p, *body;
		uint8_t type = cur_u8(&c), inner = 0;
		uint16_t len;
		long n;
		cur_skip(&c, 2);
		len = cur_u16(&c);
		body = cur_bytes(&c, len);
		if (!body)
			break;
		if (type == 20)
			continue;   /* middlebox-compatibility ChangeCipherSpec */
		if (type != 23 || len > sizeof(plain))
			break;
		n = open_record(ciph, key, iv, seq++, hdr, body, len, plain, &inner);
		if (n < 0) {
			if (!out->opened)
				snprintf(out->why, sizeof(out->why), "the first protected record does not open");
			break;
		}
		out->opened = 1;
		if (inner != 22)
			break;
		if ((size_t)n > sizeof(hs) - hslen)
			break;
		memcpy(hs + hslen, plain, (size_t)n);
		hslen += (size_t)n;
	}
	{
		struct cur m = cur_make(hs, hslen);
		while (cur_left(&m) >= 4) {
			uint8_t t = cur_u8(&m);
			if (!cur_bytes(&m, cur_u24(&m)))
				break;
			switch (t) {
			case 8: out->encrypted_extensions = 1; break;
			case 13: out->cert_request = 1; break;
			case 11: out->certificate = 1; break;
			case 15: out->cert_verify = 1; break;
			case 20: out->finished = 1; break;
			default: break;
			}
		}
	}
	return out->opened ? 0 : -1;
}

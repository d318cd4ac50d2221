/*
 * tlsdec.c - record decryption for tlswhy's key log support, on OpenSSL 3
 * libcrypto (EVP ciphers, EVP_KDF "HKDF" and "TLS1-PRF", EVP_MAC "HMAC").
 * No cryptographic primitive is written here; this file only lays out
 * nonces, additional data and key blocks as the RFCs say.
 *
 * TLS 1.3 (RFC 8446 5.2, 5.3, 7.3):
 *
 *   record   17 03 03 len | AEAD(ciphertext || tag)
 *   key      HKDF-Expand-Label(secret, "key", "", key_len)
 *   iv       HKDF-Expand-Label(secret, "iv",  "", 12)
 *   nonce    iv XOR (0^4 || seq as 64-bit big-endian)
 *   AAD      the 5-byte record header
 *   inner    content || type || zeros   (type = last non-zero byte)
 *
 * TLS 1.0-1.2 (RFC 5246 6.2.3, 6.3; RFC 2246; RFC 4346; RFC 5288; RFC
 * 7905; RFC 6655; RFC 7366):
 *
 *   key_block = PRF(master, "key expansion", server_random || client_random)
 *             = client MAC key | server MAC key | client key | server key
 *               | client IV | server IV
 *   additional data / MAC input: seq(8) || type || version(2) || length(2)
 *   GCM, CCM: nonce = salt(4 from key block) || explicit(8, first in body)
 *   ChaCha20-Poly1305: nonce = iv(12) XOR seq; no explicit part
 *   CBC:      body = [IV (TLS >= 1.1)] || E(content || MAC || padding || padlen)
 *             encrypt_then_mac: body = IV || E(content || padding || padlen) || MAC
 *
 * Invariants: every length is checked against the body before a byte is
 * read; a record that fails leaves no plaintext in the caller's buffer
 * (it is wiped); the sequence number advances once per call that reaches
 * the cipher. Padding checks read only inside the decrypted buffer, so a
 * hostile record can be wrong but cannot crash. This is a passive decoder
 * (no timing oracle to avoid), so checks return as soon as they fail.
 */
#include "dissect/tlsdec.h"
#include "dissect/names.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

const char *tlsdec_strerror(enum tlsdec_err e)
{
	switch (e) {
	case TLSDEC_OK: return "ok";
	case TLSDEC_NO_KEY: return "no key";
	case TLSDEC_UNSUPPORTED: return "unsupported cipher suite or version";
	case TLSDEC_AUTH: return "authentication failed";
	case TLSDEC_PADDING: return "bad padding";
	case TLSDEC_LENGTH: return "record length does not fit the cipher";
	case TLSDEC_NO_INNER_TYPE: return "no inner content type";
	case TLSDEC_CRYPTO: return "libcrypto error";
	}
	return "?";
}

/* ------------------------------------------------------------ suites */

struct cipher_row {
	const char *name;       /* names.c spelling */
	const EVP_CIPHER *(*evp)(void);
	uint8_t key_len;
	uint8_t mode;           /* 0 GCM, 1 CCM, 2 ChaCha20-Poly1305, 3 CBC */
	uint8_t tag_len;
};

static const struct cipher_row ciphers[] = {
	{ "AES_128_GCM", EVP_aes_128_gcm, 16, 0, 16 },
	{ "AES_256_GCM", EVP_aes_256_gcm, 32, 0, 16 },
	{ "AES_128_CCM", EVP_aes_128_ccm, 16, 1, 16 },
	{ "AES_256_CCM", EVP_aes_256_ccm, 32, 1, 16 },
	{ "AES_128_CCM_8", EVP_aes_128_ccm, 16, 1, 8 },
	{ "AES_256_CCM_8", EVP_aes_256_ccm, 32, 1, 8 },
	{ "CHACHA20_POLY1305", EVP_chacha20_poly1305, 32, 2, 16 },
	{ "AES_128_CBC", EVP_aes_128_cbc, 16, 3, 0 },
	{ "AES_256_CBC", EVP_aes_256_cbc, 32, 3, 0 },
};

/* What a suite needs, from the names table. */
struct suite_params {
	const struct cipher_row *c;
	const char *prf_md;     /* HKDF / PRF hash: "SHA256", "SHA384" */
	const char *mac_md;     /* CBC only: "SHA1", "SHA256", "SHA384" */
	uint8_t mac_len;
};

static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && strcmp(s + a - b, suffix) == 0;
}

static int suite_params(uint16_t suite, uint16_t version, struct suite_params *sp)
{
	const struct suite_info *si = names_suite(suite);
	size_t i;
	memset(sp, 0, sizeof(*sp));
	if (!si || version < 0x0301 || version > 0x0304)
		return 0;
	if ((version == 0x0304) != (si->min_version == 0x0304))
		return 0;
	if (version < si->min_version || version > si->max_version)
		return 0;
	for (i = 0; i < sizeof(ciphers) / sizeof(ciphers[0]); i++)
		if (strcmp(si->cipher, ciphers[i].name) == 0)
			sp->c = &ciphers[i];
	if (!sp->c)
		return 0;
	sp->prf_md = ends_with(si->name, "_SHA384") ? "SHA384" : "SHA256";
	if (sp->c->mode == 3) {
		if (version == 0x0304)
			return 0;
		if (strcmp(si->mac, "SHA1") == 0)
			sp->mac_md = "SHA1", sp->mac_len = 20;
		else if (strcmp(si->mac, "SHA256") == 0)
			sp->mac_md = "SHA256", sp->mac_len = 32;
		else if (strcmp(si->mac, "SHA384") == 0)
			sp->mac_md = "SHA384", sp->mac_len = 48;
		else
			return 0;
	} else if (strcmp(si->mac, "AEAD") != 0) {
		return 0;
	}
	return 1;
}

int tlsdec_supported(uint16_t suite, uint16_t version)
{
	struct suite_params sp;
	return suite_params(suite, version, &sp);
}

void tlsdec_dir_init(struct tlsdec_dir *d)
{
	memset(d, 0, sizeof(*d));
}

void tlsdec_dir_clear(struct tlsdec_dir *d)
{
	if (d->ctx)
		EVP_CIPHER_CTX_free(d->ctx);
	OPENSSL_cleanse(d, sizeof(*d));
}

/* ---------------------------------------------------------------- KDFs */

enum tlsdec_err tlsdec_expand_label(const char *md, const uint8_t *secret, size_t slen,
				    const char *label, const uint8_t *context, size_t clen,
				    uint8_t *out, size_t outlen)
{
	/* struct { uint16 length; opaque label<7..255> = "tls13 " + label;
	 *          opaque context<0..255>; } HkdfLabel; */
	uint8_t info[2 + 1 + 255 + 1 + 255];
	size_t ll = strlen(label), n = 0;
	EVP_KDF *kdf;
	EVP_KDF_CTX *kctx;
	OSSL_PARAM params[5], *p = params;
	int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY, ok;
	if (6 + ll > 255 || clen > 255 || outlen > 0xffff)
		return TLSDEC_CRYPTO;
	info[n++] = (uint8_t)(outlen >> 8);
	info[n++] = (uint8_t)outlen;
	info[n++] = (uint8_t)(6 + ll);
	memcpy(info + n, "tls13 ", 6);
	n += 6;
	memcpy(info + n, label, ll);
	n += ll;
	info[n++] = (uint8_t)clen;
	if (clen)
		memcpy(info + n, context, clen);
	n += clen;

	kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	kctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	EVP_KDF_free(kdf);
	if (!kctx) {
		ERR_clear_error();
		return TLSDEC_CRYPTO;
	}
	*p++ = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)md, 0);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret, slen);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, n);
	*p = OSSL_PARAM_construct_end();
	ok = EVP_KDF_derive(kctx, out, outlen, params) > 0;
	EVP_KDF_CTX_free(kctx);
	if (!ok) {
		ERR_clear_error();
		return TLSDEC_CRYPTO;
	}
	return TLSDEC_OK;
}

/* PRF(secret, label, seed) of TLS 1.0/1.1 (MD5 and SHA-1) or 1.2. */
static enum tlsdec_err tls_prf(const char *md, const uint8_t *secret, size_t slen, const char *label,
			       const uint8_t *s1, size_t n1, const uint8_t *s2, size_t n2,
			       uint8_t *out, size_t outlen)
{
	uint8_t seed[64 + 32];
	size_t ll = strlen(label), n = 0;
	EVP_KDF *kdf;
	EVP_KDF_CTX *kctx;
	OSSL_PARAM params[4], *p = params;
	int ok;
	if (ll + n1 + n2 > sizeof(seed))
		return TLSDEC_CRYPTO;
	memcpy(seed, label, ll);
	n += ll;
	memcpy(seed + n, s1, n1);
	n += n1;
	memcpy(seed + n, s2, n2);
	n += n2;
	kdf = EVP_KDF_fetch(NULL, "TLS1-PRF", NULL);
	kctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	EVP_KDF_free(kdf);
	if (!kctx) {
		ERR_clear_error();
		return TLSDEC_CRYPTO;
	}
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)md, 0);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, (void *)secret, slen);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, seed, n);
	*p = OSSL_PARAM_construct_end();
	ok = EVP_KDF_derive(kctx, out, outlen, params) > 0;
	EVP_KDF_CTX_free(kctx);
	if (!ok) {
		ERR_clear_error();
		return TLSDEC_CRYPTO;
	}
	return TLSDEC_OK;
}

/* ---------------------------------------------------------------- keys */

static enum tlsdec_err dir_setup(struct tlsdec_dir *d, const struct suite_params *sp, uint16_t suite,
				 uint16_t version)
{
	EVP_CIPHER_CTX *ctx = d->ctx;
	/* keep an existing context (re-keying), wipe everything else */
	OPENSSL_cleanse(d, sizeof(*d));
	d->ctx = ctx ? ctx : EVP_CIPHER_CTX_new();
	if (!d->ctx)
		return TLSDEC_CRYPTO;
	d->suite = suite;
	d->version = version;
	d->cipher = sp->c->evp();
	d->key_len = sp->c->key_len;
	d->tag_len = sp->c->tag_len;
	d->mac_md = sp->mac_md;
	d->mac_len = sp->mac_len;
	d->block = sp->c->mode == 3 ? 16 : 0;
	return TLSDEC_OK;
}

enum tlsdec_err tlsdec_set13(struct tlsdec_dir *d, uint16_t suite, const uint8_t *secret, size_t len)
{
	struct suite_params sp;
	enum tlsdec_err rc;
	if (!suite_params(suite, 0x0304, &sp)) {
		tlsdec_dir_clear(d);
		return TLSDEC_UNSUPPORTED;
	}
	if (!secret || len != (strcmp(sp.prf_md, "SHA384") == 0 ? 48u : 32u)) {
		tlsdec_dir_clear(d);
		return TLSDEC_NO_KEY;
	}
	rc = dir_setup(d, &sp, suite, 0x0304);
	if (!rc)
		rc = tlsdec_expand_label(sp.prf_md, secret, len, "key", NULL, 0, d->key, d->key_len);
	if (!rc)
		rc = tlsdec_expand_label(sp.prf_md, secret, len, "iv", NULL, 0, d->iv, 12);
	if (rc) {
		tlsdec_dir_clear(d);
		return rc;
	}
	d->iv_len = 12;
	d->kind = TLSDEC_AEAD13;
	return TLSDEC_OK;
}

enum tlsdec_err tlsdec_set12(struct tlsdec_dir *client, struct tlsdec_dir *server, uint16_t version,
			     uint16_t suite, const uint8_t *master, size_t master_len,
			     const uint8_t client_random[32], const uint8_t server_random[32], int etm)
{
	struct suite_params sp;
	uint8_t kb[2 * 48 + 2 * 32 + 2 * 16];
	size_t mac, key, iv, need, o = 0;
	enum tlsdec_err rc;
	uint8_t kind;
	if (version == 0x0304 || !suite_params(suite, version, &sp)) {
		tlsdec_dir_clear(client);
		tlsdec_dir_clear(server);
		return TLSDEC_UNSUPPORTED;
	}
	if (!master || master_len != 48) {
		tlsdec_dir_clear(client);
		tlsdec_dir_clear(server);
		return TLSDEC_NO_KEY;
	}
	switch (sp.c->mode) {
	case 0:
	case 1:
		kind = TLSDEC_AEAD12_EXPLICIT, mac = 0, iv = 4;
		break;
	case 2:
		kind = TLSDEC_AEAD12_XOR, mac = 0, iv = 12;
		break;
	default:
		/* the IVs are only used in TLS 1.0 (chained); TLS 1.1+ sends one per record */
		kind = TLSDEC_CBC, mac = sp.mac_len, iv = 16;
		break;
	}
	key = sp.c->key_len;
	need = 2 * (mac + key + iv);
	rc = tls_prf(version >= 0x0303 ? sp.prf_md : "MD5-SHA1", master, master_len, "key expansion",
		     server_random, 32, client_random, 32, kb, need);
	if (!rc)
		rc = dir_setup(client, &sp, suite, version);
	if (!rc)
		rc = dir_setup(server, &sp, suite, version);
	if (rc) {
		OPENSSL_cleanse(kb, sizeof(kb));
		tlsdec_dir_clear(client);
		tlsdec_dir_clear(server);
		return rc;
	}
	memcpy(client->mac_key, kb + o, mac), o += mac;
	memcpy(server->mac_key, kb + o, mac), o += mac;
	memcpy(client->key, kb + o, key), o += key;
	memcpy(server->key, kb + o, key), o += key;
	memcpy(client->iv, kb + o, iv), o += iv;
	memcpy(server->iv, kb + o, iv);
	OPENSSL_cleanse(kb, sizeof(kb));
	client->iv_len = server->iv_len = (uint8_t)iv;
	client->kind = server->kind = kind;
	client->etm = server->etm = kind == TLSDEC_CBC && etm;
	return TLSDEC_OK;
}

/* ----------------------------------------------------------- records */

static void put_u64(uint8_t *p, uint64_t v)
{
	int i;
	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

/* AEAD open: GCM / ChaCha20-Poly1305 (tag after final) or CCM (tag and
 * length first). ct has ct_len bytes followed by the tag. */
static enum tlsdec_err aead_open(struct tlsdec_dir *d, const uint8_t *nonce, const uint8_t *aad,
				 size_t aad_len, const uint8_t *ct, size_t ct_len, uint8_t *out)
{
	EVP_CIPHER_CTX *ctx = d->ctx;
	const EVP_CIPHER *c = d->cipher;
	int ccm = EVP_CIPHER_get_mode(c) == EVP_CIPH_CCM_MODE;
	int outl = 0, fin = 0;
	uint8_t tag[16];
	if (ct_len > (size_t)INT32_MAX)
		return TLSDEC_LENGTH;
	memcpy(tag, ct + ct_len, d->tag_len);
	if (EVP_DecryptInit_ex(ctx, c, NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL) != 1)
		goto crypto;
	if (ccm && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, d->tag_len, tag) != 1)
		goto crypto;
	if (EVP_DecryptInit_ex(ctx, NULL, NULL, d->key, nonce) != 1)
		goto crypto;
	if (ccm && EVP_DecryptUpdate(ctx, NULL, &outl, NULL, (int)ct_len) != 1)
		goto crypto;
	if (EVP_DecryptUpdate(ctx, NULL, &outl, aad, (int)aad_len) != 1)
		goto crypto;
	if (ccm) {
		/* CCM verifies in the one update that carries the ciphertext */
		if (EVP_DecryptUpdate(ctx, out, &outl, ct, (int)ct_len) <= 0)
			goto auth;
		return TLSDEC_OK;
	}
	if (ct_len && EVP_DecryptUpdate(ctx, out, &outl, ct, (int)ct_len) != 1)
		goto crypto;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, d->tag_len, tag) != 1)
		goto crypto;
	if (EVP_DecryptFinal_ex(ctx, out + outl, &fin) <= 0)
		goto auth;
	return TLSDEC_OK;
auth:
	ERR_clear_error();
	OPENSSL_cleanse(out, ct_len);
	return TLSDEC_AUTH;
crypto:
	ERR_clear_error();
	OPENSSL_cleanse(out, ct_len);
	return TLSDEC_CRYPTO;
}

/* HMAC(mac_key, seq || type || version || len || data) into mac[]. */
static enum tlsdec_err record_mac(const struct tlsdec_dir *d, uint64_t seq, uint8_t type, uint16_t version,
				  const uint8_t *data, size_t len, uint8_t *mac)
{
	uint8_t hdr[13];
	EVP_MAC *m = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *mctx = m ? EVP_MAC_CTX_new(m) : NULL;
	OSSL_PARAM params[2];
	size_t outl = 0;
	int ok;
	EVP_MAC_free(m);
	if (!mctx) {
		ERR_clear_error();
		return TLSDEC_CRYPTO;
	}
	put_u64(hdr, seq);
	hdr[8] = type;
	hdr[9] = (uint8_t)(version >> 8);
	hdr[10] = (uint8_t)version;
	hdr[11] = (uint8_t)(len >> 8);
	hdr[12] = (uint8_t)len;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)d->mac_md, 0);
	params[1] = OSSL_PARAM_construct_end();
	ok = EVP_MAC_init(mctx, d->mac_key, d->mac_len, params) == 1 &&
	     EVP_MAC_update(mctx, hdr, sizeof(hdr)) == 1 &&
	     EVP_MAC_update(mctx, data, len) == 1 &&
	     EVP_MAC_final(mctx, mac, &outl, 48) == 1 && outl == d->mac_len;
	EVP_MAC_CTX_free(mctx);
	if (!ok) {
		ERR_clear_error();
		return TLSDEC_CRYPTO;
	}
	return TLSDEC_OK;
}

/* Raw CBC decryption (no padding removal) of n bytes, n a multiple of 16. */
static enum tlsdec_err cbc_decrypt(struct tlsdec_dir *d, const uint8_t *iv, const uint8_t *ct, size_t n,
				   uint8_t *out)
{
	int outl = 0, fin = 0;
	if (n > (size_t)INT32_MAX)
		return TLSDEC_LENGTH;
	if (EVP_DecryptInit_ex(d->ctx, d->cipher, NULL, d->key, iv) != 1 ||
	    EVP_CIPHER_CTX_set_padding(d->ctx, 0) != 1 ||
	    EVP_DecryptUpdate(d->ctx, out, &outl, ct, (int)n) != 1 ||
	    EVP_DecryptFinal_ex(d->ctx, out + outl, &fin) != 1 || (size_t)(outl + fin) != n) {
		ERR_clear_error();
		OPENSSL_cleanse(out, n);
		return TLSDEC_CRYPTO;
	}
	return TLSDEC_OK;
}

/* Checks TLS padding at the end of p[0..n): returns the bytes it takes
 * (padding_length + 1), or 0 when malformed. Reads only inside p. */
static size_t cbc_padding(const uint8_t *p, size_t n)
{
	size_t pad, i;
	if (n == 0)
		return 0;
	pad = p[n - 1];
	if (pad + 1 > n)
		return 0;
	for (i = n - 1 - pad; i < n - 1; i++)
		if (p[i] != pad)
			return 0;
	return pad + 1;
}

static enum tlsdec_err open_cbc(struct tlsdec_dir *d, uint8_t ctype, uint16_t ver, const uint8_t *body,
				size_t len, uint8_t *out, size_t *out_len, uint64_t seq)
{
	const size_t bs = d->block;
	const uint8_t *iv, *ct;
	size_t ct_len, pad, content;
	uint8_t mac[48], next_iv[16];
	enum tlsdec_err rc;
	int explicit_iv = d->version >= 0x0302;

	if (d->etm) {
		/* body = [IV] || ciphertext || MAC over (header, IV || ciphertext) */
		if (len < d->mac_len)
			return TLSDEC_LENGTH;
		ct_len = len - d->mac_len;
		rc = record_mac(d, seq, ctype, ver, body, ct_len, mac);
		if (rc)
			return rc;
		if (CRYPTO_memcmp(mac, body + ct_len, d->mac_len) != 0)
			return TLSDEC_AUTH;
	} else {
		ct_len = len;
	}
	if (explicit_iv) {
		if (ct_len < 2 * bs)
			return TLSDEC_LENGTH;
		iv = body;
		ct = body + bs;
		ct_len -= bs;
	} else {
		if (ct_len < bs)
			return TLSDEC_LENGTH;
		iv = d->iv;
		ct = body;
	}
	if (ct_len % bs)
		return TLSDEC_LENGTH;
	/* TLS 1.0 chains: the next record's IV is this record's last block */
	memcpy(next_iv, ct + ct_len - bs, bs);
	rc = cbc_decrypt(d, iv, ct, ct_len, out);
	if (!explicit_iv)
		memcpy(d->iv, next_iv, bs);
	if (rc)
		return rc;
	pad = cbc_padding(out, ct_len);
	if (!pad) {
		OPENSSL_cleanse(out, ct_len);
		return TLSDEC_PADDING;
	}
	if (d->etm) {
		*out_len = ct_len - pad;
		return TLSDEC_OK;
	}
	if (ct_len - pad < d->mac_len) {
		OPENSSL_cleanse(out, ct_len);
		return TLSDEC_PADDING;
	}
	content = ct_len - pad - d->mac_len;
	rc = record_mac(d, seq, ctype, ver, out, content, mac);
	if (!rc && CRYPTO_memcmp(mac, out + content, d->mac_len) != 0)
		rc = TLSDEC_AUTH;
	if (rc) {
		OPENSSL_cleanse(out, ct_len);
		return rc;
	}
	*out_len = content;
	return TLSDEC_OK;
}

enum tlsdec_err tlsdec_open(struct tlsdec_dir *d, uint8_t ctype, uint16_t rec_version,
			    const uint8_t *body, size_t len, uint8_t *out, size_t cap,
			    size_t *out_len, uint8_t *inner_type)
{
	uint8_t nonce[12], aad[13];
	uint64_t seq;
	size_t i, ct_len;
	enum tlsdec_err rc;

	*out_len = 0;
	*inner_type = 0;
	if (!d || d->kind == TLSDEC_NONE || !d->ctx)
		return TLSDEC_NO_KEY;
	if (len > TLSDEC_MAX_BODY || cap < len)
		return TLSDEC_LENGTH;
	seq = d->seq++;

	switch ((enum tlsdec_kind)d->kind) {
	case TLSDEC_AEAD13:
		if (len < (size_t)d->tag_len + 1)
			return TLSDEC_LENGTH;
		memcpy(nonce, d->iv, 12);
		for (i = 0; i < 8; i++)
			nonce[4 + i] ^= (uint8_t)(seq >> (56 - 8 * i));
		aad[0] = ctype;
		aad[1] = (uint8_t)(rec_version >> 8);
		aad[2] = (uint8_t)rec_version;
		aad[3] = (uint8_t)(len >> 8);
		aad[4] = (uint8_t)len;
		ct_len = len - d->tag_len;
		rc = aead_open(d, nonce, aad, 5, body, ct_len, out);
		if (rc)
			return rc;
		/* content || type || zeros: the type is the last non-zero byte */
		while (ct_len > 0 && out[ct_len - 1] == 0)
			ct_len--;
		if (ct_len == 0)
			return TLSDEC_NO_INNER_TYPE;
		*inner_type = out[ct_len - 1];
		*out_len = ct_len - 1;
		return TLSDEC_OK;
	case TLSDEC_AEAD12_EXPLICIT:
	case TLSDEC_AEAD12_XOR: {
		const uint8_t *ct = body;
		size_t over = d->tag_len;
		if (d->kind == TLSDEC_AEAD12_EXPLICIT) {
			over += 8;
			if (len < over)
				return TLSDEC_LENGTH;
			memcpy(nonce, d->iv, 4);
			memcpy(nonce + 4, body, 8);
			ct = body + 8;
		} else {
			if (len < over)
				return TLSDEC_LENGTH;
			memcpy(nonce, d->iv, 12);
			for (i = 0; i < 8; i++)
				nonce[4 + i] ^= (uint8_t)(seq >> (56 - 8 * i));
		}
		ct_len = len - over;
		put_u64(aad, seq);
		aad[8] = ctype;
		aad[9] = (uint8_t)(rec_version >> 8);
		aad[10] = (uint8_t)rec_version;
		aad[11] = (uint8_t)(ct_len >> 8);
		aad[12] = (uint8_t)ct_len;
		rc = aead_open(d, nonce, aad, 13, ct, ct_len, out);
		if (rc)
			return rc;
		*inner_type = ctype;
		*out_len = ct_len;
		return TLSDEC_OK;
	}
	case TLSDEC_CBC:
		rc = open_cbc(d, ctype, rec_version, body, len, out, out_len, seq);
		if (!rc)
			*inner_type = ctype;
		return rc;
	case TLSDEC_NONE:
		break;
	}
	return TLSDEC_NO_KEY;
}

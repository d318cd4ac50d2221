/*
 * tlsdec.h - TLS record decryption with keys from a key log (libcrypto only).
 *
 * One struct tlsdec_dir per direction holds the record keys and the
 * sequence number. It is keyed either from a TLS 1.3 traffic secret
 * (tlsdec_set13: HKDF-Expand-Label "key" / "iv", RFC 8446 section 7.3) or,
 * for TLS 1.0-1.2, both directions at once from the master secret and the
 * two randoms (tlsdec_set12: the PRF's "key expansion", RFC 5246 6.3, RFC
 * 2246 6.3). tlsdec_open() then decrypts one record body at a time, in
 * order, and advances the sequence number whether or not the record
 * authenticates (the sender used that number either way).
 *
 * Suites (looked up in dissect/names.c, so the cipher and MAC come from the
 * one IANA table):
 *   TLS 1.3  AES-128/256-GCM, ChaCha20-Poly1305, AES-128-CCM, AES-128-CCM-8
 *   TLS 1.2  AES-128/256-GCM and AES-128/256-CCM(-8) (explicit nonce),
 *            ChaCha20-Poly1305 (RFC 7905)
 *   TLS 1.0-1.2  AES-128/256-CBC with HMAC-SHA1/SHA256/SHA384,
 *            MAC-then-encrypt or encrypt_then_mac (RFC 7366); the IV is
 *            the record's first block from TLS 1.1, chained in TLS 1.0.
 * Anything else is TLSDEC_UNSUPPORTED. SSL 3.0, compression, KeyUpdate and
 * 0-RTT early data are not handled (the caller stops on the first failure).
 *
 * Never prints, never logs: key material stays inside the struct and is
 * wiped by tlsdec_dir_clear().
 */
#ifndef TLSWHY_TLSDEC_H
#define TLSWHY_TLSDEC_H

#include <stddef.h>
#include <stdint.h>

/* The largest record body tlsdec_open() takes (RFC 5246: 2^14 + 2048). */
#define TLSDEC_MAX_BODY (16384u + 2048u)

enum tlsdec_err {
	TLSDEC_OK = 0,
	TLSDEC_NO_KEY,          /* the direction has no keys */
	TLSDEC_UNSUPPORTED,     /* suite or version this module cannot decrypt */
	TLSDEC_AUTH,            /* AEAD tag or record MAC did not verify */
	TLSDEC_PADDING,         /* CBC padding malformed */
	TLSDEC_LENGTH,          /* record body too short or too long for the cipher */
	TLSDEC_NO_INNER_TYPE,   /* TLS 1.3 plaintext all zeros: no content type */
	TLSDEC_CRYPTO,          /* libcrypto refused (allocation, parameters) */
};

enum tlsdec_kind {
	TLSDEC_NONE = 0,
	TLSDEC_AEAD13,          /* TLS 1.3: nonce = iv ^ seq, AAD = record header */
	TLSDEC_AEAD12_EXPLICIT, /* TLS 1.2 GCM/CCM: salt(4) || explicit(8) */
	TLSDEC_AEAD12_XOR,      /* TLS 1.2 ChaCha20-Poly1305: iv(12) ^ seq */
	TLSDEC_CBC,             /* TLS 1.0-1.2 CBC + HMAC */
};

struct tlsdec_dir {
	uint8_t kind;           /* enum tlsdec_kind; TLSDEC_NONE: no keys */
	uint8_t etm;            /* encrypt_then_mac negotiated (CBC) */
	uint16_t version;       /* record protection version: 0x0301..0x0304 */
	uint16_t suite;
	uint8_t key_len, iv_len, tag_len, mac_len, block;
	const void *cipher;     /* const EVP_CIPHER * */
	const char *mac_md;     /* HMAC digest name (CBC) */
	uint64_t seq;
	uint8_t key[32];
	uint8_t iv[16];         /* 1.3/ChaCha: 12-byte IV; GCM/CCM: 4-byte salt; TLS 1.0 CBC: chained IV */
	uint8_t mac_key[48];
	void *ctx;              /* EVP_CIPHER_CTX *, owned */
};

/* Suites this module can decrypt at this version (0x0301..0x0304). */
int tlsdec_supported(uint16_t suite, uint16_t version);

/* A zeroed direction has no keys; clear wipes the keys and frees. */
void tlsdec_dir_init(struct tlsdec_dir *d);
void tlsdec_dir_clear(struct tlsdec_dir *d);

/* TLS 1.3: keys from a traffic secret (its length must be the suite's
 * hash length); the sequence number starts at 0. */
enum tlsdec_err tlsdec_set13(struct tlsdec_dir *d, uint16_t suite, const uint8_t *secret, size_t len);

/* TLS 1.0-1.2: both directions from the 48-byte master secret. */
enum tlsdec_err tlsdec_set12(struct tlsdec_dir *client, struct tlsdec_dir *server, uint16_t version,
			     uint16_t suite, const uint8_t *master, size_t master_len,
			     const uint8_t client_random[32], const uint8_t server_random[32], int etm);

/*
 * Decrypts one record: `ctype` and `rec_version` from its header, `body`
 * its `len` bytes. On TLSDEC_OK, out[0 .. *out_len) is the plaintext (TLS
 * 1.3: padding and inner type removed) and *inner_type the real content
 * type. `out` needs `cap >= len` bytes. On any failure *out_len is 0 and
 * nothing in `out` is plaintext.
 */
enum tlsdec_err tlsdec_open(struct tlsdec_dir *d, uint8_t ctype, uint16_t rec_version,
			    const uint8_t *body, size_t len, uint8_t *out, size_t cap,
			    size_t *out_len, uint8_t *inner_type);

/* RFC 8446 7.1 HKDF-Expand-Label(secret, label, context, outlen), with
 * `md` "SHA256" or "SHA384". Exposed for the RFC 8448 test. */
enum tlsdec_err tlsdec_expand_label(const char *md, const uint8_t *secret, size_t slen,
				    const char *label, const uint8_t *context, size_t clen,
				    uint8_t *out, size_t outlen);

const char *tlsdec_strerror(enum tlsdec_err e);

#endif

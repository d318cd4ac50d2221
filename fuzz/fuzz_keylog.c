/*
 * fuzz_keylog.c - libFuzzer target: the key log parser (dissect/keylog.c)
 * and record decryption (dissect/tlsdec.c) with a fixed key.
 *
 * Input:
 *   byte 0        which record protection to key (low 3 bits):
 *                   0 TLS 1.3 AES-128-GCM      1 TLS 1.3 ChaCha20-Poly1305
 *                   2 TLS 1.3 AES-128-CCM      3 TLS 1.2 AES-128-GCM
 *                   4 TLS 1.2 ChaCha20-Poly1305
 *                   5 TLS 1.0 AES-128-CBC-SHA (chained IV, MAC-then-encrypt)
 *                   6 TLS 1.2 AES-128-CBC-SHA256 encrypt_then_mac
 *                   7 TLS 1.1 AES-256-CBC-SHA MAC-then-encrypt
 *   bytes 1-2     L, big-endian: the next L bytes (fewer at the end) are
 *                 key log text, loaded with keylog_load_buf() (as a pcapng
 *                 Decryption Secrets Block when byte 0 bit 3 is set)
 *   the rest      TLS records as on the wire (5-byte header, body), each
 *                 decrypted in turn; a header whose length runs past the
 *                 end takes what is left.
 * The key: when the key log has an entry for the fixed client random
 * (00 01 .. 1f) with the label the protection needs (CLIENT_TRAFFIC_SECRET_0
 * for 1.3, CLIENT_RANDOM for 1.2 and below), its secret; otherwise a fixed
 * secret of 48 bytes 0x0b. So a seed can carry a real secret and a real
 * record (fuzz/corpus/keylog/rfc8448-client-app: RFC 8448's client
 * application data).
 *
 * Checks: no memory error, no leak; at most the cap of entries and notes;
 * a failed record leaves *out_len 0; a decrypted one is no longer than its
 * body.
 */
#include "fuzz/fuzz.h"
#include "dissect/keylog.h"
#include "dissect/tlsdec.h"

#include <stdlib.h>
#include <string.h>

#define FUZZ_KEYLOG_MAX_ENTRIES 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct {
		uint16_t version, suite;
		uint8_t etm;
	} prot[8] = {
		{ 0x0304, 0x1301, 0 }, { 0x0304, 0x1303, 0 }, { 0x0304, 0x1304, 0 },
		{ 0x0303, 0xc02f, 0 }, { 0x0303, 0xcca8, 0 }, { 0x0301, 0xc013, 0 },
		{ 0x0303, 0xc027, 1 }, { 0x0302, 0x0035, 0 },
	};
	uint8_t random[32], server_random[32], fixed[48];
	struct keylog *kl;
	struct tlsdec_dir c, s;
	const struct keylog_entry *e;
	const uint8_t *secret;
	size_t slen = 0, off, klen, i;
	uint8_t *out;
	int sel;

	if (size < 3)
		return 0;
	sel = data[0] & 7;
	klen = (size_t)data[1] << 8 | data[2];
	off = 3;
	if (klen > size - off)
		klen = size - off;
	kl = keylog_new(FUZZ_KEYLOG_MAX_ENTRIES);
	if (!kl)
		return 0;
	if (data[0] & 8)
		keylog_load_dsb(kl, "fuzz", KEYLOG_DSB_TLS, data + off, klen);
	else
		keylog_load_buf(kl, "fuzz", data + off, klen);
	off += klen;
	FUZZ_CHECK(kl->n <= FUZZ_KEYLOG_MAX_ENTRIES);
	FUZZ_CHECK(kl->n_notes >= 0 && kl->n_notes <= KEYLOG_MAX_NOTES);
	FUZZ_CHECK(kl->st.secrets + kl->st.ignored + kl->st.bad_total <= kl->st.lines);

	for (i = 0; i < 32; i++) {
		random[i] = (uint8_t)i;
		server_random[i] = (uint8_t)(0x80 + i);
	}
	memset(fixed, 0x0b, sizeof(fixed));
	e = keylog_find(kl, random);
	secret = keylog_secret(e, prot[sel].version == 0x0304 ? KL_CLIENT_AP0 : KL_MASTER_SECRET, &slen);
	if (!secret) {
		secret = fixed;
		slen = prot[sel].version == 0x0304 ? 32 : 48;
	}
	tlsdec_dir_init(&c);
	tlsdec_dir_init(&s);
	if (prot[sel].version == 0x0304)
		tlsdec_set13(&c, prot[sel].suite, secret, slen);
	else
		tlsdec_set12(&c, &s, prot[sel].version, prot[sel].suite, secret, slen, random, server_random,
			     prot[sel].etm);

	out = malloc(TLSDEC_MAX_BODY);
	while (out && size - off >= 5) {
		uint8_t ct = data[off], type = 0;
		uint16_t ver = (uint16_t)(data[off + 1] << 8 | data[off + 2]);
		size_t len = (size_t)data[off + 3] << 8 | data[off + 4], got = 1;
		enum tlsdec_err rc;
		off += 5;
		if (len > size - off)
			len = size - off;
		rc = tlsdec_open(&c, ct, ver, data + off, len, out, TLSDEC_MAX_BODY, &got, &type);
		if (rc)
			FUZZ_CHECK(got == 0);
		else
			FUZZ_CHECK(got <= len);
		off += len;
	}
	free(out);
	tlsdec_dir_clear(&c);
	tlsdec_dir_clear(&s);
	keylog_free(kl);
	return 0;
}

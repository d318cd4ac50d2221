/*
 * fuzz_handshake.c - libFuzzer target: the handshake message parsers of
 * dissect/tls.c, alone and behind the record layer.
 *
 * Input: byte 0 selects, the rest is the body.
 *   sel % 8 == 0  tls_parse_client_hello(body)
 *             1  tls_parse_server_hello(body)
 *             2  tls_parse_sslv2_client_hello(body)   (the whole SSLv2 record)
 *             3  body = server handshake messages, wrapped in handshake
 *                records of 16384 bytes, after a canned ClientHello:
 *                reaches Certificate, CertificateRequest, ServerKeyExchange...
 *             4  the same, client to server
 *             5  server messages in records of (sel >> 3) + 1 bytes
 *             6  client messages in records of (sel >> 3) + 1 bytes
 *             7  body as one message of the type in its first byte,
 *                given to the server direction with a correct header
 * Seeds (fuzz/seeds.c): every plaintext handshake message of the recorded
 * captures (0/1), and each direction's plaintext handshake stream (3/4).
 */
#include "fuzz/fuzz.h"
#include "dissect/record.h"
#include "dissect/tls.h"

#include <stdlib.h>
#include <string.h>

/* A small but valid ClientHello record (TLS 1.2, one suite, no extensions). */
static const uint8_t canned_ch[] = {
	0x16, 0x03, 0x01, 0x00, 0x2d,
	0x01, 0x00, 0x00, 0x29, 0x03, 0x03,
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
	17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
	0x00, 0x00, 0x02, 0xc0, 0x2f, 0x01, 0x00,
};

static void feed_records(struct tls_conn *t, int dir, const uint8_t *p, size_t n, size_t frag)
{
	uint8_t hdr[5] = { 0x16, 0x03, 0x03, 0, 0 };
	uint64_t frame = 2;
	while (n) {
		size_t k = n < frag ? n : frag;
		hdr[3] = (uint8_t)(k >> 8);
		hdr[4] = (uint8_t)k;
		tls_feed(t, dir, hdr, 5, frame, 2000);
		tls_feed(t, dir, p, k, frame, 2000);
		p += k;
		n -= k;
		frame++;
	}
}

static void stream(const uint8_t *body, size_t len, int dir, size_t frag, int one_message)
{
	struct tls_conn t;
	struct hs_record *r = record_new(1);
	if (!r)
		return;
	tls_conn_init(&t, r, NULL);
	tls_feed(&t, DIR_C2S, canned_ch, sizeof(canned_ch), 1, 1000);
	if (one_message && len >= 1) {
		size_t n = len - 1;
		uint8_t *m = malloc(4 + n);
		if (m) {
			m[0] = body[0];
			m[1] = (uint8_t)(n >> 16);
			m[2] = (uint8_t)(n >> 8);
			m[3] = (uint8_t)n;
			memcpy(m + 4, body + 1, n);
			feed_records(&t, dir, m, 4 + n, 16384);
			free(m);
		}
	} else {
		feed_records(&t, dir, body, len, frag);
	}
	tls_finish(&t);
	record_finish(r, 3000);
	fuzz_record_check(r);
	tls_conn_free(&t);
	fuzz_record_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t sel;
	const uint8_t *body;
	size_t len;
	if (size < 1)
		return 0;
	sel = data[0];
	body = data + 1;
	len = size - 1;
	switch (sel % 8) {
	case 0: {
		struct hs_client_hello *ch = record_new_client_hello();
		if (!ch)
			return 0;
		tls_parse_client_hello(body, len, ch);
		FUZZ_CHECK(ch->n_suites <= HS_MAX_SUITES && ch->n_exts <= HS_MAX_EXTS);
		FUZZ_CHECK(ch->sni_len <= HS_SNI_BYTES && ch->alpn_bytes <= HS_ALPN_BYTES);
		FUZZ_CHECK(ch->n_alpn <= HS_MAX_ALPN && ch->session_id_len <= 32);
		record_free_client_hello(ch);
		break;
	}
	case 1: {
		struct hs_server_hello *sh = record_new_server_hello();
		if (!sh)
			return 0;
		tls_parse_server_hello(body, len, sh);
		FUZZ_CHECK(sh->n_exts <= HS_MAX_EXTS && sh->session_id_len <= 32);
		record_free_server_hello(sh);
		break;
	}
	case 2: {
		struct hs_client_hello *ch = record_new_client_hello();
		if (!ch)
			return 0;
		tls_parse_sslv2_client_hello(body, len, ch);
		FUZZ_CHECK(ch->n_suites <= HS_MAX_SUITES && ch->session_id_len <= 32);
		record_free_client_hello(ch);
		break;
	}
	case 3: stream(body, len, DIR_S2C, 16384, 0); break;
	case 4: stream(body, len, DIR_C2S, 16384, 0); break;
	case 5: stream(body, len, DIR_S2C, (size_t)(sel >> 3) + 1, 0); break;
	case 6: stream(body, len, DIR_C2S, (size_t)(sel >> 3) + 1, 0); break;
	case 7: stream(body, len, DIR_S2C, 16384, 1); break;
	}
	return 0;
}

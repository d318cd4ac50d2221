/*
 * decrypt.c - per-connection decryption state between dissect/tls.c and
 * dissect/tlsdec.c, and the facts decrypted records give (r->dec).
 *
 * Keys: looked up by the ClientHello random once the ServerHello has named
 * the version and suite. TLS 1.3: each direction starts with its handshake
 * traffic secret and moves to its application traffic secret (_0) after
 * its own Finished. TLS 1.0-1.2: both directions from the master secret;
 * tls.c starts feeding a direction after its ChangeCipherSpec.
 *
 * Facts kept (record.h struct hs_decrypted): decrypted handshake message
 * types per direction; EncryptedExtensions and its ALPN; CertificateRequest;
 * whether the client's Certificate was empty; the first application data
 * bytes each way (an HTTP/1.x request or status line, an HTTP/2 preface);
 * records decrypted and failed per direction with the first error.
 * Alerts are handed back to tls.c, which files them with `decrypted` set.
 *
 * Invariants: no key material leaves this file and tlsdec.c (it is never
 * copied into the record); a record body is held only while it streams in
 * and never beyond TLSDEC_MAX_BODY bytes (a longer record is counted as
 * failed, TLSDEC_LENGTH); after a failure the direction is not decrypted
 * again, so a wrong key costs one record's work.
 */
#include "dissect/decrypt.h"
#include "dissect/cursor.h"
#include "dissect/keylog.h"
#include "dissect/tlsdec.h"

#include <stdlib.h>
#include <string.h>

/* Application data records read per direction for their first bytes. */
#define TLS_DEC_APP_RECORDS 4

struct tls_dec {
	struct tlsdec_dir d[2];
	const struct keylog_entry *e;   /* in the run's key log, read-only */
	uint16_t suite;
	uint8_t tls13;
	uint8_t dead[2];        /* failed once, or nothing more to learn */
	uint8_t app[2];         /* TLS 1.3: application keys in use */
	uint8_t app_records[2]; /* application data records decrypted */
	uint8_t active[2];      /* the current record is being buffered */
	uint8_t ctype[2];
	uint16_t version[2];
	uint16_t alerts_before[2];
	uint32_t len[2], have[2];
	uint8_t *body[2];       /* the current record's body, len bytes */
	uint8_t *out;           /* the last plaintext */
};

/* Keys a TLS 1.3 direction from one secret; 0 when the log lacks it. */
static int set13(struct tls_dec *x, int dir, enum keylog_label l)
{
	size_t n = 0;
	const uint8_t *s = keylog_secret(x->e, l, &n);
	if (!s || tlsdec_set13(&x->d[dir], x->suite, s, n) != TLSDEC_OK) {
		tlsdec_dir_clear(&x->d[dir]);
		x->dead[dir] = 1;
		return 0;
	}
	return 1;
}

struct tls_dec *tls_dec_new(const struct keylog *kl, struct hs_record *r)
{
	struct tls_dec *x;
	const struct hs_server_hello *sh = r->sh;
	struct hs_decrypted *dec;
	struct hs_rare *rare;
	if (!kl || !sh || !r->ch || hs_rare(r)->dec || !(rare = record_rare(r)))
		return NULL;
	dec = rare->dec = calloc(1, sizeof(*rare->dec));
	if (!dec)
		return NULL;
	x = calloc(1, sizeof(*x));
	if (!x)
		return NULL;
	x->e = keylog_find(kl, r->ch->random);
	x->suite = sh->cipher;
	x->tls13 = sh->version == 0x0304;
	if (x->e) {
		dec->keys = 1;
		if (x->tls13) {
			dec->keyed[DIR_C2S] = (uint8_t)set13(x, DIR_C2S, KL_CLIENT_HS);
			dec->keyed[DIR_S2C] = (uint8_t)set13(x, DIR_S2C, KL_SERVER_HS);
		} else {
			size_t n = 0;
			const uint8_t *ms = keylog_secret(x->e, KL_MASTER_SECRET, &n);
			if (ms && tlsdec_set12(&x->d[DIR_C2S], &x->d[DIR_S2C], sh->version, sh->cipher, ms, n,
					       r->ch->random, sh->random, sh->has_encrypt_then_mac) == TLSDEC_OK)
				dec->keyed[0] = dec->keyed[1] = 1;
		}
	}
	if (!dec->keyed[0] && !dec->keyed[1]) {
		tls_dec_free(x);
		return NULL;
	}
	dec->suite = x->suite;
	x->dead[0] = !dec->keyed[0];
	x->dead[1] = !dec->keyed[1];
	return x;
}

void tls_dec_free(struct tls_dec *x)
{
	int i;
	if (!x)
		return;
	for (i = 0; i < 2; i++) {
		tlsdec_dir_clear(&x->d[i]);
		free(x->body[i]);
	}
	free(x->out);
	free(x);
}

void tls_dec_swap(struct tls_dec *x)
{
	struct tls_dec t;
	int i;
	if (!x)
		return;
	t = *x;
	for (i = 0; i < 2; i++) {
		x->d[i] = t.d[1 - i];
		x->dead[i] = t.dead[1 - i];
		x->app[i] = t.app[1 - i];
		x->app_records[i] = t.app_records[1 - i];
		x->active[i] = t.active[1 - i];
		x->ctype[i] = t.ctype[1 - i];
		x->version[i] = t.version[1 - i];
		x->alerts_before[i] = t.alerts_before[1 - i];
		x->len[i] = t.len[1 - i];
		x->have[i] = t.have[1 - i];
		x->body[i] = t.body[1 - i];
	}
}

int tls_dec_want(const struct tls_dec *x, int dir)
{
	return x && !x->dead[dir];
}

int tls_dec_active(const struct tls_dec *x, int dir)
{
	return x && x->active[dir];
}

void tls_dec_begin(struct tls_dec *x, int dir, uint8_t ctype, uint16_t version, uint32_t len,
		   uint16_t alerts_before)
{
	if (!x || x->dead[dir])
		return;
	free(x->body[dir]);
	x->body[dir] = NULL;
	x->active[dir] = 1;
	x->ctype[dir] = ctype;
	x->version[dir] = version;
	x->alerts_before[dir] = alerts_before;
	x->len[dir] = len;
	x->have[dir] = 0;
	if (len <= TLSDEC_MAX_BODY)
		x->body[dir] = malloc(len ? len : 1);
}

void tls_dec_body(struct tls_dec *x, int dir, const uint8_t *p, size_t n)
{
	if (!x || !x->active[dir] || !x->body[dir])
		return;
	if (n > x->len[dir] - x->have[dir])
		n = x->len[dir] - x->have[dir];
	memcpy(x->body[dir] + x->have[dir], p, n);
	x->have[dir] += (uint32_t)n;
}

static void failed(struct tls_dec *x, struct hs_decrypted *dec, int dir, enum tlsdec_err rc)
{
	dec->records_failed[dir]++;
	if (!dec->first_error[dir])
		dec->first_error[dir] = (uint8_t)rc;
	x->dead[dir] = 1;
}

const uint8_t *tls_dec_end(struct tls_dec *x, struct hs_record *r, int dir, uint64_t frame,
			   size_t *len, uint8_t *inner, uint16_t *alerts_before)
{
	struct hs_decrypted *dec = r->rare ? r->rare->dec : NULL;
	enum tlsdec_err rc;
	if (!x || !dec || !x->active[dir])
		return NULL;
	x->active[dir] = 0;
	*alerts_before = x->alerts_before[dir];
	if (!x->body[dir] || x->have[dir] != x->len[dir]) {
		/* longer than any record may be, out of memory, or cut by a gap */
		failed(x, dec, dir, TLSDEC_LENGTH);
		return NULL;
	}
	free(x->out);
	x->out = malloc(x->len[dir] ? x->len[dir] : 1);
	if (!x->out) {
		failed(x, dec, dir, TLSDEC_CRYPTO);
		return NULL;
	}
	rc = tlsdec_open(&x->d[dir], x->ctype[dir], x->version[dir], x->body[dir], x->len[dir], x->out,
			 x->len[dir], len, inner);
	free(x->body[dir]);
	x->body[dir] = NULL;
	if (rc) {
		failed(x, dec, dir, rc);
		return NULL;
	}
	dec->records_ok[dir]++;
	if (*inner == 23) {
		/* the first bytes each way are what we came for: gathered over
		 * the first records (TLS 1.0 CBC splits data 1 / n-1) */
		size_t room = HS_DEC_FIRST - dec->first_len[dir], k = *len < room ? *len : room;
		if (!dec->first_frame[dir])
			dec->first_frame[dir] = frame;
		memcpy(dec->first[dir] + dec->first_len[dir], x->out, k);
		dec->first_len[dir] = (uint16_t)(dec->first_len[dir] + k);
		if (++x->app_records[dir] >= TLS_DEC_APP_RECORDS || dec->first_len[dir] == HS_DEC_FIRST)
			x->dead[dir] = 1;
	}
	return x->out;
}

/* EncryptedExtensions (RFC 8446 4.3.1): the ALPN the server selected. */
static void parse_ee(struct hs_decrypted *dec, const uint8_t *body, size_t len)
{
	struct cur c = cur_make(body, len), l = cur_sub(&c, cur_u16(&c));
	dec->encrypted_extensions = 1;
	while (cur_left(&l) >= 4) {
		uint16_t type = cur_u16(&l);
		struct cur e = cur_sub(&l, cur_u16(&l));
		if (type == 16) {   /* ALPN: ProtocolNameList with one name */
			struct cur names = cur_sub(&e, cur_u16(&e));
			uint8_t n = cur_u8(&names);
			const uint8_t *p = cur_bytes(&names, n);
			if (p) {
				memcpy(dec->alpn, p, n);
				dec->alpn_len = n;
			}
		}
	}
}

/* Certificate: empty (1) or not (2). TLS 1.3 has a request context first. */
static uint8_t cert_empty(const uint8_t *body, size_t len, int tls13)
{
	struct cur c = cur_make(body, len);
	uint32_t n;
	if (tls13)
		cur_skip(&c, cur_u8(&c));
	n = cur_u24(&c);
	if (c.err)
		return 0;
	return n == 0 ? 1 : 2;
}

void tls_dec_message(struct tls_dec *x, struct hs_record *r, int dir, uint8_t type,
		     const uint8_t *body, size_t len)
{
	struct hs_decrypted *dec = r->rare ? r->rare->dec : NULL;
	if (!x || !dec)
		return;
	if (dec->total_hs[dir] < UINT16_MAX)
		dec->total_hs[dir]++;
	if (dec->n_hs[dir] < HS_DEC_TYPES)
		dec->hs_types[dir][dec->n_hs[dir]++] = type;
	switch (type) {
	case 8:
		if (dir == DIR_S2C && !dec->encrypted_extensions)
			parse_ee(dec, body, len);
		break;
	case 11:
		if (dir == DIR_C2S && !dec->client_cert)
			dec->client_cert = cert_empty(body, len, x->tls13);
		break;
	case 13:
		if (dir == DIR_S2C)
			dec->cert_request = 1;
		break;
	case 20:
		if (x->tls13 && !x->app[dir] && !x->dead[dir]) {
			x->app[dir] = 1;
			set13(x, dir, dir == DIR_C2S ? KL_CLIENT_AP0 : KL_SERVER_AP0);
		}
		break;
	default:
		break;
	}
}

/*
 * tls.c - TLS record layer and handshake messages (RFC 5246, RFC 8446,
 * RFC 6101 for SSL 3.0, the SSLv2-compatible ClientHello of RFC 5246 E.2).
 *
 * Record (RFC 8446 5.1):
 *
 *   +------+---------+---------+----------------------+
 *   | type | version | length  | fragment (length)    |
 *   |  1   |    2    |    2    |                      |
 *   +------+---------+---------+----------------------+
 *
 * Handshake message (RFC 8446 4): type(1) length(3) body. Messages may span
 * records, and records may span TCP segments: handshake fragments are
 * appended to a per-direction buffer (capped at the run's tls_limits.max_handshake per
 * message) and cut into messages from there. Bodies of encrypted records
 * are never copied: the parser counts and skips them.
 *
 * Modes of a direction:
 *   DETECT  nothing seen yet: the first bytes decide TLS, SSLv2 or not-TLS.
 *   TLS     record by record.
 *   SCAN    plaintext before TLS (STARTTLS, a server-speaks-first banner):
 *           look for a handshake record header, at most max_scan bytes.
 *   LOST    a gap broke record framing: look for a plausible header.
 *   NONTLS  not TLS: the first HS_NONTLS_BYTES are kept, nothing more.
 *   DONE    the handshake is over for this direction; nothing more needed.
 *
 * Facts, never verdicts: stage and meaning are decided elsewhere.
 * Invariants: every read goes through struct cur; hs_off <= hs.len;
 * nothing is trusted about a length until it is checked against what the
 * container holds.
 */
#include "dissect/tls.h"
#include "dissect/cursor.h"
#include "dissect/decrypt.h"
#include "dissect/names.h"
#include "dissect/x509.h"

#include <stdlib.h>
#include <string.h>

enum { M_DETECT = 0, M_TLS, M_SCAN, M_LOST, M_NONTLS, M_DONE };

/* Pseudo content types in tls_dir.ctype for an SSLv2-format ClientHello
 * record (above every real content type): expected, gathering its 2-byte
 * header, gathering its body. */
enum { CT_SSLV2 = 0x80, CT_SSLV2_HDR = 0x81, CT_SSLV2_BODY = 0x82 };

#define TLS_MAX_RECORD (16384u + 2048u)

static const struct tls_limits default_limits = TLS_LIMITS_DEFAULT;

/* RFC 8446 4.1.3: the ServerHello.random of a HelloRetryRequest. */
static const uint8_t hrr_random[32] = {
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
	0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};

/* The handshake buffer of a direction: one message at most (plus its
 * header and slack). */
static void hs_buf_init(struct tls_dir *d, const struct tls_limits *lim)
{
	dbuf_init(&d->hs, 1024, (size_t)lim->max_handshake + 8);
}

void tls_conn_init(struct tls_conn *t, struct hs_record *r, const struct tls_limits *lim)
{
	int i;
	memset(t, 0, sizeof(*t));
	t->r = r;
	t->lim = lim ? lim : &default_limits;
	x509_vbudget_init(&t->vb);
	for (i = 0; i < 2; i++) {
		t->d[i].last_hs_type = 255;
		hs_buf_init(&t->d[i], t->lim);
	}
}

/* The connection is judged: its certificates no longer count as held by an
 * open connection (x509_hold). */
static void unhold_chain(struct hs_chain *ch)
{
	uint16_t i;
	for (i = 0; i < ch->n; i++)
		if (ch->c[i].held) {
			x509_unhold(ch->c[i].x);
			ch->c[i].held = 0;
		}
}

void tls_conn_free(struct tls_conn *t)
{
	if (t->r) {
		unhold_chain(&t->r->server_chain);
		if (t->r->rare)
			unhold_chain(&t->r->rare->client_chain);
	}
	dbuf_free(&t->d[0].hs);
	dbuf_free(&t->d[1].hs);
	tls_dec_free(t->dec);
	t->dec = NULL;
}

void tls_swap(struct tls_conn *t)
{
	struct tls_dir tmp = t->d[0];
	t->d[0] = t->d[1];
	t->d[1] = tmp;
	tls_dec_swap(t->dec);
}

int tls_dir_done(const struct tls_conn *t, int dir)
{
	/* a non-TLS answer is done once its first bytes are kept: in small
	 * segments they come over several deliveries */
	if (t->d[dir].mode == M_NONTLS)
		return t->r->nontls_dir != (uint8_t)dir || hs_rare(t->r)->nontls_len >= HS_NONTLS_BYTES;
	return t->d[dir].mode == M_DONE ||
	       (t->d[dir].mode == M_SCAN && t->d[dir].scanned >= t->lim->max_scan);
}

/* ---- small helpers ---------------------------------------------------- */

/* A record header (5 bytes at p) that could start a TLS record. */
static int plausible_header(const uint8_t *p, size_t n)
{
	struct cur c = cur_make(p, n);
	uint8_t type = cur_u8(&c), major = cur_u8(&c), minor = cur_u8(&c);
	uint16_t len = cur_u16(&c);
	return !c.err && type >= CT_CCS && type <= CT_HEARTBEAT && major == 3 && minor <= 4 &&
	       len <= TLS_MAX_RECORD;
}

/* SSLv2 record header (length with the top bit set) with an SSLv2
 * CLIENT-HELLO or SERVER-HELLO inside. */
static int sslv2_hello(const uint8_t *p, size_t n, uint8_t msg)
{
	struct cur c = cur_make(p, n);
	uint16_t len = cur_u16(&c);
	uint8_t type = cur_u8(&c);
	return !c.err && (len & 0x8000) && type == msg && (len & 0x7fff) >= 9;
}

int tls_handshake_record(const uint8_t *p, size_t n, uint8_t msg, uint16_t *len)
{
	struct cur c = cur_make(p, n);
	uint8_t type = cur_u8(&c), major = cur_u8(&c), minor = cur_u8(&c);
	uint16_t rl = cur_u16(&c);
	uint8_t first = cur_u8(&c);
	if (len)
		*len = rl;
	return !c.err && type == CT_HANDSHAKE && major == 3 && minor <= 4 && first == msg;
}

int tls_client_hello_dir(const uint8_t *p, size_t n)
{
	return tls_handshake_record(p, n, HT_CLIENT_HELLO, NULL) || sslv2_hello(p, n, SSLV2_CLIENT_HELLO);
}

/* Moves up to `want - *have` bytes from (*p, *n) to dst + *have: a header
 * gathered across deliveries. */
static void gather(uint8_t *dst, uint8_t *have, size_t want, const uint8_t **p, size_t *n)
{
	struct cur c = cur_make(*p, *n);
	size_t k = *have < want ? want - *have : 0;
	if (k > *n)
		k = *n;
	cur_copy(&c, dst + *have, k);
	*have = (uint8_t)(*have + k);
	*p = c.p;
	*n -= k;
}

static int64_t last_event_kind(const struct hs_record *r)
{
	return r->n_events ? hs_ev(r, r->n_events - 1u).kind : 255;
}

static void add_alert(struct tls_conn *t, int dir, int encrypted, uint8_t level, uint8_t desc,
		      uint64_t frame, int64_t ts, uint32_t len)
{
	struct hs_record *r = t->r;
	struct hs_alert *a;
	uint8_t after = (uint8_t)last_event_kind(r);
	if (r->total_alerts < UINT32_MAX)
		r->total_alerts++;
	if (!record_alerts(r))
		return;   /* out of memory: no alert kept, so no event naming one */
	if (r->n_alerts < HS_MAX_ALERTS) {
		a = &r->alerts[r->n_alerts++];
		a->frame = frame;
		a->ts_us = ts;
		a->dir = (uint8_t)dir;
		a->encrypted = (uint8_t)encrypted;
		a->level = level;
		a->description = desc;
		a->after_hs_type = t->d[1 - dir].last_hs_type;
		a->after_kind = after;
	}
	if (record_event(r, (uint8_t)dir, EV_ALERT, frame, ts, 0, len))
		record_event_aux(r, (uint8_t)(r->n_alerts - 1));
}

/* ---- ClientHello --------------------------------------------------------- */

static void u16_list(struct cur *c, uint16_t *dst, uint16_t *n, uint16_t *total, uint16_t cap,
		     struct hs_record *r)
{
	/* the whole list is inside the cursor: the values that fit are read in
	 * one bounded loop, the rest only counted */
	size_t count = cur_left(c) / 2, keep = *n < cap ? (size_t)(cap - *n) : 0, i;
	if (keep > count)
		keep = count;
	for (i = 0; i < keep; i++)
		dst[*n + i] = cur_u16(c);
	cur_skip(c, (count - keep) * 2);
	*n = (uint16_t)(*n + keep);
	if (count > keep && r)
		r->anomalies |= AN_LISTS_CLIPPED;
	if (total)
		*total = (uint16_t)(*total + count);
	if (cur_left(c))
		cur_fail(c, CUR_MALFORMED);   /* odd length */
}

/* A vector of 16-bit values behind a length of `lenbytes` (1 or 2) bytes;
 * a fault inside it is the extension's fault. */
static void u16_vec(struct cur *e, int lenbytes, uint16_t *dst, uint16_t *n, uint16_t *total, uint16_t cap)
{
	struct cur l = cur_sub(e, lenbytes == 1 ? cur_u8(e) : cur_u16(e));
	u16_list(&l, dst, n, total, cap, NULL);
	if (l.err)
		e->err = l.err;
}

/* A vector of bytes behind a 1-byte length; keeps up to HS_MAX_SMALL. */
static void u8_vec(struct cur *e, uint8_t *dst, uint8_t *n, uint16_t *total)
{
	uint8_t k = cur_u8(e), i;
	struct cur v;
	if (!cur_has(e, k))
		return;
	v = cur_sub(e, k);
	for (i = 0; i < k && *n < HS_MAX_SMALL; i++)
		dst[(*n)++] = cur_u8(&v);
	if (total)
		*total = (uint16_t)(*total + k);
}

static void parse_ch_ext(struct hs_client_hello *ch, uint16_t type, struct cur *e)
{
	struct cur l;
	uint16_t dummy = 0;
	switch (type) {
	case EXT_SERVER_NAME: {   /* RFC 6066 */
		l = cur_sub(e, cur_u16(e));
		ch->has_sni = 1;
		while (cur_left(&l) >= 3) {
			uint8_t nt = cur_u8(&l);
			uint16_t nl = cur_u16(&l);
			const uint8_t *name = cur_bytes(&l, nl);
			if (!name)
				break;
			if (nt == 0 && ch->sni_len == 0) {
				size_t k = nl < HS_SNI_BYTES ? nl : HS_SNI_BYTES;
				memcpy(hs_ch_sni(ch), name, k);
				ch->sni_len = (uint16_t)k;
			}
		}
		if (l.err)
			e->err = l.err;
		break;
	}
	case EXT_SUPPORTED_GROUPS:
		u16_vec(e, 2, hs_ch_groups(ch), &ch->n_groups, &ch->total_groups, HS_MAX_GROUPS);
		break;
	case EXT_EC_POINT_FORMATS:
		u8_vec(e, hs_ch_ecpf(ch), &ch->n_ecpf, &ch->total_ecpf);
		break;
	case EXT_SIGNATURE_ALGORITHMS:
		u16_vec(e, 2, hs_ch_sigalgs(ch), &ch->n_sigalgs, &ch->total_sigalgs, HS_MAX_SIGALGS);
		break;
	case EXT_SIGNATURE_ALGORITHMS_CERT:
		u16_vec(e, 2, hs_ch_sigalgs_cert(ch), &ch->n_sigalgs_cert, &dummy, HS_MAX_SIGALGS);
		break;
	case EXT_ALPN: {   /* RFC 7301 */
		l = cur_sub(e, cur_u16(e));
		while (cur_left(&l) >= 1) {
			uint8_t pl = cur_u8(&l);
			const uint8_t *proto = cur_bytes(&l, pl);
			if (!proto)
				break;
			if (ch->n_alpn < HS_MAX_ALPN && (size_t)ch->alpn_bytes + 1 + pl <= HS_ALPN_BYTES) {
				hs_ch_alpn_off(ch)[ch->n_alpn++] = ch->alpn_bytes;
				hs_ch_alpn(ch)[ch->alpn_bytes] = pl;
				memcpy(hs_ch_alpn(ch) + ch->alpn_bytes + 1, proto, pl);
				ch->alpn_bytes = (uint16_t)(ch->alpn_bytes + 1 + pl);
			}
		}
		if (l.err)
			e->err = l.err;
		break;
	}
	case EXT_SUPPORTED_VERSIONS:   /* the ClientHello form */
		ch->has_supported_versions = 1;
		u16_vec(e, 1, hs_ch_versions(ch), &ch->n_versions, &ch->total_versions, HS_MAX_VERSIONS);
		break;
	case EXT_KEY_SHARE:   /* the ClientHello form */
		l = cur_sub(e, cur_u16(e));
		ch->has_key_share = 1;
		while (cur_left(&l) >= 4) {
			uint16_t g = cur_u16(&l);
			uint16_t kl = cur_u16(&l);
			if (!cur_bytes(&l, kl))
				break;
			if (ch->n_key_share < HS_MAX_SMALL) {
				hs_ch_key_share(ch)[ch->n_key_share] = g;
				hs_ch_key_share_len(ch)[ch->n_key_share++] = kl;
			}
		}
		if (l.err)
			e->err = l.err;
		break;
	case EXT_PSK_KEY_EXCHANGE_MODES:
		u8_vec(e, hs_ch_psk_modes(ch), &ch->n_psk_modes, NULL);
		break;
	case EXT_PRE_SHARED_KEY:   /* identities<7..2^16-1> */
		l = cur_sub(e, cur_u16(e));
		ch->has_psk = 1;
		while (cur_left(&l) >= 2) {
			uint16_t il = cur_u16(&l);
			if (!cur_bytes(&l, il))
				break;
			cur_skip(&l, 4);
			if (!l.err)
				ch->psk_identities++;
		}
		if (l.err)
			e->err = l.err;
		break;
	case EXT_SESSION_TICKET:
		ch->has_session_ticket = 1;
		ch->session_ticket_len = (uint16_t)cur_left(e);
		break;
	case EXT_ENCRYPTED_CLIENT_HELLO:   /* draft-ietf-tls-esni */
		ch->has_ech = 1;
		ch->ech_type = cur_u8(e);
		if (ch->ech_type == 0 && !e->err) {
			ch->ech_kdf = cur_u16(e);
			ch->ech_aead = cur_u16(e);
			ch->ech_config_id = cur_u8(e);
			ch->ech_enc_len = cur_u16(e);
			cur_skip(e, ch->ech_enc_len);
			ch->ech_payload_len = cur_u16(e);
			cur_skip(e, ch->ech_payload_len);
		}
		break;
	case EXT_RENEGOTIATION_INFO: ch->has_renegotiation_info = 1; break;
	case EXT_EXTENDED_MASTER_SECRET: ch->has_extended_master_secret = 1; break;
	case EXT_ENCRYPT_THEN_MAC: ch->has_encrypt_then_mac = 1; break;
	case EXT_STATUS_REQUEST: ch->has_status_request = 1; break;
	case EXT_RECORD_SIZE_LIMIT: ch->record_size_limit = cur_u16(e); break;
	case EXT_EARLY_DATA: ch->has_early_data = 1; break;
	default: break;
	}
}

int tls_parse_client_hello(const uint8_t *body, size_t len, struct hs_client_hello *ch)
{
	struct cur c = cur_make(body, len), l;
	const uint8_t *b;
	uint8_t k, i;
	ch->msg_len = (uint32_t)len;
	ch->legacy_version = cur_u16(&c);
	b = cur_bytes(&c, 32);
	if (b)
		memcpy(ch->random, b, 32);
	k = cur_u8(&c);
	if (k > 32)
		cur_fail(&c, CUR_MALFORMED);
	b = cur_bytes(&c, k);
	if (b) {
		memcpy(ch->session_id, b, k);
		ch->session_id_len = k;
	}
	l = cur_sub(&c, cur_u16(&c));
	u16_list(&l, hs_ch_suites(ch), &ch->n_suites, &ch->total_suites, HS_MAX_SUITES, NULL);
	if (l.err)
		cur_fail(&c, l.err);
	k = cur_u8(&c);
	if (cur_has(&c, k)) {
		struct cur v = cur_sub(&c, k);
		for (i = 0; i < k; i++) {
			uint8_t m = cur_u8(&v);
			if (ch->n_comp < HS_MAX_SMALL)
				hs_ch_comp(ch)[ch->n_comp++] = m;
			ch->total_comp++;
		}
	}
	if (!c.err && cur_left(&c) >= 2) {
		struct cur x = cur_sub(&c, cur_u16(&c));
		ch->has_extensions = 1;
		while (cur_left(&x) >= 4) {
			uint16_t t = cur_u16(&x);
			uint16_t el = cur_u16(&x);
			struct cur e = cur_sub(&x, el);
			if (x.err) {
				/* extension longer than the block: keep its type, then stop */
				if (ch->n_exts < HS_MAX_EXTS) {
					hs_ch_ext_type(ch)[ch->n_exts] = t;
					hs_ch_ext_len(ch)[ch->n_exts++] = el;
				}
				ch->total_exts++;
				break;
			}
			if (ch->n_exts < HS_MAX_EXTS) {
				hs_ch_ext_type(ch)[ch->n_exts] = t;
				hs_ch_ext_len(ch)[ch->n_exts++] = el;
			}
			ch->total_exts++;
			parse_ch_ext(ch, t, &e);
			if (e.err)
				ch->malformed = 1;
		}
		if (cur_left(&x))
			ch->malformed = 1;   /* 1-3 stray bytes */
		if (x.err)
			cur_fail(&c, x.err);
	}
	if (c.err)
		ch->malformed = 1;
	return c.err;
}

/*
 * SSLv2-compatible ClientHello (RFC 5246 E.2), the whole record:
 *   len(2, msb set) msg_type(1)=1 version(2) cipher_spec_length(2)
 *   session_id_length(2) challenge_length(2) cipher_specs(3 each) session_id challenge
 * Cipher specs whose first byte is 0 are TLS suites; the others are SSLv2
 * kinds and are counted in total_suites only.
 */
int tls_parse_sslv2_client_hello(const uint8_t *rec, size_t len, struct hs_client_hello *ch)
{
	struct cur c = cur_make(rec, len);
	uint16_t csl, sidl, chl, i;
	const uint8_t *sid, *chal;
	struct cur cs = { NULL, NULL, CUR_TRUNCATED };
	cur_skip(&c, 2);
	if (cur_u8(&c) != SSLV2_CLIENT_HELLO)
		cur_fail(&c, CUR_MALFORMED);
	ch->sslv2 = 1;
	ch->record_version = VER_SSL2;
	ch->legacy_version = cur_u16(&c);
	csl = cur_u16(&c);
	sidl = cur_u16(&c);
	chl = cur_u16(&c);
	if (csl % 3 || sidl > 32 || chl < 16 || chl > 32)
		cur_fail(&c, CUR_MALFORMED);
	if (cur_has(&c, csl))
		cs = cur_sub(&c, csl);
	sid = cur_bytes(&c, sidl);
	chal = cur_bytes(&c, chl);
	for (i = 0; !cs.err && i + 2 < csl; i += 3) {
		uint8_t kind = cur_u8(&cs);
		uint16_t suite = cur_u16(&cs);
		ch->total_suites++;
		if (kind == 0 && ch->n_suites < HS_MAX_SUITES)
			hs_ch_suites(ch)[ch->n_suites++] = suite;
	}
	if (sid) {
		memcpy(ch->session_id, sid, sidl);
		ch->session_id_len = (uint8_t)sidl;
	}
	if (chal) {
		/* RFC 5246 E.2: the challenge is right-aligned into the 32-byte random */
		memset(ch->random, 0, 32);
		memcpy(ch->random + 32 - chl, chal, chl);
	}
	ch->msg_len = (uint32_t)(len > 2 ? len - 2 : 0);
	if (c.err)
		ch->malformed = 1;
	return c.err;
}

/* ---- ServerHello / HelloRetryRequest -------------------------------------- */

int tls_parse_server_hello(const uint8_t *body, size_t len, struct hs_server_hello *sh)
{
	struct cur c = cur_make(body, len);
	const uint8_t *b;
	uint8_t k;
	int draft;
	sh->legacy_version = cur_u16(&c);
	b = cur_bytes(&c, 32);
	if (b) {
		memcpy(sh->random, b, 32);
		sh->is_hrr = memcmp(b, hrr_random, 32) == 0;
	}
	/* TLS 1.3 drafts before -22 (version 0x7f00 | draft): no session id and
	 * no compression method in the ServerHello. */
	draft = (sh->legacy_version >> 8) == 0x7f && (sh->legacy_version & 0xff) < 22;
	k = draft ? 0 : cur_u8(&c);
	if (k > 32)
		cur_fail(&c, CUR_MALFORMED);
	b = cur_bytes(&c, k);
	if (b) {
		memcpy(sh->session_id, b, k);
		sh->session_id_len = k;
	}
	sh->cipher = cur_u16(&c);
	sh->compression = draft ? 0 : cur_u8(&c);
	sh->version = sh->legacy_version;
	if (!c.err && cur_left(&c) >= 2) {
		struct cur x = cur_sub(&c, cur_u16(&c));
		sh->has_extensions = 1;
		while (cur_left(&x) >= 4) {
			uint16_t t = cur_u16(&x);
			uint16_t el = cur_u16(&x);
			struct cur e = cur_sub(&x, el);
			if (sh->n_exts < HS_MAX_EXTS) {
				sh->ext_type[sh->n_exts] = t;
				sh->ext_len[sh->n_exts++] = el;
			}
			sh->total_exts++;
			if (x.err)
				break;
			switch (t) {
			case EXT_SUPPORTED_VERSIONS:
				sh->has_supported_version = 1;
				sh->supported_version = cur_u16(&e);
				break;
			case EXT_KEY_SHARE:
				sh->has_key_share = 1;
				sh->key_share_group = cur_u16(&e);
				break;
			case EXT_ALPN: {
				struct cur l = cur_sub(&e, cur_u16(&e));
				uint8_t pl = cur_u8(&l);
				const uint8_t *p = cur_bytes(&l, pl);
				if (p) {
					memcpy(sh->alpn, p, pl);
					sh->alpn_len = pl;
				}
				break;
			}
			case EXT_RENEGOTIATION_INFO: sh->has_renegotiation_info = 1; break;
			case EXT_EXTENDED_MASTER_SECRET: sh->has_extended_master_secret = 1; break;
			case EXT_ENCRYPT_THEN_MAC: sh->has_encrypt_then_mac = 1; break;
			case EXT_SESSION_TICKET: sh->has_session_ticket = 1; break;
			default: break;
			}
			if (e.err)
				sh->malformed = 1;
		}
		if (x.err)
			cur_fail(&c, x.err);
	}
	if (sh->has_supported_version && !c.err)
		sh->version = sh->supported_version;
	if (c.err)
		sh->malformed = 1;
	return c.err;
}

/* ---- Certificate and friends ---------------------------------------------- */

/* Whether certificate i is signed by the next one's key. */
static void check_link(struct tls_conn *t, struct hs_chain *ch, uint16_t i, const uint8_t *const *der,
		       const uint32_t *derlen, int64_t ts)
{
	enum x509_skip why = X509_SKIP_NONE;
	if (i + 1 >= ch->n)
		return;
	ch->c[i].issued_by_next = (uint8_t)x509_verify_link(&t->vb, ts, ch->c[i].x, der[i], derlen[i],
							    ch->c[i + 1].x, der[i + 1], derlen[i + 1], &why);
	if (why) {
		ch->c[i].verify_skipped = (uint8_t)why;
		t->r->anomalies |= AN_CERT_UNVERIFIED;
	}
}

/* Whether certificate i is self-signed (self-issued, and its own key verifies it). */
static void check_self(struct tls_conn *t, struct hs_chain *ch, uint16_t i, const uint8_t *const *der,
		       const uint32_t *derlen, int64_t ts)
{
	enum x509_skip why = X509_SKIP_NONE;
	if (!ch->c[i].x || !ch->c[i].x->self_issued || ch->c[i].x->malformed)
		return;
	ch->c[i].self_signed = x509_verify_link(&t->vb, ts, ch->c[i].x, der[i], derlen[i], ch->c[i].x, der[i],
						derlen[i], &why) == 1;
	if (why) {
		if (!ch->c[i].verify_skipped)
			ch->c[i].verify_skipped = (uint8_t)why;
		t->r->anomalies |= AN_CERT_UNVERIFIED;
	}
}

/* Direction dir's TLS broke its framing: the anomaly, and who sent it. */
static void malformed(struct hs_record *r, int dir)
{
	r->anomalies |= AN_TLS_MALFORMED;
	r->d[dir].tls_malformed = 1;
}

static void parse_certificate(struct tls_conn *t, int dir, const uint8_t *body, size_t len,
			      uint64_t frame, int64_t ts)
{
	struct hs_record *r = t->r;
	struct hs_rare *x = dir == DIR_S2C ? NULL : record_rare(r);
	struct hs_chain *ch = dir == DIR_S2C ? &r->server_chain : x ? &x->client_chain : NULL;
	struct cur c = cur_make(body, len), l;
	const uint8_t *der[HS_MAX_CERTS];
	uint32_t derlen[HS_MAX_CERTS];
	uint16_t i;
	if (!ch || ch->present)   /* out of memory; renegotiation or a second message: keep the first */
		return;
	ch->present = 1;
	record_rat(r, dir == DIR_S2C ? HS_RAT_SERVER_CERTS : HS_RAT_CLIENT_CERTS, frame, ts);
	if (t->tls13)   /* decrypted (--keylog): certificate_request_context first */
		cur_skip(&c, cur_u8(&c));
	l = cur_sub(&c, cur_u24(&c));
	if (c.err || cur_left(&c))
		ch->malformed = 1;
	{
		/* count them first: the chain's array is sized to the message */
		struct cur k = l;
		uint32_t want = 0;
		while (cur_left(&k) >= 3 && want < HS_MAX_CERTS) {
			if (!cur_bytes(&k, cur_u24(&k)))
				break;
			if (t->tls13)
				cur_skip(&k, cur_u16(&k));
			want++;
		}
		if (want)
			record_chain_certs(ch, want);
	}
	while (cur_left(&l) >= 3) {
		uint32_t n = cur_u24(&l);
		const uint8_t *d = cur_bytes(&l, n);
		if (!d)
			break;
		if (t->tls13)   /* each CertificateEntry ends in its extensions */
			cur_skip(&l, cur_u16(&l));
		if (ch->total < UINT32_MAX)
			ch->total++;
		if (ch->n >= HS_MAX_CERTS || ch->n >= ch->cap || !record_chain_certs(ch, HS_MAX_CERTS)) {
			r->anomalies |= AN_LISTS_CLIPPED;
			continue;
		}
		der[ch->n] = d;
		derlen[ch->n] = n;
		struct hs_cert *hc = &ch->c[ch->n++];
		hc->der_len = n;
		hc->x = x509_get(t->lim->certs, d, n);
		hc->issued_by_next = 2;
		if (hc->x) {
			memcpy(hc->sha256, hc->x->sha256, 32);
			if (hc->x->malformed) {
				r->anomalies |= AN_CERT_MALFORMED;
			} else {
				int v = x509_valid_at(hc->x, ts >= 0 ? ts / 1000000 : (ts - 999999) / 1000000);
				hc->expired = v > 0;
				hc->not_yet_valid = v < 0;
			}
		}
	}
	if (l.err || cur_left(&l))
		ch->malformed = 1;
	/* Signature checks, within the connection's and the run's budgets
	 * (dissect/x509.h): what the rules read first (the leaf's link, whether
	 * the leaf is self-signed), then what only the report shows. */
	if (ch->n) {
		check_link(t, ch, 0, (const uint8_t *const *)der, derlen, ts);
		check_self(t, ch, 0, (const uint8_t *const *)der, derlen, ts);
	}
	for (i = 1; i < ch->n; i++)
		check_link(t, ch, i, (const uint8_t *const *)der, derlen, ts);
	for (i = 1; i < ch->n; i++)
		check_self(t, ch, i, (const uint8_t *const *)der, derlen, ts);
	/* Memory held by open connections (dissect/x509.h, x509_hold): past
	 * the run's budget, keep the server's leaf (the rules read it) and
	 * what was judged above; give back the rest, which only the report
	 * would have shown. */
	for (i = 0; i < ch->n; i++) {
		if (!ch->c[i].x)
			continue;
		if (x509_hold(ch->c[i].x, dir == DIR_S2C && i == 0)) {
			ch->c[i].held = 1;
			continue;
		}
		ch->c[i].facts_not_kept = !ch->c[i].x->malformed;
		x509_put(ch->c[i].x);
		ch->c[i].x = NULL;
		r->anomalies |= AN_LISTS_CLIPPED;
	}
	if (ch->malformed)
		malformed(r, dir);
}

static void parse_cert_request(struct hs_record *r, int dir, const uint8_t *body, size_t len, uint16_t version)
{
	struct cur c = cur_make(body, len), l;
	uint8_t k;
	if (version >= VER_TLS13)
		return;   /* encrypted in TLS 1.3; never seen in plaintext */
	k = cur_u8(&c);
	cur_skip(&c, k);
	if (version == VER_TLS12) {
		l = cur_sub(&c, cur_u16(&c));
		(void)l;
	}
	l = cur_sub(&c, cur_u16(&c));
	while (cur_left(&l) >= 2) {
		uint16_t n = cur_u16(&l);
		if (!cur_bytes(&l, n))
			break;
		if (record_rare(r))
			r->rare->n_ca_names++;
	}
	if (c.err || l.err)
		malformed(r, dir);
}

static void parse_ske(struct hs_record *r, int dir, const uint8_t *body, size_t len)
{
	struct cur c = cur_make(body, len);
	const struct suite_info *si = r->sh ? names_suite(r->sh->cipher) : NULL;
	uint16_t ver = r->sh ? r->sh->version : 0;
	int kx = si ? si->kx : -1;
	r->ske = 1;
	if (kx == KX_ECDHE || kx == KX_ECDHE_PSK || (kx < 0 && len > 0 && cur_peek_u8(&c, 0) == EC_CURVE_NAMED)) {
		r->ske_curve_type = cur_u8(&c);
		if (r->ske_curve_type == EC_CURVE_NAMED) {
			r->ske_group = cur_u16(&c);
			cur_skip(&c, cur_u8(&c));
		}
	} else if (kx == KX_DHE || kx == KX_DHE_PSK) {
		uint16_t pl = cur_u16(&c);
		if (cur_has(&c, pl)) {
			/* the prime's size in bits: leading zero bytes and bits off */
			struct cur p = cur_sub(&c, pl);
			uint32_t bits = (uint32_t)pl * 8;
			uint8_t top = 0;
			while (cur_left(&p) && (top = cur_u8(&p)) == 0)
				bits -= 8;
			if (top) {
				while (!(top & 0x80)) {
					bits--;
					top = (uint8_t)(top << 1);
				}
			}
			r->ske_dh_bits = (uint16_t)(bits > 65535 ? 65535 : bits);
		}
		cur_skip(&c, cur_u16(&c));   /* g */
		cur_skip(&c, cur_u16(&c));   /* Ys */
	} else {
		return;   /* RSA export, PSK, SRP: not decoded */
	}
	if (ver == VER_TLS12 && cur_left(&c) >= 4)
		r->ske_sigalg = cur_u16(&c);
	if (c.err)
		malformed(r, dir);
}

/* ---- handshake message dispatch ------------------------------------------ */

/* Files a parsed ClientHello (TLS or SSLv2 format) in the record; takes
 * ownership of `ch`. */
static void store_client_hello(struct tls_conn *t, struct hs_client_hello *ch, uint64_t frame, int64_t ts)
{
	struct hs_record *r = t->r;
	ch = record_keep_client_hello(ch);
	ch->frame = frame;
	ch->ts_us = ts;
	if (ch->malformed)
		malformed(r, DIR_C2S);
	r->client_hellos++;
	if (!t->client_hello_seen)
		ch->segments = t->ch_segments;
	t->client_hello_seen = 1;
	if (!r->ch)
		r->ch = ch;
	else if (!ch->sslv2 && !hs_rare(r)->ch2 && (hs_rare(r)->hrr || !r->sh) && record_rare(r))
		r->rare->ch2 = ch;   /* after a HelloRetryRequest (captured or not) */
	else
		record_free_client_hello(ch);   /* renegotiation: the first hello is the one that matters */
}

static void on_client_hello(struct tls_conn *t, int dir, const uint8_t *body, size_t len,
			    uint64_t frame, int64_t ts)
{
	struct hs_client_hello *ch = record_new_client_hello();
	if (!ch)
		return;
	tls_parse_client_hello(body, len, ch);
	ch->record_version = t->d[dir].rec_version;
	store_client_hello(t, ch, frame, ts);
}

static void on_server_hello(struct tls_conn *t, int dir, const uint8_t *body, size_t len,
			    uint64_t frame, int64_t ts)
{
	struct hs_record *r = t->r;
	struct hs_server_hello *sh = record_new_server_hello();
	if (!sh)
		return;
	tls_parse_server_hello(body, len, sh);
	sh = record_keep_server_hello(sh);
	sh->frame = frame;
	sh->ts_us = ts;
	sh->record_version = t->d[dir].rec_version;
	if (sh->malformed)
		malformed(r, dir);
	if (sh->is_hrr && !hs_rare(r)->hrr && !r->sh) {
		if (record_rare(r))
			r->rare->hrr = sh;
		else
			record_free_server_hello(sh);   /* out of memory: not kept, nor taken for the ServerHello */
		return;
	}
	if (r->sh) {
		record_free_server_hello(sh);
		return;
	}
	r->sh = sh;
	if (sh->version == VER_TLS13 && !sh->malformed) {
		t->tls13 = 1;
		t->d[dir].encrypted = 1;   /* everything after it is protected */
	}
	if (t->lim->keylog && !t->dec)
		t->dec = tls_dec_new(t->lim->keylog, r);
	/* TLS <= 1.2 resumption: the server echoes a non-empty session id it was offered */
	if (sh->version < VER_TLS13 && r->ch && sh->session_id_len && sh->session_id_len == r->ch->session_id_len &&
	    memcmp(sh->session_id, r->ch->session_id, sh->session_id_len) == 0) {
		r->abbreviated = 1;
	}
}

static void on_message(struct tls_conn *t, int dir, uint8_t type, const uint8_t *body, size_t len,
		       uint64_t frame, int64_t ts)
{
	struct hs_record *r = t->r;
	record_event(r, (uint8_t)dir, EV_HANDSHAKE, frame, ts, type, (uint32_t)len);
	t->d[dir].last_hs_type = type;
	if (t->dec_msg)
		tls_dec_message(t->dec, r, dir, type, body, len);
	switch (type) {
	case HT_CLIENT_HELLO:
		if (dir == DIR_C2S)
			on_client_hello(t, dir, body, len, frame, ts);
		break;
	case HT_SERVER_HELLO:
		if (dir == DIR_S2C)
			on_server_hello(t, dir, body, len, frame, ts);
		break;
	case HT_CERTIFICATE:
		if (!t->tls13 || t->dec_msg)
			parse_certificate(t, dir, body, len, frame, ts);
		break;
	case HT_CERTIFICATE_REQUEST:
		if (!r->cert_request) {
			r->cert_request = 1;
			record_rat(r, HS_RAT_CERT_REQUEST, frame, ts);
			parse_cert_request(r, dir, body, len, r->sh ? r->sh->version : VER_TLS12);
		}
		break;
	case HT_SERVER_KEY_EXCHANGE:
		if (!r->ske)
			parse_ske(r, dir, body, len);
		break;
	case HT_SERVER_HELLO_DONE:
		r->server_hello_done = 1;
		break;
	case HT_NEW_SESSION_TICKET:
		r->new_session_ticket = 1;
		break;
	case HT_CLIENT_KEY_EXCHANGE:
		r->client_key_exchange = 1;
		break;
	default:
		break;
	}
}

/* The type and length of the pending message: its 4-byte header from the
 * buffered bytes first, then from (p, n). 0 while fewer than 4 are there. */
static int pending_header(const struct tls_dir *d, const uint8_t *p, size_t n, uint8_t *type, uint32_t *len)
{
	uint8_t h[4];
	size_t have = d->hs.len - d->hs_off, k = have < 4 ? have : 4;
	struct cur b = cur_make(p, n), c;
	if (k) {
		struct cur a = cur_make(d->hs.p + d->hs_off, have);
		cur_copy(&a, h, k);
	}
	if (!cur_copy(&b, h + k, 4 - k))
		return 0;
	c = cur_make(h, 4);
	*type = cur_u8(&c);
	*len = cur_u24(&c);
	return 1;
}

/* Appends handshake-record bytes and cuts complete messages out. */
static void hs_bytes(struct tls_conn *t, int dir, const uint8_t *p, size_t n, uint64_t frame, int64_t ts)
{
	struct tls_dir *d = &t->d[dir];
	struct hs_record *r = t->r;
	while (n) {
		if (d->hs_broken)
			return;
		if (d->skip_msg) {
			size_t k = n < d->skip_msg ? n : d->skip_msg;
			d->skip_msg -= (uint32_t)k;
			p += k;
			n -= k;
			continue;
		}
		/* fast path: whole messages in this fragment and nothing buffered */
		if (d->hs.len == d->hs_off) {
			struct cur m = cur_make(p, n);
			uint8_t type = cur_u8(&m);
			uint32_t ml = cur_u24(&m);
			if (cur_has(&m, ml)) {
				on_message(t, dir, type, m.p, ml, frame, ts);
				p += 4 + ml;
				n -= 4 + ml;
				continue;
			}
		}
		/* buffer: grow to what the pending message needs, within the cap */
		size_t have = d->hs.len - d->hs_off;
		size_t need = 4;
		uint8_t type = 0;
		uint32_t ml;
		if (pending_header(d, p, n, &type, &ml))
			need = 4 + (size_t)ml;
		if (need > (size_t)t->lim->max_handshake + 4) {
			/* over the cap: note it and skip the whole message */
			r->anomalies |= AN_HS_TOO_LONG;
			record_event(r, (uint8_t)dir, EV_HANDSHAKE, frame, ts, type, (uint32_t)(need - 4));
			d->last_hs_type = type;
			d->skip_msg = (uint32_t)(need - have);
			dbuf_free(&d->hs);
			d->hs_off = 0;
			continue;
		}
		size_t want = need > have ? need - have : 0;
		size_t take = n < want ? n : want;
		if (take == 0)
			take = n < 4 ? n : 4;
		/* room for the bytes taken, exactly (dbuf_fit()): an open
		 * connection waiting for the rest of a certificate holds what came,
		 * not a doubling's slack nor room for what has not (issue 19) */
		if (d->hs.cap - d->hs.len < take) {
			if (d->hs_off) {
				memmove(d->hs.p, d->hs.p + d->hs_off, d->hs.len - d->hs_off);
				d->hs.len -= d->hs_off;
				d->hs_off = 0;
			}
			if (dbuf_fit(&d->hs, (size_t)d->hs.len + take)) {
				d->hs_broken = 1;
				r->anomalies |= AN_CAP_BYTES;
				return;
			}
		}
		if (dbuf_add(&d->hs, p, take)) {
			d->hs_broken = 1;
			r->anomalies |= AN_CAP_BYTES;
			return;
		}
		p += take;
		n -= take;
		have = d->hs.len - d->hs_off;
		if (have >= 4) {
			struct cur m = cur_make(d->hs.p + d->hs_off, have);
			type = cur_u8(&m);
			ml = cur_u24(&m);
			if (cur_has(&m, ml)) {
				on_message(t, dir, type, m.p, ml, frame, ts);
				d->hs_off += (uint32_t)(4 + ml);
				if (d->hs_off == d->hs.len) {
					/* nothing pending: give the storage back (an open
					 * connection keeps no emptied buffer; issue 19) */
					dbuf_free(&d->hs);
					d->hs_off = 0;
				}
			}
		}
	}
}

/* ---- record layer ------------------------------------------------------ */

/* The handshake is over for this direction: stop reading it, unless a
 * key log still has something to show in it (decrypt.h). */
static void dir_done(struct tls_conn *t, int dir)
{
	if (!tls_dec_want(t->dec, dir))
		t->d[dir].mode = M_DONE;
}

static void set_complete(struct hs_record *r, uint64_t frame, int64_t ts)
{
	r->complete = 1;
	record_rat(r, HS_RAT_COMPLETE, frame, ts);
}

static void note_complete(struct tls_conn *t, uint64_t frame, int64_t ts)
{
	struct hs_record *r = t->r;
	if (r->complete || t->tls13)
		return;
	if (t->d[0].finished && t->d[1].finished)
		set_complete(r, frame, ts);
}

/*
 * TLS 1.3 before completion: every protected record is type 23. An alert
 * is 2 bytes + 1 content-type byte + the AEAD tag (16, or 8 for CCM_8):
 * 19 or 11 bytes; a Finished is at least 32 + 4 + 1 + 16 = 53. So:
 *  - client, before its Finished: an alert-sized record is an alert (the
 *    client rejected the server), anything else is its Finished flight;
 *  - server, before the client's Finished: its encrypted flight;
 *  - server, first record after the client's Finished: alert-sized means
 *    the server rejected the client (certificate_required and the like)
 *    unless the client had already sent an alert-sized record (its
 *    close_notify, which this answers); anything else completes it.
 */
static int alert_sized(uint32_t len)
{
	return len == 19 || len == 11;
}

/* An alert known only by the size of a protected record. */
static void add_inferred_alert(struct tls_conn *t, int dir, uint64_t frame, int64_t ts, uint32_t len)
{
	struct hs_record *r = t->r;
	uint16_t n = r->n_alerts;
	add_alert(t, dir, 1, 0, 0, frame, ts, len);
	if (r->n_alerts > n)
		r->alerts[n].inferred = 1;
}

static void tls13_protected(struct tls_conn *t, int dir, uint64_t frame, int64_t ts)
{
	struct tls_dir *d = &t->d[dir];
	struct hs_record *r = t->r;
	struct tls_dir *c = &t->d[DIR_C2S];
	if (dir == DIR_C2S) {
		if (!d->finished) {
			if (alert_sized(d->rec_len)) {
				add_inferred_alert(t, dir, frame, ts, d->rec_len);
				return;
			}
			record_event(r, (uint8_t)dir, EV_ENC_HANDSHAKE, frame, ts, 0, d->rec_len);
			r->d[dir].encrypted_hs++;
			d->finished = 1;
			return;
		}
		if (alert_sized(d->rec_len) && t->d[DIR_S2C].recs_after_peer_fin == 0) {
			add_inferred_alert(t, dir, frame, ts, d->rec_len);
			d->recs_after_peer_fin = 1;   /* marks "client closed first" */
			return;
		}
	} else if (c->finished) {
		if (d->recs_after_peer_fin++ == 0 && alert_sized(d->rec_len) && !c->recs_after_peer_fin) {
			add_inferred_alert(t, dir, frame, ts, d->rec_len);
			d->rejected = 1;
			return;
		}
		if (!d->rejected) {
			/* the server's side is done at this record's end
			 * (record_end()): its body is part of what completed it */
			set_complete(r, frame, ts);
			dir_done(t, DIR_C2S);
		}
	} else {
		if (alert_sized(d->rec_len) && r->d[dir].encrypted_hs) {
			add_inferred_alert(t, dir, frame, ts, d->rec_len);
			return;
		}
		record_event(r, (uint8_t)dir, EV_ENC_HANDSHAKE, frame, ts, 0, d->rec_len);
		r->d[dir].encrypted_hs++;
		return;
	}
	if (!r->d[dir].appdata_records) {
		record_event(r, (uint8_t)dir, EV_APPDATA, frame, ts, 0, d->rec_len);
	}
	r->d[dir].appdata_records++;
}

/* Called when a record's header has been read (body follows). */
static void record_start(struct tls_conn *t, int dir, uint64_t frame, int64_t ts)
{
	struct tls_dir *d = &t->d[dir];
	struct hs_record *r = t->r;
	struct hs_dir *s = &r->d[dir];
	uint16_t alerts_before = r->n_alerts;
	struct cur h = cur_make(d->hdr, sizeof(d->hdr));
	d->ctype = cur_u8(&h);
	d->rec_version = cur_u16(&h);
	d->rec_len = cur_u16(&h);
	d->body_left = d->rec_len;
	d->small_len = 0;
	s->records++;
	s->tls = 1;
	r->is_tls = 1;
	if (d->rec_len > TLS_MAX_RECORD || (d->rec_len == 0 && d->ctype != CT_APPDATA))
		malformed(r, dir);

	switch (d->ctype) {
	case CT_APPDATA:
		if (t->tls13 && !r->complete) {
			tls13_protected(t, dir, frame, ts);
			break;
		}
		if (!r->d[dir].appdata_records) {
			record_event(r, (uint8_t)dir, EV_APPDATA, frame, ts, 0, d->rec_len);
		}
		r->d[dir].appdata_records++;
		break;
	case CT_HANDSHAKE:
		if (d->encrypted) {
			record_event(r, (uint8_t)dir, EV_ENC_HANDSHAKE, frame, ts, 0, d->rec_len);
			r->d[dir].encrypted_hs++;
			if (!t->tls13) {
				d->finished = 1;
				note_complete(t, frame, ts);
			}
		}
		break;
	case CT_HEARTBEAT:
		record_event(r, (uint8_t)dir, EV_HEARTBEAT, frame, ts, 0, d->rec_len);
		break;
	default:
		break;
	}
	if (t->dec && (t->tls13 ? d->ctype == CT_APPDATA
				: d->encrypted && d->ctype >= CT_ALERT && d->ctype <= CT_APPDATA))
		tls_dec_begin(t->dec, dir, d->ctype, d->rec_version, d->rec_len, alerts_before);
}

/*
 * A client's ChangeCipherSpec before any ServerHello is TLS 1.3's
 * middlebox-compatibility CCS after a HelloRetryRequest we did not see
 * (RFC 8446 D.4): in TLS <= 1.2 the client's CCS follows the ServerHello.
 * Only trusted when nothing of the server's stream was lost.
 */
static int compat_ccs(const struct tls_conn *t, int dir)
{
	const struct hs_record *r = t->r;
	return dir == DIR_C2S && !r->sh && !hs_rare(r)->d[DIR_S2C].gaps && t->client_hello_seen;
}

/* The first bytes of a client handshake record after such a CCS: a
 * plaintext ClientHello filling the record, or else (a ServerHello lost
 * from the capture) the encrypted Finished of TLS <= 1.2. */
static int compat_not_client_hello(const struct tls_dir *d, const uint8_t *p, size_t n)
{
	struct cur c = cur_make(p, n);
	uint32_t ml;
	if (cur_u8(&c) != HT_CLIENT_HELLO)
		return 1;
	ml = cur_u24(&c);
	return !c.err && ml + 4 != d->rec_len;
}

static int sent_ccs(const struct hs_record *r, int dir)
{
	uint16_t i;
	for (i = 0; i < r->n_events; i++)
		if (hs_ev(r, i).kind == EV_CCS && hs_ev(r, i).dir == dir)
			return 1;
	return 0;
}

/* Body bytes of the current record. */
static void record_body(struct tls_conn *t, int dir, const uint8_t *p, size_t n, uint64_t frame, int64_t ts)
{
	struct tls_dir *d = &t->d[dir];
	if (tls_dec_active(t->dec, dir))
		tls_dec_body(t->dec, dir, p, n);
	switch (d->ctype) {
	case CT_HANDSHAKE:
		if (!d->encrypted && n && d->body_left == d->rec_len && compat_ccs(t, dir) &&
		    sent_ccs(t->r, dir) && compat_not_client_hello(d, p, n)) {
			d->encrypted = 1;
			record_event(t->r, (uint8_t)dir, EV_ENC_HANDSHAKE, frame, ts, 0, d->rec_len);
			t->r->d[dir].encrypted_hs++;
			d->finished = 1;
		}
		if (!d->encrypted)
			hs_bytes(t, dir, p, n, frame, ts);
		break;
	case CT_ALERT:
	case CT_CCS:
		gather(d->small, &d->small_len, sizeof(d->small), &p, &n);
		break;
	default:
		break;
	}
}

/* An alert read by decrypting its record: it replaces the alert inferred
 * from the same record's size, if there is one. */
static void decrypted_alert(struct tls_conn *t, int dir, uint16_t slot, uint8_t level, uint8_t desc,
			    uint64_t frame, int64_t ts)
{
	struct hs_record *r = t->r;
	uint16_t n = r->n_alerts;
	if (slot < n && r->alerts[slot].dir == (uint8_t)dir && r->alerts[slot].inferred) {
		struct hs_alert *a = &r->alerts[slot];
		a->encrypted = a->inferred = 0;
		a->level = level;
		a->description = desc;
		a->decrypted = 1;
		return;
	}
	add_alert(t, dir, 0, level, desc, frame, ts, 2);
	if (r->n_alerts > n)
		r->alerts[n].decrypted = 1;
}

/* Decrypts the record that just ended (key log); 1 when it did. The
 * plaintext goes where a plaintext record's bytes would. */
static int decrypt_record(struct tls_conn *t, int dir, uint64_t frame, int64_t ts)
{
	size_t len = 0;
	uint8_t inner = 0;
	uint16_t slot = 0;
	const uint8_t *p = tls_dec_end(t->dec, t->r, dir, frame, &len, &inner, &slot);
	if (!p)
		return 0;
	if (inner == CT_HANDSHAKE) {
		t->dec_msg = 1;
		hs_bytes(t, dir, p, len, frame, ts);
		t->dec_msg = 0;
	} else if (inner == CT_ALERT) {
		struct cur a = cur_make(p, len);
		uint8_t level = cur_u8(&a), desc = cur_u8(&a);
		if (!a.err)
			decrypted_alert(t, dir, slot, level, desc, frame, ts);
	}
	return 1;
}

/* The current record's body is complete. */
static void record_end(struct tls_conn *t, int dir, uint64_t frame, int64_t ts)
{
	struct tls_dir *d = &t->d[dir];
	struct hs_record *r = t->r;
	int decrypted = tls_dec_active(t->dec, dir) && decrypt_record(t, dir, frame, ts);
	switch (d->ctype) {
	case CT_CCS:
		record_event(r, (uint8_t)dir, EV_CCS, frame, ts, 0, d->rec_len);
		/* In TLS <= 1.2 what follows is protected. In TLS 1.3 (a ServerHello
		 * choosing it, or a HelloRetryRequest) CCS is only for middleboxes. */
		if (!t->tls13 && !hs_rare(r)->hrr && !compat_ccs(t, dir))
			d->encrypted = 1;
		break;
	case CT_ALERT:
		if (decrypted)
			break;
		if (d->rec_len == 2 && !(d->encrypted && !t->tls13)) {
			struct cur a = cur_make(d->small, d->small_len);
			uint8_t level = cur_u8(&a), desc = cur_u8(&a);
			add_alert(t, dir, 0, level, desc, frame, ts, 2);
		} else
			add_alert(t, dir, 1, 0, 0, frame, ts, d->rec_len);
		break;
	default:
		break;
	}
	/* Once both sides finished (<= 1.2), or the handshake is complete
	 * (1.3: this record completed it), nothing more is needed. */
	if (r->complete && (d->finished || t->tls13))
		dir_done(t, dir);
}

uint32_t tls_record_left(const struct tls_conn *t, int dir)
{
	return t->d[dir].mode == M_TLS ? t->d[dir].body_left : 0;
}

/* Keeps the first plaintext bytes of a direction (record.h `pre`). */
static void keep_pre(struct hs_record *r, int dir, const uint8_t *p, size_t n, uint64_t frame, int64_t ts)
{
	size_t room = HS_NONTLS_BYTES - hs_rare(r)->d[dir].pre_len;
	struct hs_rare_dir *x;
	if (!n || !room || !record_pre(r, dir))
		return;
	x = &r->rare->d[dir];   /* record_pre() made it */
	if (!x->pre_len)
		record_pre_at(r, dir, frame, ts);
	if (n > room)
		n = room;
	memcpy(x->pre + x->pre_len, p, n);
	x->pre_len = (uint16_t)(x->pre_len + n);
}

/* TLS began `n` bytes into direction dir's stream. */
static void set_plaintext_before(struct hs_record *r, int dir, uint32_t n)
{
	if ((n || r->rare) && record_rare(r))
		r->rare->d[dir].plaintext_before_tls = n;
}

/* TLS began `tls_at` bytes into the stream: the kept plaintext ends there. */
static void end_pre(struct hs_record *r, int dir, uint32_t tls_at)
{
	if (hs_rare(r)->d[dir].pre_len > tls_at)
		r->rare->d[dir].pre_len = (uint16_t)tls_at;
}

static void set_nontls(struct tls_conn *t, int dir, const uint8_t *p, size_t n, uint64_t frame, int64_t ts)
{
	struct hs_record *r = t->r;
	struct tls_dir *d = &t->d[dir];
	d->mode = M_NONTLS;
	r->d[dir].non_tls = 1;
	if (r->nontls_dir == 255) {
		size_t k = n < HS_NONTLS_BYTES ? n : HS_NONTLS_BYTES;
		r->nontls_dir = (uint8_t)dir;
		record_rat(r, HS_RAT_NONTLS, frame, ts);
		uint8_t *b = record_nontls(r);
		if (b) {   /* else out of memory: the answer is not quoted */
			memcpy(b, p, k);
			r->rare->nontls_len = (uint16_t)k;
		}
		record_event(r, (uint8_t)dir, EV_NON_TLS, frame, ts, 0, (uint32_t)n);
	}
	if (!hs_rare(r)->d[dir].pre_len)
		keep_pre(r, dir, p, n, frame, ts);
}

/*
 * Looks for the start of a handshake record carrying message `msg` in
 * plaintext. Returns its offset or -1. The last bytes that could begin a
 * header split across deliveries are kept in d->carry by the caller.
 */
static long scan_for(const uint8_t *p, size_t n, uint8_t msg)
{
	size_t i = 0;
	uint16_t len;
	/* only a content-type byte can begin a header: memchr finds the
	 * candidates (a plaintext stream has few), the record test judges them */
	while (i + 6 <= n) {
		const uint8_t *h = memchr(p + i, CT_HANDSHAKE, n - 5 - i);
		if (!h)
			break;
		i = (size_t)(h - p);
		if (tls_handshake_record(p + i, n - i, msg, &len) && len >= 4 && len <= TLS_MAX_RECORD)
			return (long)i;
		i++;
	}
	return -1;
}

static void feed_tls(struct tls_conn *t, int dir, const uint8_t *p, size_t n, uint64_t frame, int64_t ts);

/* The mode is decided: the carried bytes, then p, go to it. */
static void replay_carry(struct tls_conn *t, int dir, uint8_t mode, const uint8_t *p, size_t n,
			 uint64_t frame, int64_t ts)
{
	struct tls_dir *d = &t->d[dir];
	uint8_t c[6];
	size_t cl = d->carry_len;
	memcpy(c, d->carry, cl);
	d->carry_len = 0;
	d->mode = mode;
	if (cl)
		feed_tls(t, dir, c, cl, frame, ts);
	feed_tls(t, dir, p, n, frame, ts);
}

/* An SSLv2 SERVER-HELLO: noted, not decoded further. The server chose
 * SSL 2.0: len(2) type(1)=4 session_id_hit(1) certificate_type(1)
 * version(2) ...; `have` bytes of it were carried (at most 5). */
static void sslv2_server_hello(struct tls_conn *t, int dir, const uint8_t *p, size_t n, size_t have,
			       uint64_t frame, int64_t ts)
{
	struct hs_record *r = t->r;
	struct hs_server_hello *sh;
	struct cur v = cur_make(p, n);
	r->d[dir].tls = 1;
	r->is_tls = 1;
	record_event(r, (uint8_t)dir, EV_SSLV2, frame, ts, SSLV2_SERVER_HELLO, (uint32_t)n);
	t->d[dir].mode = M_DONE;
	if (r->sh || (r->sh = record_new_server_hello()) == NULL)
		return;
	sh = r->sh;
	sh->sslv2 = 1;
	sh->frame = frame;
	sh->ts_us = ts;
	sh->record_version = VER_SSL2;
	sh->version = VER_SSL2;
	cur_skip(&v, 5 - have);
	sh->legacy_version = cur_u16(&v);
	if (v.err)
		sh->legacy_version = VER_SSL2;
	r->sh = record_keep_server_hello(sh);
}

/* A server's first bytes after a ClientHello that are not TLS: its answer
 * (kept), unless a ServerHello follows a short go-ahead. 1 when kept. */
static int server_answer(struct tls_conn *t, int dir, const uint8_t *p, size_t n, uint64_t frame, int64_t ts)
{
	struct tls_dir *d = &t->d[dir];
	uint8_t buf[HS_NONTLS_BYTES];
	size_t k = d->carry_len < sizeof(buf) ? d->carry_len : sizeof(buf), m;
	struct cur cc = cur_make(d->carry, d->carry_len), pc = cur_make(p, n);
	cur_copy(&cc, buf, k);
	m = n < sizeof(buf) - k ? n : sizeof(buf) - k;
	cur_copy(&pc, buf + k, m);
	k += m;
	/* A short go-ahead sent before the ClientHello and only decided
	 * now (PostgreSQL's 'S', a STARTTLS "220 ready"), followed by the
	 * ServerHello: scan for it rather than call the answer non-TLS. */
	if (scan_for(buf, k, HT_SERVER_HELLO) >= 0)
		return 0;
	d->carry_len = 0;
	set_nontls(t, dir, buf, k, frame, ts);
	if (t->r->rare)
		t->r->rare->nontls_len = (uint16_t)k;
	return 1;
}

static void feed_detect(struct tls_conn *t, int dir, const uint8_t *p, size_t n, uint64_t frame, int64_t ts)
{
	struct tls_dir *d = &t->d[dir];
	/* keep up to 5 bytes across deliveries to decide */
	uint8_t h[6] = { 0 };
	size_t have = d->carry_len;
	if (have + n < 6) {
		memcpy(d->carry + have, p, n);
		d->carry_len = (uint8_t)(have + n);
		return;
	}
	{
		/* the first 6 bytes of the direction: the carried ones, then p's */
		struct cur cc = cur_make(d->carry, have), pc = cur_make(p, n);
		cur_copy(&cc, h, have);
		cur_copy(&pc, h + have, sizeof(h) - have);
	}
	/* the header decision */
	struct cur hc = cur_make(h, sizeof(h));
	uint8_t h_type = cur_u8(&hc), h_major = cur_u8(&hc);
	if (plausible_header(h, sizeof(h)) || (h_type == CT_HANDSHAKE && h_major == 3)) {
		replay_carry(t, dir, M_TLS, p, n, frame, ts);
		return;
	}
	if (dir == DIR_C2S && sslv2_hello(h, sizeof(h), SSLV2_CLIENT_HELLO)) {
		/* SSLv2-compatible ClientHello: one record, parsed whole */
		d->ctype = CT_SSLV2;   /* marks "SSLv2 record" for feed_tls */
		replay_carry(t, dir, M_TLS, p, n, frame, ts);
		return;
	}
	if (dir == DIR_S2C && sslv2_hello(h, sizeof(h), SSLV2_SERVER_HELLO)) {
		sslv2_server_hello(t, dir, p, n, have, frame, ts);
		return;
	}
	/* Not TLS. Plaintext from the server before any ClientHello is a
	 * banner (SMTP, IMAP...): look for TLS later. After a ClientHello it is
	 * the answer. From the client it may be a STARTTLS preamble. */
	if (dir == DIR_S2C && t->client_hello_seen && server_answer(t, dir, p, n, frame, ts))
		return;
	replay_carry(t, dir, M_SCAN, p, n, frame, ts);
}

static void feed_scan(struct tls_conn *t, int dir, const uint8_t *p, size_t n, uint64_t frame, int64_t ts)
{
	struct tls_dir *d = &t->d[dir];
	uint8_t msg = dir == DIR_C2S ? HT_CLIENT_HELLO : HT_SERVER_HELLO;
	long off;
	if (d->scanned >= t->lim->max_scan)
		return;
	if (!hs_rare(t->r)->d[dir].pre_len && n)   /* plaintext before TLS (a PROXY header, a banner): on the ladder */
		record_event(t->r, (uint8_t)dir, EV_NON_TLS, frame, ts, 0, (uint32_t)n);
	keep_pre(t->r, dir, p, n, frame, ts);
	uint8_t prev[6];
	size_t prev_len = d->carry_len;
	memcpy(prev, d->carry, prev_len);
	if (d->carry_len) {
		/* a header may straddle the previous delivery and this one */
		uint8_t b[12];
		size_t k = d->carry_len, m = n < 6 ? n : 6;
		memcpy(b, d->carry, k);
		memcpy(b + k, p, m);
		off = scan_for(b, k + m, msg);
		if (off >= 0 && (size_t)off < k) {
			uint8_t c[6];
			size_t cl = k - (size_t)off;
			memcpy(c, b + off, cl);
			d->carry_len = 0;
			d->mode = M_TLS;
			set_plaintext_before(t->r, dir, d->scanned - (uint32_t)cl);
			end_pre(t->r, dir, d->scanned - (uint32_t)cl);
			feed_tls(t, dir, c, cl, frame, ts);
			feed_tls(t, dir, p, n, frame, ts);
			return;
		}
		d->carry_len = 0;
	}
	off = scan_for(p, n, msg);
	if (off >= 0) {
		d->scanned += (uint32_t)off;
		d->mode = M_TLS;
		set_plaintext_before(t->r, dir, d->scanned);
		end_pre(t->r, dir, d->scanned);
		feed_tls(t, dir, p + off, n - (size_t)off, frame, ts);
		return;
	}
	d->scanned += (uint32_t)(n > UINT32_MAX - d->scanned ? UINT32_MAX - d->scanned : n);
	if (n >= 5) {
		memcpy(d->carry, p + n - 5, 5);
		d->carry_len = 5;
	} else {
		/* the last 5 bytes of what came before and this delivery: a header
		 * can arrive a byte at a time */
		size_t keep = prev_len + n > 5 ? 5 - n : prev_len;
		memmove(d->carry, prev + prev_len - keep, keep);
		memcpy(d->carry + keep, p, n);
		d->carry_len = (uint8_t)(keep + n);
	}
	if (dir == DIR_S2C && t->client_hello_seen && d->scanned >= 256 && !t->r->sh)
		set_nontls(t, dir, p, n, frame, ts);
}

/* M_NONTLS: the first HS_NONTLS_BYTES of the non-TLS answer are kept. */
static void keep_nontls(struct tls_conn *t, int dir, const uint8_t *p, size_t n)
{
	struct hs_record *r = t->r;
	if (r->nontls_dir == (uint8_t)dir && hs_rare(r)->nontls_len < HS_NONTLS_BYTES && record_nontls(r)) {
		struct hs_rare *x = r->rare;   /* record_nontls() made it */
		size_t k = HS_NONTLS_BYTES - x->nontls_len;
		if (k > n)
			k = n;
		memcpy(x->nontls + x->nontls_len, p, k);
		x->nontls_len = (uint16_t)(x->nontls_len + k);
	}
}

/* A header to resynchronise on after lost or malformed bytes: plausible,
 * and of a length its type can have (a ChangeCipherSpec is 1 byte, an
 * alert at least 2, a handshake record at least a message header), so that
 * the bytes around a gap are less often taken for one (a CCS "record" of
 * 16,221 bytes, found across a one-byte gap, once held the rest of a
 * stream). Only here: a record the stream is known to begin with is judged
 * by plausible_header() alone. */
static int resync_header(const uint8_t *p)
{
	uint16_t len = (uint16_t)(p[3] << 8 | p[4]);
	if (!plausible_header(p, 5))
		return 0;
	switch (p[0]) {
	case CT_CCS: return len == 1;
	case CT_ALERT: return len >= 2;
	case CT_HANDSHAKE: return len >= 4;
	default: return len >= 1;
	}
}

/* M_LOST: skips to the next plausible record header; 0 when there is none
 * in (*p, *n). A header may be split across deliveries: the last bytes of
 * the stream (at most 4) wait in d->carry, so the first plausible header
 * is found wherever the segments were cut (tests/metamorphic.py, onebyte).
 * One found in the carried bytes starts d->hdr with them; feed_header()
 * gathers the rest from *p. */
static int resync(struct tls_dir *d, const uint8_t **p, size_t *n)
{
	uint8_t b[8];
	size_t k = d->carry_len, m, i;
	if (k) {
		m = *n < 4 ? *n : 4;
		memcpy(b, d->carry, k);
		memcpy(b + k, *p, m);
		for (i = 0; i < k && i + 5 <= k + m; i++) {
			if (resync_header(b + i)) {
				memcpy(d->hdr, b + i, k - i);
				d->hdr_have = (uint8_t)(k - i);
				d->carry_len = 0;
				d->mode = M_TLS;
				d->body_left = 0;
				return 1;
			}
		}
		/* a header starting at carried byte i < k that still needs
		 * bytes to come means *n < 4: none is found below, and the last
		 * 4 bytes of the stream, i onward, are kept */
	}
	for (i = 0; i + 5 <= *n; i++)
		if (resync_header(*p + i))
			break;
	if (i + 5 > *n) {
		/* none: the stream's last bytes (up to 4) may begin one */
		size_t keep = k + *n < 4 ? k + *n : 4;
		if (*n >= keep) {
			memcpy(d->carry, *p + *n - keep, keep);
		} else {
			memcpy(b, d->carry, k);
			memcpy(b + k, *p, *n);
			memcpy(d->carry, b + k + *n - keep, keep);
		}
		d->carry_len = (uint8_t)keep;
		*p += *n;
		*n = 0;
		return 0;
	}
	*p += i;
	*n -= i;
	d->carry_len = 0;
	d->mode = M_TLS;
	d->hdr_have = 0;
	d->body_left = 0;
	return 1;
}

/* An SSLv2-format ClientHello record: its 2-byte header, then the whole
 * record into the handshake buffer, parsed when complete. 0 when the bytes
 * ran out (or no memory). */
static int feed_sslv2(struct tls_conn *t, int dir, const uint8_t **p, size_t *n, uint64_t frame, int64_t ts)
{
	struct tls_dir *d = &t->d[dir];
	struct hs_record *r = t->r;
	size_t k;
	if (d->ctype == CT_SSLV2_HDR) {
		gather(d->hdr, &d->hdr_have, 2, p, n);
		if (d->hdr_have < 2)
			return 0;
		struct cur h = cur_make(d->hdr, 2);
		d->rec_len = cur_u16(&h) & 0x7fffu;   /* the top bit marks the format */
		d->body_left = d->rec_len;
		d->ctype = CT_SSLV2_BODY;
		/* the whole record, its 2 header bytes first (a buffer
		 * even for a zero-length record; fuzz/corpus/record) */
		dbuf_free(&d->hs);
		dbuf_init(&d->hs, (size_t)d->rec_len + 2, (size_t)d->rec_len + 2);
		d->hs_off = 0;
		if (dbuf_add(&d->hs, d->hdr, 2))
			return 0;
	}
	k = *n < d->body_left ? *n : d->body_left;
	if (dbuf_add(&d->hs, *p, k))
		return 0;
	d->body_left -= (uint32_t)k;
	*p += k;
	*n -= k;
	if (d->body_left == 0) {
		struct hs_client_hello *ch = record_new_client_hello();
		r->d[dir].tls = 1;
		r->d[dir].records++;
		r->is_tls = 1;
		record_event(r, (uint8_t)dir, EV_SSLV2, frame, ts, SSLV2_CLIENT_HELLO, d->rec_len);
		if (ch) {
			tls_parse_sslv2_client_hello(d->hs.p, d->hs.len, ch);
			store_client_hello(t, ch, frame, ts);
		}
		d->last_hs_type = HT_CLIENT_HELLO;
		dbuf_free(&d->hs);
		hs_buf_init(d, t->lim);
		d->hs_off = 0;
		d->hdr_have = 0;
		d->ctype = 0;
	}
	return 1;
}

/* A record header, gathered across deliveries and checked. 0 when the bytes
 * ran out or the direction turned out not to be TLS (the rest went there). */
static int feed_header(struct tls_conn *t, int dir, const uint8_t **p, size_t *n, uint64_t frame, int64_t ts)
{
	struct tls_dir *d = &t->d[dir];
	struct hs_record *r = t->r;
	gather(d->hdr, &d->hdr_have, 5, p, n);
	if (d->hdr_have < 5)
		return 0;
	d->hdr_have = 0;
	if (!plausible_header(d->hdr, 5)) {
		struct cur h = cur_make(d->hdr, 5);
		uint8_t type = cur_u8(&h);
		if (type == CT_APPDATA || type == CT_ALERT || type == CT_HANDSHAKE || type == CT_CCS) {
			/* a known type with a bad version or length */
			malformed(r, dir);
		} else if (r->d[dir].records == 0 && dir == DIR_S2C) {
			set_nontls(t, dir, d->hdr, 5, frame, ts);
			feed_tls(t, dir, *p, *n, frame, ts);
			return 0;
		} else {
			malformed(r, dir);
		}
		d->mode = M_LOST;
		d->carry_len = 0;
		return 1;
	}
	record_start(t, dir, frame, ts);
	if (d->body_left == 0)
		record_end(t, dir, frame, ts);
	return 1;
}

static void feed_tls(struct tls_conn *t, int dir, const uint8_t *p, size_t n, uint64_t frame, int64_t ts)
{
	struct tls_dir *d = &t->d[dir];
	while (n) {
		switch (d->mode) {
		case M_DETECT:
			feed_detect(t, dir, p, n, frame, ts);
			return;
		case M_SCAN:
			feed_scan(t, dir, p, n, frame, ts);
			return;
		case M_NONTLS:
			keep_nontls(t, dir, p, n);
			keep_pre(t->r, dir, p, n, frame, ts);
			return;
		case M_DONE:
			return;
		case M_LOST:
			if (!resync(d, &p, &n))
				return;
			continue;
		default:
			break;
		}
		/* M_TLS */
		if (d->ctype == CT_SSLV2 && d->hdr_have == 0 && d->body_left == 0) {
			/* SSLv2 ClientHello: gather the 2-byte header, then the record */
			d->ctype = CT_SSLV2_HDR;
		}
		if (d->ctype == CT_SSLV2_HDR || d->ctype == CT_SSLV2_BODY) {
			if (!feed_sslv2(t, dir, &p, &n, frame, ts))
				return;
			continue;
		}
		if (d->body_left == 0) {
			if (!feed_header(t, dir, &p, &n, frame, ts))
				return;
			continue;
		}
		size_t k = n < d->body_left ? n : d->body_left;
		record_body(t, dir, p, k, frame, ts);
		d->body_left -= (uint32_t)k;
		p += k;
		n -= k;
		if (d->body_left == 0)
			record_end(t, dir, frame, ts);
		if (d->mode == M_DONE)
			return;
	}
}

void tls_feed(struct tls_conn *t, int dir, const uint8_t *p, size_t n, uint64_t frame, int64_t ts_us)
{
	if (n == 0)
		return;
	/* count the segments that carry the ClientHello (a ClientHello over
	 * several segments is a fact rules use: middlebox intolerance) */
	if (dir == DIR_C2S && !t->client_hello_seen && frame != t->ch_last_frame &&
	    t->d[DIR_C2S].mode != M_SCAN && t->ch_segments < UINT16_MAX) {
		t->ch_segments++;
		t->ch_last_frame = frame;
	}
	feed_tls(t, dir, p, n, frame, ts_us);
}

void tls_gap(struct tls_conn *t, int dir, uint32_t len, uint64_t frame, int64_t ts_us)
{
	struct tls_dir *d = &t->d[dir];
	struct hs_record *r = t->r;
	record_event(r, (uint8_t)dir, EV_GAP, frame, ts_us, 0, len);
	switch (d->mode) {
	case M_TLS:
		if (d->ctype == CT_HANDSHAKE && !d->encrypted && (d->body_left || d->hs.len != d->hs_off))
			d->hs_broken = 1;
		if (d->body_left && len <= d->body_left && d->ctype < CT_SSLV2) {
			d->body_left -= len;
			if (d->ctype == CT_HANDSHAKE && !d->encrypted)
				d->hs_broken = 1;
			if (d->body_left == 0 && d->ctype != CT_HANDSHAKE && d->ctype != CT_ALERT)
				record_end(t, dir, frame, ts_us);
			else if (d->body_left == 0) {
				/* the record's end was lost with it: do not decode its contents */
				d->hdr_have = 0;
			}
			return;
		}
		d->mode = M_LOST;
		d->hdr_have = 0;
		d->body_left = 0;
		d->carry_len = 0;
		if (d->ctype >= CT_SSLV2) {
			d->ctype = 0;
			dbuf_free(&d->hs);   /* the SSLv2 record's buffer */
			hs_buf_init(d, t->lim);
		}
		dbuf_free(&d->hs);   /* broken: never read again */
		d->hs_off = 0;
		d->hs_broken = 1;
		return;
	case M_DETECT:
		/* we never saw how the stream began */
		d->mode = M_LOST;
		d->carry_len = 0;
		return;
	case M_LOST:
		d->carry_len = 0;   /* bytes before a gap do not continue after it */
		return;
	default:
		return;
	}
}

void tls_finish(struct tls_conn *t)
{
	struct hs_record *r = t->r;
	struct tls_dir *s = &t->d[DIR_S2C];
	/* a server answer shorter than a record header never got decided */
	if (s->mode == M_DETECT && s->carry_len && t->client_hello_seen)
		set_nontls(t, DIR_S2C, s->carry, s->carry_len, hs_at_frame(r, DIR_S2C, HS_AT_LAST),
			   hs_at_ts(r, DIR_S2C, HS_AT_LAST));
	/* the stream ended inside a record, or inside a handshake message whose
	 * length promised more bytes than came: the lengths lied or the capture
	 * stopped (tests/hostile.sh, record-lies) */
	{
		int i;
		for (i = 0; i < 2; i++) {
			const struct tls_dir *x = &t->d[i];
			if (x->mode == M_TLS && (x->body_left || x->hdr_have ||
			    (!x->hs_broken && (x->hs.len != x->hs_off || x->skip_msg)))) {
				r->anomalies |= AN_TLS_TRUNCATED;
				r->d[i].tls_cut = 1;
			}
		}
	}
	if (!t->tls13 || r->complete)
		return;
	/* TLS 1.3: the client sent its Finished, after the server's flight, and
	 * the server did not reject it */
	if (t->d[DIR_C2S].finished && r->d[DIR_S2C].encrypted_hs && !s->rejected)
		r->complete = 1;
}

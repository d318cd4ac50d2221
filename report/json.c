/*
 * json.c - the handshake record as JSON (documented field by field in
 * docs/json.md; names are stable, later work adds fields, never renames).
 *
 * Code points are integers, with a parallel *_names array where a name
 * exists ("GREASE" for RFC 8701 values, "0x%04x" for unknown ones). Wire
 * strings go through the JSON writer's escaping; raw bytes are hex.
 */
#include "report/report.h"
#include "dissect/names.h"
#include "dissect/x509.h"
#include "dissect/communityid.h"
#include "dissect/fp.h"
#include "dissect/decode.h"
#include "dissect/tlsdec.h"
#include "dissect/hash.h"
#include "rules/rules.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

/* the literal s at o: the end (compact JSON built in place) */
#define LIT(o, s) (memcpy((o), (s), sizeof(s) - 1), (o) + sizeof(s) - 1)

const char *rpt_ip(char *buf, size_t n, const struct hs_addr *a)
{
	if (a->family == 4 && n >= 16) {   /* inet_ntop's "%u.%u.%u.%u", without printf */
		char *o = buf;
		int i;
		for (i = 0; i < 4; i++) {
			unsigned v = a->addr[i];
			if (v >= 100)
				*o++ = (char)('0' + v / 100);
			if (v >= 10)
				*o++ = (char)('0' + v / 10 % 10);
			*o++ = (char)('0' + v % 10);
			*o++ = i < 3 ? '.' : '\0';
		}
		return buf;
	}
	if (!inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->addr, buf, (socklen_t)n))
		snprintf(buf, n, "?");
	return buf;
}

const char *rpt_endpoint(char *buf, size_t n, const struct hs_addr *a)
{
	char ip[64], t[64 + 24], *o = t;   /* [ip]: and the port's 20 bytes of room (jw_fmt_u64) */
	size_t il, k;
	rpt_ip(ip, sizeof(ip), a);
	il = strnlen(ip, sizeof(ip) - 1);
	if (a->family == 6)
		*o++ = '[';
	memcpy(o, ip, il);
	o += il;
	if (a->family == 6)
		*o++ = ']';
	*o++ = ':';
	o = jw_fmt_u64(o, a->port);
	/* "[ip]:port", cut to n as snprintf cuts */
	k = (size_t)(o - t);
	if (!n)
		return buf;
	if (k > n - 1)
		k = n - 1;
	memcpy(buf, t, k);
	buf[k] = 0;
	return buf;
}

const char *rpt_dir_name(uint8_t dir)
{
	return dir == DIR_C2S ? "client" : dir == DIR_S2C ? "server" : "none";
}

/* A code point's name as a JSON string: "GREASE", the name, or "0x%04x".
 * Each (table, value) is looked up and quoted once per thread, then
 * copied: the arrays of a ClientHello name the same few dozen values in
 * every connection. */
struct name_slot {
	const char *(*fn)(uint16_t);   /* NULL: empty slot */
	uint16_t v;
	uint8_t n;                     /* bytes in s; 0: not cacheable, write it the long way */
	char s[61];                    /* "name", quoted */
};
#define NAME_SLOTS 1024
static _Thread_local struct name_slot name_cache[NAME_SLOTS];

static const char *code_name_str(const char *(*fn)(uint16_t), uint16_t v, char b[16])
{
	const char *s;
	if (names_is_grease(v))
		return "GREASE";
	s = fn(v);
	if (!s) {
		static const char hx[] = "0123456789abcdef";
		memcpy(b, "0x", 2);
		b[2] = hx[v >> 12];
		b[3] = hx[(v >> 8) & 15];
		b[4] = hx[(v >> 4) & 15];
		b[5] = hx[v & 15];
		b[6] = 0;
		s = b;
	}
	return s;
}

/* The cache's slot of (fn, v), filled if it was not: n 0 when the name
 * must be written the long way. */
static const struct name_slot *name_slot_for(const char *(*fn)(uint16_t), uint16_t v)
{
	/* two ways: the slot hashed to and the next; a new entry goes first */
	uint64_t h = ((uint64_t)v | (uint64_t)(uintptr_t)fn << 16) * 0x9e3779b97f4a7c15ull;
	struct name_slot *e = &name_cache[(h >> 54) & (NAME_SLOTS - 2)];
	char b[16];
	if (e->fn != fn || e->v != v) {
		if (e[1].fn == fn && e[1].v == v) {
			e++;
		} else {
			const char *s = code_name_str(fn, v, b);
			size_t i, n = strlen(s);
			e[1] = e[0];
			e->fn = fn;
			e->v = v;
			e->n = 0;
			/* printable ASCII without " or \\ is its own JSON string */
			for (i = 0; i < n && s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\'; i++)
				;
			if (i == n && n + 2 <= sizeof(e->s)) {
				e->s[0] = '"';
				memcpy(e->s + 1, s, n);
				e->s[n + 1] = '"';
				e->n = (uint8_t)(n + 2);
			}
		}
	}
	return e;
}

static void code_name(struct jw *w, const char *(*fn)(uint16_t), uint16_t v)
{
	const struct name_slot *e = name_slot_for(fn, v);
	char b[16];
	if (e->n)
		jw_rawn(w, e->s, e->n);
	else
		jw_str(w, code_name_str(fn, v, b));
}

static void u16_array(struct jw *w, const char *key, const char *names_key, const uint16_t *v,
		      size_t n, const char *(*fn)(uint16_t))
{
	size_t i;
	jw_arr_open(w, key);
	for (i = 0; i < n; i++)
		jw_uint(w, v[i]);
	jw_arr_close(w);
	if (names_key && fn) {
		jw_arr_open(w, names_key);
		for (i = 0; i < n; i++)
			code_name(w, fn, v[i]);
		jw_arr_close(w);
	}
}

static void u8_array(struct jw *w, const char *key, const uint8_t *v, size_t n)
{
	size_t i;
	jw_arr_open(w, key);
	for (i = 0; i < n; i++)
		jw_uint(w, v[i]);
	jw_arr_close(w);
}

static const char *version_name16(uint16_t v)
{
	return names_version(v);
}

static void version_field(struct jw *w, const char *key, uint16_t v)
{
	char b[48];   /* "max_offered_version_name" needs 25 */
	size_t n = strlen(key);
	jw_key_uint(w, key, v);
	if (n + sizeof("_name") <= sizeof(b)) {
		memcpy(b, key, n);
		memcpy(b + n, "_name", sizeof("_name"));
	} else {
		snprintf(b, sizeof(b), "%s_name", key);
	}
	jw_key(w, b);
	code_name(w, version_name16, v);
}

/* A ClientHello's members from its cipher suites on: they depend on its
 * lists and flags only (ch_tail_key() lists every one), which the
 * connections of one client share, so they are rendered once and replayed
 * (jw_cached_key). */
static void ch_tail(struct jw *w, const void *arg)
{
	const struct hs_client_hello *c = arg;
	uint16_t i;
	u16_array(w, "cipher_suites", "cipher_suite_names", hs_ch_suites(c), c->n_suites, names_suite_name);
	jw_key_uint(w, "cipher_suites_total", c->total_suites);
	u8_array(w, "compression_methods", hs_ch_comp(c), c->n_comp);
	jw_key_bool(w, "extensions_present", c->has_extensions);
	u16_array(w, "extensions", "extension_names", hs_ch_ext_type(c), c->n_exts, names_extension);
	u16_array(w, "extension_lengths", NULL, hs_ch_ext_len(c), c->n_exts, NULL);
	jw_key_uint(w, "extensions_total", c->total_exts);
	if (c->has_sni)
		jw_key_strn(w, "sni", hs_ch_sni(c), c->sni_len);
	else
		jw_key_null(w, "sni");
	jw_arr_open(w, "alpn");
	for (i = 0; i < c->n_alpn; i++) {
		uint16_t o = hs_ch_alpn_off(c)[i];
		jw_strn(w, hs_ch_alpn(c) + o + 1, hs_ch_alpn(c)[o]);
	}
	jw_arr_close(w);
	if (c->has_supported_versions)
		u16_array(w, "supported_versions", "supported_version_names", hs_ch_versions(c), c->n_versions,
			  version_name16);
	else
		jw_key_null(w, "supported_versions");
	u16_array(w, "supported_groups", "supported_group_names", hs_ch_groups(c), c->n_groups, names_group);
	if (c->has_key_share)
		u16_array(w, "key_share_groups", "key_share_group_names", hs_ch_key_share(c), c->n_key_share,
			  names_group);
	else
		jw_key_null(w, "key_share_groups");
	u16_array(w, "signature_algorithms", "signature_algorithm_names", hs_ch_sigalgs(c), c->n_sigalgs,
		  names_sigalg);
	u16_array(w, "signature_algorithms_cert", NULL, hs_ch_sigalgs_cert(c), c->n_sigalgs_cert, NULL);
	u8_array(w, "ec_point_formats", hs_ch_ecpf(c), c->n_ecpf);
	u8_array(w, "psk_key_exchange_modes", hs_ch_psk_modes(c), c->n_psk_modes);
	jw_key_bool(w, "pre_shared_key", c->has_psk);
	jw_key_uint(w, "psk_identities", c->psk_identities);
	jw_key_bool(w, "session_ticket", c->has_session_ticket);
	jw_key_uint(w, "session_ticket_length", c->session_ticket_len);
	if (c->has_ech) {
		jw_obj_open(w, "encrypted_client_hello");
		jw_key_str(w, "type", c->ech_type == 0 ? "outer" : c->ech_type == 1 ? "inner" : "unknown");
		jw_key_uint(w, "kdf", c->ech_kdf);
		jw_key_uint(w, "aead", c->ech_aead);
		jw_key_uint(w, "config_id", c->ech_config_id);
		jw_key_uint(w, "enc_length", c->ech_enc_len);
		jw_key_uint(w, "payload_length", c->ech_payload_len);
		jw_obj_close(w);
	} else {
		jw_key_null(w, "encrypted_client_hello");
	}
	jw_key_bool(w, "renegotiation_info", c->has_renegotiation_info);
	jw_key_bool(w, "extended_master_secret", c->has_extended_master_secret);
	jw_key_bool(w, "encrypt_then_mac", c->has_encrypt_then_mac);
	jw_key_bool(w, "status_request", c->has_status_request);
	jw_key_bool(w, "early_data", c->has_early_data);
	jw_key_uint(w, "record_size_limit", c->record_size_limit);
	jw_key_bool(w, "malformed", c->malformed);
}

static uint8_t *key_u16(uint8_t *k, uint16_t v)
{
	memcpy(k, &v, 2);
	return k + 2;
}

static uint8_t *key_bytes(uint8_t *k, const void *p, size_t n)
{
	if (n)
		memcpy(k, p, n);
	return k + n;
}

#define CH_KEY_MAX 4096

/* Every field ch_tail() reads, in k[0..CH_KEY_MAX): the length, or 0
 * when they do not fit (the tail is then rendered as it is). */
static size_t ch_tail_key(const struct hs_client_hello *c, uint8_t *k)
{
	const uint16_t v[] = {
		c->n_suites, c->total_suites, c->n_comp, c->has_extensions, c->n_exts, c->total_exts,
		c->has_sni, c->sni_len, c->n_alpn, c->alpn_bytes, c->has_supported_versions, c->n_versions,
		c->n_groups, c->has_key_share, c->n_key_share, c->n_sigalgs, c->n_sigalgs_cert, c->n_ecpf,
		c->n_psk_modes, c->has_psk, c->psk_identities, c->has_session_ticket, c->session_ticket_len,
		c->has_ech, c->ech_type, c->ech_kdf, c->ech_aead, c->ech_config_id, c->ech_enc_len,
		c->ech_payload_len, c->has_renegotiation_info, c->has_extended_master_secret,
		c->has_encrypt_then_mac, c->has_status_request, c->has_early_data, c->record_size_limit,
		c->malformed,
	};
	size_t n = sizeof(v) + 2u * ((size_t)c->n_suites + 2u * c->n_exts + c->n_alpn + c->n_versions + c->n_groups +
				     c->n_key_share + c->n_sigalgs + c->n_sigalgs_cert) +
		   (size_t)c->n_comp + c->sni_len + c->alpn_bytes + c->n_ecpf + c->n_psk_modes;
	uint8_t *p = k;
	size_t i;
	if (n > CH_KEY_MAX)
		return 0;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		p = key_u16(p, v[i]);
	p = key_bytes(p, hs_ch_suites(c), 2u * c->n_suites);
	p = key_bytes(p, hs_ch_comp(c), c->n_comp);
	p = key_bytes(p, hs_ch_ext_type(c), 2u * c->n_exts);
	p = key_bytes(p, hs_ch_ext_len(c), 2u * c->n_exts);
	p = key_bytes(p, hs_ch_sni(c), c->sni_len);
	p = key_bytes(p, hs_ch_alpn_off(c), 2u * c->n_alpn);
	p = key_bytes(p, hs_ch_alpn(c), c->alpn_bytes);
	p = key_bytes(p, hs_ch_versions(c), 2u * c->n_versions);
	p = key_bytes(p, hs_ch_groups(c), 2u * c->n_groups);
	p = key_bytes(p, hs_ch_key_share(c), 2u * c->n_key_share);
	p = key_bytes(p, hs_ch_sigalgs(c), 2u * c->n_sigalgs);
	p = key_bytes(p, hs_ch_sigalgs_cert(c), 2u * c->n_sigalgs_cert);
	p = key_bytes(p, hs_ch_ecpf(c), c->n_ecpf);
	p = key_bytes(p, hs_ch_psk_modes(c), c->n_psk_modes);
	return (size_t)(p - k);
}

/* "key":v,"key_name":"name" at o (version_field()'s bytes); NULL when the
 * name must be written the long way. */
static char *version_c(char *o, const char *key, size_t kn, uint16_t v)
{
	const struct name_slot *e = name_slot_for(version_name16, v);
	if (!e->n)
		return NULL;
	*o++ = '"';
	memcpy(o, key, kn);
	o += kn;
	o = jw_fmt_u64(LIT(o, "\":"), v);
	o = LIT(o, ",\"");
	memcpy(o, key, kn);
	o += kn;
	o = LIT(o, "_name\":");
	memcpy(o, e->s, e->n);
	return o + e->n;
}

/* b[0..n) as jw_hex() writes it, quoted, at o */
static char *hex_c(char *o, const uint8_t *b, size_t n)
{
	size_t i;
	*o++ = '"';
	for (i = 0; i < n; i++, o += 2)
		memcpy(o, jw_hex2 + 2 * b[i], 2);
	*o++ = '"';
	return o;
}

#define VERSION_C(o, key, v) ((o) ? version_c((o), key, sizeof(key) - 1, (v)) : NULL)

/* A hello's members from "frame" to "session_id", for a compact writer,
 * built in place (jw_members); 0 when the writer is pretty or a name or
 * time needs the general way. sh: a ServerHello's (hello_retry_request,
 * version), else a ClientHello's (max_offered_version, length). */
static int hello_head_compact(struct jw *w, const struct hs_client_hello *c, const struct hs_server_hello *sh)
{
	char *o = jw_members(w, 640);
	uint64_t frame = sh ? sh->frame : c->frame;
	if (!o)
		return 0;
	o = jw_fmt_u64(LIT(o, "\"frame\":"), frame);
	o = LIT(o, ",\"time\":");
	if (!(o = jw_fmt_time_us(w, o, sh ? sh->ts_us : c->ts_us)))
		return 0;
	if (sh)
		o = sh->is_hrr ? LIT(o, ",\"hello_retry_request\":true") : LIT(o, ",\"hello_retry_request\":false");
	o = (sh ? sh->sslv2 : c->sslv2) ? LIT(o, ",\"sslv2\":true,") : LIT(o, ",\"sslv2\":false,");
	o = VERSION_C(o, "record_version", sh ? sh->record_version : c->record_version);
	if (o)
		*o++ = ',';
	o = VERSION_C(o, "legacy_version", sh ? sh->legacy_version : c->legacy_version);
	if (o)
		*o++ = ',';
	o = sh ? VERSION_C(o, "version", sh->version) : VERSION_C(o, "max_offered_version", c->max_offered);
	if (!o)
		return 0;
	o = LIT(o, ",\"random\":");
	o = hex_c(o, sh ? sh->random : c->random, 32);
	o = LIT(o, ",\"session_id\":");
	o = hex_c(o, sh ? sh->session_id : c->session_id, sh ? sh->session_id_len : c->session_id_len);
	if (!sh) {
		o = jw_fmt_u64(LIT(o, ",\"length\":"), c->msg_len);
	}
	jw_members_end(w, o);
	return 1;
}

/* A ClientHello's members from "frame" to "length", one writer call each. */
static void ch_head(struct jw *w, const struct hs_client_hello *c)
{
	jw_key_uint(w, "frame", c->frame);
	jw_key_time_us(w, "time", c->ts_us);
	jw_key_bool(w, "sslv2", c->sslv2);
	version_field(w, "record_version", c->record_version);
	version_field(w, "legacy_version", c->legacy_version);
	version_field(w, "max_offered_version", c->max_offered);   /* record_derive() */
	jw_key_hex(w, "random", c->random, 32);
	jw_key_hex(w, "session_id", c->session_id, c->session_id_len);
	jw_key_uint(w, "length", c->msg_len);
}

static void client_hello(struct jw *w, const char *key, const struct hs_client_hello *c)
{
	if (!c) {
		jw_key_null(w, key);
		return;
	}
	jw_obj_open(w, key);
	if (!hello_head_compact(w, c, NULL))
		ch_head(w, c);
	{
		uint8_t k[CH_KEY_MAX];
		size_t kn = ch_tail_key(c, k);
		if (kn)
			jw_cached_key(w, k, kn, RPT_JWK_CH_TAIL, ch_tail, c);
		else
			ch_tail(w, c);
	}
	jw_obj_close(w);
}

/* A ServerHello's members from its cipher suite on: from the fields
 * sh_tail_key() lists only, which one server's answers share, so rendered
 * once and replayed (jw_cached_key), as a ClientHello's. */
static void sh_tail(struct jw *w, const void *arg)
{
	const struct hs_server_hello *s = arg;
	jw_key_uint(w, "cipher_suite", s->cipher);
	jw_key(w, "cipher_suite_name");
	code_name(w, names_suite_name, s->cipher);
	jw_key_uint(w, "compression_method", s->compression);
	jw_key_bool(w, "extensions_present", s->has_extensions);
	u16_array(w, "extensions", "extension_names", s->ext_type, s->n_exts, names_extension);
	u16_array(w, "extension_lengths", NULL, s->ext_len, s->n_exts, NULL);
	if (s->has_supported_version)
		jw_key_uint(w, "supported_version", s->supported_version);
	else
		jw_key_null(w, "supported_version");
	if (s->has_key_share) {
		jw_key_uint(w, "key_share_group", s->key_share_group);
		jw_key(w, "key_share_group_name");
		code_name(w, names_group, s->key_share_group);
	} else {
		jw_key_null(w, "key_share_group");
		jw_key_null(w, "key_share_group_name");
	}
	if (s->alpn_len)
		jw_key_strn(w, "alpn", s->alpn, s->alpn_len);
	else
		jw_key_null(w, "alpn");
	jw_key_bool(w, "renegotiation_info", s->has_renegotiation_info);
	jw_key_bool(w, "extended_master_secret", s->has_extended_master_secret);
	jw_key_bool(w, "encrypt_then_mac", s->has_encrypt_then_mac);
	jw_key_bool(w, "session_ticket", s->has_session_ticket);
	jw_key_bool(w, "malformed", s->malformed);
}

#define SH_KEY_MAX 1024

/* Every field sh_tail() reads, in k[0..SH_KEY_MAX): the length, or 0 when
 * they do not fit (the tail is then rendered as it is). */
static size_t sh_tail_key(const struct hs_server_hello *s, uint8_t *k)
{
	const uint16_t v[] = {
		s->cipher, s->compression, s->has_extensions, s->n_exts, s->has_supported_version,
		s->supported_version, s->has_key_share, s->key_share_group, s->alpn_len,
		s->has_renegotiation_info, s->has_extended_master_secret, s->has_encrypt_then_mac,
		s->has_session_ticket, s->malformed,
	};
	size_t n = sizeof(v) + 4u * s->n_exts + s->alpn_len, i;
	uint8_t *p = k;
	if (n > SH_KEY_MAX)
		return 0;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		p = key_u16(p, v[i]);
	p = key_bytes(p, s->ext_type, 2u * s->n_exts);
	p = key_bytes(p, s->ext_len, 2u * s->n_exts);
	p = key_bytes(p, s->alpn, s->alpn_len);
	return (size_t)(p - k);
}

static void server_hello(struct jw *w, const char *key, const struct hs_server_hello *s)
{
	uint8_t k[SH_KEY_MAX];
	size_t kn;
	if (!s) {
		jw_key_null(w, key);
		return;
	}
	jw_obj_open(w, key);
	if (!hello_head_compact(w, NULL, s)) {
		jw_key_uint(w, "frame", s->frame);
		jw_key_time_us(w, "time", s->ts_us);
		jw_key_bool(w, "hello_retry_request", s->is_hrr);
		jw_key_bool(w, "sslv2", s->sslv2);
		version_field(w, "record_version", s->record_version);
		version_field(w, "legacy_version", s->legacy_version);
		version_field(w, "version", s->version);
		jw_key_hex(w, "random", s->random, 32);
		jw_key_hex(w, "session_id", s->session_id, s->session_id_len);
	}
	if ((kn = sh_tail_key(s, k)))
		jw_cached_key(w, k, kn, RPT_JWK_SH_TAIL, sh_tail, s);
	else
		sh_tail(w, s);
	jw_obj_close(w);
}

static void time_s(struct jw *w, const char *key, int64_t secs)
{
	jw_key_time_us(w, key, secs * 1000000);
}

/* A chain's "certificates": what each shows comes from its DER (x, the
 * x509 cache's facts of those bytes, which its SHA-256 names) and from its
 * own flags (chain_key() lists them), so the connections that met one
 * server's chain share it: rendered once and replayed (jw_cached_key). */
static void chain_certs(struct jw *w, const void *arg)
{
	const struct hs_chain *c = arg;
	uint16_t i;
	jw_arr_open(w, "certificates");
	for (i = 0; i < c->n; i++) {
		const struct hs_cert *hc = &c->c[i];
		const struct x509_facts *x = hc->x;
		jw_obj_open(w, NULL);
		jw_key_uint(w, "index", i);
		jw_key_uint(w, "der_length", hc->der_len);
		jw_key_hex(w, "sha256", hc->sha256, 32);
		jw_key_bool(w, "malformed", x ? x->malformed : !hc->facts_not_kept);
		if (hc->facts_not_kept)   /* only then */
			jw_key_bool(w, "facts_not_kept", 1);
		if (x && !x->malformed) {
			jw_key_int(w, "version", x->version);
			jw_key_str(w, "subject", x->subject);
			jw_key_str(w, "issuer", x->issuer);
			jw_key_str(w, "subject_cn", x->subject_cn);
			jw_key_str(w, "san", x->san);
			jw_key_str(w, "serial", x->serial_hex);
			time_s(w, "not_before", x->not_before);
			time_s(w, "not_after", x->not_after);
			jw_key_bool(w, "expired_at_capture", hc->expired);
			jw_key_bool(w, "not_yet_valid_at_capture", hc->not_yet_valid);
			jw_key_bool(w, "self_signed", hc->self_signed);
			jw_key_bool(w, "self_issued", x->self_issued);
			if (x->is_ca < 0)
				jw_key_null(w, "is_ca");
			else
				jw_key_bool(w, "is_ca", x->is_ca);
			jw_key_str(w, "key_type", x509_key_name((enum x509_key)x->key_type));
			jw_key_int(w, "key_bits", x->key_bits);
			if (x->key_curve[0])
				jw_key_str(w, "key_curve", x->key_curve);
			else
				jw_key_null(w, "key_curve");
			jw_key_str(w, "signature_algorithm", x->sig_alg);
		}
		if (hc->issued_by_next == 2)
			jw_key_null(w, "issued_by_next");
		else
			jw_key_bool(w, "issued_by_next", hc->issued_by_next);
		if (hc->verify_skipped)   /* only then: the key is absent when every check was made */
			jw_key_str(w, "verification_skipped", x509_skip_name((enum x509_skip)hc->verify_skipped));
		jw_obj_close(w);
	}
	jw_arr_close(w);
}

#define CHAIN_KEY_CERT (32u + 4u + 8u)   /* bytes of chain_key() per certificate */

/* Every field chain_certs() reads, in k[0..CHAIN_KEY_CERT * c->n): the
 * DER's SHA-256 and length, whether its facts are at hand (and parsed),
 * and the certificate's flags. Certificates with the same DER have the
 * same facts (x509_get() parses those bytes and nothing else). */
static size_t chain_key(const struct hs_chain *c, uint8_t *k)
{
	uint8_t *p = k;
	uint8_t i;
	for (i = 0; i < c->n; i++) {
		const struct hs_cert *hc = &c->c[i];
		const uint8_t f[8] = {
			(uint8_t)(hc->x != NULL), hc->facts_not_kept, hc->expired,       hc->not_yet_valid,
			hc->self_signed,          hc->issued_by_next, hc->verify_skipped, (uint8_t)(hc->x && hc->x->malformed),
		};
		p = key_bytes(p, hc->sha256, 32);
		p = key_bytes(p, &hc->der_len, 4);
		p = key_bytes(p, f, sizeof(f));
	}
	return (size_t)(p - k);
}

static void chain(struct jw *w, const char *key, const struct hs_record *r, const struct hs_chain *c)
{
	if (!c->present) {
		jw_key_null(w, key);
		return;
	}
	jw_obj_open(w, key);
	jw_key_uint(w, "frame", hs_chain_frame(r, c));
	jw_key_time_us(w, "time", hs_chain_ts(r, c));
	jw_key_uint(w, "count", c->total);
	jw_key_bool(w, "malformed", c->malformed);
	{
		uint8_t k[CHAIN_KEY_CERT * HS_MAX_CERTS];
		if (c->n <= HS_MAX_CERTS)
			jw_cached_key(w, k, chain_key(c, k), RPT_JWK_CHAIN_CERTS, chain_certs, c);
		else
			chain_certs(w, c);
	}
	jw_obj_close(w);
}

/* dirstats()'s member for a compact writer, built in place (jw_members):
 * about thirty writer calls fewer for every direction of every connection.
 * 0 when the writer is pretty or a time needs the general way. */
static int dirstats_compact(struct jw *w, const char *key, const struct hs_record *r, int d)
{
	const struct hs_dir *s = &r->d[d];
	const struct hs_rare_dir *x = &hs_rare(r)->d[d];
	const struct hs_steer *st = hs_rare(r)->steer;
	size_t kn = strlen(key);
	char *o = kn <= 32 ? jw_members(w, 1536) : NULL;
	if (!o)
		return 0;
	*o++ = '"';
	memcpy(o, key, kn);
	o += kn;
	o = jw_fmt_u64(LIT(o, "\":{\"packets\":"), s->packets);
	o = jw_fmt_u64(LIT(o, ",\"payload_bytes\":"), s->payload_bytes);
	o = jw_fmt_u64(LIT(o, ",\"stream_bytes\":"), s->stream_bytes);
	o = jw_fmt_u64(LIT(o, ",\"records\":"), s->records);
	o = jw_fmt_u64(LIT(o, ",\"retransmissions\":"), x->retransmissions);
	o = jw_fmt_u64(LIT(o, ",\"out_of_order\":"), x->out_of_order);
	o = jw_fmt_u64(LIT(o, ",\"overlap_conflicts\":"), x->overlap_conflicts);
	o = jw_fmt_u64(LIT(o, ",\"gaps\":"), x->gaps);
	o = jw_fmt_u64(LIT(o, ",\"gap_bytes\":"), x->gap_bytes);
	o = jw_fmt_u64(LIT(o, ",\"truncated_packets\":"), x->truncated_packets);
	if (st && st->conflict_frame[d]) {
		o = jw_fmt_u64(LIT(o, ",\"overlap_conflict_frame\":"), st->conflict_frame[d]);
	}
	if (st && st->out_of_window[d]) {
		o = jw_fmt_u64(LIT(o, ",\"out_of_window\":"), st->out_of_window[d]);
		o = jw_fmt_u64(LIT(o, ",\"out_of_window_frame\":"), st->out_of_window_frame[d]);
	}
	if (st && st->bad_checksums[d]) {
		o = jw_fmt_u64(LIT(o, ",\"bad_checksums\":"), st->bad_checksums[d]);
		o = jw_fmt_u64(LIT(o, ",\"bad_checksum_frame\":"), st->bad_checksum_frame[d]);
		if (st->bad_checksum_data[d]) {
			o = jw_fmt_u64(LIT(o, ",\"bad_checksum_data\":"), st->bad_checksum_data[d]);
			o = jw_fmt_u64(LIT(o, ",\"bad_checksum_gap_bytes\":"), st->bad_checksum_gap_bytes[d]);
		}
	}
#define FRAME_TIME_C(name, slot)                                          \
	if (hs_at_frame(r, d, slot)) {                                    \
		o = LIT(o, ",\"" name "_frame\":");                       \
		o = jw_fmt_u64(o, hs_at_frame(r, d, slot));               \
		o = LIT(o, ",\"" name "_time\":");                        \
		if (!(o = jw_fmt_time_us(w, o, hs_at_ts(r, d, slot))))    \
			return 0;                                         \
	} else {                                                          \
		o = LIT(o, ",\"" name "_frame\":null,\"" name "_time\":null"); \
	}
	FRAME_TIME_C("syn", HS_AT_SYN)
	FRAME_TIME_C("fin", HS_AT_FIN)
	FRAME_TIME_C("rst", HS_AT_RST)
	FRAME_TIME_C("first_payload", HS_AT_FIRST_PAYLOAD)
#undef FRAME_TIME_C
	o = s->tls ? LIT(o, ",\"tls\":true}") : LIT(o, ",\"tls\":false}");
	jw_members_end(w, o);
	return 1;
}

static void dirstats(struct jw *w, const char *key, const struct hs_record *r, int d)
{
	const struct hs_dir *s = &r->d[d];
	const struct hs_rare_dir *x = &hs_rare(r)->d[d];
	const struct hs_steer *st = hs_rare(r)->steer;
	if (dirstats_compact(w, key, r, d))
		return;
	jw_obj_open(w, key);
	jw_key_uint(w, "packets", s->packets);
	jw_key_uint(w, "payload_bytes", s->payload_bytes);
	jw_key_uint(w, "stream_bytes", s->stream_bytes);
	jw_key_uint(w, "records", s->records);
	jw_key_uint(w, "retransmissions", x->retransmissions);
	jw_key_uint(w, "out_of_order", x->out_of_order);
	jw_key_uint(w, "overlap_conflicts", x->overlap_conflicts);
	jw_key_uint(w, "gaps", x->gaps);
	jw_key_uint(w, "gap_bytes", x->gap_bytes);
	jw_key_uint(w, "truncated_packets", x->truncated_packets);
	/* present only when they happened (docs/json.md) */
	if (st && st->conflict_frame[d])
		jw_key_uint(w, "overlap_conflict_frame", st->conflict_frame[d]);
	if (st && st->out_of_window[d]) {
		jw_key_uint(w, "out_of_window", st->out_of_window[d]);
		jw_key_uint(w, "out_of_window_frame", st->out_of_window_frame[d]);
	}
	if (st && st->bad_checksums[d]) {
		jw_key_uint(w, "bad_checksums", st->bad_checksums[d]);
		jw_key_uint(w, "bad_checksum_frame", st->bad_checksum_frame[d]);
		if (st->bad_checksum_data[d]) {
			jw_key_uint(w, "bad_checksum_data", st->bad_checksum_data[d]);
			jw_key_uint(w, "bad_checksum_gap_bytes", st->bad_checksum_gap_bytes[d]);
		}
	}
#define FRAME_TIME(name, fr, ts)                         \
	if (fr) {                                        \
		jw_key_uint(w, name "_frame", fr);       \
		jw_key_time_us(w, name "_time", ts);     \
	} else {                                         \
		jw_key_null(w, name "_frame");           \
		jw_key_null(w, name "_time");            \
	}
	FRAME_TIME("syn", hs_at_frame(r, d, HS_AT_SYN), hs_at_ts(r, d, HS_AT_SYN))
	FRAME_TIME("fin", hs_at_frame(r, d, HS_AT_FIN), hs_at_ts(r, d, HS_AT_FIN))
	FRAME_TIME("rst", hs_at_frame(r, d, HS_AT_RST), hs_at_ts(r, d, HS_AT_RST))
	FRAME_TIME("first_payload", hs_at_frame(r, d, HS_AT_FIRST_PAYLOAD), hs_at_ts(r, d, HS_AT_FIRST_PAYLOAD))
#undef FRAME_TIME
	jw_key_bool(w, "tls", s->tls);
	jw_obj_close(w);
}

/* The first bytes of each direction when it did not begin with TLS (a
 * PROXY header, a banner, a plain HTTP request or answer). */
/* The fields every quote of raw wire bytes has: where, when, and the bytes
 * (hex, and as text the JSON writer escapes). */
static void wire_quote(struct jw *w, uint64_t frame, int64_t ts, const uint8_t *p, size_t n)
{
	jw_key_uint(w, "frame", frame);
	jw_key_time_us(w, "time", ts);
	jw_key_hex(w, "bytes_hex", p, n);
	jw_key_strn(w, "text", p, n);
}

static void first_bytes(struct jw *w, const struct hs_record *r)
{
	int d;
	jw_obj_open(w, "first_bytes");
	for (d = 0; d < 2; d++) {
		const char *who = d == DIR_C2S ? "client" : "server";
		if (!hs_rare(r)->d[d].pre_len) {
			jw_key_null(w, who);
			continue;
		}
		jw_obj_open(w, who);
		wire_quote(w, record_pre_frame(r, d), record_pre_ts(r, d), hs_rare(r)->d[d].pre, hs_rare(r)->d[d].pre_len);
		jw_key_bool(w, "proxy_header", d == DIR_C2S && record_proxy_header(r));
		jw_obj_close(w);
	}
	jw_obj_close(w);
}

/* The "message" of a ladder event: the handshake message's name, the
 * alert's; NULL when the event has none. b: room for an unnamed one. */
static const char *ladder_message(const struct hs_record *r, const struct hs_event *e, char *b, size_t bn)
{
	const char *n = NULL;
	if (e->kind == EV_HANDSHAKE) {
		n = names_hs_type(e->hs_type);
		if (!n) {
			snprintf(b, bn, "0x%02x", e->hs_type);
			n = b;
		}
	} else if (e->kind == EV_ALERT && e->aux < r->n_alerts) {
		const struct hs_alert *a = &r->alerts[e->aux];
		if (a->encrypted)
			return "encrypted alert";
		n = names_alert(a->description);
		if (!n) {
			snprintf(b, bn, "%u", a->description);
			n = b;
		}
	}
	return n;
}

static void ladder_event(struct jw *w, const struct hs_record *r, const struct hs_event *e)
{
	char b[16];
	const char *msg = ladder_message(r, e, b, sizeof(b));
	jw_obj_open(w, NULL);
	jw_key_uint(w, "frame", e->frame);
	jw_key_int(w, "offset_us", e->ts_us - r->first_ts_us);
	jw_key_str(w, "from", rpt_dir_name(e->dir));
	jw_key_str(w, "kind", hs_ev_kind_name((enum hs_ev_kind)e->kind));
	if (msg)
		jw_key_str(w, "message", msg);
	if (e->kind == EV_HANDSHAKE)
		jw_key_uint(w, "message_type", e->hs_type);
	jw_key_uint(w, "length", e->len);
	jw_obj_close(w);
}

#define LADDER_NAME_MAX 64   /* a name the compact path copies (the tables' are shorter) */

/* s, a name from the program's own tables, as a JSON string at o: no
 * byte of those needs an escape (test_names checks every one); NULL when
 * longer than LADDER_NAME_MAX. */
static char *table_name(char *o, const char *s)
{
	size_t n = strlen(s);
	if (n > LADDER_NAME_MAX)
		return NULL;
	*o++ = '"';
	memcpy(o, s, n);
	o += n;
	*o++ = '"';
	return o;
}

/* The members of a ladder event between its offset and its length (who
 * sent it, its kind, its message) at o: the end; NULL when a name is too
 * long. */
static char *ladder_mid(char *o, const struct hs_record *r, const struct hs_event *e)
{
	char b[16];
	const char *msg = ladder_message(r, e, b, sizeof(b));
	o = LIT(o, ",\"from\":");
	if (!(o = table_name(o, rpt_dir_name(e->dir))))
		return NULL;
	o = LIT(o, ",\"kind\":");
	if (!(o = table_name(o, hs_ev_kind_name((enum hs_ev_kind)e->kind))))
		return NULL;
	if (msg) {
		o = LIT(o, ",\"message\":");
		if (!(o = table_name(o, msg)))
			return NULL;
	}
	if (e->kind == EV_HANDSHAKE)
		o = jw_fmt_u64(LIT(o, ",\"message_type\":"), e->hs_type);
	return o;
}

/* Those members depend on the sender, the kind and the message alone: a
 * handshake message's type, an alert's description (or that it was
 * encrypted, or is not in the record's list): written once per thread and
 * copied after (a record has about 14 events, and the names were looked
 * up and measured for each). Two places a key may be kept (two parts of
 * its hash), the one used longer ago given up: the forty-odd keys of a
 * capture stay (one place each thrashed two pairs of the commonest). A
 * slot holds the key it was written for, 0 when empty. */
#define MID_SLOTS 64u
#define MID_MAX   (8 + 2 + 8 + 2 + 11 + 2 + 3 * LADDER_NAME_MAX + 20)   /* ladder_mid() at most */
struct mid_slot {
	uint32_t key;
	uint16_t n;
	uint64_t used;           /* mid_clock when last found or written */
	char s[MID_MAX];
};
static _Thread_local struct mid_slot mid_cache[MID_SLOTS];
static _Thread_local uint64_t mid_clock;
_Static_assert(MID_SLOTS == 64, "ladder_mid_cached() takes 6 bits of the hash for each place");

static char *ladder_mid_cached(char *o, const struct hs_record *r, const struct hs_event *e)
{
	uint32_t key, msg = 0;
	uint64_t h;
	struct mid_slot *a, *b, *m;
	char *end;
	if (e->kind == EV_HANDSHAKE)
		msg = e->hs_type;
	else if (e->kind == EV_ALERT)   /* as ladder_message() reads it */
		msg = e->aux >= r->n_alerts ? 256u : r->alerts[e->aux].encrypted ? 257u : r->alerts[e->aux].description;
	key = 1u + ((uint32_t)e->dir | (uint32_t)e->kind << 8 | msg << 16);
	h = hash_mum(key ^ 0x243f6a8885a308d3ull, 0x9e3779b97f4a7c15ull);
	a = &mid_cache[h >> 58];
	b = &mid_cache[(h >> 52) & (MID_SLOTS - 1)];
	m = a->key == key ? a : b->key == key ? b : NULL;
	if (m) {
		m->used = ++mid_clock;
		memcpy(o, m->s, m->n);
		return o + m->n;
	}
	if (!(end = ladder_mid(o, r, e)))
		return NULL;
	m = a->used <= b->used ? a : b;
	m->key = key;
	m->used = ++mid_clock;
	m->n = (uint16_t)(end - o);
	memcpy(m->s, o, m->n);
	return end;
}

/* ladder_event()'s bytes for a compact writer, built in place as the
 * array's next value (jw_members; about seven times fewer writer calls:
 * the ladder is the longest list of a record); 0 when the writer is
 * pretty or a name is too long, for ladder_event() to write. */
static int ladder_event_compact(struct jw *w, const struct hs_record *r, const struct hs_event *e)
{
	char *o = jw_members(w, 256 + 3 * LADDER_NAME_MAX);   /* in place: the array's next value */
	if (!o)
		return 0;
	o = jw_fmt_u64(LIT(o, "{\"frame\":"), e->frame);
	o = jw_fmt_i64(LIT(o, ",\"offset_us\":"), e->ts_us - r->first_ts_us);
	if (!(o = ladder_mid_cached(o, r, e)))
		return 0;
	o = jw_fmt_u64(LIT(o, ",\"length\":"), e->len);
	*o++ = '}';
	jw_members_end(w, o);
	return 1;
}

static void ladder(struct jw *w, const struct hs_record *r)
{
	uint16_t i;
	jw_arr_open(w, "ladder");
	for (i = 0; i < r->n_events; i++) {
		const struct hs_event ev = hs_ev(r, i);
		if (!ladder_event_compact(w, r, &ev))
			ladder_event(w, r, &ev);
	}
	jw_arr_close(w);
	jw_key_uint(w, "ladder_total", r->total_events);
}

static void alerts(struct jw *w, const struct hs_record *r)
{
	uint16_t i;
	jw_arr_open(w, "alerts");
	for (i = 0; i < r->n_alerts; i++) {
		const struct hs_alert *a = &r->alerts[i];
		jw_obj_open(w, NULL);
		jw_key_uint(w, "frame", a->frame);
		jw_key_time_us(w, "time", a->ts_us);
		jw_key_str(w, "sender", rpt_dir_name(a->dir));
		jw_key_bool(w, "encrypted", a->encrypted);
		jw_key_bool(w, "inferred_from_size", a->inferred);
		if (hs_rare(r)->dec)   /* only with --keylog, so reports without one keep their shape */
			jw_key_bool(w, "decrypted", a->decrypted);
		if (a->encrypted) {
			jw_key_null(w, "level");
			jw_key_null(w, "level_name");
			jw_key_null(w, "description");
			jw_key_null(w, "description_name");
		} else {
			const char *ln = names_alert_level(a->level), *dn = names_alert(a->description);
			jw_key_uint(w, "level", a->level);
			jw_key_str(w, "level_name", ln ? ln : "unknown");
			jw_key_uint(w, "description", a->description);
			if (dn)
				jw_key_str(w, "description_name", dn);
			else
				jw_key_null(w, "description_name");
		}
		if (a->after_hs_type != 255 && names_hs_type(a->after_hs_type))
			jw_key_str(w, "after_peer_message", names_hs_type(a->after_hs_type));
		else
			jw_key_null(w, "after_peer_message");
		jw_obj_close(w);
	}
	jw_arr_close(w);
	jw_key_uint(w, "alerts_total", r->total_alerts);
}

/* The first application data bytes of one direction, as they read
 * (report/appdata.c): HTTP/1.x status or request line, the HTTP/2
 * preface and frame types. */
static void decrypted_first_bytes(struct jw *w, const struct hs_record *r, int d)
{
	struct rpt_appdata a;
	size_t i;
	if (!rpt_appdata(r, d, &a)) {
		jw_key_null(w, "first_application_data");
		return;
	}
	jw_obj_open(w, "first_application_data");
	jw_key_uint(w, "frame", a.frame);
	jw_key_hex(w, "bytes_hex", a.bytes, a.len);
	jw_key_str(w, "kind", rpt_appdata_kind_name(a.kind));
	if (a.kind == APPD_H1_STATUS)
		jw_key_uint(w, "http_status", a.status);
	if (a.kind == APPD_H1_STATUS || a.kind == APPD_H1_REQUEST)
		jw_key_strn(w, "line", a.bytes, a.line_len);
	if (a.kind == APPD_H2_PREFACE || a.kind == APPD_H2_FRAMES) {
		jw_arr_open(w, "http2_frame_types");
		for (i = 0; i < a.n_h2; i++)
			jw_uint(w, a.h2_types[i]);
		jw_arr_close(w);
	}
	jw_obj_close(w);
}

/* What the key log let us read (--keylog only; absent without one). */
static void decrypted(struct jw *w, const struct hs_record *r)
{
	const struct hs_decrypted *x = hs_rare(r)->dec;
	int d;
	if (!x)
		return;
	jw_obj_open(w, "decrypted");
	jw_key_bool(w, "keys", x->keys);
	if (x->suite) {
		jw_key_uint(w, "cipher_suite", x->suite);
		jw_key(w, "cipher_suite_name");
		code_name(w, names_suite_name, x->suite);
	} else {
		jw_key_null(w, "cipher_suite");
		jw_key_null(w, "cipher_suite_name");
	}
	for (d = 0; d < 2; d++) {
		uint8_t i;
		jw_obj_open(w, d == DIR_C2S ? "client" : "server");
		jw_key_bool(w, "keyed", x->keyed[d]);
		jw_key_uint(w, "records_decrypted", x->records_ok[d]);
		jw_key_uint(w, "records_failed", x->records_failed[d]);
		if (x->first_error[d])
			jw_key_str(w, "error", tlsdec_strerror((enum tlsdec_err)x->first_error[d]));
		else
			jw_key_null(w, "error");
		jw_arr_open(w, "handshake_messages");
		for (i = 0; i < x->n_hs[d]; i++) {
			const char *hn = names_hs_type(x->hs_types[d][i]);
			if (hn)
				jw_str(w, hn);
			else
				jw_uint(w, x->hs_types[d][i]);
		}
		jw_arr_close(w);
		jw_key_uint(w, "handshake_messages_total", x->total_hs[d]);
		decrypted_first_bytes(w, r, d);
		jw_obj_close(w);
	}
	jw_key_bool(w, "encrypted_extensions", x->encrypted_extensions);
	if (x->alpn_len)
		jw_key_strn(w, "alpn", x->alpn, x->alpn_len);
	else
		jw_key_null(w, "alpn");
	jw_key_bool(w, "certificate_request", x->cert_request);
	jw_key_str(w, "client_certificate", x->client_cert == 2 ? "present" : x->client_cert == 1 ? "empty" : "none");
	jw_obj_close(w);
}

/* JA3/JA4 of one ClientHello: strings, or null when not applicable. */
static int fp_client(struct jw *w, const struct hs_client_hello *c)
{
	char full[FP_FULL_MAX], md5[FP_MD5_HEX], ja4[FP_JA4_LEN];
	enum fp_rc rc = fp_ja3(c, full, sizeof(full), md5);
	int clipped = rc == FP_CLIPPED;
	if (rc == FP_OK || rc == FP_CLIPPED) {
		jw_key_str(w, "ja3", md5);
		jw_key_str(w, "ja3_full", full);
	} else {
		jw_key_null(w, "ja3");
		jw_key_null(w, "ja3_full");
	}
	rc = fp_ja4(c, ja4, full, sizeof(full));
	clipped |= rc == FP_CLIPPED;
	if (rc == FP_OK || rc == FP_CLIPPED) {
		jw_key_str(w, "ja4", ja4);
		jw_key_str(w, "ja4_r", full);
	} else {
		jw_key_null(w, "ja4");
		jw_key_null(w, "ja4_r");
	}
	return clipped;
}

static int fp_server(struct jw *w, const struct hs_server_hello *s)
{
	char full[FP_FULL_MAX], md5[FP_MD5_HEX];
	enum fp_rc rc = fp_ja3s(s, full, sizeof(full), md5);
	if (rc == FP_OK || rc == FP_CLIPPED) {
		jw_key_str(w, "ja3s", md5);
		jw_key_str(w, "ja3s_full", full);
	} else {
		jw_key_null(w, "ja3s");
		jw_key_null(w, "ja3s_full");
	}
	return rc == FP_CLIPPED;
}

/* "fingerprints": the first ClientHello and the ServerHello at the top,
 * the HelloRetryRequest and the second ClientHello nested (docs/json.md). */
static void fingerprints_body(struct jw *w, const void *arg)
{
	const struct hs_record *r = arg;
	int clipped;
	jw_obj_open(w, "fingerprints");
	clipped = fp_client(w, r->ch);
	clipped |= fp_server(w, r->sh);
	if (hs_rare(r)->hrr) {
		jw_obj_open(w, "hello_retry_request");
		clipped |= fp_server(w, hs_rare(r)->hrr);
		jw_obj_close(w);
	} else {
		jw_key_null(w, "hello_retry_request");
	}
	if (hs_rare(r)->ch2) {
		jw_obj_open(w, "client_hello_2");
		clipped |= fp_client(w, hs_rare(r)->ch2);
		jw_obj_close(w);
	} else {
		jw_key_null(w, "client_hello_2");
	}
	jw_key_bool(w, "clipped", clipped);
	jw_obj_close(w);
}

/* One hello's fingerprint key (fp_ch_key, fp_sh_key) after its length, or
 * a length of 0 for no hello; NULL when it does not fit. */
static uint8_t *fp_key_put(uint8_t *p, size_t kn, int present)
{
	uint16_t n = (uint16_t)kn;
	if (present && !kn)
		return NULL;
	memcpy(p, &n, 2);
	return p + 2 + kn;
}

/* The fingerprints depend on the four hellos' keys only (the fields they
 * are computed from): rendered once per distinct set and replayed. */
static void fingerprints(struct jw *w, const struct hs_record *r)
{
	uint8_t k[4 * (2 + FP_KEY_MAX)], *p = k;
	const struct hs_server_hello *hrr = hs_rare(r)->hrr;
	const struct hs_client_hello *ch2 = hs_rare(r)->ch2;
	p = fp_key_put(p, fp_ch_key(r->ch, p + 2), r->ch != NULL);
	if (p)
		p = fp_key_put(p, fp_sh_key(r->sh, p + 2), r->sh != NULL);
	if (p)
		p = fp_key_put(p, fp_sh_key(hrr, p + 2), hrr != NULL);
	if (p)
		p = fp_key_put(p, fp_ch_key(ch2, p + 2), ch2 != NULL);
	if (p)
		jw_cached_key(w, k, (size_t)(p - k), RPT_JWK_FINGERPRINTS, fingerprints_body, r);
	else
		fingerprints_body(w, r);
}

static void endpoint(struct jw *w, const char *key, const struct hs_addr *a)
{
	char ip[64];
	jw_obj_open(w, key);
	jw_key_str(w, "ip", rpt_ip(ip, sizeof(ip), a));
	jw_key_uint(w, "port", a->port);
	jw_obj_close(w);
}

/* One direction's tunnel: outer addresses as the capture point saw them. */
static void encap_dir(struct jw *w, const char *key, const struct hs_encap *e)
{
	if (!e->packets) {
		jw_key_null(w, key);
		return;
	}
	jw_obj_open(w, key);
	jw_key_str(w, "kind", pkt_encap_name((enum pkt_encap)e->kind));
	jw_key_uint(w, "vni", e->vni);
	endpoint(w, "outer_src", &e->src);
	endpoint(w, "outer_dst", &e->dst);
	jw_key_uint(w, "packets", e->packets);
	jw_obj_close(w);
}

/* null when no packet of the connection came through a tunnel. */
static void encapsulation(struct jw *w, const struct hs_record *r)
{
	static const struct hs_encap none;
	const struct hs_encap *c2s = hs_rare(r)->d[DIR_C2S].encap ? hs_rare(r)->d[DIR_C2S].encap : &none;
	const struct hs_encap *s2c = hs_rare(r)->d[DIR_S2C].encap ? hs_rare(r)->d[DIR_S2C].encap : &none;
	const struct hs_encap *e = c2s->packets ? c2s : s2c;
	if (!e->packets) {
		jw_key_null(w, "encapsulation");
		return;
	}
	jw_obj_open(w, "encapsulation");
	jw_key_str(w, "kind", pkt_encap_name((enum pkt_encap)e->kind));
	jw_key_uint(w, "vni", e->vni);
	encap_dir(w, "client_to_server", c2s);
	encap_dir(w, "server_to_client", s2c);
	jw_obj_close(w);
}

static void identity_members(struct jw *w, const void *arg)
{
	const struct rule_identity *id = arg;
	if (id->name) {
		jw_key_str(w, "name", id->name);
		jw_key_str(w, "description", id->description);
	} else {
		jw_key_null(w, "name");
		jw_key_null(w, "description");
	}
	jw_key_str(w, "match", rule_match_name(id->match));
	if (id->source)
		jw_key_str(w, "source", id->source);
	else
		jw_key_null(w, "source");
}

void rpt_json_identity(struct jw *w, const struct hs_record *r, const struct rule_verdict *v)
{
	const struct rule_identity *id = rpt_identity(r, v);
	if (!id) {
		jw_key_null(w, "client_identity");
		return;
	}
	jw_obj_open(w, "client_identity");
	/* a known identity's members are its list's text (the name points into
	 * the rule set, the same list for every connection it names) and how
	 * it matched: rendered once per pair and replayed (jw_cached) */
	if (id->name && (unsigned)id->match <= RULE_MATCH_EXACT)
		jw_cached(w, id->name, RPT_JWC_IDENTITY + (int)id->match, identity_members, id);
	else
		identity_members(w, id);
	jw_obj_close(w);
}

/* s quoted at o when it is at most 64 bytes, every one of them written as
 * it is in a JSON string (printable ASCII but '"' and '\\'): the end;
 * NULL otherwise (the caller then writes it with the writer, escaped). */
static char *plain_str(char *o, const char *s)
{
	return jw_fmt_plain(o, s, 64);
}

/* {"ip":"...","port":N} at o; NULL when the address text is not plain. */
static char *endpoint_c(char *o, const struct hs_addr *a)
{
	char ip[64];
	o = LIT(o, "{\"ip\":");
	if (!(o = plain_str(o, rpt_ip(ip, sizeof(ip), a))))
		return NULL;
	o = jw_fmt_u64(LIT(o, ",\"port\":"), a->port);
	*o++ = '}';
	return o;
}

/* "id":N,"client":{...},"server":{...},"community_id":... at o (the
 * record's and the lean object's, one writer call each otherwise); NULL
 * when something needs the writer's general way. */
static char *who_c(char *o, const struct hs_record *r, uint16_t cid_seed)
{
	char cid[FP_CID_LEN];
	o = jw_fmt_u64(LIT(o, "\"id\":"), r->id);
	o = LIT(o, ",\"client\":");
	if (!(o = endpoint_c(o, &r->cli)))
		return NULL;
	o = LIT(o, ",\"server\":");
	if (!(o = endpoint_c(o, &r->srv)))
		return NULL;
	o = LIT(o, ",\"community_id\":");
	if (fp_community_id(&r->cli, &r->srv, 6, cid_seed, cid, sizeof(cid)))
		return plain_str(o, cid);
	return LIT(o, "null");
}

/* rpt_json_record()'s members from "id" to "closed", for a compact writer,
 * built in place (jw_members; about twenty-five writer calls fewer a
 * connection); 0 when the writer is pretty or something needs the
 * writer's general way (a name to escape, a time outside 0-9999). */
static int record_head_compact(struct jw *w, const struct hs_record *r, uint16_t cid_seed)
{
	char *o = jw_members(w, 1024);
	if (!o || !(o = who_c(o, r, cid_seed)))
		return 0;
	o = LIT(o, ",\"client_determined_by\":");
	if (!(o = plain_str(o, hs_role_by_name((enum hs_role_by)r->role_by))))
		return 0;
	o = LIT(o, ",\"stage\":");
	if (!(o = plain_str(o, hs_stage_name((enum hs_stage)r->stage))))
		return 0;
	o = r->is_tls ? LIT(o, ",\"tls\":true") : LIT(o, ",\"tls\":false");
	o = r->complete ? LIT(o, ",\"complete\":true") : LIT(o, ",\"complete\":false");
	o = LIT(o, ",\"complete_frame\":");
	if (hs_rat_frame(r, HS_RAT_COMPLETE))
		o = jw_fmt_u64(o, hs_rat_frame(r, HS_RAT_COMPLETE));
	else
		o = LIT(o, "null");
	o = r->abbreviated ? LIT(o, ",\"resumed\":true") : LIT(o, ",\"resumed\":false");
	o = jw_fmt_u64(LIT(o, ",\"plaintext_before_tls\":{\"client\":"), hs_rare(r)->d[DIR_C2S].plaintext_before_tls);
	o = jw_fmt_u64(LIT(o, ",\"server\":"), hs_rare(r)->d[DIR_S2C].plaintext_before_tls);
	o = jw_fmt_u64(LIT(o, "},\"first_frame\":"), r->first_frame);
	o = jw_fmt_u64(LIT(o, ",\"last_frame\":"), hs_last_frame(r));
	o = LIT(o, ",\"start_time\":");
	if (!(o = jw_fmt_time_us(w, o, r->first_ts_us)))
		return 0;
	o = LIT(o, ",\"end_time\":");
	if (!(o = jw_fmt_time_us(w, o, hs_last_ts(r))))
		return 0;
	o = jw_fmt_i64(LIT(o, ",\"duration_us\":"), hs_last_ts(r) - r->first_ts_us);
	o = LIT(o, ",\"closed\":");
	if (r->closed_by != 255) {
		o = LIT(o, "{\"by\":");
		if (!(o = plain_str(o, rpt_dir_name(r->closed_by))))
			return 0;
		o = r->closed_with == EV_RST ? LIT(o, ",\"with\":\"rst\"") : LIT(o, ",\"with\":\"fin\"");
		o = LIT(o, ",\"after\":");
		if (!(o = plain_str(o, hs_ev_kind_name((enum hs_ev_kind)r->closed_after_kind))))
			return 0;
		*o++ = '}';
	} else {
		o = LIT(o, "null");
	}
	jw_members_end(w, o);
	return 1;
}

/* rpt_json_record()'s members from "id" to "closed", one writer call each. */
static void record_head(struct jw *w, const struct hs_record *r, uint16_t cid_seed)
{
	jw_key_uint(w, "id", r->id);
	endpoint(w, "client", &r->cli);
	endpoint(w, "server", &r->srv);
	{
		char cid[FP_CID_LEN];
		if (fp_community_id(&r->cli, &r->srv, 6, cid_seed, cid, sizeof(cid)))
			jw_key_str(w, "community_id", cid);
		else
			jw_key_null(w, "community_id");
	}
	jw_key_str(w, "client_determined_by", hs_role_by_name((enum hs_role_by)r->role_by));
	jw_key_str(w, "stage", hs_stage_name((enum hs_stage)r->stage));
	jw_key_bool(w, "tls", r->is_tls);
	jw_key_bool(w, "complete", r->complete);
	if (hs_rat_frame(r, HS_RAT_COMPLETE))
		jw_key_uint(w, "complete_frame", hs_rat_frame(r, HS_RAT_COMPLETE));
	else
		jw_key_null(w, "complete_frame");
	jw_key_bool(w, "resumed", r->abbreviated);
	jw_obj_open(w, "plaintext_before_tls");
	jw_key_uint(w, "client", hs_rare(r)->d[DIR_C2S].plaintext_before_tls);
	jw_key_uint(w, "server", hs_rare(r)->d[DIR_S2C].plaintext_before_tls);
	jw_obj_close(w);
	jw_key_uint(w, "first_frame", r->first_frame);
	jw_key_uint(w, "last_frame", hs_last_frame(r));
	jw_key_time_us(w, "start_time", r->first_ts_us);
	jw_key_time_us(w, "end_time", hs_last_ts(r));
	jw_key_int(w, "duration_us", hs_last_ts(r) - r->first_ts_us);
	if (r->closed_by != 255) {
		jw_obj_open(w, "closed");
		jw_key_str(w, "by", rpt_dir_name(r->closed_by));
		jw_key_str(w, "with", r->closed_with == EV_RST ? "rst" : "fin");
		jw_key_str(w, "after", hs_ev_kind_name((enum hs_ev_kind)r->closed_after_kind));
		jw_obj_close(w);
	} else {
		jw_key_null(w, "closed");
	}
}

/* "anomalies":[],"encapsulation":null,"ip_reassembled_segments":N for a
 * record with no anomaly that came through no tunnel, built in place
 * (compact); 0 when it has either or the writer is pretty. */
static int no_encap_compact(struct jw *w, const struct hs_record *r)
{
	char *o;
	if (hs_rare(r)->d[DIR_C2S].encap && hs_rare(r)->d[DIR_C2S].encap->packets)
		return 0;
	if (hs_rare(r)->d[DIR_S2C].encap && hs_rare(r)->d[DIR_S2C].encap->packets)
		return 0;
	if (!(o = jw_members(w, 128)))
		return 0;
	o = jw_fmt_u64(LIT(o, "\"anomalies\":[],\"encapsulation\":null,\"ip_reassembled_segments\":"), hs_rare(r)->ip_reassembled);
	jw_members_end(w, o);
	return 1;
}

/* A code's name (code_name()'s bytes) at o; NULL when it must be written
 * the long way. */
static char *name_c(char *o, const char *(*fn)(uint16_t), uint16_t v)
{
	const struct name_slot *e = name_slot_for(fn, v);
	if (!e->n)
		return NULL;
	memcpy(o, e->s, e->n);
	return o + e->n;
}

/* rpt_json_record()'s members from "certificate_request" to
 * "application_data_records", for a compact writer, built in place
 * (jw_members); 0 when the writer is pretty or a name needs the long way. */
static int record_mid_compact(struct jw *w, const struct hs_record *r)
{
	char *o = jw_members(w, 768);
	if (!o)
		return 0;
	o = LIT(o, "\"certificate_request\":");
	if (r->cert_request) {
		o = jw_fmt_u64(LIT(o, "{\"frame\":"), hs_rat_frame(r, HS_RAT_CERT_REQUEST));
		o = jw_fmt_u64(LIT(o, ",\"ca_names\":"), hs_rare(r)->n_ca_names);
		*o++ = '}';
	} else {
		o = LIT(o, "null");
	}
	o = LIT(o, ",\"server_key_exchange\":");
	if (r->ske) {
		o = LIT(o, "{\"group\":");
		if (r->ske_group) {
			o = jw_fmt_u64(o, r->ske_group);
			o = LIT(o, ",\"group_name\":");
			if (!(o = name_c(o, names_group, r->ske_group)))
				return 0;
		} else {
			o = LIT(o, "null,\"group_name\":null");
		}
		o = LIT(o, ",\"dh_bits\":");
		if (r->ske_dh_bits)
			o = jw_fmt_u64(o, r->ske_dh_bits);
		else
			o = LIT(o, "null");
		o = LIT(o, ",\"signature_algorithm\":");
		if (r->ske_sigalg) {
			o = jw_fmt_u64(o, r->ske_sigalg);
			o = LIT(o, ",\"signature_algorithm_name\":");
			if (!(o = name_c(o, names_sigalg, r->ske_sigalg)))
				return 0;
		} else {
			o = LIT(o, "null,\"signature_algorithm_name\":null");
		}
		*o++ = '}';
	} else {
		o = LIT(o, "null");
	}
	o = r->server_hello_done ? LIT(o, ",\"server_hello_done\":true") : LIT(o, ",\"server_hello_done\":false");
	o = r->client_key_exchange ? LIT(o, ",\"client_key_exchange\":true")
				   : LIT(o, ",\"client_key_exchange\":false");
	o = r->new_session_ticket ? LIT(o, ",\"new_session_ticket\":true")
				  : LIT(o, ",\"new_session_ticket\":false");
	o = jw_fmt_u64(LIT(o, ",\"encrypted_handshake_records\":{\"client\":"), r->d[DIR_C2S].encrypted_hs);
	o = jw_fmt_u64(LIT(o, ",\"server\":"), r->d[DIR_S2C].encrypted_hs);
	o = jw_fmt_u64(LIT(o, "},\"application_data_records\":{\"client\":"), r->d[DIR_C2S].appdata_records);
	o = jw_fmt_u64(LIT(o, ",\"server\":"), r->d[DIR_S2C].appdata_records);
	*o++ = '}';
	jw_members_end(w, o);
	return 1;
}

/* rpt_json_record()'s members from "certificate_request" to
 * "application_data_records", one writer call each. */
static void record_mid(struct jw *w, const struct hs_record *r)
{
	if (r->cert_request) {
		jw_obj_open(w, "certificate_request");
		jw_key_uint(w, "frame", hs_rat_frame(r, HS_RAT_CERT_REQUEST));
		jw_key_uint(w, "ca_names", hs_rare(r)->n_ca_names);
		jw_obj_close(w);
	} else {
		jw_key_null(w, "certificate_request");
	}
	if (r->ske) {
		jw_obj_open(w, "server_key_exchange");
		if (r->ske_group) {
			jw_key_uint(w, "group", r->ske_group);
			jw_key(w, "group_name");
			code_name(w, names_group, r->ske_group);
		} else {
			jw_key_null(w, "group");
			jw_key_null(w, "group_name");
		}
		if (r->ske_dh_bits)
			jw_key_uint(w, "dh_bits", r->ske_dh_bits);
		else
			jw_key_null(w, "dh_bits");
		if (r->ske_sigalg) {
			jw_key_uint(w, "signature_algorithm", r->ske_sigalg);
			jw_key(w, "signature_algorithm_name");
			code_name(w, names_sigalg, r->ske_sigalg);
		} else {
			jw_key_null(w, "signature_algorithm");
			jw_key_null(w, "signature_algorithm_name");
		}
		jw_obj_close(w);
	} else {
		jw_key_null(w, "server_key_exchange");
	}
	jw_key_bool(w, "server_hello_done", r->server_hello_done);
	jw_key_bool(w, "client_key_exchange", r->client_key_exchange);
	jw_key_bool(w, "new_session_ticket", r->new_session_ticket);
	jw_obj_open(w, "encrypted_handshake_records");
	jw_key_uint(w, "client", r->d[DIR_C2S].encrypted_hs);
	jw_key_uint(w, "server", r->d[DIR_S2C].encrypted_hs);
	jw_obj_close(w);
	jw_obj_open(w, "application_data_records");
	jw_key_uint(w, "client", r->d[DIR_C2S].appdata_records);
	jw_key_uint(w, "server", r->d[DIR_S2C].appdata_records);
	jw_obj_close(w);
}

void rpt_json_record(struct jw *w, const struct hs_record *r, uint16_t cid_seed)
{
	int b;
	if (!record_head_compact(w, r, cid_seed))
		record_head(w, r, cid_seed);
	if (r->anomalies || !no_encap_compact(w, r)) {
		jw_arr_open(w, "anomalies");
		for (b = 0; b < 32; b++)
			if (r->anomalies & (1u << b))
				jw_str(w, hs_anomaly_name((enum hs_anomaly)(1u << b)));
		jw_arr_close(w);
		encapsulation(w, r);
		jw_key_uint(w, "ip_reassembled_segments", hs_rare(r)->ip_reassembled);
	}
	jw_obj_open(w, "tcp");
	dirstats(w, "client", r, DIR_C2S);
	dirstats(w, "server", r, DIR_S2C);
	jw_obj_close(w);
	client_hello(w, "client_hello", r->ch);
	jw_key_uint(w, "client_hello_count", r->client_hellos);
	server_hello(w, "hello_retry_request", hs_rare(r)->hrr);
	client_hello(w, "client_hello_2", hs_rare(r)->ch2);
	server_hello(w, "server_hello", r->sh);
	fingerprints(w, r);
	chain(w, "server_certificates", r, &r->server_chain);
	chain(w, "client_certificates", r, &hs_rare(r)->client_chain);
	if (!record_mid_compact(w, r))
		record_mid(w, r);
	alerts(w, r);
	decrypted(w, r);
	if (r->nontls_dir != 255) {
		jw_obj_open(w, "non_tls");
		jw_key_str(w, "sender", rpt_dir_name(r->nontls_dir));
		wire_quote(w, hs_rat_frame(r, HS_RAT_NONTLS), hs_rat_ts(r, HS_RAT_NONTLS), hs_rare(r)->nontls, hs_rare(r)->nontls_len);
		jw_obj_close(w);
	} else {
		jw_key_null(w, "non_tls");
	}
	first_bytes(w, r);
	ladder(w, r);
}

/* --detail lean: what a log pipeline keeps of a healthy connection
 * (docs/json.md "Lean connections"): who, when, what was negotiated, the
 * fingerprints, the leaf certificate, the verdict. A failed or
 * inconclusive connection is written whole instead.
 *
 * A budget: a JSON Lines line must fit in 1 KiB. The connection's own
 * strings (SNI, ALPN, the certificate's names, the client's identity, the
 * rule's words) and lists (ALPN offered, notes, anomalies) are what can
 * make it longer, so when a line would not fit it is written again with
 * each such string cut to at most a cap of bytes (ending in "…", whole
 * characters only) and each list to a few entries (lean_caps), the cap
 * the largest that fits (halving between LEAN_CAP_MIN and LEAN_CAP_MAX),
 * and `"cut": true` says so. Short strings are never touched: only the
 * ones past the cap. */
struct lean_cap {
	size_t str;     /* 0: no limit */
	size_t list;
	int cut;        /* something was cut */
};

/* The caps for a string cap of `str` bytes: lists shorten with it. */
static struct lean_cap lean_caps(size_t str)
{
	struct lean_cap c;
	c.str = str;
	c.list = str >= 160 ? 16 : str >= 96 ? 8 : str >= 48 ? 4 : str >= 24 ? 2 : str >= 12 ? 1 : 0;
	c.cut = 0;
	return c;
}
/* The first try's cap, and the least. With these the first try is at
 * most about 5 KiB whatever the values (nine strings of 256 bytes, three
 * lists of 16 entries of 64), so the line is still in the writer's 8 KiB
 * buffer when it is measured, and jw_seek() can undo it. */
#define LEAN_CAP_MAX 256
#define LEAN_CAP_MIN 4
#define LEAN_ENTRY_MAX 64

#define ELLIPSIS "\xe2\x80\xa6"   /* U+2026, 3 bytes */

/* s[0..n) as a JSON string of at most c->str bytes between its quotes. */
static void lean_strn(struct jw *w, const uint8_t *s, size_t n, struct lean_cap *c)
{
	uint8_t t[LEAN_CAP_MAX + 3];
	size_t k, room;
	if (!c->str || jw_strn_fit(s, n, c->str, NULL) == n) {
		jw_strn(w, s, n);
		return;
	}
	room = c->str > 3 ? c->str - 3 : 0;
	if (room > LEAN_CAP_MAX)
		room = LEAN_CAP_MAX;
	k = jw_strn_fit(s, n, room, NULL);   /* k <= room: no byte is written shorter than it is */
	memcpy(t, s, k);
	memcpy(t + k, ELLIPSIS, 3);
	jw_strn(w, t, k + 3);
	c->cut = 1;
}

static void lean_key_strn(struct jw *w, const char *key, const uint8_t *s, size_t n, struct lean_cap *c)
{
	jw_key(w, key);
	lean_strn(w, s, n, c);
}

static void lean_key_str(struct jw *w, const char *key, const char *s, struct lean_cap *c)
{
	lean_key_strn(w, key, (const uint8_t *)s, strlen(s), c);
}

/* One more entry of a list that holds `had` already: 0 when the cap says no. */
static int lean_more(size_t had, struct lean_cap *c)
{
	if (c->str && had >= c->list) {
		c->cut = 1;
		return 0;
	}
	return 1;
}

/* lean_body()'s members from "detail" to "handshake_us" (nothing in them
 * is cut to a cap), for a compact writer, built in place (jw_members); 0
 * when something needs the writer's general way. */
static int lean_head_compact(struct jw *w, const struct hs_record *r, const struct rule_verdict *v,
			     uint16_t cid_seed)
{
	char *o = jw_members(w, 640);
	if (!o)
		return 0;
	o = LIT(o, "\"detail\":\"lean\",\"verdict\":");
	if (!(o = plain_str(o, rpt_outcome_name(v))))
		return 0;
	*o++ = ',';
	if (!(o = who_c(o, r, cid_seed)))
		return 0;
	o = LIT(o, ",\"stage\":");
	if (!(o = plain_str(o, hs_stage_name((enum hs_stage)r->stage))))
		return 0;
	o = r->complete ? LIT(o, ",\"complete\":true") : LIT(o, ",\"complete\":false");
	o = r->abbreviated ? LIT(o, ",\"resumed\":true") : LIT(o, ",\"resumed\":false");
	o = LIT(o, ",\"start_time\":");
	if (!(o = jw_fmt_time_us(w, o, r->first_ts_us)))
		return 0;
	o = jw_fmt_i64(LIT(o, ",\"duration_us\":"), hs_last_ts(r) - r->first_ts_us);
	o = LIT(o, ",\"handshake_us\":");
	if (r->complete && hs_rat_frame(r, HS_RAT_COMPLETE))
		o = jw_fmt_i64(o, hs_rat_ts(r, HS_RAT_COMPLETE) - r->first_ts_us);
	else
		o = LIT(o, "null");
	jw_members_end(w, o);
	return 1;
}

/* lean_body()'s members from "detail" to "handshake_us", one writer call each. */
static void lean_head(struct jw *w, const struct hs_record *r, const struct rule_verdict *v, uint16_t cid_seed)
{
	jw_key_str(w, "detail", "lean");
	jw_key_str(w, "verdict", rpt_outcome_name(v));
	jw_key_uint(w, "id", r->id);
	endpoint(w, "client", &r->cli);
	endpoint(w, "server", &r->srv);
	{
		char cid[FP_CID_LEN];
		if (fp_community_id(&r->cli, &r->srv, 6, cid_seed, cid, sizeof(cid)))
			jw_key_str(w, "community_id", cid);
		else
			jw_key_null(w, "community_id");
	}
	jw_key_str(w, "stage", hs_stage_name((enum hs_stage)r->stage));
	jw_key_bool(w, "complete", r->complete);
	jw_key_bool(w, "resumed", r->abbreviated);
	jw_key_time_us(w, "start_time", r->first_ts_us);   /* the end is start_time + duration_us */
	jw_key_int(w, "duration_us", hs_last_ts(r) - r->first_ts_us);
	if (r->complete && hs_rat_frame(r, HS_RAT_COMPLETE))
		jw_key_int(w, "handshake_us", hs_rat_ts(r, HS_RAT_COMPLETE) - r->first_ts_us);
	else
		jw_key_null(w, "handshake_us");
}

static void lean_body(struct jw *w, const struct hs_record *r, const struct rule_verdict *v, uint16_t cid_seed,
		      struct lean_cap *cap)
{
	/* a list's entries: at most LEAN_ENTRY_MAX bytes each under any cap */
	struct lean_cap ecap = *cap;
	const struct hs_client_hello *c = r->ch;
	const struct hs_server_hello *s = r->sh;
	const struct x509_facts *leaf =
		r->server_chain.present && r->server_chain.n ? r->server_chain.c[0].x : NULL;
	const struct rule_finding *d = v ? v->diag : NULL;
	char full[FP_FULL_MAX], md5[FP_MD5_HEX], ja4[FP_JA4_LEN];
	enum fp_rc rc;
	size_t i;
	int b;
	if (ecap.str > LEAN_ENTRY_MAX)
		ecap.str = LEAN_ENTRY_MAX;
	if (!lean_head_compact(w, r, v, cid_seed))
		lean_head(w, r, v, cid_seed);
	if (s) {   /* names only: "0x%04x" keeps an unnamed value exact */
		jw_key(w, "version_name");
		code_name(w, version_name16, s->version);
		jw_key(w, "cipher_suite_name");
		code_name(w, names_suite_name, s->cipher);
	} else {
		jw_key_null(w, "version_name");
		jw_key_null(w, "cipher_suite_name");
	}
	if (c && c->has_sni)
		lean_key_strn(w, "sni", hs_ch_sni(c), c->sni_len, cap);
	else
		jw_key_null(w, "sni");
	if (s && s->alpn_len)
		lean_key_strn(w, "alpn", s->alpn, s->alpn_len, cap);
	else if (hs_rare(r)->dec && hs_rare(r)->dec->alpn_len)
		lean_key_strn(w, "alpn", hs_rare(r)->dec->alpn, hs_rare(r)->dec->alpn_len, cap);
	else
		jw_key_null(w, "alpn");
	jw_arr_open(w, "alpn_offered");
	for (i = 0; c && i < c->n_alpn && lean_more(i, &ecap); i++) {
		uint16_t o = hs_ch_alpn_off(c)[i];
		lean_strn(w, hs_ch_alpn(c) + o + 1, hs_ch_alpn(c)[o], &ecap);
	}
	jw_arr_close(w);
	rc = fp_ja3(c, full, sizeof(full), md5);
	if (rc == FP_OK || rc == FP_CLIPPED)
		jw_key_str(w, "ja3", md5);
	else
		jw_key_null(w, "ja3");
	rc = fp_ja4(c, ja4, full, sizeof(full));
	if (rc == FP_OK || rc == FP_CLIPPED)
		jw_key_str(w, "ja4", ja4);
	else
		jw_key_null(w, "ja4");
	rc = fp_ja3s(s, full, sizeof(full), md5);
	if (rc == FP_OK || rc == FP_CLIPPED)
		jw_key_str(w, "ja3s", md5);
	else
		jw_key_null(w, "ja3s");
	if (leaf && !leaf->malformed) {
		jw_obj_open(w, "certificate");
		lean_key_str(w, "subject", leaf->subject, cap);
		lean_key_str(w, "issuer", leaf->issuer, cap);
		time_s(w, "not_after", leaf->not_after);
		jw_key_bool(w, "expired_at_capture", r->server_chain.c[0].expired);
		jw_obj_close(w);
	} else {
		jw_key_null(w, "certificate");
	}
	{
		const struct rule_identity *id = rpt_identity(r, v);
		if (id && id->name)
			lean_key_str(w, "client_identity", id->name, cap);
		else
			jw_key_null(w, "client_identity");
	}
	if (d) {
		lean_key_str(w, "rule", d->rule, cap);
		lean_key_str(w, "side", d->side, cap);
		lean_key_str(w, "confidence", d->confidence, cap);
	} else {
		jw_key_null(w, "rule");
		jw_key_null(w, "side");
		jw_key_null(w, "confidence");
	}
	jw_arr_open(w, "notes");
	for (i = 0; v && i < v->n_note && lean_more(i, &ecap); i++)
		lean_strn(w, (const uint8_t *)v->note[i].rule, strlen(v->note[i].rule), &ecap);
	jw_arr_close(w);
	jw_arr_open(w, "anomalies");
	for (b = 0, i = 0; b < 32; b++)
		if (r->anomalies & (1u << b) && lean_more(i++, &ecap))
			jw_str(w, hs_anomaly_name((enum hs_anomaly)(1u << b)));
	jw_arr_close(w);
	cap->cut |= ecap.cut;
	if (cap->cut)
		jw_key_bool(w, "cut", 1);
}

void rpt_json_lean(struct jw *w, const struct hs_record *r, const struct rule_verdict *v, uint16_t cid_seed,
		   size_t budget)
{
	struct jw_pos at;
	struct lean_cap c;
	size_t lo = LEAN_CAP_MIN, hi = LEAN_CAP_MAX - 1, best = LEAN_CAP_MIN;
	if (!budget) {
		c = lean_caps(0);   /* no cap */
		lean_body(w, r, v, cid_seed, &c);
		return;
	}
	jw_tell(w, &at);
	c = lean_caps(LEAN_CAP_MAX);
	lean_body(w, r, v, cid_seed, &c);
	if (jw_since(w, &at) <= budget)
		return;
	/* the largest cap that fits: a line only grows with its cap (a string
	 * is whole, or cut to at most the cap), so halving finds it */
	while (lo <= hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (jw_seek(w, &at))
			return;
		c = lean_caps(mid);
		lean_body(w, r, v, cid_seed, &c);
		if (jw_since(w, &at) <= budget) {
			best = mid;
			lo = mid + 1;
		} else {
			hi = mid - 1;
		}
	}
	if (jw_seek(w, &at))
		return;
	c = lean_caps(best);
	lean_body(w, r, v, cid_seed, &c);
}

/*
 * ecs.c - `--format ecs`: one JSON line per connection in Elastic Common
 * Schema field names and types (ECS 8.11.0), so an Elastic (or any
 * ECS-aware) pipeline indexes tlswhy's events next to Zeek's, Suricata's
 * and Packetbeat's without a mapping of its own.
 *
 *   {"@timestamp", "message", "ecs", "event", "observer", "source",
 *    "destination", "network", "related", "tls", "tlswhy": {...}}
 *
 * Only fields ECS defines are written outside "tlswhy", with the ECS type
 * (tests/ecs-fields.tsv is the table, taken from ECS 8.11.0's
 * generated/csv/fields.csv, and tests/siem.py checks every emitted name and
 * value against it). "tlswhy" holds the connection as the JSON document
 * has it (one code path, docs/json.md): a healthy connection lean unless
 * --detail full (rpt_json_lean, what a log pipeline keeps, as JSON Lines
 * does), a failed or inconclusive one whole (rpt_json_record, the identity
 * and the verdict), so nothing tlswhy knows of a failure is lost.
 * Fields with no value are left out, as ECS producers do (no nulls).
 *
 * The run's end is one more line, event.kind "metric", with the summary
 * (and the ALB access-log correlation, when --alb-log was given) under
 * "tlswhy". The mapping is documented in docs/json.md ("ECS").
 */
#include "report/report.h"
#include "dissect/communityid.h"
#include "dissect/fp.h"
#include "dissect/names.h"
#include "dissect/x509.h"
#include "rules/rules.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#define ECS_VERSION "8.11.0"
#define TLSWHY_VERSION "0.1.0"   /* as report/report.c says it */
#define JSON_SCHEMA_VERSION 1

/* ECS tls.version and tls.version_protocol: "1.2" and "tls", "3.0" and
 * "ssl"; NULL when the version is not one of those. */
static const char *ecs_tls_version(uint16_t v, const char **proto)
{
	*proto = "tls";
	if ((v & 0xff00) == 0x7f00)   /* a TLS 1.3 draft */
		return "1.3";
	switch (v) {
	case 0x0304: return "1.3";
	case 0x0303: return "1.2";
	case 0x0302: return "1.1";
	case 0x0301: return "1.0";
	case 0x0300: *proto = "ssl"; return "3.0";
	case 0x0002: *proto = "ssl"; return "2.0";
	}
	return NULL;
}

static void endpoint(struct jw *w, const char *key, const struct hs_addr *a)
{
	char ip[64];
	rpt_ip(ip, sizeof(ip), a);
	jw_obj_open(w, key);
	jw_key_str(w, "ip", ip);
	jw_key_str(w, "address", ip);
	jw_key_uint(w, "port", a->port);
	jw_obj_close(w);
}

/* "DNS:a.example, IP:10.0.0.1" (dissect/x509.c) as ["a.example", "10.0.0.1"];
 * an entry cut short ("...") is left out. The string may hold any byte the
 * certificate had: the writer escapes it. */
static void san_array(struct jw *w, const char *san)
{
	const char *p = san;
	jw_arr_open(w, "alternative_names");
	while (*p) {
		const char *e = strstr(p, ", ");
		size_t n = e ? (size_t)(e - p) : strlen(p);
		const char *v = p;
		if (n >= 4 && !strncmp(v, "DNS:", 4))
			v += 4, n -= 4;
		else if (n >= 3 && !strncmp(v, "IP:", 3))
			v += 3, n -= 3;
		if (n && !(n >= 3 && !strncmp(v + n - 3, "...", 3)))
			jw_strn(w, (const uint8_t *)v, n);
		p = e ? e + 2 : p + strlen(p);
	}
	jw_arr_close(w);
}

static void upper_hex(char *out, const uint8_t *b, size_t n)
{
	static const char hx[] = "0123456789ABCDEF";
	size_t i;
	for (i = 0; i < n; i++) {
		out[2 * i] = hx[b[i] >> 4];
		out[2 * i + 1] = hx[b[i] & 15];
	}
	out[2 * n] = 0;
}

/* tls.server.*: the leaf the server sent (ECS describes the leaf only):
 * from its DER alone (its SHA-256 and the x509 cache's facts of it), so
 * rendered once per leaf and replayed (server_cert() keys it). */
static void leaf_fields(struct jw *w, const void *arg)
{
	const struct hs_cert *hc = arg;
	const struct x509_facts *x = hc->x;
	char hex[65], serial[sizeof x->serial_hex];
	size_t i;
	upper_hex(hex, hc->sha256, 32);
	jw_obj_open(w, "hash");
	jw_key_str(w, "sha256", hex);
	jw_obj_close(w);
	if (!x || x->malformed)
		return;
	jw_key_str(w, "subject", x->subject);
	jw_key_str(w, "issuer", x->issuer);
	jw_key_time_us(w, "not_before", x->not_before * 1000000);
	jw_key_time_us(w, "not_after", x->not_after * 1000000);
	jw_obj_open(w, "x509");
	jw_obj_open(w, "subject");
	jw_key_str(w, "distinguished_name", x->subject);
	if (x->subject_cn[0]) {
		jw_arr_open(w, "common_name");
		jw_str(w, x->subject_cn);
		jw_arr_close(w);
	}
	jw_obj_close(w);
	jw_obj_open(w, "issuer");
	jw_key_str(w, "distinguished_name", x->issuer);
	jw_obj_close(w);
	jw_key_time_us(w, "not_before", x->not_before * 1000000);
	jw_key_time_us(w, "not_after", x->not_after * 1000000);
	san_array(w, x->san);
	for (i = 0; x->serial_hex[i] && i + 1 < sizeof(serial); i++)
		serial[i] = (char)(x->serial_hex[i] >= 'a' && x->serial_hex[i] <= 'f' ? x->serial_hex[i] - 32
										      : x->serial_hex[i]);
	serial[i] = 0;
	if (serial[0])
		jw_key_str(w, "serial_number", serial);
	if (x->sig_alg[0])
		jw_key_str(w, "signature_algorithm", x->sig_alg);
	jw_key_str(w, "public_key_algorithm", x509_key_name((enum x509_key)x->key_type));
	if (x->key_bits > 0)
		jw_key_int(w, "public_key_size", x->key_bits);
	jw_obj_close(w);
}

/* The leaf's fields, keyed by every field leaf_fields() reads: the DER's
 * SHA-256 and length, and whether its facts are at hand and parsed. */
static void server_cert(struct jw *w, const struct hs_record *r)
{
	const struct hs_cert *hc = r->server_chain.n ? &r->server_chain.c[0] : NULL;
	uint8_t k[32 + 4 + 2];
	if (!hc)
		return;
	memcpy(k, hc->sha256, 32);
	memcpy(k + 32, &hc->der_len, 4);
	k[36] = hc->x != NULL;
	k[37] = hc->x && hc->x->malformed;
	jw_cached_key(w, k, sizeof(k), RPT_JWK_ECS_LEAF, leaf_fields, hc);
}

/* tls.client.supported_ciphers: IANA names of the offered suites, GREASE
 * left out; from the suites alone, so rendered once per list. */
static void supported_ciphers(struct jw *w, const void *arg)
{
	const struct hs_client_hello *ch = arg;
	uint16_t i;
	jw_arr_open(w, "supported_ciphers");
	for (i = 0; i < ch->n_suites; i++) {
		const char *s = names_suite_name(hs_ch_suites(ch)[i]);
		char b[16];
		if (names_is_grease(hs_ch_suites(ch)[i]))
			continue;
		if (!s) {
			snprintf(b, sizeof(b), "0x%04x", hs_ch_suites(ch)[i]);
			s = b;
		}
		jw_str(w, s);
	}
	jw_arr_close(w);
}

static void tls_fields(struct jw *w, const struct hs_record *r)
{
	const struct hs_client_hello *ch = r->ch;
	const struct hs_server_hello *sh = r->sh;
	char full[FP_FULL_MAX], md5[FP_MD5_HEX];
	const char *ver = NULL, *proto = "tls";
	if (!r->is_tls)
		return;
	jw_obj_open(w, "tls");
	if (sh)
		ver = ecs_tls_version(sh->version, &proto);
	if (ver) {
		jw_key_str(w, "version", ver);
		jw_key_str(w, "version_protocol", proto);
	}
	if (sh) {
		const char *s = names_suite_name(sh->cipher);
		char b[16];
		if (!s) {
			snprintf(b, sizeof(b), "0x%04x", sh->cipher);
			s = b;
		}
		jw_key_str(w, "cipher", s);
		if (sh->key_share_group && names_group(sh->key_share_group))
			jw_key_str(w, "curve", names_group(sh->key_share_group));
		else if (r->ske_group && names_group(r->ske_group))
			jw_key_str(w, "curve", names_group(r->ske_group));
		if (sh->alpn_len)
			jw_key_strn(w, "next_protocol", sh->alpn, sh->alpn_len);
		else if (hs_rare(r)->dec && hs_rare(r)->dec->alpn_len)
			jw_key_strn(w, "next_protocol", hs_rare(r)->dec->alpn, hs_rare(r)->dec->alpn_len);
	}
	jw_key_bool(w, "established", r->complete);
	jw_key_bool(w, "resumed", r->abbreviated);
	if (ch) {
		jw_obj_open(w, "client");
		if (ch->has_sni && ch->sni_len)
			jw_key_strn(w, "server_name", hs_ch_sni(ch), ch->sni_len);
		if (fp_ja3(ch, full, sizeof(full), md5) == FP_OK)
			jw_key_str(w, "ja3", md5);
		jw_cached_key(w, hs_ch_suites(ch), 2u * ch->n_suites, RPT_JWK_ECS_SUITES, supported_ciphers, ch);
		jw_obj_close(w);
	}
	if (sh || r->server_chain.n) {
		jw_obj_open(w, "server");
		if (sh && fp_ja3s(sh, full, sizeof(full), md5) == FP_OK)
			jw_key_str(w, "ja3s", md5);
		server_cert(w, r);
		jw_obj_close(w);
	}
	jw_obj_close(w);
}

/* Appends s to m[0..*n), keeping it under cap bytes with its NUL (cut as
 * snprintf cuts). */
static void cat(char *m, size_t cap, size_t *n, const char *s)
{
	size_t k = strlen(s);
	if (k > cap - 1 - *n)
		k = cap - 1 - *n;
	memcpy(m + *n, s, k);
	*n += k;
	m[*n] = 0;
}

/* "10.0.1.5:40000 -> 10.0.3.7:443: <diagnosis> [rule]", or what happened,
 * into m (ECS_MSG bytes, cut there as snprintf cuts): its length. */
#define ECS_MSG 1024
static size_t message_text(char m[ECS_MSG], const struct hs_record *r, const struct rule_verdict *v)
{
	char c[80], s[80];
	size_t n = 0;
	rpt_endpoint(c, sizeof(c), &r->cli);
	rpt_endpoint(s, sizeof(s), &r->srv);
	cat(m, ECS_MSG, &n, c);
	cat(m, ECS_MSG, &n, " -> ");
	cat(m, ECS_MSG, &n, s);
	cat(m, ECS_MSG, &n, ": ");
	if (v && v->diag) {
		cat(m, ECS_MSG, &n, v->diag->title);
		cat(m, ECS_MSG, &n, " [");
		cat(m, ECS_MSG, &n, v->diag->rule);
		cat(m, ECS_MSG, &n, "]");
	} else {
		cat(m, ECS_MSG, &n, v && v->outcome == RULE_OUTCOME_INCONCLUSIVE ? "inconclusive"
						     : hs_stage_name((enum hs_stage)r->stage));
	}
	return n;
}

static void ecs_head(struct jw *w, int64_t ts_us)
{
	jw_key_time_us(w, "@timestamp", ts_us);
}

static void observer(struct jw *w)
{
	jw_obj_open(w, "ecs");
	jw_key_str(w, "version", ECS_VERSION);
	jw_obj_close(w);
	jw_obj_open(w, "observer");
	jw_key_str(w, "vendor", "tlswhy");
	jw_key_str(w, "product", "tlswhy");
	jw_key_str(w, "type", "sensor");
	jw_key_str(w, "version", TLSWHY_VERSION);
	jw_obj_close(w);
}

#define LIT(o, s) (memcpy((o), (s), sizeof(s) - 1), (o) + sizeof(s) - 1)

/* s quoted and escaped at o (room for JW_STR_ROOM(n)); NULL when too long. */
static char *str_c(char *o, const void *s, size_t n)
{
	return o ? jw_fmt_strn(o, (const uint8_t *)s, n) : NULL;
}

/* "key":{"ip":"...","address":"...","port":N} (endpoint()'s bytes) at o */
static char *endpoint_c(char *o, const struct hs_addr *a)
{
	char ip[64];
	size_t n = strlen(rpt_ip(ip, sizeof(ip), a));
	o = LIT(o, "{\"ip\":");
	o = str_c(o, ip, n);
	if (o)
		o = LIT(o, ",\"address\":");
	o = str_c(o, ip, n);
	if (!o)
		return NULL;
	o = jw_fmt_u64(LIT(o, ",\"port\":"), a->port);
	*o++ = '}';
	return o;
}

/* The members of a connection's line from "@timestamp" to "related", for a
 * compact writer, built in place (jw_members: some forty writer calls
 * fewer a line); 0 when something needs the writer's general way (a
 * string too long, a time outside 0-9999, TLSWHY_FAST_JSON=0). */
static int conn_head_compact(struct rpt *r, const struct hs_record *rec, const struct rule_verdict *v,
			     const char *outcome, const char *msg, size_t msg_n)
{
	struct jw *w = &r->jw;
	const char *reason = v && v->diag ? v->diag->title
			     : v && v->outcome == RULE_OUTCOME_INCONCLUSIVE && v->missing ? v->missing : NULL;
	size_t reason_n = reason ? strlen(reason) : 0;
	size_t sni_n = rec->ch && rec->ch->has_sni ? rec->ch->sni_len : 0;
	char cid[FP_CID_LEN], ip[64], *o;
	if (msg_n > JW_STR_MAX || reason_n > JW_STR_MAX || sni_n > JW_STR_MAX ||
	    !(o = jw_members(w, 1024 + JW_STR_ROOM(msg_n) + JW_STR_ROOM(reason_n) + JW_STR_ROOM(sni_n))))
		return 0;
	o = LIT(o, "\"@timestamp\":");
	if (!(o = jw_fmt_time_us(w, o, rec->first_ts_us)))
		return 0;
	o = LIT(o, ",\"message\":");
	o = str_c(o, msg, msg_n);
	if (!o)
		return 0;
	o = LIT(o, ",\"ecs\":{\"version\":\"" ECS_VERSION "\"},\"observer\":{\"vendor\":\"tlswhy\","
		   "\"product\":\"tlswhy\",\"type\":\"sensor\",\"version\":\"" TLSWHY_VERSION "\"},"
		   "\"event\":{\"kind\":\"event\",\"category\":[\"network\"],\"type\":[\"connection\"");
	if (rec->is_tls)
		o = LIT(o, ",\"protocol\"");
	o = LIT(o, "],\"action\":\"tls-handshake\",\"module\":\"tlswhy\",\"dataset\":\"tlswhy.connection\","
		   "\"outcome\":");
	o = str_c(o, outcome, strlen(outcome));
	if (o && reason) {
		o = LIT(o, ",\"reason\":");
		o = str_c(o, reason, reason_n);
	}
	if (!o)
		return 0;
	o = LIT(o, ",\"start\":");
	if (!(o = jw_fmt_time_us(w, o, rec->first_ts_us)))
		return 0;
	o = LIT(o, ",\"end\":");
	if (!(o = jw_fmt_time_us(w, o, hs_last_ts(rec))))
		return 0;
	{
		int64_t d = hs_last_ts(rec) - rec->first_ts_us;
		o = jw_fmt_i64(LIT(o, ",\"duration\":"), d > INT64_MAX / 1000 ? INT64_MAX : d < INT64_MIN / 1000 ? INT64_MIN : d * 1000);
	}
	o = LIT(o, "},\"source\":");
	if (!(o = endpoint_c(o, &rec->cli)))
		return 0;
	o = LIT(o, ",\"destination\":");
	if (!(o = endpoint_c(o, &rec->srv)))
		return 0;
	o = LIT(o, ",\"network\":{");
	if (fp_community_id(&rec->cli, &rec->srv, 6, r->cid_seed, cid, sizeof(cid))) {
		o = LIT(o, "\"community_id\":");
		if (!(o = str_c(o, cid, strlen(cid))))
			return 0;
		*o++ = ',';
	}
	o = LIT(o, "\"transport\":\"tcp\",\"iana_number\":\"6\",\"type\":");
	o = rec->cli.family == 6 ? LIT(o, "\"ipv6\"") : LIT(o, "\"ipv4\"");
	if (rec->is_tls)
		o = LIT(o, ",\"protocol\":\"tls\"");
	o = LIT(o, "},\"related\":{\"ip\":[");
	o = str_c(o, ip, strlen(rpt_ip(ip, sizeof(ip), &rec->cli)));
	if (o && memcmp(rec->cli.addr, rec->srv.addr, sizeof(rec->cli.addr))) {
		*o++ = ',';
		o = str_c(o, ip, strlen(rpt_ip(ip, sizeof(ip), &rec->srv)));
	}
	if (!o)
		return 0;
	*o++ = ']';
	if (rec->ch && rec->ch->has_sni && rec->ch->sni_len) {
		o = LIT(o, ",\"hosts\":[");
		if (!(o = str_c(o, hs_ch_sni(rec->ch), rec->ch->sni_len)))
			return 0;
		*o++ = ']';
	}
	*o++ = '}';
	jw_members_end(w, o);
	return 1;
}

/* The members of a connection's line from "@timestamp" to "related", one
 * writer call each. */
static void conn_head(struct rpt *r, const struct hs_record *rec, const struct rule_verdict *v,
		      const char *outcome, const char *msg, size_t msg_n)
{
	struct jw *w = &r->jw;
	char cid[FP_CID_LEN], ip[64];
	ecs_head(w, rec->first_ts_us);
	jw_key_strn(w, "message", (const uint8_t *)msg, msg_n);
	observer(w);
	jw_obj_open(w, "event");
	jw_key_str(w, "kind", "event");
	jw_arr_open(w, "category");
	jw_str(w, "network");
	jw_arr_close(w);
	jw_arr_open(w, "type");
	jw_str(w, "connection");
	if (rec->is_tls)
		jw_str(w, "protocol");
	jw_arr_close(w);
	jw_key_str(w, "action", "tls-handshake");
	jw_key_str(w, "module", "tlswhy");
	jw_key_str(w, "dataset", "tlswhy.connection");
	jw_key_str(w, "outcome", outcome);
	if (v && v->diag)
		jw_key_str(w, "reason", v->diag->title);
	else if (v && v->outcome == RULE_OUTCOME_INCONCLUSIVE && v->missing)
		jw_key_str(w, "reason", v->missing);
	jw_key_time_us(w, "start", rec->first_ts_us);
	jw_key_time_us(w, "end", hs_last_ts(rec));
	{
		/* nanoseconds; times are held to the years 1-9999 (pkt_ts_us), so
		 * the span fits in microseconds but not always in nanoseconds */
		int64_t d = hs_last_ts(rec) - rec->first_ts_us;
		jw_key_int(w, "duration", d > INT64_MAX / 1000 ? INT64_MAX : d < INT64_MIN / 1000 ? INT64_MIN : d * 1000);
	}
	jw_obj_close(w);
	endpoint(w, "source", &rec->cli);
	endpoint(w, "destination", &rec->srv);
	jw_obj_open(w, "network");
	if (fp_community_id(&rec->cli, &rec->srv, 6, r->cid_seed, cid, sizeof(cid)))
		jw_key_str(w, "community_id", cid);
	jw_key_str(w, "transport", "tcp");
	jw_key_str(w, "iana_number", "6");
	jw_key_str(w, "type", rec->cli.family == 6 ? "ipv6" : "ipv4");
	if (rec->is_tls)
		jw_key_str(w, "protocol", "tls");
	jw_obj_close(w);
	jw_obj_open(w, "related");
	jw_arr_open(w, "ip");
	jw_str(w, rpt_ip(ip, sizeof(ip), &rec->cli));
	if (memcmp(rec->cli.addr, rec->srv.addr, sizeof(rec->cli.addr)))
		jw_str(w, rpt_ip(ip, sizeof(ip), &rec->srv));
	jw_arr_close(w);
	if (rec->ch && rec->ch->has_sni && rec->ch->sni_len) {
		jw_arr_open(w, "hosts");
		jw_strn(w, hs_ch_sni(rec->ch), rec->ch->sni_len);
		jw_arr_close(w);
	}
	jw_obj_close(w);
}

void rpt_ecs_conn(struct rpt *r, const struct hs_record *rec, const struct rule_verdict *v, int lean)
{
	struct jw *w = &r->jw;
	const char *outcome = rule_verdict_failed(v) ? "failure"
			      : v && v->outcome == RULE_OUTCOME_INCONCLUSIVE ? "unknown"
			      : rec->complete ? "success" : "unknown";
	char msg[ECS_MSG];
	size_t msg_n = message_text(msg, rec, v);
	rpt_jw_line(r);   /* knowledge-base text and ClientHello members replayed, as jsonl */
	jw_obj_open(w, NULL);
	if (!conn_head_compact(r, rec, v, outcome, msg, msg_n))
		conn_head(r, rec, v, outcome, msg, msg_n);
	tls_fields(w, rec);
	jw_obj_open(w, "tlswhy");
	jw_key_str(w, "type", "connection");
	jw_key_uint(w, "schema", JSON_SCHEMA_VERSION);
	if (lean) {
		/* the ECS fields above already hold most of it; no 1 KiB
		 * budget, which they alone would nearly fill */
		rpt_json_lean(w, rec, v, r->cid_seed, 0);
	} else {
		rpt_json_record(w, rec, r->cid_seed);
		rpt_json_identity(w, rec, v);
		rpt_verdict_json(w, rec, v);
	}
	jw_obj_close(w);
	jw_obj_close(w);
	jw_end(w);
}

void rpt_ecs_end(struct rpt *r, const struct rpt_input *in, int nin, const struct rpt_run *run,
		 const struct flow_stats *fs, const char *filter)
{
	struct jw *w = &r->jw;
	char m[256];
	rpt_jw_line(r);
	jw_obj_open(w, NULL);
	ecs_head(w, run->ps.packets ? run->last_ts_us : 0);
	snprintf(m, sizeof(m), "%" PRIu64 " connections reported: %" PRIu64 " failed, %" PRIu64
		 " inconclusive, %" PRIu64 " healthy", r->n.connections, r->n.failed, r->n.inconclusive,
		 r->n.healthy);
	jw_key_str(w, "message", m);
	observer(w);
	jw_obj_open(w, "event");
	jw_key_str(w, "kind", "metric");
	jw_arr_open(w, "category");
	jw_str(w, "network");
	jw_arr_close(w);
	jw_arr_open(w, "type");
	jw_str(w, "info");
	jw_arr_close(w);
	jw_key_str(w, "module", "tlswhy");
	jw_key_str(w, "dataset", "tlswhy.summary");
	if (run->ps.packets) {
		jw_key_time_us(w, "start", run->first_ts_us);
		jw_key_time_us(w, "end", run->last_ts_us);
	}
	jw_obj_close(w);
	jw_obj_open(w, "tlswhy");
	jw_key_str(w, "type", "summary");
	jw_key_uint(w, "schema", JSON_SCHEMA_VERSION);
	rpt_json_tail(r, w, in, nin, run, fs, filter);
	jw_obj_close(w);
	jw_obj_close(w);
	jw_end(w);
	jw_flush(w);
}

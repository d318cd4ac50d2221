/*
 * report.c - text and JSON rendering of retired records (see report.h).
 *
 * Text: by default (offline) a summary at the end, the document of the
 * Markdown report given plain-text syntax (report/textdoc.c), then the
 * counts line; -v (or --all) one compact block per reported connection as
 * it ends, then the counts line and the failures by cause; -q the verdict
 * line and the counts.
 * Every wire string goes through esc_text(), so no control byte reaches the
 * terminal. JSON: one document; connections are streamed into its
 * "connections" array as they are retired, and the inputs, counters and
 * summary follow. JSON Lines: one compact object per connection as it is
 * retired ("type": "connection"), then one "type": "summary" line with what
 * the document's tail holds. Markdown and HTML are written at the end from
 * what report/ticket.c kept (see ticket.h).
 */
#include "report/report.h"

#include "dissect/servers.h"
#include "report/esc.h"
#include "dissect/names.h"
#include "dissect/x509.h"
#include "dissect/fp.h"
#include "report/ticket.h"
#include "rules/rules.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define TLSWHY_VERSION "0.1.0"
#define JSON_SCHEMA_VERSION 1

static const char *C_RED = "\033[31m", *C_GREEN = "\033[32m", *C_BOLD = "\033[1m",
		  *C_DIM = "\033[2m", *C_OFF = "\033[0m";

static const char *col(const struct rpt *r, const char *c)
{
	return r->color ? c : "";
}

int rpt_wanted(const struct rpt *r, const struct hs_record *rec)
{
	if (r->all || rec->is_tls)
		return 1;
	switch (rec->stage) {
	case STAGE_NO_SYNACK:
	case STAGE_REFUSED:
		return 1;
	case STAGE_NO_CLIENT_HELLO:
		/* a connection that opened and carried nothing: the client never spoke */
		if (rec->d[DIR_C2S].payload_bytes == 0 && rec->d[DIR_S2C].payload_bytes == 0 &&
		    hs_at_frame(rec, DIR_S2C, HS_AT_SYN) != 0)
			return 1;
		/* non-TLS bytes where TLS was expected: a PROXY header or plain
		 * HTTP to a port that speaks TLS (on another connection, or by
		 * its answer), a server that spoke first */
		return hs_rare(rec)->d[DIR_C2S].pre_len &&
		       ((rec->known && rec->known->tls_conns) || rec->d[DIR_S2C].tls ||
			record_proxy_header(rec) ||
			(hs_rare(rec)->d[DIR_S2C].pre_len >= 12 && !memcmp(hs_rare(rec)->d[DIR_S2C].pre, "HTTP/1.1 400", 12)) ||
			(record_http_request(rec) && !rec->d[DIR_S2C].payload_bytes && rec->closed_by == DIR_S2C));
	default:
		return 0;
	}
}

static const struct {
	const char *name;
	enum rpt_format f;
} fmt_names[] = {
	{ "text", RPT_TEXT }, { "txt", RPT_TEXT }, { "json", RPT_JSON }, { "jsonl", RPT_JSONL },
	{ "ndjson", RPT_JSONL }, { "markdown", RPT_MARKDOWN }, { "md", RPT_MARKDOWN }, { "html", RPT_HTML },
	{ "htm", RPT_HTML }, { "ecs", RPT_ECS },
};

int rpt_format_parse(const char *name)
{
	size_t i;
	for (i = 0; i < sizeof(fmt_names) / sizeof(fmt_names[0]); i++)
		if (strcmp(name, fmt_names[i].name) == 0)
			return (int)fmt_names[i].f;
	return -1;
}

int rpt_format_from_path(const char *path)
{
	const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
	char ext[16];
	size_t i;
	if (!dot || (slash && dot < slash) || strlen(dot + 1) >= sizeof(ext))
		return -1;
	for (i = 0; dot[1 + i]; i++)
		ext[i] = (char)tolower((unsigned char)dot[1 + i]);
	ext[i] = 0;
	if (!strcmp(ext, "markdown"))
		return RPT_MARKDOWN;
	return rpt_format_parse(ext);
}

const char *rpt_format_name(enum rpt_format f)
{
	switch (f) {
	case RPT_TEXT: return "text";
	case RPT_JSON: return "json";
	case RPT_JSONL: return "jsonl";
	case RPT_MARKDOWN: return "markdown";
	case RPT_HTML: return "html";
	case RPT_ECS: return "ecs";
	}
	return "text";
}

void rpt_free(struct rpt *r)
{
	tk_free(r->tk);
	r->tk = NULL;
	jw_cache_free(r->jwc);
	r->jwc = NULL;
	free(r->streambuf);
	r->streambuf = NULL;
}

void rpt_jw_line(struct rpt *r)
{
	if (r->jw.hold) {
		jw_line(&r->jw);
		return;
	}
	{
		int werr = r->jw.werr;   /* the first write error is the one to say */
		jw_init(&r->jw, r->out, 0);
		r->jw.werr = werr;
	}
	r->jw.cache = r->jwc;
	r->jw.no_members = (uint8_t)(r->no_fast_json != 0);
}

/* The text report keeps the document's grouping (ticket.c) instead of
 * writing each connection. */
static int text_grouped(const struct rpt *r)
{
	return r->fmt == RPT_TEXT && r->text_mode != RPT_TEXT_EACH;
}

int rpt_evidence_mode(const struct rpt *r)
{
	/* tk_add(): a failure's section (its notes too); the rest are
	 * counted by their diagnosis's rule and title alone */
	if (r->fmt == RPT_MARKDOWN || r->fmt == RPT_HTML || text_grouped(r))
		return RULE_EVIDENCE_FAILED;
	/* rpt_conn(): what is not lean is whole */
	if (r->lean && (r->fmt == RPT_JSON || r->fmt == RPT_JSONL || r->fmt == RPT_ECS))
		return RULE_EVIDENCE_FAILED_OR_INCONCLUSIVE;
	return RULE_EVIDENCE_ALL;
}

void rpt_begin(struct rpt *r)
{
	memset(&r->n, 0, sizeof(r->n));
	if ((r->fmt == RPT_MARKDOWN || r->fmt == RPT_HTML || text_grouped(r)) && !r->tk) {
		r->tk = tk_new();
		if (!r->tk) {   /* start-up allocation; the report cannot be written without it */
			fprintf(stderr, "tlswhy: out of memory\n");
			exit(2);
		}
	}
	if ((r->fmt == RPT_JSON || r->fmt == RPT_JSONL || r->fmt == RPT_ECS) && !r->jwc && !r->no_frag_cache)
		r->jwc = jw_cache_new();   /* NULL: rendered each time, the same bytes */
	if (r->fmt == RPT_JSON || r->fmt == RPT_JSONL || r->fmt == RPT_ECS) {
		jw_init(&r->jw, r->out, r->fmt == RPT_JSON && !r->compact);
		r->jw.cache = r->jwc;
		r->jw.no_members = (uint8_t)(r->no_fast_json != 0);
		/* NULL: written as without stream, the same bytes */
		if (r->stream && (r->streambuf || (r->streambuf = malloc(JW_STREAM_BUF)) != NULL))
			jw_stream(&r->jw, r->streambuf, JW_STREAM_BUF);
	}
	if (r->fmt == RPT_JSON) {
		jw_obj_open(&r->jw, NULL);
		jw_obj_open(&r->jw, "tlswhy");
		jw_key_str(&r->jw, "version", TLSWHY_VERSION);
		jw_key_uint(&r->jw, "schema", JSON_SCHEMA_VERSION);
		jw_obj_close(&r->jw);
		jw_arr_open(&r->jw, "connections");
	}
}

static double ms(int64_t us)
{
	return (double)us / 1000.0;
}

/* A name from our tables, else the value as "0x0a0a" in b. */
static const char *name_or_hex(const char *name, char *b, size_t n, uint16_t v)
{
	if (name)
		return name;
	snprintf(b, n, "0x%04x", v);
	return b;
}

const char *rpt_version(char *b, size_t n, uint16_t v)
{
	return name_or_hex(names_version(v), b, n, v);
}

const char *rpt_suite(char *b, size_t n, uint16_t s)
{
	return name_or_hex(names_suite_name(s), b, n, s);
}

static void text_alert(struct rpt *r, const struct hs_record *rec, const struct hs_alert *a)
{
	const char *dn = names_alert(a->description);
	const char *after = a->after_hs_type != 255 ? names_hs_type(a->after_hs_type) : NULL;
	fprintf(r->out, "    alert     frame %" PRIu64 " +%.1f ms  %s%s%s sent ", a->frame,
		ms(a->ts_us - rec->first_ts_us), col(r, C_BOLD), rpt_dir_name(a->dir), col(r, C_OFF));
	if (a->encrypted)
		fprintf(r->out, "an encrypted alert");
	else if (dn)
		fprintf(r->out, "%s %s (%u)", a->level == ALERT_LEVEL_FATAL ? "fatal" : a->level == ALERT_LEVEL_WARNING ? "warning" : "level-?",
			dn, a->description);
	else
		fprintf(r->out, "%s alert %u", a->level == ALERT_LEVEL_FATAL ? "fatal" : "warning", a->description);
	if (after)
		fprintf(r->out, " after %s", after);
	fputc('\n', r->out);
}

/* The first decrypted application data each way (--keylog): the HTTP line
 * or the HTTP/2 frames, marked as decrypted. */
static void text_appdata(struct rpt *r, const struct hs_record *rec)
{
	char esc[4 * HS_DEC_FIRST + 8], what[160];
	struct rpt_appdata a;
	int d;
	for (d = 0; d < 2; d++) {
		if (!rpt_appdata(rec, d, &a))
			continue;
		rpt_appdata_prose(what, sizeof(what), &a);
		fprintf(r->out, "    data      frame %" PRIu64 " %s sent (decrypted): ", a.frame, rpt_dir_name((uint8_t)d));
		if (a.kind == APPD_H1_STATUS || a.kind == APPD_H1_REQUEST || a.kind == APPD_OTHER)
			fprintf(r->out, "\"%s\" (%s)\n",
				esc_text(esc, sizeof(esc), a.bytes, a.kind == APPD_OTHER ? a.len : a.line_len), what);
		else
			fprintf(r->out, "%s\n", what);
	}
}

static void text_chain(struct rpt *r, const char *label, const struct hs_record *rec, const struct hs_chain *c)
{
	uint16_t i;
	char esc[600];
	if (!c->present)
		return;
	fprintf(r->out, "    %-9s frame %" PRIu64 ", %u certificate%s%s\n", label, hs_chain_frame(rec, c), c->total,
		c->total == 1 ? "" : "s", c->malformed ? " (malformed message)" : "");
	for (i = 0; i < c->n; i++) {
		const struct hs_cert *hc = &c->c[i];
		const struct x509_facts *x = hc->x;
		if (hc->facts_not_kept) {
			fprintf(r->out, "      [%u] %u bytes, facts not kept (memory budget)%s\n", i, hc->der_len,
				hc->issued_by_next == 0 ? ", not issued by the next certificate" : "");
			continue;
		}
		if (!x || x->malformed) {
			fprintf(r->out, "      [%u] undecodable DER, %u bytes\n", i, hc->der_len);
			continue;
		}
		esc_text(esc, sizeof(esc), (const uint8_t *)x->subject, strlen(x->subject));
		fprintf(r->out, "      [%u] %s\n", i, esc);
		{
			char nb[32];
			time_t na = (time_t)x->not_after;
			struct tm tm;
			if (gmtime_r(&na, &tm))
				strftime(nb, sizeof(nb), "%Y-%m-%d", &tm);
			else
				snprintf(nb, sizeof(nb), "?");
			fprintf(r->out, "          %s %d%s%s, expires %s%s%s%s%s\n",
				x509_key_name((enum x509_key)x->key_type), x->key_bits,
				x->key_curve[0] ? " " : "", x->key_curve, nb,
				hc->expired ? ", EXPIRED at capture time" : "",
				hc->not_yet_valid ? ", NOT YET VALID at capture time" : "",
				hc->self_signed ? ", self-signed" : "",
				hc->issued_by_next == 0 ? ", not issued by the next certificate" : "");
			if (hc->verify_skipped)
				fprintf(r->out, "          signature check skipped: %s\n",
					x509_skip_name((enum x509_skip)hc->verify_skipped));
		}
	}
}

/* One line: JA4, JA3 and JA3S of the first ClientHello and the ServerHello. */
static void text_fp(struct rpt *r, const struct hs_record *rec)
{
	static char full[FP_FULL_MAX];
	char ja4[FP_JA4_LEN], md5[FP_MD5_HEX];
	const char *sep = " ";
	int rc, clipped = 0;
	if (!rec->ch && !rec->sh)
		return;
	fputs("    fp       ", r->out);
	/* fputs, not fprintf: this line is written for every TLS connection */
	rc = fp_ja4(rec->ch, ja4, full, sizeof(full));
	if (rc == FP_OK || rc == FP_CLIPPED) {
		fputs(sep, r->out);
		fputs("JA4 ", r->out);
		fputs(ja4, r->out);
		sep = "  ";
	}
	clipped |= rc == FP_CLIPPED;
	rc = fp_ja3(rec->ch, full, sizeof(full), md5);
	if (rc == FP_OK || rc == FP_CLIPPED) {
		fputs(sep, r->out);
		fputs("JA3 ", r->out);
		fputs(md5, r->out);
		sep = "  ";
	}
	clipped |= rc == FP_CLIPPED;
	rc = fp_ja3s(rec->sh, full, sizeof(full), md5);
	if (rc == FP_OK || rc == FP_CLIPPED) {
		fputs(sep, r->out);
		fputs("JA3S ", r->out);
		fputs(md5, r->out);
	}
	clipped |= rc == FP_CLIPPED;
	if (clipped)
		fputs("  (over clipped lists)", r->out);
	fputc('\n', r->out);
}

static int same_addr(const struct hs_addr *x, const struct hs_addr *y)
{
	return x->family == y->family && x->port == y->port && memcmp(x->addr, y->addr, 16) == 0;
}

/* The diagnosis in full the first time a (rule, server) pair is seen; a
 * reference to that connection afterwards, so a capture of 500 identical
 * failures reads as one story. */
static void text_findings(struct rpt *r, const struct hs_record *rec, const struct rule_verdict *v)
{
	const char *id = v->diag ? v->diag->rule : NULL;
	int i;
	if (!id || !v->failed) {
		rpt_verdict_text(r->out, rec, v, r->color);
		return;
	}
	for (i = 0; i < r->ngroups; i++) {
		struct rpt_group *g = &r->groups[i];
		if (strcmp(g->rule, id) == 0 && same_addr(&g->srv, &rec->srv)) {
			g->count++;
			fprintf(r->out, "  %sthe same diagnosis as #%" PRIu64 " above%s [%s]\n", col(r, C_BOLD),
				g->first_id, col(r, C_OFF), id);
			return;
		}
	}
	if (r->ngroups < RPT_TEXT_GROUPS) {
		struct rpt_group *g = &r->groups[r->ngroups++];
		snprintf(g->rule, sizeof(g->rule), "%s", id);
		g->srv = rec->srv;
		g->first_id = rec->id;
		g->count = 1;
	} else {
		r->ungrouped++;
	}
	rpt_verdict_text(r->out, rec, v, r->color);
}

static void text_conn(struct rpt *r, const struct hs_record *rec, const struct rule_verdict *v)
{
	char a[80], b[80], vb[16], esc[600];
	const char *stage = hs_stage_name((enum hs_stage)rec->stage);
	int good = rec->stage == STAGE_COMPLETE || rec->stage == STAGE_COMPLETE_CLOSED;
	uint16_t i;
	fprintf(r->out, "%s#%" PRIu64 "%s %s -> %s  %s%s%s  frames %" PRIu64 "-%" PRIu64 ", %.1f ms\n",
		col(r, C_BOLD), rec->id, col(r, C_OFF), rpt_endpoint(a, sizeof(a), &rec->cli),
		rpt_endpoint(b, sizeof(b), &rec->srv), col(r, good ? C_GREEN : C_RED), stage, col(r, C_OFF),
		rec->first_frame, hs_last_frame(rec), ms(hs_last_ts(rec) - rec->first_ts_us));
	if (rec->ch) {
		const struct hs_client_hello *c = rec->ch;
		fprintf(r->out, "    client    ClientHello frame %" PRIu64 ", up to %s, %u suites, SNI %s", c->frame,
			rpt_version(vb, sizeof(vb), c->max_offered), c->total_suites,
			c->has_sni ? esc_text(esc, sizeof(esc), hs_ch_sni(c), c->sni_len) : "(none)");
		if (c->n_alpn) {
			fputs(", ALPN ", r->out);
			for (i = 0; i < c->n_alpn; i++) {
				uint16_t o = hs_ch_alpn_off(c)[i];
				fprintf(r->out, "%s%s", i ? "," : "", esc_text(esc, sizeof(esc), hs_ch_alpn(c) + o + 1, hs_ch_alpn(c)[o]));
			}
		}
		if (c->sslv2)
			fputs(", SSLv2 format", r->out);
		if (c->malformed)
			fputs(", MALFORMED", r->out);
		fputc('\n', r->out);
	}
	if (hs_rare(rec)->hrr) {
		const char *g = names_group(hs_rare(rec)->hrr->key_share_group);
		fprintf(r->out, "    server    HelloRetryRequest frame %" PRIu64 ", asks for group %s\n", hs_rare(rec)->hrr->frame,
			g ? g : "?");
	}
	if (rec->sh) {
		const struct hs_server_hello *s = rec->sh;
		const char *cn = names_suite_name(s->cipher);
		fprintf(r->out, "    server    ServerHello frame %" PRIu64 ", %s, %s", s->frame,
			rpt_version(vb, sizeof(vb), s->version), cn ? cn : "unknown suite");
		if (!cn)
			fprintf(r->out, " 0x%04x", s->cipher);
		if (rec->abbreviated)
			fputs(", resumed session", r->out);
		fputc('\n', r->out);
	}
	if (rec->ch) {
		char idt[400];
		rule_identity_text(rpt_identity(rec, v), idt, sizeof(idt));
		fprintf(r->out, "    client    is %s\n", esc_text(esc, sizeof(esc), (const uint8_t *)idt, strlen(idt)));
	}
	text_fp(r, rec);
	text_chain(r, "certs", rec, &rec->server_chain);
	text_chain(r, "client", rec, &hs_rare(rec)->client_chain);
	if (rec->cert_request)
		fprintf(r->out, "    server    CertificateRequest frame %" PRIu64 " (asks the client for a certificate)\n",
			hs_rat_frame(rec, HS_RAT_CERT_REQUEST));
	for (i = 0; i < rec->n_alerts; i++)
		text_alert(r, rec, &rec->alerts[i]);
	text_appdata(r, rec);
	if (rec->nontls_dir != 255)
		fprintf(r->out, "    non-TLS   frame %" PRIu64 " %s sent: \"%s\"\n", hs_rat_frame(rec, HS_RAT_NONTLS),
			rpt_dir_name(rec->nontls_dir), esc_text(esc, sizeof(esc), hs_rare(rec)->nontls, hs_rare(rec)->nontls_len));
	for (i = 0; i < 2; i++)   /* a PROXY header, a banner, a plain request: the bytes before (or instead of) TLS */
		if (hs_rare(rec)->d[i].pre_len && rec->nontls_dir != i)
			fprintf(r->out, "    plain     frame %" PRIu64 " %s sent before TLS: \"%s\"\n", record_pre_frame(rec, i),
				rpt_dir_name((uint8_t)i), esc_text(esc, sizeof(esc), hs_rare(rec)->d[i].pre, hs_rare(rec)->d[i].pre_len));
	if (rec->closed_by != 255 && !good)
		fprintf(r->out, "    closed    by the %s with %s\n", rpt_dir_name(rec->closed_by),
			rec->closed_with == EV_RST ? "RST" : "FIN");
	if (rec->stage == STAGE_CH_UNANSWERED && rec->ch) {
		/* the silence lasted until the record was judged (the end of the
		 * capture, or a live handshake timeout), or until the client closed */
		int64_t until = rec->closed_by == DIR_C2S ? hs_last_ts(rec) : rec->judged_us;
		int64_t quiet = until - rec->ch->ts_us;
		fprintf(r->out, "    silence   no server byte for %.3f s after the ClientHello\n", (double)quiet / 1e6);
	}
	for (i = 0; i < 2; i++) {
		const struct hs_steer *st = hs_rare(rec)->steer;
		if (hs_rare(rec)->d[i].overlap_conflicts)
			fprintf(r->out, "    conflict  frame %" PRIu64 " %s sent bytes that differ from the copy captured before"
				" (%" PRIu32 " in all): the first copy was read\n", st ? st->conflict_frame[i] : 0,
				rpt_dir_name((uint8_t)i), hs_rare(rec)->d[i].overlap_conflicts);
		if (st && st->out_of_window[i])
			fprintf(r->out, "    ignored   frame %" PRIu64 " %s sent a segment or ACK far outside the window"
				" (%" PRIu32 " in all)\n", st->out_of_window_frame[i], rpt_dir_name((uint8_t)i),
				st->out_of_window[i]);
		if (st && st->bad_checksums[i] && !st->bad_checksum_data[i])
			fprintf(r->out, "    ignored   frame %" PRIu64 " %s sent a segment with a bad checksum"
				" (%" PRIu32 " in all; this direction's checksums are real)\n", st->bad_checksum_frame[i],
				rpt_dir_name((uint8_t)i), st->bad_checksums[i]);
		else if (st && st->bad_checksums[i]) {
			/* data the peer's TCP dropped: read from a retransmission, or missing */
			fprintf(r->out, "    ignored   frame %" PRIu64 " %s sent a segment with a bad checksum"
				" (%" PRIu32 " in all, %" PRIu32 " with data; this direction's checksums are real):"
				" the data was ignored, as the peer dropped it", st->bad_checksum_frame[i],
				rpt_dir_name((uint8_t)i), st->bad_checksums[i], st->bad_checksum_data[i]);
			if (st->bad_checksum_gap_bytes[i])
				fprintf(r->out, "; %" PRIu32 " of those bytes never came again (a gap)\n",
					st->bad_checksum_gap_bytes[i]);
			else
				fputs("; no gap followed\n", r->out);
		}
	}
	if (rec->anomalies) {
		int bit, first = 1;
		fputs("    capture   ", r->out);
		for (bit = 0; bit < 32; bit++)
			if (rec->anomalies & (1u << bit)) {
				fprintf(r->out, "%s%s", first ? "" : ", ", hs_anomaly_name((enum hs_anomaly)(1u << bit)));
				first = 0;
			}
		fputc('\n', r->out);
	}
	if (v)
		text_findings(r, rec, v);
	fputc('\n', r->out);
}

/* The one place that counts a reported connection (struct rpt_counts). */
static void rpt_count(struct rpt_counts *n, const struct hs_record *rec, const struct rule_verdict *v)
{
	n->connections++;
	if (rec->is_tls)
		n->tls++;
	if (rec->complete)
		n->complete++;
	if (rule_verdict_failed(v)) {
		n->failed++;
		if (rec->is_tls)
			n->failed_tls++;
		else
			n->failed_tcp++;
	} else if (v && v->outcome == RULE_OUTCOME_INCONCLUSIVE) {
		n->inconclusive++;
	} else {
		n->healthy++;
	}
	n->by_stage[rec->stage]++;
}

/* "1 connection", "2 connections" */
static const char *plural(uint64_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

int rpt_out_buffer(FILE *f)
{
	static char buf[RPT_OUT_BUF];
	static FILE *owner;
	if (owner && owner != f)
		return -1;
	owner = f;   /* kept past fclose(f): stdout is flushed by exit() */
	return setvbuf(f, buf, _IOFBF, sizeof(buf)) ? -1 : 0;
}

const char *rpt_outcome_name(const struct rule_verdict *v)
{
	if (rule_verdict_failed(v))
		return "failed";
	if (v && v->outcome == RULE_OUTCOME_INCONCLUSIVE)
		return "inconclusive";
	return "healthy";
}

void rpt_conn(struct rpt *r, const struct hs_record *rec, const struct rule_verdict *v)
{
	/* --detail lean: only a healthy connection is cut short */
	int lean = r->lean && (r->fmt == RPT_JSON || r->fmt == RPT_JSONL || r->fmt == RPT_ECS) && !rule_verdict_failed(v) &&
		   !(v && v->outcome == RULE_OUTCOME_INCONCLUSIVE);
	rpt_count(&r->n, rec, v);
	if (r->fmt == RPT_JSON) {
		jw_obj_open(&r->jw, NULL);
		if (lean) {
			rpt_json_lean(&r->jw, rec, v, r->cid_seed, 0);
		} else {
			rpt_json_record(&r->jw, rec, r->cid_seed);
			rpt_json_identity(&r->jw, rec, v);
			rpt_verdict_json(&r->jw, rec, v);   /* empty arrays when nothing matched */
		}
		jw_obj_close(&r->jw);
		if (!r->jw.hold)
			jw_flush(&r->jw);   /* whole connections reach the FILE (a live report flushes it) */
	} else if (r->fmt == RPT_JSONL) {
		struct jw_pos line;
		/* one line per connection; findings and notes always present */
		rpt_jw_line(r);
		jw_tell(&r->jw, &line);
		jw_obj_open(&r->jw, NULL);
		jw_key_str(&r->jw, "type", "connection");
		if (!lean)   /* the summary line names the version; a lean line saves the bytes */
			jw_key_str(&r->jw, "tlswhy_version", TLSWHY_VERSION);
		jw_key_uint(&r->jw, "schema", JSON_SCHEMA_VERSION);
		if (lean) {
			/* the line so far is in the writer (since `line`): what
			 * is left of RPT_LEAN_LINE after it, the closing brace
			 * and the newline */
			size_t used = (size_t)jw_since(&r->jw, &line) + 2;
			rpt_json_lean(&r->jw, rec, v, r->cid_seed, used < RPT_LEAN_LINE ? RPT_LEAN_LINE - used : 1);
		} else {
			jw_key_str(&r->jw, "detail", "full");
			jw_key_str(&r->jw, "verdict", rpt_outcome_name(v));
			rpt_json_record(&r->jw, rec, r->cid_seed);
			rpt_json_identity(&r->jw, rec, v);
			rpt_verdict_json(&r->jw, rec, v);
		}
		jw_obj_close(&r->jw);
		jw_end(&r->jw);
	} else if (r->fmt == RPT_ECS) {
		rpt_ecs_conn(r, rec, v, lean);
	} else if (r->fmt == RPT_MARKDOWN || r->fmt == RPT_HTML || text_grouped(r)) {
		tk_add(r, rec, v);
	} else {
		text_conn(r, rec, v);
	}
}

const char *rpt_ev_numbering(const struct rpt_evidence *ev)
{
	return ev->pcapng ? "frame numbers in this report are the original capture's; in the evidence file "
			    "each packet's comment says \"original frame N\""
			  : "frame numbers in this report are the original capture's; the evidence file numbers "
			    "its packets from 1 (--format json maps them; a -w name ending in .pcapng comments each)";
}

const char *rpt_ev_spool_note(char *buf, size_t n, const struct rpt_evidence *ev)
{
	snprintf(buf, n, "%" PRIu64 " captured %s not kept for the evidence: the live spool reached --max-spool %" PRIu64
		 " MiB",
		 ev->spool_dropped, plural(ev->spool_dropped, "packet was", "packets were"), ev->spool_max_mib);
	return buf;
}

static void evidence_json(struct jw *w, const struct rpt_evidence *ev)
{
	if (!ev) {
		jw_key_null(w, "evidence");
		return;
	}
	jw_obj_open(w, "evidence");
	jw_key_str(w, "file", ev->path);
	jw_key_str(w, "sha256", ev->sha256);
	jw_key_uint(w, "bytes", ev->bytes);
	jw_key_uint(w, "packets", ev->packets);
	jw_key_uint(w, "connections", ev->connections);
	jw_key_str(w, "selection", ev->all ? "all" : "findings");
	jw_key_uint(w, "connections_not_kept", ev->connections_not_kept);
	jw_key_uint(w, "inputs_skipped", ev->inputs_skipped);
	jw_key_str(w, "format", ev->pcapng ? "pcapng" : "pcap");
	/* every frame in the report is the original capture's; the file renumbers */
	jw_key_str(w, "frame_numbering", "original");
	jw_obj_open(w, "frame_map");
	{
		uint32_t i;
		char k[24];
		for (i = 0; i < ev->nmap; i++) {
			snprintf(k, sizeof(k), "%" PRIu64, ev->map[i]);
			jw_key_uint(w, k, (uint64_t)i + 1);
		}
	}
	jw_obj_close(w);
	jw_key_bool(w, "frame_map_complete", !ev->map_partial);
	if (ev->live)
		jw_key_uint(w, "packets_not_spooled", ev->spool_dropped);
	else
		jw_key_null(w, "packets_not_spooled");
	jw_obj_close(w);
}

static void probe_try_json(struct jw *w, const struct rpt_probe_try *t)
{
	jw_obj_open(w, NULL);
	jw_key_uint(w, "connection", (uint64_t)t->conn);
	jw_key_uint(w, "round", (uint64_t)t->round);
	if (t->variant)
		jw_key_str(w, "variant", t->variant);
	else
		jw_key_null(w, "variant");
	jw_key_str(w, "outcome", t->outcome);
	if (t->rule[0])
		jw_key_str(w, "diagnosis", t->rule);
	else
		jw_key_null(w, "diagnosis");
	jw_key_bool(w, "accepted", t->accepted);
	jw_obj_close(w);
}

/* "probe": only from `tlswhy probe` */
static void probe_json(struct jw *w, const struct rpt_probe *p)
{
	int i;
	jw_obj_open(w, "probe");
	jw_key_str(w, "target", p->target);
	jw_key_str(w, "port", p->port);
	jw_key_str(w, "address", p->address);
	jw_key_str(w, "offer", p->offer);
	jw_arr_open(w, "connections");
	for (i = 0; i < p->n; i++)
		probe_try_json(w, &p->t[i]);
	jw_arr_close(w);
	jw_key_bool(w, "connection_cap_reached", p->cap_reached);
	jw_obj_open(w, "verdict");
	jw_key_str(w, "id", p->verdict);
	jw_key_str(w, "text", p->text);
#define OPT(k, v) do { if (v) jw_key_str(w, k, v); else jw_key_null(w, k); } while (0)
	OPT("fix_on_target", p->fix);
	OPT("also_fix", p->fix2);
	OPT("listener_side", p->listener);
#undef OPT
	jw_arr_open(w, "evidence");
	for (i = 0; i < p->n_evidence; i++)
		if (p->evidence[i] >= 0 && p->evidence[i] < p->n)
			probe_try_json(w, &p->t[p->evidence[i]]);
	jw_arr_close(w);
	jw_obj_close(w);
	jw_obj_close(w);
}

/* What follows the connections: inputs, filter, stats, summary, evidence
 * (the document's tail, and the JSON Lines summary line). */
void rpt_json_tail(struct rpt *r, struct jw *w, const struct rpt_input *in, int nin, const struct rpt_run *run,
		   const struct flow_stats *fs, const char *filter)
{
	int i;
	jw_arr_open(w, "inputs");
	for (i = 0; i < nin; i++) {
		jw_obj_open(w, NULL);
		if (in[i].live) {
			jw_key_null(w, "file");
			jw_key_str(w, "interface", in[i].path);
		} else {
			jw_key_str(w, "file", in[i].path);
		}
		jw_key_str(w, "link_type", in[i].link_name ? in[i].link_name : "unknown");
		jw_key_bool(w, "link_type_supported", in[i].link_supported);
		jw_key_uint(w, "packets", in[i].packets);
		jw_key_uint(w, "bytes", in[i].bytes);
		jw_key_uint(w, "first_frame", in[i].first_frame);
		jw_key_bool(w, "truncated", in[i].truncated);
		{
			const char *sha = in[i].sha256;
			const char *note = in[i].hash_note;
			if (*sha)
				jw_key_str(w, "sha256", sha);
			else
				jw_key_null(w, "sha256");
			if (note)
				jw_key_str(w, "sha256_note", note);
			else
				jw_key_null(w, "sha256_note");
		}
		if (in[i].warning[0])
			jw_key_str(w, "warning", in[i].warning);
		else
			jw_key_null(w, "warning");
		if (in[i].error[0])
			jw_key_str(w, "error", in[i].error);
		else
			jw_key_null(w, "error");
		jw_obj_close(w);
	}
	jw_arr_close(w);
	if (filter && *filter)
		jw_key_str(w, "filter", filter);
	else
		jw_key_null(w, "filter");
	jw_obj_open(w, "stats");
	jw_key_uint(w, "packets", run->ps.packets);
	jw_key_uint(w, "bytes", run->ps.bytes);
	jw_key_uint(w, "tcp_segments", run->ps.by_result[PKT_OK]);
	jw_key_uint(w, "ipv4", run->ps.ipv4);
	jw_key_uint(w, "ipv6", run->ps.ipv6);
	jw_key_uint(w, "vlan_tagged", run->ps.vlan);
	jw_key_uint(w, "truncated_segments", run->ps.truncated_payload);
	jw_key_uint(w, "vxlan_segments", run->ps.vxlan);
	jw_key_uint(w, "geneve_segments", run->ps.geneve);
	jw_key_uint(w, "ip_reassembled_segments", run->ps.reassembled);
	jw_key_uint(w, "ip_fragments_dropped", run->ps.frag_dropped);
	if (run->ps.ts_clamped)
		jw_key_uint(w, "timestamps_clamped", run->ps.ts_clamped);
	for (i = 1; i < PKT__COUNT; i++)
		jw_key_uint(w, pkt_result_name((enum pkt_result)i), run->ps.by_result[i]);
	jw_key_uint(w, "flows", fs->flows_created);
	jw_key_uint(w, "flows_evicted", fs->flows_evicted);
	jw_key_uint(w, "flows_active_max", fs->flows_active_max);
	jw_key_uint(w, "untracked_segments", fs->untracked_segments);
	jw_key_uint(w, "cap_segments_hit", fs->cap_segments_hit);
	jw_key_uint(w, "cap_bytes_hit", fs->cap_bytes_hit);
	jw_key_uint(w, "ooo_bytes_max", fs->ooo_bytes_max);
	if (run->live && run->have_kstats) {   /* pcap_stats(): live capture only */
		jw_key_uint(w, "kernel_drops", run->kernel_drops);
		jw_key_uint(w, "interface_drops", run->if_drops);
	} else {
		jw_key_null(w, "kernel_drops");
		jw_key_null(w, "interface_drops");
	}
	if (run->ps.packets) {
		jw_key_time_us(w, "first_time", run->first_ts_us);
		jw_key_time_us(w, "last_time", run->last_ts_us);
	} else {
		jw_key_null(w, "first_time");
		jw_key_null(w, "last_time");
	}
	jw_obj_close(w);
	jw_obj_open(w, "summary");
	jw_key_uint(w, "connections", r->n.connections);
	jw_key_uint(w, "tls_connections", r->n.tls);
	jw_key_uint(w, "complete", r->n.complete);
	jw_key_uint(w, "failed", r->n.failed);
	jw_key_uint(w, "failed_tls", r->n.failed_tls);
	jw_key_uint(w, "failed_tcp", r->n.failed_tcp);
	jw_key_uint(w, "inconclusive", r->n.inconclusive);
	jw_key_uint(w, "healthy", r->n.healthy);
	jw_obj_open(w, "by_stage");
	for (i = 0; i < STAGE__COUNT; i++)
		if (r->n.by_stage[i])
			jw_key_uint(w, hs_stage_name((enum hs_stage)i), r->n.by_stage[i]);
	jw_obj_close(w);
	jw_obj_close(w);
	evidence_json(w, r->ev);
	if (r->alb)   /* --alb-log only: without it the output is as before */
		rpt_alb_json(w, r->alb);
	if (r->probe)
		probe_json(w, r->probe);
}

static void text_sentence(void *arg, const char *s)
{
	fprintf(arg, "%s\n", s);
}

static void text_counts(struct rpt *r, const struct rpt_input *in, int nin, const struct rpt_run *run,
			const struct flow_stats *fs);

void rpt_end(struct rpt *r, const struct rpt_input *in, int nin, const struct rpt_run *run,
	     const struct flow_stats *fs, const char *filter)
{
	if (r->fmt == RPT_JSON) {
		struct jw *w = &r->jw;
		jw_arr_close(w);
		rpt_json_tail(r, w, in, nin, run, fs, filter);
		jw_obj_close(w);
		jw_end(w);
		jw_flush(w);
		return;
	}
	if (r->fmt == RPT_JSONL) {
		struct jw *w = &r->jw;
		rpt_jw_line(r);
		jw_obj_open(w, NULL);
		jw_key_str(w, "type", "summary");
		jw_obj_open(w, "tlswhy");
		jw_key_str(w, "version", TLSWHY_VERSION);
		jw_key_uint(w, "schema", JSON_SCHEMA_VERSION);
		jw_obj_close(w);
		rpt_json_tail(r, w, in, nin, run, fs, filter);
		jw_obj_close(w);
		jw_end(w);
		jw_flush(w);
		return;
	}
	if (r->fmt == RPT_ECS) {
		rpt_ecs_end(r, in, nin, run, fs, filter);
		return;
	}
	if (r->fmt == RPT_MARKDOWN || r->fmt == RPT_HTML) {
		tk_document(r, in, nin, run, fs, filter);
		return;
	}
	if (r->text_mode == RPT_TEXT_SUMMARY)
		tk_document(r, in, nin, run, fs, filter);
	else if (r->text_mode == RPT_TEXT_QUIET)
		tk_headline(r);
	text_counts(r, in, nin, run, fs);
}

/* The text report's closing lines: the counts, the failures by cause and
 * target (per-connection mode: the summary's tables have them), what
 * the capture lacked, the evidence file. */
/* -q: the failures by cause (diagnosis rule), most frequent first, one line each. */
static void quiet_causes(struct rpt *r)
{
	const struct rpt_ticket *t = r->tk;
	size_t order[TK_MAX_CAUSES], k, j;
	char esc[600];
	for (k = 0; k < t->nc; k++)
		order[k] = k;
	for (k = 1; k < t->nc; k++)
		for (j = k; j > 0 && t->c[order[j]].count > t->c[order[j - 1]].count; j--) {
			size_t x = order[j];
			order[j] = order[j - 1];
			order[j - 1] = x;
		}
	for (k = 0; k < t->nc; k++) {
		const struct tk_rule *c = &t->c[order[k]].rule;
		const char *title = c->title ? c->title : "";
		fprintf(r->out, "  %5" PRIu64 " x %s  %s\n", t->c[order[k]].count, c->id ? c->id : "(no rule)",
			esc_text(esc, sizeof(esc), (const uint8_t *)title, strlen(title)));
	}
}

static void text_counts(struct rpt *r, const struct rpt_input *in, int nin, const struct rpt_run *run,
			const struct flow_stats *fs)
{
	int i;
	fprintf(r->out, "%s%" PRIu64 " %s, %" PRIu64 " %s reported (%" PRIu64 " with TLS, %" PRIu64
		" %s complete): %" PRIu64 " failed, %" PRIu64 " inconclusive, %" PRIu64 " healthy%s",
		col(r, C_BOLD), run->ps.packets, plural(run->ps.packets, "packet", "packets"), r->n.connections,
		plural(r->n.connections, "connection", "connections"), r->n.tls, r->n.complete,
		plural(r->n.complete, "handshake", "handshakes"), r->n.failed, r->n.inconclusive, r->n.healthy,
		col(r, C_OFF));
	{
		int first = 1;
		for (i = 0; i < STAGE__COUNT; i++) {
			if (!r->n.by_stage[i] || i == STAGE_COMPLETE || i == STAGE_COMPLETE_CLOSED)
				continue;
			fprintf(r->out, "%s%s %" PRIu64, first ? " (" : ", ", hs_stage_name((enum hs_stage)i),
				r->n.by_stage[i]);
			first = 0;
		}
		if (!first)
			fputc(')', r->out);
	}
	fputc('\n', r->out);
	/* the failures by cause and target, most frequent first */
	if (r->text_mode == RPT_TEXT_QUIET && r->tk) {
		quiet_causes(r);
	} else if (r->text_mode == RPT_TEXT_EACH) {
		int order[RPT_TEXT_GROUPS], k, j;
		for (k = 0; k < r->ngroups; k++)
			order[k] = k;
		for (k = 1; k < r->ngroups; k++)
			for (j = k; j > 0 && r->groups[order[j]].count > r->groups[order[j - 1]].count; j--) {
				int t = order[j];
				order[j] = order[j - 1];
				order[j - 1] = t;
			}
		for (k = 0; k < r->ngroups; k++) {
			const struct rpt_group *g = &r->groups[order[k]];
			char ep[80];
			char rb[256];
			fprintf(r->out, "  %5" PRIu64 " x %s  %s  (first: #%" PRIu64 ")\n", g->count,
				esc_text(rb, sizeof(rb), (const uint8_t *)g->rule, strlen(g->rule)),
				rpt_endpoint(ep, sizeof(ep), &g->srv), g->first_id);
		}
		if (r->ungrouped)
			fprintf(r->out, "  %5" PRIu64 " more failures of other causes or targets\n", r->ungrouped);
	}
	if (r->alb)
		rpt_alb_sentences(r->alb, text_sentence, r->out);
	for (i = 0; i < nin; i++)
		if (in[i].truncated)
			fprintf(r->out, "%swarning: %s ends mid-packet (%s); analyzed up to there%s\n",
				col(r, C_DIM), in[i].path, in[i].warning, col(r, C_OFF));
	if (run->live && run->have_kstats)
		fprintf(r->out, "capture: %" PRIu64 " packets dropped by the kernel, %" PRIu64 " by the interface\n",
			run->kernel_drops, run->if_drops);
	if (fs->flows_evicted || fs->cap_segments_hit || fs->cap_bytes_hit)
		fprintf(r->out, "caps hit: %" PRIu64 " flows evicted, %" PRIu64 " queue-segment caps, %" PRIu64
			" queue-byte caps\n", fs->flows_evicted, fs->cap_segments_hit, fs->cap_bytes_hit);
	if (r->ev) {
		char esc[600];
		const char *p = r->ev->path;
		fprintf(r->out, "evidence: %s, %" PRIu64 " packets of %" PRIu64 " connections, sha256 %s\n",
			esc_text(esc, sizeof(esc), (const uint8_t *)p, strlen(p)), r->ev->packets,
			r->ev->connections, r->ev->sha256);
		fprintf(r->out, "  %s\n", rpt_ev_numbering(r->ev));
		if (r->ev->spool_dropped)
			fprintf(r->out, "  %swarning: %s%s\n", col(r, C_DIM), rpt_ev_spool_note(esc, sizeof(esc), r->ev),
				col(r, C_OFF));
	}
}

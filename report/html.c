/*
 * html.c - the report as one self-contained HTML file: inline CSS, inline
 * SVG ladder diagrams, no scripts, no external assets (a Content Security
 * Policy meta tag forbids them, so even an escaping slip could not run
 * code). Same structure as the Markdown report (markdown.c).
 *
 * Escaping: every wire string goes through esc_html() (control bytes as
 * \xNN, & < > " ' as entities); our own and knowledge-base text through
 * the same, with newlines as spaces. Attribute values are ours only.
 */
#include "report/ticket.h"
#include "report/esc.h"
#include "report/evidence.h"
#include "report/source.h"
#include "dissect/names.h"
#include "dissect/x509.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define TLSWHY_VERSION "0.1.0"
#define EVL 1024

static void h_wire(FILE *o, const uint8_t *s, size_t n)
{
	size_t cap = n * 12 + 16;
	char *b = malloc(cap);
	if (!b)
		return;
	fputs(esc_html(b, cap, s, n), o);
	free(b);
}

static void h_text(FILE *o, const char *s)
{
	size_t n = strlen(s), i;
	uint8_t *c = malloc(n + 1);
	if (!c)
		return;
	for (i = 0; i < n; i++)
		c[i] = s[i] == '\n' || s[i] == '\r' || s[i] == '\t' ? ' ' : (uint8_t)s[i];
	h_wire(o, c, n);
	free(c);
}

/* Preformatted (commands): newlines kept, everything else escaped. */
static void h_pre(FILE *o, const char *s)
{
	const char *p = s;
	fputs("<pre>", o);
	while (*p) {
		size_t l = strcspn(p, "\n");
		h_wire(o, (const uint8_t *)p, l);
		p += l;
		if (*p == '\n') {
			fputc('\n', o);
			p++;
		}
	}
	fputs("</pre>\n", o);
}

/* ---- the SVG ladder ------------------------------------------------------ */

#define SV_W 900
#define SV_CX 230
#define SV_SX 700
#define SV_ROW 30
#define SV_TOP 56

static void h_ladder(FILE *o, const struct hs_record *rec)
{
	static struct tk_ladder l;
	static unsigned seq;
	char cli[80], srv[80];
	size_t i, rows;
	int h;
	unsigned id = ++seq;
	tk_ladder_build(rec, &l);
	rows = l.n + (l.tail[0] ? 1 : 0) + (l.clipped ? 1 : 0);
	h = SV_TOP + (int)rows * SV_ROW + 20;
	rpt_endpoint(cli, sizeof(cli), &rec->cli);
	rpt_endpoint(srv, sizeof(srv), &rec->srv);
	fprintf(o, "<svg class=\"ladder\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"handshake ladder\">\n", SV_W, h, SV_W, h);
	fprintf(o, "<defs><marker id=\"a%u\" markerUnits=\"userSpaceOnUse\" markerWidth=\"10\" markerHeight=\"8\" refX=\"9\" refY=\"4\" "
		"orient=\"auto\"><path d=\"M0,0 L10,4 L0,8 z\" fill=\"#444\"/></marker>"
		"<marker id=\"f%u\" markerUnits=\"userSpaceOnUse\" markerWidth=\"10\" markerHeight=\"8\" refX=\"9\" refY=\"4\" orient=\"auto\">"
		"<path d=\"M0,0 L10,4 L0,8 z\" fill=\"#c62828\"/></marker></defs>\n", id, id);
	fprintf(o, "<text x=\"10\" y=\"20\" class=\"hd\">frame</text><text x=\"70\" y=\"20\" class=\"hd\">time (ms)</text>\n");
	fprintf(o, "<text x=\"%d\" y=\"20\" text-anchor=\"middle\" class=\"hd\">client %s</text>\n", SV_CX, cli);
	fprintf(o, "<text x=\"%d\" y=\"20\" text-anchor=\"middle\" class=\"hd\">server %s</text>\n", SV_SX, srv);
	fprintf(o, "<line x1=\"%d\" y1=\"30\" x2=\"%d\" y2=\"%d\" class=\"lane\"/>\n", SV_CX, SV_CX, h - 10);
	fprintf(o, "<line x1=\"%d\" y1=\"30\" x2=\"%d\" y2=\"%d\" class=\"lane\"/>\n", SV_SX, SV_SX, h - 10);
	for (i = 0; i < l.n; i++) {
		const struct tk_step *s = &l.s[i];
		int y = SV_TOP + (int)i * SV_ROW;
		int x1 = s->dir == DIR_C2S ? SV_CX : SV_SX, x2 = s->dir == DIR_C2S ? SV_SX - 2 : SV_CX + 2;
		fprintf(o, "<text x=\"10\" y=\"%d\" class=\"fr\">%" PRIu64 "</text><text x=\"70\" y=\"%d\" class=\"fr\">%.3f</text>\n",
			y + 4, s->frame, y + 4, (double)s->off_us / 1000.0);
		if (s->gap)
			fprintf(o, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"gap\"/>\n", x1, y, x2, y);
		else
			fprintf(o, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"%s\" marker-end=\"url(#%c%u)\"/>\n",
				x1, y, x2, y, s->fail ? "arrow fail" : "arrow", s->fail ? 'f' : 'a', id);
		fprintf(o, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" class=\"%s\">", (SV_CX + SV_SX) / 2, y - 5,
			s->fail ? "lbl fail" : "lbl");
		h_text(o, s->label);
		fputs("</text>\n", o);
		if (s->fail)
			fprintf(o, "<text x=\"%d\" y=\"%d\" class=\"lbl fail\">&#x2717; failed here</text>\n", SV_SX + 10,
				y + 4);
	}
	rows = l.n;
	if (l.clipped) {
		fprintf(o, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" class=\"lbl\">(%" PRIu64
			" more events not kept)</text>\n", (SV_CX + SV_SX) / 2, SV_TOP + (int)rows * SV_ROW, l.clipped);
		rows++;
	}
	if (l.tail[0]) {
		int y = SV_TOP + (int)rows * SV_ROW;
		fprintf(o, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" class=\"%s\">", (SV_CX + SV_SX) / 2, y,
			l.tail_fail ? "lbl fail" : "lbl");
		h_text(o, l.tail);
		fputs("</text>\n", o);
		if (l.tail_fail)
			fprintf(o, "<text x=\"%d\" y=\"%d\" class=\"lbl fail\">&#x2717; failed here</text>\n", SV_SX + 10, y);
	}
	fputs("</svg>\n", o);
}

/* ---- findings -------------------------------------------------------------- */

static void h_disputes(FILE *o, const struct rk_dispute *d, uint16_t n)
{
	uint16_t i;
	for (i = 0; i < n; i++) {
		fputs("<p class=\"disp\"><b>Disputed:</b> ", o);
		h_text(o, d[i].text);
		if (d[i].source) {
			fputs(" (source: ", o);
			h_text(o, d[i].source);
			fputc(')', o);
		}
		fputs("</p>\n", o);
	}
}

static void h_evidence(FILE *o, struct rk_eval *e, const struct rk_tmpl *t, uint16_t n)
{
	char line[EVL];
	uint16_t i;
	for (i = 0; i < n; i++) {
		rk_render(e, &t[i], line, sizeof(line), NULL, 0);
		fputs("<li>", o);
		h_text(o, line);
		fputs("</li>\n", o);
	}
}

static void h_finding(FILE *o, struct rk_eval *e, const struct rk_rule *r, const struct rule_findings *f)
{
	const struct rk_kb *k = r->kb;
	struct tk_ranked rk[64];
	size_t n, i;
	uint16_t j;
	fprintf(o, "<h3>Finding</h3>\n<p><span class=\"sev %s\">", rk_sev_name(r->severity));
	h_text(o, rk_sev_name(r->severity));
	fputs("</span> <b>", o);
	h_text(o, r->title);
	fprintf(o, "</b><br>Side at fault: <b>%s</b> · confidence: <b>%s</b> (%s) · rule <code>", rk_side_name(tk_side(r)),
		rk_conf_name(tk_conf(r)), rk_basis_name(tk_basis(r)));
	h_text(o, r->id);
	fputs("</code> · knowledge base <code>", o);
	h_text(o, k->id);
	fputs("</code></p>\n", o);
	if (r->n_evid || k->n_evid) {
		fputs("<p><b>Evidence</b></p>\n<ul>\n", o);
		h_evidence(o, e, r->evid, r->n_evid);
		h_evidence(o, e, k->evid, k->n_evid);
		fputs("</ul>\n", o);
	}
	fputs("<p><b>Root cause.</b> ", o);
	h_text(o, k->root_cause);
	fputs("</p>\n", o);
	h_disputes(o, k->rc_disp, k->n_rc_disp);
	n = tk_rank(r, rk, sizeof(rk) / sizeof(rk[0]));
	if (n)
		fputs("<h3>Workarounds (most likely first)</h3>\n<ol>\n", o);
	for (i = 0; i < n; i++) {
		const struct rk_workaround *w = rk[i].w;
		fprintf(o, "<li><b>%d%%</b> ", rk[i].rate);
		h_text(o, w->title);
		if (rk[i].rate != w->rate) {
			fprintf(o, " (knowledge base: %d%%", w->rate);
			if (rk[i].why) {
				fputs("; ", o);
				h_text(o, rk[i].why);
			}
			fputc(')', o);
		}
		if (w->detail) {
			fputs("<p>", o);
			h_text(o, w->detail);
			fputs("</p>", o);
		}
		for (j = 0; j < w->n_cmd; j++) {
			fputs("<div class=\"stack\">", o);
			h_text(o, w->cmd[j].stack);
			fputs("</div>", o);
			h_pre(o, w->cmd[j].text);
		}
		h_disputes(o, w->disp, w->n_disp);
		fputs("</li>\n", o);
	}
	if (n)
		fputs("</ol>\n", o);
	if (k->n_de) {
		fputs("<h3>Dead ends (not worth trying)</h3>\n<ul>\n", o);
		for (j = 0; j < k->n_de; j++) {
			fprintf(o, "<li><b>%d%% fail:</b> ", k->de[j].rate);
			if (*k->de[j].title) {
				h_text(o, k->de[j].title);
				fputs(" — ", o);
			}
			h_text(o, k->de[j].reason);
			fputs("</li>\n", o);
		}
		fputs("</ul>\n", o);
	}
	if (k->n_ref) {
		fputs("<h3>References</h3>\n<ul>\n", o);
		for (j = 0; j < k->n_ref; j++) {
			const char *u = k->ref[j].url;
			fputs("<li>", o);
			if (!strncmp(u, "https://", 8)) {
				fputs("<a href=\"", o);
				h_text(o, u);
				fputs("\">", o);
				h_text(o, u);
				fputs("</a>", o);
			} else {
				h_text(o, u);
			}
			if (k->ref[j].title) {
				fputs(" — ", o);
				h_text(o, k->ref[j].title);
			}
			fputs("</li>\n", o);
		}
		fputs("</ul>\n", o);
	}
	fputs("<p class=\"kb\">Knowledge base: <code>", o);
	h_text(o, k->id);
	fputs("</code>", o);
	for (j = 0; j < k->n_see; j++) {
		fputs(j ? ", <code>" : " · see also <code>", o);
		h_text(o, k->see[j]);
		fputs("</code>", o);
	}
	if (f && f->n_also) {
		fputs(" · also matched (less specific):", o);
		for (i = 0; i < f->n_also; i++) {
			fputs(" <code>", o);
			h_text(o, f->also[i]->id);
			fputs("</code>", o);
		}
	}
	fputs("</p>\n", o);
}

static void h_notes(FILE *o, struct rk_eval *e, const struct rule_findings *f)
{
	char line[EVL];
	size_t i;
	uint16_t t;
	if (!f->n_note)
		return;
	fputs("<h3>Notes</h3>\n<ul>\n", o);
	for (i = 0; i < f->n_note; i++) {
		const struct rk_rule *r = f->note[i];
		fputs("<li><b>", o);
		h_text(o, r->title);
		fputs("</b>", o);
		for (t = 0; t < r->n_evid + r->kb->n_evid; t++) {
			const struct rk_tmpl *tm = t < r->n_evid ? &r->evid[t] : &r->kb->evid[t - r->n_evid];
			rk_render(e, tm, line, sizeof(line), NULL, 0);
			fputs(t ? "; " : ": ", o);
			h_text(o, line);
		}
		fputs(". ", o);
		h_text(o, r->kb->root_cause);
		fputs("</li>\n", o);
	}
	fputs("</ul>\n", o);
}

static void h_sni(FILE *o, const struct hs_record *rec)
{
	if (rec->ch && rec->ch->has_sni)
		h_wire(o, rec->ch->sni, rec->ch->sni_len);
	else
		fputs("<i>(none)</i>", o);
}

void html_section(FILE *o, const struct hs_record *rec, const struct rule_findings *f)
{
	char a[80], b[80], t[48], v[16], s[64];
	struct rk_eval e;
	uint16_t i;
	fputs("<table class=\"kv\">\n", o);
	fprintf(o, "<tr><th>Client</th><td><code>%s</code></td></tr>\n", rpt_endpoint(a, sizeof(a), &rec->cli));
	fprintf(o, "<tr><th>Server</th><td><code>%s</code></td></tr>\n", rpt_endpoint(b, sizeof(b), &rec->srv));
	fputs("<tr><th>SNI</th><td class=\"wire\">", o);
	h_sni(o, rec);
	fputs("</td></tr>\n", o);
	if (rec->ch && rec->ch->n_alpn) {
		fputs("<tr><th>ALPN</th><td class=\"wire\">", o);
		for (i = 0; i < rec->ch->n_alpn; i++) {
			uint16_t off = rec->ch->alpn_off[i];
			if (i)
				fputs(", ", o);
			h_wire(o, rec->ch->alpn + off + 1, rec->ch->alpn[off]);
		}
		fputs("</td></tr>\n", o);
	}
	fprintf(o, "<tr><th>Stage</th><td><code>%s</code></td></tr>\n", hs_stage_name((enum hs_stage)rec->stage));
	if (rec->ch)
		fprintf(o, "<tr><th>Client offered</th><td>up to %s, %u cipher suites</td></tr>\n",
			tk_version(v, sizeof(v), tk_max_offered(rec->ch)), rec->ch->total_suites);
	if (rec->ch) {
		struct rule_identity id;
		char idt[400];
		rule_client_identity(f ? f->rs : NULL, rec, &id);
		fputs("<tr><th>Client is</th><td>", o);
		h_text(o, rule_identity_text(&id, idt, sizeof(idt)));
		fputs("</td></tr>\n", o);
	}
	if (rec->sh) {
		fprintf(o, "<tr><th>Server chose</th><td>%s, ", tk_version(v, sizeof(v), rec->sh->version));
		h_text(o, tk_suite(s, sizeof(s), rec->sh->cipher));
		fputs("</td></tr>\n", o);
	}
	if (rec->server_chain.n && rec->server_chain.c[0].x && !rec->server_chain.c[0].x->malformed) {
		const char *subj = rec->server_chain.c[0].x->subject;
		fputs("<tr><th>Server certificate</th><td class=\"wire\">", o);
		h_wire(o, (const uint8_t *)subj, strlen(subj));
		fprintf(o, "%s</td></tr>\n", rec->server_chain.c[0].expired ? " (expired at capture time)" : "");
	}
	if (rec->nontls_dir != 255) {
		fprintf(o, "<tr><th>Non-TLS bytes from the %s</th><td class=\"wire\">", rpt_dir_name(rec->nontls_dir));
		h_wire(o, rec->nontls, rec->nontls_len);
		fputs("</td></tr>\n", o);
	}
	fprintf(o, "<tr><th>Frames</th><td>%" PRIu64 "–%" PRIu64 " (connection #%" PRIu64 ", %.3f ms)</td></tr>\n",
		rec->first_frame, rec->last_frame, rec->id, (double)(rec->last_ts_us - rec->first_ts_us) / 1000.0);
	fprintf(o, "<tr><th>Started</th><td>%s</td></tr>\n", tk_time(t, sizeof(t), rec->first_ts_us));
	if (rec->anomalies) {
		int bit, first = 1;
		fputs("<tr><th>Capture problems</th><td>", o);
		for (bit = 0; bit < 32; bit++)
			if (rec->anomalies & (1u << bit)) {
				fprintf(o, "%s<code>%s</code>", first ? "" : ", ",
					hs_anomaly_name((enum hs_anomaly)(1u << bit)));
				first = 0;
			}
		fputs("</td></tr>\n", o);
	}
	fputs("</table>\n<p><b>Handshake ladder</b> (client left, server right; time from the first packet)</p>\n", o);
	h_ladder(o, rec);
	if (!f)
		return;
	rk_eval_init(&e, f->rs, rec, &f->ctx);
	if (f->diag)
		h_finding(o, &e, f->diag, f);
	h_notes(o, &e, f);
}

void html_all_row(FILE *o, const struct hs_record *rec, const struct rule_findings *f)
{
	char a[80], b[80], v[16], s[64];
	fprintf(o, "<tr><td>%" PRIu64 "</td><td><code>%s</code></td><td><code>%s</code></td><td class=\"wire\">", rec->id,
		rpt_endpoint(a, sizeof(a), &rec->cli), rpt_endpoint(b, sizeof(b), &rec->srv));
	h_sni(o, rec);
	fprintf(o, "</td><td><code>%s</code></td><td>%s</td><td>", hs_stage_name((enum hs_stage)rec->stage),
		rec->sh ? tk_version(v, sizeof(v), rec->sh->version) : "");
	if (rec->sh)
		h_text(o, tk_suite(s, sizeof(s), rec->sh->cipher));
	fprintf(o, "</td><td>%" PRIu64 "–%" PRIu64 "</td><td>%.3f ms</td><td>", rec->first_frame, rec->last_frame,
		(double)(rec->last_ts_us - rec->first_ts_us) / 1000.0);
	if (f && f->diag) {
		fputs("<code>", o);
		h_text(o, f->diag->id);
		fputs("</code>", o);
	}
	fputs("</td></tr>\n", o);
}

static const char CSS[] =
	"body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px auto;max-width:1000px;"
	"color:#1a1a1a;padding:0 16px}"
	"h1{font-size:24px;margin:0 0 8px}h1.bad{color:#b71c1c}h1.good{color:#1b5e20}"
	"h2{font-size:19px;border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:32px}h3{font-size:16px}"
	"table{border-collapse:collapse;margin:8px 0}th,td{border:1px solid #ccc;padding:4px 8px;text-align:left;"
	"vertical-align:top}th{background:#f4f4f4}"
	"code,pre,.wire{font-family:ui-monospace,'DejaVu Sans Mono',monospace;font-size:13px}"
	"pre{background:#f6f8fa;border:1px solid #e1e4e8;padding:8px;overflow:auto;white-space:pre-wrap;margin:4px 0}"
	".verdict{font-size:17px;padding:10px 14px;border-radius:4px}.verdict.bad{background:#ffebee}"
	".verdict.good{background:#e8f5e9}.sev{font-weight:bold;text-transform:uppercase}.sev.error{color:#b71c1c}"
	".sev.warning{color:#e65100}.stack{font-weight:bold;margin-top:6px}.disp{color:#6a1b9a}"
	"section.fail{border-left:4px solid #c62828;padding-left:14px;margin:24px 0}"
	"svg.ladder{display:block;margin:8px 0;background:#fff;border:1px solid #eee;max-width:100%;height:auto}"
	".lane{stroke:#888;stroke-width:2}.arrow{stroke:#444;stroke-width:1.5}.arrow.fail{stroke:#c62828;stroke-width:2.5}"
	".gap{stroke:#999;stroke-dasharray:4 4}"
	"svg text{font-family:ui-monospace,'DejaVu Sans Mono',monospace;font-size:12px;fill:#222}"
	"svg .hd{font-weight:bold}svg .fr{fill:#666}svg .fail{fill:#c62828;font-weight:bold}"
	"footer{color:#666;font-size:13px;margin-top:32px}";

void html_document(struct rpt *r, const struct cap_input *in, int nin, const struct cap_run *run,
		   const struct flow_stats *fs, const char *filter)
{
	FILE *o = r->out;
	struct rpt_ticket *t = r->tk;
	char tb[48], tb2[48], v[16], s[64], a[80];
	size_t i, j;
	int k;

	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
	      "img-src data:\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n", o);
	fprintf(o, "<title>tlswhy: %s</title>\n<style>%s</style>\n</head>\n<body>\n",
		r->n.failed ? "failed TLS handshakes" : "TLS handshakes OK", CSS);
	if (r->n.failed) {
		fprintf(o, "<h1 class=\"bad\">TLS handshakes: FAILED — %" PRIu64 " of %" PRIu64 " failed</h1>\n",
			r->n.failed, r->n.tls ? r->n.tls : r->n.connections);
		fputs("<p class=\"verdict bad\"><b>Verdict:</b> ", o);
		if (t->nc == 1) {
			h_text(o, t->c[0].rule->title);
			fprintf(o, " (side at fault: %s, confidence: %s).", rk_side_name(tk_side(t->c[0].rule)),
				rk_conf_name(tk_conf(t->c[0].rule)));
		} else {
			fprintf(o, "%zu different causes; the most frequent: ", t->nc);
			j = 0;
			for (i = 1; i < t->nc; i++)
				if (t->c[i].count > t->c[j].count)
					j = i;
			h_text(o, t->c[j].rule->title);
			fprintf(o, " (%" PRIu64 " connections).", t->c[j].count);
		}
		fputs("</p>\n", o);
	} else {
		fprintf(o, "<h1 class=\"good\">TLS handshakes: OK — no failed handshake</h1>\n<p class=\"verdict good\">"
			"<b>Verdict:</b> %" PRIu64 " TLS handshake%s, %" PRIu64 " complete, none failed.</p>\n", r->n.tls,
			r->n.tls == 1 ? "" : "s", r->n.complete);
	}
	fputs("<h2>Summary</h2>\n<table class=\"kv\">\n", o);
	fprintf(o, "<tr><th>Connections reported</th><td>%" PRIu64 "</td></tr>\n", r->n.connections);
	fprintf(o, "<tr><th>TLS handshakes</th><td>%" PRIu64 ": %" PRIu64 " complete, %" PRIu64 " failed</td></tr>\n",
		r->n.tls, r->n.complete, r->n.failed);
	fputs("<tr><th>Failed by cause</th><td>", o);
	if (!t->nc)
		fputs("none", o);
	for (i = 0; i < t->nc; i++) {
		fprintf(o, "%s%" PRIu64 " × ", i ? "<br>" : "", t->c[i].count);
		h_text(o, t->c[i].rule->title);
		fputs(" (<code>", o);
		h_text(o, t->c[i].rule->id);
		fputs("</code>)", o);
	}
	fputs("</td></tr>\n<tr><th>By stage</th><td>", o);
	for (k = 0, i = 0; k < STAGE__COUNT; k++)
		if (r->n.by_stage[k])
			fprintf(o, "%s<code>%s</code> %" PRIu64, i++ ? ", " : "", hs_stage_name((enum hs_stage)k),
				r->n.by_stage[k]);
	fputs("</td></tr>\n", o);
	if (run->ps.packets)
		fprintf(o, "<tr><th>Capture span</th><td>%s → %s (%.3f s, %" PRIu64 " packets)</td></tr>\n",
			tk_time(tb, sizeof(tb), run->first_ts_us), tk_time(tb2, sizeof(tb2), run->last_ts_us),
			(double)(run->last_ts_us - run->first_ts_us) / 1e6, run->ps.packets);
	for (k = 0; k < nin; k++) {
		const char *sha = r->src && r->src[k] ? rpt_src_sha256(r->src[k]) : "";
		fprintf(o, "<tr><th>%s</th><td>", in[k].live ? "Interface" : "Source file");
		h_text(o, in[k].live || strcmp(in[k].path, "-") ? in[k].path : "standard input");
		fprintf(o, " (%s, %" PRIu64 " packets%s)", in[k].link_name ? in[k].link_name : "?", in[k].packets,
			in[k].truncated ? ", ends mid-packet" : "");
		if (*sha)
			fprintf(o, "<br>SHA-256 <code>%s</code>", sha);
		fputs("</td></tr>\n", o);
	}
	if (filter && *filter) {
		fputs("<tr><th>Filter</th><td><code>", o);
		h_text(o, filter);
		fputs("</code></td></tr>\n", o);
	}
	if (run->live && run->have_kstats)
		fprintf(o, "<tr><th>Kernel drops</th><td>%" PRIu64 " by the kernel, %" PRIu64 " by the interface</td></tr>\n",
			run->kernel_drops, run->if_drops);
	if (fs->flows_evicted || fs->cap_segments_hit || fs->cap_bytes_hit)
		fprintf(o, "<tr><th>Caps hit</th><td>%" PRIu64 " flows evicted, %" PRIu64 " queue-segment caps, %" PRIu64
			" queue-byte caps</td></tr>\n", fs->flows_evicted, fs->cap_segments_hit, fs->cap_bytes_hit);
	if (r->ev && ev_written(r->ev)) {
		fputs("<tr><th>Evidence capture</th><td>", o);
		h_text(o, ev_path(r->ev));
		fprintf(o, " (%" PRIu64 " packets of %" PRIu64 " connections, %" PRIu64 " bytes)<br>SHA-256 <code>%s</code></td></tr>\n",
			ev_packets(r->ev), ev_connections(r->ev), ev_bytes(r->ev), ev_sha256(r->ev));
	}
	fprintf(o, "<tr><th>Generated by</th><td>tlswhy %s</td></tr>\n</table>\n", TLSWHY_VERSION);

	if (t->ng) {
		fputs("<h2>Failed handshakes</h2>\n<table>\n<tr><th>#</th><th>Connections</th><th>Cause</th><th>Server</th>"
		      "<th>Side at fault</th><th>Rule</th></tr>\n", o);
		for (i = 0; i < t->ng; i++) {
			fprintf(o, "<tr><td>%zu</td><td>%" PRIu64 "</td><td>", i + 1, t->g[i].count);
			h_text(o, t->g[i].rule->title);
			fprintf(o, "</td><td><code>%s</code></td><td>%s</td><td><code>", rpt_endpoint(a, sizeof(a), &t->g[i].srv),
				rk_side_name(tk_side(t->g[i].rule)));
			h_text(o, t->g[i].rule->id);
			fputs("</code></td></tr>\n", o);
		}
		fputs("</table>\n", o);
		if (t->failed_ungrouped)
			fprintf(o, "<p>%" PRIu64 " more failed connections fall in further groups that are not shown (the JSON "
				"report has them all).</p>\n", t->failed_ungrouped);
	}
	for (i = 0; i < t->ng; i++) {
		const struct tk_group *g = &t->g[i];
		fprintf(o, "<section class=\"fail\">\n<h2>%zu. ", i + 1);
		h_text(o, g->rule->title);
		fputs("</h2>\n", o);
		if (g->count > 1) {
			fprintf(o, "<p><b>%" PRIu64 " connections like this</b> (same cause, same server <code>%s</code>), first at "
				"%s, last ending %s. Connections (#id at frame):", g->count, rpt_endpoint(a, sizeof(a), &g->srv),
				tk_time(tb, sizeof(tb), g->first_ts), tk_time(tb2, sizeof(tb2), g->last_ts));
			for (j = 0; j < g->count && j < TK_IDS; j++)
				fprintf(o, "%s#%" PRIu64 " at %" PRIu64, j ? ", " : " ", g->ids[j], g->frames[j]);
			if (g->count > TK_IDS)
				fprintf(o, ", … and %" PRIu64 " more", g->count - TK_IDS);
			fputs(". The first is shown.</p>\n", o);
		}
		if (g->body)
			fwrite(g->body, 1, g->body_len, o);
		fputs("</section>\n", o);
	}
	fputs("<h2>Healthy and other connections</h2>\n", o);
	if (!t->no) {
		fputs("<p>None.</p>\n", o);
	} else {
		fprintf(o, "<p>%" PRIu64 " complete handshake%s. Grouped by server, stage and what was negotiated:</p>\n",
			r->n.complete, r->n.complete == 1 ? "" : "s");
		fputs("<table>\n<tr><th>Connections</th><th>Server</th><th>SNI</th><th>Stage</th><th>Version</th>"
		      "<th>Cipher suite</th><th>Note</th><th>First (#id at frame)</th></tr>\n", o);
		for (i = 0; i < t->no; i++) {
			const struct tk_other *x = &t->o[i];
			fprintf(o, "<tr><td>%" PRIu64 "</td><td><code>%s</code></td><td class=\"wire\">", x->count,
				rpt_endpoint(a, sizeof(a), &x->srv));
			if (x->has_sni)
				h_wire(o, x->sni, x->sni_len);
			else
				fputs("<i>(none)</i>", o);
			fprintf(o, "</td><td><code>%s</code></td><td>%s</td><td>", hs_stage_name((enum hs_stage)x->stage),
				x->version ? tk_version(v, sizeof(v), x->version) : "");
			if (x->version)
				h_text(o, tk_suite(s, sizeof(s), x->cipher));
			fputs("</td><td>", o);
			if (x->diag)
				h_text(o, x->diag->title);
			fprintf(o, "</td><td>#%" PRIu64 " at %" PRIu64 "</td></tr>\n", x->first_id, x->first_frame);
		}
		if (t->other_rest)
			fprintf(o, "<tr><td>%" PRIu64 "</td><td colspan=\"7\">(other servers and outcomes)</td></tr>\n",
				t->other_rest);
		fputs("</table>\n", o);
		if (!r->all)
			fputs("<p>Every connection is listed with <code>--all</code>.</p>\n", o);
	}
	if (r->all && t->all_rows) {
		fprintf(o, "<h2>All connections (%" PRIu64 ")</h2>\n<table>\n<tr><th>#</th><th>Client</th><th>Server</th>"
			"<th>SNI</th><th>Stage</th><th>Version</th><th>Cipher suite</th><th>Frames</th><th>Duration</th>"
			"<th>Diagnosis</th></tr>\n", t->all_rows);
		tk_copy_all(t, o);
		fputs("</table>\n", o);
	}
	fprintf(o, "<footer>Generated by tlswhy %s; every fact above is in the JSON report (<code>--format json</code>)."
		"</footer>\n</body>\n</html>\n", TLSWHY_VERSION);
}

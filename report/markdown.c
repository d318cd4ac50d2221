/*
 * markdown.c - the report as GitHub-flavoured Markdown, for tickets
 * (GitHub, GitLab, Jira's Markdown): a headline verdict, a summary table,
 * one section per group of identical failures with a ladder diagram in a
 * code block, the findings, ranked workarounds, dead ends, references.
 *
 * Escaping: every wire string (SNI, ALPN, certificate names, server bytes,
 * and the evidence lines that quote them) goes through esc_md(): control
 * bytes become \xNN, and | ` * _ [ ] < > # \ ~ & ! { } are neutralised, so a
 * value can sit in a table cell or a paragraph and never opens a code
 * span, a link or raw HTML. Wire strings never go inside code spans or
 * code blocks (where escapes are not interpreted): the ladder holds only
 * names from tlswhy's own tables. Knowledge-base text (operator-chosen
 * rule files) is escaped the same way; commands go into fenced blocks whose
 * fence is longer than any backtick run inside.
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

/* Wire bytes, escaped for Markdown inline text. */
static void md_wire(FILE *o, const uint8_t *s, size_t n)
{
	size_t cap = n * 12 + 16;
	char *b = malloc(cap);
	if (!b)
		return;
	fputs(esc_md(b, cap, s, n), o);
	free(b);
}

/* Our text or knowledge-base prose: newlines become spaces, then escaped. */
static void md_prose(FILE *o, const char *s)
{
	size_t n = strlen(s), i;
	uint8_t *c = malloc(n + 1);
	if (!c)
		return;
	for (i = 0; i < n; i++)
		c[i] = s[i] == '\n' || s[i] == '\r' || s[i] == '\t' ? ' ' : (uint8_t)s[i];
	md_wire(o, c, n);
	free(c);
}

/* A fenced code block, each line indented by `ind` spaces. */
static void md_code(FILE *o, const char *text, int ind, const char *lang)
{
	int run = 0, max = 0, fence;
	const char *p;
	for (p = text; *p; p++) {
		run = *p == '`' ? run + 1 : 0;
		if (run > max)
			max = run;
	}
	fence = max >= 3 ? max + 1 : 3;
	fprintf(o, "%*s%.*s%s\n%*s", ind, "", fence, "``````````````````````````````````", lang, ind, "");
	for (p = text; *p; p++) {
		fputc(*p, o);
		if (*p == '\n')
			fprintf(o, "%*s", ind, "");
	}
	if (p > text && p[-1] != '\n')
		fprintf(o, "\n%*s", ind, "");
	fprintf(o, "%.*s\n", fence, "``````````````````````````````````");
}

static const char *lang_of(const char *stack)
{
	if (!strcmp(stack, "aws") || !strcmp(stack, "shell"))
		return "sh";
	if (!strcmp(stack, "tomcat"))
		return "xml";
	if (!strcmp(stack, "envoy"))
		return "yaml";
	if (!strcmp(stack, "node"))
		return "js";
	if (!strcmp(stack, "nginx") || !strcmp(stack, "apache") || !strcmp(stack, "haproxy") ||
	    !strcmp(stack, "go") || !strcmp(stack, "java"))
		return stack;
	return "text";
}

/* ---- the ladder as text --------------------------------------------------- */

static void dashes(FILE *o, int n, char c)
{
	while (n-- > 0)
		fputc(c, o);
}

void md_ladder(FILE *o, const struct hs_record *rec);
void md_ladder(FILE *o, const struct hs_record *rec)
{
	static struct tk_ladder l;
	char cli[80], srv[80];
	size_t i;
	int w = 56, cl, sl;
	tk_ladder_build(rec, &l);
	for (i = 0; i < l.n; i++)
		if ((int)strlen(l.s[i].label) + 10 > w)
			w = (int)strlen(l.s[i].label) + 10;
	rpt_endpoint(cli, sizeof(cli), &rec->cli);
	rpt_endpoint(srv, sizeof(srv), &rec->srv);
	cl = (int)strlen(cli) + 7;
	sl = (int)strlen(srv) + 7;
	if (cl + sl + 2 > w + 2)
		w = cl + sl;
	fprintf(o, "%6s  %11s  client %s%*sserver %s\n", "frame", "time (ms)", cli, w + 2 - cl - sl, "", srv);
	for (i = 0; i < l.n; i++) {
		const struct tk_step *s = &l.s[i];
		int ll = (int)strlen(s->label);
		fprintf(o, "%6" PRIu64 "  %11.3f  ", s->frame, (double)s->off_us / 1000.0);
		if (s->gap) {
			fprintf(o, "|~~ %s ", s->label);
			dashes(o, w - ll - 4, '~');
			fputc('|', o);
		} else if (s->dir == DIR_C2S) {
			fprintf(o, "|-- %s ", s->label);
			dashes(o, w - ll - 5, '-');
			fputs(">|", o);
		} else {
			fputs("|<", o);
			dashes(o, w - ll - 5, '-');
			fprintf(o, " %s --|", s->label);
		}
		if (s->fail)
			fputs("  <== FAILED HERE", o);
		fputc('\n', o);
	}
	if (l.clipped)
		fprintf(o, "%6s  %11s  (%" PRIu64 " more events not kept)\n", "", "", l.clipped);
	if (l.tail[0])
		fprintf(o, "%6s  %11s  :  %s%s\n", "", "", l.tail, l.tail_fail ? "  <== FAILED HERE" : "");
}

/* ---- findings --------------------------------------------------------------- */

static void md_disputes(FILE *o, const struct rk_dispute *d, uint16_t n, int ind)
{
	uint16_t i;
	for (i = 0; i < n; i++) {
		fprintf(o, "%*s> **Disputed:** ", ind, "");
		md_prose(o, d[i].text);
		if (d[i].source) {
			fputs(" (source: ", o);
			md_prose(o, d[i].source);
			fputc(')', o);
		}
		fputs("\n\n", o);
	}
}

static void md_evidence(FILE *o, struct rk_eval *e, const struct rk_tmpl *t, uint16_t n)
{
	char line[EVL];
	uint16_t i;
	for (i = 0; i < n; i++) {
		rk_render(e, &t[i], line, sizeof(line), NULL, 0);   /* wire strings already \x-escaped */
		fputs("- ", o);
		md_prose(o, line);
		fputc('\n', o);
	}
}

static void md_finding(FILE *o, struct rk_eval *e, const struct rk_rule *r, const struct rule_findings *f)
{
	const struct rk_kb *k = r->kb;
	struct tk_ranked rk[64];
	size_t n, i;
	uint16_t j;

	fputs("### Finding\n\n**", o);
	md_prose(o, rk_sev_name(r->severity));
	fputs(":** ", o);
	md_prose(o, r->title);
	fprintf(o, "  \nSide at fault: **%s** · confidence: **%s** (%s) · rule `%s` · knowledge base `%s`\n\n",
		rk_side_name(tk_side(r)), rk_conf_name(tk_conf(r)), rk_basis_name(tk_basis(r)), r->id, k->id);
	if (r->n_evid || k->n_evid) {
		fputs("**Evidence**\n\n", o);
		md_evidence(o, e, r->evid, r->n_evid);
		md_evidence(o, e, k->evid, k->n_evid);
		fputc('\n', o);
	}
	fputs("**Root cause.** ", o);
	md_prose(o, k->root_cause);
	fputs("\n\n", o);
	md_disputes(o, k->rc_disp, k->n_rc_disp, 0);

	n = tk_rank(r, rk, sizeof(rk) / sizeof(rk[0]));
	if (n)
		fputs("### Workarounds (most likely first)\n\n", o);
	for (i = 0; i < n; i++) {
		const struct rk_workaround *w = rk[i].w;
		fprintf(o, "%zu. **%d%%** ", i + 1, rk[i].rate);
		md_prose(o, w->title);
		if (rk[i].rate != w->rate) {
			fprintf(o, " (knowledge base: %d%%", w->rate);
			if (rk[i].why) {
				fputs("; ", o);
				md_prose(o, rk[i].why);
			}
			fputc(')', o);
		}
		fputc('\n', o);
		if (w->detail) {
			fputs("\n   ", o);
			md_prose(o, w->detail);
			fputc('\n', o);
		}
		for (j = 0; j < w->n_cmd; j++) {
			fputs("\n   ", o);
			md_prose(o, w->cmd[j].stack);
			fputs(":\n\n", o);
			md_code(o, w->cmd[j].text, 3, lang_of(w->cmd[j].stack));
		}
		if (w->n_disp)
			fputc('\n', o);
		md_disputes(o, w->disp, w->n_disp, 3);
		fputc('\n', o);
	}
	if (k->n_de) {
		fputs("### Dead ends (not worth trying)\n\n", o);
		for (j = 0; j < k->n_de; j++) {
			fprintf(o, "- **%d%% fail:** ", k->de[j].rate);
			if (*k->de[j].title) {
				md_prose(o, k->de[j].title);
				fputs(" — ", o);
			}
			md_prose(o, k->de[j].reason);
			fputc('\n', o);
		}
		fputc('\n', o);
	}
	if (k->n_ref) {
		fputs("### References\n\n", o);
		for (j = 0; j < k->n_ref; j++) {
			const char *u = k->ref[j].url;
			fputs("- ", o);
			if (!strncmp(u, "https://", 8) && !strpbrk(u, " <>\"'`\\|"))
				fprintf(o, "<%s>", u);
			else
				md_prose(o, u);
			if (k->ref[j].title) {
				fputs(" — ", o);
				md_prose(o, k->ref[j].title);
			}
			fputc('\n', o);
		}
		fputc('\n', o);
	}
	fprintf(o, "Knowledge base: `%s`", k->id);
	for (j = 0; j < k->n_see; j++)
		fprintf(o, "%s`%s`", j ? ", " : " · see also ", k->see[j]);
	if (f && f->n_also) {
		fputs(" · also matched (less specific):", o);
		for (i = 0; i < f->n_also; i++)
			fprintf(o, " `%s`", f->also[i]->id);
	}
	fputs("\n\n", o);
}

static void md_notes(FILE *o, struct rk_eval *e, const struct rule_findings *f)
{
	char line[EVL];
	size_t i;
	uint16_t t;
	if (!f->n_note)
		return;
	fputs("### Notes\n\n", o);
	for (i = 0; i < f->n_note; i++) {
		const struct rk_rule *r = f->note[i];
		fputs("- **", o);
		md_prose(o, r->title);
		fprintf(o, "** (`%s`)", r->id);
		for (t = 0; t < r->n_evid + r->kb->n_evid; t++) {
			const struct rk_tmpl *tm = t < r->n_evid ? &r->evid[t] : &r->kb->evid[t - r->n_evid];
			rk_render(e, tm, line, sizeof(line), NULL, 0);
			fputs(t ? "; " : ": ", o);
			md_prose(o, line);
		}
		fputs(". ", o);
		md_prose(o, r->kb->root_cause);
		fputc('\n', o);
	}
	fputc('\n', o);
}

/* ---- a section (the first connection of a group) ---------------------------- */

static void md_sni(FILE *o, const struct hs_record *rec)
{
	if (rec->ch && rec->ch->has_sni)
		md_wire(o, rec->ch->sni, rec->ch->sni_len);
	else
		fputs("*(none)*", o);
}

void md_section(FILE *o, const struct hs_record *rec, const struct rule_findings *f)
{
	char a[80], b[80], t[48], v[16];
	struct rk_eval e;
	uint16_t i;
	fputs("| Connection | |\n|---|---|\n", o);
	fprintf(o, "| Client | `%s` |\n", rpt_endpoint(a, sizeof(a), &rec->cli));
	fprintf(o, "| Server | `%s` |\n", rpt_endpoint(b, sizeof(b), &rec->srv));
	fputs("| SNI | ", o);
	md_sni(o, rec);
	fputs(" |\n", o);
	if (rec->ch && rec->ch->n_alpn) {
		fputs("| ALPN | ", o);
		for (i = 0; i < rec->ch->n_alpn; i++) {
			uint16_t off = rec->ch->alpn_off[i];
			if (i)
				fputs(", ", o);
			md_wire(o, rec->ch->alpn + off + 1, rec->ch->alpn[off]);
		}
		fputs(" |\n", o);
	}
	fprintf(o, "| Stage | `%s` |\n", hs_stage_name((enum hs_stage)rec->stage));
	if (rec->ch)
		fprintf(o, "| Client offered | up to %s, %u cipher suites |\n",
			tk_version(v, sizeof(v), tk_max_offered(rec->ch)), rec->ch->total_suites);
	if (rec->ch) {
		struct rule_identity id;
		char idt[400];
		rule_client_identity(f ? f->rs : NULL, rec, &id);
		fputs("| Client is | ", o);
		md_prose(o, rule_identity_text(&id, idt, sizeof(idt)));
		fputs(" |\n", o);
	}
	if (rec->sh) {
		char s[64];
		fprintf(o, "| Server chose | %s, ", tk_version(v, sizeof(v), rec->sh->version));
		md_prose(o, tk_suite(s, sizeof(s), rec->sh->cipher));
		fputs(" |\n", o);
	}
	if (rec->server_chain.n && rec->server_chain.c[0].x && !rec->server_chain.c[0].x->malformed) {
		const char *subj = rec->server_chain.c[0].x->subject;
		fputs("| Server certificate | ", o);
		md_wire(o, (const uint8_t *)subj, strlen(subj));
		fprintf(o, "%s |\n", rec->server_chain.c[0].expired ? " (expired at capture time)" : "");
	}
	if (rec->nontls_dir != 255) {
		fprintf(o, "| Non-TLS bytes from the %s | ", rpt_dir_name(rec->nontls_dir));
		md_wire(o, rec->nontls, rec->nontls_len);
		fputs(" |\n", o);
	}
	fprintf(o, "| Frames | %" PRIu64 "–%" PRIu64 " (connection #%" PRIu64 ", %.3f ms) |\n", rec->first_frame,
		rec->last_frame, rec->id, (double)(rec->last_ts_us - rec->first_ts_us) / 1000.0);
	fprintf(o, "| Started | %s |\n", tk_time(t, sizeof(t), rec->first_ts_us));
	if (rec->anomalies) {
		int bit, first = 1;
		fputs("| Capture problems | ", o);
		for (bit = 0; bit < 32; bit++)
			if (rec->anomalies & (1u << bit)) {
				fprintf(o, "%s`%s`", first ? "" : ", ", hs_anomaly_name((enum hs_anomaly)(1u << bit)));
				first = 0;
			}
		fputs(" |\n", o);
	}
	fputs("\n**Handshake ladder** (client left, server right; time from the first packet):\n\n", o);
	{
		char *buf = NULL;
		size_t n = 0;
		FILE *m = open_memstream(&buf, &n);
		if (m) {
			md_ladder(m, rec);
			fclose(m);
			md_code(o, buf, 0, "text");
			free(buf);
		}
	}
	fputc('\n', o);
	if (!f)
		return;
	rk_eval_init(&e, f->rs, rec, &f->ctx);
	if (f->diag)
		md_finding(o, &e, f->diag, f);
	md_notes(o, &e, f);
}

/* ---- --all: one row per connection ----------------------------------------- */

static const char ALL_HEAD[] =
	"| # | Client | Server | SNI | Stage | Version | Cipher suite | Frames | Duration | Diagnosis |\n"
	"|---:|---|---|---|---|---|---|---|---:|---|\n";

void md_all_row(FILE *o, const struct hs_record *rec, const struct rule_findings *f)
{
	char a[80], b[80], v[16], s[64];
	fprintf(o, "| %" PRIu64 " | `%s` | `%s` | ", rec->id, rpt_endpoint(a, sizeof(a), &rec->cli),
		rpt_endpoint(b, sizeof(b), &rec->srv));
	md_sni(o, rec);
	fprintf(o, " | `%s` | %s | ", hs_stage_name((enum hs_stage)rec->stage),
		rec->sh ? tk_version(v, sizeof(v), rec->sh->version) : "");
	if (rec->sh)
		md_prose(o, tk_suite(s, sizeof(s), rec->sh->cipher));
	fprintf(o, " | %" PRIu64 "–%" PRIu64 " | %.3f ms | ", rec->first_frame, rec->last_frame,
		(double)(rec->last_ts_us - rec->first_ts_us) / 1000.0);
	if (f && f->diag)
		fprintf(o, "`%s`", f->diag->id);
	fputs(" |\n", o);
}

/* ---- the document ------------------------------------------------------------ */

static void span(FILE *o, int64_t us)
{
	if (us < 1000000)
		fprintf(o, "%.3f ms", (double)us / 1000.0);
	else
		fprintf(o, "%.3f s", (double)us / 1e6);
}

void md_document(struct rpt *r, const struct cap_input *in, int nin, const struct cap_run *run,
		 const struct flow_stats *fs, const char *filter)
{
	FILE *o = r->out;
	struct rpt_ticket *t = r->tk;
	char tb[48], tb2[48], v[16], s[64], a[80];
	size_t i, j;
	int k;
	uint64_t healthy = r->n.complete;

	/* headline */
	if (r->n.failed) {
		fprintf(o, "# TLS handshakes: FAILED — %" PRIu64 " of %" PRIu64 " failed\n\n", r->n.failed,
			r->n.tls ? r->n.tls : r->n.connections);
		fputs("**Verdict:** ", o);
		if (t->nc == 1) {
			md_prose(o, t->c[0].rule->title);
			fprintf(o, " (side at fault: %s, confidence: %s).", rk_side_name(tk_side(t->c[0].rule)),
				rk_conf_name(tk_conf(t->c[0].rule)));
		} else {
			fprintf(o, "%zu different causes; the most frequent: ", t->nc);
			j = 0;
			for (i = 1; i < t->nc; i++)
				if (t->c[i].count > t->c[j].count)
					j = i;
			md_prose(o, t->c[j].rule->title);
			fprintf(o, " (%" PRIu64 " connections).", t->c[j].count);
		}
		fputs("\n\n", o);
	} else {
		fprintf(o, "# TLS handshakes: OK — no failed handshake\n\n**Verdict:** %" PRIu64
			" TLS handshake%s, %" PRIu64 " complete, none failed.\n\n", r->n.tls, r->n.tls == 1 ? "" : "s",
			r->n.complete);
	}

	/* summary */
	fputs("## Summary\n\n| Item | Value |\n|---|---|\n", o);
	fprintf(o, "| Connections reported | %" PRIu64 " |\n", r->n.connections);
	fprintf(o, "| TLS handshakes | %" PRIu64 ": %" PRIu64 " complete, %" PRIu64 " failed |\n", r->n.tls,
		r->n.complete, r->n.failed);
	fputs("| Failed by cause | ", o);
	if (!t->nc)
		fputs("none", o);
	for (i = 0; i < t->nc; i++) {
		fprintf(o, "%s%" PRIu64 " × ", i ? "; " : "", t->c[i].count);
		md_prose(o, t->c[i].rule->title);
		fprintf(o, " (`%s`)", t->c[i].rule->id);
	}
	fputs(" |\n", o);
	fputs("| By stage | ", o);
	for (k = 0, i = 0; k < STAGE__COUNT; k++)
		if (r->n.by_stage[k])
			fprintf(o, "%s`%s` %" PRIu64, i++ ? ", " : "", hs_stage_name((enum hs_stage)k), r->n.by_stage[k]);
	fputs(" |\n", o);
	if (run->ps.packets) {
		fprintf(o, "| Capture span | %s → %s (", tk_time(tb, sizeof(tb), run->first_ts_us),
			tk_time(tb2, sizeof(tb2), run->last_ts_us));
		span(o, run->last_ts_us - run->first_ts_us);
		fprintf(o, ", %" PRIu64 " packets) |\n", run->ps.packets);
	} else {
		fputs("| Capture span | no packets |\n", o);
	}
	for (k = 0; k < nin; k++) {
		const char *sha = r->src && r->src[k] ? rpt_src_sha256(r->src[k]) : "";
		if (in[k].live) {
			fputs("| Interface | ", o);
			md_prose(o, in[k].path);
		} else {
			fputs("| Source file | ", o);
			md_prose(o, strcmp(in[k].path, "-") ? in[k].path : "standard input");
		}
		fprintf(o, " (%s, %" PRIu64 " packets%s)", in[k].link_name ? in[k].link_name : "?", in[k].packets,
			in[k].truncated ? ", ends mid-packet" : "");
		if (*sha)
			fprintf(o, "<br>SHA-256 `%s`", sha);
		fputs(" |\n", o);
	}
	if (filter && *filter) {
		fputs("| Filter | ", o);
		md_prose(o, filter);
		fputs(" |\n", o);
	}
	if (run->live && run->have_kstats)
		fprintf(o, "| Kernel drops | %" PRIu64 " by the kernel, %" PRIu64 " by the interface |\n",
			run->kernel_drops, run->if_drops);
	if (fs->flows_evicted || fs->cap_segments_hit || fs->cap_bytes_hit)
		fprintf(o, "| Caps hit | %" PRIu64 " flows evicted, %" PRIu64 " queue-segment caps, %" PRIu64
			" queue-byte caps |\n", fs->flows_evicted, fs->cap_segments_hit, fs->cap_bytes_hit);
	if (r->ev && ev_written(r->ev)) {
		fputs("| Evidence capture | ", o);
		md_prose(o, ev_path(r->ev));
		fprintf(o, " (%" PRIu64 " packets of %" PRIu64 " connections, %" PRIu64 " bytes)<br>SHA-256 `%s` |\n",
			ev_packets(r->ev), ev_connections(r->ev), ev_bytes(r->ev), ev_sha256(r->ev));
	}
	fprintf(o, "| Generated by | tlswhy %s |\n\n", TLSWHY_VERSION);

	/* failed handshakes */
	if (t->ng) {
		fputs("## Failed handshakes\n\n", o);
		fputs("| # | Connections | Cause | Server | Side at fault | Rule |\n|---:|---:|---|---|---|---|\n", o);
		for (i = 0; i < t->ng; i++) {
			fprintf(o, "| %zu | %" PRIu64 " | ", i + 1, t->g[i].count);
			md_prose(o, t->g[i].rule->title);
			fprintf(o, " | `%s` | %s | `%s` |\n", rpt_endpoint(a, sizeof(a), &t->g[i].srv),
				rk_side_name(tk_side(t->g[i].rule)), t->g[i].rule->id);
		}
		fputc('\n', o);
		if (t->failed_ungrouped)
			fprintf(o, "%" PRIu64 " more failed connections fall in further groups that are not shown "
				"(the JSON report has them all).\n\n", t->failed_ungrouped);
	}
	for (i = 0; i < t->ng; i++) {
		const struct tk_group *g = &t->g[i];
		fprintf(o, "## %zu. ", i + 1);
		md_prose(o, g->rule->title);
		fputs("\n\n", o);
		if (g->count > 1) {
			fprintf(o, "**%" PRIu64 " connections like this** (same cause, same server `%s`), first at %s, last "
				"ending %s. Connections (#id at frame):", g->count, rpt_endpoint(a, sizeof(a), &g->srv),
				tk_time(tb, sizeof(tb), g->first_ts), tk_time(tb2, sizeof(tb2), g->last_ts));
			for (j = 0; j < g->count && j < TK_IDS; j++)
				fprintf(o, "%s#%" PRIu64 " at %" PRIu64, j ? ", " : " ", g->ids[j], g->frames[j]);
			if (g->count > TK_IDS)
				fprintf(o, ", … and %" PRIu64 " more", g->count - TK_IDS);
			fputs(". The first is shown.\n\n", o);
		}
		if (g->body)
			fwrite(g->body, 1, g->body_len, o);
	}

	/* the rest */
	fputs("## Healthy and other connections\n\n", o);
	if (!t->no) {
		fputs("None.\n\n", o);
	} else {
		fprintf(o, "%" PRIu64 " complete handshake%s. Grouped by server, stage and what was negotiated:\n\n",
			healthy, healthy == 1 ? "" : "s");
		fputs("| Connections | Server | SNI | Stage | Version | Cipher suite | Note | First (#id at frame) |\n"
		      "|---:|---|---|---|---|---|---|---|\n", o);
		for (i = 0; i < t->no; i++) {
			const struct tk_other *x = &t->o[i];
			fprintf(o, "| %" PRIu64 " | `%s` | ", x->count, rpt_endpoint(a, sizeof(a), &x->srv));
			if (x->has_sni)
				md_wire(o, x->sni, x->sni_len);
			else
				fputs("*(none)*", o);
			fprintf(o, " | `%s` | %s | ", hs_stage_name((enum hs_stage)x->stage),
				x->version ? tk_version(v, sizeof(v), x->version) : "");
			if (x->version)
				md_prose(o, tk_suite(s, sizeof(s), x->cipher));
			fputs(" | ", o);
			if (x->diag) {
				md_prose(o, x->diag->title);
				fprintf(o, " (`%s`)", x->diag->id);
			}
			fprintf(o, " | #%" PRIu64 " at %" PRIu64 " |\n", x->first_id, x->first_frame);
		}
		if (t->other_rest)
			fprintf(o, "| %" PRIu64 " | (other servers and outcomes) | | | | | | |\n", t->other_rest);
		fputc('\n', o);
		if (!r->all)
			fputs("Every connection is listed with `--all`.\n\n", o);
	}
	if (r->all && t->all_rows) {
		fprintf(o, "## All connections (%" PRIu64 ")\n\n", t->all_rows);
		fputs(ALL_HEAD, o);
		tk_copy_all(t, o);
		fputc('\n', o);
	}
	fprintf(o, "---\n\n*Generated by tlswhy %s; every fact above is in the JSON report "
		   "(`--format json`).*\n", TLSWHY_VERSION);
}

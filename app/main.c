/*
 * main.c - the tlswhy command line.
 *
 *   tlswhy -r FILE [-r FILE ...] [options] [BPF expression]
 *   tlswhy -i IFACE [-Z USER] [options] [BPF expression]
 *   tlswhy -D
 *   tlswhy rules list | rules check FILE | rules show ID
 *   tlswhy probe HOST[:PORT] [options]     (probe/probe.c)
 *
 * Live capture reports each handshake as soon as its outcome is known
 * (early reporting in dissect/flow.c) and flushes the report after each
 * connection; offline reading reports a connection when it is retired,
 * unless --handshake-timeout asks for the live behaviour.
 *
 * Start-up code only: this is the one place that may exit. Exit status is
 * 0 when no failed handshake was diagnosed, 1 when at least one was, 2 for
 * usage or input errors (unreadable or corrupt capture, bad filter, bad
 * rule file).
 */
#include "app/app.h"
#include "app/rq.h"
#include "dissect/dbuf.h"
#include "dissect/fp.h"
#include "dissect/hash.h"
#include "dissect/keylog.h"
#include "probe/probe.h"
#include "dissect/servers.h"
#include "rules/rules.h"

#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TLSWHY_VERSION "0.1.0"

static void usage(FILE *f)
{
	fputs("usage: tlswhy -r FILE [-r FILE ...] [options] [BPF expression]\n"
	      "       tlswhy -i IFACE [-Z USER] [options] [BPF expression]\n"
	      "       tlswhy -D\n"
	      "       tlswhy rules list | rules check FILE | rules show ID\n"
	      "       tlswhy probe HOST[:PORT] [options]   (tlswhy probe --help)\n"
	      "\n"
	      "Reads packet captures (pcap or pcapng; '-' is standard input), or captures live,\n"
	      "and tells, for every TLS handshake, what each side offered and answered, where it\n"
	      "broke, who broke it, and why, with the evidence and the fixes.\n"
	      "\n"
	      "  -r FILE               read a capture (repeatable, read in order): pcap, pcapng,\n"
	      "                        gzip or zstd; - or a pipe is read once, as it comes\n"
	      "  -i IFACE              capture live on IFACE ('any' for all); each handshake is\n"
	      "                        reported as soon as its outcome is known; ^C (SIGINT) or\n"
	      "                        SIGTERM ends the capture and completes the report\n"
	      "  -D, --list-interfaces list the interfaces -i accepts\n"
	      "  -s SNAPLEN            bytes kept per packet (default 262144)\n"
	      "  -B KIB                kernel capture buffer in KiB (default 16384)\n"
	      "  -p                    do not put the interface in promiscuous mode\n"
	      "  -c COUNT              stop after COUNT packets (read from files, or captured)\n"
	      "  -n                    accepted, as tcpdump's: tlswhy never resolves names\n"
	      "      --duration S      stop after S seconds\n"
	      "  -Z USER               after opening the interface (or the -r files) and the\n"
	      "                        outputs, switch to USER (groups, gid, uid). Live and\n"
	      "                        started as root without -Z, tlswhy switches to 'nobody';\n"
	      "                        -Z root keeps root\n"
	      "      --handshake-timeout S\n"
	      "                        a handshake silent for S seconds is diagnosed (default 10,\n"
	      "                        like the ALB's); given with -r, offline reports early too\n"
	      "      --status WHEN     a status line on stderr every 2 s: auto (when stderr is a\n"
	      "                        terminal), always or never; reading a file over 4 MB, a\n"
	      "                        progress line (percent, packets/s, ETA) on a terminal\n"
	      "  -F, --format FMT      text (default), markdown, json, jsonl, html or ecs (JSON\n"
	      "                        Lines in Elastic Common Schema 8.11 field names); text\n"
	      "                        from files is a summary (failures grouped by cause,\n"
	      "                        healthy ones counted, as the Markdown report), see -v, -q\n"
	      "      --detail LEVEL    json, jsonl, ecs: lean (a short object per healthy\n"
	      "                        connection, everything for failed and inconclusive ones;\n"
	      "                        the jsonl and ecs default) or full (every connection whole;\n"
	      "                        the json default)\n"
	      "      --pretty          json: indented (the default on a terminal), else compact\n"
	      "  -o FILE               write the report to FILE instead of standard output (a new\n"
	      "                        file put in place when the run ends, never written through\n"
	      "                        a symlink); without --format, the extension picks it (.txt\n"
	      "                        .md .json .jsonl .ndjson .html .htm)\n"
	      "      --append          append to -o FILE instead of replacing it (a service's log);\n"
	      "                        live, SIGHUP reopens -o FILE (after logrotate moved it)\n"
	      "  -w FILE               write an evidence capture: only the packets of connections\n"
	      "                        with findings (all reported ones with --all), original link\n"
	      "                        type; the report names it with its SHA-256. FILE.pcapng:\n"
	      "                        pcapng, each packet commented \"original frame N\"\n"
	      "      --max-spool M     live -w: MiB of packets kept on disk until their connection\n"
	      "                        is judged (default 128); the report counts any dropped\n"
	      "      --inner-filter EXPR\n"
	      "                        a BPF expression for the packet inside a VXLAN or GENEVE\n"
	      "                        tunnel (the BPF expression filters the outer packet, as\n"
	      "                        tcpdump); packets not tunnelled pass it\n"
	      "      --rules FILE      add a rule file (repeatable); see docs/rules.md\n"
	      "      --keylog FILE     decrypt with an NSS key log (SSLKEYLOGFILE; repeatable):\n"
	      "                        what the encrypted records show joins the report\n"
	      "      --community-id-seed N\n"
	      "                        the seed (0-65535, default 0) of every connection's\n"
	      "                        Community ID, as Zeek's or Suricata's is configured\n"
	      "      --alb-log FILE    an ALB access log (plain or .gz; repeatable): its 502s and\n"
	      "                        504s are matched with the capture's failed connections\n"
	      "  -v                    text: each connection in full, as it ends (the default live)\n"
	      "  -q                    text: the verdict line and the counts only\n"
	      "      --all             report every TCP connection, not only TLS ones and failures;\n"
	      "                        text: each of them in full, as -v\n"
	      "      --color WHEN      auto (default), always or never; a non-empty NO_COLOR turns\n"
	      "                        auto off\n"
	      "      --input-hash WHEN SHA-256 of each input file in the report: auto (default:\n"
	      "                        standard input and files up to 256 MiB), always or never\n"
	      "      --max-flows N     flows tracked at once (default 65536)\n"
	      "      --max-segments N  out-of-order segments queued per direction (default 256)\n"
	      "      --max-buffer N    out-of-order bytes queued per direction, and packets held back\n"
	      "                        per flow (default 1048576)\n"
	      "      --max-buffer-total M  the same, MiB in all flows together (default 256)\n"
	      "      --max-handshake N largest handshake message decoded, bytes (default 262144)\n"
	      "      --idle-timeout S  retire a silent flow after S seconds of capture time (default 300)\n"
	      "  -h, --help            this text\n"
	      "  -V, --version         the version\n"
	      "\n"
	      "Exit status: 0 no failed handshake, 1 at least one failed handshake diagnosed,\n"
	      "2 usage or input error.\n",
	      f);
}

/* The leaf cache's slot: the one mixer (dissect/hash.h) with fixed keys,
 * so which servers share a slot is the same in every run. */
static uint32_t hint_slot(const struct hs_addr *a)
{
	uint64_t lo, hi;
	memcpy(&lo, a->addr, 8);
	memcpy(&hi, a->addr + 8, 8);
	return (uint32_t)(hash_mum(lo ^ 0x9e3779b97f4a7c15ull, hi ^ ((uint64_t)a->port << 8 | a->family)) % HINTS);
}

static int addr_eq(const struct hs_addr *x, const struct hs_addr *y)
{
	return x->family == y->family && x->port == y->port && memcmp(x->addr, y->addr, 16) == 0;
}

/* Remembers the leaf a server presented; returns one seen before, if any. */
static const struct x509_facts *hint_for(struct app *app, const struct hs_record *r)
{
	struct hint *h = &app->hints[hint_slot(&r->srv)];
	const struct x509_facts *leaf = r->server_chain.n ? r->server_chain.c[0].x : NULL;
	if (leaf && !leaf->malformed) {
		if (!h->leaf || !addr_eq(&h->srv, &r->srv) || h->leaf != leaf) {
			if (h->leaf)
				x509_put(h->leaf);
			h->srv = r->srv;
			h->leaf = x509_ref(leaf);
		}
		return leaf;
	}
	return (h->leaf && addr_eq(&h->srv, &r->srv)) ? h->leaf : NULL;
}

static void release_certs(struct hs_record *r)
{
	uint16_t i;
	for (i = 0; i < r->server_chain.n; i++)
		x509_put(r->server_chain.c[i].x);
	for (i = 0; i < hs_rare(r)->client_chain.n; i++)
		x509_put(hs_rare(r)->client_chain.c[i].x);
}

static void release_known(struct hs_record *r)
{
	if (r->known) {
		srv_known_release(r->known);
		free(r->known);
		r->known = NULL;
	}
}

static void release_record(struct hs_record *r, void *arg)
{
	(void)arg;
	release_certs(r);
	release_known(r);
	record_free(r);
}

/* Rules and report for one finished record, on the report thread when
 * there is one. `now_us`: the capture time when it was judged. */
static void report_record(struct app *app, struct hs_record *r, int64_t now_us)
{
	struct rule_verdict *v;
	if (app->status_shown) {
		fputs("\r\033[K", stderr);   /* the connection's text takes the line */
		app->status_shown = 0;
	}
	if (app->out_tty)
		cap_progress_clear(&app->src_shared);
	if (rpt_wanted(&app->rpt, r)) {
		struct rule_ctx ctx;
		memset(&ctx, 0, sizeof(ctx));
		ctx.capture_end_us = now_us;   /* live: a silence is measured up to now */
		ctx.server_leaf_hint = hint_for(app, r);
		ctx.server = r->known;
		ctx.evidence = (uint8_t)rpt_evidence_mode(&app->rpt);
		v = rule_eval(app->rules, r, &ctx);
		if (rule_verdict_failed(v))
			app->failed = 1;
		rpt_conn(&app->rpt, r, v);
		alb_conn(app->alb, r, v);
		cap_ev_mark(app->ev, r, v && v->diag);
		rule_verdict_free(v);
		if (app->live)
			fflush(app->rpt.out);
	} else {
		app->rpt.n.untracked++;
	}
}

/* Hands a record to the rules and the report, with what the run knows of
 * its server from the other connections (dissect/servers.h); then it is
 * done with (out). */
static void dispatch(struct app *app, struct hs_record *r, int64_t now_us, struct rq_out *out)
{
	struct srv_known k;
	/* what other connections taught speaks to how a handshake failed: a
	 * completed one is judged on its own facts (and costs no snapshot) */
	if (!r->complete && srv_snapshot(app->servers, r, &k)) {
		r->known = malloc(sizeof(*r->known));
		if (r->known)
			*r->known = k;
		else
			srv_known_release(&k);
	}
	if (app->rq && !app->judge_on_report) {
		rq_push(app->rq, r, now_us);   /* judged here, reported there (report_only) */
		return;
	}
	report_record(app, r, now_us);
	/* what the server was known for was made on this thread (the report
	 * thread, when it judges): given back here, not by release_record()
	 * on the analysis thread, whose free would take this thread's malloc
	 * arena lock while this thread allocates (issue 19: the run's futex
	 * calls, after the certificates' lock) */
	release_known(r);
	rq_out_add(out, r);
}

/* The oldest record waiting for later connections, out of the ring. */
static struct hs_record *window_pop(struct app *app)
{
	struct hs_record *r = app->win[app->win_head];
	app->win_head = (app->win_head + 1) % SRV_WINDOW;
	app->win_n--;
	return r;
}

/* What becomes of a finished record, in the order records finished: the
 * servers' table learns from it, it waits in the window for later
 * connections (SRV_WINDOW; none live), and is judged when it leaves. r
 * NULL: the end of an input or of the run, everything waiting is judged.
 * On the report thread when there is one and judge_on_report (it then owns
 * the servers' table and the window: the analysis thread only hands
 * records over), with the capture time the analysis thread had at
 * hand-over, so the report is the one thread's; else here, and dispatch()
 * hands the judged record to the report thread. Records judged go to out,
 * to be freed where they were made. */
static void judge(struct hs_record *r, int64_t now_us, void *arg, struct rq_out *out)
{
	struct app *app = arg;
	if (!r) {
		while (app->win_n)
			dispatch(app, window_pop(app), now_us, out);
		return;
	}
	srv_learn(app->servers, r);
	if (!app->win_cap) {
		dispatch(app, r, now_us, out);
		return;
	}
	if (app->win_n == app->win_cap)
		dispatch(app, window_pop(app), now_us, out);
	app->win[(app->win_head + app->win_n) % SRV_WINDOW] = r;
	app->win_n++;
}

/* The report thread's part when judge() runs on the analysis thread. */
static void report_only(struct hs_record *r, int64_t now_us, void *arg, struct rq_out *out)
{
	report_record(arg, r, now_us);
	rq_out_add(out, r);
}

/* On the analysis thread: a record (or NULL, the end of an input) to judge(). */
static void hand_over(struct app *app, struct hs_record *r)
{
	struct rq_out out = { NULL, NULL };
	if (app->rq && app->judge_on_report) {
		rq_push(app->rq, r, app->run.now_us);
		return;
	}
	judge(r, app->run.now_us, app, &out);
	rq_release_list(out.head, release_record, app);
}

/* Judges the records still waiting (the end of an input, or of the run). */
static void window_flush(struct app *app)
{
	hand_over(app, NULL);
}

static void on_record(struct hs_record *r, void *arg)
{
	hand_over(arg, r);
}

/* Offline with two cores or more, the rules and the report run on their
 * own thread (unless the tests ask for one thread: test_switches). */
static void report_thread_start(struct app *app)
{
	if (app->live || app->one_report_thread || sysconf(_SC_NPROCESSORS_ONLN) < 2)
		return;
	/* judge() goes where there is room: the machine formats (JSON, JSON
	 * Lines, ECS) keep the report thread the busier one (bench/RESULTS.md),
	 * the others the analysis thread; the report is the same either way */
	app->judge_on_report = app->rpt.fmt != RPT_JSON && app->rpt.fmt != RPT_JSONL && app->rpt.fmt != RPT_ECS;
	app->rq = rq_start(app->judge_on_report ? judge : report_only, release_record, app);
}

static void report_thread_finish(struct app *app)
{
	rq_finish(app->rq);
	app->rq = NULL;
}

/* The live status line (stderr is a terminal): overwritten in place. */
static void on_status(void *arg, const struct cap_run *run)
{
	struct app *app = arg;
	fprintf(stderr, "\r\033[Ktlswhy: %" PRIu64 " packets, TLS handshakes %" PRIu64 " ok / %" PRIu64
		" failed, %" PRIu64 " flows tracked, %" PRIu64 " kernel drops",
		run->ps.packets, app->rpt.n.complete, app->rpt.n.failed, flow_table_active(run->ft),
		run->kernel_drops + run->if_drops);
	fflush(stderr);
	app->status_shown = 1;
}

/* SIGHUP during a live capture (capture/live.c calls this between
 * packets, never from the handler): the report goes on in a new -o FILE,
 * appended to, as after logrotate moved the old one away. If it cannot be
 * opened, the old stream is kept and the failure said. */
static void on_hup(void *arg)
{
	struct app *app = arg;
	FILE *nf;
	fflush(app->out);
	if (!app->o.append || !app->o.outpath || strcmp(app->o.outpath, "-") == 0)
		return;   /* without --append, -o FILE is put in place when the run ends */
	{
		int fd = open(app->o.outpath, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0666);
		nf = fd >= 0 ? fdopen(fd, "a") : NULL;
		if (!nf && fd >= 0)
			close(fd);
	}
	if (!nf) {
		fprintf(stderr, "tlswhy: SIGHUP: %s: %s; still writing to the old file\n", app->o.outpath,
			strerror(errno));
		return;
	}
	fclose(app->out);
	app->out = app->rpt.out = nf;
	app->rpt.jw.f = nf;   /* --format json: the document goes on in the new file */
}

/* The report's tail from what capture/ measured: plain data (report/run.h). */
static void report_end(struct app *app, const struct flow_stats *fs)
{
	const struct cap_input *inputs = app->inputs;
	struct cap_src *const *srcs = app->srcs;
	int nin = app->nin;
	struct rpt_input *in = app->rpt_in;
	struct rpt_run run;
	struct rpt_evidence ev;
	int i;
	for (i = 0; i < nin; i++) {
		const struct cap_input *c = &inputs[i];
		in[i].path = c->path;
		in[i].live = c->live;
		in[i].link_name = c->link_name;
		in[i].link_supported = c->link_supported;
		in[i].packets = c->packets;
		in[i].bytes = c->bytes;
		in[i].first_frame = c->first_frame;
		in[i].truncated = c->truncated;
		in[i].warning = c->warning;
		in[i].error = c->error;
		in[i].sha256 = cap_src_sha256(srcs[i]);
		in[i].hash_note = cap_src_hash_note(srcs[i]);
	}
	memset(&run, 0, sizeof(run));
	run.ps = app->run.ps;
	run.first_ts_us = app->run.first_ts_us;
	run.last_ts_us = app->run.last_ts_us;
	run.live = app->run.live;
	run.have_kstats = app->run.have_kstats;
	run.kernel_drops = app->run.kernel_drops;
	run.if_drops = app->run.if_drops;
	if (app->ev && cap_ev_written(app->ev)) {
		ev.path = cap_ev_path(app->ev);
		ev.sha256 = cap_ev_sha256(app->ev);
		ev.bytes = cap_ev_bytes(app->ev);
		ev.packets = cap_ev_packets(app->ev);
		ev.connections = cap_ev_connections(app->ev);
		ev.all = app->rpt.all;
		ev.connections_not_kept = cap_ev_not_kept(app->ev);
		ev.inputs_skipped = cap_ev_inputs_skipped(app->ev);
		ev.pcapng = cap_ev_pcapng(app->ev);
		ev.map = cap_ev_frame_map(app->ev, &ev.nmap, &ev.map_partial);
		ev.live = app->live;
		ev.spool_dropped = cap_ev_spool_dropped(app->ev);
		ev.spool_max_mib = app->o.max_spool >> 20;
		app->rpt.ev = &ev;
	}
	app->rpt.alb = alb_finish(app->alb, run.first_ts_us, run.last_ts_us, run.ps.packets != 0);
	rpt_end(&app->rpt, in, nin, &run, fs, app->o.filter);
	app->rpt.ev = NULL;
}

static int parse_u32(const char *opt, const char *s, uint32_t min, uint32_t *out)
{
	char *end;
	unsigned long long v;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || end == s || v < min || v > 0xffffffffull) {
		fprintf(stderr, "tlswhy: %s needs a whole number >= %u, not '%s'\n", opt, min, s);
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}


/* ---- options --------------------------------------------------------- */

enum { O_RULES = 256, O_ALL, O_COLOR, O_MAXFLOWS, O_MAXSEG, O_MAXBUF, O_MAXHS, O_IDLE, O_DURATION,
       O_HSTIMEOUT, O_STATUS, O_MAXTOTAL, O_HASH, O_KEYLOG, O_MAXSPOOL, O_CIDSEED, O_ALBLOG, O_APPENDLOG,
       O_DETAIL, O_PRETTY, O_INNER };

#define STATUS_US (2LL * 1000000)
#define DEFAULT_USER "nobody"   /* -Z when started as root without one */

/* auto, always or never: -1, 1, 0; -2 when none of them. */
static int parse_when(const char *opt, const char *s)
{
	if (strcmp(s, "auto") == 0)
		return -1;
	if (strcmp(s, "always") == 0)
		return 1;
	if (strcmp(s, "never") == 0)
		return 0;
	fprintf(stderr, "tlswhy: %s takes auto, always or never\n", opt);
	return -2;
}

/* The live capture options. 1: handled, 0: not one of them, -1: bad. */
static int opt_live(struct app_opts *o, int c, const char *arg)
{
	uint32_t v;
	switch (c) {
	case 'i':
		o->lo.iface = arg;
		return 1;
	case 'D':
		o->list_ifaces = 1;
		return 1;
	case 's':
		if (parse_u32("-s", arg, 0, &v))
			return -1;
		o->lo.snaplen = v == 0 || v > CAP_DEFAULT_SNAPLEN ? CAP_DEFAULT_SNAPLEN : (int)v;
		return 1;
	case 'B':
		if (parse_u32("-B", arg, 1, &v))
			return -1;
		if (v > 4u * 1024 * 1024) {
			fprintf(stderr, "tlswhy: -B is at most 4194304 KiB\n");
			return -1;
		}
		o->lo.buffer_kib = (int)v;
		return 1;
	case 'p':
		o->lo.promisc = 0;
		return 1;
	case 'c':
		if (parse_u32("-c", arg, 1, &v))
			return -1;
		o->lo.count = v;
		return 1;
	case 'Z':
		o->user = arg;
		return 1;
	case O_DURATION:
		if (parse_u32("--duration", arg, 1, &v))
			return -1;
		o->lo.duration_us = (int64_t)v * 1000000;
		return 1;
	}
	return 0;
}

/* The caps and timeouts of the analysis. 1: handled, 0: not one of them, -1: bad. */
static int opt_limits(struct app_opts *o, int c, const char *arg)
{
	struct flow_limits *lim = &o->lim;
	uint32_t v;
	switch (c) {
	case O_MAXFLOWS:
		return parse_u32("--max-flows", arg, 1, &lim->max_flows) ? -1 : 1;
	case O_MAXSEG:
		return parse_u32("--max-segments", arg, 0, &lim->max_segments) ? -1 : 1;
	case O_MAXBUF:
		return parse_u32("--max-buffer", arg, 0, &lim->max_bytes) ? -1 : 1;
	case O_MAXTOTAL:
		if (parse_u32("--max-buffer-total", arg, 1, &v))
			return -1;
		lim->max_total = (uint64_t)v * 1024 * 1024;
		return 1;
	case O_MAXHS:
		if (parse_u32("--max-handshake", arg, 64, &lim->tls.max_handshake))
			return -1;
		if (lim->tls.max_handshake > (1u << 24)) {
			fprintf(stderr, "tlswhy: --max-handshake is at most 16777216\n");
			return -1;
		}
		return 1;
	case O_MAXSPOOL:
		if (parse_u32("--max-spool", arg, 1, &v))
			return -1;
		o->max_spool = (uint64_t)v * 1024 * 1024;
		return 1;
	case O_IDLE:
		if (parse_u32("--idle-timeout", arg, 1, &v))
			return -1;
		lim->idle_us = (int64_t)v * 1000000;
		return 1;
	case O_HSTIMEOUT:
		if (parse_u32("--handshake-timeout", arg, 1, &v))
			return -1;
		o->hs_timeout_us = (int64_t)v * 1000000;
		return 1;
	}
	return 0;
}

/* Inputs, outputs and the report. 1: handled, 0: not one of them, -1: bad. */
/* --keylog FILE: adds its keys to the run's key log. Problems are named by
 * file:line and why, never the line: it holds secrets. */
static int load_keylog(struct app_opts *o, const char *path)
{
	enum keylog_err ke;
	uint64_t bad;
	int k, k0;
	if (!o->keylog && !(o->keylog = keylog_new(0))) {
		fprintf(stderr, "tlswhy: out of memory\n");
		return -1;
	}
	bad = o->keylog->st.bad_total;
	k = k0 = o->keylog->n_notes;
	ke = keylog_load_file(o->keylog, path);
	if (ke == KEYLOG_ERR_OPEN || ke == KEYLOG_ERR_NOMEM) {
		fprintf(stderr, "tlswhy: --keylog %s: %s\n", path, keylog_strerror(ke));
		return -1;
	}
	if (ke)
		fprintf(stderr, "tlswhy: --keylog %s: %s\n", path, keylog_strerror(ke));
	for (; k < o->keylog->n_notes; k++)
		fprintf(stderr, "tlswhy: warning: %s\n", o->keylog->notes[k]);
	if (o->keylog->st.bad_total - bad > (uint64_t)(o->keylog->n_notes - k0))
		fprintf(stderr, "tlswhy: warning: %s: %" PRIu64 " lines not used in all\n", path,
			o->keylog->st.bad_total - bad);
	o->lim.tls.keylog = o->keylog;
	return 1;
}

static int opt_report(struct app_opts *o, int c, const char *arg)
{
	switch (c) {
	case 'r':
		if (o->nin >= MAX_INPUTS) {
			fprintf(stderr, "tlswhy: at most %d -r files\n", MAX_INPUTS);
			return -1;
		}
		o->inputs[o->nin++] = arg;
		return 1;
	case 'F':
		o->fmt = rpt_format_parse(arg);
		if (o->fmt < 0) {
			fprintf(stderr, "tlswhy: unknown format '%s' (text, markdown, json, jsonl, html or ecs)\n", arg);
			return -1;
		}
		return 1;
	case 'w':
		o->evpath = arg;
		return 1;
	case 'o':
		o->outpath = arg;
		return 1;
	case O_KEYLOG:
		return load_keylog(o, arg);
	case O_RULES:
		if (o->nrules >= MAX_RULE_FILES) {
			fprintf(stderr, "tlswhy: at most %d --rules files\n", MAX_RULE_FILES);
			return -1;
		}
		o->rule_files[o->nrules++] = arg;
		return 1;
	case O_ALL:
		o->all = 1;
		return 1;
	case O_DETAIL:
		if (strcmp(arg, "lean") && strcmp(arg, "full")) {
			fprintf(stderr, "tlswhy: --detail %s: lean or full\n", arg);
			return -1;
		}
		o->detail = arg[0] == 'l' ? 1 : 2;
		return 1;
	case O_PRETTY:
		o->pretty = 1;
		return 1;
	case 'v':
		o->verbose = 1;
		return 1;
	case O_INNER:
		o->inner_filter = arg;
		return 1;
	case 'q':
		o->quiet = 1;
		return 1;
	case O_COLOR:
		o->color = parse_when("--color", arg);
		return o->color == -2 ? -1 : 1;
	case O_STATUS:
		o->status = parse_when("--status", arg);
		return o->status == -2 ? -1 : 1;
	case O_HASH: {
		int w = parse_when("--input-hash", arg);
		o->hash = w < 0 ? CAP_HASH_AUTO : w ? CAP_HASH_ALWAYS : CAP_HASH_NEVER;
		return w == -2 ? -1 : 1;
	}
	}
	return 0;
}

/* What joins the report to the SIEM's and the load balancer's evidence:
 * --community-id-seed, --alb-log. */
static int opt_siem(struct app_opts *o, int c, const char *arg)
{
	uint32_t v;
	switch (c) {
	case O_CIDSEED:
		if (parse_u32("--community-id-seed", arg, 0, &v))
			return -1;
		if (v > 65535) {
			fprintf(stderr, "tlswhy: --community-id-seed is 0 to 65535, not '%s'\n", arg);
			return -1;
		}
		o->cid_seed = (uint16_t)v;
		return 1;
	case O_ALBLOG:
		if (o->nalb >= MAX_ALB_LOGS) {
			fprintf(stderr, "tlswhy: at most %d --alb-log files\n", MAX_ALB_LOGS);
			return -1;
		}
		o->alb_logs[o->nalb++] = arg;
		return 1;
	case O_APPENDLOG:
		o->append = 1;
		return 1;
	}
	return 0;
}

/* The rest of the line is the BPF filter, as with tcpdump. */
static int join_filter(struct app_opts *o, int argc, char **argv, int first)
{
	size_t len = 1;
	int i;
	if (first >= argc)
		return 0;
	for (i = first; i < argc; i++)
		len += strlen(argv[i]) + 1;
	o->filter = calloc(1, len);
	if (!o->filter)
		return -1;
	for (i = first; i < argc; i++) {
		if (i > first)
			strcat(o->filter, " ");
		strcat(o->filter, argv[i]);
	}
	return 0;
}

/* One line for an option getopt did not take (opterr is 0), as coreutils
 * does: what was wrong, and where the options are listed. */
static void bad_option(int c, const char *word)
{
	int lng = word && word[0] == '-' && word[1] == '-';
	if (c == ':' && lng)
		fprintf(stderr, "tlswhy: option '%s' needs an argument", word);
	else if (c == ':')
		fprintf(stderr, "tlswhy: option '-%c' needs an argument", optopt);
	else if (lng || !optopt)
		fprintf(stderr, "tlswhy: unknown option '%s'", word ? word : "?");
	else
		fprintf(stderr, "tlswhy: unknown option '-%c'", optopt);
	fputs("; see 'tlswhy --help'\n", stderr);
}

/* Parses the command line into o. Returns -1 to go on, else the exit status. */
static int parse_args(struct app_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'F' },
		{ "rules", required_argument, NULL, O_RULES },
		{ "keylog", required_argument, NULL, O_KEYLOG },
		{ "all", no_argument, NULL, O_ALL },
		{ "color", required_argument, NULL, O_COLOR },
		{ "max-flows", required_argument, NULL, O_MAXFLOWS },
		{ "max-segments", required_argument, NULL, O_MAXSEG },
		{ "max-buffer", required_argument, NULL, O_MAXBUF },
		{ "max-buffer-total", required_argument, NULL, O_MAXTOTAL },
		{ "max-handshake", required_argument, NULL, O_MAXHS },
		{ "max-spool", required_argument, NULL, O_MAXSPOOL },
		{ "idle-timeout", required_argument, NULL, O_IDLE },
		{ "list-interfaces", no_argument, NULL, 'D' },
		{ "duration", required_argument, NULL, O_DURATION },
		{ "handshake-timeout", required_argument, NULL, O_HSTIMEOUT },
		{ "status", required_argument, NULL, O_STATUS },
		{ "input-hash", required_argument, NULL, O_HASH },
		{ "community-id-seed", required_argument, NULL, O_CIDSEED },
		{ "alb-log", required_argument, NULL, O_ALBLOG },
		{ "append", no_argument, NULL, O_APPENDLOG },
		{ "detail", required_argument, NULL, O_DETAIL },
		{ "pretty", no_argument, NULL, O_PRETTY },
		{ "inner-filter", required_argument, NULL, O_INNER },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	flow_limits_default(&o->lim);
	cap_live_opts_default(&o->lo);
	o->fmt = -1;
	o->color = -1;
	o->status = -1;
	o->hash = CAP_HASH_AUTO;
	o->hs_timeout_us = -1;
	o->max_spool = (uint64_t)CAP_EV_DEFAULT_SPOOL_MIB * 1024 * 1024;
	/* options anywhere, as tcpdump on glibc: the words left over, wherever
	 * they were, are the BPF filter; "--" ends the options */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":r:i:Ds:B:pc:Z:F:o:w:hVnqv", longopts, NULL)) != -1) {
		int rc = opt_live(o, c, optarg);
		if (rc == 0)
			rc = opt_limits(o, c, optarg);
		if (rc == 0)
			rc = opt_report(o, c, optarg);
		if (rc == 0)
			rc = opt_siem(o, c, optarg);
		if (rc < 0)
			return 2;
		if (rc > 0)
			continue;
		if (c == 'h') {
			usage(stdout);
			return 0;
		}
		if (c == 'V') {
			printf("tlswhy %s\n", TLSWHY_VERSION);
			return 0;
		}
		if (c == 'n')   /* tcpdump's "don't resolve": tlswhy never does */
			continue;
		bad_option(c, optind > 0 && optind <= argc ? argv[optind - 1] : NULL);
		return 2;
	}
	if (o->list_ifaces)
		return -1;
	if (o->nin == 0 && !o->lo.iface) {
		fprintf(stderr, "tlswhy: no capture given (-r FILE or -i IFACE)\n");
		usage(stderr);
		return 2;
	}
	if (o->nin && o->lo.iface) {
		fprintf(stderr, "tlswhy: -r and -i do not mix; read files or capture live\n");
		return 2;
	}
	if (!o->lo.iface && (o->lo.duration_us || o->lo.buffer_kib != CAP_DEFAULT_BUFFER_KIB ||
			     !o->lo.promisc || o->lo.snaplen != CAP_DEFAULT_SNAPLEN))
		fprintf(stderr, "tlswhy: warning: -s, -B, -p and --duration apply to live capture (-i) only\n");
	return join_filter(o, argc, argv, optind) ? 2 : -1;
}

/* ---- start-up: rules, outputs, inputs -------------------------------- */

/* The environment switches, for the tests only (docs/robustness.md):
 *   TLSWHY_PCAP_READER=libpcap  every file through the reference loop
 *                               (pcap_next_ex), never capture/fast.c
 *   TLSWHY_PCAP_READER=show     say on stderr which way read each file
 *   TLSWHY_READER_THREAD=0      no reader thread
 *   TLSWHY_READER_FILLS=here|reader  which thread fills the blocks decoded
 *                               ahead: the calling thread or the reader
 *                               thread, every one (default: whichever is free)
 *   TLSWHY_REPORT_THREAD=0      no report thread
 *   TLSWHY_PROGRESS_MS=N        the progress line every N ms (default 500)
 *   TLSWHY_FRAGMENT_CACHE=0     JSON, JSON Lines, ECS: every fragment rendered
 *                               anew, none replayed (report/jw.c)
 *   TLSWHY_FAST_JSON=0          JSON, JSON Lines, ECS: every member written by
 *                               its own writer call (no jw_members), and the
 *                               report through stdio's buffer (no jw_stream)
 * Whatever they say, the report is the same. */
static void test_switches(struct app *app)
{
	const char *e;
	e = getenv("TLSWHY_PCAP_READER");
	app->read_opts.reference = e && strcmp(e, "libpcap") == 0;
	app->read_opts.show = e && strcmp(e, "show") == 0;
	e = getenv("TLSWHY_READER_THREAD");
	app->read_opts.one_thread = e && strcmp(e, "0") == 0;
	e = getenv("TLSWHY_READER_FILLS");
	app->read_opts.fills = !e ? CAP_FILLS_ANY : strcmp(e, "here") == 0 ? CAP_FILLS_HERE
						: strcmp(e, "reader") == 0 ? CAP_FILLS_READER : CAP_FILLS_ANY;
	e = getenv("TLSWHY_REPORT_THREAD");
	app->one_report_thread = e && strcmp(e, "0") == 0;
	app->read_opts.count = app->o.lo.count;   /* -c with -r: not a test switch, but read the same way */
	e = getenv("TLSWHY_FRAGMENT_CACHE");
	app->rpt.no_frag_cache = e && strcmp(e, "0") == 0;
	e = getenv("TLSWHY_FAST_JSON");
	app->rpt.no_fast_json = e && strcmp(e, "0") == 0;
	e = getenv("TLSWHY_PROGRESS_MS");
	app->progress_every = e && *e ? atof(e) / 1000.0 : CAP_PROGRESS_EVERY;
}

/* What follows from the options once they are all known. */
static void settle_options(struct app *app)
{
	struct app_opts *o = &app->o;
	if (o->lo.iface) {
		o->lim.hs_timeout_us = o->hs_timeout_us > 0 ? o->hs_timeout_us : FLOW_DEFAULT_HS_TIMEOUT_US;
		if (!o->user && geteuid() == 0)
			o->user = DEFAULT_USER;
		if (o->status < 0)
			o->status = isatty(STDERR_FILENO);
		if (o->status) {
			o->lo.status_us = STATUS_US;
			o->lo.status = on_status;
			o->lo.arg = app;
		}
		app->live = 1;
		o->lo.reopen = on_hup;   /* without -o FILE it does nothing: SIGHUP never kills a capture */
		o->lo.reopen_arg = app;
	} else if (o->hs_timeout_us > 0) {
		o->lim.hs_timeout_us = o->hs_timeout_us;
	}
}

static int load_rules(struct app *app)
{
	char err[1024];
	int i;
	app->rules = rule_set_new();
	if (!app->rules || rule_load_builtin(app->rules, err, sizeof(err))) {
		fprintf(stderr, "tlswhy: built-in rules: %s\n", app->rules ? err : "out of memory");
		return -1;
	}
	for (i = 0; i < app->o.nrules; i++) {
		if (rule_load_file(app->rules, app->o.rule_files[i], err, sizeof(err))) {
			fprintf(stderr, "tlswhy: %s\n", err);
			return -1;
		}
	}
	return 0;
}

/* 1 when `path` names a file being read (-r). */
static int is_input(const struct app_opts *o, const char *path)
{
	struct stat es, is;
	int i;
	if (stat(path, &es) != 0 || !S_ISREG(es.st_mode))
		return 0;
	for (i = 0; i < o->nin; i++)
		if (strcmp(o->inputs[i], "-") && stat(o->inputs[i], &is) == 0 && is.st_dev == es.st_dev &&
		    is.st_ino == es.st_ino)
			return 1;
	return 0;
}

/* --alb-log FILE...: read before the capture, so a file that cannot be
 * opened stops the run before it starts; malformed lines are only said. */
static int load_alb_logs(struct app *app)
{
	int i;
	if (!app->o.nalb)
		return 0;
	app->alb = alb_new();
	if (!app->alb) {
		fprintf(stderr, "tlswhy: out of memory\n");
		return -1;
	}
	for (i = 0; i < app->o.nalb; i++)
		if (alb_load(app->alb, app->o.alb_logs[i], stderr))
			return -1;
	return 0;
}

/* -w: never overwrite a capture being read, or the report. */
static int open_evidence(struct app *app)
{
	const struct app_opts *o = &app->o;
	int clash;
	char err[1024];
	if (!o->evpath)
		return 0;
	clash = (o->outpath && strcmp(o->outpath, o->evpath) == 0) || is_input(o, o->evpath);
	if (clash) {
		fprintf(stderr, "tlswhy: -w %s would overwrite an input or the report\n", o->evpath);
		return -1;
	}
	app->ev = cap_ev_new(o->evpath, o->all);
	if (!app->ev) {
		fprintf(stderr, "tlswhy: out of memory\n");
		return -1;
	}
	/* opened now, before a packet is read (and while still root) */
	if (strcmp(o->evpath, "-") == 0) {
		cap_ev_output(app->ev, STDOUT_FILENO);
		return 0;
	}
	app->ev_file = cap_out_open(o->evpath, err, sizeof(err));
	if (!app->ev_file) {
		fprintf(stderr, "tlswhy: -w %s\n", err);
		return -1;
	}
	cap_ev_output(app->ev, cap_out_fd(app->ev_file));
	return 0;
}

/* The report's stream and format (-o, -F, --color). */
static int open_report(struct app *app)
{
	const struct app_opts *o = &app->o;
	int color = o->color;
	app->rpt.fmt = o->fmt >= 0 ? (enum rpt_format)o->fmt : RPT_TEXT;
	if (o->fmt < 0 && o->outpath && rpt_format_from_path(o->outpath) >= 0)
		app->rpt.fmt = (enum rpt_format)rpt_format_from_path(o->outpath);
	app->rpt.all = o->all;
	/* JSON Lines and ECS: lean lines for healthy connections unless
	 * --detail full; the JSON document: full unless --detail lean */
	app->rpt.lean = o->detail ? o->detail == 1 : app->rpt.fmt == RPT_JSONL || app->rpt.fmt == RPT_ECS;
	/* text: a summary at the end from files; each connection as it ends
	 * live (nothing would show until ^C), with -v or with --all */
	app->rpt.text_mode = o->quiet ? RPT_TEXT_QUIET
			     : o->verbose || o->all || o->lo.iface ? RPT_TEXT_EACH : RPT_TEXT_SUMMARY;
	app->rpt.outpath = o->outpath;
	app->rpt.cid_seed = o->cid_seed;
	app->out = stdout;
	if (o->outpath && strcmp(o->outpath, "-") != 0) {
		char err[1024];
		int fd = -1;
		if (is_input(o, o->outpath)) {
			fprintf(stderr, "tlswhy: -o %s would overwrite an input\n", o->outpath);
			return -1;
		}
		if (o->append) {
			/* a service's log: appended to in place, never through a link */
			fd = open(o->outpath, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0666);
			app->out = fd >= 0 ? fdopen(fd, "a") : NULL;
		} else {
			app->out_file = cap_out_open(o->outpath, err, sizeof(err));
			if (!app->out_file) {
				fprintf(stderr, "tlswhy: %s\n", err);
				return -1;
			}
			fd = dup(cap_out_fd(app->out_file));
			app->out = fd >= 0 ? fdopen(fd, "w") : NULL;
		}
		if (!app->out) {
			fprintf(stderr, "tlswhy: %s: %s\n", o->outpath, strerror(errno));
			if (fd >= 0)
				close(fd);
			return -1;
		}
	}
	if (color < 0)   /* no-color.org: NO_COLOR set and not empty */
		color = isatty(fileno(app->out)) && !(getenv("NO_COLOR") && *getenv("NO_COLOR"));
	app->rpt.out = app->out;
	app->rpt.color = color;
	app->out_tty = isatty(fileno(app->out));
	app->rpt.compact = !o->pretty && !app->out_tty;   /* the JSON document */
	/* a report to a file or a pipe: fewer, larger writes (bench/RESULTS.md);
	 * live capture still flushes after each connection. The machine
	 * formats read from files hold 256 KiB in their writer and hand it to
	 * an unbuffered stream, which writes it without copying it again */
	app->rpt.stream = !app->out_tty && !o->lo.iface && !app->rpt.no_fast_json &&
			  (app->rpt.fmt == RPT_JSON || app->rpt.fmt == RPT_JSONL || app->rpt.fmt == RPT_ECS);
	if (app->rpt.stream)
		setvbuf(app->out, NULL, _IONBF, 0);
	else if (!app->out_tty)
		rpt_out_buffer(app->out);
	return 0;
}

/* The interface: opened (privileges are dropped next, before a single packet is parsed). */
static int open_live(struct app *app)
{
	struct app_opts *o = &app->o;
	struct cap_input *in = &app->inputs[0];
	char err[1024];
	if (cap_live_open(&app->lv, in, &o->lo, o->filter, err, sizeof(err))) {
		fprintf(stderr, "tlswhy: %s\n", err);
		return -1;
	}
	app->nin = 1;
	if (in->warning[0])
		fprintf(stderr, "tlswhy: warning: %s: %s\n", o->lo.iface, in->warning);
	if (!in->link_supported)
		fprintf(stderr, "tlswhy: warning: %s: link type %s is not decoded; its packets are counted only\n",
			o->lo.iface, in->link_name);
	if (app->ev) {
		if (cap_ev_live_begin(app->ev, in->dlt, o->lo.snaplen, app->run.ft, o->max_spool, err, sizeof(err))) {
			fprintf(stderr, "tlswhy: %s\n", err);
			return -1;
		}
		app->run.tap = cap_ev_tap;
		app->run.tap_arg = app->ev;
	}
	return 0;
}

/* A pcapng Decryption Secrets Block (editcap --inject-secrets): its TLS
 * key log joins --keylog's through the same parser, for the connections
 * whose ServerHello comes after it. Problems are named by block and line,
 * never quoted: the block holds secrets. */
static void on_secrets(void *arg, const struct cap_input *in, uint32_t type, const uint8_t *data, uint32_t len)
{
	struct app *app = arg;
	struct app_opts *o = &app->o;
	char name[300];
	enum keylog_err ke;
	uint64_t secrets, bad;
	int k;
	snprintf(name, sizeof(name), "%s: secrets block %u", in->path, ++app->n_dsb);
	if (!o->keylog && !(o->keylog = keylog_new(0))) {
		fprintf(stderr, "tlswhy: warning: %s: out of memory, not used\n", name);
		return;
	}
	secrets = o->keylog->st.secrets;
	bad = o->keylog->st.bad_total;
	k = o->keylog->n_notes;
	ke = keylog_load_dsb(o->keylog, name, type, data, len);
	if (ke)
		fprintf(stderr, "tlswhy: warning: %s: %s\n", name, keylog_strerror(ke));
	for (; k < o->keylog->n_notes; k++)
		fprintf(stderr, "tlswhy: warning: %s\n", o->keylog->notes[k]);
	if (ke != KEYLOG_ERR_DSB_TYPE && o->keylog->st.secrets == secrets)
		fprintf(stderr, "tlswhy: warning: %s: no TLS secret in it could be used (%" PRIu64 " lines not used)\n",
			name, o->keylog->st.bad_total - bad);
	o->lim.tls.keylog = o->keylog;
	flow_table_set_keylog(app->run.ft, o->keylog);
}

/* The files: a missing, unreadable or unrecognised one, or a filter that
 * does not compile, is refused before a report is begun. Each is read
 * through capture/source.c: SHA-256 of the bytes read, a copy of stdin
 * for -w, the progress line. */
static int open_files(struct app *app)
{
	const struct app_opts *o = &app->o;
	char err[1024];
	int i;
	for (i = 0; i < o->nin; i++) {
		struct cap_input *in = &app->inputs[i];
		in->path = o->inputs[i];
		in->src = app->srcs[i] = cap_src_open(&app->src_shared, in->path, o->hash, app->ev != NULL,
						      o->status != 0, &app->run.ps.packets, err, sizeof(err));
		if (!in->src || cap_check_file(in, o->filter, err, sizeof(err))) {
			fprintf(stderr, "tlswhy: %s\n", err);
			return -1;
		}
	}
	app->nin = o->nin;
	app->run.secrets = on_secrets;
	app->run.secrets_arg = app;
	return 0;
}

/* Puts -o and -w in place: at the end of a run that finished its report,
 * or before privileges go (the directory may be root's alone). 0 or -1. */
static int commit_outputs(struct app *app)
{
	char err[1024];
	if ((app->out_file && cap_out_commit(app->out_file, err, sizeof(err))) ||
	    (app->ev_file && cap_out_commit(app->ev_file, err, sizeof(err)))) {
		fprintf(stderr, "tlswhy: %s\n", err);
		return -1;
	}
	return 0;
}

/* Inputs, interface and outputs are open: privileges go, as tcpdump does
 * it: -Z USER (live as root: nobody by default), offline too; or the file
 * capabilities of a binary installed with setcap. */
static int drop_privileges(struct app *app)
{
	const char *user = app->o.user;
	char err[1024];
	int rc;
	if (user) {
		rc = cap_privs_check(user, err, sizeof(err));
		if (rc < 0) {
			fprintf(stderr, "tlswhy: %s (-Z root keeps root)\n", err);
			return -1;
		}
		if (rc > 0 && commit_outputs(app))
			return -1;
		if (rc > 0 && cap_drop_privs(user, NULL, 0, err, sizeof(err))) {
			fprintf(stderr, "tlswhy: %s (-Z root keeps root)\n", err);
			return -1;
		}
	}
	if (geteuid() != 0 && cap_drop_caps(err, sizeof(err)) < 0) {
		fprintf(stderr, "tlswhy: cannot drop capabilities: %s\n", err);
		return -1;
	}
	return 0;
}

/* --inner-filter: compiled for the decapsulated packets, before any is read. */
static int inner_filter_start(struct app *app)
{
	char err[PCAP_ERRBUF_SIZE + 256];
	app->inner_prog = calloc(1, sizeof(*app->inner_prog));
	app->run.inner_buf = malloc(CAP_INNER_BUF);
	if (!app->inner_prog || !app->run.inner_buf) {
		fprintf(stderr, "tlswhy: out of memory\n");
		return -1;
	}
	if (cap_inner_filter_compile(app->o.inner_filter, app->inner_prog, err, sizeof(err))) {
		free(app->inner_prog);
		app->inner_prog = NULL;
		fprintf(stderr, "tlswhy: %s\n", err);
		return -1;
	}
	app->run.inner_filter = app->inner_prog;
	return 0;
}

/* A filter that matched nothing where tunnels were: the filter saw the
 * outer packet (UDP 4789 or 6081), as tcpdump's does; say so. */
static void filter_warnings(struct app *app)
{
	const struct app_opts *o = &app->o;
	int i;
	if (o->inner_filter && !app->run.tunnelled)
		fprintf(stderr, "tlswhy: warning: --inner-filter '%s': no VXLAN or GENEVE packet was read, so it "
			"filtered nothing\n", o->inner_filter);
	else if (o->inner_filter && app->run.inner_rejected == app->run.tunnelled)
		fprintf(stderr, "tlswhy: warning: --inner-filter '%s' matched none of the %" PRIu64
			" tunnelled packets\n", o->inner_filter, app->run.tunnelled);
	if (!o->filter || !*o->filter || app->lv)
		return;
	for (i = 0; i < app->nin; i++)
		if (!app->inputs[i].packets && !app->inputs[i].error[0] &&
		    cap_file_has_tunnels(app->inputs[i].path, 100000))
			fprintf(stderr, "tlswhy: warning: filter '%s' matched no packet of %s, which carries VXLAN or "
				"GENEVE traffic: the filter applies to the outer packet (as tcpdump's); "
				"--inner-filter applies to the packet inside the tunnel\n", o->filter, app->inputs[i].path);
}

/* Everything before the first packet. 0, or -1 after saying why. */
static int start(struct app *app)
{
	test_switches(app);
	settle_options(app);
	if (load_rules(app) || load_alb_logs(app) || open_evidence(app) || open_report(app))
		return -1;
	app->certs = x509_cache_new();
	app->src_shared_ok = cap_src_shared_init(&app->src_shared, app->progress_every) == 0;
	if (!app->certs || !app->src_shared_ok) {
		fprintf(stderr, "tlswhy: out of memory\n");
		return -1;
	}
	app->o.lim.certs = app->certs;
	if (app->o.inner_filter && inner_filter_start(app))
		return -1;
	app->run.ft = flow_table_new(&app->o.lim, on_record, app);
	if (!app->run.ft) {
		fprintf(stderr, "tlswhy: out of memory\n");
		return -1;
	}
	if (app->o.lo.iface ? open_live(app) : open_files(app))
		return -1;
	return drop_privileges(app);
}

/* ---- the run ----------------------------------------------------------- */

static void read_live(struct app *app)
{
	const struct app_opts *o = &app->o;
	struct cap_input *in = &app->inputs[0];
	char err[1024];
	int64_t end_us = 0;
	enum cap_err rc;
	if (o->status)
		fprintf(stderr, "tlswhy: capturing on %s (%s)%s%s, ^C to stop\n", o->lo.iface, in->link_name,
			o->filter ? ", filter: " : "", o->filter ? o->filter : "");
	rc = cap_live_run(app->lv, &app->run, in, &o->lo, &end_us, err, sizeof(err));
	if (app->status_shown) {
		fputc('\n', stderr);
		app->status_shown = 0;
	}
	if (rc) {
		/* the interface went away mid-capture: finish the report, exit 2 */
		fprintf(stderr, "tlswhy: %s; the report covers what was captured\n", err);
		app->input_error = 1;
	}
	/* what timed out is reported as such, then the rest as cut */
	flow_tick(app->run.ft, end_us);
}

static void read_files(struct app *app)
{
	char err[1024];
	int i;
	for (i = 0; i < app->nin; i++) {
		struct cap_input *in = &app->inputs[i];
		enum cap_err rc;
		if (app->o.lo.count && app->run.ps.packets >= app->o.lo.count) {
			app->nin = i;   /* -c reached: the files after are not read */
			break;
		}
		rc = cap_read_file(&app->run, in, app->o.filter, &app->read_opts, err, sizeof(err));
		window_flush(app);
		rq_drain(app->rq);   /* what follows goes to stderr after this input's connections */
		if (rc) {
			/* standard input that is not a capture, or a file damaged
			 * mid-way: finish the report for what was read, then exit 2 */
			fprintf(stderr, "tlswhy: %s%s\n", err,
				rc == CAP_ERR_CORRUPT ? "; the report covers the packets before it" : "");
			app->input_error = 1;
			app->nin = i + 1;
			break;
		}
		if (in->truncated)
			fprintf(stderr, "tlswhy: warning: %s ends mid-packet (%s); analyzed up to there\n", in->path,
				in->warning);
		if (!in->link_supported)
			fprintf(stderr, "tlswhy: warning: %s: link type %s is not decoded; its packets are counted only\n",
				in->path, in->link_name);
	}
}

/* Retires what is left (reporting it), writes -w and the report's tail. */
static void finish(struct app *app)
{
	struct flow_stats fs = *flow_table_stats(app->run.ft);
	char err[1024];
	/* retiring the rest reports them; the creation counters stay as read */
	flow_table_free(app->run.ft, app->run.now_us);
	app->run.ft = NULL;
	window_flush(app);
	report_thread_finish(app);
	if (app->ev && cap_ev_write(app->ev, app->nin, app->srcs, app->o.filter, err, sizeof(err))) {
		fprintf(stderr, "tlswhy: %s\n", err);
		app->input_error = 1;
		cap_out_free(app->ev_file);   /* not put in place (unless it already was) */
		app->ev_file = NULL;
	}
	report_end(app, &fs);
	filter_warnings(app);
	if (app->lv && (app->run.kernel_drops || app->run.if_drops))
		fprintf(stderr, "tlswhy: warning: %" PRIu64 " packets dropped by the kernel, %" PRIu64
			" by the interface: some handshakes may be incomplete (-B raises the buffer)\n",
			app->run.kernel_drops, app->run.if_drops);
}

static int run(struct app *app)
{
	if (start(app))
		return 2;
	rpt_begin(&app->rpt);
	dbuf_pool_begin();                 /* this thread grows every connection's buffers */
	app->servers = srv_table_new();   /* NULL: judged without other connections */
	app->win_cap = app->live ? 0 : SRV_WINDOW;
	report_thread_start(app);
	if (app->lv)
		read_live(app);
	else
		read_files(app);
	finish(app);
	app->completed = 1;
	return app->input_error ? 2 : app->failed ? 1 : 0;
}

/* Frees the run; the report's stream is closed last, and a failure to
 * write it makes the exit status 2. */
static int app_free(struct app *app, int status)
{
	int i;
	if (app->run.ft)
		flow_table_free(app->run.ft, app->run.now_us);   /* start-up failed: nothing to report */
	while (app->win_n)
		release_record(window_pop(app), app);
	cap_frag_release(&app->run);   /* an input that broke off left its fragments */
	rpt_free(&app->rpt);
	cap_ev_free(app->ev);
	for (i = 0; i < MAX_INPUTS; i++)
		cap_src_free(app->srcs[i]);
	if (app->src_shared_ok)
		cap_src_shared_free(&app->src_shared);
	if (app->lv)
		cap_live_close(app->lv);
	for (i = 0; i < HINTS; i++)
		if (app->hints[i].leaf)
			x509_put(app->hints[i].leaf);
	for (i = 0; i < app->nin; i++)
		free(app->inputs[i].link_name);
	free(app->o.filter);
	if (app->inner_prog)
		pcap_freecode(app->inner_prog);
	free(app->inner_prog);
	free(app->run.inner_buf);
	rule_set_free(app->rules);
	alb_free(app->alb);
	keylog_free(app->o.keylog);
	srv_table_free(app->servers);
	record_pools_free();
	dbuf_pool_end();
	fp_memo_free();
	x509_cache_free(app->certs);
	if (app->out && app->out != stdout) {
		int bad = ferror(app->out);
		errno = 0;
		if (fclose(app->out) != 0 || bad) {
			if (!errno)   /* an unbuffered report failed before: why it did */
				errno = app->rpt.jw.werr;
			fprintf(stderr, "tlswhy: %s: write error%s%s\n", app->o.outpath, errno ? ": " : "",
				errno ? strerror(errno) : "");
			status = 2;
			app->completed = 0;
		}
	} else if (app->out == stdout) {
		int bad = ferror(stdout);
		errno = 0;
		if (fflush(stdout) != 0 || bad) {
			if (!errno)
				errno = app->rpt.jw.werr;
			fprintf(stderr, "tlswhy: write error%s%s\n", errno ? ": " : "", errno ? strerror(errno) : "");
			status = 2;
		}
	}
	/* a report not finished, or not written, leaves the old file where it was */
	if (app->completed && commit_outputs(app))
		status = 2;
	cap_out_free(app->out_file);
	cap_out_free(app->ev_file);
	free(app);
	return status;
}

int main(int argc, char **argv)
{
	struct app *app;
	int rc;
	if (argc >= 2 && strcmp(argv[1], "rules") == 0)
		return rule_cli(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "probe") == 0)
		return probe_cli(argc - 1, argv + 1);
	app = calloc(1, sizeof(*app));
	if (!app) {
		fputs("tlswhy: out of memory\n", stderr);
		return 2;
	}
	rc = parse_args(&app->o, argc, argv);
	if (rc < 0 && app->o.list_ifaces) {
		char err[1024];
		rc = 0;
		if (cap_list_interfaces(stdout, err, sizeof(err))) {
			fprintf(stderr, "tlswhy: %s\n", err);
			rc = 2;
		}
	}
	if (rc < 0)
		rc = run(app);
	return app_free(app, rc);
}

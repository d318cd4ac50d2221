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
#include "capture/cap.h"
#include "capture/rq.h"
#include "dissect/flow.h"
#include "dissect/tls.h"
#include "dissect/x509.h"
#include "probe/probe.h"
#include "report/report.h"
#include "report/evidence.h"
#include "report/source.h"
#include "rules/rules.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TLSWHY_VERSION "0.1.0"
#define MAX_INPUTS 256
#define MAX_RULE_FILES 64
#define HINTS 4096    /* servers remembered for the leaf-certificate hint */

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
	      "  -r FILE               read a capture (repeatable, read in order)\n"
	      "  -i IFACE              capture live on IFACE ('any' for all); each handshake is\n"
	      "                        reported as soon as its outcome is known; ^C (SIGINT) or\n"
	      "                        SIGTERM ends the capture and completes the report\n"
	      "  -D, --list-interfaces list the interfaces -i accepts\n"
	      "  -s SNAPLEN            bytes kept per packet (default 262144)\n"
	      "  -B KIB                kernel capture buffer in KiB (default 16384)\n"
	      "  -p                    do not put the interface in promiscuous mode\n"
	      "  -c COUNT              stop after COUNT packets\n"
	      "      --duration S      stop after S seconds\n"
	      "  -Z USER               after opening the interface, switch to USER (groups, gid,\n"
	      "                        uid). Started as root without -Z, tlswhy switches to\n"
	      "                        'nobody'; -Z root keeps root\n"
	      "      --handshake-timeout S\n"
	      "                        a handshake silent for S seconds is diagnosed (default 10,\n"
	      "                        like the ALB's); given with -r, offline reports early too\n"
	      "      --status WHEN     a status line on stderr every 2 s: auto (when stderr is a\n"
	      "                        terminal), always or never; reading a file over 4 MB, a\n"
	      "                        progress line (percent, packets/s, ETA) on a terminal\n"
	      "  -F, --format FMT      text (default), markdown, json, jsonl or html\n"
	      "  -o FILE               write the report to FILE instead of standard output; without\n"
	      "                        --format, the extension picks it (.txt .md .json .jsonl\n"
	      "                        .ndjson .html .htm)\n"
	      "  -w FILE               write an evidence capture: only the packets of connections\n"
	      "                        with findings (all reported ones with --all), original link\n"
	      "                        type; the report names it with its SHA-256\n"
	      "      --rules FILE      add a rule file (repeatable); see docs/rules.md\n"
	      "      --all             report every TCP connection, not only TLS ones and failures\n"
	      "      --color WHEN      auto (default), always or never; NO_COLOR turns it off\n"
	      "      --input-hash WHEN SHA-256 of each input file in the report: auto (default:\n"
	      "                        standard input and files up to 256 MiB), always or never\n"
	      "      --max-flows N     flows tracked at once (default 65536)\n"
	      "      --max-segments N  out-of-order segments queued per direction (default 256)\n"
	      "      --max-buffer N    out-of-order bytes queued per direction (default 1048576)\n"
	      "      --max-buffer-total M  out-of-order MiB queued in all flows together (default 256)\n"
	      "      --max-handshake N largest handshake message decoded, bytes (default 262144)\n"
	      "      --idle-timeout S  retire a silent flow after S seconds of capture time (default 300)\n"
	      "  -h, --help            this text\n"
	      "  -V, --version         the version\n"
	      "\n"
	      "Exit status: 0 no failed handshake, 1 at least one failed handshake diagnosed,\n"
	      "2 usage or input error.\n",
	      f);
}

struct hint {
	struct hs_addr srv;
	const struct x509_facts *leaf;
};

struct app {
	struct rule_set *rules;
	struct rpt rpt;
	struct cap_run run;
	int failed;
	int live;                 /* flush after each connection */
	int status_shown;         /* a status line is on stderr, unterminated */
	int out_tty;              /* the report goes to a terminal: clear the progress line first */
	struct rq *rq;            /* offline: records go to the report thread (capture/rq.h) */
	struct hint hints[HINTS];
};

static uint32_t hint_slot(const struct hs_addr *a)
{
	uint32_t h = 2166136261u;
	size_t i;
	for (i = 0; i < 16; i++)
		h = (h ^ a->addr[i]) * 16777619u;
	h = (h ^ a->port) * 16777619u;
	return h % HINTS;
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
	for (i = 0; i < r->client_chain.n; i++)
		x509_put(r->client_chain.c[i].x);
}

static void release_record(struct hs_record *r, void *arg)
{
	(void)arg;
	release_certs(r);
	record_free(r);
}

/* Rules and report for one finished record (freed here without a report
 * thread): on the report thread when there is one. `now_us`: capture
 * time at hand-over. */
static void report_record(struct hs_record *r, int64_t now_us, void *arg)
{
	struct app *app = arg;
	struct rule_findings *f = NULL;
	if (app->status_shown) {
		fputs("\r\033[K", stderr);   /* the connection's text takes the line */
		app->status_shown = 0;
	}
	if (app->out_tty)
		rpt_progress_clear();
	if (rpt_wanted(&app->rpt, r)) {
		struct rule_ctx ctx;
		memset(&ctx, 0, sizeof(ctx));
		ctx.capture_end_us = now_us;   /* live: a silence is measured up to now */
		ctx.server_leaf_hint = hint_for(app, r);
		f = rule_eval(app->rules, r, &ctx);
		if (f && rule_findings_failed(f))
			app->failed = 1;
		rpt_conn(&app->rpt, r, f);
		ev_mark(app->rpt.ev, r, rule_findings_count(f) > 0);
		rule_findings_free(f);
		if (app->live)
			fflush(app->rpt.out);
	} else {
		app->rpt.n.untracked++;
	}
	if (!app->rq)
		release_record(r, app);
}

static void on_record(struct hs_record *r, void *arg)
{
	struct app *app = arg;
	if (app->rq)
		rq_push(app->rq, r, app->run.now_us);
	else
		report_record(r, app->run.now_us, app);
}

/* Offline with two cores or more, the rules and the report run on their
 * own thread (TLSWHY_REPORT_THREAD=0 keeps them on this one). */
static void report_thread_start(struct app *app)
{
	const char *env = getenv("TLSWHY_REPORT_THREAD");
	if (app->live || (env && strcmp(env, "0") == 0) || sysconf(_SC_NPROCESSORS_ONLN) < 2)
		return;
	app->rq = rq_start(report_record, release_record, app);
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

enum { O_RULES = 256, O_ALL, O_COLOR, O_MAXFLOWS, O_MAXSEG, O_MAXBUF, O_MAXHS, O_IDLE, O_DURATION,
       O_HSTIMEOUT, O_STATUS, O_MAXTOTAL, O_HASH };

#define STATUS_US (2LL * 1000000)
#define DEFAULT_USER "nobody"   /* -Z when started as root without one */

int main(int argc, char **argv)
{
	static struct app app;
	static struct cap_input inputs[MAX_INPUTS];
	const char *rule_files[MAX_RULE_FILES];
	int nin = 0, nrules = 0, i, c, color = -1, input_error = 0;
	const char *outpath = NULL, *evpath = NULL;
	int fmt = -1;                          /* -F given */
	static struct rpt_src *srcs[MAX_INPUTS];
	static char *filter;   /* static: reachable at every exit, as are app's parts */
	char err[1024];
	struct flow_limits lim;
	FILE *out = stdout;
	struct cap_live_opts lo;
	struct cap_live *lv = NULL;
	const char *user = NULL;
	int list_ifaces = 0, status = -1;
	enum rpt_hash hash = RPT_HASH_AUTO;
	int64_t hs_timeout_us = -1, end_us = 0;
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'F' },
		{ "rules", required_argument, NULL, O_RULES },
		{ "all", no_argument, NULL, O_ALL },
		{ "color", required_argument, NULL, O_COLOR },
		{ "max-flows", required_argument, NULL, O_MAXFLOWS },
		{ "max-segments", required_argument, NULL, O_MAXSEG },
		{ "max-buffer", required_argument, NULL, O_MAXBUF },
		{ "max-buffer-total", required_argument, NULL, O_MAXTOTAL },
		{ "max-handshake", required_argument, NULL, O_MAXHS },
		{ "idle-timeout", required_argument, NULL, O_IDLE },
		{ "list-interfaces", no_argument, NULL, 'D' },
		{ "duration", required_argument, NULL, O_DURATION },
		{ "handshake-timeout", required_argument, NULL, O_HSTIMEOUT },
		{ "status", required_argument, NULL, O_STATUS },
		{ "input-hash", required_argument, NULL, O_HASH },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};

	if (argc >= 2 && strcmp(argv[1], "rules") == 0)
		return rule_cli(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "probe") == 0)
		return probe_cli(argc - 1, argv + 1);

	flow_limits_default(&lim);
	cap_live_opts_default(&lo);
	app.rpt.fmt = RPT_TEXT;
	while ((c = getopt_long(argc, argv, "+r:i:Ds:B:pc:Z:F:o:w:hV", longopts, NULL)) != -1) {
		uint32_t v;
		switch (c) {
		case 'i':
			lo.iface = optarg;
			break;
		case 'D':
			list_ifaces = 1;
			break;
		case 's':
			if (parse_u32("-s", optarg, 0, &v))
				return 2;
			lo.snaplen = v == 0 || v > CAP_DEFAULT_SNAPLEN ? CAP_DEFAULT_SNAPLEN : (int)v;
			break;
		case 'B':
			if (parse_u32("-B", optarg, 1, &v))
				return 2;
			if (v > 4u * 1024 * 1024) {
				fprintf(stderr, "tlswhy: -B is at most 4194304 KiB\n");
				return 2;
			}
			lo.buffer_kib = (int)v;
			break;
		case 'p':
			lo.promisc = 0;
			break;
		case 'c':
			if (parse_u32("-c", optarg, 1, &v))
				return 2;
			lo.count = v;
			break;
		case 'Z':
			user = optarg;
			break;
		case O_DURATION:
			if (parse_u32("--duration", optarg, 1, &v))
				return 2;
			lo.duration_us = (int64_t)v * 1000000;
			break;
		case O_HSTIMEOUT:
			if (parse_u32("--handshake-timeout", optarg, 1, &v))
				return 2;
			hs_timeout_us = (int64_t)v * 1000000;
			break;
		case O_STATUS:
			if (strcmp(optarg, "auto") == 0)
				status = -1;
			else if (strcmp(optarg, "always") == 0)
				status = 1;
			else if (strcmp(optarg, "never") == 0)
				status = 0;
			else {
				fprintf(stderr, "tlswhy: --status takes auto, always or never\n");
				return 2;
			}
			break;
		case O_HASH:
			if (strcmp(optarg, "auto") == 0)
				hash = RPT_HASH_AUTO;
			else if (strcmp(optarg, "always") == 0)
				hash = RPT_HASH_ALWAYS;
			else if (strcmp(optarg, "never") == 0)
				hash = RPT_HASH_NEVER;
			else {
				fprintf(stderr, "tlswhy: --input-hash takes auto, always or never\n");
				return 2;
			}
			break;
		case 'r':
			if (nin >= MAX_INPUTS) {
				fprintf(stderr, "tlswhy: at most %d -r files\n", MAX_INPUTS);
				return 2;
			}
			inputs[nin++].path = optarg;
			break;
		case 'F':
			fmt = rpt_format_parse(optarg);
			if (fmt < 0) {
				fprintf(stderr, "tlswhy: unknown format '%s' (text, markdown, json, jsonl or html)\n",
					optarg);
				return 2;
			}
			app.rpt.fmt = (enum rpt_format)fmt;
			break;
		case 'w':
			evpath = optarg;
			break;
		case 'o':
			outpath = optarg;
			break;
		case O_RULES:
			if (nrules >= MAX_RULE_FILES) {
				fprintf(stderr, "tlswhy: at most %d --rules files\n", MAX_RULE_FILES);
				return 2;
			}
			rule_files[nrules++] = optarg;
			break;
		case O_ALL:
			app.rpt.all = 1;
			break;
		case O_COLOR:
			if (strcmp(optarg, "auto") == 0)
				color = -1;
			else if (strcmp(optarg, "always") == 0)
				color = 1;
			else if (strcmp(optarg, "never") == 0)
				color = 0;
			else {
				fprintf(stderr, "tlswhy: --color takes auto, always or never\n");
				return 2;
			}
			break;
		case O_MAXFLOWS:
			if (parse_u32("--max-flows", optarg, 1, &lim.max_flows))
				return 2;
			break;
		case O_MAXSEG:
			if (parse_u32("--max-segments", optarg, 0, &lim.max_segments))
				return 2;
			break;
		case O_MAXBUF:
			if (parse_u32("--max-buffer", optarg, 0, &lim.max_bytes))
				return 2;
			break;
		case O_MAXTOTAL: {
			uint32_t mib;
			if (parse_u32("--max-buffer-total", optarg, 1, &mib))
				return 2;
			lim.max_total = (uint64_t)mib * 1024 * 1024;
			break;
		}
		case O_MAXHS:
			if (parse_u32("--max-handshake", optarg, 64, &tls_limits.max_handshake))
				return 2;
			if (tls_limits.max_handshake > (1u << 24)) {
				fprintf(stderr, "tlswhy: --max-handshake is at most 16777216\n");
				return 2;
			}
			break;
		case O_IDLE:
			if (parse_u32("--idle-timeout", optarg, 1, &v))
				return 2;
			lim.idle_us = (int64_t)v * 1000000;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("tlswhy %s\n", TLSWHY_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (list_ifaces) {
		if (cap_list_interfaces(stdout, err, sizeof(err))) {
			fprintf(stderr, "tlswhy: %s\n", err);
			return 2;
		}
		return 0;
	}
	if (nin == 0 && !lo.iface) {
		fprintf(stderr, "tlswhy: no capture given (-r FILE or -i IFACE)\n");
		usage(stderr);
		return 2;
	}
	if (nin && lo.iface) {
		fprintf(stderr, "tlswhy: -r and -i do not mix; read files or capture live\n");
		return 2;
	}
	if (!lo.iface && (user || lo.count || lo.duration_us || lo.buffer_kib != CAP_DEFAULT_BUFFER_KIB || !lo.promisc ||
			  lo.snaplen != CAP_DEFAULT_SNAPLEN))
		fprintf(stderr, "tlswhy: warning: -Z, -c, -s, -B, -p and --duration apply to live capture (-i) only\n");
	if (lo.iface) {
		lim.hs_timeout_us = hs_timeout_us > 0 ? hs_timeout_us : FLOW_DEFAULT_HS_TIMEOUT_US;
		if (!user && geteuid() == 0)
			user = DEFAULT_USER;
		if (status < 0)
			status = isatty(STDERR_FILENO);
		if (status) {
			lo.status_us = STATUS_US;
			lo.status = on_status;
			lo.arg = &app;
		}
		app.live = 1;
	} else if (hs_timeout_us > 0) {
		lim.hs_timeout_us = hs_timeout_us;
	}
	/* the rest of the line is the BPF filter, as with tcpdump */
	if (optind < argc) {
		size_t len = 1;
		for (i = optind; i < argc; i++)
			len += strlen(argv[i]) + 1;
		filter = calloc(1, len);
		if (!filter)
			return 2;
		for (i = optind; i < argc; i++) {
			if (i > optind)
				strcat(filter, " ");
			strcat(filter, argv[i]);
		}
	}

	app.rules = rule_set_new();
	if (!app.rules || rule_load_builtin(app.rules, err, sizeof(err))) {
		fprintf(stderr, "tlswhy: built-in rules: %s\n", app.rules ? err : "out of memory");
		return 2;
	}
	for (i = 0; i < nrules; i++) {
		if (rule_load_file(app.rules, rule_files[i], err, sizeof(err))) {
			fprintf(stderr, "%s\n", err);
			return 2;
		}
	}

	if (fmt < 0 && outpath && rpt_format_from_path(outpath) >= 0)
		app.rpt.fmt = (enum rpt_format)rpt_format_from_path(outpath);
	if (evpath) {
		/* never overwrite a capture being read, or the report */
		struct stat es, is;
		int clash = outpath && strcmp(outpath, evpath) == 0;
		if (stat(evpath, &es) == 0)
			for (i = 0; i < nin && !clash; i++)
				clash = strcmp(inputs[i].path, "-") && stat(inputs[i].path, &is) == 0 &&
					is.st_dev == es.st_dev && is.st_ino == es.st_ino;
		if (clash) {
			fprintf(stderr, "tlswhy: -w %s would overwrite an input or the report\n", evpath);
			return 2;
		}
		app.rpt.ev = ev_new(evpath, app.rpt.all);
		if (!app.rpt.ev) {
			fprintf(stderr, "tlswhy: out of memory\n");
			return 2;
		}
	}
	app.rpt.outpath = outpath;
	app.rpt.rules = app.rules;
	if (outpath && strcmp(outpath, "-") != 0) {
		out = fopen(outpath, "w");
		if (!out) {
			fprintf(stderr, "tlswhy: %s: %s\n", outpath, strerror(errno));
			return 2;
		}
	}
	if (color < 0)
		color = isatty(fileno(out)) && !getenv("NO_COLOR");
	app.rpt.out = out;
	app.rpt.color = color;
	app.out_tty = isatty(fileno(out));
	/* a report to a file or a pipe: fewer, larger writes (bench/RESULTS.md);
	 * live capture still flushes after each connection */
	if (!app.out_tty)
		setvbuf(out, NULL, _IOFBF, 1u << 18);

	app.run.ft = flow_table_new(&lim, on_record, &app);
	if (!app.run.ft) {
		fprintf(stderr, "tlswhy: out of memory\n");
		return 2;
	}
	if (lo.iface) {
		/* open, then drop privileges before a single packet is parsed */
		enum cap_err rc = cap_live_open(&lv, &inputs[0], &lo, filter, err, sizeof(err));
		if (rc) {
			fprintf(stderr, "tlswhy: %s\n", err);
			free(filter);
			return 2;
		}
		nin = 1;
		if (inputs[0].warning[0])
			fprintf(stderr, "tlswhy: warning: %s: %s\n", lo.iface, inputs[0].warning);
		if (!inputs[0].link_supported)
			fprintf(stderr, "tlswhy: warning: %s: link type %s is not decoded; its packets are counted only\n",
				lo.iface, inputs[0].link_name);
		if (user && cap_drop_privs(user, &evpath, evpath ? 1 : 0, err, sizeof(err))) {
			fprintf(stderr, "tlswhy: %s (-Z root keeps root)\n", err);
			cap_live_close(lv);
			free(filter);
			return 2;
		}
	}
	/* refuse a missing, unreadable or unrecognised file, or a filter that
	 * does not compile, before a report is begun */
	for (i = 0; i < nin && !lv; i++) {
		if (strcmp(inputs[i].path, "-") == 0)
			continue;
		if (cap_check_file(inputs[i].path, filter, err, sizeof(err))) {
			fprintf(stderr, "tlswhy: %s\n", err);
			return 2;
		}
	}
	/* inputs are read through report/source.c: SHA-256 of the bytes read,
	 * a copy of stdin for -w, the progress line */
	for (i = 0; i < nin && !lv; i++) {
		inputs[i].fp = rpt_src_open(&srcs[i], inputs[i].path, hash, app.rpt.ev != NULL, status != 0,
					    &app.run.ps.packets);
		inputs[i].head = rpt_src_head(srcs[i]);   /* capture/block.c reads the format in it */
		inputs[i].read = rpt_src_read;            /* and the records through this, without a copy */
		inputs[i].read_arg = srcs[i];
	}
	app.rpt.src = srcs;
	if (lv && app.rpt.ev) {
		if (ev_live_begin(app.rpt.ev, inputs[0].dlt, lo.snaplen, err, sizeof(err))) {
			fprintf(stderr, "tlswhy: %s\n", err);
			return 2;
		}
		app.run.tap = ev_tap;
		app.run.tap_arg = app.rpt.ev;
	}
	rpt_begin(&app.rpt);
	report_thread_start(&app);
	if (lv) {
		enum cap_err rc;
		if (status)
			fprintf(stderr, "tlswhy: capturing on %s (%s)%s%s, ^C to stop\n", lo.iface,
				inputs[0].link_name, filter ? ", filter: " : "", filter ? filter : "");
		rc = cap_live_run(lv, &app.run, &inputs[0], &lo, &end_us, err, sizeof(err));
		if (app.status_shown) {
			fputc('\n', stderr);
			app.status_shown = 0;
		}
		if (rc) {
			/* the interface went away mid-capture: finish the report, exit 2 */
			fprintf(stderr, "tlswhy: %s; the report covers what was captured\n", err);
			input_error = 1;
		}
		/* what timed out is reported as such, then the rest as cut */
		flow_tick(app.run.ft, end_us);
	}
	for (i = 0; i < nin && !lv; i++) {
		enum cap_err rc = cap_read_file(&app.run, &inputs[i], filter, err, sizeof(err));
		rq_drain(app.rq);   /* what follows goes to stderr after this input's connections */
		if (rc) {
			/* standard input that is not a capture, or a file damaged
			 * mid-way: finish the report for what was read, then exit 2 */
			fprintf(stderr, "tlswhy: %s%s\n", err,
				rc == CAP_ERR_CORRUPT ? "; the report covers the packets before it" : "");
			input_error = 1;
			nin = i + 1;
			break;
		}
		if (inputs[i].truncated)
			fprintf(stderr, "tlswhy: warning: %s ends mid-packet (%s); analyzed up to there\n",
				inputs[i].path, inputs[i].warning);
		if (!inputs[i].link_supported)
			fprintf(stderr, "tlswhy: warning: %s: link type %s is not decoded; its packets are counted only\n",
				inputs[i].path, inputs[i].link_name);
	}
	{
		struct flow_stats fs = *flow_table_stats(app.run.ft);
		/* retiring the rest reports them; the creation counters stay as read */
		flow_table_free(app.run.ft, app.run.now_us);
		report_thread_finish(&app);
		if (app.rpt.ev && ev_write(app.rpt.ev, inputs, nin, srcs, filter, err, sizeof(err))) {
			fprintf(stderr, "tlswhy: %s\n", err);
			input_error = 1;
		}
		rpt_end(&app.rpt, inputs, nin, &app.run, &fs, filter);
		rpt_free(&app.rpt);
		ev_free(app.rpt.ev);
		app.rpt.ev = NULL;
		for (i = 0; i < MAX_INPUTS; i++)
			rpt_src_free(srcs[i]);
		rpt_src_release_buffer();
	}
	if (lv) {
		if (app.run.kernel_drops || app.run.if_drops)
			fprintf(stderr, "tlswhy: warning: %" PRIu64 " packets dropped by the kernel, %" PRIu64
				" by the interface: some handshakes may be incomplete (-B raises the buffer)\n",
				app.run.kernel_drops, app.run.if_drops);
		cap_live_close(lv);
	}
	for (i = 0; i < HINTS; i++)
		if (app.hints[i].leaf)
			x509_put(app.hints[i].leaf);
	for (i = 0; i < nin; i++)
		free(inputs[i].link_name);
	free(filter);
	rule_set_free(app.rules);
	record_pools_free();
	x509_cache_clear();
	if (out != stdout && fclose(out) != 0) {
		fprintf(stderr, "tlswhy: %s: %s\n", outpath, strerror(errno));
		return 2;
	}
	if (out == stdout && fflush(stdout) != 0)
		return 2;
	if (input_error)
		return 2;
	return app.failed ? 1 : 0;
}

/*
 * alblog.c - ALB access-log entries joined with the capture (alblog.h).
 *
 * The entry format (AWS, "Access logs for your Application Load Balancer",
 * docs.aws.amazon.com/elasticloadbalancing/latest/application/
 * load-balancer-access-logs.html): one entry per line, fields separated by
 * one space, some quoted ("..." may hold spaces; a backslash escapes the
 * next byte), in this order:
 *
 *    0 type            1 time             2 elb               3 client:port
 *    4 target:port     5 request_processing_time 6 target_processing_time
 *    7 response_processing_time 8 elb_status_code 9 target_status_code
 *   10 received_bytes 11 sent_bytes      12 "request"        13 "user_agent"
 *   14 ssl_cipher     15 ssl_protocol    16 target_group_arn 17 "trace_id"
 *   18 "domain_name"  19 "chosen_cert_arn" 20 matched_rule_priority
 *   21 request_creation_time 22 "actions_executed" 23 "redirect_url"
 *   24 "error_reason" 25 "target:port_list" 26 "target_status_code_list"
 *   27 "classification" 28 "classification_reason" 29 conn_trace_id
 *   30 "transformed_host" 31 "transformed_uri" 32 "request_transform_status"
 *
 * Older files stop earlier (the fields were added over the years), newer
 * ones may add more: fields past the last one read are ignored, and an
 * entry needs only 0..11. Read here: time, target:port, the three
 * processing times (-1 when the load balancer could not dispatch or the
 * target closed the connection before answering), elb_status_code,
 * target_status_code ("-": no answer from the target), request_creation_time
 * and error_reason. A 502 the target itself sent (target_status_code 502)
 * is not a connection failure and is counted apart.
 *
 * Every read goes through a (p, end) cursor; nothing trusts a length.
 */
#include "rules/alblog.h"
#include "dissect/dbuf.h"
#include "dissect/hash.h"
#include "rules/rules.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#define ALB_NFIELDS 33
#define ALB_SCAN_US (60LL * 1000000)   /* a failed handshake lasts less than this */
#define ALB_CANDIDATES 4                 /* failed connections considered per entry */

struct entry {
	uint32_t t;            /* target index, UINT32_MAX: "-" or not kept */
	uint16_t status;       /* elb_status_code */
	uint8_t target_answered;
	uint8_t ok, matched;   /* in the capture's span; matched (alb_finish) */
	int64_t time_us, req_us;
	char reason[40];
};

struct fconn {
	uint32_t t;
	uint8_t matched;
	int64_t first_us, last_us;
	char cause[64];
};

struct alb_log {
	struct alb_result res;
	struct alb_target *tg;       /* ALB_MAX_TARGETS */
	uint32_t *slot;              /* hash of tg, 2 * ALB_MAX_TARGETS, UINT32_MAX empty */
	size_t ntg;
	struct dbuf eb, fb;          /* e and f's bytes, capped at ALB_MAX_ENTRIES and ALB_MAX_FAILED */
	struct entry *e;             /* eb.p */
	size_t ne;
	struct fconn *f;             /* fb.p */
	size_t nf;
	int finished;
};

struct alb_log *alb_new(void)
{
	struct alb_log *a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->tg = calloc(ALB_MAX_TARGETS, sizeof(*a->tg));
	a->slot = malloc(2 * ALB_MAX_TARGETS * sizeof(*a->slot));
	if (!a->tg || !a->slot) {
		alb_free(a);
		return NULL;
	}
	memset(a->slot, 0xff, 2 * ALB_MAX_TARGETS * sizeof(*a->slot));
	a->res.skew_us = ALB_SKEW_US;
	dbuf_init(&a->eb, 1024 * sizeof(struct entry), (size_t)ALB_MAX_ENTRIES * sizeof(struct entry));
	dbuf_init(&a->fb, 1024 * sizeof(struct fconn), (size_t)ALB_MAX_FAILED * sizeof(struct fconn));
	return a;
}

void alb_free(struct alb_log *a)
{
	if (!a)
		return;
	free(a->tg);
	free(a->slot);
	dbuf_free(&a->eb);
	dbuf_free(&a->fb);
	free(a->res.t);
	free(a);
}

static int addr_eq(const struct hs_addr *x, const struct hs_addr *y)
{
	return x->family == y->family && x->port == y->port && !memcmp(x->addr, y->addr, 16);
}

/* The one mixer (dissect/hash.h) with fixed keys: the same slots every run. */
static uint32_t addr_hash(const struct hs_addr *x)
{
	uint64_t lo, hi, h;
	memcpy(&lo, x->addr, 8);
	memcpy(&hi, x->addr + 8, 8);
	h = hash_mum(lo ^ 0x9e3779b97f4a7c15ull, hi ^ ((uint64_t)x->port << 8 | x->family));
	return (uint32_t)(h ^ h >> 32);
}

/* The target's index; `add`: create it. UINT32_MAX: unknown, or the table is full. */
static uint32_t target(struct alb_log *a, const struct hs_addr *x, int add)
{
	uint32_t n = 2 * ALB_MAX_TARGETS, i = addr_hash(x) % n;
	while (a->slot[i] != UINT32_MAX) {
		if (addr_eq(&a->tg[a->slot[i]].addr, x))
			return a->slot[i];
		i = (i + 1) % n;
	}
	if (!add || a->ntg >= ALB_MAX_TARGETS)
		return UINT32_MAX;
	a->tg[a->ntg].addr = *x;
	a->slot[i] = (uint32_t)a->ntg;
	return (uint32_t)a->ntg++;
}

/* ---- parsing ------------------------------------------------------------ */

struct field {
	const char *p;
	size_t n;
};

/* Splits a line into fields; returns how many (at most max), or -1 with
 * *why set. */
static int split(const char *p, const char *end, struct field *f, int max, const char **why)
{
	int n = 0;
	while (p < end) {
		const char *s = p;
		if (*p == '"') {
			s = ++p;
			while (p < end && *p != '"') {
				if (*p == '\\' && end - p >= 2)
					p++;
				p++;
			}
			if (p >= end) {
				*why = "a quoted field is not closed";
				return -1;
			}
			if (n < max)
				f[n] = (struct field){ s, (size_t)(p - s) };
			p++;   /* the closing quote */
			if (p < end && *p != ' ') {
				*why = "a quoted field is followed by more than a space";
				return -1;
			}
		} else {
			while (p < end && *p != ' ')
				p++;
			if (p == s) {
				*why = "two spaces in a row (an empty field)";
				return -1;
			}
			if (n < max)
				f[n] = (struct field){ s, (size_t)(p - s) };
		}
		n++;
		if (p < end)
			p++;   /* the space */
		if (p == end && p[-1] == ' ') {
			*why = "a space at the end of the line";
			return -1;
		}
	}
	return n < max ? n : max;
}

static int fis(const struct field *f, const char *s)
{
	return f->n == strlen(s) && !memcmp(f->p, s, f->n);
}

static int digits(const char *p, size_t n, int64_t *v)
{
	size_t i;
	*v = 0;
	if (!n || n > 18)
		return -1;
	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		*v = *v * 10 + (p[i] - '0');
	}
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
	int64_t era, yoe, doy, doe;
	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* "2024-05-06T07:08:09.123456Z" (fraction optional, up to 9 digits). */
static int iso_time(const struct field *f, int64_t *us)
{
	const char *p = f->p;
	int64_t y, mo, d, h, mi, s, frac = 0;
	size_t n = f->n, k;
	if (n < 20 || p[4] != '-' || p[7] != '-' || p[10] != 'T' || p[13] != ':' || p[16] != ':' ||
	    p[n - 1] != 'Z')
		return -1;
	if (digits(p, 4, &y) || digits(p + 5, 2, &mo) || digits(p + 8, 2, &d) || digits(p + 11, 2, &h) ||
	    digits(p + 14, 2, &mi) || digits(p + 17, 2, &s))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
		return -1;
	if (n > 20) {
		if (p[19] != '.' || n - 21 < 1 || n - 21 > 9)
			return -1;
		for (k = 20; k < n - 1; k++) {
			if (p[k] < '0' || p[k] > '9')
				return -1;
			if (k < 26)
				frac = frac * 10 + (p[k] - '0');
		}
		for (k = n - 1 < 26 ? n - 1 : 26; k < 26; k++)
			frac *= 10;
	} else if (p[19] != 'Z') {
		return -1;
	}
	*us = ((days_from_civil(y, mo, d) * 86400) + h * 3600 + mi * 60 + s) * 1000000 + frac;
	return 0;
}

/* "10.0.3.7:443", "[2001:db8::7]:443" or "2001:db8::7:443" (the last colon
 * starts the port). */
static int ip_port(const struct field *f, struct hs_addr *a)
{
	char ip[64];
	const char *p = f->p, *end = f->p + f->n, *colon = NULL, *q;
	int64_t port;
	memset(a, 0, sizeof(*a));
	for (q = p; q < end; q++)
		if (*q == ':')
			colon = q;
	if (!colon || digits(colon + 1, (size_t)(end - colon - 1), &port) || port > 65535)
		return -1;
	if (*p == '[') {
		if (colon - p < 3 || colon[-1] != ']')
			return -1;
		p++;
		q = colon - 1;
	} else {
		q = colon;
	}
	if ((size_t)(q - p) >= sizeof(ip) || q == p)
		return -1;
	memcpy(ip, p, (size_t)(q - p));
	ip[q - p] = 0;
	if (inet_pton(AF_INET, ip, a->addr) == 1)
		a->family = 4;
	else if (inet_pton(AF_INET6, ip, a->addr) == 1)
		a->family = 6;
	else
		return -1;
	a->port = (uint16_t)port;
	return 0;
}

/* "-1", "0.000", "12.345678" */
static int seconds(const struct field *f, int64_t *us)
{
	int64_t whole, frac = 0;
	const char *dot;
	size_t k, nf;
	if (fis(f, "-1")) {
		*us = -1;
		return 0;
	}
	dot = memchr(f->p, '.', f->n);
	if (digits(f->p, dot ? (size_t)(dot - f->p) : f->n, &whole) || whole > 1000000000)
		return -1;
	if (dot) {
		nf = f->n - (size_t)(dot - f->p) - 1;
		if (nf == 0 || nf > 9)
			return -1;
		for (k = 0; k < nf; k++) {
			if (dot[1 + k] < '0' || dot[1 + k] > '9')
				return -1;
			if (k < 6)
				frac = frac * 10 + (dot[1 + k] - '0');
		}
		for (k = nf; k < 6; k++)
			frac *= 10;
	}
	*us = whole * 1000000 + frac;
	return 0;
}

static int status(const struct field *f, int *code)
{
	int64_t v;
	if (fis(f, "-")) {
		*code = -1;
		return 0;
	}
	if (f->n != 3 || digits(f->p, 3, &v) || v < 100)
		return -1;
	*code = (int)v;
	return 0;
}

struct parsed {
	int64_t time_us, req_us;
	int has_target;
	struct hs_addr target;
	int elb, tgt;
	int64_t proc[3];
	struct field reason;
};

static const char *parse(const char *line, size_t len, struct parsed *o)
{
	struct field f[ALB_NFIELDS];
	const char *why = NULL;
	int n = split(line, line + len, f, ALB_NFIELDS, &why), i;
	int64_t v;
	memset(o, 0, sizeof(*o));
	if (n < 0)
		return why;
	if (n < 12)
		return "fewer than 12 fields (an entry has type through sent_bytes at least)";
	if (iso_time(&f[1], &o->time_us))
		return "time is not an ISO 8601 UTC time (field 2)";
	if (!fis(&f[3], "-") && ip_port(&f[3], &(struct hs_addr){ 0 }))
		return "client:port is not an address and a port (field 4)";
	if (!fis(&f[4], "-")) {
		if (ip_port(&f[4], &o->target))
			return "target:port is not an address and a port (field 5)";
		o->has_target = 1;
	}
	for (i = 0; i < 3; i++)
		if (seconds(&f[5 + i], &o->proc[i]))
			return "a processing time is not a number of seconds or -1 (fields 6-8)";
	if (status(&f[8], &o->elb) || o->elb < 0)
		return "elb_status_code is not an HTTP status (field 9)";
	if (status(&f[9], &o->tgt))
		return "target_status_code is not an HTTP status or - (field 10)";
	if (digits(f[10].p, f[10].n, &v) || digits(f[11].p, f[11].n, &v))
		return "received_bytes or sent_bytes is not a number (fields 11-12)";
	o->req_us = INT64_MIN;
	if (n > 21 && !fis(&f[21], "-") && iso_time(&f[21], &o->req_us))
		return "request_creation_time is not an ISO 8601 UTC time (field 22)";
	if (n > 24 && !fis(&f[24], "-"))
		o->reason = f[24];
	return NULL;
}

const char *alb_parse_line_check(const char *line, size_t len)
{
	struct parsed o;
	return parse(line, len, &o);
}

static void complain(FILE *err, const char *path, uint64_t line, const char *why, uint64_t *count)
{
	if (++*count <= ALB_MAX_COMPLAINTS && err)
		fprintf(err, "%s:%" PRIu64 ": %s; line skipped\n", path, line, why);
}

static void add_entry(struct alb_log *a, const struct parsed *o)
{
	struct alb_result *r = &a->res;
	struct entry *e;
	uint32_t t = UINT32_MAX;
	if (o->has_target)
		t = target(a, &o->target, 1);
	if (o->elb != 502 && o->elb != 504)
		return;
	if (o->elb == 502)
		r->e502++;
	else
		r->e504++;
	if (!o->has_target) {
		r->no_target++;
		return;
	}
	if (t == UINT32_MAX || a->ne >= ALB_MAX_ENTRIES) {
		r->not_kept++;
		return;
	}
	if (dbuf_grow(&a->eb, (a->ne + 1) * sizeof(*a->e)) != DBUF_OK) {
		r->not_kept++;
		return;
	}
	a->e = (struct entry *)a->eb.p;
	e = &a->e[a->ne++];
	memset(e, 0, sizeof(*e));
	e->t = t;
	e->status = (uint16_t)o->elb;
	e->target_answered = o->tgt >= 0;
	e->time_us = o->time_us;
	if (o->req_us != INT64_MIN) {
		e->req_us = o->req_us;
	} else {
		int64_t back = 0;
		int i;
		for (i = 0; i < 3; i++)
			if (o->proc[i] > 0)
				back += o->proc[i];
		e->req_us = o->time_us - back;
	}
	if (o->reason.n) {
		size_t n = o->reason.n < sizeof(e->reason) - 1 ? o->reason.n : sizeof(e->reason) - 1;
		size_t i;
		for (i = 0; i < n; i++)   /* a name: keep printable ASCII only */
			e->reason[i] = o->reason.p[i] > 0x20 && o->reason.p[i] < 0x7f ? o->reason.p[i] : '?';
		e->reason[n] = 0;
	}
}

/* One line (without its newline) of a file. */
static void one_line(struct alb_log *a, const char *path, uint64_t line, char *p, size_t len, FILE *err,
		     uint64_t *bad)
{
	struct alb_result *r = &a->res;
	struct parsed o;
	const char *why;
	if (len && p[len - 1] == '\r')
		len--;
	if (!len)
		return;
	if (memchr(p, 0, len)) {
		complain(err, path, line, "a NUL byte in the line", bad);
		return;
	}
	why = parse(p, len, &o);
	if (why) {
		complain(err, path, line, why, bad);
		return;
	}
	r->entries++;
	if (!r->log_first_us || o.time_us < r->log_first_us)
		r->log_first_us = o.time_us;
	if (o.time_us > r->log_last_us)
		r->log_last_us = o.time_us;
	add_entry(a, &o);
}

#define ALB_BUF (4 * ALB_LINE_MAX)

int alb_load(struct alb_log *a, const char *path, FILE *err)
{
	struct alb_result *r = &a->res;
	char *buf;
	gzFile gz;
	uint64_t line = 0, bad = 0;
	size_t have = 0;
	int skipping = 0, n, ge = 0;
	errno = 0;
	gz = gzopen(path, "rb");   /* reads a plain file as it is */
	if (!gz) {
		if (err)
			fprintf(err, "tlswhy: --alb-log %s: %s\n", path, errno ? strerror(errno) : "cannot open");
		return -1;
	}
	buf = malloc(ALB_BUF);
	if (!buf) {
		gzclose(gz);
		if (err)
			fprintf(err, "tlswhy: --alb-log %s: out of memory\n", path);
		return -1;
	}
	r->files++;
	/* buf holds `have` bytes of the current line(s); a line that does not
	 * fit ALB_LINE_MAX is skipped up to its newline */
	while ((n = gzread(gz, buf + have, (unsigned)(ALB_BUF - have))) > 0) {
		char *p = buf, *end = buf + have + (size_t)n, *nl;
		while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
			if (skipping)
				skipping = 0;
			else if (nl - p > ALB_LINE_MAX)
				complain(err, path, ++line, "longer than 65536 bytes", &bad);
			else
				one_line(a, path, ++line, p, (size_t)(nl - p), err, &bad);
			p = nl + 1;
		}
		have = (size_t)(end - p);
		if (have > ALB_LINE_MAX || (skipping && have)) {
			if (!skipping)
				complain(err, path, ++line, "longer than 65536 bytes", &bad);
			skipping = 1;
			have = 0;
		} else {
			memmove(buf, p, have);
		}
	}
	if (have && !skipping)
		one_line(a, path, ++line, buf, have, err, &bad);   /* no newline at the end */
	{
		const char *m = gzerror(gz, &ge);
		if (n < 0 || (ge != Z_OK && ge != Z_STREAM_END)) {
			if (err)
				fprintf(err, "tlswhy: warning: --alb-log %s: read error after line %" PRIu64
					" (%s); the entries before it are used\n", path, line,
					ge == Z_ERRNO ? strerror(errno) : m ? m : "?");
		}
	}
	if (bad > ALB_MAX_COMPLAINTS && err)
		fprintf(err, "%s: %" PRIu64 " more malformed lines skipped\n", path, bad - ALB_MAX_COMPLAINTS);
	r->lines += line;
	r->malformed += bad;
	gzclose(gz);
	free(buf);
	return 0;
}

/* ---- matching ------------------------------------------------------------ */

static void count_name(struct alb_count *c, const char *name, uint64_t *other)
{
	int i;
	for (i = 0; i < ALB_CAUSES; i++) {
		if (!c[i].n) {
			snprintf(c[i].name, sizeof(c[i].name), "%s", name);
			c[i].n = 1;
			return;
		}
		if (!strcmp(c[i].name, name)) {
			c[i].n++;
			return;
		}
	}
	if (other)
		(*other)++;
}

void alb_conn(struct alb_log *a, const struct hs_record *r, const struct rule_verdict *v)
{
	uint32_t t;
	struct fconn *f;
	int failed;
	if (!a || a->finished)
		return;
	failed = rule_verdict_failed(v);
	t = target(a, &r->srv, 0);
	if (t == UINT32_MAX) {
		if (failed)
			a->res.failed_unlogged++;
		return;
	}
	a->tg[t].conns++;
	if (!failed)
		return;
	a->tg[t].failed++;
	if (a->nf >= ALB_MAX_FAILED) {
		a->res.failed_not_kept++;
		return;
	}
	if (dbuf_grow(&a->fb, (a->nf + 1) * sizeof(*a->f)) != DBUF_OK) {
		a->res.failed_not_kept++;
		return;
	}
	a->f = (struct fconn *)a->fb.p;
	f = &a->f[a->nf++];
	memset(f, 0, sizeof(*f));
	f->t = t;
	f->first_us = r->first_ts_us;
	f->last_us = hs_last_ts(r);
	snprintf(f->cause, sizeof(f->cause), "%s", v && v->diag ? v->diag->rule : "failed");
}

static int cmp_entry(const void *x, const void *y)
{
	const struct entry *a = x, *b = y;
	if (a->t != b->t)
		return a->t < b->t ? -1 : 1;
	return a->time_us < b->time_us ? -1 : a->time_us > b->time_us;
}

static int cmp_fconn(const void *x, const void *y)
{
	const struct fconn *a = x, *b = y;
	if (a->t != b->t)
		return a->t < b->t ? -1 : 1;
	return a->last_us < b->last_us ? -1 : a->last_us > b->last_us;
}

static int cmp_target(const void *x, const void *y)
{
	const struct alb_target *a = x, *b = y;
	uint64_t ea = a->entries_502 + a->entries_504, eb = b->entries_502 + b->entries_504;
	if (ea != eb)
		return ea > eb ? -1 : 1;
	if (a->failed_no_entry != b->failed_no_entry)
		return a->failed_no_entry > b->failed_no_entry ? -1 : 1;
	if (a->addr.family != b->addr.family)
		return a->addr.family < b->addr.family ? -1 : 1;
	if (memcmp(a->addr.addr, b->addr.addr, sizeof(a->addr.addr)))
		return memcmp(a->addr.addr, b->addr.addr, sizeof(a->addr.addr));
	return a->addr.port < b->addr.port ? -1 : a->addr.port > b->addr.port;
}

/* The first failed connection of target t whose last packet is at or after lo. */
static size_t lower_bound(const struct alb_log *a, uint32_t t, int64_t lo)
{
	size_t l = 0, h = a->nf;
	while (l < h) {
		size_t m = l + (h - l) / 2;
		if (a->f[m].t < t || (a->f[m].t == t && a->f[m].last_us < lo))
			l = m + 1;
		else
			h = m;
	}
	return l;
}

struct pair {
	uint32_t e, f;
	int64_t d;
};

static int cmp_pair(const void *x, const void *y)
{
	const struct pair *a = x, *b = y;
	if (a->d != b->d)
		return a->d < b->d ? -1 : 1;
	if (a->e != b->e)   /* ties: the earlier entry first, so the order is the same on every libc */
		return a->e < b->e ? -1 : 1;
	return a->f < b->f ? -1 : a->f > b->f;
}

static int64_t absdiff(int64_t x, int64_t y)
{
	return x > y ? x - y : y - x;
}

const struct alb_result *alb_finish(struct alb_log *a, int64_t cap_first_us, int64_t cap_last_us, int have_packets)
{
	struct alb_result *r;
	size_t i, k, np = 0;
	int64_t skew;
	struct pair *pairs;
	if (!a)
		return NULL;
	r = &a->res;
	if (a->finished)
		return r;
	a->finished = 1;
	skew = r->skew_us;
	if (a->ne)   /* qsort(NULL, 0) is undefined */
		qsort(a->e, a->ne, sizeof(*a->e), cmp_entry);
	if (a->nf)
		qsort(a->f, a->nf, sizeof(*a->f), cmp_fconn);
	/* Candidates: for each entry in the window, its ALB_CANDIDATES failed
	 * connections nearest in time. Then one-to-one, nearest pairs first,
	 * so an entry far from every failure cannot take the failure of an
	 * entry right next to it. */
	pairs = calloc(a->ne ? a->ne * ALB_CANDIDATES : 1, sizeof(*pairs));
	for (i = 0; i < a->ne; i++) {
		struct entry *e = &a->e[i];
		struct alb_target *t = &a->tg[e->t];
		struct pair *slot = pairs ? pairs + np : NULL;
		size_t j, c, m;
		e->ok = 0;
		if (!t->conns) {
			r->target_not_seen++;
			continue;
		}
		if (!have_packets || e->time_us < cap_first_us - skew || e->time_us > cap_last_us + skew) {
			r->outside_span++;
			continue;
		}
		e->ok = 1;
		if (e->status == 502)
			t->entries_502++;
		else
			t->entries_504++;
		if (!pairs || e->target_answered)   /* a 502 the target itself sent came over a working connection */
			continue;
		for (j = lower_bound(a, e->t, e->req_us - skew), m = 0; j < a->nf && a->f[j].t == e->t; j++) {
			const struct fconn *f = &a->f[j];
			struct pair p;
			if (f->last_us > e->time_us + skew + ALB_SCAN_US)
				break;
			if (f->first_us > e->time_us + skew)
				continue;
			p.e = (uint32_t)i;
			p.f = (uint32_t)j;
			p.d = absdiff(f->last_us, e->time_us);
			/* keep the ALB_CANDIDATES nearest, sorted, in this entry's slots
			 * (pairs + np has ALB_CANDIDATES free: np <= i * ALB_CANDIDATES) */
			if (m == ALB_CANDIDATES && slot[m - 1].d <= p.d)
				continue;
			c = m < ALB_CANDIDATES ? m++ : ALB_CANDIDATES - 1;
			while (c > 0 && slot[c - 1].d > p.d) {
				slot[c] = slot[c - 1];
				c--;
			}
			slot[c] = p;
		}
		np += m;
	}
	if (pairs) {
		qsort(pairs, np, sizeof(*pairs), cmp_pair);
		for (k = 0; k < np; k++) {
			struct entry *e = &a->e[pairs[k].e];
			struct fconn *f = &a->f[pairs[k].f];
			if (e->matched || f->matched)
				continue;
			e->matched = f->matched = 1;
			a->tg[e->t].matched++;
			count_name(a->tg[e->t].cause, f->cause, &a->tg[e->t].cause_other);
		}
		free(pairs);
	}
	for (i = 0; i < a->ne; i++) {
		const struct entry *e = &a->e[i];
		if (!e->ok || e->matched)
			continue;
		a->tg[e->t].unmatched++;
		count_name(a->tg[e->t].reason, e->target_answered ? "the target answered (target_status_code set)"
								  : e->reason[0] ? e->reason : "-", NULL);
	}
	for (i = 0; i < a->nf; i++) {
		const struct fconn *f = &a->f[i];
		if (!f->matched && r->entries && f->last_us >= r->log_first_us - skew &&
		    f->first_us <= r->log_last_us + skew)
			a->tg[f->t].failed_no_entry++;
	}
	for (i = 0, k = 0; i < a->ntg; i++)
		if (a->tg[i].entries_502 + a->tg[i].entries_504 + a->tg[i].failed_no_entry)
			k++;
	r->t = calloc(k ? k : 1, sizeof(*r->t));
	if (r->t) {
		for (i = 0, k = 0; i < a->ntg; i++)
			if (a->tg[i].entries_502 + a->tg[i].entries_504 + a->tg[i].failed_no_entry)
				r->t[k++] = a->tg[i];
		r->n = k;
		qsort(r->t, r->n, sizeof(*r->t), cmp_target);
	}
	return r;
}

/*
 * ticket.h - what the Markdown and HTML reports share (report/ only).
 *
 * Both are documents for an incident ticket: a headline verdict and a
 * summary first, so they are written at the end of the run. Records are
 * freed as they are retired, so while the capture is read ticket.c keeps
 * only what the document needs, bounded:
 *  - failed handshakes, grouped by (diagnosis rule, server address:port):
 *    the first connection of a group is rendered at once into its section
 *    (at most TK_SECTION_MAX bytes), later ones only add to a count, a
 *    time span and the first TK_IDS connection ids and frames. At most
 *    TK_MAX_GROUPS groups; failures beyond them are counted by cause.
 *  - counts per cause (diagnosis rule);
 *  - the other connections summarised by (server, stage, version, suite),
 *    at most TK_MAX_OTHER rows plus a remainder;
 *  - with --all, one table row per connection, spooled to a temporary file
 *    (disk, not memory) and copied into the document at the end.
 */
#ifndef TLSWHY_TICKET_H
#define TLSWHY_TICKET_H

#include <stdio.h>

#include "report/report.h"
#include "rules/rules.h"

#define TK_MAX_GROUPS  256
#define TK_IDS         12
#define TK_SECTION_MAX (512 * 1024)
#define TK_MAX_OTHER   64
#define TK_MAX_CAUSES  128
#define TK_MAX_STEPS   (HS_MAX_EVENTS + 1)

/* One arrow of the ladder diagram. */
struct tk_step {
	uint64_t frame;
	int64_t off_us;          /* from the connection's first packet */
	uint8_t dir;             /* DIR_C2S / DIR_S2C */
	uint8_t fail;            /* the failing step */
	uint8_t gap;             /* bytes missing, not a message */
	char label[96];          /* names from our tables only: no wire bytes */
};

struct tk_ladder {
	struct tk_step s[TK_MAX_STEPS];
	size_t n;
	char tail[160];          /* what did not happen ("no answer for 10.000 s"), or "" */
	int tail_fail;           /* the tail is the failing step */
	uint64_t clipped;        /* events beyond the ones kept */
};

void tk_ladder_build(const struct hs_record *r, struct tk_ladder *l);

/* A time in ISO 8601 UTC, to the microsecond; tk_time_ms to the millisecond
 * (as a person lines it up with a load balancer's access log). */
const char *tk_time(char *b, size_t n, int64_t us);
const char *tk_time_ms(char *b, size_t n, int64_t us);
/* The ladder as lines of text (markdown.c; the text summary draws it too). */
void tk_ladder_text(FILE *o, const struct hs_record *rec);

/* ---- the model both formats are written from ---------------------------
 *
 * ticket.c decides what the document says, in which order, and what kind
 * of text each piece is; markdown.c and html.c only give it syntax:
 * escaping, table and list markup, code fences or <pre>, the ladder as
 * text or as SVG. A line of inline text is a list of spans. */
enum tk_kind {
	TK_TEXT,      /* tlswhy's own text (numbers, names from its tables): as is */
	TK_PROSE,     /* our or knowledge-base text: escaped, line breaks as spaces; a `quoted`
		       * part is code (HTML <code>, plain text without the backticks) */
	TK_WIRE,      /* bytes from the wire: escaped */
	TK_CODE,      /* an identifier of ours (address, stage, rule id, digest) */
	TK_STRONG,    /* prose, in bold */
	TK_NONE,      /* an absent value: "(none)", in italics */
	TK_SEV,       /* a severity name, as a label */
	TK_URL,       /* a reference: a link where the format can make one safely */
	TK_BREAK,     /* a line break; in a label/value table's cell, with break_rows, a new row */
	TK_CELL       /* starts a table cell (`cell` says which) */
};
/* Where the two formats said different things before they shared this
 * code, a span (or a row, by its first cell) belongs to one of them only,
 * so that neither output changed: `only` is the set of formats that show
 * it (0: all). The text summary (textdoc.c) follows Markdown where the two
 * differ (TK_MDT), and has a few spans of its own (TK_TXT). */
#define TK_MD   1
#define TK_HTML 2
#define TK_TXT  4
#define TK_MDT  (TK_MD | TK_TXT)
/* TK_CELL flags */
#define TK_HEAD 1     /* a row's label */
#define TK_MONO 2     /* holds wire bytes (monospace in HTML) */
#define TK_FILL 4     /* spans the rest of the row */
#define TK_END  128   /* (to tk_syntax.cell) the row ends */

struct tk_span {
	const char *s;        /* not owned: the record's, the rules', a literal or the arena */
	size_t n;
	uint8_t kind, only, cell;
};

/* Bounded: a line holds the longest the document needs (the causes row:
 * TK_MAX_CAUSES x 7 spans; a note's evidence lines, up to 1 KiB each, in the
 * arena); what would not fit is left out. */
#define TK_SPANS 1024
#define TK_ARENA 65536
struct tk_line {
	struct tk_span sp[TK_SPANS];
	size_t n, used;
	uint8_t only;         /* given to the spans added now: 0, or TK_MD, TK_HTML, TK_TXT ORed */
	char arena[TK_ARENA]; /* text formatted for the spans */
};

struct tk_table {
	const char *const *cols;   /* column titles */
	const char *align;         /* per column: 'r' right-aligned, '-' not (Markdown) */
	int ncols;
	int kv;                    /* label and value: no title row in HTML */
};

enum tk_para {
	TK_P,                /* a paragraph */
	TK_P_KB,             /* the knowledge-base line closing a finding */
	TK_P_DISPUTE,        /* "Disputed: ..." under a claim */
	TK_P_ITEM,           /* a paragraph inside a list item */
	TK_P_ITEM_DISPUTE,   /* a dispute inside a list item ... */
	TK_P_ITEM_DISPUTE1,  /* ... the first of them (Markdown sets a blank line before) */
	TK_P__COUNT
};

/* A format's syntax. Every function writes to `o`; `open` is 1 to open, 0
 * to close. A tk_line passed is written with tk_line_write(). */
struct tk_syntax {
	uint8_t me;                                              /* TK_MD, TK_HTML or TK_TXT */
	/* A TK_BREAK in a label/value table's value ends the row: the rest
	 * goes on in a row of its own with an empty label (Markdown, whose
	 * table cells hold no line break but raw HTML's <br>; text). */
	uint8_t break_rows;
	void (*span)(FILE *o, const struct tk_span *s, int in_cell);
	/* Between the cells of a row: before cell i (flags `next`), after the
	 * one before it (flags `prev`, when i > 0); next is TK_END after the last. */
	void (*cell)(FILE *o, const struct tk_table *t, int i, uint8_t prev, uint8_t next);
	const char *para_open[TK_P__COUNT], *para_close[TK_P__COUNT];
	void (*begin)(FILE *o, int failed);
	void (*end)(FILE *o, const struct tk_line *footer);
	void (*headline)(FILE *o, int failed, const char *title, const struct tk_line *verdict);
	void (*heading)(FILE *o, int level, const struct tk_line *l);
	void (*section)(FILE *o, int open);        /* around one group of failures */
	void (*table)(FILE *o, const struct tk_table *t, int open);
	void (*list)(FILE *o, int ordered, int open);
	void (*item)(FILE *o, int ordered, size_t n, const struct tk_line *l);   /* opens it */
	void (*item_end)(FILE *o, int ordered);
	void (*command)(FILE *o, const char *stack, const char *text);          /* in an item */
	void (*ladder)(FILE *o, const struct hs_record *rec);
	/* Optional: a table laid out as a whole (text columns). When set,
	 * `cell` and `table` are not called for tables: ticket.c renders each
	 * cell's spans into a string and hands over `nrows` rows of t->ncols
	 * cells (row-major; "" for an empty one) when the table closes. */
	void (*grid)(FILE *o, const struct tk_table *t, char *const *cells, size_t nrows);
};
extern const struct tk_syntax tk_markdown, tk_html, tk_text, tk_text_color;

/* Writes the spans of a line that are for this format. */
void tk_line_write(const struct tk_syntax *y, FILE *o, const struct tk_line *l);

/* Writes n bytes escaped by `esc` (esc_md, esc_html); with `prose`, line
 * breaks and tabs become spaces first. Writes nothing when out of memory. */
void tk_escaped(FILE *o, char *(*esc)(char *dst, size_t cap, const uint8_t *s, size_t n), const void *s, size_t n,
		int prose);

/* The state, and the data a document is written from. A diagnosis is kept
 * by what the document says of it: strings of the rule set, which outlives
 * the report; one rule, one `id` pointer. */
struct tk_rule {
	const char *id, *title, *side, *confidence;   /* id NULL: none */
};
struct tk_group {
	struct tk_rule rule;
	struct hs_addr srv;
	char *body;
	size_t body_len;
	uint64_t count;
	uint64_t ids[TK_IDS], frames[TK_IDS];
	int64_t ts[TK_IDS];           /* when each of them started */
	int64_t first_ts, last_ts;
};
struct tk_cause {
	struct tk_rule rule;
	uint64_t count;
};
struct tk_other {
	struct hs_addr srv;
	uint8_t stage;
	uint16_t version, cipher;
	uint8_t sni[64];
	uint16_t sni_len;
	uint8_t has_sni;
	struct tk_rule diag;          /* a non-error diagnosis (warning), or none */
	uint64_t count, first_id, first_frame;
	int64_t first_ts;
};
/* The first decrypted application data of a direction (--keylog), kept
 * for the "Decrypted application data" table: at most TK_MAX_APPDATA. */
#define TK_MAX_APPDATA 64
struct tk_appdata {
	uint64_t id, frame;
	uint8_t dir, kind, n_h2;
	uint16_t status;
	uint8_t bytes[HS_DEC_FIRST];
	uint16_t len, line_len;
	uint8_t h2_types[HS_DEC_FIRST / 9 + 1];
};
struct rpt_ticket {
	struct tk_group g[TK_MAX_GROUPS];
	size_t ng;
	uint64_t failed_ungrouped;        /* groups full */
	struct tk_cause c[TK_MAX_CAUSES];
	size_t nc;
	struct tk_other o[TK_MAX_OTHER];
	size_t no;
	uint64_t other_rest;              /* connections beyond the rows */
	struct tk_appdata ad[TK_MAX_APPDATA];
	size_t nad;
	uint64_t ad_rest;                 /* directions with decrypted data beyond the rows */
	FILE *all;                        /* --all spool, rows */
	uint64_t all_rows;
	struct tk_line line;              /* the line being written */
};

/* ticket.c */
struct rpt_ticket *tk_new(void);
void tk_add(struct rpt *r, const struct hs_record *rec, const struct rule_verdict *v);
void tk_free(struct rpt_ticket *t);
/* Writes the document (at the end of the run). */
void tk_document(struct rpt *r, const struct rpt_input *in, int nin, const struct rpt_run *run,
		 const struct flow_stats *fs, const char *filter);
/* The headline alone (the text report's -q). */
void tk_headline(struct rpt *r);

#endif

/*
 * test_frag.c - table-driven tests for dissect/frag.c (IPv4 reassembly).
 *
 * Each case feeds fragments of one 200-byte datagram (offset, length, MF,
 * bytes captured, time, whether the bytes are altered) and says after
 * which fragment the datagram must come out whole, or that it must be
 * dropped. Then the caps: the datagram count, the timeout, the 64 KiB
 * limit. The last line printed is "N passed, N failed"; exit 1 on failure.
 */
#include "dissect/frag.h"
#include "tests/unit/check.h"

#include <stdio.h>
#include <string.h>

struct piece {
	uint16_t off, len;
	uint8_t more;
	uint16_t have;       /* 0: all of len */
	int64_t ts;
	uint8_t alter;       /* bytes differ from the datagram's */
};

struct tcase {
	const char *name;
	struct piece p[8];
	int n;
	int complete_at;     /* index of the fragment that completes it, -1 never */
	uint64_t conflicts;
};

static const struct tcase cases[] = {
	{ "in order", { { 0, 80, 1, 0, 0, 0 }, { 80, 80, 1, 0, 0, 0 }, { 160, 40, 0, 0, 0, 0 } }, 3, 2, 0 },
	{ "reverse", { { 160, 40, 0, 0, 0, 0 }, { 80, 80, 1, 0, 0, 0 }, { 0, 80, 1, 0, 0, 0 } }, 3, 2, 0 },
	{ "last first", { { 160, 40, 0, 0, 0, 0 }, { 0, 80, 1, 0, 0, 0 }, { 80, 80, 1, 0, 0, 0 } }, 3, 2, 0 },
	{ "duplicate", { { 0, 80, 1, 0, 0, 0 }, { 0, 80, 1, 0, 0, 0 }, { 80, 120, 0, 0, 0, 0 } }, 3, 2, 0 },
	{ "overlap, same bytes", { { 0, 120, 1, 0, 0, 0 }, { 80, 120, 0, 0, 0, 0 } }, 2, 1, 0 },
	{ "overlap, other bytes", { { 0, 120, 1, 0, 0, 0 }, { 80, 120, 0, 0, 0, 1 } }, 2, -1, 1 },
	{ "hole", { { 0, 80, 1, 0, 0, 0 }, { 160, 40, 0, 0, 0, 0 } }, 2, -1, 0 },
	{ "cut by the snaplen", { { 0, 80, 1, 40, 0, 0 }, { 80, 120, 0, 0, 0, 0 } }, 2, -1, 0 },
	{ "two ends", { { 80, 120, 0, 0, 0, 0 }, { 80, 40, 0, 0, 0, 0 }, { 0, 80, 1, 0, 0, 0 } }, 3, -1, 0 },
	{ "timed out", { { 0, 80, 1, 0, 0, 0 }, { 80, 120, 0, 0, FRAG_TIMEOUT_US + 1, 0 } }, 2, -1, 0 },
	{ "just in time", { { 0, 80, 1, 0, 0, 0 }, { 80, 120, 0, 0, FRAG_TIMEOUT_US, 0 } }, 2, 1, 0 },
};

static uint8_t datagram[200];

static const uint8_t *feed(struct frag_table *t, const struct piece *p, uint16_t id, uint32_t *len)
{
	static uint8_t buf[200];
	struct frag_in f;
	memcpy(buf, datagram, sizeof(buf));
	if (p->alter)
		for (int i = 0; i < 200; i++)
			buf[i] ^= 0x5a;
	memset(&f, 0, sizeof(f));
	memcpy(f.src, "\x0a\x00\x00\x01", 4);
	memcpy(f.dst, "\x0a\x00\x00\x02", 4);
	f.id = id;
	f.proto = 6;
	f.offset = p->off;
	f.more = p->more;
	f.data = buf + p->off;
	f.len = p->len;
	f.have = p->have ? p->have : p->len;
	f.ts_us = p->ts;
	return frag_add(t, &f, len);
}

int main(void)
{
	size_t i;
	int k;
	for (i = 0; i < sizeof(datagram); i++)
		datagram[i] = (uint8_t)(i * 7 + 3);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct tcase *c = &cases[i];
		struct frag_table *t = frag_table_new();
		int done_at = -1;
		for (k = 0; k < c->n; k++) {
			uint32_t len = 0;
			const uint8_t *whole = feed(t, &c->p[k], 1, &len);
			if (whole) {
				done_at = k;
				CHECKF(len == 200 && memcmp(whole, datagram, 200) == 0, "%s (%ld, %ld)", c->name, (long)(len), (long)(200));
			}
		}
		if (done_at != c->complete_at)
			printf("  case: %s\n", c->name);
		CHECKF(done_at == c->complete_at, "completed by fragment (%ld, %ld)", (long)(done_at), (long)(c->complete_at));
		CHECKF(frag_table_stats(t)->conflicts == c->conflicts, "conflicts (%ld, %ld)", (long)(frag_table_stats(t)->conflicts), (long)(c->conflicts));
		frag_table_free(t);
	}

	/* the datagram cap: the oldest goes first, and is counted */
	{
		struct frag_table *t = frag_table_new();
		struct piece first = { 0, 80, 1, 0, 0, 0 }, last = { 80, 120, 0, 0, 0, 0 };
		uint32_t len = 0, n;
		for (n = 0; n <= FRAG_MAX_DATAGRAMS; n++)
			(void)feed(t, &first, (uint16_t)n, &len);
		CHECKF(frag_table_stats(t)->dropped == 1, "dropped at the cap (%ld, %ld)", (long)(frag_table_stats(t)->dropped), (long)(1));
		CHECKF(feed(t, &last, (uint16_t)FRAG_MAX_DATAGRAMS, &len) != NULL, "the newest is whole (%ld, %ld)", (long)(0), (long)(0));
		CHECKF(feed(t, &last, 0, &len) == NULL, "the oldest is gone (%ld, %ld)", (long)(0), (long)(0));
		frag_flush(t);
		CHECKF(frag_table_stats(t)->dropped == (uint64_t)FRAG_MAX_DATAGRAMS + 1, "flush drops the rest (%ld, %ld)", (long)(frag_table_stats(t)->dropped), (long)(FRAG_MAX_DATAGRAMS + 1));
		frag_table_free(t);
	}

	/* nothing reaches past 65535 bytes of IP datagram */
	{
		struct frag_table *t = frag_table_new();
		struct frag_in f;
		uint32_t len = 0;
		memset(&f, 0, sizeof(f));
		f.id = 9;
		f.proto = 6;
		f.offset = 65528;
		f.len = 100;
		f.have = 100;
		f.data = datagram;
		CHECKF(frag_add(t, &f, &len) == NULL && frag_table_stats(t)->dropped == 1, "over 64 KiB (%ld, %ld)", (long)(frag_table_stats(t)->dropped), (long)(1));
		frag_table_free(t);
	}

	return check_done();
}

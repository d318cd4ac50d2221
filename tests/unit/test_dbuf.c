/*
 * test_dbuf.c - the bounded growable buffer (dissect/dbuf.c): growth from
 * the first size by doubling, clamped to the maximum; appending up to the
 * maximum exactly and failing one byte past it with the buffer unchanged;
 * size arithmetic that would overflow, size_t or the structure's 32-bit
 * fields (a maximum past DBUF_MAX_MAX is clamped); take, reset, free and
 * grow again; dbuf_fit()'s growth to the size asked; the spare blocks
 * (their sizes, their caps, and the flow table turning them off while
 * more than 4096 connections are open).
 */
#include "dissect/dbuf.h"
#include "dissect/decode.h"
#include "dissect/flow.h"
#include "dissect/record.h"
#include "tests/unit/check.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void test_growth(void)
{
	struct dbuf b;
	uint8_t x[3000];
	memset(x, 'a', sizeof(x));
	dbuf_init(&b, 512, 4000);
	CHECK(b.p == NULL && b.cap == 0 && b.len == 0);
	CHECK_INT(dbuf_grow(&b, 0), DBUF_OK);
	CHECK(b.p == NULL);                       /* nothing asked, nothing allocated */
	CHECK_INT(dbuf_add(&b, x, 1), DBUF_OK);
	CHECK_INT(b.cap, 512);                    /* the first size */
	CHECK_INT(dbuf_add(&b, x, 600), DBUF_OK);
	CHECK_INT(b.cap, 1024);                   /* doubled */
	CHECK_INT(dbuf_add(&b, x, 3000), DBUF_OK);
	CHECK_INT(b.cap, 4000);                   /* doubling says 4096: clamped to max */
	CHECK_INT(b.len, 3601);
	CHECK(b.p[0] == 'a' && b.p[3600] == 'a');
	dbuf_free(&b);
	CHECK(b.p == NULL && b.cap == 0 && b.len == 0 && b.max == 4000);
}

static void test_cap(void)
{
	struct dbuf b;
	uint8_t x[64];
	size_t cap;
	memset(x, 'b', sizeof(x));
	dbuf_init(&b, 16, 100);
	CHECK_INT(dbuf_add(&b, x, 64), DBUF_OK);
	CHECK_INT(dbuf_add(&b, x, 36), DBUF_OK);  /* exactly the maximum */
	CHECK_INT(b.len, 100);
	CHECK_INT(b.cap, 100);
	cap = b.cap;
	CHECK_INT(dbuf_add(&b, x, 1), DBUF_TOO_BIG);   /* one byte past it */
	CHECK_INT(b.len, 100);                          /* unchanged */
	CHECK_INT(b.cap, cap);
	CHECK_INT(dbuf_grow(&b, 101), DBUF_TOO_BIG);
	CHECK_INT(dbuf_grow(&b, 100), DBUF_OK);
	dbuf_reset(&b);
	CHECK_INT(b.len, 0);
	CHECK_INT(b.cap, 100);                          /* memory kept */
	CHECK_INT(dbuf_add(&b, x, 0), DBUF_OK);
	dbuf_free(&b);

	dbuf_init(&b, 4096, 100);                       /* first > max: clamped */
	CHECK_INT(dbuf_grow(&b, 1), DBUF_OK);
	CHECK_INT(b.cap, 100);
	dbuf_free(&b);

	dbuf_init(&b, 16, 0);                           /* a maximum of nothing */
	CHECK_INT(dbuf_add(&b, x, 1), DBUF_TOO_BIG);
	CHECK_INT(dbuf_add(&b, x, 0), DBUF_OK);
	CHECK(b.p == NULL);
}

static void test_overflow(void)
{
	struct dbuf b;
	uint8_t x[8] = { 0 };
	dbuf_init(&b, 8, SIZE_MAX);
	CHECK(b.max == DBUF_MAX_MAX);               /* clamped: sizes live in 32 bits */
	CHECK_INT(dbuf_add(&b, x, 8), DBUF_OK);
	/* len + n wraps: refused before any arithmetic is trusted */
	CHECK_INT(dbuf_add(&b, x, SIZE_MAX - 3), DBUF_TOO_BIG);
	CHECK_INT(dbuf_add(&b, x, SIZE_MAX), DBUF_TOO_BIG);
	/* len + n wraps the 32-bit fields: past the maximum, refused */
	CHECK_INT(dbuf_add(&b, x, (size_t)UINT32_MAX - 3), DBUF_TOO_BIG);
	CHECK_INT(dbuf_grow(&b, (size_t)UINT32_MAX + 9), DBUF_TOO_BIG);
	CHECK_INT(b.len, 8);
	/* doubling passes the maximum: the plan is the maximum (planned only:
	 * no allocator is asked for that much) */
	CHECK_INT(dbuf_plan(&b, (size_t)DBUF_MAX_MAX / 2 + 2), DBUF_MAX_MAX);
	CHECK_INT(dbuf_plan(&b, DBUF_MAX_MAX), DBUF_MAX_MAX);
	CHECK_INT(dbuf_plan(&b, (size_t)DBUF_MAX_MAX + 1), 0);
	CHECK_INT(dbuf_plan(&b, SIZE_MAX), 0);
	CHECK_INT(dbuf_plan(&b, 9), 16);
	CHECK_INT(dbuf_plan(&b, 8), 8);
	b.max = 1000;
	CHECK_INT(dbuf_plan(&b, 1001), 0);          /* past the maximum */
	CHECK_INT(dbuf_plan(&b, 999), 1000);        /* 1024 clamped */
	CHECK_INT(dbuf_grow(&b, SIZE_MAX), DBUF_TOO_BIG);
	CHECK_INT(b.cap, 8);
	CHECK_INT(b.len, 8);
	dbuf_free(&b);
	dbuf_init(&b, SIZE_MAX, SIZE_MAX);          /* first clamped to the clamped maximum */
	CHECK(b.first == DBUF_MAX_MAX);
	CHECK_INT(dbuf_plan(&b, 1), DBUF_MAX_MAX);
}

static void test_take(void)
{
	struct dbuf b;
	uint8_t *p;
	dbuf_init(&b, 4, 64);
	CHECK_INT(dbuf_add(&b, "hello", 5), DBUF_OK);
	p = dbuf_take(&b);
	CHECK(p != NULL && memcmp(p, "hello", 5) == 0);
	CHECK(b.p == NULL && b.len == 0 && b.cap == 0 && b.max == 64);
	free(p);
	CHECK_INT(dbuf_add(&b, "again", 5), DBUF_OK);   /* usable after take */
	CHECK_INT(b.cap, 8);
	dbuf_free(&b);
	dbuf_free(&b);                                   /* twice is harmless */
	CHECK_STR(dbuf_strerror(DBUF_TOO_BIG), "over the buffer's maximum");
	CHECK_STR(dbuf_strerror(DBUF_OK), "ok");
	CHECK_STR(dbuf_strerror(DBUF_NOMEM), "out of memory");
}

/* Spare blocks (dbuf_pool_begin): growth through the kept sizes carries
 * the whole old capacity, as realloc does; a freed block comes back for the
 * next buffer of its size; a taken one is the caller's to free(); at most
 * 32 are kept a size (ASan's leak check sees dbuf_pool_end free them). */
static void test_pool(void)
{
	struct dbuf a, b[40], c;
	uint8_t *p, *t;
	size_t i;
	dbuf_pool_begin();
	dbuf_init(&a, 512, 1u << 20);
	CHECK(dbuf_grow(&a, 512) == DBUF_OK && a.cap == 512);
	for (i = 0; i < 512; i++)
		a.p[i] = (uint8_t)(i * 7);
	CHECK(dbuf_grow(&a, 513) == DBUF_OK && a.cap == 1024);
	for (i = 0; i < 512 && a.p[i] == (uint8_t)(i * 7); i++)
		;
	CHECK(i == 512);
	CHECK(dbuf_grow(&a, 5000) == DBUF_OK && a.cap == 8192);   /* past the kept sizes: realloc */
	for (i = 0; i < 512 && a.p[i] == (uint8_t)(i * 7); i++)
		;
	CHECK(i == 512);
	dbuf_free(&a);
	dbuf_init(&c, 2048, 4096);
	CHECK(dbuf_grow(&c, 1) == DBUF_OK);
	p = c.p;
	dbuf_free(&c);
	CHECK(dbuf_grow(&c, 2000) == DBUF_OK && c.p == p);   /* the spare 2 KiB block again */
	t = dbuf_take(&c);
	CHECK(t == p && c.p == NULL && c.cap == 0);
	free(t);
	for (i = 0; i < 40; i++) {
		dbuf_init(&b[i], 4096, 4096);
		CHECK(dbuf_grow(&b[i], 4096) == DBUF_OK);
	}
	for (i = 0; i < 40; i++)
		dbuf_free(&b[i]);   /* 32 kept, 8 freed */
	CHECK_INT(dbuf_pool_bytes(), 32 * 4096);
	dbuf_pool_end();
	CHECK_INT(dbuf_pool_bytes(), 0);
	dbuf_init(&c, 1024, 1024);   /* no spares any more: plain malloc and free */
	CHECK(dbuf_grow(&c, 1024) == DBUF_OK);
	dbuf_free(&c);
}

/* dbuf_fit(): room to the size asked, rounded up to DBUF_FIT_STEP and
 * never past the maximum, the bytes carried along; refused past the
 * maximum (or a size_t that would wrap) with the buffer unchanged; a size
 * the spare blocks keep comes from them. */
static void test_fit(void)
{
	struct dbuf b, c;
	uint8_t x[3000], *p;
	size_t i;
	for (i = 0; i < sizeof(x); i++)
		x[i] = (uint8_t)(i * 13);
	dbuf_init(&b, 512, 4000);
	CHECK_INT(dbuf_fit(&b, 0), DBUF_OK);
	CHECK(b.p == NULL && b.cap == 0);           /* nothing asked, nothing allocated */
	CHECK_INT(dbuf_fit(&b, 1), DBUF_OK);
	CHECK_INT(b.cap, 64);                       /* not the first size, 512 */
	CHECK_INT(dbuf_add(&b, x, 64), DBUF_OK);
	CHECK_INT(b.cap, 64);
	CHECK_INT(dbuf_fit(&b, 64), DBUF_OK);       /* held already */
	CHECK_INT(b.cap, 64);
	CHECK_INT(dbuf_fit(&b, 65 + 517), DBUF_OK);
	CHECK_INT(b.cap, 640);                      /* 582 rounded up; doubling said 1024 */
	CHECK_INT(dbuf_add(&b, x + 64, 1000), DBUF_OK);   /* dbuf_add still doubles */
	CHECK_INT(b.cap, 1280);
	CHECK_INT(dbuf_fit(&b, 3000), DBUF_OK);
	CHECK_INT(b.cap, 3008);
	CHECK_INT(dbuf_add(&b, x + 1064, 1936), DBUF_OK);
	CHECK_INT(b.len, 3000);
	CHECK_INT(b.cap, 3008);
	CHECK_INT(memcmp(b.p, x, 3000), 0);        /* every byte carried along */
	CHECK_INT(dbuf_fit(&b, 3990), DBUF_OK);
	CHECK_INT(b.cap, 4000);                     /* 4032 clamped to the maximum */
	CHECK_INT(dbuf_fit(&b, 4001), DBUF_TOO_BIG);
	CHECK_INT(b.cap, 4000);
	CHECK_INT(b.len, 3000);
	CHECK_INT(memcmp(b.p, x, 3000), 0);
	dbuf_free(&b);

	dbuf_init(&b, 8, SIZE_MAX);
	CHECK_INT(dbuf_fit(&b, SIZE_MAX), DBUF_TOO_BIG);
	CHECK_INT(dbuf_fit(&b, (size_t)DBUF_MAX_MAX + 1), DBUF_TOO_BIG);
	CHECK(b.p == NULL && b.cap == 0);
	dbuf_init(&b, 8, 100);
	CHECK_INT(dbuf_fit(&b, 99), DBUF_OK);
	CHECK_INT(b.cap, 100);                      /* 128 clamped */
	dbuf_free(&b);

	dbuf_pool_begin();
	dbuf_init(&c, 512, 4096);
	CHECK_INT(dbuf_fit(&c, 512), DBUF_OK);      /* a size the spares keep */
	p = c.p;
	dbuf_free(&c);
	CHECK_INT(dbuf_fit(&c, 500), DBUF_OK);      /* 512: the same block again */
	CHECK(c.p == p && c.cap == 512);
	CHECK_INT(dbuf_fit(&c, 600), DBUF_OK);      /* 640: none kept, so realloc */
	CHECK_INT(c.cap, 640);
	for (i = 0; i < 600; i++)
		c.p[i] = (uint8_t)(i * 3);
	CHECK_INT(dbuf_fit(&c, 1400), DBUF_OK);
	CHECK_INT(c.cap, 1408);
	p = c.p;
	dbuf_free(&c);
	CHECK_INT(dbuf_pool_bytes(), 1408);         /* kept: every multiple of 64 up to 4 KiB */
	dbuf_init(&c, 512, 8192);
	CHECK_INT(dbuf_fit(&c, 600), DBUF_OK);
	for (i = 0; i < 600; i++)
		c.p[i] = (uint8_t)(i * 5);
	CHECK_INT(dbuf_fit(&c, 1350), DBUF_OK);     /* 1408: the spare, the bytes carried along */
	CHECK(c.p == p && c.cap == 1408);
	for (i = 0; i < 600 && c.p[i] == (uint8_t)(i * 5); i++)
		;
	CHECK(i == 600);
	CHECK_INT(dbuf_pool_bytes(), 640);          /* the block it left */
	CHECK_INT(dbuf_fit(&c, 4097), DBUF_OK);     /* past 4 KiB: realloc, never kept */
	CHECK_INT(c.cap, 4096 + 64);
	dbuf_free(&c);
	CHECK_INT(dbuf_pool_bytes(), 640);
	dbuf_pool_end();
}

/* dbuf_pool_cap(): the spares never hold more than the cap (DBUF_POOL_BYTES
 * by default: every size is also held to 32); lowering it frees the ones
 * past it, 0 keeps none; dbuf_pool_end() sets it back. */
static void test_pool_cap(void)
{
	struct dbuf b[3 * 40];
	size_t i, held;
	dbuf_pool_begin();
	for (i = 0; i < 3 * 40; i++) {
		dbuf_init(&b[i], 64, 1u << 20);
		CHECK_INT(dbuf_fit(&b[i], 4096 - 64 * (i / 40)), DBUF_OK);   /* 40 each of 4096, 4032, 3968 */
	}
	for (i = 0; i < 3 * 40; i++)
		dbuf_free(&b[i]);
	held = dbuf_pool_bytes();
	CHECK(held <= DBUF_POOL_BYTES);
	CHECK_INT(held, 32 * 4096 + 32 * 4032);    /* 32 of each of the first two, then the cap */
	dbuf_pool_cap(100000);
	CHECK(dbuf_pool_bytes() <= 100000 && dbuf_pool_bytes() > 100000 - 4096);
	dbuf_pool_cap(0);
	CHECK_INT(dbuf_pool_bytes(), 0);
	dbuf_init(&b[0], 64, 4096);
	CHECK_INT(dbuf_fit(&b[0], 512), DBUF_OK);
	dbuf_free(&b[0]);
	CHECK_INT(dbuf_pool_bytes(), 0);           /* nothing kept at cap 0 */
	dbuf_pool_end();
	dbuf_pool_begin();
	CHECK_INT(dbuf_fit(&b[0], 512), DBUF_OK);
	dbuf_free(&b[0]);
	CHECK_INT(dbuf_pool_bytes(), 512);         /* the cap is back */
	dbuf_pool_end();
}

static void free_record(struct hs_record *r, void *arg)
{
	(void)arg;
	record_free(r);
}

/* The analysis thread's spares while many connections are open
 * (dissect/flow.c, FLOW_POOL_OPEN_MAX): past 4096 open flows the flow
 * table gives them back and none are kept; once the flows are retired
 * (below 2048) they are kept again. The flows are 5000 SYNs from
 * distinct client ports, crafted here. */
static void test_pool_many_flows(void)
{
	struct flow_table *ft;
	struct dbuf b;
	struct pkt k;
	unsigned i;
	dbuf_pool_begin();
	dbuf_init(&b, 64, 4096);
	CHECK_INT(dbuf_fit(&b, 512), DBUF_OK);
	dbuf_free(&b);
	CHECK_INT(dbuf_pool_bytes(), 512);
	ft = flow_table_new(NULL, free_record, NULL);
	CHECK(ft != NULL);
	for (i = 0; ft && i < 5000; i++) {
		memset(&k, 0, sizeof(k));
		k.frame = i + 1;
		k.ts_us = 1700000000000000 + i;
		k.src.family = k.dst.family = 4;
		k.src.addr[0] = 10, k.src.addr[1] = 1, k.src.addr[2] = (uint8_t)(i >> 8), k.src.addr[3] = (uint8_t)i;
		k.dst.addr[0] = 10, k.dst.addr[3] = 9;
		k.src.port = (uint16_t)(20000 + i);
		k.dst.port = 443;
		k.seq = 1000 * i;
		k.flags = TCP_SYN;
		k.win = 64240;
		k.wscale = PKT_NO_WSCALE;
		flow_packet(ft, &k);
		if (i == 4095)
			CHECK_INT(dbuf_pool_bytes(), 512);   /* 4096 open: kept */
	}
	CHECK_INT(dbuf_pool_bytes(), 0);             /* the 4097th gave them back */
	CHECK_INT(dbuf_fit(&b, 512), DBUF_OK);
	dbuf_free(&b);
	CHECK_INT(dbuf_pool_bytes(), 0);             /* and none is kept while they are open */
	flow_table_free(ft, 1700000000000000 + 5000);
	CHECK_INT(dbuf_fit(&b, 512), DBUF_OK);
	dbuf_free(&b);
	CHECK_INT(dbuf_pool_bytes(), 512);           /* retired: kept again */
	dbuf_pool_end();
	record_pools_free();
}

int main(void)
{
	test_growth();
	test_cap();
	test_overflow();
	test_take();
	test_pool();
	test_fit();
	test_pool_cap();
	test_pool_many_flows();
	return check_done();
}

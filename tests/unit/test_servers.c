/*
 * test_servers.c - the per-server table's hashes (dissect/servers.c): the
 * offer and name hashes stand for the values themselves in a snapshot, so
 * they are equal for equal values (GREASE left out of offers), differ for
 * values that differ in one place or one length, and are keyed per table
 * (two tables give different hashes for the same name: a client cannot
 * aim a collision at a table it has not seen). And a table offered more
 * servers than it holds forgets the least recently learned ones, counts
 * each, never keeps more than SRV_MAX_SERVERS, and takes one back when it
 * comes again.
 */
#include "dissect/servers.h"
#include "dissect/record.h"
#include "tests/unit/check.h"

#include <stdlib.h>
#include <string.h>

static struct hs_client_hello *hello(const char *sni, const uint16_t *suites, uint16_t n)
{
	struct hs_client_hello *c = record_new_client_hello();
	if (!c)
		abort();
	if (sni) {
		c->has_sni = 1;
		c->sni_len = (uint16_t)strlen(sni);
		memcpy(hs_ch_sni(c), sni, c->sni_len);
	}
	memcpy(hs_ch_suites(c), suites, n * sizeof(*suites));
	c->n_suites = n;
	return c;
}

static void set_server(struct hs_record *r, uint32_t i)
{
	memset(&r->srv, 0, sizeof(r->srv));
	r->srv.family = 4;
	r->srv.addr[0] = 10;
	r->srv.addr[1] = (uint8_t)(i >> 16);
	r->srv.addr[2] = (uint8_t)(i >> 8);
	r->srv.addr[3] = (uint8_t)i;
	r->srv.port = 443;
}

/* Known: a snapshot sees another connection to it (each server is learned twice). */
static int known(const struct srv_table *t, struct hs_record *r, uint32_t i)
{
	struct srv_known k;
	int v;
	set_server(r, i);
	v = srv_snapshot(t, r, &k);
	CHECK(!v || k.conns == 1);
	srv_known_release(&k);
	return v;
}

static void test_full_table(void)
{
	struct srv_table *t = srv_table_new();
	struct hs_record *r = record_new(1);
	const uint32_t n = SRV_MAX_SERVERS + 1500;
	uint32_t i, present = 0;
	uint64_t forgotten;
	CHECK(t && r);
	if (!t || !r)
		return;
	r->role_by = ROLE_SYN;
	for (i = 0; i < n; i++) {
		set_server(r, i);
		srv_learn(t, r);
		srv_learn(t, r);
	}
	for (i = 0; i < n; i++)
		present += (uint32_t)known(t, r, i);
	forgotten = srv_table_forgotten(t);
	/* a server is forgotten when its SRV_PROBES places are all taken, so
	 * the table fills to most of its places, never past them */
	CHECK(present <= SRV_MAX_SERVERS && present > SRV_MAX_SERVERS / 2);
	CHECK_INTF((long long)forgotten, (long long)(n - present), "each one not kept was forgotten once");
	CHECK(known(t, r, n - 1) && known(t, r, n - 2));   /* the latest are kept */
	for (i = 0; i < n && known(t, r, i); i++)
		;
	CHECK(i < n);                                       /* one forgotten... */
	set_server(r, i);
	srv_learn(t, r);
	srv_learn(t, r);
	CHECK(known(t, r, i));                              /* ...comes back */
	CHECK(srv_table_forgotten(t) == forgotten + 1);     /* in another's place */
	record_free(r);
	srv_table_free(t);
}

int main(void)
{
	struct srv_table *t1 = srv_table_new(), *t2 = srv_table_new();
	static const uint16_t s1[] = { 0xc02f, 0xc030, 0x009e, 0x0035, 0x002f };
	static const uint16_t s1g[] = { 0x0a0a, 0xc02f, 0xc030, 0x009e, 0x3a3a, 0x0035, 0x002f };
	static const uint16_t s2[] = { 0xc02f, 0xc030, 0x009e, 0x0035 };
	static const uint16_t s3[] = { 0xc030, 0xc02f, 0x009e, 0x0035, 0x002f };
	struct hs_client_hello *a = hello("api.example.com", s1, 5), *b = hello("api.example.com", s1g, 7),
			       *c = hello("api.example.co", s2, 4), *d = hello("api.example.con", s3, 5),
			       *e = hello(NULL, s1, 5), *f = hello("", s1, 5);
	CHECK(t1 && t2);
	CHECK(srv_name_hash(t1, a) == srv_name_hash(t1, b));
	CHECK(srv_name_hash(t1, a) != srv_name_hash(t1, c));   /* one byte shorter */
	CHECK(srv_name_hash(t1, a) != srv_name_hash(t1, d));   /* last byte differs */
	CHECK(srv_name_hash(t1, e) == 0);                      /* no server_name */
	CHECK(srv_name_hash(t1, f) != 0);                      /* an empty one is a name */
	CHECK(srv_name_hash(t1, a) != srv_name_hash(t2, a));   /* keyed per table */
	CHECK(srv_offer_hash(t1, a) == srv_offer_hash(t1, b)); /* GREASE left out */
	CHECK(srv_offer_hash(t1, a) != srv_offer_hash(t1, c)); /* one suite fewer */
	CHECK(srv_offer_hash(t1, a) != srv_offer_hash(t1, d)); /* order counts */
	CHECK(srv_offer_hash(t1, a) != srv_offer_hash(t2, a));
	CHECK(srv_offer_hash(t1, NULL) == 0);
	record_free_client_hello(a); record_free_client_hello(b); record_free_client_hello(c);
	record_free_client_hello(d); record_free_client_hello(e); record_free_client_hello(f);
	srv_table_free(t1);
	srv_table_free(t2);
	test_full_table();
	return check_done();
}

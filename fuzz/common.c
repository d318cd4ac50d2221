/*
 * common.c - helpers shared by the fuzz targets (linked into each).
 */
#include "fuzz/fuzz.h"
#include "dissect/record.h"

#include <stdio.h>
#include <stdlib.h>

void fuzz_fail(const char *file, int line, const char *what)
{
	fprintf(stderr, "%s:%d: invariant violated: %s\n", file, line, what);
	abort();
}

#include "dissect/x509.h"

/* Drops the certificate references a record holds, then the record (what
 * app/main.c does for every finished record). */
void fuzz_record_free(struct hs_record *r)
{
	uint16_t i;
	if (!r)
		return;
	for (i = 0; i < r->server_chain.n; i++)
		x509_put(r->server_chain.c[i].x);
	for (i = 0; i < r->client_chain.n; i++)
		x509_put(r->client_chain.c[i].x);
	record_free(r);
}

/* Invariants every record keeps, whatever the input. */
void fuzz_record_check(const struct hs_record *r)
{
	int d;
	FUZZ_CHECK(r->n_alerts <= HS_MAX_ALERTS && r->n_alerts <= r->total_alerts);
	FUZZ_CHECK(r->n_events <= HS_MAX_EVENTS && r->n_events <= r->total_events);
	FUZZ_CHECK(r->nontls_len <= HS_NONTLS_BYTES);
	FUZZ_CHECK(r->server_chain.n <= HS_MAX_CERTS && r->server_chain.n <= r->server_chain.total);
	FUZZ_CHECK(r->client_chain.n <= HS_MAX_CERTS && r->client_chain.n <= r->client_chain.total);
	FUZZ_CHECK(r->stage < STAGE__COUNT);
	if (r->ch) {
		FUZZ_CHECK(r->ch->n_suites <= HS_MAX_SUITES);
		FUZZ_CHECK(r->ch->n_exts <= HS_MAX_EXTS);
		FUZZ_CHECK(r->ch->sni_len <= HS_SNI_BYTES);
		FUZZ_CHECK(r->ch->alpn_bytes <= HS_ALPN_BYTES);
		FUZZ_CHECK(r->ch->session_id_len <= 32);
	}
	if (r->sh)
		FUZZ_CHECK(r->sh->session_id_len <= 32 && r->sh->n_exts <= HS_MAX_EXTS);
	for (d = 0; d < 2; d++)
		FUZZ_CHECK(r->d[d].stream_bytes <= r->d[d].payload_bytes || r->d[d].payload_bytes == 0);
}

/*
 * common.c - helpers shared by the fuzz targets (linked into each).
 */
#include "fuzz/fuzz.h"
#include "dissect/record.h"
#include "dissect/tls.h"

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
	for (i = 0; i < hs_rare(r)->client_chain.n; i++)
		x509_put(hs_rare(r)->client_chain.c[i].x);
	record_free(r);
}

/* Invariants every record keeps, whatever the input. */
void fuzz_record_check(const struct hs_record *r)
{
	int d;
	FUZZ_CHECK(r->n_alerts <= HS_MAX_ALERTS && r->n_alerts <= r->total_alerts);
	FUZZ_CHECK(r->n_events <= HS_MAX_EVENTS && r->n_events <= r->total_events);
	FUZZ_CHECK(hs_rare(r)->nontls_len <= HS_NONTLS_BYTES);
	FUZZ_CHECK(r->server_chain.n <= HS_MAX_CERTS && r->server_chain.n <= r->server_chain.total);
	FUZZ_CHECK(hs_rare(r)->client_chain.n <= HS_MAX_CERTS &&
		   hs_rare(r)->client_chain.n <= hs_rare(r)->client_chain.total);
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

struct hs_record *fuzz_tls_run(const uint8_t *data, size_t size, const struct tls_limits *lim)
{
	struct tls_conn t;
	struct hs_record *r = record_new(1);
	size_t i = 1;
	uint64_t frame = 0;
	int64_t ts = 1700000000000000LL;
	if (!r)
		return NULL;
	tls_conn_init(&t, r, lim);
	while (i + 2 <= size) {
		int dir = data[i] >> 7;
		int gap = (data[i] >> 6) & 1;
		size_t len = (size_t)(data[i] & 0x3f) << 8 | data[i + 1];
		i += 2;
		frame++;
		ts += 1000;
		if (gap) {
			if (len == 0) {
				tls_swap(&t);
				record_swap_dirs(r);
			} else {
				tls_gap(&t, dir, (uint32_t)len, frame, ts);
			}
			continue;
		}
		if (len > size - i)
			len = size - i;
		if (!tls_dir_done(&t, dir))
			tls_feed(&t, dir, data + i, len, frame, ts);
		i += len;
	}
	tls_finish(&t);
	record_finish(r, ts);
	fuzz_record_check(r);
	tls_conn_free(&t);
	return r;
}

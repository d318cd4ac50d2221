/*
 * fuzz_x509.c - libFuzzer target: the X.509 wrapper (dissect/x509.c).
 *
 * Input: DER bytes. x509_get() must return facts (malformed or not) whose
 * strings are NUL-terminated inside their fields; x509_valid_at() and
 * x509_issued_by() must answer for any bytes; the cache (made small here,
 * so eviction and the "uncached" path run) must stay consistent. Every
 * string is also written through the JSON writer, which must not choke.
 * Seeds (fuzz/seeds.c): every certificate of the recorded captures.
 */
#include "fuzz/fuzz.h"
#include "dissect/x509.h"
#include "report/jw.h"

#include <stdio.h>
#include <string.h>

static FILE *devnull;
static struct x509_cache *xc;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	xc = x509_cache_new();
	if (xc)
		x509_set_cache_max(xc, 4);
	devnull = fopen("/dev/null", "w");
	return 0;
}

static void check_str(const char *s, size_t cap)
{
	FUZZ_CHECK(memchr(s, 0, cap) != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct x509_facts *f, *g;
	size_t half = size / 2;
	if (!devnull)
		LLVMFuzzerInitialize(NULL, NULL);
	f = x509_get(xc, data, size);
	if (!f)
		return 0;
	FUZZ_CHECK(f->der_len == size);
	check_str(f->subject, sizeof(f->subject));
	check_str(f->issuer, sizeof(f->issuer));
	check_str(f->subject_cn, sizeof(f->subject_cn));
	check_str(f->san, sizeof(f->san));
	check_str(f->serial_hex, sizeof(f->serial_hex));
	check_str(f->key_curve, sizeof(f->key_curve));
	check_str(f->sig_alg, sizeof(f->sig_alg));
	(void)x509_valid_at(f, 0);
	(void)x509_valid_at(f, 1700000000);
	(void)x509_valid_at(f, INT64_MAX);
	(void)x509_valid_at(f, INT64_MIN);
	if (devnull) {
		struct jw w;
		jw_init(&w, devnull, 0);
		jw_obj_open(&w, NULL);
		jw_key_str(&w, "subject", f->subject);
		jw_key_str(&w, "issuer", f->issuer);
		jw_key_str(&w, "cn", f->subject_cn);
		jw_key_str(&w, "san", f->san);
		jw_key_str(&w, "serial", f->serial_hex);
		jw_key_str(&w, "sig", f->sig_alg);
		jw_key_str(&w, "key", x509_key_name((enum x509_key)f->key_type));
		jw_obj_close(&w);
		jw_end(&w);
	}
	g = x509_ref(f);
	FUZZ_CHECK(g == f);
	x509_put(g);
	(void)x509_issued_by(xc, data, size, data, size);
	if (half)
		(void)x509_issued_by(xc, data, half, data + half, size - half);
	/* the same bytes again come from the cache (or a fresh decode) alike */
	g = x509_get(xc, data, size);
	if (g) {
		FUZZ_CHECK(g->malformed == f->malformed && memcmp(g->sha256, f->sha256, 32) == 0);
		x509_put(g);
	}
	x509_put(f);
	return 0;
}

/*
 * fuzz_x509.c - libFuzzer target: the X.509 wrapper (dissect/x509.c).
 *
 * Input: DER bytes. x509_get() must return facts (malformed or not) whose
 * strings are NUL-terminated inside their fields; x509_valid_at() and
 * x509_issued_by() must answer for any bytes; the cache (made small here,
 * so eviction and the "uncached" path run) must stay consistent. Every
 * string is also written through the JSON writer, which must not choke.
 * The verification budget (x509_verify_link) is modelled too: a budget
 * taken from the first byte, the self-signed check and a link check to a
 * second certificate made of the input's second half; a budget never grows,
 * a skipped check always answers "unknown" with a named reason, a key past
 * the limits is never checked, and an answer once given is given again.
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
	if (size) {
		struct x509_vbudget b;
		enum x509_skip why;
		uint32_t before;
		int r, r2;
		b.left = data[0] % 80u;
		before = b.left;
		r = x509_verify_link(&b, (int64_t)data[size - 1] * 1000000, f, data, size, f, data, size, &why);
		FUZZ_CHECK(r >= 0 && r <= 2 && b.left <= before);
		FUZZ_CHECK(why == X509_SKIP_NONE || r == 2);
		FUZZ_CHECK(strcmp(x509_skip_name(why), "unknown") != 0);
		FUZZ_CHECK(!f->key_skip || why == X509_SKIP_NONE || why == (enum x509_skip)f->key_skip ||
			   !f->self_issued);
		if (f->key_skip && f->self_issued && !f->malformed)
			FUZZ_CHECK(b.left == before);   /* a key past the limits costs nothing */
		if (why == X509_SKIP_NONE && r != 2) {
			b.left = 0;   /* remembered: no budget needed for the same answer */
			r2 = x509_verify_link(&b, 0, f, data, size, f, data, size, &why);
			FUZZ_CHECK(r2 == r && why == X509_SKIP_NONE);
		}
		if (half) {
			const struct x509_facts *h1 = x509_get(xc, data, half), *h2 = x509_get(xc, data + half, size - half);
			b.left = data[0] % 80u;
			before = b.left;
			r = x509_verify_link(&b, 0, h1, data, half, h2, data + half, size - half, &why);
			FUZZ_CHECK(r >= 0 && r <= 2 && b.left <= before && (why == X509_SKIP_NONE || r == 2));
			x509_put(h1);
			x509_put(h2);
		}
	}
	/* the same bytes again come from the cache (or a fresh decode) alike */
	g = x509_get(xc, data, size);
	if (g) {
		FUZZ_CHECK(g->malformed == f->malformed && memcmp(g->sha256, f->sha256, 32) == 0);
		x509_put(g);
	}
	x509_put(f);
	return 0;
}

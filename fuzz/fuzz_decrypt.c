/*
 * fuzz_decrypt.c - libFuzzer target: the record layer (dissect/tls.c) with
 * --keylog decryption on (dissect/decrypt.c, tlsdec.c): the input format
 * of fuzz_record.c, with the run's key log set to the secrets of six
 * bundled captures (pcaps/tls13-ok,tls13-client-cert-required,tls12-ok,tls10-ok,nginx-verify-client-http400,tls13-hello-retry.keylog),
 * so inputs grown from those captures' payloads (fuzz/corpus/decrypt/,
 * one file per capture, written by fuzz/seeds.c for the record target)
 * decrypt, and mutations reach the decrypted-handshake parsers (TLS 1.3
 * Certificate, EncryptedExtensions, decrypted alerts) with valid keys.
 *
 * The key log is built once (LLVMFuzzerInitialize) and only read after.
 *
 * Checks: no memory error, no leak, record invariants (fuzz_record_check)
 * and the bounds of r->dec.
 */
#include "fuzz/fuzz.h"
#include "dissect/decrypt.h"
#include "dissect/keylog.h"
#include "dissect/record.h"
#include "dissect/tls.h"

#include <string.h>

/* Test secrets of the bundled recordings (public, in pcaps/). */
static const char keys[] =
	"SERVER_HANDSHAKE_TRAFFIC_SECRET dc0a1d0cf60746c7c031135485208a8f7befc0a72f6f1a68e5ea7734eb084946 49ef24d21297c72160abe1249a42c33ee371939a52cd8ac905fa38848e02ec699278bdb8f7c59dcdb7e5bcbe9de2a5e6\n"
	"EXPORTER_SECRET dc0a1d0cf60746c7c031135485208a8f7befc0a72f6f1a68e5ea7734eb084946 c6db3ca7b987e339f0f139672257a79d903cd6ac3b83a88d119006d3ae0438c8580f7c923ba566742292446f6b09f022\n"
	"SERVER_TRAFFIC_SECRET_0 dc0a1d0cf60746c7c031135485208a8f7befc0a72f6f1a68e5ea7734eb084946 85a6dc95deb0a94a290a6deaac2d6966bacaa8e8803fe1db6da998081aaf3868d8ebc1a85dcc68492e4f3d947feeebf3\n"
	"CLIENT_HANDSHAKE_TRAFFIC_SECRET dc0a1d0cf60746c7c031135485208a8f7befc0a72f6f1a68e5ea7734eb084946 2c6c6038cdb515f5ed140d424cc59d21e11b4aba4775b9b4b1cd3644f1988b73d467f3c623c8e35bb7c8e5e9b912585c\n"
	"CLIENT_TRAFFIC_SECRET_0 dc0a1d0cf60746c7c031135485208a8f7befc0a72f6f1a68e5ea7734eb084946 57273218ba3a2eb9de73c93bbe4d25ebbb4c3490981cd268edc59307387fcad69d638913196a0c7e7c803a0ba14d3346\n"
	"SERVER_HANDSHAKE_TRAFFIC_SECRET 3d316115560456fcb5ffd1c0812e3c80897ace98576f25f3d4e4acd7cec51f38 ce54fa8e4f5914371a115c8c3c2415c83998b85b1c9f5a5c3fed09355385ae3940e6221f0f0dcb0157c83e1e664bf029\n"
	"EXPORTER_SECRET 3d316115560456fcb5ffd1c0812e3c80897ace98576f25f3d4e4acd7cec51f38 574e7a5cc8e78fdea4fd65140fd1a52dc6755f1d79558f9b833e13b00cb35a521a0d7b61a9cf0dab2a589fcccf610ff9\n"
	"SERVER_TRAFFIC_SECRET_0 3d316115560456fcb5ffd1c0812e3c80897ace98576f25f3d4e4acd7cec51f38 7e4e78a036565abc76a6596ce734a94f30287b0976501a4e478a4e53f54b82ffd21d1d25fc81443cc285b05e73d123e0\n"
	"CLIENT_HANDSHAKE_TRAFFIC_SECRET 3d316115560456fcb5ffd1c0812e3c80897ace98576f25f3d4e4acd7cec51f38 156897b9827caecc4ed98636c1da8fe5b213927666f57866b20f4fc85a8c737e0bad9a96090f16f5be03d84b95b9bded\n"
	"CLIENT_TRAFFIC_SECRET_0 3d316115560456fcb5ffd1c0812e3c80897ace98576f25f3d4e4acd7cec51f38 68adf633e32a9272fbf496ede1e1a488c6710da7d79fa6c69e4b28c113d525c2d5cc9f57c4dacf1ed02e56362adb1d53\n"
	"CLIENT_RANDOM d29e340052c0db6ca4676634c46520a17c7d8679ee664fd940b4d764fbfe9587 465c4dabbef67ed28c3a8d0f900c19a58f59d6ca360542032069d498b42dec5284b3c2d303b469aad0bbc03df6c83adc\n"
	"CLIENT_RANDOM 92db97bd176ea28369786dae26dfa4900074f3e159eb3ed93f025bf5d5645024 3d7e96620242300280ff670f1aa215acc673fe5d9151095d1099a99b23ad2d112053d665ad5a3278a6ee2f18996b1a16\n"
	"CLIENT_RANDOM 4ead1cc1d0102a05f897f0e426532319fe6f1fe0559edc9323f7645120f61ac6 3fbc546a4cf58559ac46ca173fe57cffddc09f43ebc69bd85f29d7743a35147ae173c9352ef40a3010a943b05e81f1d7\n"
	"SERVER_HANDSHAKE_TRAFFIC_SECRET 25e64b0727864dce7fd4bb76da97761a46ff80b42702b487040ae49dba5b00f4 b53a3646cf146027a2beff525063eb43577ad56e93336320efefdf88ee3b1b46d825a109422d62d45d5b75292554ccf0\n"
	"EXPORTER_SECRET 25e64b0727864dce7fd4bb76da97761a46ff80b42702b487040ae49dba5b00f4 6b90d8200d5b55bcc8e8758e0908d8eeb2dbee975a78dcd9a60ad78d69ba37e42ee5f92c9472dae2fc28aba498a17d29\n"
	"SERVER_TRAFFIC_SECRET_0 25e64b0727864dce7fd4bb76da97761a46ff80b42702b487040ae49dba5b00f4 be1552ca2dc48d58afb781109114bf88d1ee0b2f824978801f804a76c7e49a2f107ee2b548cb3d8120d480c831348a6b\n"
	"CLIENT_HANDSHAKE_TRAFFIC_SECRET 25e64b0727864dce7fd4bb76da97761a46ff80b42702b487040ae49dba5b00f4 8aae209ca28303297dc242377700a4b4b0273d4c0ff3e369bf6c464dc168da7ef0e883c08da2566fc5c38782aa8625f4\n"
	"CLIENT_TRAFFIC_SECRET_0 25e64b0727864dce7fd4bb76da97761a46ff80b42702b487040ae49dba5b00f4 290f9665c40860601bf75d3690899bd15610c1b3b2a6e92bd09b046f4a22da7bb042edeab719f5173a1bd492cd738803\n";

static struct keylog *kl;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	kl = keylog_new(0);
	if (kl)
		keylog_load_buf(kl, "fuzz_decrypt", (const uint8_t *)keys, sizeof(keys) - 1);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tls_limits lim = TLS_LIMITS_DEFAULT;
	struct hs_record *r;
	int d;
	if (size < 1)
		return 0;
	lim.keylog = kl;
	if (data[0] & 1)
		lim.max_handshake = 1024;
	if (data[0] & 2)
		lim.max_scan = 256;
	r = fuzz_tls_run(data, size, &lim);
	if (!r)
		return 0;
	if (hs_rare(r)->dec)
		for (d = 0; d < 2; d++) {
			FUZZ_CHECK(hs_rare(r)->dec->n_hs[d] <= HS_DEC_TYPES && hs_rare(r)->dec->n_hs[d] <= hs_rare(r)->dec->total_hs[d]);
			FUZZ_CHECK(hs_rare(r)->dec->first_len[d] <= HS_DEC_FIRST);
			FUZZ_CHECK(hs_rare(r)->dec->alpn_len <= sizeof(hs_rare(r)->dec->alpn));
			FUZZ_CHECK(hs_rare(r)->dec->client_cert <= 2);
		}
	fuzz_record_free(r);
	return 0;
}

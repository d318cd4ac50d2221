/*
 * replay.c - runs one fuzz target's LLVMFuzzerTestOneInput over files,
 * without libFuzzer, so gcc (plain or with sanitizers) can replay every
 * committed corpus inside `make check`.
 *
 *   replay_<target> PATH...    each PATH a file or a directory (not recursive)
 *
 * Prints one line per file only on failure (a crash aborts the process,
 * which is the failure), then "<target>: N inputs replayed". Exit 0 when
 * every input ran, 2 when a path could not be read.
 *
 * Limits: inputs larger than 64 MiB are refused (libFuzzer's corpora stay
 * far below that).
 */
#include "fuzz/fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef FUZZ_TARGET_NAME
#define FUZZ_TARGET_NAME "fuzz"
#endif

#define REPLAY_MAX_BYTES (64u << 20)

/* Targets that need no set-up do not define it. */
__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv);

static unsigned long replayed;

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	uint8_t *buf;
	size_t n;
	if (!f) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return 2;
	}
	if (fstat(fileno(f), &st) != 0 || st.st_size < 0 || (uint64_t)st.st_size > REPLAY_MAX_BYTES) {
		fprintf(stderr, "replay: %s: unreadable or larger than %u bytes\n", path, REPLAY_MAX_BYTES);
		fclose(f);
		return 2;
	}
	/* a copy of exactly the file's size, so ASan sees reads past the end */
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf) {
		fclose(f);
		return 2;
	}
	n = fread(buf, 1, (size_t)st.st_size, f);
	fclose(f);
	if (getenv("REPLAY_VERBOSE"))
		fprintf(stderr, "replay: %s (%zu bytes)\n", path, n);
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	replayed++;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0, i;
	int rc = 0;
	if (!d) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return 2;
	}
	while ((e = readdir(d)) != NULL) {
		char *p;
		struct stat st;
		size_t len;
		if (e->d_name[0] == '.')
			continue;
		len = strlen(dir) + strlen(e->d_name) + 2;
		p = malloc(len);
		if (!p)
			break;
		snprintf(p, len, "%s/%s", dir, e->d_name);
		if (stat(p, &st) != 0 || !S_ISREG(st.st_mode)) {
			free(p);
			continue;
		}
		if (n == cap) {
			char **nn = realloc(names, (cap ? cap * 2 : 64) * sizeof(*names));
			if (!nn) {
				free(p);
				break;
			}
			names = nn;
			cap = cap ? cap * 2 : 64;
		}
		names[n++] = p;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);   /* the same order on every machine */
	for (i = 0; i < n; i++) {
		if (run_file(names[i]))
			rc = 2;
		free(names[i]);
	}
	free(names);
	return rc;
}

int main(int argc, char **argv)
{
	int i, rc = 0;
	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
			rc = 2;
			continue;
		}
		if (S_ISDIR(st.st_mode) ? run_dir(argv[i]) : run_file(argv[i]))
			rc = 2;
	}
	printf("%s: %lu inputs replayed\n", FUZZ_TARGET_NAME, replayed);
	return rc;
}

/*
 * check.h - the one unit-test harness (every test in tests/unit/).
 *
 * Each check counts as passed or failed; a failure prints its line, what
 * was checked and, for values, what came and what was wanted. A test's
 * main() ends with `return check_done();`, which prints the closing line
 * "N passed, N failed" that tests/run.sh adds up, and returns the exit
 * status (1 when anything failed).
 *
 *   CHECK(cond)              CHECKF(cond, fmt, ...)
 *   CHECK_INT(got, want)     CHECK_INTF(got, want, fmt, ...)
 *   CHECK_STR(got, want)     CHECK_STRF(got, want, fmt, ...)
 *
 * The F forms describe the check with printf arguments instead of the
 * expression's text. Two NULL strings are equal; NULL and a string are not.
 * Header-only: every test is one translation unit.
 */
#ifndef TLSWHY_TESTS_CHECK_H
#define TLSWHY_TESTS_CHECK_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int check_passed, check_failed;

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static inline int check_that(int ok, int line, const char *fmt, ...)
{
	va_list ap;
	if (ok) {
		check_passed++;
		return 1;
	}
	check_failed++;
	printf("FAIL line %d: ", line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	return 0;
}

static inline int check_int_ok(long long got, long long want)
{
	if (got != want)
		printf("  got  %lld (0x%llx)\n  want %lld (0x%llx)\n", got, (unsigned long long)got, want,
		       (unsigned long long)want);
	return got == want;
}

static inline int check_str_ok(const char *got, const char *want)
{
	int ok = (!got || !want) ? got == want : strcmp(got, want) == 0;
	if (!ok)
		printf("  got  \"%s\"\n  want \"%s\"\n", got ? got : "(null)", want ? want : "(null)");
	return ok;
}

/* Prints the closing line; the exit status for main(). */
static inline int check_done(void)
{
	printf("%d passed, %d failed\n", check_passed, check_failed);
	return check_failed ? 1 : 0;
}

#define CHECK(cond) check_that((cond) ? 1 : 0, __LINE__, "%s", #cond)
#define CHECKF(cond, ...) check_that((cond) ? 1 : 0, __LINE__, __VA_ARGS__)
#define CHECK_INT(got, want) \
	check_that(check_int_ok((long long)(got), (long long)(want)), __LINE__, "%s", #got " == " #want)
#define CHECK_INTF(got, want, ...) \
	check_that(check_int_ok((long long)(got), (long long)(want)), __LINE__, __VA_ARGS__)
#define CHECK_STR(got, want) check_that(check_str_ok((got), (want)), __LINE__, "%s", #got " == " #want)
#define CHECK_STRF(got, want, ...) check_that(check_str_ok((got), (want)), __LINE__, __VA_ARGS__)

#endif

/*
 * fuzz_rules.c - libFuzzer target: the rule-file loader (rules/load.c).
 *
 * Input: the text of one rule file (lists, knowledge-base entries, rules;
 * not NUL-terminated). rule_load_buffer() must accept it or fail with one
 * "file:line: reason" message, never read past `len`, never leak.
 * Seeds: the built-in rule files under rules/.
 */
#include "fuzz/fuzz.h"
#include "rules/rules.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rule_set *rs = rule_set_new();
	char err[512];
	int rc;
	if (!rs)
		return 0;
	err[0] = 0;
	rc = rule_load_buffer(rs, "fuzz.rules", (const char *)data, size, err, sizeof(err));
	FUZZ_CHECK(memchr(err, 0, sizeof(err)) != NULL);
	if (rc)
		FUZZ_CHECK(err[0] != 0);
	rule_set_free(rs);
	return 0;
}

# testlist.sh - sourced by the shell tests: the cases of one kind from
# tests/TESTLIST (format at its head), the kind column dropped, one case a
# line, tab-separated.
#
#   . tests/testlist.sh; testlist rule | while IFS=$'\t' read -r ...
testlist() {
	awk -F'\t' -v k="$1" '$1 == k { sub(/^[^\t]*\t/, ""); print }' "${TESTLIST:-tests/TESTLIST}"
}

# The "capture" cases as a table with a header row (the input of bench/gen.c
# and bench/check.py).
capture_table() {
	printf 'file\tconn_index\tstage\talerts\tversion\n'
	# the benchmark's traffic mix: the recordings before the look-alike corpus
	# (hs-*, tx-*: diagnosis test material, some cut or truncated on purpose)
	testlist capture | awk -F'\t' '$1 !~ /^(hs|tx)-/'
}

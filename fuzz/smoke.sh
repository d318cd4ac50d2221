#!/bin/bash
# smoke.sh - run each libFuzzer target for a while; on a crash, say so in a
# way that survives a throw-away CI machine.
#
#   fuzz/smoke.sh FB SECONDS TARGET...      (called by `make fuzz`)
#
# Every target runs (a crash in one does not hide the others). New inputs
# that grow coverage stay in FB/corpus/TARGET/; a crashing, leaking or
# timing-out input is written by libFuzzer to FB/crashes/TARGET-*. For each
# such file this prints its path, its size, the libFuzzer line that names
# the fault, and the input itself as base64 (up to 64 KiB), with the two
# commands that keep it in the committed corpus so `make check` replays it
# forever. The closing line counts targets: "fuzz smoke: N passed, N failed";
# exit 1 when any target failed. FUZZ_JOBS targets run at once (default:
# the CPUs), each for SECONDS; each worker's reports are printed together.
set -u
fb=$1 secs=$2
shift 2
mkdir -p "$fb/crashes"
pass=0 fail=0 failed=""

# one TARGET: fuzzes it, prints its report; exit 1 when it failed
one() {
	local t=$1 stamp log rc new f size name
	mkdir -p "$fb/corpus/$t" "fuzz/corpus/$t" "$fb/seeds/$t"
	echo "=== fuzz_$t, $secs s"
	stamp=$(mktemp)
	log="$fb/fuzz_$t.log"
	"$fb/fuzz_$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$fb/crashes/$t-" \
		"$fb/corpus/$t" "fuzz/corpus/$t" "$fb/seeds/$t" >"$log" 2>&1
	rc=$?
	grep -E '^(stat::number_of_executed_units|stat::new_units_added|Done )' "$log" || true
	new=$(find "$fb/crashes" -maxdepth 1 -type f -name "$t-*" -newer "$stamp" 2>/dev/null)
	rm -f "$stamp"
	if [ "$rc" -eq 0 ] && [ -z "$new" ]; then
		return 0
	fi
	echo "FAIL fuzz_$t (exit $rc); the fault as libFuzzer reported it:"
	grep -E 'ERROR: |runtime error|SUMMARY: |Test unit written|deadly signal|timeout after' "$log" | head -n 12
	for f in $new; do
		size=$(stat -c %s "$f")
		name=$(sha1sum "$f" | cut -d' ' -f1)
		echo "--- crashing input $f ($size bytes)"
		echo "reproduce:  $fb/fuzz_$t $f"
		echo "keep it:    cp $f fuzz/corpus/$t/$name   (then fix the bug; make check replays it)"
		if [ "$size" -le 65536 ]; then
			echo "from a CI log: base64 -d > fuzz/corpus/$t/$name <<'EOF'"
			base64 -w 76 "$f"
			echo "EOF"
		else
			echo "(over 64 KiB: not printed; take it from the machine)"
		fi
	done
	[ -n "$new" ] || tail -n 30 "$log"
	return 1
}

# FUZZ_JOBS workers at once (tests/workers.sh); a failed target's name goes
# to a file, read back for the closing lines
. "$(dirname "$0")/../tests/workers.sh"
rm -f "$fb/smoke.failed"
target() {
	if one "$1"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "$1" >> "$fb/smoke.failed"
	fi
}
workers_run "$(workers_jobs FUZZ_JOBS)" "$fb/smoke" "pass fail" target "$@" || fail=$((fail + 1))
[ -f "$fb/smoke.failed" ] && failed=" $(tr '\n' ' ' < "$fb/smoke.failed" | sed 's/ $//')"
rm -f "$fb/smoke.failed"
echo "fuzz smoke: $pass passed, $fail failed"
[ "$fail" -eq 0 ] || { echo "failing fuzz targets:$failed"; exit 1; }

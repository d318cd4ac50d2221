#!/bin/bash
# run.sh - every test of tlswhy, in one go (called by `make check`).
#
# Each suite prints its own closing line "N passed, N failed"; this script
# runs them all (a failing suite does not stop the others), says how many
# seconds each took ("--- NAME: N s"), adds the counts up and ends with
# the total on a line of its own. Exit 1 when anything failed. A test that
# leaves an untracked file behind or changes a tracked one fails the run
# too ("clean tree"; build directories are in .gitignore).
#
#   TLSWHY=./tlswhy UNIT="build/tests/test_x ..." tests/run.sh
set -u
cd "$(dirname "$0")/.."
TLSWHY=${TLSWHY:-./tlswhy}
B=${B:-build}
total_p=0 total_f=0 bad_suites=""

suite() {   # suite NAME CMD...
	local name=$1 out rc line p f t0
	shift
	echo "=== $name"
	t0=$(date +%s)
	out=$("$@" 2>&1)
	rc=$?
	printf '%s\n' "$out" | grep -v '^ok ' | tail -n 40
	# .ci/run's 45 minutes (README, "Layout") are spent here: each suite says its share
	echo "--- $name: $(($(date +%s) - t0)) s"
	line=$(printf '%s\n' "$out" | grep -E '^([A-Za-z-]+: )?[0-9]+ passed, [0-9]+ failed' | tail -n 1)
	if [ -n "$line" ]; then
		p=$(printf '%s' "$line" | sed -E 's/^([A-Za-z-]+: )?([0-9]+) passed, ([0-9]+) failed.*/\2/')
		f=$(printf '%s' "$line" | sed -E 's/^([A-Za-z-]+: )?([0-9]+) passed, ([0-9]+) failed.*/\3/')
	else
		p=0 f=0
	fi
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1   # a suite that failed without saying how many
	fi
	total_p=$((total_p + p))
	total_f=$((total_f + f))
	[ "$rc" -eq 0 ] || bad_suites="$bad_suites $name"
}

# What `git status` says, plus a digest of the changes and of the untracked
# files' contents, so a change to an already modified file is seen too.
tree_state() {
	git rev-parse --is-inside-work-tree >/dev/null 2>&1 || return 0
	git status --porcelain --untracked-files=all
	{ git diff HEAD --binary; git ls-files -z --others --exclude-standard |
		xargs -0r sha256sum; } 2>/dev/null | sha256sum
}
tree_before=$(tree_state)

for t in ${UNIT:-}; do
	suite "unit $(basename "$t")" "$t"
done
suite "recorded captures" python3 tests/pcap_cases.py "$TLSWHY" pcaps
suite "cli" bash tests/cli.sh "$TLSWHY"
suite "layout" python3 tests/layout.py
suite "inputs" bash tests/inputs.sh "$TLSWHY"
[ -f tests/keylog.sh ] && suite "key log" bash tests/keylog.sh "$TLSWHY"
[ -f tests/rules.sh ] && suite "rules" bash tests/rules.sh "$TLSWHY"
[ -f tests/corpus.py ] && suite "corpus" python3 tests/corpus.py "$TLSWHY"
suite "diagnosis premises" python3 tests/premises.py "$TLSWHY"
[ -f tests/fingerprints.py ] && suite "fingerprints" python3 tests/fingerprints.py "$TLSWHY"
[ -f tests/hostile.sh ] && suite "hostile input" bash tests/hostile.sh "$TLSWHY"
[ -f tests/reader.sh ] && suite "block reader vs libpcap" env B="$B" bash tests/reader.sh "$TLSWHY"
suite "fuzz corpus replay" bash tests/fuzz-replay.sh
[ -f tests/metamorphic.sh ] && suite "metamorphic" bash tests/metamorphic.sh "$TLSWHY"
[ -f tests/reports.sh ] && suite "reports" bash tests/reports.sh "$TLSWHY"
[ -f tests/siem.py ] && suite "siem (community id, ecs, alb)" python3 tests/siem.py "$TLSWHY" pcaps
[ -f tests/identity.sh ] && suite "client identity" bash tests/identity.sh "$TLSWHY"
[ -f tests/live.sh ] && suite "live capture" bash tests/live.sh "$TLSWHY"
[ -f tests/service.sh ] && suite "service" bash tests/service.sh "$TLSWHY"
[ -f tests/probe.sh ] && suite "probe" bash tests/probe.sh "$TLSWHY"
[ -f tests/threads.sh ] && suite "threads" env B="$B" bash tests/threads.sh "$TLSWHY"
[ -f tests/pgo.sh ] && suite "profile-built binary" env B="$B" bash tests/pgo.sh "$TLSWHY" "${PLAIN:-}"
[ -f bench/check.sh ] && suite "bench generator" env TLSWHY="$TLSWHY" B="$B" bash bench/check.sh

echo "=== clean tree"
tree_after=$(tree_state)
if [ "$tree_before" = "$tree_after" ]; then
	total_p=$((total_p + 1))
else
	echo "FAIL the tests left files behind or changed tracked files:"
	diff <(printf '%s\n' "$tree_before") <(printf '%s\n' "$tree_after") | grep '^[<>]' | head -n 20
	total_f=$((total_f + 1))
	bad_suites="$bad_suites clean-tree"
fi

echo "==="
[ -n "$bad_suites" ] && echo "failing suites:$bad_suites"
echo "$total_p passed, $total_f failed"
[ "$total_f" -eq 0 ] && [ -z "$bad_suites" ]

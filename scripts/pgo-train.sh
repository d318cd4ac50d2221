#!/bin/bash
# pgo-train.sh BIN GEN DIR: the training run of a profile-guided build
# (Makefile, "the shipped binary"). BIN is tlswhy built with
# -fprofile-generate; each run of it adds its counts to the .gcda files
# its objects were told of (build/pgo/prof/, -dumpdir). It reads:
#   - a capture made by bench/gen (GEN) from the bundled recordings, with
#     another seed and a fifteenth of the benchmark's connections, in every
#     report format, threaded as a run on this machine is;
#   - every bundled capture (pcaps/, pcaps/crafted/) in the default text
#     and JSON, with its key log where it has one.
# The capture is made in DIR and removed after. What BIN reports is not
# looked at: the tests judge the binary built from these counts.
set -eu
BIN=$1 GEN=$2 DIR=$3
mkdir -p "$DIR"
. tests/testlist.sh
capture_table > "$DIR/train.tsv"
"$GEN" -o "$DIR/train.pcap" -m "$DIR/train.man" -e "$DIR/train.tsv" -d pcaps -n 10000 -c 64 -a 4 -s 2 > /dev/null
# tlswhy exits 1 when it diagnoses a failure, 2 on a capture it cannot
# read (some crafted ones); only a crash stops the build
run() {
	local rc=0
	"$BIN" "$@" > /dev/null 2>&1 || rc=$?
	if [ "$rc" -ge 128 ]; then
		echo "pgo-train.sh: $BIN $* died (exit $rc)" >&2
		exit 1
	fi
}
for f in text markdown html json jsonl ecs; do
	run -r "$DIR/train.pcap" -F "$f" --input-hash never
done
run -r "$DIR/train.pcap" -F jsonl --detail full --input-hash never
for p in pcaps/*.pcap pcaps/*.pcapng pcaps/crafted/*.pcap pcaps/crafted/*.pcapng; do
	[ -f "$p" ] || continue
	k=${p%.*}.keylog
	if [ -f "$k" ]; then
		run -r "$p" --keylog "$k"
		run -r "$p" --keylog "$k" -F json
	else
		run -r "$p"
		run -r "$p" -F json
	fi
done
rm -f "$DIR/train.pcap" "$DIR/train.man" "$DIR/train.tsv"

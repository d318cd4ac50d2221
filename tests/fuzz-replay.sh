#!/bin/bash
# fuzz-replay.sh - every committed fuzz input (fuzz/corpus/<target>/: the
# seeds and every input that ever crashed) through its target's
# LLVMFuzzerTestOneInput, built with gcc (and with the sanitizers when
# SANITIZE is set, as in `make check SANITIZE=address,undefined`).
set -u
cd "$(dirname "$0")/.."
out=$(make -s fuzz-replay SANITIZE="${SANITIZE:-}" 2>&1)
rc=$?
printf '%s\n' "$out" | tail -n 20
n=$(printf '%s\n' "$out" | grep -c "inputs replayed")
if [ "$rc" -eq 0 ]; then
	echo "fuzz-replay: $n passed, 0 failed"
else
	echo "fuzz-replay: $n passed, 1 failed"
	exit 1
fi

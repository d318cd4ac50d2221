#!/bin/bash
# metamorphic.sh - the recorded captures through every craft transformation
# (tests/metamorphic.py does the work; this finds the binaries).
#
#   bash tests/metamorphic.sh [TLSWHY]      CRAFT=build/craft by default ($B/craft)
# Transformed files go to $B/metamorphic/ and are removed as they pass.
set -u
cd "$(dirname "$0")/.."
TLSWHY=${1:-${TLSWHY:-./tlswhy}}
B=${B:-build}
CRAFT=${CRAFT:-$B/craft}
if [ ! -x "$CRAFT" ]; then
	echo "metamorphic: $CRAFT is not built (make $CRAFT)"
	echo "0 passed, 1 failed"
	exit 1
fi
exec python3 tests/metamorphic.py "$TLSWHY" "$CRAFT" pcaps "$B/metamorphic"

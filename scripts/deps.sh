#!/bin/sh
# deps.sh - make sure the Debian packages tlswhy needs are installed.
#
#   scripts/deps.sh build   libraries to build tlswhy
#   scripts/deps.sh test    also the tools the test suite drives
#
# Installs what is missing with apt-get when run as root; otherwise prints
# the exact apt-get line and exits 1. Checks by dpkg status, so it costs
# nothing once everything is there.
set -eu
want="libpcap-dev libssl-dev libnet1-dev zlib1g-dev libzstd-dev pkg-config"
case "${1:-build}" in
build) ;;
test) want="$want openssl tcpdump tshark nginx-light curl iproute2 python3 python3-jsonschema cmark-gfm chromium clang libclang-rt-14-dev" ;;
*) echo "usage: $0 build|test" >&2; exit 2 ;;
esac
missing=""
for p in $want; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		# a package that provides the same tool is fine (nginx vs nginx-light)
		case "$p" in
		nginx-light) command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] && continue ;;
		python3) command -v python3 >/dev/null 2>&1 && continue ;;
		esac
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0
line="apt-get update && apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" -ne 0 ]; then
	echo "tlswhy: missing Debian packages:$missing" >&2
	echo "tlswhy: run as root:  $line" >&2
	exit 1
fi
echo "tlswhy: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer no without a prompt.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections 2>/dev/null || true
apt-get -o DPkg::Lock::Timeout=600 update -qq >&2 || true
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends$missing >&2

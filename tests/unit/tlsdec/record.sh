#!/usr/bin/env bash
# tests/unit/tlsdec/record.sh - records the suite captures test_tlsdec.c decrypts beyond pcaps/:
# one openssl s_client -> s_server -www connection each, with the client's key log beside it.
#
#   sudo bash tests/unit/tlsdec/record.sh      rewrites tests/unit/tlsdec/*.pcap and *.keylog
#
# Runs inside a private network namespace (unshare -n, needs root): lo only, MTU 1500, so nothing
# leaves the machine. The certificate is made at run time (RSA 2048, self-signed). Each case names
# the suite and options that pcaps/ does not cover: ChaCha20-Poly1305 (1.2 and 1.3), AES-CCM (1.2
# and 1.3), AES-128-GCM in 1.3, CBC with SHA-256 / SHA-384 MACs, MAC-then-encrypt (-no_etm) and
# encrypt_then_mac, TLS 1.0 CBC without ETM. Randoms and ports differ on every run.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [[ "${TLSDEC_IN_NS:-}" != 1 ]]; then
    [[ $EUID -eq 0 ]] || { echo "record.sh: needs root (network namespace, tcpdump)" >&2; exit 2; }
    exec env TLSDEC_IN_NS=1 unshare -n bash "$HERE/record.sh" "$@"
fi
ip link set lo up
ip link set lo mtu 1500
T=$(mktemp -d /tmp/tlsdec-record.XXXXXX)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$T"' EXIT
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" -days 30 \
    -subj /CN=localhost 2>/dev/null

# case NAME SERVER_OPTS CLIENT_OPTS
case_() {
    local name=$1 sopts=$2 copts=$3 port=4433
    # shellcheck disable=SC2086
    openssl s_server -accept 127.0.0.1:$port -cert "$T/cert.pem" -key "$T/key.pem" -www $sopts \
        >/dev/null 2>&1 &
    local spid=$!
    pids+=("$spid")
    for _ in $(seq 50); do ss -ltn | grep -q ":$port " && break; sleep 0.1; done
    tcpdump -i lo -s 0 -U --immediate-mode -w "$T/$name.pcap" "tcp port $port" 2>/dev/null &
    local tpid=$!
    pids+=("$tpid")
    sleep 0.5
    rm -f "$T/$name.keylog"
    # shellcheck disable=SC2086
    printf 'GET / HTTP/1.0\r\n\r\n' | timeout 10 openssl s_client -connect 127.0.0.1:$port -quiet \
        -ign_eof -keylogfile "$T/$name.keylog" $copts >/dev/null 2>&1 || true
    sleep 0.5
    kill -INT "$tpid"; wait "$tpid" 2>/dev/null || true
    kill "$spid"; wait "$spid" 2>/dev/null || true
    cp "$T/$name.pcap" "$T/$name.keylog" "$HERE/"
    echo "recorded $name"
}

case_ tls12-chacha20 "-tls1_2" "-tls1_2 -cipher ECDHE-RSA-CHACHA20-POLY1305"
case_ tls13-chacha20 "-ciphersuites TLS_CHACHA20_POLY1305_SHA256" "-tls1_3 -ciphersuites TLS_CHACHA20_POLY1305_SHA256"
case_ tls13-aes128-ccm "-ciphersuites TLS_AES_128_CCM_SHA256" "-tls1_3 -ciphersuites TLS_AES_128_CCM_SHA256"
case_ tls13-aes128-gcm "-ciphersuites TLS_AES_128_GCM_SHA256" "-tls1_3 -ciphersuites TLS_AES_128_GCM_SHA256"
case_ tls12-aes128-ccm "-tls1_2 -cipher AES128-CCM" "-tls1_2 -cipher AES128-CCM"
case_ tls12-cbc-sha256-mte "-tls1_2" "-tls1_2 -cipher ECDHE-RSA-AES128-SHA256 -no_etm"
case_ tls12-cbc-sha384-etm "-tls1_2" "-tls1_2 -cipher ECDHE-RSA-AES256-SHA384"
case_ tls10-cbc-sha1-mte "-cipher ALL:@SECLEVEL=0" "-tls1 -cipher ECDHE-RSA-AES128-SHA:@SECLEVEL=0 -no_etm"

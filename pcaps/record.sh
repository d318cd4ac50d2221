#!/usr/bin/env bash
# pcaps/record.sh -- record real TLS handshakes (OpenSSL, nginx, curl, python) for tlswhy's tests.
#
#   bash pcaps/record.sh                         regenerate pcaps/*.pcap, *.keylog, README.md; check
#                                                every capture against the "capture" cases of tests/TESTLIST
#   RECORD_UPDATE_EXPECTED=1 bash pcaps/record.sh   also rewrite those cases from tshark (review
#                                                the diff before committing it)
#   RECORD_ONLY_NEW=1 bash pcaps/record.sh       record and check everything, but install only the
#                                                captures pcaps/ does not have yet (the README is
#                                                rewritten from the installed files)
#
# What it does
#   - Re-executes itself inside a private network namespace (unshare -n, needs root). Inside, lo is
#     127.0.0.1 and ::1 only, MTU 1500 and GSO limited to one segment, so a certificate chain is cut
#     into real 1448/1428-byte TCP segments instead of one 64 KB super-packet. No traffic ever leaves
#     the namespace, and nothing outside it can see or disturb the recordings.
#   - Makes every certificate at run time in a temp dir (openssl req + openssl ca; the expired one
#     with -startdate/-enddate, no clock faking).
#   - Per capture: start the server(s) in the background, wait until they listen, start tcpdump
#     (--immediate-mode -U -s 0, port filter), run the client(s) under `timeout`, stop tcpdump with
#     SIGINT, stop the servers by PID. Every background PID is remembered and killed by the EXIT trap.
#   - Client keys are logged (s_client -keylogfile, SSLKEYLOGFILE for curl, python keylog_filename) to
#     pcaps/<name>.keylog, so tests can decrypt with `tshark -o tls.keylog_file:<name>.keylog`.
#   - Derives, with tshark, each connection's stage / alerts / version and compares them with
#     the "capture" cases of tests/TESTLIST (exit 1 on a difference), then writes pcaps/README.md.
#
# Limits: randoms, ports of the client side and times differ on every run; stages, alerts, versions
# and handshake message sequences do not. Timing-based cases (silent server, idle close) use
# second-scale timers with margins. Total run time is about a minute.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

if [[ "${TLSWHY_RECORD_IN_NS:-}" != 1 ]]; then
    if [[ $EUID -ne 0 ]]; then
        echo "record.sh: needs root (network namespace, tcpdump)" >&2
        exit 2
    fi
    for tool in unshare ip ss tcpdump tshark openssl nginx curl python3 timeout haproxy nft; do
        command -v "$tool" >/dev/null || { echo "record.sh: missing tool: $tool" >&2; exit 2; }
    done
    exec env TLSWHY_RECORD_IN_NS=1 unshare -n bash "$HERE/record.sh" "$@"
fi

# ---------------------------------------------------------------------------------------------------
# Inside the namespace from here on.
# ---------------------------------------------------------------------------------------------------
OUT=$HERE
T=$(mktemp -d /tmp/tlswhy-record.XXXXXX)
STAGE=$T/stage          # new captures land here; moved into pcaps/ only when all of them succeeded
LOG=$T/log
mkdir -p "$STAGE" "$LOG"
PIDS=()

cleanup() {
    local rc=$? pid
    for pid in "${PIDS[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
    done
    if [[ $rc -ne 0 && -d $LOG ]]; then
        echo "record.sh: failed (rc=$rc); logs of the last case:" >&2
        tail -n 20 "$LOG"/last.log 2>/dev/null >&2 || true
    fi
    rm -rf "$T"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() { echo "record.sh: $*" >&2; exit 1; }
note() { printf '  %s\n' "$*"; }

ip link set lo up
ip link set lo mtu 1500
ip link set lo gso_max_segs 1 gso_max_size 1500   # no GSO super-packets on loopback
sysctl -q -w net.ipv6.conf.lo.disable_ipv6=0 || true
ip -6 addr show dev lo | grep -q '::1' || ip -6 addr add ::1/128 dev lo

# -- process helpers -------------------------------------------------------------------------------
# bg LOGNAME cmd...   start cmd in the background (stdin /dev/null), remember its PID in $BG_PID
bg() {
    local name=$1; shift
    "$@" </dev/null >"$LOG/$name.out" 2>&1 &
    BG_PID=$!
    PIDS+=("$BG_PID")
}

# stop PID [SIGNAL]: signal one process we started and wait for it
stop() {
    local pid=$1 sig=${2:-TERM}
    kill -"$sig" "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

# wait_listen PORT: wait until a TCP listener exists on PORT (any address), max 5 s
wait_listen() {
    local i
    for i in $(seq 50); do
        [[ -n $(ss -Hltn "sport = :$1") ]] && return 0
        sleep 0.1
    done
    die "nothing listens on port $1 (see $LOG)"
}

# cap_start NAME BPF: start tcpdump into $STAGE/NAME.pcap and wait until it is capturing
CAP_PID=
CAP_NAME=
cap_start() {
    CAP_NAME=$1
    : >"$LOG/$1.tcpdump"
    tcpdump --immediate-mode -Z root -i lo -s 0 -U -n -w "$STAGE/$1.pcap" "$2" \
        </dev/null >/dev/null 2>"$LOG/$1.tcpdump" &
    CAP_PID=$!
    PIDS+=("$CAP_PID")
    local i
    for i in $(seq 50); do
        grep -q 'listening on' "$LOG/$1.tcpdump" && { sleep 0.1; return 0; }
        sleep 0.1
    done
    die "tcpdump did not start for $1"
}

# cap_stop: let the last FIN/ACKs arrive, then stop tcpdump with SIGINT
cap_stop() {
    sleep "${1:-0.4}"
    stop "$CAP_PID" INT
    [[ -s $STAGE/$CAP_NAME.pcap ]] || die "empty capture $CAP_NAME"
    CAP_PID=
}

# -- certificates ----------------------------------------------------------------------------------
PKI=$T/pki
mkdir -p "$PKI/newcerts"
: >"$PKI/index.txt"
echo 1000 >"$PKI/serial"
cat >"$PKI/ca.cnf" <<EOF
[ ca ]
default_ca = CA_default
[ CA_default ]
dir = $PKI
database = \$dir/index.txt
new_certs_dir = \$dir/newcerts
serial = \$dir/serial
default_md = sha256
policy = policy_any
unique_subject = no
email_in_dn = no
[ policy_any ]
commonName = supplied
organizationName = optional
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ v3_ca ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ v3_leaf ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = \$ENV::SAN
EOF

# key NAME TYPE: rsa1024 | rsa2048 | rsa4096 | p256 | ed25519
key() {
    case $2 in
        rsa*) openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:${2#rsa}" -out "$PKI/$1.key" 2>/dev/null ;;
        p256) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$PKI/$1.key" 2>/dev/null ;;
        ed25519) openssl genpkey -algorithm ED25519 -out "$PKI/$1.key" 2>/dev/null ;;
    esac
}
# root NAME TYPE CN: self-signed CA
root() {
    key "$1" "$2"
    openssl req -config "$PKI/ca.cnf" -new -x509 -key "$PKI/$1.key" -subj "/O=tlswhy test/CN=$3" \
        -days 3650 -extensions v3_ca -out "$PKI/$1.pem" 2>/dev/null
}
# sign NAME TYPE CN ISSUER EXT SAN [openssl ca validity args]: CSR, then openssl ca with the issuer's key
sign() {
    local name=$1 type=$2 cn=$3 issuer=$4 ext=$5 san=$6; shift 6
    local validity=("$@")
    [[ ${#validity[@]} -gt 0 ]] || validity=(-days 825)
    key "$name" "$type"
    openssl req -config "$PKI/ca.cnf" -new -key "$PKI/$name.key" -subj "/O=tlswhy test/CN=$cn" \
        -out "$PKI/$name.csr" 2>/dev/null
    SAN=$san openssl ca -batch -notext -config "$PKI/ca.cnf" -cert "$PKI/$issuer.pem" \
        -keyfile "$PKI/$issuer.key" -extensions "$ext" -in "$PKI/$name.csr" -out "$PKI/$name.pem" \
        "${validity[@]}" >"$LOG/ca-$name.log" 2>&1 \
        || die "openssl ca failed for $name: $(tail -n 3 "$LOG/ca-$name.log")"
}

echo "record.sh: making certificates"
export SAN=DNS:unused   # ca.cnf reads $ENV::SAN when loaded
GOODSAN="DNS:target.example,IP:127.0.0.1,IP:::1"
root ca-root rsa2048 "tlswhy Test Root CA"
sign ca-int rsa2048 "tlswhy Test Intermediate CA" ca-root v3_ca "DNS:unused"
sign leaf rsa2048 target.example ca-int v3_leaf "$GOODSAN"
sign expired rsa2048 target.example ca-int v3_leaf "$GOODSAN" -startdate 20200101000000Z -enddate 20210101000000Z
sign wrongname rsa2048 wrong.example ca-int v3_leaf "DNS:wrong.example"
sign ecdsa p256 target.example ca-int v3_leaf "$GOODSAN"
sign ed25519 ed25519 target.example ca-int v3_leaf "$GOODSAN"   # Ed25519 leaf, RSA-signed
sign rsa1024 rsa1024 target.example ca-int v3_leaf "$GOODSAN"   # below OpenSSL 3's security level 2
key selfsigned rsa2048
openssl req -config "$PKI/ca.cnf" -new -x509 -key "$PKI/selfsigned.key" -subj "/O=tlswhy test/CN=target.example" \
    -days 825 -addext "subjectAltName=$GOODSAN" -addext "basicConstraints=critical,CA:false" \
    -out "$PKI/selfsigned.pem" 2>/dev/null
# long chain: 4096-bit root, 3 intermediates, a leaf with 120 names -> about 9 KB of certificates
root long-root rsa4096 "tlswhy Long Root CA"
sign long-int1 rsa4096 "tlswhy Long Intermediate 1" long-root v3_ca "DNS:unused"
sign long-int2 rsa4096 "tlswhy Long Intermediate 2" long-int1 v3_ca "DNS:unused"
sign long-int3 rsa4096 "tlswhy Long Intermediate 3" long-int2 v3_ca "DNS:unused"
LONGSAN="DNS:target.example"
for i in $(seq -w 1 120); do LONGSAN+=",DNS:host-$i.tenant-$i.target.example"; done
sign long-leaf rsa4096 target.example long-int3 v3_leaf "$LONGSAN"
cat "$PKI/long-int3.pem" "$PKI/long-int2.pem" "$PKI/long-int1.pem" >"$PKI/long-chain.pem"
cat "$PKI/leaf.pem" "$PKI/ca-int.pem" >"$PKI/leaf-fullchain.pem"    # for nginx

# -- peers -----------------------------------------------------------------------------------------
# ELBSecurityPolicy-2016-08 in AWS order: C02B C02F C023 C027 C009 C013 C02C C030 C024 C028 C014 C00A
# 009C 003C 002F 009D 003D 0035 (OpenSSL adds the SCSV 00FF at the end, as it always does)
ALB_CIPHERS=ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES256-SHA384:ECDHE-RSA-AES256-SHA384:ECDHE-RSA-AES256-SHA:ECDHE-ECDSA-AES256-SHA:AES128-GCM-SHA256:AES128-SHA256:AES128-SHA:AES256-GCM-SHA384:AES256-SHA256:AES256-SHA
# the same list without the ECDSA suites
ALB_RSA_CIPHERS=ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-SHA256:ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-SHA384:ECDHE-RSA-AES256-SHA:AES128-GCM-SHA256:AES128-SHA256:AES128-SHA:AES256-GCM-SHA384:AES256-SHA256:AES256-SHA
LEGACY='DEFAULT:@SECLEVEL=0'
GET=$'GET / HTTP/1.0\r\nHost: target.example\r\n\r\n'
KEYLOG=        # keylog file of the current case (set by cap_start callers via newcase)

# s_server with the good RSA chain unless -cert is given; extra args follow
server() {
    local name=$1 port=$2; shift 2
    local certargs=(-cert "$PKI/leaf.pem" -key "$PKI/leaf.key" -cert_chain "$PKI/ca-int.pem")
    [[ " $* " == *" -cert "* ]] && certargs=()
    bg "$name-server" openssl s_server -accept "$port" -www "${certargs[@]}" "$@"
    wait_listen "${port##*:}"
}

# client HOST:PORT args...: s_client with a GET on stdin, waits for the server to close (-ign_eof)
client() {
    local hp=$1; shift
    printf '%s' "$GET" | timeout "${CLIENT_TIMEOUT:-8}" openssl s_client -connect "$hp" -ign_eof \
        -keylogfile "$KEYLOG" "$@" >>"$LOG/last.log" 2>&1 || true
}

# alb HOST:PORT: an ALB-like client on ELBSecurityPolicy-2016-08: TLS 1.0-1.2, 18 suites, no SNI
alb() {
    local hp=$1; shift
    client "$hp" -noservername -min_protocol TLSv1 -max_protocol TLSv1.2 -cipher "$ALB_CIPHERS:@SECLEVEL=0" "$@"
}

PY=$T/peer.py
cat >"$PY" <<'EOF'
# tiny TCP/TLS peers for the cases OpenSSL's tools cannot play
import os, socket, ssl, struct, sys, time
mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
fam = socket.AF_INET6 if ":" in host else socket.AF_INET

def listener(backlog=8):
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port))
    s.listen(backlog)
    return s

if mode in ("rst", "fin", "silent"):          # server: accept, read the ClientHello, then ...
    s = listener()
    c, _ = s.accept()
    c.recv(65536)
    if mode == "rst":
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        c.close()
    elif mode == "fin":
        c.close()
    while True:
        time.sleep(60)
elif mode == "backlog":                        # server: backlog 0, never accept -> queue full after one
    s = listener(0)
    while True:
        time.sleep(60)
elif mode == "hold":                           # client: connect, send nothing, stay
    c = socket.create_connection((host, port))
    while True:
        time.sleep(60)
elif mode == "mute":                           # client: connect, send nothing, close after 1 s
    c = socket.create_connection((host, port))
    time.sleep(1.0)
    c.close()
elif mode == "idle-race":                      # client: TLS 1.2, one request, idle past the server's
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # keepalive_timeout, then a second request
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.keylog_filename = os.environ["KEYLOG"]
    c = ctx.wrap_socket(socket.create_connection((host, port)), server_hostname="target.example")
    req = b"GET / HTTP/1.1\r\nHost: target.example\r\n\r\n"
    c.sendall(req)
    buf = b""
    while b"\r\n\r\n" not in buf or not buf.endswith(b"ok\n"):
        d = c.recv(4096)
        if not d:
            break
        buf += d
    time.sleep(float(sys.argv[4]))
    try:
        c.sendall(req)                         # the server has closed; its kernel answers with RST
        c.recv(4096)
    except (OSError, ssl.SSLError):
        pass
    c.close()
elif mode == "rst-full":                       # server: optional MSS argv[4] (TCP_MAXSEG on the
    s = socket.socket(fam, socket.SOCK_STREAM)  # listener: its SYN-ACK announces it); per connection
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # read one whole TLS record (the
    if len(sys.argv) > 4 and sys.argv[4] != "-":             # ClientHello, in however many
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, int(sys.argv[4]))  # segments), save it
    s.bind((host, port))                                     # to argv[5] if given, close with RST
    s.listen(8)
    while True:
        c, _ = s.accept()
        buf = b""
        while len(buf) < 5 or len(buf) < 5 + struct.unpack("!H", buf[3:5])[0]:
            d = c.recv(65536)
            if not d:
                break
            buf += d
        if len(sys.argv) > 5:
            with open(sys.argv[5], "wb") as f:
                f.write(buf)
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        c.close()
elif mode == "pq-client":                      # client: a real ClientHello (argv[4], saved by rst-full)
    import random                              # rewritten to offer X25519MLKEM768 (0x11EC) first in
    ch = open(sys.argv[4], "rb").read()        # supported_groups, with a 1216-byte key share for it
    assert ch[0] == 0x16 and ch[5] == 1, "not a ClientHello record"
    body = ch[9:]
    p = 2 + 32
    p += 1 + body[p]                                        # session id
    p += 2 + struct.unpack("!H", body[p:p + 2])[0]          # cipher suites
    p += 1 + body[p]                                        # compression methods
    head, exts, q, out = body[:p], body[p + 2:], 0, b""
    rng = random.SystemRandom()
    # the hybrid share (draft-ietf-tls-ecdhe-mlkem, ML-KEM part first): an ML-KEM-768 encapsulation
    # key (768 coefficients < 3329 packed in 12 bits, then a 32-byte seed) and an X25519 value
    coef = [rng.randrange(3329) for _ in range(768)]
    ek = b"".join(bytes([a & 0xFF, (a >> 8) | ((b & 0xF) << 4), b >> 4]) for a, b in zip(coef[::2], coef[1::2]))
    share = ek + os.urandom(32) + os.urandom(32)
    assert len(share) == 1216
    seen = set()
    while q < len(exts):
        typ, ln = struct.unpack("!HH", exts[q:q + 4])
        data = exts[q + 4:q + 4 + ln]
        q += 4 + ln
        if typ == 10:                                       # supported_groups: 0x11EC first
            data = struct.pack("!H", len(data)) + b"\x11\xec" + data[2:]
            seen.add(typ)
        elif typ == 51:                                     # key_share: the hybrid share first
            entry = struct.pack("!HH", 0x11EC, len(share)) + share
            data = struct.pack("!H", len(data) - 2 + len(entry)) + entry + data[2:]
            seen.add(typ)
        out += struct.pack("!HH", typ, len(data)) + data
    assert seen == {10, 51}, "template ClientHello lacks supported_groups or key_share"
    body = head + struct.pack("!H", len(out)) + out
    hs = b"\x01" + struct.pack("!I", len(body))[1:] + body
    rec = ch[:3] + struct.pack("!H", len(hs)) + hs
    c = socket.create_connection((host, port))
    c.sendall(rec)                                          # one write: the kernel cuts it at the MSS
    c.settimeout(5)
    try:
        while c.recv(65536):
            pass
    except OSError:
        pass
    c.close()
EOF

pypeer() { bg "$1" python3 "$PY" "${@:2}"; }

# nginx: one instance, one server block per case
NGX=$T/nginx
mkdir -p "$NGX/logs" "$NGX/tmp"
P_NGX_ALB=44331 P_NGX_DEMO=44332 P_NGX_VERIFY=44333 P_NGX_PLAIN=44334 P_NGX_REJECT=44335 P_NGX_IDLE=44336
cat >"$NGX/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
pid $NGX/nginx.pid;
error_log $NGX/logs/error.log info;
events { worker_connections 64; }
http {
    access_log $NGX/logs/access.log;
    client_body_temp_path $NGX/tmp/body;
    proxy_temp_path $NGX/tmp/proxy;
    fastcgi_temp_path $NGX/tmp/fastcgi;
    uwsgi_temp_path $NGX/tmp/uwsgi;
    scgi_temp_path $NGX/tmp/scgi;
    default_type text/plain;
    ssl_certificate $PKI/leaf-fullchain.pem;
    ssl_certificate_key $PKI/leaf.key;
    ssl_session_tickets off;
    server {    # healthy TLS 1.2 target
        listen 127.0.0.1:$P_NGX_ALB ssl;
        ssl_protocols TLSv1.2;
        location / { return 200 "ok\n"; }
    }
    server {    # healthy TLS 1.2 target in the demo
        listen 127.0.0.1:$P_NGX_DEMO ssl;
        ssl_protocols TLSv1.2;
        location / { return 200 "ok\n"; }
    }
    server {    # mTLS target: handshake completes, then HTTP 400
        listen 127.0.0.1:$P_NGX_VERIFY ssl;
        ssl_protocols TLSv1.2;
        ssl_verify_client on;
        ssl_client_certificate $PKI/ca-root.pem;
        location / { return 200 "ok\n"; }
    }
    server {    # plain HTTP on the port the load balancer talks TLS to
        listen 127.0.0.1:$P_NGX_PLAIN;
        location / { return 200 "ok\n"; }
    }
    server {    # requires SNI
        listen 127.0.0.1:$P_NGX_REJECT ssl default_server;
        ssl_reject_handshake on;
    }
    server {
        listen 127.0.0.1:$P_NGX_REJECT ssl;
        server_name target.example;
        location / { return 200 "ok\n"; }
    }
    server {    # short keep-alive: closes an idle connection after 1 s
        listen 127.0.0.1:$P_NGX_IDLE ssl;
        ssl_protocols TLSv1.2;
        keepalive_timeout 1s;
        location / { return 200 "ok\n"; }
    }
}
EOF
nginx -t -q -p "$NGX/" -e "$NGX/logs/error.log" -c "$NGX/nginx.conf" 2>"$LOG/nginx-t.log" \
    || die "nginx -t: $(cat "$LOG/nginx-t.log")"
bg nginx nginx -p "$NGX/" -e "$NGX/logs/error.log" -c "$NGX/nginx.conf"
NGX_PID=$BG_PID
for p in $P_NGX_ALB $P_NGX_DEMO $P_NGX_VERIFY $P_NGX_PLAIN $P_NGX_REJECT $P_NGX_IDLE; do wait_listen "$p"; done

# -- cases -----------------------------------------------------------------------------------------
# Each case: describe NAME "how made" "what the handshake should show"; then record it.
NAMES=()
declare -A HOW WHAT
describe() {
    NAMES+=("$1"); HOW[$1]=$2; WHAT[$1]=$3
    KEYLOG=$STAGE/$1.keylog
    : >"$KEYLOG"
    : >"$LOG/last.log"
    echo "record.sh: $1"
}
# simple NAME PORT "server args" "client function + args" : one s_server, one client
simple() {
    local name=$1 port=$2 sargs=$3; shift 3
    # shellcheck disable=SC2086
    server "$name" "127.0.0.1:$port" $sargs
    local spid=$BG_PID
    cap_start "$name" "tcp port $port"
    "$@"
    cap_stop
    stop "$spid"
}

describe tls10-ok "s_server -tls1 and s_client -tls1, both -cipher '$LEGACY'; GET / to -www" \
    "TLS 1.0 full handshake (RSA chain leaf+intermediate), ECDHE-RSA-AES256-SHA, HTTP status page, close_notify both ways (encrypted)"
simple tls10-ok 44301 "-tls1 -cipher $LEGACY" client 127.0.0.1:44301 -tls1 -cipher "$LEGACY"

describe tls11-ok "s_server -tls1_1 and s_client -tls1_1, both -cipher '$LEGACY'" \
    "TLS 1.1 full handshake, ECDHE-RSA-AES256-SHA"
simple tls11-ok 44302 "-tls1_1 -cipher $LEGACY" client 127.0.0.1:44302 -tls1_1 -cipher "$LEGACY"

describe tls12-ok "s_server -tls1_2, s_client -tls1_2 -servername target.example" \
    "TLS 1.2 full handshake with SNI, ECDHE-RSA-AES256-GCM-SHA384, NewSessionTicket"
simple tls12-ok 44303 "-tls1_2" client 127.0.0.1:44303 -tls1_2 -servername target.example

describe tls13-ok "s_server and s_client defaults (TLS 1.3), -servername target.example" \
    "TLS 1.3: ClientHello/ServerHello in clear (supported_versions 0x0304, X25519 key share), TLS_AES_256_GCM_SHA384, rest encrypted (application_data records), two NewSessionTickets"
simple tls13-ok 44304 "" client 127.0.0.1:44304 -servername target.example

describe tls13-hello-retry "s_server -groups P-256; s_client -groups X25519:P-256 (key_share for X25519 only)" \
    "TLS 1.3 HelloRetryRequest (ServerHello with the HRR random, key_share group secp256r1), second ClientHello with a P-256 key share, then a normal TLS 1.3 handshake"
simple tls13-hello-retry 44305 "-groups P-256" client 127.0.0.1:44305 -servername target.example -groups X25519:P-256

describe tls12-resumption "s_server -tls1_2 (tickets on); s_client -tls1_2 -sess_out, then -sess_in" \
    "two connections: 1 full TLS 1.2 handshake with NewSessionTicket; 2 abbreviated handshake: ClientHello with the ticket (SessionTicket extension), then ServerHello, ChangeCipherSpec, Finished from the server first; no Certificate, no ServerKeyExchange"
server tls12-resumption 127.0.0.1:44306 -tls1_2
SPID=$BG_PID
cap_start tls12-resumption "tcp port 44306"
client 127.0.0.1:44306 -tls1_2 -sess_out "$T/sess12"
client 127.0.0.1:44306 -tls1_2 -sess_in "$T/sess12"
cap_stop; stop "$SPID"

describe tls13-psk-resumption "s_server (TLS 1.3); s_client -sess_out, then -sess_in" \
    "two TLS 1.3 connections: 1 full handshake with NewSessionTickets (encrypted); 2 ClientHello with pre_shared_key and psk_key_exchange_modes, ServerHello with pre_shared_key (no Certificate inside the encrypted part)"
server tls13-psk-resumption 127.0.0.1:44307
SPID=$BG_PID
cap_start tls13-psk-resumption "tcp port 44307"
client 127.0.0.1:44307 -sess_out "$T/sess13"
client 127.0.0.1:44307 -sess_in "$T/sess13"
cap_stop; stop "$SPID"

describe tls12-long-chain "s_server -tls1_2 with a 4096-bit RSA chain: leaf (120 SANs) + 3 intermediates; s_client -tls1_2" \
    "TLS 1.2 with a Certificate message of about 9 KB carried in several 1448-byte TCP segments (MTU 1500), 4 certificates"
simple tls12-long-chain 44308 "-tls1_2 -cert $PKI/long-leaf.pem -key $PKI/long-leaf.key -cert_chain $PKI/long-chain.pem" \
    client 127.0.0.1:44308 -tls1_2

describe tls12-ipv6 "s_server -tls1_2 on [::1]; s_client -tls1_2 to [::1]" \
    "TLS 1.2 full handshake over IPv6 loopback"
server tls12-ipv6 "[::1]:44309" -tls1_2
SPID=$BG_PID
cap_start tls12-ipv6 "tcp port 44309"
client "[::1]:44309" -tls1_2
cap_stop; stop "$SPID"

describe alb-tls12-ok "nginx TLS 1.2 target (leaf+intermediate); ALB-like s_client: ELBSecurityPolicy-2016-08 suites in AWS order, TLS 1.0-1.2, -noservername" \
    "ClientHello without SNI and without supported_versions (legacy_version 0x0303), exactly the 18 suites + SCSV 00FF; ECDHE-RSA-AES128-GCM-SHA256 (C02F, first RSA suite); HTTP 200"
cap_start alb-tls12-ok "tcp port $P_NGX_ALB"
alb "127.0.0.1:$P_NGX_ALB"
cap_stop

describe tls12-keepalive-idle-close "nginx TLS 1.2 target with keepalive_timeout 1s; python ssl client: GET, idle 1.6 s, second GET" \
    "handshake complete, one request/response; after 1 s idle nginx closes (encrypted close_notify, then FIN); the client's second request 0.6 s later gets a RST from the server (the keep-alive race behind ALB 502s, not a TLS failure)"
cap_start tls12-keepalive-idle-close "tcp port $P_NGX_IDLE"
KEYLOG=$KEYLOG timeout 8 python3 "$PY" idle-race 127.0.0.1 "$P_NGX_IDLE" 1.6 >>"$LOG/last.log" 2>&1 || true
cap_stop

# -- failures --------------------------------------------------------------------------------------
describe alb-no-shared-cipher "s_server offering only ECDHE-RSA-CHACHA20-POLY1305 and DHE-RSA-AES256-GCM-SHA384; ALB-like client" \
    "ClientHello then a plaintext fatal alert handshake_failure (40) from the server, no ServerHello"
simple alb-no-shared-cipher 44310 "-cipher ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES256-GCM-SHA384" alb 127.0.0.1:44310

describe alb-vs-tls13-only "s_server -tls1_3; ALB-like client (TLS 1.2 max, no supported_versions)" \
    "ClientHello then a plaintext fatal alert protocol_version (70) from the server (record version 0x0303), no ServerHello"
simple alb-vs-tls13-only 44311 "-tls1_3" alb 127.0.0.1:44311

describe tls11-only-vs-tls12-client "s_server -min_protocol TLSv1 -max_protocol TLSv1.1 -cipher '$LEGACY'; s_client -min_protocol TLSv1.2" \
    "server cannot meet TLS 1.2+: OpenSSL's server sends a fatal protocol_version (70) alert right after the ClientHello"
simple tls11-only-vs-tls12-client 44312 "-min_protocol TLSv1 -max_protocol TLSv1.1 -cipher $LEGACY" \
    client 127.0.0.1:44312 -min_protocol TLSv1.2

describe client-rejects-expired "s_server -tls1_2 with a certificate valid 2020-01-01..2021-01-01 (+intermediate); s_client -tls1_2 -verify_return_error -CAfile root" \
    "full server flight (ServerHello, Certificate, ServerKeyExchange, ServerHelloDone), then a fatal alert certificate_expired (45) from the client"
simple client-rejects-expired 44313 "-tls1_2 -cert $PKI/expired.pem -key $PKI/expired.key -cert_chain $PKI/ca-int.pem" \
    client 127.0.0.1:44313 -tls1_2 -servername target.example -verify_return_error -CAfile "$PKI/ca-root.pem"

describe client-rejects-self-signed "s_server -tls1_2 with a self-signed leaf; s_client -tls1_2 -verify_return_error -CAfile root" \
    "server flight, then a fatal alert unknown_ca (48) from the client"
simple client-rejects-self-signed 44314 "-tls1_2 -cert $PKI/selfsigned.pem -key $PKI/selfsigned.key" \
    client 127.0.0.1:44314 -tls1_2 -servername target.example -verify_return_error -CAfile "$PKI/ca-root.pem"

describe client-rejects-wrong-name "s_server -tls1_2 with a leaf for wrong.example; s_client -tls1_2 -verify_return_error -verify_hostname target.example -CAfile root" \
    "server flight, then a fatal alert bad_certificate (42) from the client (OpenSSL's alert for a host name mismatch)"
simple client-rejects-wrong-name 44315 "-tls1_2 -cert $PKI/wrongname.pem -key $PKI/wrongname.key -cert_chain $PKI/ca-int.pem" \
    client 127.0.0.1:44315 -tls1_2 -servername target.example -verify_hostname target.example -verify_return_error -CAfile "$PKI/ca-root.pem"

describe client-rejects-incomplete-chain "s_server -tls1_2 sending the leaf only (no intermediate); s_client -tls1_2 -verify_return_error -CAfile root" \
    "Certificate message with one certificate, then a fatal alert unknown_ca (48) from the client (issuer not found)"
simple client-rejects-incomplete-chain 44316 "-tls1_2 -cert $PKI/leaf.pem -key $PKI/leaf.key" \
    client 127.0.0.1:44316 -tls1_2 -servername target.example -verify_return_error -CAfile "$PKI/ca-root.pem"

describe tls13-curl-rejects-wrong-name "s_server -num_tickets 0 (TLS 1.3) with a leaf for wrong.example; curl --cacert root https://target.example (--resolve to 127.0.0.1)" \
    "TLS 1.3, complete on the wire: curl (OpenSSL backend) checks the host name after the handshake, so it sends its Finished, then close_notify (encrypted) and FIN; the server answers with its own close_notify, which meets a closed socket: RST from the client. No alert names the failure. (-num_tickets 0 keeps a NewSessionTicket from racing the close.)"
server tls13-curl-rejects-wrong-name 127.0.0.1:44317 -num_tickets 0 -cert "$PKI/wrongname.pem" -key "$PKI/wrongname.key" -cert_chain "$PKI/ca-int.pem"
SPID=$BG_PID
cap_start tls13-curl-rejects-wrong-name "tcp port 44317"
SSLKEYLOGFILE=$KEYLOG timeout 8 curl -sS -o /dev/null --cacert "$PKI/ca-root.pem" \
    --resolve target.example:44317:127.0.0.1 https://target.example:44317/ >>"$LOG/last.log" 2>&1 || true
cap_stop; stop "$SPID"

describe tls13-client-rejects-expired "s_server (TLS 1.3) with the expired leaf (+intermediate); s_client -verify_return_error -CAfile root" \
    "TLS 1.3, yet the client's fatal alert certificate_expired (45) is in PLAINTEXT (a 7-byte alert record, no ChangeCipherSpec): OpenSSL's client fails verification while its write side has no handshake keys yet"
simple tls13-client-rejects-expired 44348 "-cert $PKI/expired.pem -key $PKI/expired.key -cert_chain $PKI/ca-int.pem" \
    client 127.0.0.1:44348 -servername target.example -verify_return_error -CAfile "$PKI/ca-root.pem"

describe tls12-client-cert-required "s_server -tls1_2 -Verify 1 -CAfile root; s_client -tls1_2 without a certificate" \
    "CertificateRequest from the server, empty Certificate from the client, then a plaintext fatal alert from the server (OpenSSL: handshake_failure 40)"
simple tls12-client-cert-required 44318 "-tls1_2 -Verify 1 -CAfile $PKI/ca-root.pem" client 127.0.0.1:44318 -tls1_2

describe tls13-client-cert-required "s_server -Verify 1 -CAfile root (TLS 1.3); s_client without a certificate" \
    "TLS 1.3: CertificateRequest and the empty client Certificate are encrypted; the client sends its Finished, then the server sends an encrypted alert (decrypted: certificate_required 116)"
simple tls13-client-cert-required 44319 "-Verify 1 -CAfile $PKI/ca-root.pem" client 127.0.0.1:44319

describe nginx-verify-client-http400 "nginx ssl_verify_client on, TLS 1.2; ALB-like client (no client certificate, as an ALB never sends one)" \
    "CertificateRequest, empty client Certificate, the handshake completes, nginx answers HTTP 400 (No required SSL certificate was sent) inside TLS, then close_notify and FIN from nginx"
cap_start nginx-verify-client-http400 "tcp port $P_NGX_VERIFY"
alb "127.0.0.1:$P_NGX_VERIFY"
cap_stop

describe alb-to-plain-http "nginx plain 'listen' (no ssl); ALB-like client" \
    "ClientHello answered with ASCII 'HTTP/1.1 400 Bad Request' from nginx, then FIN"
cap_start alb-to-plain-http "tcp port $P_NGX_PLAIN"
alb "127.0.0.1:$P_NGX_PLAIN"
cap_stop

describe server-rst-after-client-hello "python: accept, read the ClientHello, close with SO_LINGER 0; ALB-like client" \
    "ClientHello, then RST from the server; no TLS bytes from the server"
pypeer rst-server rst 127.0.0.1 44340; SPID=$BG_PID; wait_listen 44340
cap_start server-rst-after-client-hello "tcp port 44340"
alb 127.0.0.1:44340
cap_stop; stop "$SPID"

describe server-fin-after-client-hello "python: accept, read the ClientHello, close(); ALB-like client" \
    "ClientHello, then FIN from the server; no TLS bytes from the server. s_client then sends a plaintext alert decode_error (50), which the closed socket answers with RST"
pypeer fin-server fin 127.0.0.1 44341; SPID=$BG_PID; wait_listen 44341
cap_start server-fin-after-client-hello "tcp port 44341"
alb 127.0.0.1:44341
cap_stop; stop "$SPID"

describe server-silent-after-client-hello "python: accept, read the ClientHello, never answer; ALB-like client under timeout 3 s" \
    "ClientHello, then nothing from the server; the client gives up after 3 s (FIN from the client). The server is stopped only after the capture."
pypeer silent-server silent 127.0.0.1 44342; SPID=$BG_PID; wait_listen 44342
cap_start server-silent-after-client-hello "tcp port 44342"
CLIENT_TIMEOUT=3 alb 127.0.0.1:44342
cap_stop 0.3; stop "$SPID"

describe nginx-reject-no-sni "nginx default server with ssl_reject_handshake on (a second server for target.example); ALB-like client without SNI" \
    "ClientHello without server_name, then a fatal alert unrecognized_name (112) from the server"
cap_start nginx-reject-no-sni "tcp port $P_NGX_REJECT"
alb "127.0.0.1:$P_NGX_REJECT"
cap_stop

describe connection-refused "nothing listens; ALB-like client" \
    "SYN answered by RST/ACK; no TLS"
cap_start connection-refused "tcp port 44343"
alb 127.0.0.1:44343
cap_stop

describe no-synack "python listener with backlog 0 that never accepts; its queue is filled before the capture; ALB-like client under timeout 2.5 s" \
    "SYN and SYN retransmissions, never a SYN-ACK (the kernel drops SYNs while the accept queue is full)"
pypeer backlog-server backlog 127.0.0.1 44344; SPID=$BG_PID; wait_listen 44344
pypeer hold-client hold 127.0.0.1 44344; HPID=$BG_PID; sleep 0.3
cap_start no-synack "tcp port 44344"
CLIENT_TIMEOUT=2.5 alb 127.0.0.1:44344
cap_stop 0.2; stop "$HPID"; stop "$SPID"

describe tcp-no-client-hello "nginx TLS 1.2 target; python client connects, sends nothing, closes after 1 s" \
    "three-way handshake, no ClientHello, FIN from the client, then nginx closes too"
cap_start tcp-no-client-hello "tcp port $P_NGX_ALB"
timeout 5 python3 "$PY" mute 127.0.0.1 "$P_NGX_ALB" >>"$LOG/last.log" 2>&1 || true
cap_stop

describe ecdsa-only-vs-rsa-suites "s_server with only a P-256 ECDSA certificate; ALB-like client offering only the 12 ECDHE-RSA/RSA suites of ELBSecurityPolicy-2016-08" \
    "ClientHello without any ECDSA suite, then a fatal alert handshake_failure (40) from the server"
simple ecdsa-only-vs-rsa-suites 44346 "-cert $PKI/ecdsa.pem -key $PKI/ecdsa.key -cert_chain $PKI/ca-int.pem" \
    client 127.0.0.1:44346 -noservername -min_protocol TLSv1 -max_protocol TLSv1.2 -cipher "$ALB_RSA_CIPHERS:@SECLEVEL=0"

describe demo-alb-502 "ALB-like client: 3 connections to a TLS 1.3-only s_server (port 44347) and one to a healthy nginx TLS 1.2 target (port $P_NGX_DEMO), in the order fail, ok, fail, fail" \
    "connections 1, 3, 4: ClientHello, fatal alert protocol_version (70) from the target (the classic ALB 502); connection 2: complete TLS 1.2 handshake, HTTP 200"
server demo-alb-502 127.0.0.1:44347 -tls1_3
SPID=$BG_PID
cap_start demo-alb-502 "tcp port 44347 or tcp port $P_NGX_DEMO"
alb 127.0.0.1:44347
alb "127.0.0.1:$P_NGX_DEMO"
alb 127.0.0.1:44347
alb 127.0.0.1:44347
cap_stop; stop "$SPID"

# -- certificate key types, certificates an ALB does not check, large ClientHellos -----------------
# ELBSecurityPolicy-2016-08's ECDHE-ECDSA suites only, in AWS order: C02B C023 C009 C02C C024 C00A
ALB_ECDSA_CIPHERS=ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES256-SHA384:ECDHE-ECDSA-AES256-SHA
# signature_algorithms without ed25519 (0x0807) or ed448: OpenSSL's default list minus EdDSA
NO_EDDSA_SIGALGS=ECDSA+SHA256:ECDSA+SHA384:ECDSA+SHA512:RSA-PSS+SHA256:RSA-PSS+SHA384:RSA-PSS+SHA512:rsa_pss_pss_sha256:rsa_pss_pss_sha384:rsa_pss_pss_sha512:RSA+SHA256:RSA+SHA384:RSA+SHA512:ECDSA+SHA224:RSA+SHA224
LONG_SNI=payments-api-blue-green-canary-eu-west-1-tenant-0123456789.internal-services.platform-team.very-long-subdomain-for-a-large-client-hello.target.example

describe ecdsa-suites-vs-rsa-only "s_server with only the RSA chain (leaf+intermediate); ALB-like client offering only the 6 ECDHE-ECDSA suites of ELBSecurityPolicy-2016-08 (C02B C023 C009 C02C C024 C00A), TLS 1.0-1.2, no SNI" \
    "ClientHello whose every suite needs an ECDSA certificate, then a fatal alert handshake_failure (40) from the server, no ServerHello"
simple ecdsa-suites-vs-rsa-only 44320 "" \
    client 127.0.0.1:44320 -noservername -min_protocol TLSv1 -max_protocol TLSv1.2 -cipher "$ALB_ECDSA_CIPHERS:@SECLEVEL=0"

describe ecdsa-target-ok-then-rsa-offer "s_server with only a P-256 ECDSA certificate (+RSA intermediate); connection 1: ALB-like client (all 18 suites); connection 2: ALB-like client with the 12 ECDHE-RSA/RSA suites of ELBSecurityPolicy-2016-08 only" \
    "connection 1: complete TLS 1.2 handshake with ECDHE-ECDSA-AES128-GCM-SHA256 (C02B), the ECDSA leaf in the plaintext Certificate message; connection 2: ClientHello without any ECDSA suite, fatal alert handshake_failure (40) from the server, no ServerHello"
server ecdsa-target-ok-then-rsa-offer 127.0.0.1:44328 -cert "$PKI/ecdsa.pem" -key "$PKI/ecdsa.key" -cert_chain "$PKI/ca-int.pem"
SPID=$BG_PID
cap_start ecdsa-target-ok-then-rsa-offer "tcp port 44328"
alb 127.0.0.1:44328
client 127.0.0.1:44328 -noservername -min_protocol TLSv1 -max_protocol TLSv1.2 -cipher "$ALB_RSA_CIPHERS:@SECLEVEL=0"
cap_stop; stop "$SPID"

describe ed25519-target-no-sigalg "s_server with an Ed25519 leaf (signed by the RSA intermediate, sent with it); connection 1: ALB-like client (OpenSSL's default signature_algorithms, ed25519 0x0807 included); connection 2: ALB-like client with -sigalgs '$NO_EDDSA_SIGALGS' (no ed25519, no ed448)" \
    "connection 1: complete TLS 1.2 handshake with ECDHE-ECDSA-AES128-GCM-SHA256 (EdDSA certificates use the ECDSA suites), the Ed25519 leaf in the plaintext Certificate message, ServerKeyExchange signed with ed25519; connection 2: ClientHello without 0x0807 in signature_algorithms, fatal alert handshake_failure (40) from the server, no ServerHello"
server ed25519-target-no-sigalg 127.0.0.1:44329 -cert "$PKI/ed25519.pem" -key "$PKI/ed25519.key" -cert_chain "$PKI/ca-int.pem"
SPID=$BG_PID
cap_start ed25519-target-no-sigalg "tcp port 44329"
alb 127.0.0.1:44329
alb 127.0.0.1:44329 -sigalgs "$NO_EDDSA_SIGALGS"
cap_stop; stop "$SPID"

describe client-rejects-rsa1024 "s_server -tls1_2 -cipher '$LEGACY' with an RSA-1024 leaf (+intermediate); s_client -tls1_2 -cipher DEFAULT:@SECLEVEL=2 -servername target.example -verify_return_error -CAfile root (OpenSSL 3's security level 2 needs 2048-bit RSA)" \
    "full server flight (ServerHello, Certificate with the 1024-bit leaf, ServerKeyExchange, ServerHelloDone), then a fatal alert bad_certificate (42) from the client (verify error 66, EE certificate key too weak). OpenSSL applies the security level to the peer's key only while verifying: the same client without -verify_return_error completes the handshake"
simple client-rejects-rsa1024 44323 "-tls1_2 -cipher $LEGACY -cert $PKI/rsa1024.pem -key $PKI/rsa1024.key -cert_chain $PKI/ca-int.pem" \
    client 127.0.0.1:44323 -tls1_2 -cipher DEFAULT:@SECLEVEL=2 -servername target.example -verify_return_error -CAfile "$PKI/ca-root.pem"

describe alb-expired-cert-not-validated "s_server -tls1_2 with the expired leaf (2020-01-01..2021-01-01, +intermediate); ALB-like client, which does not validate (no -verify_return_error)" \
    "complete TLS 1.2 handshake with ECDHE-RSA-AES128-GCM-SHA256, the expired leaf in the plaintext Certificate message, HTTP status page: an expired target certificate does not stop a non-validating client such as an ALB"
simple alb-expired-cert-not-validated 44324 "-tls1_2 -cert $PKI/expired.pem -key $PKI/expired.key -cert_chain $PKI/ca-int.pem" \
    alb 127.0.0.1:44324

describe alb-self-signed-cert-not-validated "s_server -tls1_2 with the self-signed leaf; ALB-like client, which does not validate" \
    "complete TLS 1.2 handshake with ECDHE-RSA-AES128-GCM-SHA256, the self-signed leaf (issuer = subject) in the plaintext Certificate message, HTTP status page"
simple alb-self-signed-cert-not-validated 44325 "-tls1_2 -cert $PKI/selfsigned.pem -key $PKI/selfsigned.key" \
    alb 127.0.0.1:44325

describe client-hello-two-segments-rst "python server announcing MSS 300 (TCP_MAXSEG on its listener): reads the whole ClientHello record, closes with SO_LINGER 0; s_client (TLS 1.3 defaults) with a ${#LONG_SNI}-byte -servername" \
    "a ClientHello of about 450 bytes carried in two TCP segments (288 payload bytes at most each: MSS 300 minus 12 bytes of TCP timestamps), then RST from the server; no TLS bytes from the server"
pypeer mss-rst-server rst-full 127.0.0.1 44326 300; SPID=$BG_PID; wait_listen 44326
cap_start client-hello-two-segments-rst "tcp port 44326"
client 127.0.0.1:44326 -servername "$LONG_SNI"
cap_stop; stop "$SPID"

describe pq-key-share-rst "SYNTHESIZED ClientHello bytes over a real TCP connection: a real s_client (TLS 1.3 defaults, -servername target.example) ClientHello, saved by a python server outside the capture, rewritten by python (X25519MLKEM768 0x11EC added first to supported_groups, a 1216-byte key share for it added before the X25519 one, every length fixed) and sent from a python socket; python server: reads the whole record, closes with SO_LINGER 0. OpenSSL 3.0 cannot offer ML-KEM" \
    "a ClientHello of about 1.5 KB with key shares 0x11EC (1216 bytes) and x25519, in two TCP segments (1448 + the rest), then RST from the server; no TLS bytes from the server. Only the ClientHello bytes are crafted; SYN, segmentation, ACKs and the RST are the kernel's"
pypeer pq-rst-server rst-full 127.0.0.1 44327 - "$T/ch-template.bin"; SPID=$BG_PID; wait_listen 44327
client 127.0.0.1:44327 -servername target.example      # not captured: only saves a real ClientHello
[[ -s $T/ch-template.bin ]] || die "no ClientHello template for pq-key-share-rst"
cp "$T/ch-template.bin" "$T/ch-template.saved"
cap_start pq-key-share-rst "tcp port 44327"
timeout 8 python3 "$PY" pq-client 127.0.0.1 44327 "$T/ch-template.saved" >>"$LOG/last.log" 2>&1 || true
cap_stop; stop "$SPID"

# handshake-level look-alikes (issue 14): pcaps/record-handshake.inc.sh
source "$HERE/record-handshake.inc.sh"
# transport, timing and non-TLS look-alikes (ports 8500-8599)
source "$HERE/record-transport.inc.sh"

stop "$NGX_PID"

# -- analysis with tshark ------------------------------------------------------------------------
echo "record.sh: checking captures with tshark"
cat >"$T/facts.py" <<'EOF'
# Per TCP connection of a capture: stage, alerts (sender:name, 'encrypted' when not readable on the
# wire), negotiated version -- from tshark's view without keys (wire) and with the client keylog.
import subprocess, sys

VERS = {"0x0300": "SSL3.0", "0x0301": "TLS1.0", "0x0302": "TLS1.1", "0x0303": "TLS1.2", "0x0304": "TLS1.3"}
F = ["frame.number", "tcp.stream", "ip.src", "ipv6.src", "tcp.srcport", "tcp.flags.syn", "tcp.flags.ack",
     "tcp.flags.fin", "tcp.flags.reset", "tcp.len", "tcp.payload", "tcp.segment_data",
     "tls.record.content_type", "tls.record.opaque_type", "tls.handshake.type", "tls.alert_message.desc",
     "tls.handshake.extensions.supported_version", "tls.handshake.version", "_ws.col.Info"]
ALERTS = {0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac", 22: "record_overflow",
          40: "handshake_failure", 42: "bad_certificate", 43: "unsupported_certificate",
          44: "certificate_revoked", 45: "certificate_expired", 46: "certificate_unknown",
          47: "illegal_parameter", 48: "unknown_ca", 49: "access_denied", 50: "decode_error",
          51: "decrypt_error", 70: "protocol_version", 71: "insufficient_security", 80: "internal_error",
          86: "inappropriate_fallback", 90: "user_canceled", 109: "missing_extension",
          110: "unsupported_extension", 112: "unrecognized_name", 113: "bad_certificate_status_response",
          115: "unknown_psk_identity", 116: "certificate_required", 120: "no_application_protocol"}
HS = {0: "HelloRequest", 1: "ClientHello", 2: "ServerHello", 4: "NewSessionTicket", 8: "EncryptedExtensions",
      11: "Certificate", 12: "ServerKeyExchange", 13: "CertificateRequest", 14: "ServerHelloDone",
      15: "CertificateVerify", 16: "ClientKeyExchange", 20: "Finished"}

def run(pcap, keylog):
    cmd = ["tshark", "-n", "-r", pcap, "-o", "tcp.relative_sequence_numbers:TRUE", "-T", "fields",
           "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=,"]
    if keylog:
        cmd += ["-o", "tls.keylog_file:" + keylog]
    for f in F:
        cmd += ["-e", f]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0 and not (r.returncode == 2 and "cut short in the middle of a packet" in r.stderr):
        raise subprocess.CalledProcessError(r.returncode, cmd, r.stdout, r.stderr)   # a cut file: its rows
    out = r.stdout                                                                   # up to the cut
    rows = {}
    for line in out.splitlines():
        v = line.split("\t", len(F) - 1)
        v += [""] * (len(F) - len(v))
        rows[int(v[0])] = dict(zip(F, v))
    return rows

def ints(s):
    return [int(x, 0) for x in s.split(",") if x != ""]

def analyse(pcap, keylog):
    wire, keyed = run(pcap, None), run(pcap, keylog)
    conns = {}
    for n in sorted(wire):
        w, k = wire[n], keyed.get(n, wire[n])
        st = w["tcp.stream"]
        if st == "":
            continue
        src = (w["ip.src"] or w["ipv6.src"], w["tcp.srcport"])
        c = conns.setdefault(st, {"first": n, "client": None, "synack": False, "ch": False,
                                  "srv_bytes": None, "alerts": [], "decrypted": [], "fin": [], "rst": [],
                                  "fin_c": False, "fin_s": False, "version": "-", "client_src": None,
                                  "finished_c": False, "finished_s": False, "frames": []})
        syn, ack = w["tcp.flags.syn"] in ("1", "True"), w["tcp.flags.ack"] in ("1", "True")
        if syn and not ack and c["client"] is None:
            c["client"] = src
        hs_w = ints(w["tls.handshake.type"])
        if c["client"] is None and 1 in hs_w:
            c["client"] = src
        if c["client"] is None:
            c["client"] = src          # mid-stream: first sender
        side = "client" if src == c["client"] else "server"
        if syn and ack:
            c["synack"] = True
        if 1 in hs_w and side == "client":
            c["ch"] = True
        if side == "server" and int(w["tcp.len"] or 0) > 0 and c["srv_bytes"] is None:
            c["srv_bytes"] = (w["tcp.payload"] or w["tcp.segment_data"]).split(",")[0][:16]
        if w["tcp.flags.fin"] in ("1", "True"):
            c["fin"].append(side)
        if w["tcp.flags.reset"] in ("1", "True"):
            c["rst"].append(side)
        if side == "server" and (c["fin"] or c["rst"]) and "srv_close" not in c \
                and ("server" in c["fin"] or "server" in c["rst"]):
            c["srv_close"] = n
        if 2 in hs_w and side == "server":
            sv = w["tls.handshake.extensions.supported_version"].split(",")
            hv = w["tls.handshake.version"].split(",")
            ver = sv[-1] if sv[-1] else hv[-1]
            c["version"] = VERS.get(ver, ver)
        hs_k = ints(k["tls.handshake.type"])
        if 20 in hs_k:
            c["finished_" + side[0]] = True
        # alerts: plaintext ones by name, the rest 'encrypted'; TLS 1.3 inner alerts only show with keys
        ct_w = ints(w["tls.record.content_type"]).count(21)
        ct_k = ints(k["tls.record.content_type"]).count(21)
        names_w = [ALERTS.get(d, str(d)) for d in ints(w["tls.alert_message.desc"])]
        names_k = [ALERTS.get(d, str(d)) for d in ints(k["tls.alert_message.desc"])]
        if max(ct_w, ct_k) and "first_alert" not in c:
            c["first_alert"] = n
        for i in range(max(ct_w, ct_k)):
            c["alerts"].append(side + ":" + (names_w[i] if i < len(names_w) else "encrypted"))
            c["decrypted"].append(side + ":" + (names_k[i] if i < len(names_k) else "?"))
        c["frames"].append((n, side, w, k))
    result = []
    for st, c in sorted(conns.items(), key=lambda kv: kv[1]["first"]):
        closed = bool(c["fin"] or c["rst"])
        fatal = [a for a in c["decrypted"] if not a.endswith((":close_notify", ":user_canceled"))]
        if not c["synack"]:
            stage = "refused" if "server" in c["rst"] else "no_synack"
        elif not c["ch"]:
            stage = "no_client_hello"
        elif c["srv_bytes"] is not None and not c["srv_bytes"].startswith(("14", "15", "16", "17")):
            stage = "non_tls_answer"
        elif c["finished_c"] and c["finished_s"] and not fatal:
            stage = "complete_closed" if closed else "complete"
        elif c["alerts"] and c.get("first_alert", 0) < c.get("srv_close", 1 << 62):
            stage = "alert"       # an alert came before any close by the server
        elif "server" in c["fin"] or "server" in c["rst"]:
            stage = "closed_by_peer"
        elif c["srv_bytes"] is None:
            stage = "client_hello_unanswered"
        else:
            stage = "capture_ended"
        result.append((stage, c))
    return result

def ladder(stage, c):
    """one line per interesting frame: frame, direction, what it carries"""
    lines = []
    non_tls = stage == "non_tls_answer"
    for n, side, w, k in c["frames"]:
        flags = [f for f, key in (("SYN", "tcp.flags.syn"), ("FIN", "tcp.flags.fin"), ("RST", "tcp.flags.reset"))
                 if w[key] in ("1", "True")]
        if flags and w["tcp.flags.syn"] in ("1", "True") and w["tcp.flags.ack"] in ("1", "True"):
            flags = ["SYN-ACK"]
        info = w["_ws.col.Info"]
        # TLS 1.3 encrypted records carry tls.record.opaque_type, not tls.record.content_type
        tls = info if (w["tls.record.content_type"] or w["tls.record.opaque_type"]) else ""
        if not tls and int(w["tcp.len"] or 0) > 0:
            data = w["tcp.payload"] or w["tcp.segment_data"]
            if side == "server" and non_tls:
                tls = "non-TLS bytes: " + repr(bytes.fromhex(data.split(",")[0][:64]).decode("latin-1"))
            else:
                tls = "TCP segment, %s bytes, of a TLS record that ends later" % w["tcp.len"]
        dec = ""
        if k["tls.record.opaque_type"] or "Encrypted" in info:
            parts = [HS.get(h, str(h)) for h in ints(k["tls.handshake.type"])]
            parts += ["Alert " + ALERTS.get(d, str(d)) for d in ints(k["tls.alert_message.desc"])]
            if 23 in ints(k["tls.record.content_type"]):
                parts.append("AppData")
            if parts:
                dec = "  [decrypted: " + ", ".join(parts) + "]"
        if not flags and not tls:
            continue
        arrow = "C->S" if side == "client" else "S->C"
        lines.append("%4d  %s  %s%s%s" % (n, arrow, " ".join(flags) + ("  " if flags and tls else ""), tls, dec))
    return lines

mode, name, pcap, keylog = sys.argv[1:5]
for i, (stage, c) in enumerate(analyse(pcap, keylog), 1):
    if mode == "tsv":
        print("\t".join([name + ".pcap", str(i), stage, ",".join(c["alerts"]) or "-", c["version"]]))
    else:
        dec = ",".join(c["decrypted"])
        print("connection %d: stage %s, alerts %s, version %s%s" % (i, stage, ",".join(c["alerts"]) or "-",
              c["version"], ("; decrypted alerts " + dec) if "encrypted" in ",".join(c["alerts"]) else ""))
        for l in ladder(stage, c):
            print("    " + l)
EOF

GOT=$T/expected.tsv
printf 'file\tconn_index\tstage\talerts\tversion\n' >"$GOT"
for n in "${NAMES[@]}"; do
    python3 "$T/facts.py" tsv "$n" "$STAGE/$n.pcap" "$STAGE/$n.keylog" >>"$GOT"
done

size_fail=0
for n in "${NAMES[@]}"; do
    sz=$(stat -c %s "$STAGE/$n.pcap")
    [[ $sz -lt 102400 ]] || { echo "record.sh: $n.pcap is $sz bytes (>= 100 KB)" >&2; size_fail=1; }
done

# the "capture" cases of tests/TESTLIST, as the same table (all of them: capture_table leaves the
# hs-* and tx-* captures out for the benchmark)
HAVE=$T/have.tsv
(cd "$HERE/.." && . tests/testlist.sh && printf 'file\tconn_index\tstage\talerts\tversion\n' &&
    testlist capture) >"$HAVE"
if [[ "${RECORD_UPDATE_EXPECTED:-}" == 1 ]]; then
    python3 - "$HERE/../tests/TESTLIST" "$GOT" <<'PYEOF'
import sys
path, got = sys.argv[1], sys.argv[2]
rows = ["capture\t" + l for l in open(got).read().splitlines()[1:] if l.strip()]
out, done = [], False
for line in open(path).read().splitlines():
    if line.startswith("capture\t"):
        if not done:
            out.extend(rows)
            done = True
        continue
    out.append(line)
if not done:
    out.extend(rows)
open(path, "w").write("\n".join(out) + "\n")
PYEOF
    echo "record.sh: wrote the capture cases of tests/TESTLIST (review them)"
elif ! diff -u "$HAVE" "$GOT" >"$LOG/expected.diff"; then
    echo "record.sh: captures differ from the capture cases of tests/TESTLIST:" >&2
    cat "$LOG/expected.diff" >&2
    exit 1
fi
[[ $size_fail -eq 0 ]] || exit 1

# -- install: captures, keylogs, README ------------------------------------------------------------
# only this script's own files are replaced: other pcaps in the directory (crafted ones) stay.
# RECORD_ONLY_NEW=1 installs only the captures that pcaps/ does not have yet (every case is still
# recorded and checked against tests/TESTLIST; existing captures, keylogs and derived files stay).
for n in "${NAMES[@]}"; do
    if [[ "${RECORD_ONLY_NEW:-}" == 1 && -f $OUT/$n.pcap ]]; then continue; fi
    mv "$STAGE/$n.pcap" "$OUT/$n.pcap"
    chmod 644 "$OUT/$n.pcap"
    rm -f "$OUT/$n.keylog"
    if grep -qv "^#" "$STAGE/$n.keylog"; then mv "$STAGE/$n.keylog" "$OUT/$n.keylog"; fi
done

{
cat <<'EOF'
# Recorded TLS handshakes

Real handshakes between OpenSSL 3.0 (`openssl s_server` / `s_client`), nginx 1.22.1, curl 7.88 and
small python3 peers, recorded with tcpdump by `record.sh`. Regenerate everything (as root, about five
minutes; the `tx-*` transport cases from `record-transport.inc.sh` also need HAProxy 2.6 and nftables)
with

    bash pcaps/record.sh

It runs inside a private network namespace (`unshare -n`) on loopback only (127.0.0.1, ::1) with MTU
1500 and GSO limited to one segment, so segments look like a real network (1448 payload bytes per full IPv4 segment, 1428 for IPv6). All
certificates are made at run time in a temp dir: a root CA and an intermediate (RSA 2048) that sign the
leaves for `target.example` (SAN also 127.0.0.1 and ::1), an expired leaf (2020-01-01 to 2021-01-01, by
`openssl ca -startdate/-enddate`), a leaf for `wrong.example`, a self-signed leaf, a P-256 ECDSA leaf,
an Ed25519 leaf, an RSA-1024 leaf, and a long chain (4096-bit root, three 4096-bit intermediates, a
4096-bit leaf with 120 SANs).

One capture has synthesized TLS bytes: `pq-key-share-rst.pcap`. OpenSSL 3.0 (and every other client in
Debian 12) cannot offer the post-quantum hybrid group X25519MLKEM768 (0x11EC), so its ClientHello is a
real s_client ClientHello rewritten by python (0x11EC added to supported_groups, a 1216-byte key share
for it, every length fixed) and sent from a python socket. The TCP connection (handshake,
segmentation at the MSS, ACKs, the server's RST) is real; only the ClientHello bytes are crafted.

The "ALB-like client" is `s_client -noservername -min_protocol TLSv1 -max_protocol TLSv1.2 -cipher
<ELBSecurityPolicy-2016-08 suites in AWS order>:@SECLEVEL=0`: no SNI, no supported_versions, the 18
suites C02B C02F C023 C027 C009 C013 C02C C030 C024 C028 C014 C00A 009C 003C 002F 009D 003D 0035 followed
by the renegotiation SCSV 00FF that OpenSSL always appends. Unless said otherwise a client sends
`GET / HTTP/1.0` and s_server runs with `-www` (answers with its status page and closes).

Each run differs in randoms, times and client ports; stages, alerts, versions and message sequences do
not. `record.sh` checks them against the `capture` cases of `../tests/TESTLIST` and fails on a difference
(`RECORD_UPDATE_EXPECTED=1` rewrites it; `RECORD_ONLY_NEW=1` records and checks everything but installs
only the captures not yet in this directory).

## Files

- `<name>.pcap`: the capture (Ethernet link type, snaplen 262144, one to four TCP connections).
- `<name>.keylog`: the client's TLS secrets (NSS key log format), for
  `tshark -o tls.keylog_file:<name>.keylog -r <name>.pcap`. Not there when no key was ever derived.
- `../tests/TESTLIST`, the `capture` cases: one line per TCP connection: `file`, `conn_index`
  (1-based, order of the first packet), `stage`, `alerts`, `version`.

## How the expected values were derived (tshark 4.0.17)

- `stage`: refused (SYN answered by RST) / no_synack / no_client_hello / non_tls_answer (the first
  server bytes are not a TLS record) / complete or complete_closed (both Finished messages seen, with
  the keylog, and no alert other than close_notify) / alert (an alert before any FIN or RST from the
  server) / closed_by_peer (server FIN or RST first; the client may still send an alert afterwards) /
  client_hello_unanswered (no server bytes, server never closed) / capture_ended.
- `alerts`: every alert record in order, `sender:name`; `sender:encrypted` when the alert is not
  readable on the wire: TLS 1.2 and older after ChangeCipherSpec (content type 21, encrypted body), and
  TLS 1.3 alerts, which travel as application_data records (outer type 23, 19 bytes with AES-GCM) and
  are only known to be alerts with the keylog. The decrypted names are given below.
- `version`: from the ServerHello (supported_versions if present, else server_version); `-` without one.

## Captures

| file | how made | what the handshake should show | expected (per connection: stage, alerts, version) |
|---|---|---|---|
EOF
for n in "${NAMES[@]}"; do
    exp=$(awk -F'\t' -v f="$n.pcap" '$1 == f { printf "%s%s: %s, %s, %s", sep, $2, $3, $4, $5; sep = "; " }' "$GOT")
    printf '| `%s.pcap` | %s | %s | %s |\n' "$n" "${HOW[$n]//|/\\|}" "${WHAT[$n]//|/\\|}" "$exp"
done
cat <<'EOF'

## What tshark shows

Frames with SYN/FIN/RST or payload (pure ACKs left out); `C->S` is client to server. TLS text is
tshark's Info column without keys (what a passive tool sees); `[decrypted: ...]` is what the keylog
reveals. Frame numbers and sizes vary a little between runs.
EOF
for n in "${NAMES[@]}"; do
    printf '\n### %s.pcap\n\n```\n' "$n"
    python3 "$T/facts.py" ladder "$n" "$OUT/$n.pcap" "$OUT/$n.keylog" 2>/dev/null \
        || python3 "$T/facts.py" ladder "$n" "$OUT/$n.pcap" /dev/null
    printf '```\n'
done
} >"$OUT/README.md"

echo "record.sh: ${#NAMES[@]} captures in $OUT"

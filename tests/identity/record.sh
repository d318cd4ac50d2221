#!/usr/bin/env bash
# tests/identity/record.sh -- record the ClientHellos of clients whose identity
# profiles (rules/10-clients.list) come from a real capture, not from pcaps/:
#
#   nginx-proxy-default.pcap   nginx 1.22.1 proxy_pass https:// with every proxy_ssl_* at its default
#   nginx-proxy-sni.pcap       the same with proxy_ssl_server_name on (proxy_ssl_name target.example)
#   java17-client.pcap         OpenJDK 17 HttpsURLConnection to https://localhost:PORT/ (JSSE defaults)
#
#   bash tests/identity/record.sh     (root: private network namespace, tcpdump)
#
# Like pcaps/record.sh it runs inside `unshare -n` on loopback only; the server is
# `openssl s_server -www` with a throw-away self-signed certificate. Only the
# ClientHello matters here (the Java client does not trust the certificate and
# aborts after the server's flight, which is expected).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [[ "${TLSWHY_ID_IN_NS:-}" != 1 ]]; then
    [[ $EUID -eq 0 ]] || { echo "record.sh: needs root" >&2; exit 2; }
    for t in unshare ip tcpdump openssl nginx curl java timeout; do
        command -v "$t" >/dev/null || { echo "record.sh: missing tool: $t" >&2; exit 2; }
    done
    exec env TLSWHY_ID_IN_NS=1 unshare -n bash "$HERE/record.sh" "$@"
fi
T=$(mktemp -d /tmp/tlswhy-id.XXXXXX)
PIDS=()
cleanup() {
    local rc=$? p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    rm -rf "$T"
    exit "$rc"
}
trap cleanup EXIT
ip link set lo up
ip link set lo mtu 1500

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" -days 2 \
    -subj /CN=target.example -addext "subjectAltName=DNS:target.example,DNS:localhost,IP:127.0.0.1" 2>/dev/null
openssl s_server -quiet -accept 8443 -cert "$T/cert.pem" -key "$T/key.pem" -www </dev/null >"$T/s_server.log" 2>&1 &
PIDS+=($!)

mkdir -p "$T/ngx/logs"
cat >"$T/ngx/nginx.conf" <<NGX
daemon off;
master_process off;
pid $T/ngx/nginx.pid;
error_log $T/ngx/logs/error.log;
events { worker_connections 64; }
http {
    access_log off;
    server { listen 127.0.0.1:8080; location / { proxy_pass https://127.0.0.1:8443; } }
    server { listen 127.0.0.1:8081; location / { proxy_pass https://127.0.0.1:8443;
             proxy_ssl_server_name on; proxy_ssl_name target.example; } }
}
NGX
nginx -p "$T/ngx/" -c "$T/ngx/nginx.conf" &
PIDS+=($!)
sleep 1

cap() {   # cap NAME CMD...: capture port 8443 while CMD runs
    local name=$1; shift
    tcpdump -i lo -U -s 0 -w "$T/$name.pcap" tcp port 8443 2>/dev/null &
    local tp=$!
    sleep 0.5
    timeout 20 "$@" >/dev/null 2>&1 || true
    sleep 0.5
    kill -INT "$tp"; wait "$tp" 2>/dev/null || true
    mv "$T/$name.pcap" "$HERE/$name.pcap"
    echo "  $name.pcap"
}

cap nginx-proxy-default curl -s http://127.0.0.1:8080/
cap nginx-proxy-sni curl -s http://127.0.0.1:8081/

cat >"$T/Get.java" <<'JAVA'
public class Get {
    public static void main(String[] a) throws Exception {
        java.net.URL u = new java.net.URL(a[0]);
        javax.net.ssl.HttpsURLConnection c = (javax.net.ssl.HttpsURLConnection) u.openConnection();
        try { c.getResponseCode(); } catch (javax.net.ssl.SSLException e) { System.out.println(e); }
    }
}
JAVA
(cd "$T" && javac Get.java)
cap java17-client java -Djava.net.preferIPv4Stack=true -cp "$T" Get https://localhost:8443/

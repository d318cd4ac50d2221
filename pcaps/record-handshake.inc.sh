# pcaps/record-handshake.inc.sh -- sourced by record.sh (inside its namespace, after the built-in cases).
# Handshake-level look-alikes (issue 14, items 1, 2, 6, 7): causes that end with the same wire pattern
# ("alert before any ServerHello", alert 80/112/120, a close after a complete handshake) recorded with
# real peers: OpenSSL s_server, nginx, HAProxy, GnuTLS gnutls-serv, Java 17 JSSE, Node 20, Python ssl.
# Captures are named hs-<cause>-<stack>. Ports 8400-8499.
# Uses record.sh's helpers: bg stop wait_listen cap_start cap_stop key sign server client alb describe
# simple pypeer, and $PKI $T $LOG $STAGE $KEYLOG $ALB_CIPHERS $GET.

echo "record.sh: handshake look-alikes (record-handshake.inc.sh)"

# -- the TLS13-1-0-2021-06 offer: TLS 1.0-1.3, 1301 1302 1303, then the 18 suites of 2016-08 ----------
ALB13_SUITES=TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256
alb13() {
    local hp=$1; shift
    client "$hp" -noservername -min_protocol TLSv1 -max_protocol TLSv1.3 -cipher "$ALB_CIPHERS:@SECLEVEL=0" \
        -ciphersuites "$ALB13_SUITES" "$@"
}
# groups without P-521, X448, brainpool and ffdhe (what an ALB offers is not documented by AWS)
NARROW_GROUPS=X25519:P-256:P-384
# OpenSSL 3.0's default signature_algorithms minus the rsa_pss_pss_* schemes (RSASSA-PSS keys)
NO_PSS_PSS_SIGALGS=ecdsa_secp256r1_sha256:ecdsa_secp384r1_sha384:ecdsa_secp521r1_sha512:ed25519:ed448:rsa_pss_rsae_sha256:rsa_pss_rsae_sha384:rsa_pss_rsae_sha512:rsa_pkcs1_sha256:rsa_pkcs1_sha384:rsa_pkcs1_sha512:ECDSA+SHA224:RSA+SHA224:ECDSA+SHA1:RSA+SHA1
# an OpenSSL config that takes extended_master_secret out of every ClientHello of s_client
cat >"$T/no-ems.cnf" <<'EOF'
openssl_conf = init
[init]
ssl_conf = ssl_sect
[ssl_sect]
system_default = sys
[sys]
Options = -ExtendedMasterSecret
EOF
# alb_sni NAME HOST:PORT args...: the same 2016-08 offer, but with SNI NAME (s_client refuses
# -noservername together with -servername)
alb_sni() {
    local sni=$1 hp=$2; shift 2
    client "$hp" -servername "$sni" -min_protocol TLSv1 -max_protocol TLSv1.2 -cipher "$ALB_CIPHERS:@SECLEVEL=0" "$@"
}
alb_no_ems() { OPENSSL_CONF=$T/no-ems.cnf alb "$@"; }

# -- more key types (key() in record.sh knows rsa*, p256, ed25519) -----------------------------------
hskey() {
    case $2 in
        p521) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-521 -out "$PKI/$1.key" 2>/dev/null ;;
        bp256) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:brainpoolP256r1 -out "$PKI/$1.key" 2>/dev/null ;;
        rsapss) openssl genpkey -algorithm RSA-PSS -pkeyopt rsa_keygen_bits:2048 -out "$PKI/$1.key" 2>/dev/null ;;
        *) key "$1" "$2" ;;
    esac
}
# hssign NAME TYPE: a leaf for target.example of the given key type, signed by the RSA intermediate
hssign() {
    local name=$1
    hskey "$name" "$2"
    openssl req -config "$PKI/ca.cnf" -new -key "$PKI/$name.key" -subj "/O=tlswhy test/CN=target.example" \
        -out "$PKI/$name.csr" 2>/dev/null
    SAN=$GOODSAN openssl ca -batch -notext -config "$PKI/ca.cnf" -cert "$PKI/ca-int.pem" \
        -keyfile "$PKI/ca-int.key" -extensions v3_leaf -in "$PKI/$name.csr" -out "$PKI/$name.pem" \
        -days 825 >"$LOG/ca-$name.log" 2>&1 || die "openssl ca failed for $name"
    cat "$PKI/$name.pem" "$PKI/ca-int.pem" >"$PKI/$name-fullchain.pem"
    cat "$PKI/$name-fullchain.pem" "$PKI/$name.key" >"$PKI/$name-haproxy.pem"
    openssl pkcs12 -export -passout pass:changeit -name leaf -in "$PKI/$name.pem" -inkey "$PKI/$name.key" \
        -certfile "$PKI/ca-int.pem" -out "$PKI/$name.p12" 2>"$LOG/p12-$name.log" || die "pkcs12 $name"
}
hssign hsrsa rsa2048
hssign hsp521 p521
hssign hsbp256 bp256
hssign hspss rsapss

# -- a chain with organisation-validated style names as long as real ones (hs-ok-long-names-nginx) ----
# root, intermediate and leaf each with its own full DN (-subj), kept as requested by openssl ca
# -preserveDN (ca.cnf's policy would drop C, ST, L and OU); all RSA 2048.
LN_HOST=api-gateway.internal.us-west-2.example-corporation.com
LN_ROOT_DN="/C=US/O=Example Trust Services LLC/OU=www.example-trust.com/CN=Example Trust Global Root G2"
LN_INT_DN="/C=US/O=Example Trust Services LLC/OU=www.example-trust.com/CN=Example Trust Global G2 TLS RSA SHA256 2020 CA1"
LN_LEAF_DN="/C=US/ST=California/L=San Francisco/O=Example Corporation Holdings International/OU=Platform Engineering/CN=$LN_HOST"
# lnsign NAME DN ISSUER EXT SAN: key, CSR with DN, openssl ca -preserveDN with the issuer's key
lnsign() {
    local name=$1 dn=$2 issuer=$3 ext=$4 san=$5
    key "$name" rsa2048
    openssl req -config "$PKI/ca.cnf" -new -key "$PKI/$name.key" -subj "$dn" -out "$PKI/$name.csr" 2>/dev/null
    SAN=$san openssl ca -batch -notext -preserveDN -config "$PKI/ca.cnf" -cert "$PKI/$issuer.pem" \
        -keyfile "$PKI/$issuer.key" -extensions "$ext" -in "$PKI/$name.csr" -out "$PKI/$name.pem" \
        -days 825 >"$LOG/ca-$name.log" 2>&1 || die "openssl ca failed for $name: $(tail -n 3 "$LOG/ca-$name.log")"
}
key ln-root rsa2048
openssl req -config "$PKI/ca.cnf" -new -x509 -key "$PKI/ln-root.key" -subj "$LN_ROOT_DN" \
    -days 3650 -extensions v3_ca -out "$PKI/ln-root.pem" 2>/dev/null
lnsign ln-int "$LN_INT_DN" ln-root v3_ca "DNS:unused"
lnsign ln-leaf "$LN_LEAF_DN" ln-int v3_leaf "DNS:$LN_HOST,DNS:api-gateway.example-corporation.com"
cat "$PKI/ln-leaf.pem" "$PKI/ln-int.pem" >"$PKI/ln-leaf-fullchain.pem"

# -- peers -------------------------------------------------------------------------------------------
# Node 20 (OpenSSL 3 inside, its own choices: strict ALPN, SNICallback): node hs-node.js PORT JSON
cat >"$T/hs-node.js" <<'EOF'
const tls = require('tls'), fs = require('fs');
const port = +process.argv[2], o = JSON.parse(process.argv[3]);
const rd = (f) => fs.readFileSync(f);
const opts = {};
if (o.cert) { opts.cert = rd(o.cert); opts.key = rd(o.key); }
for (const k of ['ciphers', 'ecdhCurve', 'minVersion', 'maxVersion', 'ALPNProtocols', 'requestCert', 'rejectUnauthorized'])
  if (k in o) opts[k] = o[k];
if (o.ca) opts.ca = rd(o.ca);
if (o.sni) {                       // only this name gets a certificate; others: error (or none)
  const good = tls.createSecureContext({ cert: rd(o.sni.cert), key: rd(o.sni.key) });
  opts.SNICallback = (name, cb) => name === o.sni.name ? cb(null, good) : cb(new Error('no certificate for ' + name));
}
const srv = tls.createServer(opts, (s) => {
  s.on('error', (e) => console.error('socket', e.message));
  s.once('data', () => s.end('HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nok\n'));
});
srv.on('tlsClientError', (e) => console.error('tlsClientError', e.code || '', e.message));
srv.listen(port, '127.0.0.1');
EOF
hsnode() { local name=$1 port=$2; bg "$name-node" node "$T/hs-node.js" "$port" "$3"; wait_listen "$port"; }

# Java 17 JSSE: java -D... HsServer PORT P12 [needClientAuth] [alpn=a,b] [sni=name]
mkdir -p "$T/java"
cat >"$T/java/HsServer.java" <<'EOF'
import javax.net.ssl.*; import java.io.*; import java.net.*; import java.security.KeyStore; import java.util.*;
public class HsServer {
  public static void main(String[] a) throws Exception {
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = new FileInputStream(a[1])) { ks.load(in, "changeit".toCharArray()); }
    KeyManagerFactory kmf = KeyManagerFactory.getInstance("SunX509"); kmf.init(ks, "changeit".toCharArray());
    TrustManager[] tm = { new X509TrustManager() {
      public void checkClientTrusted(java.security.cert.X509Certificate[] c, String t) {}
      public void checkServerTrusted(java.security.cert.X509Certificate[] c, String t) {}
      public java.security.cert.X509Certificate[] getAcceptedIssuers() { return new java.security.cert.X509Certificate[0]; } } };
    SSLContext ctx = SSLContext.getInstance("TLS"); ctx.init(kmf.getKeyManagers(), tm, null);
    SSLServerSocket ss = (SSLServerSocket) ctx.getServerSocketFactory().createServerSocket(Integer.parseInt(a[0]), 8, InetAddress.getByName("127.0.0.1"));
    SSLParameters p = ss.getSSLParameters();
    for (int i = 2; i < a.length; i++) {
      if (a[i].equals("needClientAuth")) p.setNeedClientAuth(true);
      else if (a[i].startsWith("alpn=")) p.setApplicationProtocols(a[i].substring(5).split(","));
      else if (a[i].startsWith("sni=")) p.setSNIMatchers(List.of(SNIHostName.createSNIMatcher(a[i].substring(4).replace(".", "\\."))));
    }
    ss.setSSLParameters(p);
    while (true) {
      try (SSLSocket s = (SSLSocket) ss.accept()) {
        s.setSoTimeout(5000);
        try { s.startHandshake(); s.getInputStream().read(new byte[4096]);
              s.getOutputStream().write("HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nok\n".getBytes()); s.getOutputStream().flush();
        } catch (IOException e) { System.err.println("handshake: " + e); }
      }
    }
  }
}
EOF
javac -d "$T/java" "$T/java/HsServer.java" 2>"$LOG/javac.log" || die "javac: $(cat "$LOG/javac.log")"
# hsjava NAME PORT "java -D options" P12 [args]
hsjava() {
    local name=$1 port=$2 jopts=$3 p12=$4; shift 4
    # shellcheck disable=SC2086
    bg "$name-java" java -Xshare:auto -XX:TieredStopAtLevel=1 $jopts -cp "$T/java" HsServer "$port" "$p12" "$@"
    wait_listen "$port"
}

# Python ssl server: sni callback that answers a ClientHello without SNI with the given alert
cat >"$T/hs-py.py" <<'EOF'
import os, socket, ssl, sys
port, cert, key, alert = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.minimum_version = ssl.TLSVersion.TLSv1
ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
ctx.load_cert_chain(cert, key)
def cb(sock, name, c):
    if name is None:
        return getattr(ssl, "ALERT_DESCRIPTION_" + alert)
    return None
if alert != "NONE":
    ctx.sni_callback = cb
if len(sys.argv) > 5:
    ctx.set_alpn_protocols(sys.argv[5].split(","))
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port)); s.listen(8)
while True:
    c, _ = s.accept()
    try:
        t = ctx.wrap_socket(c, server_side=True)
        t.recv(4096); t.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nok\n")
        if os.environ.get("HSPY_NO_CLOSE_NOTIFY") != "1":
            t = t.unwrap()                 # close_notify, wait for the client's
        t.close()
    except (OSError, ssl.SSLError) as e:
        print("handshake:", e, file=sys.stderr, flush=True); c.close()
EOF
hspy() { local name=$1 port=$2; bg "$name-py" python3 "$T/hs-py.py" "$port" "${@:3}"; wait_listen "$port"; }

# GnuTLS gnutls-serv (if installed): hsgnutls NAME PORT args...
HAVE_GNUTLS=0; command -v gnutls-serv >/dev/null && HAVE_GNUTLS=1
hsgnutls() {
    local name=$1 port=$2; shift 2
    bg "$name-gnutls" gnutls-serv --port "$port" --http --x509certfile "$PKI/hsrsa-fullchain.pem" \
        --x509keyfile "$PKI/hsrsa.key" "$@"
    wait_listen "$port"
}

# nginx and HAProxy instances of this file
HNGX=$T/hs-nginx
mkdir -p "$HNGX/logs" "$HNGX/tmp"
cat >"$HNGX/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
pid $HNGX/nginx.pid;
error_log $HNGX/logs/error.log info;
events { worker_connections 64; }
http {
    access_log $HNGX/logs/access.log;
    client_body_temp_path $HNGX/tmp/body;
    proxy_temp_path $HNGX/tmp/proxy;
    fastcgi_temp_path $HNGX/tmp/fastcgi;
    uwsgi_temp_path $HNGX/tmp/uwsgi;
    scgi_temp_path $HNGX/tmp/scgi;
    default_type text/plain;
    ssl_session_tickets off;
    server {    # CHACHA20 only
        listen 127.0.0.1:8450 ssl;
        ssl_certificate $PKI/hsrsa-fullchain.pem; ssl_certificate_key $PKI/hsrsa.key;
        ssl_protocols TLSv1.2;
        ssl_ciphers ECDHE-RSA-CHACHA20-POLY1305;
        location / { return 200 "ok\n"; }
    }
    server {    # RSASSA-PSS key
        listen 127.0.0.1:8451 ssl;
        ssl_certificate $PKI/hspss-fullchain.pem; ssl_certificate_key $PKI/hspss.key;
        ssl_protocols TLSv1.2;
        location / { return 200 "ok\n"; }
    }
    server {    # requires SNI (default server rejects)
        listen 127.0.0.1:8452 ssl default_server;
        ssl_reject_handshake on;
    }
    server {
        listen 127.0.0.1:8452 ssl;
        server_name target.example;
        ssl_certificate $PKI/hsrsa-fullchain.pem; ssl_certificate_key $PKI/hsrsa.key;
        location / { return 200 "ok\n"; }
    }
    server {    # ssl_verify_client optional: no certificate -> the request is served (200)
        listen 127.0.0.1:8454 ssl;
        ssl_certificate $PKI/hsrsa-fullchain.pem; ssl_certificate_key $PKI/hsrsa.key;
        ssl_protocols TLSv1.2;
        ssl_verify_client optional;
        ssl_client_certificate $PKI/ca-root.pem;
        location / { return 200 "ok\n"; }
    }
    server {    # ssl_verify_client on: no certificate -> HTTP 400
        listen 127.0.0.1:8455 ssl;
        ssl_certificate $PKI/hsrsa-fullchain.pem; ssl_certificate_key $PKI/hsrsa.key;
        ssl_protocols TLSv1.2;
        ssl_verify_client on;
        ssl_client_certificate $PKI/ca-root.pem;
        location / { return 200 "ok\n"; }
    }
    server {    # brainpoolP256r1 key
        listen 127.0.0.1:8456 ssl;
        ssl_certificate $PKI/hsbp256-fullchain.pem; ssl_certificate_key $PKI/hsbp256.key;
        ssl_protocols TLSv1.2;
        location / { return 200 "ok\n"; }
    }
    server {    # HTTP/1.1 only, lenient ALPN (no http2): a client offering only h2 still completes
        listen 127.0.0.1:8457 ssl;
        ssl_certificate $PKI/hsrsa-fullchain.pem; ssl_certificate_key $PKI/hsrsa.key;
        ssl_protocols TLSv1.2;
        location / { return 200 "ok\n"; }
    }
    server {    # TLS 1.3 only, ssl_verify_client on: what nginx does when no certificate comes
        listen 127.0.0.1:8491 ssl;
        ssl_certificate $PKI/hsrsa-fullchain.pem; ssl_certificate_key $PKI/hsrsa.key;
        ssl_protocols TLSv1.3;
        ssl_verify_client on;
        ssl_client_certificate $PKI/ca-root.pem;
        location / { return 200 "ok\n"; }
    }
    server {    # the application itself answers 502 / 503 over a healthy TLS connection
        listen 127.0.0.1:8492 ssl;
        ssl_certificate $PKI/hsrsa-fullchain.pem; ssl_certificate_key $PKI/hsrsa.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        location /502 { return 502; }
        location / { return 503; }
    }
    server {    # HTTP/2 (ALPN h2) over TLS 1.2 and 1.3: the decrypted preface and first frames
        listen 127.0.0.1:8493 ssl http2;
        ssl_certificate $PKI/hsrsa-fullchain.pem; ssl_certificate_key $PKI/hsrsa.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        location / { return 200 "ok\n"; }
    }
    server {    # healthy TLS 1.2 and 1.3 target with long organisation-validated names in its chain
        listen 127.0.0.1:8494 ssl;
        server_name $LN_HOST;
        ssl_certificate $PKI/ln-leaf-fullchain.pem; ssl_certificate_key $PKI/ln-leaf.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        location / { return 200 "ok\n"; }
    }
}
EOF
nginx -t -q -p "$HNGX/" -e "$HNGX/logs/error.log" -c "$HNGX/nginx.conf" 2>"$LOG/hs-nginx-t.log" \
    || die "hs nginx -t: $(cat "$LOG/hs-nginx-t.log")"
bg hs-nginx nginx -p "$HNGX/" -e "$HNGX/logs/error.log" -c "$HNGX/nginx.conf"
HNGX_PID=$BG_PID
for p in 8450 8451 8452 8454 8455 8456 8457 8491 8492 8493 8494; do wait_listen "$p"; done

HAPX=$T/hs-haproxy
mkdir -p "$HAPX"
cat >"$HAPX/haproxy.cfg" <<EOF
global
    log stderr format raw local0 info
defaults
    mode http
    log global
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend strict_sni
    bind 127.0.0.1:8460 ssl crt $PKI/hsrsa-haproxy.pem strict-sni
    http-request return status 200 content-type text/plain string "ok"
frontend alpn_http11
    bind 127.0.0.1:8467 ssl crt $PKI/hsrsa-haproxy.pem alpn http/1.1
    http-request return status 200 content-type text/plain string "ok"
EOF
haproxy -c -q -f "$HAPX/haproxy.cfg" >"$LOG/hs-haproxy-c.log" 2>&1 || die "haproxy -c: $(cat "$LOG/hs-haproxy-c.log")"
bg hs-haproxy haproxy -db -f "$HAPX/haproxy.cfg"
HAPX_PID=$BG_PID
wait_listen 8460
wait_listen 8467

# one capture: hscap NAME BPF-PORTS command... (the command runs the clients)
hscap() {
    local name=$1 ports=$2; shift 2
    cap_start "$name" "$ports"
    "$@"
    cap_stop
}

# -- cases -------------------------------------------------------------------------------------------
OSRV=(-cert "$PKI/hsrsa.pem" -key "$PKI/hsrsa.key" -cert_chain "$PKI/ca-int.pem")
ALB_DESC="ALB-like client (ELBSecurityPolicy-2016-08: TLS 1.0-1.2, the 18 suites in AWS order, no SNI; OpenSSL 3.0 default supported_groups and signature_algorithms)"
ALB13_DESC="ALB-like client on ELBSecurityPolicy-TLS13-1-0-2021-06 (TLS 1.0-1.3, 1301 1302 1303 then the 18 suites, no SNI)"
H11_CLOSE=$'GET / HTTP/1.1\r\nHost: target.example\r\nConnection: close\r\n\r\n'

# 1. no shared cipher suite ------------------------------------------------------------------------
describe hs-noshared-dhe-openssl "s_server -tls1_2 -cipher DHE-RSA-AES128-GCM-SHA256 (RSA leaf+intermediate); $ALB_DESC" \
    "ClientHello, then alert handshake_failure (40) from the server before any ServerHello"
server hs-noshared-dhe-openssl 127.0.0.1:8400 -tls1_2 -cipher DHE-RSA-AES128-GCM-SHA256 "${OSRV[@]}"; SPID=$BG_PID
hscap hs-noshared-dhe-openssl "tcp port 8400" alb 127.0.0.1:8400
stop "$SPID"

describe hs-alb13-noshared-chacha-openssl "s_server -tls1_2 -cipher ECDHE-RSA-CHACHA20-POLY1305 (RSA leaf+intermediate); $ALB13_DESC" \
    "ClientHello offering TLS 1.0-1.3, then alert handshake_failure (40) from the server before any ServerHello: the TLS 1.3 listener policy is already in place"
server hs-alb13-noshared-chacha-openssl 127.0.0.1:8490 -tls1_2 -cipher ECDHE-RSA-CHACHA20-POLY1305 "${OSRV[@]}"; SPID=$BG_PID
hscap hs-alb13-noshared-chacha-openssl "tcp port 8490" alb13 127.0.0.1:8490
stop "$SPID"

describe hs-noshared-dhe-java "Java 17 JSSE server, -Djdk.tls.server.cipherSuites=TLS_DHE_RSA_WITH_AES_128_GCM_SHA256 (RSA leaf+intermediate); $ALB_DESC" \
    "ClientHello, then an alert from the Java server before any ServerHello"
hsjava hs-noshared-dhe-java 8401 "-Djdk.tls.server.cipherSuites=TLS_DHE_RSA_WITH_AES_128_GCM_SHA256" "$PKI/hsrsa.p12"; SPID=$BG_PID
hscap hs-noshared-dhe-java "tcp port 8401" alb 127.0.0.1:8401
stop "$SPID"

if [[ $HAVE_GNUTLS == 1 ]]; then
describe hs-noshared-dhe-gnutls "gnutls-serv --priority NORMAL:-KX-ALL:+DHE-RSA (RSA leaf+intermediate); $ALB_DESC" \
    "ClientHello, then an alert from GnuTLS before any ServerHello"
hsgnutls hs-noshared-dhe-gnutls 8402 --priority "NORMAL:-KX-ALL:+DHE-RSA"; SPID=$BG_PID
hscap hs-noshared-dhe-gnutls "tcp port 8402" alb 127.0.0.1:8402
stop "$SPID"
fi

describe hs-noshared-chacha-nginx "nginx ssl_protocols TLSv1.2, ssl_ciphers ECDHE-RSA-CHACHA20-POLY1305; $ALB_DESC" \
    "ClientHello, then alert handshake_failure (40) from nginx before any ServerHello"
hscap hs-noshared-chacha-nginx "tcp port 8450" alb 127.0.0.1:8450

describe hs-noshared-chacha-node "Node 20 tls server, ciphers ECDHE-RSA-CHACHA20-POLY1305, maxVersion TLSv1.2; $ALB_DESC" \
    "ClientHello, then alert handshake_failure (40) from Node (OpenSSL inside) before any ServerHello"
hsnode hs-noshared-chacha-node 8403 "{\"cert\":\"$PKI/hsrsa-fullchain.pem\",\"key\":\"$PKI/hsrsa.key\",\"ciphers\":\"ECDHE-RSA-CHACHA20-POLY1305\",\"maxVersion\":\"TLSv1.2\"}"; SPID=$BG_PID
hscap hs-noshared-chacha-node "tcp port 8403" alb 127.0.0.1:8403
stop "$SPID"

describe hs-noshared-tls13suites-java "Java 17 JSSE server, protocols TLSv1.2+TLSv1.3 but cipherSuites TLS_AES_128_GCM_SHA256,TLS_AES_256_GCM_SHA384 only; $ALB_DESC (TLS 1.2 at most)" \
    "ClientHello without supported_versions, then an alert from the Java server before any ServerHello"
hsjava hs-noshared-tls13suites-java 8404 "-Djdk.tls.server.cipherSuites=TLS_AES_128_GCM_SHA256,TLS_AES_256_GCM_SHA384 -Djdk.tls.server.protocols=TLSv1.2,TLSv1.3" "$PKI/hsrsa.p12"; SPID=$BG_PID
hscap hs-noshared-tls13suites-java "tcp port 8404" alb 127.0.0.1:8404
stop "$SPID"

# 2. certificate key curve not in supported_groups (TLS 1.2) + 8. the same server works with another offer
describe hs-curve-p521-openssl "s_server -tls1_2 with a P-521 ECDSA leaf (+RSA intermediate); connection 1: $ALB_DESC (groups include secp521r1); connection 2: the same client with -groups $NARROW_GROUPS" \
    "1: ECDHE-ECDSA handshake completes; 2: ClientHello with the same 18 suites, alert handshake_failure (40) from the server before any ServerHello"
server hs-curve-p521-openssl 127.0.0.1:8410 -tls1_2 -cert "$PKI/hsp521.pem" -key "$PKI/hsp521.key" -cert_chain "$PKI/ca-int.pem"; SPID=$BG_PID
hscap hs-curve-p521-openssl "tcp port 8410" eval 'alb 127.0.0.1:8410; alb 127.0.0.1:8410 -groups $NARROW_GROUPS'
stop "$SPID"

describe hs-curve-p521-java "Java 17 JSSE server with a P-521 ECDSA leaf (+RSA intermediate); connection 1: $ALB_DESC; connection 2: the same client with -groups $NARROW_GROUPS" \
    "1: handshake completes; 2: an alert from the Java server before any ServerHello"
hsjava hs-curve-p521-java 8411 "" "$PKI/hsp521.p12"; SPID=$BG_PID
hscap hs-curve-p521-java "tcp port 8411" eval 'alb 127.0.0.1:8411; alb 127.0.0.1:8411 -groups $NARROW_GROUPS'
stop "$SPID"

if [[ $HAVE_GNUTLS == 1 ]]; then
describe hs-curve-p521-gnutls "gnutls-serv with a P-521 ECDSA leaf (+RSA intermediate); connection 1: $ALB_DESC; connection 2: the same client with -groups $NARROW_GROUPS" \
    "1: handshake completes; 2: what GnuTLS does when the certificate's curve is not offered"
bg hs-curve-p521-gnutls gnutls-serv --port 8412 --http --x509certfile "$PKI/hsp521-fullchain.pem" --x509keyfile "$PKI/hsp521.key"; SPID=$BG_PID; wait_listen 8412
hscap hs-curve-p521-gnutls "tcp port 8412" eval 'alb 127.0.0.1:8412; alb 127.0.0.1:8412 -groups $NARROW_GROUPS'
stop "$SPID"
fi

describe hs-curve-brainpool-nginx "nginx TLS 1.2 with a brainpoolP256r1 ECDSA leaf (+RSA intermediate); connection 1: $ALB_DESC (OpenSSL's default groups have no brainpool); connection 2: the same client with -groups brainpoolP256r1:X25519:P-256" \
    "1: alert handshake_failure (40) from nginx before any ServerHello; 2: ECDHE-ECDSA handshake completes"
hscap hs-curve-brainpool-nginx "tcp port 8456" eval 'alb 127.0.0.1:8456; alb 127.0.0.1:8456 -groups brainpoolP256r1:X25519:P-256'

# 3. RSASSA-PSS key, no rsa_pss_pss_* offered -----------------------------------------------------
describe hs-rsapss-openssl "s_server -tls1_2 with an RSASSA-PSS (id-RSASSA-PSS) key leaf (+RSA intermediate); connection 1: $ALB_DESC (rsa_pss_pss_* offered); connection 2: the same client with -sigalgs without rsa_pss_pss_*" \
    "1: handshake completes (ECDHE-RSA with rsa_pss_pss_sha256); 2: alert handshake_failure (40) from the server before any ServerHello"
server hs-rsapss-openssl 127.0.0.1:8420 -tls1_2 -cert "$PKI/hspss.pem" -key "$PKI/hspss.key" -cert_chain "$PKI/ca-int.pem"; SPID=$BG_PID
hscap hs-rsapss-openssl "tcp port 8420" eval 'alb 127.0.0.1:8420; alb 127.0.0.1:8420 -sigalgs $NO_PSS_PSS_SIGALGS'
stop "$SPID"

describe hs-rsapss-nginx "nginx TLS 1.2 with an RSASSA-PSS key leaf (+RSA intermediate); connection 1: $ALB_DESC; connection 2: the same client with -sigalgs without rsa_pss_pss_*" \
    "1: handshake completes; 2: alert from nginx before any ServerHello"
hscap hs-rsapss-nginx "tcp port 8451" eval 'alb 127.0.0.1:8451; alb 127.0.0.1:8451 -sigalgs $NO_PSS_PSS_SIGALGS'

describe hs-rsapss-java "Java 17 JSSE server with an RSASSA-PSS key leaf (+RSA intermediate, PKCS#12); connection 1: $ALB_DESC; connection 2: the same client with -sigalgs without rsa_pss_pss_*" \
    "1: handshake completes; 2: an alert from the Java server before any ServerHello"
hsjava hs-rsapss-java 8421 "" "$PKI/hspss.p12"; SPID=$BG_PID
hscap hs-rsapss-java "tcp port 8421" eval 'alb 127.0.0.1:8421; alb 127.0.0.1:8421 -sigalgs $NO_PSS_PSS_SIGALGS'
stop "$SPID"

# 4. TLS 1.3, no common group -----------------------------------------------------------------------
describe hs-tls13-group-x448-openssl "s_server -groups X448 (TLS 1.2+1.3); connection 1: $ALB13_DESC with -groups $NARROW_GROUPS; connection 2: the same offer with OpenSSL's default groups (X448 listed, key share X25519 only)" \
    "1: alert from the server before any ServerHello; 2: HelloRetryRequest for X448, then TLS 1.3"
server hs-tls13-group-x448-openssl 127.0.0.1:8430 -groups X448 "${OSRV[@]}"; SPID=$BG_PID
hscap hs-tls13-group-x448-openssl "tcp port 8430" eval 'alb13 127.0.0.1:8430 -groups $NARROW_GROUPS; alb13 127.0.0.1:8430'
stop "$SPID"

describe hs-tls13-group-ffdhe-openssl "s_server -groups ffdhe2048 (TLS 1.2+1.3); connection 1: $ALB13_DESC with -groups $NARROW_GROUPS; connection 2: the same offer with OpenSSL's default groups (ffdhe2048 listed)" \
    "1: alert from the server before any ServerHello; 2: HelloRetryRequest for ffdhe2048, then TLS 1.3"
server hs-tls13-group-ffdhe-openssl 127.0.0.1:8431 -groups ffdhe2048 "${OSRV[@]}"; SPID=$BG_PID
hscap hs-tls13-group-ffdhe-openssl "tcp port 8431" eval 'alb13 127.0.0.1:8431 -groups $NARROW_GROUPS; alb13 127.0.0.1:8431'
stop "$SPID"

describe hs-tls13-group-ffdhe-java "Java 17 JSSE server, -Djdk.tls.namedGroups=ffdhe2048; connection 1: $ALB13_DESC with -groups $NARROW_GROUPS; connection 2: the same offer with OpenSSL's default groups" \
    "1: the Java server's answer when no group is shared; 2: HelloRetryRequest, then TLS 1.3"
hsjava hs-tls13-group-ffdhe-java 8432 "-Djdk.tls.namedGroups=ffdhe2048" "$PKI/hsrsa.p12"; SPID=$BG_PID
hscap hs-tls13-group-ffdhe-java "tcp port 8432" eval 'alb13 127.0.0.1:8432 -groups $NARROW_GROUPS; alb13 127.0.0.1:8432'
stop "$SPID"

describe hs-tls13-group-x448-node "Node 20 tls server, ecdhCurve X448; connection 1: $ALB13_DESC with -groups $NARROW_GROUPS; connection 2: the same offer with OpenSSL's default groups" \
    "1: alert from Node before any ServerHello; 2: HelloRetryRequest for X448, then TLS 1.3"
hsnode hs-tls13-group-x448-node 8433 "{\"cert\":\"$PKI/hsrsa-fullchain.pem\",\"key\":\"$PKI/hsrsa.key\",\"ecdhCurve\":\"X448\"}"; SPID=$BG_PID
hscap hs-tls13-group-x448-node "tcp port 8433" eval 'alb13 127.0.0.1:8433 -groups $NARROW_GROUPS; alb13 127.0.0.1:8433'
stop "$SPID"

if [[ $HAVE_GNUTLS == 1 ]]; then
describe hs-tls13-group-ffdhe-gnutls "gnutls-serv --priority NORMAL:-GROUP-ALL:+GROUP-FFDHE2048; connection 1: $ALB13_DESC with -groups $NARROW_GROUPS; connection 2: the same offer with OpenSSL's default groups" \
    "1: GnuTLS's answer when no group is shared; 2: HelloRetryRequest, then TLS 1.3"
hsgnutls hs-tls13-group-ffdhe-gnutls 8434 --priority "NORMAL:-GROUP-ALL:+GROUP-FFDHE2048"; SPID=$BG_PID
hscap hs-tls13-group-ffdhe-gnutls "tcp port 8434" eval 'alb13 127.0.0.1:8434 -groups $NARROW_GROUPS; alb13 127.0.0.1:8434'
stop "$SPID"
fi

# 5. extended_master_secret required ----------------------------------------------------------------
describe hs-ems-required-java "Java 17 JSSE server, -Djdk.tls.allowLegacyMasterSecret=false; connection 1: $ALB_DESC (extended_master_secret offered); connection 2: the same client without extended_master_secret (OpenSSL config Options = -ExtendedMasterSecret)" \
    "1: TLS 1.2 completes; 2: ClientHello without extension 23, an alert from the Java server before any ServerHello"
hsjava hs-ems-required-java 8435 "-Djdk.tls.allowLegacyMasterSecret=false" "$PKI/hsrsa.p12"; SPID=$BG_PID
hscap hs-ems-required-java "tcp port 8435" eval 'alb 127.0.0.1:8435; alb_no_ems 127.0.0.1:8435'
stop "$SPID"

# 6. target requires SNI (and 8.: the same server works with SNI in the same capture) -----------------
describe hs-sni-required-nginx "nginx: default server ssl_reject_handshake on, server_name target.example with a certificate; connection 1: $ALB_DESC; connection 2: the same offer with SNI target.example" \
    "1: alert unrecognized_name (112) from nginx before any ServerHello; 2: TLS 1.2 completes"
hscap hs-sni-required-nginx "tcp port 8452" eval 'alb 127.0.0.1:8452; alb_sni target.example 127.0.0.1:8452'

describe hs-sni-required-haproxy "HAProxy 2.6 bind ... ssl crt <RSA leaf> strict-sni; connection 1: $ALB_DESC; connection 2: the same offer with SNI target.example" \
    "1: HAProxy's answer to a ClientHello without SNI; 2: TLS 1.2 completes, HTTP 200"
hscap hs-sni-required-haproxy "tcp port 8460" eval 'alb 127.0.0.1:8460; alb_sni target.example 127.0.0.1:8460'

describe hs-sni-matcher-java "Java 17 JSSE server with an SNIMatcher for target.example; connection 1: $ALB_DESC; connection 2: the same offer with SNI other.example; connection 3: with SNI target.example" \
    "JSSE's answers without SNI, with a non-matching SNI and with the matching one"
hsjava hs-sni-matcher-java 8440 "" "$PKI/hsrsa.p12" sni=target.example; SPID=$BG_PID
hscap hs-sni-matcher-java "tcp port 8440" eval 'alb 127.0.0.1:8440; alb_sni other.example 127.0.0.1:8440; alb_sni target.example 127.0.0.1:8440'
stop "$SPID"

describe hs-sni-required-python "python3 ssl server whose sni_callback returns ALERT_DESCRIPTION_HANDSHAKE_FAILURE when the ClientHello has no SNI; connection 1: $ALB_DESC; connection 2: the same offer with SNI target.example" \
    "1: alert handshake_failure (40) from the server before any ServerHello; 2: TLS 1.2 completes"
hspy hs-sni-required-python 8441 "$PKI/hsrsa-fullchain.pem" "$PKI/hsrsa.key" HANDSHAKE_FAILURE; SPID=$BG_PID
hscap hs-sni-required-python "tcp port 8441" eval 'alb 127.0.0.1:8441; alb_sni target.example 127.0.0.1:8441'
stop "$SPID"

# 11. alert 80 internal_error ------------------------------------------------------------------------
describe hs-internal-error-python "python3 ssl server whose sni_callback returns ALERT_DESCRIPTION_INTERNAL_ERROR when the ClientHello has no SNI; connection 1: $ALB_DESC; connection 2: the same offer with SNI target.example" \
    "1: alert internal_error (80) from the server before any ServerHello; 2: TLS 1.2 completes"
hspy hs-internal-error-python 8442 "$PKI/hsrsa-fullchain.pem" "$PKI/hsrsa.key" INTERNAL_ERROR; SPID=$BG_PID
hscap hs-internal-error-python "tcp port 8442" eval 'alb 127.0.0.1:8442; alb_sni target.example 127.0.0.1:8442'
stop "$SPID"

# 7. no default certificate -------------------------------------------------------------------------
# (nginx 1.22 cannot play "no default certificate": nginx -t refuses a `listen ... ssl` server without
# ssl_certificate unless it has ssl_reject_handshake on, which is hs-sni-required-nginx.)
describe hs-no-default-cert-node "Node 20 tls server without a default certificate, SNICallback: target.example gets a context, any other name an Error; connection 1: $ALB_DESC; connection 2: the same offer with SNI other.example; connection 3: with SNI target.example" \
    "1: Node without any certificate; 2: SNICallback error; 3: TLS 1.2 completes"
hsnode hs-no-default-cert-node 8443 "{\"sni\":{\"name\":\"target.example\",\"cert\":\"$PKI/hsrsa-fullchain.pem\",\"key\":\"$PKI/hsrsa.key\"}}"; SPID=$BG_PID
hscap hs-no-default-cert-node "tcp port 8443" eval 'alb 127.0.0.1:8443; alb_sni other.example 127.0.0.1:8443; alb_sni target.example 127.0.0.1:8443'
stop "$SPID"

# 9. ALPN ------------------------------------------------------------------------------------------
describe hs-alpn-h2-vs-http11-node "Node 20 tls server ALPNProtocols [http/1.1]; connection 1: $ALB_DESC with -alpn h2; connection 2: the same client with -alpn http/1.1" \
    "1: alert no_application_protocol (120) from Node before any ServerHello; 2: TLS 1.2 completes with ALPN http/1.1"
hsnode hs-alpn-h2-vs-http11-node 8461 "{\"cert\":\"$PKI/hsrsa-fullchain.pem\",\"key\":\"$PKI/hsrsa.key\",\"ALPNProtocols\":[\"http/1.1\"]}"; SPID=$BG_PID
hscap hs-alpn-h2-vs-http11-node "tcp port 8461" eval 'alb 127.0.0.1:8461 -alpn h2; alb 127.0.0.1:8461 -alpn http/1.1'
stop "$SPID"

describe hs-alpn-http11-vs-h2-node "Node 20 tls server ALPNProtocols [h2]; $ALB_DESC with -alpn http/1.1" \
    "alert no_application_protocol (120) from Node before any ServerHello"
hsnode hs-alpn-http11-vs-h2-node 8462 "{\"cert\":\"$PKI/hsrsa-fullchain.pem\",\"key\":\"$PKI/hsrsa.key\",\"ALPNProtocols\":[\"h2\"]}"; SPID=$BG_PID
hscap hs-alpn-http11-vs-h2-node "tcp port 8462" alb 127.0.0.1:8462 -alpn http/1.1
stop "$SPID"

describe hs-alpn-h2-vs-http11-java "Java 17 JSSE server, application protocols [http/1.1]; $ALB_DESC with -alpn h2" \
    "JSSE's answer to an ALPN list without a common protocol"
hsjava hs-alpn-h2-vs-http11-java 8463 "" "$PKI/hsrsa.p12" alpn=http/1.1; SPID=$BG_PID
hscap hs-alpn-h2-vs-http11-java "tcp port 8463" alb 127.0.0.1:8463 -alpn h2
stop "$SPID"

if [[ $HAVE_GNUTLS == 1 ]]; then
describe hs-alpn-h2-vs-http11-gnutls "gnutls-serv --alpn http/1.1 --alpn-fatal; $ALB_DESC with -alpn h2" \
    "GnuTLS's answer to an ALPN list without a common protocol (--alpn-fatal)"
hsgnutls hs-alpn-h2-vs-http11-gnutls 8465 --alpn http/1.1 --alpn-fatal; SPID=$BG_PID
hscap hs-alpn-h2-vs-http11-gnutls "tcp port 8465" alb 127.0.0.1:8465 -alpn h2
stop "$SPID"
fi

describe hs-alpn-h2-vs-http11-openssl "s_server -tls1_2 -alpn http/1.1; $ALB_DESC with -alpn h2" \
    "alert no_application_protocol (120) from s_server before any ServerHello (s_server is strict)"
server hs-alpn-h2-vs-http11-openssl 127.0.0.1:8464 -tls1_2 -alpn http/1.1 "${OSRV[@]}"; SPID=$BG_PID
hscap hs-alpn-h2-vs-http11-openssl "tcp port 8464" alb 127.0.0.1:8464 -alpn h2
stop "$SPID"

describe hs-alpn-h2-vs-http11-nginx "nginx 1.22 TLS 1.2 without http2 (HTTP/1.1 only); $ALB_DESC with -alpn h2; connection 2: the same client with -alpn http/1.1" \
    "1: alert no_application_protocol (120) from nginx before any ServerHello (nginx is strict); 2: TLS 1.2 completes with ALPN http/1.1"
hscap hs-alpn-h2-vs-http11-nginx "tcp port 8457" eval 'alb 127.0.0.1:8457 -alpn h2; alb 127.0.0.1:8457 -alpn http/1.1'

describe hs-alpn-lenient-python "python3 ssl server, set_alpn_protocols([http/1.1]) (CPython answers no overlap with no ALPN, not an alert); $ALB_DESC with -alpn h2" \
    "TLS 1.2 completes without ALPN in the ServerHello, HTTP 200"
hspy hs-alpn-lenient-python 8466 "$PKI/hsrsa-fullchain.pem" "$PKI/hsrsa.key" NONE http/1.1; SPID=$BG_PID
hscap hs-alpn-lenient-python "tcp port 8466" alb 127.0.0.1:8466 -alpn h2
stop "$SPID"

describe hs-no-close-notify-200-python "python3 ssl server that answers HTTP 200 and closes the socket without close_notify (no unwrap()); $ALB_DESC" \
    "TLS 1.2 completes, HTTP 200, the server's FIN without close_notify; OpenSSL 3's s_client then sends a fatal alert (decode_error, encrypted) and gets a RST: a healthy exchange that ends with a fatal alert"
HSPY_NO_CLOSE_NOTIFY=1 hspy hs-no-close-notify-200-python 8468 "$PKI/hsrsa-fullchain.pem" "$PKI/hsrsa.key" NONE; SPID=$BG_PID
hscap hs-no-close-notify-200-python "tcp port 8468" alb 127.0.0.1:8468
stop "$SPID"

describe hs-alpn-lenient-haproxy "HAProxy 2.6 bind ... ssl crt <RSA leaf> alpn http/1.1; $ALB_DESC with -alpn h2" \
    "HAProxy's answer to an ALPN list without overlap"
hscap hs-alpn-lenient-haproxy "tcp port 8467" alb 127.0.0.1:8467 -alpn h2

# 10. client certificate required ---------------------------------------------------------------------
describe hs-client-cert-tls12-java "Java 17 JSSE server, needClientAuth, TLS 1.2 (the client offers no more); $ALB_DESC, no client certificate" \
    "CertificateRequest, empty client Certificate, then JSSE's alert"
hsjava hs-client-cert-tls12-java 8470 "" "$PKI/hsrsa.p12" needClientAuth; SPID=$BG_PID
hscap hs-client-cert-tls12-java "tcp port 8470" alb 127.0.0.1:8470
stop "$SPID"

if [[ $HAVE_GNUTLS == 1 ]]; then
describe hs-client-cert-tls12-gnutls "gnutls-serv --require-client-cert --x509cafile root; $ALB_DESC, no client certificate" \
    "CertificateRequest, empty client Certificate, then GnuTLS's alert"
hsgnutls hs-client-cert-tls12-gnutls 8471 --require-client-cert --x509cafile "$PKI/ca-root.pem"; SPID=$BG_PID
hscap hs-client-cert-tls12-gnutls "tcp port 8471" alb 127.0.0.1:8471
stop "$SPID"
fi

describe hs-client-cert-tls12-node "Node 20 tls server requestCert + rejectUnauthorized, maxVersion TLSv1.2; $ALB_DESC, no client certificate" \
    "CertificateRequest, empty client Certificate, then alert from Node (OpenSSL inside)"
hsnode hs-client-cert-tls12-node 8472 "{\"cert\":\"$PKI/hsrsa-fullchain.pem\",\"key\":\"$PKI/hsrsa.key\",\"ca\":\"$PKI/ca-root.pem\",\"requestCert\":true,\"rejectUnauthorized\":true,\"maxVersion\":\"TLSv1.2\"}"; SPID=$BG_PID
hscap hs-client-cert-tls12-node "tcp port 8472" alb 127.0.0.1:8472
stop "$SPID"

describe hs-client-cert-optional-200-node "Node 20 tls server requestCert true, rejectUnauthorized false, maxVersion TLSv1.2: answers HTTP 200 and ends the socket; $ALB_DESC, no client certificate" \
    "CertificateRequest, empty client Certificate, handshake completes, HTTP 200, the server closes first (close_notify, FIN): healthy"
hsnode hs-client-cert-optional-200-node 8474 "{\"cert\":\"$PKI/hsrsa-fullchain.pem\",\"key\":\"$PKI/hsrsa.key\",\"ca\":\"$PKI/ca-root.pem\",\"requestCert\":true,\"rejectUnauthorized\":false,\"maxVersion\":\"TLSv1.2\"}"; SPID=$BG_PID
hscap hs-client-cert-optional-200-node "tcp port 8474" alb 127.0.0.1:8474
stop "$SPID"

describe hs-client-cert-tls13-openssl "s_server -Verify 1 -CAfile root (TLS 1.3); $ALB13_DESC, no client certificate" \
    "TLS 1.3: ServerHello, encrypted flight with CertificateRequest, the client's empty Certificate and Finished, then the server's encrypted alert certificate_required (116)"
server hs-client-cert-tls13-openssl 127.0.0.1:8473 -Verify 1 -CAfile "$PKI/ca-root.pem" "${OSRV[@]}"; SPID=$BG_PID
hscap hs-client-cert-tls13-openssl "tcp port 8473" alb13 127.0.0.1:8473
stop "$SPID"

describe hs-nginx-verify-optional-200 "nginx TLS 1.2 ssl_verify_client optional; $ALB_DESC sending GET / HTTP/1.1 with Connection: close, no client certificate" \
    "CertificateRequest, empty client Certificate, handshake completes, HTTP 200, nginx closes (close_notify, FIN): healthy"
GET=$H11_CLOSE hscap hs-nginx-verify-optional-200 "tcp port 8454" alb 127.0.0.1:8454

describe hs-nginx-verify-on-400 "nginx TLS 1.2 ssl_verify_client on; $ALB_DESC sending GET / HTTP/1.1 with Connection: close, no client certificate" \
    "CertificateRequest, empty client Certificate, handshake completes, HTTP 400 (No required SSL certificate was sent), nginx closes"
GET=$H11_CLOSE hscap hs-nginx-verify-on-400 "tcp port 8455" alb 127.0.0.1:8455

describe hs-client-cert-tls13-nginx "nginx TLS 1.3 only, ssl_verify_client on; $ALB13_DESC sending GET / HTTP/1.1 with Connection: close, no client certificate" \
    "TLS 1.3: encrypted flight with CertificateRequest, the client's empty Certificate and Finished; nginx completes the handshake (no alert certificate_required) and answers HTTP 400 (No required SSL certificate was sent)"
GET=$H11_CLOSE hscap hs-client-cert-tls13-nginx "tcp port 8491" alb13 127.0.0.1:8491

# 11. the target's own answer: a 5xx from the application over a healthy TLS connection ------------
describe hs-target-5xx-nginx "nginx 1.22 location /502 { return 502; } and location / { return 503; }; 1: $ALB_DESC sending GET /502 HTTP/1.1; 2: $ALB13_DESC sending GET / HTTP/1.1 (both with Connection: close)" \
    "1: TLS 1.2 completes, HTTP 502 from nginx itself; 2: TLS 1.3 completes, HTTP 503 from nginx itself: the TLS side is healthy"
hscap hs-target-5xx-nginx "tcp port 8492" eval 'GET=${H11_CLOSE/GET \//GET \/502} alb 127.0.0.1:8492; GET=$H11_CLOSE alb13 127.0.0.1:8492'

# 12. HTTP/2 inside TLS: what the key log shows of it -------------------------------------------------
describe hs-http2-200-nginx "nginx 1.22 listen ... ssl http2; 1: curl --http2 (TLS 1.3, ALPN h2 and http/1.1); 2: the same with --tls-max 1.2 (both with SSLKEYLOGFILE)" \
    "1: TLS 1.3 completes with ALPN h2 (in EncryptedExtensions), the client's HTTP/2 preface and SETTINGS, HTTP 200; 2: the same over TLS 1.2 (ALPN in the ServerHello)"
hscap hs-http2-200-nginx "tcp port 8493" eval 'SSLKEYLOGFILE=$KEYLOG timeout 8 curl -sS -o /dev/null --http2 --cacert "$PKI/ca-root.pem" \
    --resolve target.example:8493:127.0.0.1 https://target.example:8493/ >>"$LOG/last.log" 2>&1 || true;
    SSLKEYLOGFILE=$KEYLOG timeout 8 curl -sS -o /dev/null --http2 --tls-max 1.2 --cacert "$PKI/ca-root.pem" \
    --resolve target.example:8493:127.0.0.1 https://target.example:8493/ >>"$LOG/last.log" 2>&1 || true'

# 13. a healthy connection whose names are as long as real-world ones (for the line size of --format jsonl)
LN_GET=$'GET / HTTP/1.1\r\nHost: '"$LN_HOST"$'\r\nConnection: close\r\n\r\n'
describe hs-ok-long-names-nginx "nginx 1.22 TLS 1.2 and 1.3 (HTTP/1.1 only), chain with organisation-validated style names: leaf C=US, ST=California, L=San Francisco, O=Example Corporation Holdings International, OU=Platform Engineering, CN=$LN_HOST (SAN with that name), intermediate C=US, O=Example Trust Services LLC, OU=www.example-trust.com, CN=Example Trust Global G2 TLS RSA SHA256 2020 CA1; 1: s_client defaults (TLS 1.2 and 1.3) with -servername $LN_HOST -alpn h2,http/1.1; 2: $ALB_DESC; both sending GET / HTTP/1.1 with Host: $LN_HOST and Connection: close" \
    "1: TLS 1.3 completes with SNI and ALPN http/1.1, HTTP 200, nginx closes; 2: TLS 1.2 completes, HTTP 200, nginx closes: healthy, with long names"
hscap hs-ok-long-names-nginx "tcp port 8494" eval 'GET=$LN_GET client 127.0.0.1:8494 -servername $LN_HOST -alpn h2,http/1.1; GET=$LN_GET alb 127.0.0.1:8494'

stop "$HNGX_PID"
stop "$HAPX_PID"

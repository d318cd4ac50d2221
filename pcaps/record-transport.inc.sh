# pcaps/record-transport.inc.sh -- sourced by record.sh (inside its namespace, after the base cases).
# Transport, timing and non-TLS look-alikes (issue 14, items 3-5 and "transport failures"):
# PROXY protocol both ways (HAProxy as the real sender, nginx/HAProxy/s_server as targets),
# server-first banners, plain HTTP to a TLS port, the ALB's 10 s handshake timer (a python relay that
# delays or stalls a real server's bytes), transport cuts at each stage (the same relay), a path-MTU
# black hole (nftables in record.sh's own namespace drops segments over 1200 bytes from the server
# after tcpdump saw them), and captures cut short (tcpdump -c, SIGINT mid-flight, a file truncated
# mid-packet, snaplen 96).
# Ports 8500-8599 only. Every process is started with bg (or remembered in PIDS) and stopped by PID.
# Needs: haproxy, nft (checked here; record.sh checks the base tools).

for tool in haproxy nft; do
    command -v "$tool" >/dev/null || die "missing tool for the transport cases: $tool (apt-get install haproxy nftables)"
done

TXPY=$T/tx.py
cat >"$TXPY" <<'EOF'
# peers for the transport cases: banner servers, a TCP relay that delays/stalls/cuts a real server's
# bytes, a python ssl server, a pcap truncator
import os, select, socket, ssl, struct, sys, time
mode = sys.argv[1]

def listener(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(8)
    return s

def rst(sock):
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()

def records(buf):
    """the complete TLS records at the start of buf"""
    out = []
    while len(buf) >= 5:
        n = 5 + struct.unpack("!H", buf[3:5])[0]
        if len(buf) < n:
            break
        out.append(buf[:n])
        buf = buf[n:]
    return out

def unesc(s):
    return s.encode().decode("unicode_escape").encode("latin-1")

if mode == "banner":          # server: on accept write argv[3]; read for up to 2 s; write argv[4] if
    ls = listener(int(sys.argv[2]))   # anything came; close
    banner, reply = unesc(sys.argv[3]), unesc(sys.argv[4])
    while True:
        c, _ = ls.accept()
        if banner:
            c.sendall(banner)
        c.settimeout(2)
        try:
            data = c.recv(65536)
        except OSError:
            data = b""
        try:
            if data and reply:
                c.sendall(reply)
        except OSError:
            pass
        time.sleep(0.2)
        c.close()

elif mode == "sslserve":      # server: python ssl (OpenSSL) TLS 1.2: handshake, read the request, then
    port, cert, key, how = int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)     # how=close: close() without an answer (FIN,
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2      # no close_notify); how=ok: a small 200, then
    ctx.load_cert_chain(cert, key)                    # close_notify and FIN
    ls = listener(port)
    while True:
        raw, _ = ls.accept()
        try:
            c = ctx.wrap_socket(raw, server_side=True)    # raw is detached: close c
            c.recv(65536)
            if how == "ok":
                c.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nok\n")
                try:
                    c.unwrap().close()
                except (OSError, ssl.SSLError):
                    c.close()
            else:
                c.close()
        except (OSError, ssl.SSLError):
            raw.close()

elif mode == "relay":         # relay LPORT DPORT HOW [ARGS]: one connection at a time, select loop
    lport, dport, how = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    args = [float(x) for x in sys.argv[5:]]
    ls = listener(lport)
    while True:
        c, _ = ls.accept()
        s = socket.create_connection(("127.0.0.1", dport))
        if how == "proxy-v1-first":
            # HAProxy's send-proxy order without inspect-delay: the header as soon as the target
            # connection is up, the client's bytes when they come (here: 0.3 s later, always after
            # the target's answer to the header)
            (cip, cport), (lip, lport2) = c.getpeername(), c.getsockname()
            s.sendall(("PROXY TCP4 %s %s %d %d\r\n" % (cip, lip, cport, lport2)).encode())
            time.sleep(0.3)
        elif how == "hold-client":           # the target speaks first: its banner always comes
            time.sleep(args[0])              # before the client's bytes (no race with the ClientHello)
        q = []                 # server->client chunks: [release time, bytes]
        sent = 0               # server bytes seen so far
        first = stall_until = None
        sbuf = cbuf = b""
        c_eof = s_eof = c_shut = s_shut = False
        done = False
        sent_hdr = False
        while not done:
            now = time.time()
            while q and q[0][0] <= now:
                c.sendall(q.pop(0)[1])
            if s_eof and not q and not c_shut:
                c.shutdown(socket.SHUT_WR); c_shut = True
            if c_eof and not s_shut:
                s.shutdown(socket.SHUT_WR); s_shut = True
            if c_eof and s_eof and not q:
                break
            rl = ([c] if not c_eof else []) + ([s] if not s_eof else [])
            timeout = max(0.0, q[0][0] - now) if q else None
            r, _, _ = select.select(rl, [], [], timeout)
            if c in r:
                try:
                    d = c.recv(65536)
                except OSError:
                    d = b""
                if not d:
                    c_eof = True
                elif how == "rst-after-client-finished":
                    # forward the client's records up to its ChangeCipherSpec; once the record after
                    # it (the encrypted Finished) is in, reset the client instead of forwarding it
                    cbuf += d
                    recs, fwd = records(cbuf), b""
                    for i, rec in enumerate(recs):
                        if rec[0] == 20:
                            if i + 1 < len(recs):
                                time.sleep(0.05)
                                rst(c); s.close(); done = True
                            break
                        fwd += rec
                    if done:
                        break
                    if fwd:
                        s.sendall(fwd)
                        cbuf = cbuf[len(fwd):]
                elif how == "prepend-v2" and not sent_hdr:
                    # an NLB-like PROXY v2 sender: the header and the client's first bytes in one write
                    (cip, cport), (lip, lport2) = c.getpeername(), c.getsockname()
                    hdr = (b"\r\n\r\n\x00\r\nQUIT\n" + b"\x21\x11" + struct.pack("!H", 12)
                           + socket.inet_aton(cip) + socket.inet_aton(lip) + struct.pack("!HH", cport, lport2))
                    s.sendall(hdr + d)
                    sent_hdr = True
                else:
                    s.sendall(d)
            if s in r:
                try:
                    d = s.recv(65536)
                except OSError:
                    d = b""
                if not d:
                    s_eof = True
                    continue
                last = q[-1][0] if q else now
                if how == "delay":                       # every server byte args[0] s late
                    first = first or now
                    q.append([max(now, first + args[0], last), d])
                elif how == "stall":                     # first args[0] bytes on time, then args[1] s
                    n = int(args[0])                     # of silence, then the rest
                    if stall_until is None and sent + len(d) >= n:
                        head, tail = d[:n - sent], d[n - sent:]
                        q.append([max(now, last), head])
                        stall_until = now + args[1]
                        if tail:
                            q.append([stall_until, tail])
                    elif stall_until is not None:
                        q.append([max(now, stall_until, last), d])
                    else:
                        q.append([max(now, last), d])
                    sent += len(d)
                elif how == "rst-after-serverhello":     # the ServerHello record, then RST
                    sbuf += d
                    recs = records(sbuf)
                    if recs:
                        c.sendall(recs[0]); time.sleep(0.3)
                        rst(c); s.close(); done = True
                elif how == "fin-mid-certificate":       # ServerHello + half the Certificate record, FIN
                    sbuf += d
                    recs = records(sbuf)
                    if recs and len(sbuf) >= len(recs[0]) + 5:
                        clen = struct.unpack("!H", sbuf[len(recs[0]) + 3:len(recs[0]) + 5])[0]
                        want = len(recs[0]) + 5 + clen // 2
                        if len(sbuf) >= want:
                            c.sendall(sbuf[:want]); time.sleep(0.3)
                            c.close(); s.close(); done = True
                elif how == "fin-mid-server-hello":      # the first 20 bytes of the ServerHello record, FIN
                    sbuf += d
                    if len(sbuf) >= 20:
                        c.sendall(sbuf[:20]); time.sleep(0.3)
                        c.close(); s.close(); done = True
                elif how == "length-rewritten":          # the first record's length field rewritten to
                    sbuf += d                            # 0xffff (a device changing bytes), the rest as sent
                    if not sent_hdr and len(sbuf) >= 5:
                        q.append([max(now, last), sbuf[:3] + b"\xff\xff" + sbuf[5:]])
                        sent_hdr = True
                    elif sent_hdr:
                        q.append([max(now, last), d])
                else:                                    # pass
                    q.append([max(now, last), d])
        try:
            c.close(); s.close()
        except OSError:
            pass

elif mode == "truncate":      # truncate PCAP: cut the file in the middle of the first packet whose
    path = sys.argv[2]        # captured length is over 1000 bytes (a full server-flight segment)
    data = open(path, "rb").read()
    p = 24
    while p + 16 <= len(data):
        incl = struct.unpack("<I", data[p + 8:p + 12])[0]
        if incl > 1000:
            open(path, "wb").write(data[:p + 16 + incl // 2])
            break
        p += 16 + incl
    else:
        sys.exit("truncate: no packet over 1000 bytes")
EOF

txpeer() { bg "$1" python3 "$TXPY" "${@:2}"; }

# tx_cap_start NAME BPF TCPDUMP-ARGS...: cap_start with tcpdump options of our own (-c N, -s 96)
tx_cap_start() {
    local name=$1 bpf=$2; shift 2
    CAP_NAME=$name
    : >"$LOG/$name.tcpdump"
    tcpdump --immediate-mode -Z root -i lo -U -n "$@" -w "$STAGE/$name.pcap" "$bpf" \
        </dev/null >/dev/null 2>"$LOG/$name.tcpdump" &
    CAP_PID=$!
    PIDS+=("$CAP_PID")
    local i
    for i in $(seq 50); do
        grep -q 'listening on' "$LOG/$name.tcpdump" && { sleep 0.1; return 0; }
        sleep 0.1
    done
    die "tcpdump did not start for $name"
}

# http_client URL: an HTTP target group's request (curl, HTTP/1.1), 5 s at most
http_client() {
    timeout 6 curl -sS --http1.1 --max-time 5 -o /dev/null "$1" >>"$LOG/last.log" 2>&1 || true
}

# -- peers of our own: nginx (ssl, ssl+proxy_protocol), HAProxy (PROXY sender and receiver) --------
TXN=$T/txnginx
mkdir -p "$TXN/logs" "$TXN/tmp"
P_TX_NGX=8510 P_TX_NGX_PP=8511 P_TX_SSRV=8512
cat >"$TXN/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
pid $TXN/nginx.pid;
error_log $TXN/logs/error.log info;
events { worker_connections 64; }
http {
    access_log $TXN/logs/access.log;
    client_body_temp_path $TXN/tmp/body;
    proxy_temp_path $TXN/tmp/proxy;
    fastcgi_temp_path $TXN/tmp/fastcgi;
    uwsgi_temp_path $TXN/tmp/uwsgi;
    scgi_temp_path $TXN/tmp/scgi;
    default_type text/plain;
    ssl_certificate $PKI/leaf-fullchain.pem;
    ssl_certificate_key $PKI/leaf.key;
    ssl_session_tickets off;
    ssl_protocols TLSv1.2;
    server {    # healthy TLS 1.2 target, no PROXY protocol
        listen 127.0.0.1:$P_TX_NGX ssl;
        location / { return 200 "ok\n"; }
    }
    server {    # TLS 1.2 target that expects a PROXY protocol header (v1 or v2) first
        listen 127.0.0.1:$P_TX_NGX_PP ssl proxy_protocol;
        location / { return 200 "ok\n"; }
    }
}
EOF
nginx -t -q -p "$TXN/" -e "$TXN/logs/error.log" -c "$TXN/nginx.conf" 2>"$LOG/txnginx-t.log" \
    || die "nginx -t (transport): $(cat "$LOG/txnginx-t.log")"
bg txnginx nginx -p "$TXN/" -e "$TXN/logs/error.log" -c "$TXN/nginx.conf"
TXNGX_PID=$BG_PID
wait_listen $P_TX_NGX; wait_listen $P_TX_NGX_PP

# HAProxy is the PROXY sender only for the healthy case (the target waits for the ClientHello after
# the header, so timing does not matter); it waits for the whole ClientHello (inspect-delay) before it
# connects. Toward targets that do NOT expect PROXY, HAProxy's header and ClientHello are two sends
# microseconds apart and whether the target's 400/FIN comes before or after the ClientHello was a race
# between runs, so those cases use the python sender with a fixed order (header first, or header and
# ClientHello in one segment).
cat "$PKI/leaf.pem" "$PKI/ca-int.pem" "$PKI/leaf.key" >"$PKI/haproxy.pem"
cat >"$T/haproxy.cfg" <<EOF
global
    maxconn 64
defaults
    mode tcp
    timeout connect 5s
    timeout client 15s
    timeout server 15s
listen send-v2-to-nginx-pp
    tcp-request inspect-delay 5s
    tcp-request content accept if { req.ssl_hello_type 1 }
    bind 127.0.0.1:8503
    server t 127.0.0.1:$P_TX_NGX_PP send-proxy-v2
frontend expects-proxy
    mode http
    bind 127.0.0.1:8513 accept-proxy ssl crt $PKI/haproxy.pem ssl-min-ver TLSv1.2 ssl-max-ver TLSv1.2
    http-request return status 200 content-type text/plain string "ok"
EOF
haproxy -c -q -f "$T/haproxy.cfg" >"$LOG/haproxy-c.log" 2>&1 || die "haproxy -c: $(cat "$LOG/haproxy-c.log")"
bg haproxy haproxy -db -f "$T/haproxy.cfg"
HAP_PID=$BG_PID
for p in 8503 8513; do wait_listen $p; done

# -- 1. PROXY protocol both ways -----------------------------------------------------------------
describe tx-proxy-v1-to-nginx-tls "ALB-like s_client -> python PROXY v1 sender (HAProxy send-proxy order: the header as soon as the target connection is up, the ClientHello 0.3 s later) -> nginx 'listen ssl' WITHOUT proxy_protocol; captured on the nginx port" \
    "client bytes 'PROXY TCP4 127.0.0.1 127.0.0.1 <port> 8507\r\n'; nginx's first byte is not a TLS record, it parses the line as plain HTTP and answers 'HTTP/1.1 400 Bad Request' then FIN; the ClientHello arrives after that"
txpeer relay-pp1 relay 8507 $P_TX_NGX proxy-v1-first; RPID=$BG_PID; wait_listen 8507
cap_start tx-proxy-v1-to-nginx-tls "tcp port $P_TX_NGX"
alb 127.0.0.1:8507
cap_stop; stop "$RPID"

describe tx-proxy-v1-to-s_server "ALB-like s_client -> python PROXY v1 sender (header first, ClientHello 0.3 s later) -> openssl s_server -tls1_2 -www; captured on the s_server port" \
    "client bytes 'PROXY TCP4 ...\r\n'; OpenSSL fails on the first record header and s_server closes (FIN) without a byte; the ClientHello then meets a closed socket"
server tx-proxy-v1-to-s_server "127.0.0.1:$P_TX_SSRV" -tls1_2
SPID=$BG_PID
txpeer relay-pp1s relay 8508 $P_TX_SSRV proxy-v1-first; RPID=$BG_PID; wait_listen 8508
cap_start tx-proxy-v1-to-s_server "tcp port $P_TX_SSRV"
alb 127.0.0.1:8508
cap_stop; stop "$RPID"; stop "$SPID"

describe tx-proxy-v2-one-segment-to-nginx-tls "ALB-like s_client -> python relay acting as an NLB-like PROXY v2 sender (the 28-byte v2 header and the ClientHello in ONE write) -> nginx 'listen ssl' WITHOUT proxy_protocol; captured on the nginx port" \
    "one client segment: PROXY v2 header + ClientHello; nginx does not see a TLS record (first byte 0x0D) and answers as to plain HTTP"
txpeer relay-pp2 relay 8505 $P_TX_NGX prepend-v2; RPID=$BG_PID; wait_listen 8505
cap_start tx-proxy-v2-one-segment-to-nginx-tls "tcp port $P_TX_NGX"
alb 127.0.0.1:8505
cap_stop; stop "$RPID"

describe tx-proxy-v2-one-segment-to-s_server "ALB-like s_client -> python NLB-like PROXY v2 sender (header + ClientHello in one write) -> openssl s_server -tls1_2 -www; captured on the s_server port" \
    "one client segment: PROXY v2 header + ClientHello; OpenSSL sees record type 0x0D and fails"
server tx-proxy-v2-one-segment-to-s_server "127.0.0.1:$P_TX_SSRV" -tls1_2
SPID=$BG_PID
txpeer relay-pp2s relay 8506 $P_TX_SSRV prepend-v2; RPID=$BG_PID; wait_listen 8506
cap_start tx-proxy-v2-one-segment-to-s_server "tcp port $P_TX_SSRV"
alb 127.0.0.1:8506
cap_stop; stop "$RPID"; stop "$SPID"

describe tx-nginx-expects-proxy-bare-hello "nginx 'listen ssl proxy_protocol' (expects a PROXY header); ALB-like s_client connects directly (an ALB never sends PROXY)" \
    "a bare ClientHello; nginx logs 'broken header' and closes without any TLS byte"
cap_start tx-nginx-expects-proxy-bare-hello "tcp port $P_TX_NGX_PP"
alb "127.0.0.1:$P_TX_NGX_PP"
cap_stop

describe tx-haproxy-expects-proxy-bare-hello "HAProxy 2.6 'bind ... accept-proxy ssl crt' (expects a PROXY header, then TLS 1.2); ALB-like s_client connects directly" \
    "a bare ClientHello; HAProxy rejects the missing PROXY header and closes without any TLS byte"
cap_start tx-haproxy-expects-proxy-bare-hello "tcp port 8513"
alb 127.0.0.1:8513
cap_stop

describe tx-proxy-v2-healthy "ALB-like s_client -> HAProxy (send-proxy-v2) -> nginx 'listen ssl proxy_protocol'; captured on the nginx port (an NLB with proxy_protocol_v2.enabled does the same)" \
    "PROXY v2 header then a complete TLS 1.2 handshake (ECDHE-RSA-AES128-GCM-SHA256), HTTP 200: a PROXY header is normal when the target expects it"
cap_start tx-proxy-v2-healthy "tcp port $P_TX_NGX_PP"
alb 127.0.0.1:8503
cap_stop

describe tx-proxy-expected-then-bare "nginx 'listen ssl proxy_protocol'; connection 1: ALB-like s_client through HAProxy send-proxy-v2 (a PROXY v2 header, then TLS); connection 2: the same client straight to nginx, no PROXY header" \
    "connection 1 completes after the PROXY v2 header; connection 2 is a bare ClientHello that nginx drops ('broken header'): the capture itself shows the target expects PROXY"
cap_start tx-proxy-expected-then-bare "tcp port $P_TX_NGX_PP"
alb 127.0.0.1:8503
alb "127.0.0.1:$P_TX_NGX_PP"
cap_stop

# -- 2. server-first banners ---------------------------------------------------------------------
# The banner cases go through the relay (hold-client 0.3): the target's banner always comes before the
# ClientHello (sent 0.3 s after the connection is up); captured on the target's port (relay <-> target).
describe tx-ssh-banner "python server imitating sshd: writes 'SSH-2.0-OpenSSH_9.2\r\n' on accept, reads, answers 'Invalid SSH identification string.\r\n', closes; ALB-like client through the relay (ClientHello 0.3 s after the connection is up); captured relay <-> target" \
    "server bytes SSH-2.0-... right after the connection is up, 0.3 s before the ClientHello (the server speaks first, not a TLS record); then the sshd-like answer and closes"
txpeer ssh-server banner 8520 'SSH-2.0-OpenSSH_9.2\r\n' 'Invalid SSH identification string.\r\n'; SPID=$BG_PID; wait_listen 8520
txpeer relay-ssh relay 8523 8520 hold-client 0.3; RPID=$BG_PID; wait_listen 8523
cap_start tx-ssh-banner "tcp port 8520"
alb 127.0.0.1:8523
cap_stop; stop "$RPID"; stop "$SPID"

describe tx-smtp-banner "python server imitating an SMTP server: writes '220 mail.target.example ESMTP Postfix\r\n' on accept, reads, no answer (a ClientHello has no command line), closes after 2 s; ALB-like client through the relay (ClientHello 0.3 s after the connection is up); captured relay <-> target" \
    "server bytes '220 ...' before or across the ClientHello; the client fails on them"
txpeer smtp-server banner 8521 '220 mail.target.example ESMTP Postfix\r\n' ''; SPID=$BG_PID; wait_listen 8521
txpeer relay-smtp relay 8524 8521 hold-client 0.3; RPID=$BG_PID; wait_listen 8524
cap_start tx-smtp-banner "tcp port 8521"
alb 127.0.0.1:8524
cap_stop 2.5; stop "$RPID"; stop "$SPID"

describe tx-http400-before-hello "python server writing 'HTTP/1.1 400 Bad Request' (Connection: close) on accept, before reading anything; ALB-like client through the relay (ClientHello 0.3 s after the connection is up); captured relay <-> target" \
    "server bytes 'HTTP/1.1 400' sent at accept, crossing the ClientHello (compare alb-to-plain-http, where nginx answers 400 after reading the ClientHello)"
txpeer http400-server banner 8522 'HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 12\r\nConnection: close\r\n\r\nBad Request\n' ''; SPID=$BG_PID; wait_listen 8522
txpeer relay-h400 relay 8525 8522 hold-client 0.3; RPID=$BG_PID; wait_listen 8525
cap_start tx-http400-before-hello "tcp port 8522"
alb 127.0.0.1:8525
cap_stop 2.5; stop "$RPID"; stop "$SPID"

# -- 3. plain HTTP to a TLS port -----------------------------------------------------------------
describe tx-http-to-nginx-tls-port "curl --http1.1 http://127.0.0.1:$P_TX_NGX/ (an HTTP target group pointed at the TLS port) to nginx 'listen ssl'" \
    "client bytes 'GET / HTTP/1.1' (no ClientHello); nginx answers in plain text 'HTTP/1.1 400 Bad Request' (The plain HTTP request was sent to HTTPS port) and closes"
cap_start tx-http-to-nginx-tls-port "tcp port $P_TX_NGX"
http_client "http://127.0.0.1:$P_TX_NGX/"
cap_stop

describe tx-http-to-s_server "curl --http1.1 http://127.0.0.1:$P_TX_SSRV/ to openssl s_server -tls1_2 -www" \
    "client bytes 'GET / HTTP/1.1'; OpenSSL fails with 'http request' on the first record header; how s_server closes is recorded here"
server tx-http-to-s_server "127.0.0.1:$P_TX_SSRV" -tls1_2
SPID=$BG_PID
cap_start tx-http-to-s_server "tcp port $P_TX_SSRV"
http_client "http://127.0.0.1:$P_TX_SSRV/"
cap_stop; stop "$SPID"

describe tx-http-after-tls-same-port "openssl s_server -tls1_2 -www; connection 1: ALB-like s_client (TLS, healthy); connection 2: curl --http1.1 http:// to the same port" \
    "connection 1 completes; connection 2 sends 'GET / HTTP/1.1' to the port that just spoke TLS, and OpenSSL closes"
server tx-http-after-tls-same-port 127.0.0.1:8590 -tls1_2
SPID=$BG_PID
cap_start tx-http-after-tls-same-port "tcp port 8590"
alb 127.0.0.1:8590
http_client "http://127.0.0.1:8590/"
cap_stop; stop "$SPID"

# -- 4. the ALB's 10 s handshake timer (python relay in front of a real s_server) ------------------
# The capture is the client <-> relay leg (what the load balancer's side sees); the relay holds the
# real server's bytes back.
server tx-timer-backend 127.0.0.1:8530 -tls1_2
TXSRV_PID=$BG_PID

describe tx-serverhello-12s-late "python relay in front of s_server -tls1_2 -www holding every server byte 12 s; ALB-like client (timeout 25 s)" \
    "ClientHello, 12 s of silence, then the whole server flight and a complete handshake (HTTP status page): an ALB would have given up at 10 s (502)"
txpeer relay-12s relay 8531 8530 delay 12; RPID=$BG_PID; wait_listen 8531
cap_start tx-serverhello-12s-late "tcp port 8531"
CLIENT_TIMEOUT=25 alb 127.0.0.1:8531
cap_stop; stop "$RPID"

describe tx-stall-11s-mid-flight "relay forwarding the first 1000 bytes of the server flight (ServerHello, start of Certificate), then 11 s of silence, then the rest; ALB-like client (timeout 25 s)" \
    "ServerHello and part of the Certificate on time, an 11 s stall mid-flight, then the rest and a complete handshake: over the ALB's 10 s timer"
txpeer relay-stall relay 8532 8530 stall 1000 11; RPID=$BG_PID; wait_listen 8532
cap_start tx-stall-11s-mid-flight "tcp port 8532"
CLIENT_TIMEOUT=25 alb 127.0.0.1:8532
cap_stop; stop "$RPID"

describe tx-serverhello-3s-late "relay holding every server byte 3 s; ALB-like client" \
    "ClientHello, 3 s of silence, then a complete handshake: slow but under the ALB's 10 s timer (healthy)"
txpeer relay-3s relay 8533 8530 delay 3; RPID=$BG_PID; wait_listen 8533
cap_start tx-serverhello-3s-late "tcp port 8533"
CLIENT_TIMEOUT=15 alb 127.0.0.1:8533
cap_stop; stop "$RPID"

describe tx-client-gives-up-10s "relay holding every server byte 30 s; ALB-like client killed by timeout 10 (like the ALB's 10 s handshake timer)" \
    "ClientHello, no server byte, the client closes (FIN) at 10 s: the ALB's own timeout, which answers 502"
txpeer relay-30s relay 8534 8530 delay 30; RPID=$BG_PID; wait_listen 8534
cap_start tx-client-gives-up-10s "tcp port 8534"
CLIENT_TIMEOUT=10 alb 127.0.0.1:8534
cap_stop; stop "$RPID"

# -- 5. transport failures at each stage ---------------------------------------------------------
describe tx-rst-after-serverhello "relay in front of s_server -tls1_2: forwards the ServerHello record only, then resets the client (SO_LINGER 0); ALB-like client" \
    "ClientHello, ServerHello (its own TCP segment), then RST from the server side; no Certificate"
txpeer relay-rst-sh relay 8535 8530 rst-after-serverhello; RPID=$BG_PID; wait_listen 8535
cap_start tx-rst-after-serverhello "tcp port 8535"
alb 127.0.0.1:8535
cap_stop; stop "$RPID"

describe tx-fin-mid-certificate "relay in front of s_server -tls1_2: forwards the ServerHello and half the Certificate record, then close() (FIN); ALB-like client" \
    "ClientHello, ServerHello, a Certificate record that never completes, FIN from the server side"
txpeer relay-fin-cert relay 8536 8530 fin-mid-certificate; RPID=$BG_PID; wait_listen 8536
cap_start tx-fin-mid-certificate "tcp port 8536"
alb 127.0.0.1:8536
cap_stop; stop "$RPID"

describe tx-fin-mid-server-hello "relay in front of s_server -tls1_2: forwards the first 20 bytes of the ServerHello record (its header and 15 bytes of the message), then close() (FIN); ALB-like client" \
    "ClientHello, a ServerHello record that never completes, FIN from the server side (a target that dies while writing its first record)"
txpeer relay-fin-sh relay 8545 8530 fin-mid-server-hello; RPID=$BG_PID; wait_listen 8545
cap_start tx-fin-mid-server-hello "tcp port 8545"
alb 127.0.0.1:8545
cap_stop; stop "$RPID"

describe tx-record-length-rewritten "relay in front of s_server -tls1_2: rewrites the length field of the server's first record (the ServerHello) to 0xffff, passes everything else; ALB-like client" \
    "ClientHello, a server record header claiming 65535 bytes (over TLS's 2^14 + 2048 limit), the client's alert; a device on the path changing bytes"
txpeer relay-len relay 8546 8530 length-rewritten; RPID=$BG_PID; wait_listen 8546
cap_start tx-record-length-rewritten "tcp port 8546"
alb 127.0.0.1:8546
cap_stop; stop "$RPID"

describe tx-rst-after-client-finished "relay in front of s_server -tls1_2: passes the server flight, forwards the client's ClientKeyExchange, then resets the client when its ChangeCipherSpec + Finished arrive; ALB-like client" \
    "full server flight, the client's ClientKeyExchange/ChangeCipherSpec/Finished, then RST from the server side; no server ChangeCipherSpec/Finished"
txpeer relay-rst-fin relay 8537 8530 rst-after-client-finished; RPID=$BG_PID; wait_listen 8537
cap_start tx-rst-after-client-finished "tcp port 8537"
alb 127.0.0.1:8537
cap_stop; stop "$RPID"

describe tx-server-close-after-handshake "python ssl server (OpenSSL, TLS 1.2, leaf+intermediate): completes the handshake, reads the request, close() without an answer or close_notify; ALB-like client" \
    "complete TLS 1.2 handshake, the client's request (encrypted), then FIN from the server with no response (the ALB's 'target closed the connection' 502, not a TLS failure)"
txpeer sslclose-server sslserve 8540 "$PKI/leaf-fullchain.pem" "$PKI/leaf.key" close; SPID=$BG_PID; wait_listen 8540
cap_start tx-server-close-after-handshake "tcp port 8540"
alb 127.0.0.1:8540
cap_stop; stop "$SPID"

# -- 6. path-MTU black hole ----------------------------------------------------------------------
# nftables in record.sh's own namespace (only): the input hook drops segments over 1200 bytes from
# the two server ports AFTER tcpdump on lo has seen them (lo's capture tap is on transmit), so the
# capture is the server-side view of a path that loses large packets with no ICMP back.
describe tx-pmtu-blackhole "nft (record.sh's namespace only) drops every packet over 1200 bytes from ports 8560/8561 after the capture point; 1: s_server -tls1_2 with the 9 KB 4096-bit chain, ALB-like client under timeout 10; 2: python ssl server with the P-256 leaf only (flight under 1200 bytes), ALB-like client" \
    "1: ClientHello, the server's large flight segments retransmitted with growing gaps and never acknowledged (a smaller tail segment may be SACKed), the client closes at 10 s; 2: on the same path a small flight passes and the handshake completes"
nft add table inet txbh
nft add chain inet txbh in '{ type filter hook input priority 0; }'
nft add rule inet txbh in tcp sport '{ 8560, 8561 }' meta length gt 1200 drop
server tx-pmtu-big 127.0.0.1:8560 -tls1_2 -cert "$PKI/long-leaf.pem" -key "$PKI/long-leaf.key" -cert_chain "$PKI/long-chain.pem"
SPID=$BG_PID
txpeer pmtu-small sslserve 8561 "$PKI/ecdsa.pem" "$PKI/ecdsa.key" ok; SPID2=$BG_PID; wait_listen 8561
cap_start tx-pmtu-blackhole "tcp port 8560 or tcp port 8561"
CLIENT_TIMEOUT=10 alb 127.0.0.1:8560
alb 127.0.0.1:8561
cap_stop; stop "$SPID"; stop "$SPID2"
nft delete table inet txbh

# -- 7. captures cut short -----------------------------------------------------------------------
describe tx-cut-count-healthy "tcpdump -c 6 of a healthy ALB-like handshake with nginx (TLS 1.2)" \
    "SYN, SYN-ACK, ACK, ClientHello, the server's ACK, the first 1448-byte segment of the server flight (ServerHello, start of the Certificate); the capture stops there (the handshake went on and completed)"
tx_cap_start tx-cut-count-healthy "tcp port $P_TX_NGX" -s 0 -c 6
alb "127.0.0.1:$P_TX_NGX"
cap_stop

describe tx-cut-count-failing "tcpdump -c 4 of an ALB-like handshake with s_server offering only CHACHA20/DHE suites (the alert comes in packet 5)" \
    "SYN, SYN-ACK, ACK, ClientHello; the capture stops before the server's handshake_failure alert"
server tx-cut-nocipher 127.0.0.1:8550 -cipher ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES256-GCM-SHA384
SPID=$BG_PID
tx_cap_start tx-cut-count-failing "tcp port 8550" -s 0 -c 4
alb 127.0.0.1:8550
cap_stop; stop "$SPID"

describe tx-cut-sigint-mid-flight "relay in front of s_server -tls1_2 stalling the server flight 3 s after 1000 bytes; tcpdump stopped with SIGINT (as ^C) 1.5 s after the client started" \
    "ClientHello, ServerHello and the start of the Certificate, then the capture ends (the handshake completed 1.5 s later, unseen)"
txpeer relay-sigint relay 8538 8530 stall 1000 3; RPID=$BG_PID; wait_listen 8538
cap_start tx-cut-sigint-mid-flight "tcp port 8538"
( alb 127.0.0.1:8538 ) &
CPID=$!; PIDS+=("$CPID")
sleep 1.5
stop "$CAP_PID" INT; CAP_PID=
wait "$CPID" 2>/dev/null || true
stop "$RPID"

describe tx-cut-file-short "a healthy ALB-like handshake with nginx captured whole, then the file truncated in the middle of its first packet over 1000 bytes (the first server-flight segment)" \
    "SYN, SYN-ACK, ACK, ClientHello, then a record header whose packet data stops half-way: the file ends mid-packet (tshark: 'cut short in the middle of a packet')"
cap_start tx-cut-file-short "tcp port $P_TX_NGX"
alb "127.0.0.1:$P_TX_NGX"
cap_stop
python3 "$TXPY" truncate "$STAGE/tx-cut-file-short.pcap"

describe tx-snaplen96-alerts "tcpdump -s 96; 1: ALB-like client to s_server -tls1_2 -Verify 1 (requires a client certificate); 2: ALB-like client to s_server offering only CHACHA20/DHE suites; 3: ALB-like client to a healthy nginx" \
    "every packet cut to 96 bytes (30 payload bytes over IPv4 TCP with timestamps): 1: ServerHello/Certificate/CertificateRequest truncated, the server's 7-byte fatal alert handshake_failure (40) after the client's second flight complete; 2: ClientHello truncated, the server's alert handshake_failure (40) complete; 3: every handshake message truncated, no alert (healthy)"
server tx-snap-verify 127.0.0.1:8551 -tls1_2 -Verify 1 -CAfile "$PKI/ca-root.pem"
SPID=$BG_PID
server tx-snap-nocipher 127.0.0.1:8552 -cipher ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES256-GCM-SHA384
SPID2=$BG_PID
tx_cap_start tx-snaplen96-alerts "tcp port 8551 or tcp port 8552 or tcp port $P_TX_NGX" -s 96
alb 127.0.0.1:8551
alb 127.0.0.1:8552
alb "127.0.0.1:$P_TX_NGX"
cap_stop; stop "$SPID"; stop "$SPID2"

stop "$TXSRV_PID"
stop "$HAP_PID"
stop "$TXNGX_PID"

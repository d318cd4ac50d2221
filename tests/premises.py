#!/usr/bin/env python3
"""premises.py - property test of the diagnosis: on every capture, no
finding claims more than the capture proves.

    python3 tests/premises.py ./tlswhy [CAPTURE...]

Without capture arguments: every capture under pcaps/ (recorded and
crafted), cut copies of each (the first half of its frames: a capture that
stopped early), and the public corpus in ../shared/corpus/ when present.

For every connection of every capture (JSON report, --all):
  1. a finding whose cause another fact of the same capture contradicts is
     never high-confidence, and never the diagnosis of `no cipher suite in
     common` when the same server selected one of the offered suites on
     another connection (premise tables below);
  2. a differential ("one of these") is never high-confidence;
  3. a connection the capture cut short (no close, no alert, no completion,
     no plain-text bytes from the server that already decide it, the
     capture over within 10 s of the ClientHello) gets no finding that
     blames a side or counts as a failure;
  4. the certificate guard: no finding blames certificate validity without a
     certificate alert from the client; no load-balancer fix (every command
     for `aws`) for a client identified as something else (curl, Java...);
  5. the exit status is 1 exactly when some finding has severity error, and
     the summary counts what the connections say.
Closing line: "premises: N passed, N failed".
"""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CORPUS = os.path.join(ROOT, "..", "shared", "corpus")

CERT_ALERTS = {"bad_certificate", "unsupported_certificate", "certificate_revoked",
               "certificate_expired", "certificate_unknown", "unknown_ca"}
BLAMES_VALIDITY = {"client-rejects-certificate", "client-rejects-expired-certificate",
                   "client-rejects-self-signed-certificate", "client-rejects-incomplete-chain"}


def server_key(c):
    return (c["server"]["ip"], c["server"]["port"])


def offered(c):
    ch = c.get("client_hello") or {}
    return set(ch.get("cipher_suites") or [])


def selected(c):
    sh = c.get("server_hello") or {}
    return sh.get("cipher_suite")


def sni(c):
    ch = c.get("client_hello") or {}
    return bool(ch.get("sni"))


def contradictions(c, others):
    """Why the diagnosis of c is contradicted by the other connections to
    its server, or None."""
    fs = c.get("findings") or []
    if not fs:
        return None
    kb = fs[0]["kb"]
    rule = fs[0]["rule"]
    if kb == "tls/alb-target-no-shared-cipher":
        for o in others:
            if selected(o) is not None and selected(o) in offered(c):
                return "no shared cipher, yet connection #%d selected offered suite 0x%04x" % (o["id"], selected(o))
    if kb in ("tls/target-requires-sni", "tls/target-no-cert-without-sni") and not sni(c):
        for o in others:
            if o.get("complete") and not sni(o):
                return "needs SNI, yet connection #%d completed without SNI" % o["id"]
    if kb == "tls/target-needs-tls13":
        for o in others:
            sh = o.get("server_hello") or {}
            if o.get("complete") and sh.get("version", 0x0304) < 0x0304:
                return "accepts only TLS 1.3, yet connection #%d completed %s" % (o["id"], sh.get("version_name"))
    if kb == "tls/cert-key-type-unusable" and rule != "cert-rsa-key-too-small":
        for o in others:
            same = all((o.get("client_hello") or {}).get(k) == (c.get("client_hello") or {}).get(k)
                       for k in ("cipher_suites", "signature_algorithms", "supported_groups"))
            if o.get("complete") and same and sni(o) == sni(c):
                return "key type unusable with this offer, yet connection #%d completed with the same offer" % o["id"]
    return None


def iso_us(t):
    from datetime import datetime, timezone
    d = datetime.strptime(t, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    return int(d.timestamp()) * 1_000_000 + d.microsecond


def check(tlswhy, path, res):
    try:
        p = subprocess.run([tlswhy, "-r", path, "--all", "--format", "json"], capture_output=True, timeout=300)
    except subprocess.TimeoutExpired:
        res.append((path, "timeout"))
        return 0
    if p.returncode not in (0, 1):
        return 0   # an input error: nothing to judge (the hostile suite covers those)
    try:
        d = json.loads(p.stdout)
    except ValueError as e:
        res.append((path, "output is not JSON: %s" % e))
        return 1
    conns = d.get("connections", [])
    n = 0
    ends = [iso_us(c["end_time"]) for c in conns if c.get("end_time")]
    capture_end = max(ends) if ends else None
    any_error = False
    by_server = {}
    for c in conns:
        by_server.setdefault(server_key(c), []).append(c)
    for c in conns:
        n += 1
        fs = c.get("findings") or []
        name = os.path.relpath(path, ROOT)
        if name.startswith(".."):
            name = os.path.basename(path)
        where = "%s #%d" % (name, c["id"])
        if not fs:
            continue
        f = fs[0]
        if f["severity"] == "error":
            any_error = True
        others = [o for o in by_server[server_key(c)] if o is not c]
        why = contradictions(c, others)
        if why:
            res.append((where, "%s [%s, %s]" % (why, f["rule"], f["confidence"])))
        if f.get("differential") and f["confidence"] == "high":
            res.append((where, "a differential with high confidence [%s]" % f["rule"]))
        ch = c.get("client_hello")
        server_spoke_plain = bool((c.get("first_bytes") or {}).get("server")) or \
            (c.get("non_tls") or {}).get("sender") == "server"
        if (ch and capture_end is not None and not c.get("complete") and not c.get("alerts")
                and not c.get("closed") and not server_spoke_plain
                and capture_end - iso_us(ch["time"]) < 10_000_000):
            if f["severity"] == "error" or f["side"] in ("client", "server", "network", "both"):
                res.append((where, "cut short by the capture, yet %s blames %s [%s]" %
                            (f["severity"], f["side"], f["rule"])))
        ident = c.get("client_identity") or {}
        if ident.get("match") in ("exact", "same-suites") and not (ident.get("name") or "").startswith("ELBSecurityPolicy"):
            for w in f.get("workarounds", []):
                cmds = w.get("commands") or []
                if cmds and all(x["stack"] == "aws" for x in cmds):
                    res.append((where, "a load-balancer fix (%s) for a client identified as %s" % (w["id"], ident.get("name"))))
        if f["rule"] in BLAMES_VALIDITY:
            sent = {a.get("description_name") for a in c.get("alerts", []) if a.get("sender") == "client"}
            if not sent & CERT_ALERTS:
                res.append((where, "blames certificate validity without a certificate alert [%s]" % f["rule"]))
    want = 1 if any_error else 0
    if p.returncode != want:
        res.append((path, "exit status %d, findings say %d" % (p.returncode, want)))
    failed = sum(1 for c in conns if (c.get("findings") or [{}])[0].get("severity") == "error")
    if d.get("summary", {}).get("failed", failed) != failed:
        res.append((path, "summary says %s failed, connections say %d" % (d["summary"]["failed"], failed)))
    return n


def captures():
    out = []
    for sub in ("pcaps", os.path.join("pcaps", "crafted")):
        dd = os.path.join(ROOT, sub)
        out += sorted(os.path.join(dd, f) for f in os.listdir(dd) if f.endswith((".pcap", ".pcapng")))
    if os.path.isdir(CORPUS):
        for dp, _, fns in sorted(os.walk(CORPUS)):
            out += sorted(os.path.join(dp, f) for f in fns if f.endswith((".pcap", ".pcapng", ".cap")))
    return out


def cut(path, tmp):
    """The first half of the frames: a capture stopped early (editcap)."""
    try:
        n = int(subprocess.run(["capinfos", "-Mc", path], capture_output=True, text=True)
                .stdout.split()[-1])
    except (ValueError, IndexError, OSError):
        return None
    if n < 4:
        return None
    out = os.path.join(tmp, "cut-" + os.path.basename(path))
    r = subprocess.run(["editcap", "-r", path, out, "1-%d" % (n // 2)], capture_output=True)
    return out if r.returncode == 0 else None


def main():
    tlswhy = sys.argv[1] if len(sys.argv) > 1 else "./tlswhy"
    paths = sys.argv[2:] or captures()
    res = []
    total = 0
    with tempfile.TemporaryDirectory() as tmp:
        for p in paths:
            total += check(tlswhy, p, res)
            if len(sys.argv) <= 2 and os.path.basename(os.path.dirname(p)) in ("pcaps", "crafted"):
                c = cut(p, tmp)
                if c:
                    total += check(tlswhy, c, res)
    for where, why in res:
        print("FAIL %s: %s" % (where, why))
    print("premises: %d passed, %d failed" % (max(total - len(res), 0), len(res)))
    sys.exit(1 if res else 0)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""corpus.py - conformance of tlswhy with tshark 4.0.17 on the public corpus.

Usage:  tests/corpus.py TLSWHY [CORPUS_DIR]     (default: ../shared/corpus from the repo root)

For every capture with a truth file (CORPUS_DIR/truth/<source>__<file>.json,
format at the end of CORPUS_DIR/MANIFEST.md) this runs
`TLSWHY -r CAPTURE --format json --all`, matches each tshark TLS stream to
our connection by its two endpoints (ip:port, tshark's client against ours;
when a 4-tuple was reused, the connection holding tshark's first hello, then
the one whose first frame is nearest tshark's), and compares every field both
tools report. tlswhy stops reading a connection once its handshake is
complete (`complete_frame`, the design's depth cap): alerts, hellos and
handshake messages after that frame are not compared.

  roles (client/server), negotiated version, abbreviated handshake;
  ClientHello(s): frame, record and legacy version, random, session id,
    cipher suites in wire order with GREASE, compression methods, extension
    types and lengths in order, SNI, ALPN, supported_groups, ec_point_formats,
    signature_algorithms(_cert), supported_versions, key_share groups, PSK
    modes and identities; SSLv2 hellos: version, cipher specs, session id
    and challenge length;
  ServerHello / HelloRetryRequest: frame, versions, random, session id,
    cipher, compression, extensions, supported_version, key_share group,
    ALPN, HRR flag;
  certificates (first Certificate message per direction): frame, count,
    and per certificate DER length, SHA-256, serial, subject CN, subject and
    issuer (where tshark's RDNs map onto OpenSSL's RFC 2253 form), validity,
    DNS SANs;
  alerts: frame, sender, encrypted, level, description (our TLS 1.3 alerts
    inferred from record size are not compared: tshark cannot see them);
  plaintext handshake messages, in order, per direction.

Each difference is one line
    capture: client->server: field: ours X, tshark Y
and is either listed in the "known" cases of tests/TESTLIST (see the head of
that file for its format; every entry names one capture and gives the
reason) or a failure. A connection we dissected as TLS (with a hello) that
tshark has no TLS stream for is reported too, as field `extra_tls_stream`.
A crash or a sanitizer report of tlswhy is a failure of that capture that no
entry can excuse.

Unit of counting: one capture. A capture passes when every difference found
in it is a known one. Last line: `N passed, N failed`. Exit 1 on any failure.
Entries of the known-differences file that matched nothing are listed as
`stale:` lines (not failures: remove them once the bug is fixed).

Standard library only.
"""
import json
import os
import subprocess
import sys

import known_differences

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
KNOWN = os.path.join(HERE, "TESTLIST")
GREASE = {0x0a0a + 0x1010 * i for i in range(16)}
NAME_KEPT = 511   # dissect/x509.h X509_NAME_BYTES - 1: longer names are clipped

# tshark RDN OIDs -> OpenSSL short names used by XN_FLAG_RFC2253
OID_SN = {
    "2.5.4.3": "CN", "2.5.4.6": "C", "2.5.4.7": "L", "2.5.4.8": "ST", "2.5.4.10": "O",
    "2.5.4.11": "OU", "2.5.4.9": "street", "0.9.2342.19200300.100.1.25": "DC",
    "0.9.2342.19200300.100.1.1": "UID", "1.2.840.113549.1.9.1": "emailAddress",
    "2.5.4.5": "serialNumber", "2.5.4.17": "postalCode", "2.5.4.15": "businessCategory",
    "2.5.4.4": "SN", "2.5.4.42": "GN", "2.5.4.12": "title",
    "1.3.6.1.4.1.311.60.2.1.3": "jurisdictionC", "1.3.6.1.4.1.311.60.2.1.2": "jurisdictionST",
    "1.3.6.1.4.1.311.60.2.1.1": "jurisdictionL",
}


def rfc2253_value(v):
    """RFC 2253 escaping as OpenSSL does it, or None when not comparable."""
    if not v or any(ord(ch) < 0x20 or ord(ch) > 0x7e for ch in v):
        return None
    out = []
    for i, ch in enumerate(v):
        if ch in ',+"\\<>;':
            out.append("\\" + ch)
        elif (i == 0 and ch in "# ") or (i == len(v) - 1 and ch == " "):
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def rfc2253(name):
    """tshark's RDNs (DER order) as OpenSSL's RFC 2253 line, or None."""
    if not name or not name.get("rdns"):
        return None
    parts = []
    for rdn in reversed(name["rdns"]):
        avas = []
        for a in rdn:
            sn = OID_SN.get(a.get("oid"))
            val = rfc2253_value(a.get("value"))
            if sn is None or val is None:
                return None
            avas.append("%s=%s" % (sn, val))
        parts.append("+".join(avas))
    return ",".join(parts)


def last_cn(name):
    cn = None
    for rdn in (name or {}).get("rdns") or []:
        for a in rdn:
            if a.get("oid") == "2.5.4.3":
                cn = a.get("value")
    return cn


def ep(e):
    ip = e["ip"]
    return "[%s]:%s" % (ip, e["port"]) if ":" in ip else "%s:%s" % (ip, e["port"])


def fmt(v):
    if isinstance(v, (list, dict)):
        s = json.dumps(v, separators=(",", ":"))
    else:
        s = json.dumps(v)
    return s if len(s) <= 400 else s[:400] + "...(%d chars)" % len(s)


class Diffs:
    def __init__(self, capture):
        self.capture = capture
        self.items = []   # (stream, field, ours, theirs)

    def cmp(self, stream, field, ours, theirs):
        if ours != theirs:
            self.items.append((stream, field, ours, theirs))

    def add(self, stream, field, ours, theirs):
        self.items.append((stream, field, ours, theirs))


def time_iso(s):
    """Our '2025-01-01T00:00:00.000000Z' as tshark's '2025-01-01T00:00:00Z'."""
    if not isinstance(s, str):
        return s
    if "." in s and s.endswith("Z"):
        return s.split(".")[0] + "Z"
    return s


def compare_client_hello(D, sk, f, ours, th):
    if ours is None:
        D.add(sk, f, None, "ClientHello in frame %s" % th.get("frame"))
        return
    D.cmp(sk, f + ".frame", ours["frame"], th.get("frame"))
    D.cmp(sk, f + ".legacy_version", ours["legacy_version"], th.get("legacy_version"))
    if th.get("record_layer") == "sslv2":
        D.cmp(sk, f + ".sslv2", ours["sslv2"], True)
        specs = th.get("cipher_specs_sslv2") or []
        D.cmp(sk, f + ".cipher_specs_total", ours["cipher_suites_total"], len(specs))
        D.cmp(sk, f + ".cipher_suites", ours["cipher_suites"], [s for s in specs if s < 0x10000])
        D.cmp(sk, f + ".session_id_length", len(ours["session_id"]) // 2, th.get("session_id_length"))
        return
    D.cmp(sk, f + ".sslv2", ours["sslv2"], False)
    D.cmp(sk, f + ".record_version", ours["record_version"], th.get("record_version"))
    D.cmp(sk, f + ".random", ours["random"], th.get("random"))
    D.cmp(sk, f + ".session_id", ours["session_id"], th.get("session_id") or "")
    D.cmp(sk, f + ".cipher_suites", ours["cipher_suites"], th.get("cipher_suites"))
    D.cmp(sk, f + ".compression_methods", ours["compression_methods"], th.get("compression_methods"))
    D.cmp(sk, f + ".extensions_present", ours["extensions_present"], th.get("extensions_present"))
    D.cmp(sk, f + ".extensions", ours["extensions"], th.get("extensions"))
    D.cmp(sk, f + ".extension_lengths", ours["extension_lengths"], th.get("extension_lengths"))
    D.cmp(sk, f + ".sni", [ours["sni"]] if ours["sni"] is not None and ours["sni"] != "" else [],
          [s for s in th.get("sni") or []])
    D.cmp(sk, f + ".alpn", ours["alpn"], th.get("alpn"))
    for k in ("supported_groups", "ec_point_formats", "signature_algorithms", "signature_algorithms_cert",
              "supported_versions", "key_share_groups", "psk_key_exchange_modes"):
        D.cmp(sk, f + "." + k, ours.get(k) or [], th.get(k) or [])
    D.cmp(sk, f + ".psk_identities", ours["psk_identities"], th.get("psk_identities"))


def compare_server_hello(D, sk, f, ours, th):
    if ours is None:
        D.add(sk, f, None, "ServerHello in frame %s" % th.get("frame"))
        return
    D.cmp(sk, f + ".frame", ours["frame"], th.get("frame"))
    D.cmp(sk, f + ".legacy_version", ours["legacy_version"], th.get("legacy_version"))
    D.cmp(sk, f + ".record_version", ours["record_version"], th.get("record_version"))
    D.cmp(sk, f + ".random", ours["random"], th.get("random"))
    D.cmp(sk, f + ".hello_retry_request", ours["hello_retry_request"], th.get("is_hello_retry_request"))
    if th.get("session_id_length") is not None:
        D.cmp(sk, f + ".session_id", ours["session_id"], th.get("session_id") or "")
    D.cmp(sk, f + ".cipher_suite", ours["cipher_suite"], th.get("cipher_suite"))
    if th.get("compression_method") is not None:
        D.cmp(sk, f + ".compression_method", ours["compression_method"], th.get("compression_method"))
    D.cmp(sk, f + ".extensions_present", ours["extensions_present"], th.get("extensions_present"))
    D.cmp(sk, f + ".extensions", ours["extensions"], th.get("extensions"))
    D.cmp(sk, f + ".supported_version", ours["supported_version"], th.get("supported_version"))
    D.cmp(sk, f + ".key_share_group", ours["key_share_group"], th.get("key_share_group"))
    D.cmp(sk, f + ".alpn", [ours["alpn"]] if ours["alpn"] is not None else [], th.get("alpn") or [])


def san_dns(san):
    if not san:
        return [], False
    clipped = san.endswith("...")
    if clipped:
        san = san[:-3]
    out = [x[4:] for x in san.split(", ") if x.startswith("DNS:")]
    return out, clipped


def compare_chain(D, sk, f, ours, th):
    if ours is None:
        D.add(sk, f, None, "Certificate in frame %s" % th.get("frame"))
        return
    D.cmp(sk, f + ".frame", ours["frame"], th.get("frame"))
    certs = th.get("certificates") or []
    D.cmp(sk, f + ".count", ours["count"], len(certs))
    for i, tc in enumerate(certs):
        if i >= len(ours["certificates"]):
            break   # we keep HS_MAX_CERTS; the count says how many there were
        oc = ours["certificates"][i]
        g = "%s[%d]" % (f, i)
        D.cmp(sk, g + ".der_length", oc["der_length"], tc.get("der_length"))
        D.cmp(sk, g + ".sha256", oc["sha256"], tc.get("sha256"))
        if not tc.get("x509_dissected"):
            continue
        if oc.get("malformed"):
            D.add(sk, g + ".malformed", True, False)
            continue
        D.cmp(sk, g + ".version", oc["version"], (tc.get("version") or 0) + 1)
        if tc.get("serial_hex") is not None:
            D.cmp(sk, g + ".serial", oc["serial"], tc["serial_hex"].lower())
        D.cmp(sk, g + ".subject_cn", oc["subject_cn"] or None, last_cn(tc.get("subject")))
        for k in ("subject", "issuer"):
            exp = rfc2253(tc.get(k))
            if exp is None:
                continue
            if len(oc[k]) == NAME_KEPT and exp.startswith(oc[k]):
                continue   # clipped at the record's capacity: the kept prefix agrees
            D.cmp(sk, g + "." + k, oc[k], exp)
        for k in ("not_before", "not_after"):
            t = tc.get(k) or {}
            if t.get("iso"):
                D.cmp(sk, g + "." + k, time_iso(oc[k]), t["iso"])
        ours_dns, clipped = san_dns(oc.get("san"))
        th_dns = tc.get("san_dns") or []
        if clipped:
            D.cmp(sk, g + ".san_dns", ours_dns, th_dns[:len(ours_dns)])
        else:
            D.cmp(sk, g + ".san_dns", ours_dns, th_dns)


def compare_stream(D, st, c):
    sk = "%s->%s" % (st["client"], st["server"])
    if c is None:
        D.add(sk, "connection", None, "TLS stream %d" % st["tcp_stream"])
        return
    oc, os_ = ep(c["client"]), ep(c["server"])
    D.cmp(sk, "client", oc, st["client"])
    if oc != st["client"]:
        return   # every direction below would differ too
    sh = c.get("server_hello")
    nv = sh["version"] if sh else None
    D.cmp(sk, "negotiated_version", nv, st.get("negotiated_version"))
    D.cmp(sk, "abbreviated_handshake", c["resumed"], st.get("abbreviated_handshake", False))

    # We stop reading a connection once its handshake is complete (the
    # design's depth cap); tshark reads on. Items after our `complete_frame`
    # are beyond what we claim to know and are not compared.
    horizon = c.get("complete_frame") or float("inf")

    def seen(x):
        return (x.get("frame") or 0) <= horizon

    chs = st.get("client_hellos") or []
    D.cmp(sk, "client_hellos", c.get("client_hello_count"), len([x for x in chs if seen(x)]))
    if chs:
        compare_client_hello(D, sk, "client_hello", c.get("client_hello"), chs[0])
    if len(chs) > 1 and c.get("client_hello_2") is not None:
        compare_client_hello(D, sk, "client_hello_2", c.get("client_hello_2"), chs[1])

    shs = [x for x in st.get("server_hellos") or [] if x.get("record_layer") == "tls"]
    v2 = [x for x in st.get("server_hellos") or [] if x.get("record_layer") == "sslv2"]
    hrr = [x for x in shs if x.get("is_hello_retry_request")]
    real = [x for x in shs if not x.get("is_hello_retry_request")]
    if hrr:
        compare_server_hello(D, sk, "hello_retry_request", c.get("hello_retry_request"), hrr[0])
    elif c.get("hello_retry_request") is not None:
        D.add(sk, "hello_retry_request", "frame %s" % c["hello_retry_request"]["frame"], None)
    if real:
        compare_server_hello(D, sk, "server_hello", sh, real[0])
    elif v2:
        D.cmp(sk, "server_hello.sslv2", sh and sh.get("sslv2"), True)
        if sh:
            D.cmp(sk, "server_hello.frame", sh["frame"], v2[0].get("frame"))
    elif sh is not None:
        D.add(sk, "server_hello", "frame %s" % sh["frame"], None)

    cms = [m for m in st.get("certificate_messages") or [] if m.get("layer") == "tls"]
    for dirn, key in (("server_to_client", "server_certificates"), ("client_to_server", "client_certificates")):
        m = [x for x in cms if x.get("direction") == dirn]
        if m:
            compare_chain(D, sk, key, c.get(key), m[0])
        elif c.get(key) is not None:
            D.add(sk, key, "frame %s" % c[key]["frame"], None)

    ta = [a for a in st.get("alerts") or [] if seen(a)]
    oa = [a for a in c.get("alerts") or [] if not a.get("inferred_from_size") and seen(a)]
    D.cmp(sk, "alerts.count", len(oa), len(ta))
    for i, (a, t) in enumerate(zip(oa, ta)):
        g = "alerts[%d]" % i
        D.cmp(sk, g + ".frame", a["frame"], t.get("frame"))
        D.cmp(sk, g + ".sender", a["sender"],
              {"client_to_server": "client", "server_to_client": "server"}.get(t.get("direction")))
        D.cmp(sk, g + ".encrypted", a["encrypted"], t.get("encrypted"))
        if not t.get("encrypted"):
            D.cmp(sk, g + ".level", a["level"], t.get("level"))
            D.cmp(sk, g + ".description", a["description"], t.get("description"))

    # plaintext handshake messages per direction, in order
    for dirn, who in (("client_to_server", "client"), ("server_to_client", "server")):
        theirs = [(h["type"], h["frame"]) for h in st.get("handshake_messages") or []
                  if h.get("layer") == "tls" and h.get("type") is not None and h.get("direction") == dirn
                  and seen(h)]
        ours = [(e.get("message_type"), e["frame"]) for e in c.get("ladder") or []
                if e["kind"] == "handshake" and e["from"] == who and seen(e)]
        if c.get("ladder_total", 0) > len(c.get("ladder") or []):
            theirs = theirs[:len(ours)]
        D.cmp(sk, "handshake_messages." + who, ours, theirs)


def match(streams, conns):
    by_eps = {}
    for c in conns:
        by_eps.setdefault(frozenset((ep(c["client"]), ep(c["server"]))), []).append(c)
    used = set()
    out = []
    for st in streams:
        cands = [c for c in by_eps.get(frozenset((st["client"], st["server"])), []) if id(c) not in used]
        best = None
        if cands:
            # a 4-tuple used twice (tshark may keep one stream where we see
            # two connections): prefer the one holding tshark's first hello
            ff = st.get("tcp_first_frame") or 0
            hf = [h["frame"] for h in (st.get("client_hellos") or []) + (st.get("server_hellos") or [])]
            hf = min(hf) if hf else None

            def holds(c):
                return hf is not None and c["first_frame"] <= hf <= c["last_frame"]
            best = min(cands, key=lambda c: (not holds(c), abs(c["first_frame"] - ff), c["first_frame"]))
            used.add(id(best))
        out.append(best)
    return out, used


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: tests/corpus.py TLSWHY [CORPUS_DIR]")
    tlswhy = sys.argv[1]
    corpus = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "..", "shared", "corpus")
    truth_dir = os.path.join(corpus, "truth")
    if not os.path.isdir(truth_dir):
        print("corpus: %s not found, skipped" % (sys.argv[2] if len(sys.argv) > 2 else "../shared/corpus"))
        return 0
    known = known_differences.load(KNOWN)
    passed = failed = 0
    for name in sorted(os.listdir(truth_dir)):
        if not name.endswith(".json") or name.startswith("_"):
            continue
        with open(os.path.join(truth_dir, name)) as fh:
            truth = json.load(fh)
        capture = truth["capture"]
        path = os.path.join(corpus, capture)
        D = Diffs(capture)
        fatal = None
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
        try:
            p = subprocess.run([tlswhy, "-r", path, "--format", "json", "--all"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=300, env=env)
        except subprocess.TimeoutExpired:
            fatal = "timeout"
        if fatal is None:
            err = p.stderr.decode("utf-8", "replace")
            if p.returncode < 0 or p.returncode > 2 or "Sanitizer" in err or "runtime error" in err:
                fatal = "exit %d: %s" % (p.returncode, err.strip()[-600:])
        conns = []
        if fatal is None:
            try:
                doc = json.loads(p.stdout.decode("utf-8"))
                conns = doc.get("connections") or []
            except ValueError as e:
                if truth["streams"]:
                    D.add("-", "json", "unparsable (exit %d: %s)" % (p.returncode, e), "document")
        if fatal:
            print("%s: -: crash: %s" % (capture, fatal))
            failed += 1
            continue
        streams = truth.get("streams") or []
        matched, used = match(streams, conns)
        for st, c in zip(streams, matched):
            compare_stream(D, st, c)
        for c in conns:
            if id(c) not in used and (c.get("client_hello") or c.get("server_hello")):
                D.add("%s->%s" % (ep(c["client"]), ep(c["server"])), "extra_tls_stream",
                      "hello in frame %s" % (c.get("client_hello") or c.get("server_hello"))["frame"], None)
        bad = 0
        for stream, field, ours, theirs in D.items:
            k = known_differences.match(known, capture, stream, field)
            print("%s%s: %s: %s: ours %s, tshark %s" % ("" if not k else "known: ", capture, stream, field,
                                                         fmt(ours), fmt(theirs)))
            bad += not k
        if bad:
            failed += 1
        else:
            passed += 1
            print("ok %s (%d streams%s)" % (capture, len(streams),
                                            ", %d known differences" % len(D.items) if D.items else ""))
    for k in known:
        # fingerprints.* entries belong to tests/fingerprints.py
        if not k["hits"] and not k["field"].startswith("fingerprints."):
            print("stale: %s:%d: %s | %s | %s matched nothing" % (os.path.basename(KNOWN), k["line"],
                                                                   k["capture"], k["stream"], k["field"]))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""fingerprints.py - tlswhy's JA3, JA3S, JA4 and JA4_r against two references.

Usage:  tests/fingerprints.py TLSWHY [CORPUS_DIR]    (default: ../shared/corpus from the repo root)

1. JA3 / JA3S (hash and full string) against tshark 4.0.17, for every
   ClientHello and ServerHello (HelloRetryRequests included) of every capture
   with a truth file (CORPUS_DIR/truth/<source>__<file>.json). Streams are
   matched to our connections by endpoints (as tests/corpus.py does), then
   hellos by position: the first ClientHello is our client_hello, the second
   client_hello_2; the HelloRetryRequest and ServerHello by kind. tshark
   gives no JA3 for SSLv2-format hellos and neither do we (both null).
2. JA4 / JA4_r against the values FoxIO's reference tool published for its
   own captures (CORPUS_DIR/ja4-expected/<file>.json, captures in
   CORPUS_DIR/foxio-ja4/): "JA4.1"/"JA4_r.1" are the first ClientHello of the
   stream (src:srcport -> dst:dstport), ".2" the one after a
   HelloRetryRequest.

A difference is one line
    capture: client->server: field: ours X, reference Y
and either matches an entry of the "known" cases of tests/TESTLIST whose field
starts with "fingerprints." (same format as for tests/corpus.py:
`capture | [stream |] field | reason`, stream and field may be globs), or is
a failure. Entries of other fields belong to other suites and are ignored.

Unit of counting: one fingerprint comparison (one hello and one kind, the
hash and its full/raw string together). Known differences count as passed
and are counted apart. A hello the reference has but our record lacks (not
dissected, a third ClientHello in one connection -- the record keeps two --,
or tlswhy refusing the input with exit 2) is a dissection difference that
tests/corpus.py reports and judges: here it is printed as `missing:` and
counted, not failed. Last line: `N passed, N failed`; exit 1 on any
unlisted difference or a crash.
"""
import json
import os
import subprocess
import sys

import known_differences

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
KNOWN = os.path.join(HERE, "TESTLIST")


def ep(e):
    ip = e["ip"]
    return "[%s]:%s" % (ip, e["port"]) if ":" in ip else "%s:%s" % (ip, e["port"])


def ep2(ip, port):
    return "[%s]:%s" % (ip, port) if ":" in ip else "%s:%s" % (ip, port)


_cache = {}


def run(tlswhy, path):
    """Returns (connections, None) or (None, why)."""
    if path in _cache:
        return _cache[path]
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
    try:
        p = subprocess.run([tlswhy, "-r", path, "--format", "json", "--all"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=300, env=env)
    except subprocess.TimeoutExpired:
        _cache[path] = (None, "timeout")
        return _cache[path]
    err = p.stderr.decode("utf-8", "replace")
    if p.returncode < 0 or p.returncode > 2 or "Sanitizer" in err or "runtime error" in err:
        res = (None, "exit %d: %s" % (p.returncode, err.strip()[-600:]))
    else:
        try:
            res = (json.loads(p.stdout.decode("utf-8")).get("connections") or [], None)
        except ValueError as e:
            if p.returncode != 2:
                res = (None, "unparsable JSON (exit %d): %s" % (p.returncode, e))
            else:   # input error: tests/corpus.py's business; every hello counts as missing
                print("%s: exit 2, output not JSON (%s): its hellos count as missing" % (path, e))
                res = ([], None)
    _cache[path] = res
    return res


class Tally:
    def __init__(self, known):
        self.known = known
        self.kinds = {}          # kind -> [agree, known, differ, missing]
        self.failed = 0
        self.passed = 0

    def missing(self, capture, stream, kind, what):
        """A hello the reference has and our record does not: a dissection
        difference (tests/corpus.py reports and judges it), not a
        fingerprint one. Printed and counted, not failed here."""
        self.kinds.setdefault(kind, [0, 0, 0, 0])[3] += 1
        print("missing: %s: %s: fingerprints.%s: %s" % (capture, stream, kind, what))

    def check(self, capture, stream, kind, pairs):
        """pairs: [(field, ours, reference)]; one comparison for the lot."""
        t = self.kinds.setdefault(kind, [0, 0, 0, 0])
        bad = [(f, o, r) for f, o, r in pairs if o != r]
        if not bad:
            t[0] += 1
            self.passed += 1
            return
        field = "fingerprints." + kind
        k = known_differences.match(self.known, capture, stream, field)
        for f, o, r in bad:
            print("%s%s: %s: %s: ours %s, reference %s" % ("known: " if k else "", capture, stream,
                                                           "fingerprints." + f, json.dumps(o), json.dumps(r)))
        if k:
            t[1] += 1
            self.passed += 1
        else:
            t[2] += 1
            self.failed += 1

    def crash(self, capture, why):
        print("%s: -: crash: %s" % (capture, why))
        self.failed += 1


def fp_of(conn, which):
    """The fingerprints object for one hello of a connection."""
    f = conn.get("fingerprints") or {}
    if which in ("client_hello", "server_hello"):
        return f
    return f.get(which) or {}


def match(streams, conns):
    """tshark stream -> our connection: same two endpoints; when a 4-tuple
    was reused, the one whose first frame is nearest the stream's."""
    by_eps = {}
    for c in conns:
        by_eps.setdefault(frozenset((ep(c["client"]), ep(c["server"]))), []).append(c)
    used, out = set(), []
    for st in streams:
        cands = [c for c in by_eps.get(frozenset((st["client"], st["server"])), []) if id(c) not in used]
        best = None
        if cands:
            ff = st.get("tcp_first_frame") or 0
            best = min(cands, key=lambda c: (abs(c["first_frame"] - ff), c["first_frame"]))
            used.add(id(best))
        out.append(best)
    return out


def ja3_part(tlswhy, corpus, tally):
    """The n-th ClientHello of a tshark stream is our client_hello (n = 0) or
    client_hello_2 (n = 1); its ServerHellos are our hello_retry_request
    and server_hello. Frames are compared by tests/corpus.py, not here."""
    truth_dir = os.path.join(corpus, "truth")
    for name in sorted(os.listdir(truth_dir)):
        if not name.endswith(".json") or name.startswith("_"):
            continue
        with open(os.path.join(truth_dir, name)) as fh:
            truth = json.load(fh)
        capture = truth["capture"]
        conns, why = run(tlswhy, os.path.join(corpus, capture))
        if why:
            tally.crash(capture, why)
            continue
        streams = truth.get("streams") or []
        for st, c in zip(streams, match(streams, conns)):
            stream = "%s->%s" % (st["client"], st["server"])
            for n, ch in enumerate(st.get("client_hellos") or []):
                which = ("client_hello", "client_hello_2")[n] if n < 2 else None
                if not (c and which and c.get(which)):
                    tally.missing(capture, stream, "ja3", "no ClientHello #%d (tshark: frame %d%s)" % (
                        n + 1, ch["frame"], "; the record keeps two" if n >= 2 else ""))
                    continue
                f = fp_of(c, which)
                ours = (f.get("ja3"), f.get("ja3_full"))
                tally.check(capture, stream, "ja3", [("ja3", ours[0], ch.get("ja3")),
                                                     ("ja3_full", ours[1], ch.get("ja3_full"))])
            seen_sh = 0
            for sh in st.get("server_hellos") or []:
                which = "hello_retry_request" if sh.get("is_hello_retry_request") else "server_hello"
                if which == "server_hello":
                    seen_sh += 1
                if not (c and c.get(which) and seen_sh <= 1):
                    tally.missing(capture, stream, "ja3s", "no %s (tshark: frame %d)" % (which, sh["frame"]))
                    continue
                f = fp_of(c, which)
                ours = (f.get("ja3s"), f.get("ja3s_full"))
                tally.check(capture, stream, "ja3s", [("ja3s", ours[0], sh.get("ja3s")),
                                                      ("ja3s_full", ours[1], sh.get("ja3s_full"))])


def ja4_part(tlswhy, corpus, tally):
    exp_dir = os.path.join(corpus, "ja4-expected")
    if not os.path.isdir(exp_dir):
        print("fingerprints: %s not found, JA4 part skipped" % exp_dir)
        return
    for name in sorted(os.listdir(exp_dir)):
        if not name.endswith(".json"):
            continue
        capture = "foxio-ja4/" + name[:-len(".json")]
        path = os.path.join(corpus, capture)
        if not os.path.exists(path):
            print("%s: capture missing, skipped" % capture)
            continue
        with open(os.path.join(exp_dir, name)) as fh:
            expected = json.load(fh)
        conns, why = run(tlswhy, path)
        if why:
            tally.crash(capture, why)
            continue
        by_eps = {}
        for c in conns:
            by_eps.setdefault((ep(c["client"]), ep(c["server"])), []).append(c)
        for e in expected:
            if "JA4.1" not in e:
                continue
            cli, srv = ep2(e["src"], e["srcport"]), ep2(e["dst"], e["dstport"])
            stream = "%s->%s" % (cli, srv)
            cands = [c for c in by_eps.get((cli, srv), []) if c.get("client_hello")]
            for n, which in (("1", "client_hello"), ("2", "client_hello_2")):
                if "JA4." + n not in e:
                    continue
                if not cands or not cands[0].get(which):
                    tally.missing(capture, stream, "ja4", "no %s" % which)
                    continue
                f = fp_of(cands[0], which)
                ours = (f.get("ja4"), f.get("ja4_r"))
                tally.check(capture, stream, "ja4", [("ja4" if n == "1" else "client_hello_2.ja4", ours[0],
                                                      e["JA4." + n]),
                                                     ("ja4_r" if n == "1" else "client_hello_2.ja4_r", ours[1],
                                                      e.get("JA4_r." + n))])


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: tests/fingerprints.py TLSWHY [CORPUS_DIR]")
    tlswhy = sys.argv[1]
    corpus = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "..", "shared", "corpus")
    if not os.path.isdir(os.path.join(corpus, "truth")):
        print("fingerprints: corpus %s not found, skipped" % corpus)
        print("0 passed, 0 failed")
        return 0
    known = known_differences.load(KNOWN, "fingerprints.")
    tally = Tally(known)
    ja3_part(tlswhy, corpus, tally)
    ja4_part(tlswhy, corpus, tally)
    for kind in sorted(tally.kinds):
        a, k, d, m = tally.kinds[kind]
        print("%-5s %d compared: %d agree, %d known differences, %d differ; %d hellos not in our record" % (
            kind, a + k + d, a, k, d, m))
    for k in known:
        if not k["hits"]:
            print("stale: %s:%d: %s | %s | %s matched nothing" % (os.path.basename(KNOWN), k["line"],
                                                                   k["capture"], k["stream"], k["field"]))
    print("%d passed, %d failed" % (tally.passed, tally.failed))
    return 1 if tally.failed else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""metamorphic.py - the recorded captures, transformed by pcaps/craft, must
tell the same handshake story.

For every capture in PCAPDIR and every transformation below, craft writes
the transformed capture and a manifest (into WORKDIR, never committed), and
tlswhy's JSON for it is compared with tlswhy's JSON for the original:

  - every connection the manifest says is still there is found again, by
    its pair of ports;
  - anomalies: everything craft injected where tlswhy must still be looking
    (`injected`) is reported; nothing is reported that was neither in the
    original nor injected (`maybe` lists what was injected after the
    handshake, where tlswhy may have stopped buffering);
  - without lost bytes, all handshake facts are equal: stage, roles, hellos,
    fingerprints, certificates, alerts, the ladder (frames and times aside,
    and the SYN events when the transformation removed them; each side's
    events in order when the two sides were put out of step, finfirst,
    ackfirst, alertfirst and flightfirst); when only the segmentation changed, the original's verdict
    still matches and a healthy connection gets no finding;
  - with lost bytes (gap-*, snaplen, vxlan-trunc), "gap" is reported, the
    handshake messages entirely before the first lost byte are equal, and
    no alert appears that the original did not have: a gap may hide facts,
    never invent them;
  - tunnels are reported with their kind, VNI and outer addresses, IPv4
    fragments as reassembled segments, mapped IPv6 addresses as such.

Then: craft is deterministic (two runs, same bytes), and pcaps/crafted/ is
what `make pcaps` would write from the current recordings.

Usage: metamorphic.py TLSWHY CRAFT [PCAPDIR [WORKDIR]]
Prints a line per case and 'N passed, N failed'; exits 1 on any failure.
"""
import concurrent.futures
import filecmp
import json
import os
import subprocess
import sys

ALONE = [
    "none", "onebyte", "reverse", "random", "dup", "overlap-same", "overlap-diff",
    "gap-ch", "gap-cert", "gap-alert", "nosyn", "wrap", "multirec",
    "hdrsplit", "hdrsplit1", "hdrsplit2", "hdrsplit3", "hdrsplit4", "hdrsplit5",
    "ipv6", "vlan", "qinq", "vxlan", "vxlan-trunc", "geneve", "frag", "sll", "sll2",
    "snaplen", "pcapng", "finfirst", "ackfirst", "alertfirst", "flightfirst",
]
COMBINED = [
    "onebyte+reverse", "onebyte+random", "onebyte+dup+random", "hdrsplit+reverse+wrap",
    "multirec+random", "nosyn+onebyte", "nosyn+random+wrap", "overlap-same+random",
    "overlap-diff+wrap", "dup+reverse+vxlan", "onebyte+random+geneve", "gap-cert+random",
    "gap-ch+onebyte", "gap-alert+vxlan", "wrap+frag+random", "qinq+random+pcapng",
    "sll2+onebyte+wrap", "snaplen+vxlan", "vxlan-trunc+reverse", "ipv6+onebyte+reverse+pcapng",
    "nosyn+geneve", "hdrsplit3+dup+ipv6", "multirec+overlap-same+qinq", "frag+pcapng+nosyn",
    "finfirst+random+vxlan", "finfirst+onebyte", "alertfirst+onebyte", "alertfirst+random+vxlan",
    "flightfirst+onebyte", "flightfirst+random+vxlan",
]
TRANSFORMS = ALONE + COMBINED

# Keys that name frames, times and counters: they change with the packets.
IGNORED = {"id", "client", "server", "first_frame", "last_frame", "start_time", "end_time",
           "duration_us", "anomalies", "encapsulation", "ip_reassembled_segments", "tcp",
           "frame", "time", "offset_us", "ladder_total", "complete_frame", "findings", "notes",
           "community_id"}   # a hash of the addresses, which some transformations change

# manifest "intact" name -> JSON key
INTACT_KEYS = {
    "client_hello": "client_hello", "server_hello": "server_hello",
    "hello_retry_request": "hello_retry_request", "client_hello_2": "client_hello_2",
    "server_certificates": "server_certificates", "client_certificates": "client_certificates",
    "server_key_exchange": "server_key_exchange", "certificate_request": "certificate_request",
    "server_hello_done": "server_hello_done", "client_key_exchange": "client_key_exchange",
}


# Notes about the capture's own segments (conflicting copies, segments
# ignored): a transformation such as overlap-diff makes them on purpose.
CAPTURE_NOTES = {"note-conflicting-copies", "note-out-of-window", "note-bad-checksum"}


def verdicts(conn):
    """The rules' answer for a connection, without its evidence text (frame
    numbers and times in prose): the findings' rule ids in order, what else
    matched, and the notes (but those of CAPTURE_NOTES)."""
    fs = conn.get("findings") or []
    return {"findings": [f["rule"] for f in fs],
            "also_matched": sorted({r for f in fs for r in f.get("also_matched", [])}),
            "notes": sorted(n["rule"] for n in conn.get("notes") or [] if n["rule"] not in CAPTURE_NOTES)}


# What may speak when bytes are missing: "not enough evidence", and what a
# whole alert still proves without naming a cause behind it.
LOSSY_VERDICTS = {"capture-incomplete", "capture-ended-mid-handshake", "capture-cut-short",
                  "fatal-alert-in-lossy-capture", "client-rejects-certificate-lossy"}

# Transformations that change how many segments carry the ClientHello, a
# fact some rules use (ch.segments): the original's verdict must still
# match, but a rule about the segmentation may now rank first. A connection
# the original found healthy must stay healthy: how the bytes were cut is
# never a cause (until 2026-12-04 this was not checked, and 237 cases of
# healthy connections told as keepalive-race went unseen).
RESEGMENT = {"onebyte", "multirec", "hdrsplit", "hdrsplit1", "hdrsplit2", "hdrsplit3", "hdrsplit4", "hdrsplit5"}

# Recordings that are cut or truncated on purpose (pcaps/record-transport.inc.sh):
# the transformations' invariants assume a whole recording to lose bytes from.
ALREADY_LOSSY = {"tx-snaplen96-alerts.pcap", "tx-cut-count-failing.pcap", "tx-cut-count-healthy.pcap",
                 "tx-cut-file-short.pcap", "tx-cut-sigint-mid-flight.pcap"}

# Known dissector bugs, each (capture, transformation): reason. Reported as
# "xfail" (not counted as failures) until fixed; a case listed here that
# passes is reported so the entry can go.
KNOWN = {
    ('hs-no-default-cert-node.pcap', 'onebyte+dup+random'):
        'one-byte segments put the ClientHello in many segments: multi-segment-client-hello-then-reset (likely) outranks the look-alike differential the original had',
    ('hs-no-default-cert-node.pcap', 'onebyte+random'):
        'one-byte segments put the ClientHello in many segments: multi-segment-client-hello-then-reset (likely) outranks the look-alike differential the original had',
    ('hs-no-default-cert-node.pcap', 'onebyte+random+geneve'):
        'one-byte segments put the ClientHello in many segments: multi-segment-client-hello-then-reset (likely) outranks the look-alike differential the original had',
    ('tx-http-to-nginx-tls-port.pcap', 'onebyte+random'):
        'one-byte segments in random order: the first 64 bytes kept of the plain HTTP request are not its start, so the connection is not recognised as HTTP to a TLS port and is not reported',
    ('tx-http-to-nginx-tls-port.pcap', 'onebyte+random+geneve'):
        'one-byte segments in random order: the first 64 bytes kept of the plain HTTP request are not its start, so the connection is not recognised as HTTP to a TLS port and is not reported',
    ('tx-http400-before-hello.pcap', 'nosyn+onebyte'):
        "without the SYN, the server's banner is the first packet: the roles come from the banner's sender and the ClientHello after it is not seen",
    ('tx-pmtu-blackhole.pcap', 'nosyn+random+wrap'):
        'without the SYN and reordered, the last event before the close is judged in capture order',
    ('tx-proxy-expected-then-bare.pcap', 'onebyte+dup+random'):
        'one-byte segments put the ClientHello in many segments: multi-segment-client-hello-then-reset (likely) outranks the look-alike differential the original had',
    ('tx-proxy-expected-then-bare.pcap', 'onebyte+random'):
        'one-byte segments put the ClientHello in many segments: multi-segment-client-hello-then-reset (likely) outranks the look-alike differential the original had',
    ('tx-proxy-expected-then-bare.pcap', 'onebyte+random+geneve'):
        'one-byte segments put the ClientHello in many segments: multi-segment-client-hello-then-reset (likely) outranks the look-alike differential the original had',
    ('tx-serverhello-12s-late.pcap', 'flightfirst'):
        "the client's answer moved 12 s ahead of the ServerHello it acknowledges: a skew past STASH_MAX_US (1 s of packet time) is no capture point's, so the capture's order stands and the 12-second wait is not seen",
    ('tx-serverhello-12s-late.pcap', 'flightfirst+onebyte'):
        "the client's answer moved 12 s ahead of the ServerHello it acknowledges: a skew past STASH_MAX_US (1 s of packet time) is no capture point's, so the capture's order stands and the 12-second wait is not seen",
    ('tx-serverhello-12s-late.pcap', 'flightfirst+random+vxlan'):
        "the client's answer moved 12 s ahead of the ServerHello it acknowledges: a skew past STASH_MAX_US (1 s of packet time) is no capture point's, so the capture's order stands and the 12-second wait is not seen",
    ('tx-smtp-banner.pcap', 'nosyn+onebyte'):
        "without the SYN, the server's banner is the first packet: the roles come from the banner's sender and the ClientHello after it is not seen",
    ('tx-ssh-banner.pcap', 'nosyn+onebyte'):
        "without the SYN, the server's banner is the first packet: the roles come from the banner's sender and the ClientHello after it is not seen",
}


def strip(v):
    if isinstance(v, dict):
        return {k: strip(x) for k, x in v.items()
                if k not in IGNORED and not k.endswith("_frame") and not k.endswith("_time")}
    if isinstance(v, list):
        return [strip(x) for x in v]
    return v


def tlswhy_json(tlswhy, path):
    p = subprocess.run([tlswhy, "-r", path, "--format", "json"], capture_output=True)
    if p.returncode not in (0, 1):
        raise RuntimeError("tlswhy exit %d: %s" % (p.returncode, p.stderr.decode(errors="replace")[:300]))
    return json.loads(p.stdout)


def read_manifest(path):
    rows = [l.rstrip("\n").split("\t") for l in open(path) if l.strip()]
    head, rows = rows[0], rows[1:]
    return [dict(zip(head, r)) for r in rows]


def names(field):
    return set() if field == "-" else set(field.split(","))


def by_ports(doc):
    return {frozenset((c["client"]["port"], c["server"]["port"])): c for c in doc["connections"]}


def diff(a, b, path=""):
    """First difference between two JSON values, as a short string."""
    if type(a) != type(b):
        return "%s: %r != %r" % (path, a, b)
    if isinstance(a, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                return "%s.%s: only in %s" % (path, k, "original" if k in a else "transformed")
            d = diff(a[k], b[k], path + "." + k)
            if d:
                return d
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return "%s: %d entries != %d" % (path, len(a), len(b))
        for i, (x, y) in enumerate(zip(a, b)):
            d = diff(x, y, "%s[%d]" % (path, i))
            if d:
                return d
        return None
    return None if a == b else "%s: %r != %r" % (path, a, b)


def check_conn(t, orig, got, row, borrowed_lost=False):
    """Problems with one connection, as a list of strings. borrowed_lost: the
    connection has no certificate of its own and another connection to the
    same server, whose certificate the rules may borrow (cert.known), lost
    bytes in the transformed capture."""
    bad = []
    parts = set(t.split("+"))
    must, maybe = names(row["injected"]), names(row["maybe"])
    have, before = set(got["anomalies"]), set(orig["anomalies"])
    # bytes lost: by the transformation, after the handshake (maybe), or in the recording
    lost = "gap" in must or "gap" in have or ("gap" in maybe and any(x.startswith("gap-") for x in parts))
    if not must <= have:
        bad.append("anomalies %s lack injected %s" % (sorted(have), sorted(must - have)))
    extra = have - before - must - maybe
    if extra:
        bad.append("anomalies %s not injected (original %s)" % (sorted(extra), sorted(before)))
    if not lost and not before <= have:
        bad.append("original anomalies %s lost" % sorted(before - have))

    o, g = strip(orig), strip(got)
    for lad in (o["ladder"], g["ladder"]):
        for e in lad:
            if e["kind"] == "non_tls":
                # the length of the delivery in which the bytes were recognised
                # as not TLS: it follows the segmentation (reported to the lead)
                e.pop("length", None)
    if "nosyn" in parts:
        # no SYN: roles come from the hellos, and the ladder has no SYN events
        o.pop("client_determined_by", None)
        g.pop("client_determined_by", None)
        o["ladder"] = [e for e in o["ladder"] if e["kind"] not in ("syn", "synack")]
        # a close right after the handshake of TCP: without it, after nothing
        if (o.get("closed") or {}).get("after") in ("syn", "synack") and (g.get("closed") or {}).get("after") == "unknown":
            o["closed"]["after"] = "unknown"
    if parts & {"finfirst", "ackfirst", "alertfirst", "flightfirst"}:
        # the two directions out of step: each side's events keep their
        # order, their interleaving follows the capture
        for x in (o, g):
            x["ladder"] = sorted(x["ladder"], key=lambda e: e.get("from", ""))
    if lost:
        for name in names(row["intact"]):
            k = INTACT_KEYS.get(name)
            if k and k in o:
                d = diff(o[k], g.get(k), k)
                if d:
                    bad.append("intact %s differs: %s" % (name, d))
        known = {(a["sender"], a["description_name"]) for a in orig["alerts"]}
        for a in got["alerts"]:
            if not a["encrypted"] and (a["sender"], a["description_name"]) not in known:
                bad.append("alert %s:%s invented by a gap" % (a["sender"], a["description_name"]))
        # a gap may hide the cause, never name another one
        vo, vg = verdicts(orig), verdicts(got)
        for r in vg["findings"][:1]:
            if r not in LOSSY_VERDICTS and r not in vo["findings"][:1]:
                bad.append("finding %s with bytes missing (original: %s)" % (r, vo["findings"][:1]))
    else:
        vo, vg = verdicts(orig), verdicts(got)
        if borrowed_lost:
            # the facts are the same, but what the rules borrowed from another
            # connection to the server may be gone: the verdict may fall back
            # to one the original also matched, or to "one of these" (a
            # differential), never name another cause alone
            d = diff(o, g)
            matched = set(vo["findings"]) | set(vo["also_matched"])
            kbs = lambda c: [f["kb"] for f in (c.get("findings") or [])[:1]] + \
                [x["kb"] for f in (c.get("findings") or [])[:1] for x in f.get("differential", [])]
            undecided = any(f.get("differential") for f in (got.get("findings") or [])[:1])
            if not d and vg["findings"][:1] and vg["findings"][0] not in matched and \
                    not set(kbs(orig)[:1]) & set(kbs(got)) and not undecided:
                # the knowledge that ruled look-alikes out is gone: "one of
                # these" may come back, as long as it names the original cause
                d = ".verdicts: %s, which the original did not match (original: %s)" % (
                    vg["findings"][0], sorted(matched))
        elif parts & RESEGMENT:
            d = diff(o, g)
            matched = set(vg["findings"]) | set(vg["also_matched"])
            if not d and vo["findings"][:1] and vo["findings"][0] not in matched:
                d = ".verdicts: %s no longer matches (now %s)" % (vo["findings"][0], sorted(matched))
            if not d and not vo["findings"] and vg["findings"]:
                # how the bytes were cut never makes a healthy connection fail
                d = ".verdicts: %s on a connection the original found healthy" % vg["findings"][0]
        else:
            d = diff(o, g) or diff(vo, vg, ".verdicts")
        if d:
            bad.append("facts differ: " + d)

    enc = got["encapsulation"]
    if row["encapsulation"] == "-":
        if enc is not None:
            bad.append("encapsulation %s reported, none sent" % enc.get("kind"))
    elif not enc or enc["kind"] != row["encapsulation"]:
        bad.append("encapsulation %s, expected %s" % (enc and enc["kind"], row["encapsulation"]))
    else:
        for dkey in ("client_to_server", "server_to_client"):
            e = enc[dkey]
            if e and (e["outer_src"]["ip"] != "10.0.0.10" or e["outer_dst"]["ip"] != "10.0.1.20" or
                      e["vni"] != (4242 if row["encapsulation"] == "vxlan" else 0)):
                bad.append("outer %s: %s" % (dkey, e))
    if "frag" in parts and ":" not in orig["client"]["ip"] and "ipv6" not in parts:
        big = orig["tcp"]["client"]["payload_bytes"] + orig["tcp"]["server"]["payload_bytes"]
        if big and not got["ip_reassembled_segments"]:
            bad.append("no segment reassembled from IPv4 fragments")
    if "ipv6" in parts and ":" not in orig["client"]["ip"] and not got["client"]["ip"].startswith("fd00:6::"):
        bad.append("client address %s is not the mapped IPv6 one" % got["client"]["ip"])
    return bad


def run_case(tlswhy, craft, pcap, t, work, originals):
    base = os.path.basename(pcap)[:-5]
    out = os.path.join(work, "%s.%s.%s" % (base, t, "pcapng" if "pcapng" in t else "pcap"))
    man = out + ".tsv"
    p = subprocess.run([craft, "-t", t, "-m", man, "-o", out, pcap], capture_output=True)
    if p.returncode:
        return ["craft: " + p.stderr.decode(errors="replace").strip()]
    got = by_ports(tlswhy_json(tlswhy, out))
    orig = by_ports(originals[pcap])
    bad = []
    # servers (as seen in the transformed capture) with a connection that lost bytes
    lossy_servers = {}
    for k, c in got.items():
        vf = verdicts(c)["findings"][:1]
        if "gap" in c["anomalies"] or (vf and vf[0] in LOSSY_VERDICTS):
            lossy_servers.setdefault((c["server"]["ip"], c["server"]["port"]), set()).add(k)
    for row in read_manifest(man):
        key = frozenset((int(row["client_port"]), int(row["server_port"])))
        if row["present"] != "yes":
            continue
        if key not in orig:
            bad.append("conn %s: not in the original's output" % row["conn"])
            continue
        if key not in got:
            # Known limitation: when the first bytes of the client's stream are
            # lost (a queue cap before the ClientHello was complete), tlswhy
            # cannot tell TLS from anything else and leaves the connection
            # out of the default report.
            if "gap" in names(row["injected"]) and "client_hello" not in names(row["intact"]):
                continue
            bad.append("conn %s: missing" % row["conn"])
            continue
        srv = (got[key]["server"]["ip"], got[key]["server"]["port"])
        # per-server knowledge (a certificate, suites, groups, completions
        # with SNI...) comes from the other connections to the same server
        borrowed_lost = bool(lossy_servers.get(srv, set()) - {key})
        bad += ["conn %s: %s" % (row["conn"], b) for b in check_conn(t, orig[key], got[key], row, borrowed_lost)]
    os.unlink(out)
    return bad


def main():
    tlswhy, craft = sys.argv[1], sys.argv[2]
    pdir = sys.argv[3] if len(sys.argv) > 3 else "pcaps"
    work = sys.argv[4] if len(sys.argv) > 4 else "build/metamorphic"
    os.makedirs(work, exist_ok=True)
    pcaps = sorted(os.path.join(pdir, f) for f in os.listdir(pdir)
                   if f.endswith(".pcap") and f not in ALREADY_LOSSY)
    try:
        originals = {p: tlswhy_json(tlswhy, p) for p in pcaps}
    except Exception as e:  # nothing to compare with
        print("FAIL the recorded captures themselves: %s" % e)
        print("0 passed, 1 failed")
        return 1
    passed = failed = 0
    jobs = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 4) as ex:
        for pcap in pcaps:
            for t in TRANSFORMS:
                jobs[(os.path.basename(pcap), t)] = ex.submit(run_case, tlswhy, craft, pcap, t, work, originals)
        for (name, t), fut in jobs.items():
            try:
                bad = fut.result()
            except Exception as e:  # a crash or bad JSON is a failure of that case
                bad = ["error: %s" % e]
            why = KNOWN.get((name, t))
            if bad and why:
                print("xfail %s %s: %s (%s)" % (name, t, "; ".join(bad[:1]), why))
            elif bad:
                failed += 1
                print("FAIL %s %s: %s" % (name, t, "; ".join(bad[:3])))
            else:
                passed += 1
                print("ok   %s %s%s" % (name, t, " (listed as known: remove it from KNOWN)" if why else ""))

    # determinism: every transformation twice on one capture, byte for byte
    demo = os.path.join(pdir, "demo-alb-502.pcap")
    if os.path.exists(demo):
        for t in TRANSFORMS:
            outs = []
            for i in (1, 2):
                o = os.path.join(work, "det%d.%s" % (i, "pcapng" if "pcapng" in t else "pcap"))
                subprocess.run([craft, "-t", t, "-m", o + ".tsv", "-o", o, demo], check=True)
                outs.append(o)
            if filecmp.cmp(outs[0], outs[1], shallow=False) and \
               filecmp.cmp(outs[0] + ".tsv", outs[1] + ".tsv", shallow=False):
                passed += 1
                print("ok   deterministic %s" % t)
            else:
                failed += 1
                print("FAIL deterministic %s: two runs differ" % t)

    # the committed crafted files are what `make pcaps` writes today
    crafted = os.path.join(pdir, "crafted")
    script = os.path.join(pdir, "crafted.sh")
    if os.path.isdir(crafted) and os.path.exists(script):
        regen = os.path.join(work, "crafted")
        p = subprocess.run(["sh", script, craft, pdir, regen], capture_output=True)
        if p.returncode:
            failed += 1
            print("FAIL crafted: %s" % p.stderr.decode(errors="replace").strip())
        for f in sorted(os.listdir(crafted)):
            if not (f.endswith(".pcap") or f.endswith(".pcapng") or f.endswith(".tsv")):
                continue
            new = os.path.join(regen, f)
            if os.path.exists(new) and filecmp.cmp(os.path.join(crafted, f), new, shallow=False):
                passed += 1
                print("ok   crafted/%s up to date" % f)
            else:
                failed += 1
                print("FAIL crafted/%s: differs from a fresh `make pcaps` (run it and commit)" % f)

    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

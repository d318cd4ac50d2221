"""known_differences.py - tests/corpus-known-differences, read once for
tests/corpus.py and tests/fingerprints.py.

Each entry: `capture | [stream |] field | reason`. The capture is one named
file; stream and field are globs where `*` and `?` are wildcards and `[` is
literal (fields look like certificates[0].serial, streams like [::1]:443).
Every entry gives its reason. Each entry counts its hits, so a script can
report the ones that matched nothing (stale).
"""
import fnmatch
import os
import sys


def load(path, prefix=None):
    """The entries of `path`; with `prefix`, only fields starting with it."""
    known = []
    if not os.path.exists(path):
        return known
    with open(path) as fh:
        for n, line in enumerate(fh, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            parts = [p.strip() for p in line.split("|")]
            if len(parts) == 3:
                cap, field, why = parts
                stream = "*"
            elif len(parts) == 4:
                cap, stream, field, why = parts
            else:
                sys.exit("%s:%d: expected 'capture | [stream |] field | reason'" % (path, n))
            if not why or not cap or any(ch in cap for ch in "*?["):
                sys.exit("%s:%d: an entry names one capture and gives a reason" % (path, n))
            if prefix and not field.startswith(prefix):
                continue
            known.append({"line": n, "capture": cap, "stream": stream, "field": field, "why": why, "hits": 0})
    return known


def match(known, capture, stream, field):
    """True (and a hit counted) when an entry covers this difference."""
    for k in known:
        if k["capture"] == capture and fnmatch.fnmatchcase(stream, k["stream"].replace("[", "[[]")) and \
                fnmatch.fnmatchcase(field, k["field"].replace("[", "[[]")):
            k["hits"] += 1
            return True
    return False

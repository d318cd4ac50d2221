"""known_differences.py - the "known" cases of tests/TESTLIST (differences
from tshark that are not tlswhy bugs), read once for tests/corpus.py and
tests/fingerprints.py.

Each entry: `known <TAB> capture <TAB> stream <TAB> field <TAB> reason`. The
capture is one named file; stream and field are globs where `*` and `?` are
wildcards and `[` is literal (fields look like certificates[0].serial,
streams like [::1]:443). Every entry gives its reason. Each entry counts its
hits, so a script can report the ones that matched nothing (stale).
"""
import fnmatch
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from testlist import cases  # noqa: E402


def load(path, prefix=None):
    """The entries of `path`; with `prefix`, only fields starting with it."""
    known = []
    if not os.path.exists(path):
        return known
    for n, fields in cases("known", path, numbered=True):
        if len(fields) != 4:
            sys.exit("%s:%d: expected 'known <TAB> capture <TAB> stream <TAB> field <TAB> reason'" % (path, n))
        cap, stream, field, why = fields
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

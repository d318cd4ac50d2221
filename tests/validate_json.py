#!/usr/bin/python3
"""validate_json.py - validate tlswhy output against docs/schema/ with a real validator.

    /usr/bin/python3 tests/validate_json.py json FILE...   each FILE one document
    /usr/bin/python3 tests/validate_json.py jsonl FILE...  JSON Lines: every line, last one "summary"

Uses Debian's python3-jsonschema (Draft 2020-12), offline: the line schema's
$refs to the document schema resolve from docs/schema/, never the network.
Prints "valid", or the first errors of each bad file (with its name) and
"invalid" and exits 1. Many files in one call: one start-up (the schemas'
checks and the import of jsonschema are most of a small file's time).
"""
import json
import os
import sys

import jsonschema

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs", "schema")
doc = json.load(open(os.path.join(here, "tlswhy.schema.json")))
line = json.load(open(os.path.join(here, "tlswhy-line.schema.json")))
store = {doc["$id"]: doc, line["$id"]: line}
cls = jsonschema.Draft202012Validator
cls.check_schema(doc)
cls.check_schema(line)


def validator(schema):
    return cls(schema, resolver=jsonschema.RefResolver.from_schema(schema, store=store),
               format_checker=jsonschema.FormatChecker())


def report(errors, where):
    for e in errors[:5]:
        print("%s: %s at %s" % (where, e.message[:300], "/".join(str(p) for p in e.absolute_path)))
    return bool(errors)


def check(kind, path):
    raw = open(path, "rb").read()
    raw.decode("utf-8")   # strict: invalid UTF-8 raises
    bad = False
    if kind == "json":
        bad = report(list(doc_validator.iter_errors(json.loads(raw))), path)
    else:
        v = line_validator
        lines = raw.split(b"\n")
        if lines[-1] != b"":
            print("%s: does not end with a newline" % path)
            bad = True
        lines = [l for l in lines if l]
        for i, l in enumerate(lines, 1):
            obj = json.loads(l)
            bad |= report(list(v.iter_errors(obj)), "%s:%d" % (path, i))
            want = "summary" if i == len(lines) else "connection"
            if obj.get("type") != want:
                print("%s:%d: type %r, wanted %r" % (path, i, obj.get("type"), want))
                bad = True
    return bad
kind, paths = sys.argv[1], sys.argv[2:]
line_validator, doc_validator = validator(line), validator(doc)
bad = False
for path in paths:
    try:
        bad |= check(kind, path)
    except (ValueError, UnicodeDecodeError) as e:
        # one file's broken JSON or UTF-8 must not hide the others'
        if len(paths) == 1:
            raise
        print("%s: %s" % (path, e))
        bad = True
print("invalid" if bad else "valid")
sys.exit(1 if bad else 0)

#!/usr/bin/env python3
"""crdcheck.py - check Kubernetes objects against the CRDs in a directory.

    crdcheck.py CRD_DIR MANIFEST...   one line per object: "ok KIND NAME" or
                                      "invalid KIND NAME: PATH: WHY"; exit 1
                                      if any object is invalid
    crdcheck.py --structural CRD_DIR  check every schema is structural

The schema subset the API server enforces before admission: types, required
fields, unknown fields (pruned, so rejected here), enums, patterns, lengths,
item and property counts, numeric ranges, int-or-string.  CEL rules
(x-kubernetes-validations) are not evaluated.  Go's RE2 and Python's re agree
on the patterns the CRDs use.
"""
import os
import re
import sys

import yaml


def load_all(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def crds(directory):
    by_gvk = {}
    for name in sorted(os.listdir(directory)):
        if not name.endswith(".yaml"):
            continue
        for d in load_all(os.path.join(directory, name)):
            if d.get("kind") != "CustomResourceDefinition":
                continue
            spec = d["spec"]
            for v in spec["versions"]:
                key = (spec["group"] + "/" + v["name"], spec["names"]["kind"])
                by_gvk[key] = v["schema"]["openAPIV3Schema"]
    return by_gvk


def check(s, v, path, errs):
    if s.get("x-kubernetes-int-or-string"):
        if isinstance(v, bool) or not isinstance(v, (int, str)):
            errs.append("%s: want an integer or a string" % path)
        elif isinstance(v, str) and "pattern" in s and not re.search(s["pattern"], v):
            errs.append("%s: %r does not match %s" % (path, v, s["pattern"]))
        return
    t = s.get("type")
    if t == "object":
        if not isinstance(v, dict):
            errs.append("%s: want an object" % path)
            return
        for r in s.get("required", []):
            if r not in v:
                errs.append("%s: %s is required" % (path, r))
        if "maxProperties" in s and len(v) > s["maxProperties"]:
            errs.append("%s: more than %d properties" % (path, s["maxProperties"]))
        props = s.get("properties", {})
        extra = s.get("additionalProperties")
        for k, x in v.items():
            if k in props:
                check(props[k], x, path + "." + k, errs)
            elif isinstance(extra, dict):
                check(extra, x, path + "." + k, errs)
            elif props and not s.get("x-kubernetes-preserve-unknown-fields"):
                errs.append("%s: unknown field %s" % (path, k))
    elif t == "array":
        if not isinstance(v, list):
            errs.append("%s: want an array" % path)
            return
        if "maxItems" in s and len(v) > s["maxItems"]:
            errs.append("%s: more than %d items" % (path, s["maxItems"]))
        for i, x in enumerate(v):
            check(s.get("items", {}), x, "%s[%d]" % (path, i), errs)
    elif t == "string":
        if not isinstance(v, str):
            errs.append("%s: want a string, not %r" % (path, v))
            return
        if "enum" in s and v not in s["enum"]:
            errs.append("%s: %r is not one of %s" % (path, v, s["enum"]))
        if "pattern" in s and not re.search(s["pattern"], v):
            errs.append("%s: %r does not match %s" % (path, v, s["pattern"]))
        if "maxLength" in s and len(v) > s["maxLength"]:
            errs.append("%s: longer than %d" % (path, s["maxLength"]))
        if "minLength" in s and len(v) < s["minLength"]:
            errs.append("%s: shorter than %d" % (path, s["minLength"]))
    elif t == "integer":
        if isinstance(v, bool) or not isinstance(v, int):
            errs.append("%s: want an integer, not %r" % (path, v))
            return
        if "minimum" in s and v < s["minimum"]:
            errs.append("%s: %d is below %s" % (path, v, s["minimum"]))
        if "maximum" in s and v > s["maximum"]:
            errs.append("%s: %d is above %s" % (path, v, s["maximum"]))
    elif t == "boolean":
        if not isinstance(v, bool):
            errs.append("%s: want a boolean, not %r" % (path, v))


def structural(s, path, errs):
    """Every node has a type unless it is int-or-string or preserves unknown
    fields; no node mixes properties and additionalProperties."""
    if not isinstance(s, dict):
        return
    if "type" not in s and not s.get("x-kubernetes-int-or-string") \
            and not s.get("x-kubernetes-preserve-unknown-fields"):
        errs.append("%s: no type" % path)
    if "properties" in s and "additionalProperties" in s:
        errs.append("%s: both properties and additionalProperties" % path)
    for k, x in s.get("properties", {}).items():
        structural(x, path + "." + k, errs)
    if isinstance(s.get("additionalProperties"), dict):
        structural(s["additionalProperties"], path + ".*", errs)
    if "items" in s:
        structural(s["items"], path + "[]", errs)
    if "default" in s:
        errs_d = []
        check(s, s["default"], path + " (default)", errs_d)
        errs.extend(errs_d)


def main(argv):
    if len(argv) >= 3 and argv[1] == "--structural":
        errs = []
        for name in sorted(os.listdir(argv[2])):
            if name.endswith(".yaml"):
                for d in load_all(os.path.join(argv[2], name)):
                    for v in d["spec"]["versions"]:
                        structural(v["schema"]["openAPIV3Schema"],
                                   "%s %s" % (d["metadata"]["name"], v["name"]), errs)
        for e in errs:
            print(e)
        return 1 if errs else 0
    if len(argv) < 3:
        print("usage: crdcheck.py CRD_DIR MANIFEST... | --structural CRD_DIR", file=sys.stderr)
        return 64
    schemas = crds(argv[1])
    bad = 0
    for path in argv[2:]:
        for d in load_all(path):
            kind = d.get("kind")
            key = (d.get("apiVersion"), kind)
            if key not in schemas:
                continue
            name = (d.get("metadata") or {}).get("name", "?")
            errs = []
            check(schemas[key], d, kind, errs)
            if errs:
                bad += 1
                print("invalid %s %s: %s" % (kind, name, "; ".join(errs)))
            else:
                print("ok %s %s" % (kind, name))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/env python3
"""Compares the test-suite times of two built trees from their surefire reports: every test
class and method the two share, side by side (the suites differ in size, so their wall times alone
say little about the code under test).

    bench/suite_times.py BEFORE_TREE AFTER_TREE [--out FILE.json]

Each tree must have run `mvn test` (its */target/surefire-reports/TEST-*.xml)."""
import argparse
import glob
import json
import xml.etree.ElementTree as ET


def load(root):
    classes, methods = {}, {}
    for f in glob.glob(root + "/*/target/surefire-reports/TEST-*.xml"):
        suite = ET.parse(f).getroot()
        classes[suite.get("name")] = float(suite.get("time"))
        for case in suite.iter("testcase"):
            methods[case.get("classname") + "#" + case.get("name")] = float(case.get("time"))
    if not classes:
        raise SystemExit(f"no surefire reports under {root}/*/target/surefire-reports: run mvn test there first")
    return classes, methods


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("before")
    ap.add_argument("after")
    ap.add_argument("--out")
    a = ap.parse_args()
    bc, bm = load(a.before)
    ac, am = load(a.after)
    shared_classes = sorted(set(bc) & set(ac), key=lambda k: -bc[k])
    shared_methods = set(bm) & set(am)
    res = dict(
        before=dict(classes=len(bc), methods=len(bm), seconds=round(sum(bc.values()), 1)),
        after=dict(classes=len(ac), methods=len(am), seconds=round(sum(ac.values()), 1)),
        shared_methods=dict(count=len(shared_methods), before_s=round(sum(bm[k] for k in shared_methods), 1),
                            after_s=round(sum(am[k] for k in shared_methods), 1)),
        shared_classes=[dict(name=k, before_s=round(bc[k], 2), after_s=round(ac[k], 2)) for k in shared_classes])
    print(f"all tests: before {res['before']['methods']} in {res['before']['seconds']} s, "
          f"after {res['after']['methods']} in {res['after']['seconds']} s (sum of class times)")
    sm = res["shared_methods"]
    print(f"the {sm['count']} tests both have: before {sm['before_s']} s, after {sm['after_s']} s")
    for c in res["shared_classes"]:
        if c["before_s"] >= 1 or c["after_s"] >= 1:
            print(f"  {c['name']:<66} {c['before_s']:7.1f} {c['after_s']:7.1f}")
    if a.out:
        with open(a.out, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()

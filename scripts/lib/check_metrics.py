"""Reads Prometheus text-format files strictly; exits 1 on the first file that fails.

prometheus_client's parser (the reference Python implementation) must read every line; on top of
it, the rules it lets through: one TYPE per family, before its samples; every sample belongs to a
declared family; no series twice; counters and histogram counts are not negative; a histogram's
buckets are cumulative, end with le="+Inf" and that bucket equals _count. With --expect NAME, the
family NAME must be present.

usage: check_metrics.py [--expect NAME]... FILE...
"""
import math
import re
import sys

from prometheus_client.parser import text_string_to_metric_families

NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


def check(text):
    problems = []
    families = list(text_string_to_metric_families(text))  # raises on anything it cannot read
    declared = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            parts = line.split()
            if len(parts) != 4:
                problems.append(f"bad TYPE line: {line}")
                continue
            if parts[2] in declared:
                problems.append(f"TYPE twice for {parts[2]}")
            declared[parts[2]] = parts[3]
        elif line and not line.startswith("#"):
            name = re.split(r"[{ ]", line, maxsplit=1)[0]
            base = re.sub(r"_(bucket|sum|count)$", "", name)
            if name not in declared and not (base in declared and declared[base] == "histogram"):
                problems.append(f"sample before or without its TYPE: {line}")
    for family in families:
        if not NAME.match(family.name):
            problems.append(f"bad metric name {family.name}")
        seen = set()
        for s in family.samples:
            for label in s.labels:
                if not LABEL.match(label) or label.startswith("__"):
                    problems.append(f"bad label name {label} in {s.name}")
            key = (s.name, tuple(sorted(s.labels.items())))
            if key in seen:
                problems.append(f"series twice: {s.name}{s.labels}")
            seen.add(key)
            if math.isnan(s.value):
                problems.append(f"NaN: {s.name}{s.labels}")
            if family.type == "counter" and s.value < 0:
                problems.append(f"negative counter {s.name}{s.labels}")
        if family.type == "histogram":
            problems += check_histogram(family)
    return families, problems


def check_histogram(family):
    problems = []
    series = {}
    for s in family.samples:
        labels = tuple(sorted((k, v) for k, v in s.labels.items() if k != "le"))
        entry = series.setdefault(labels, {"buckets": [], "count": None})
        if s.name.endswith("_bucket"):
            entry["buckets"].append((float(s.labels["le"]), s.value))
        elif s.name.endswith("_count"):
            entry["count"] = s.value
    for labels, entry in series.items():
        buckets = entry["buckets"]
        if not buckets or buckets[-1][0] != math.inf:
            problems.append(f"{family.name}{dict(labels)}: no le=\"+Inf\" bucket last")
            continue
        if [b[0] for b in buckets] != sorted(b[0] for b in buckets):
            problems.append(f"{family.name}{dict(labels)}: buckets not in order")
        if any(b[1] > c[1] for b, c in zip(buckets, buckets[1:])):
            problems.append(f"{family.name}{dict(labels)}: buckets not cumulative")
        if entry["count"] != buckets[-1][1]:
            problems.append(f"{family.name}{dict(labels)}: _count {entry['count']} != +Inf bucket {buckets[-1][1]}")
    return problems


def main(argv):
    expected, files = [], []
    args = iter(argv)
    for arg in args:
        if arg == "--expect":
            expected.append(next(args))
        else:
            files.append(arg)
    if not files:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    failed = False
    for path in files:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        try:
            families, problems = check(text)
        except Exception as error:  # the parser's own complaint
            families, problems = [], [f"prometheus_client cannot parse it: {error!r}"]
        names = {f.name for f in families}
        problems += [f"no family {name}" for name in expected if name not in names and name.removesuffix("_total") not in names]
        if problems:
            failed = True
            print(f"FAIL {path}")
            for p in problems:
                print(f"     | {p}")
        else:
            print(f"ok   {path}: {len(families)} families, {sum(len(f.samples) for f in families)} samples")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

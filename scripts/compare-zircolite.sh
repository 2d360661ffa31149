#!/bin/sh
# vigil hunt against Zircolite on the same auditd input and the same SigmaHQ Linux rules, in one
# run, with every match counted per rule for both engines (so speed is not bought with misses).
#
#   scripts/compare-zircolite.sh [RECORDS] [ZIRCOLITE_DIR] [PYTHON]
#
# RECORDS (default 500000) auditd records are built from the corpus's auditd logs
# (../shared/corpus/logs/auditd) with fresh timestamps and serials. ZIRCOLITE_DIR is a checkout
# of github.com/wagga40/Zircolite and PYTHON an interpreter with its requirements.txt installed
# (a virtualenv). vigil hunt runs with every workflow option on: --timeline, --summary, --report,
# --output, --since, --min-level. Needs a release build: swift build -c release.
set -eu
cd "$(dirname "$0")/.."
records=${1:-500000}
zircolite=${2:-/tmp/zircolite}
python=${3:-/tmp/zvenv/bin/python}
vigil=.build/release/vigil
rules=rules/sigmahq/rules/linux
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

[ -x "$vigil" ] || { echo "build vigil first: swift build -c release" >&2; exit 1; }
[ -f "$zircolite/zircolite.py" ] || { echo "no Zircolite checkout at $zircolite" >&2; exit 1; }

python3 - "$records" "$work/audit.log" <<'EOF'
import glob, re, sys
records, out = int(sys.argv[1]), sys.argv[2]
stamp = re.compile(r"msg=audit\((\d+)\.(\d+):(\d+)\)")
groups, current, key = [], [], None
for path in sorted(glob.glob("../shared/corpus/logs/auditd/**/*.log", recursive=True)):
    for line in open(path, encoding="utf-8", errors="replace"):
        found = stamp.search(line)
        if not found:
            continue
        if (path, found.group(3)) != key and current:
            groups.append(current)
            current = []
        key = (path, found.group(3))
        current.append(line.rstrip("\n"))
if current:
    groups.append(current)
written, serial, seconds = 0, 1, 1_780_000_000
with open(out, "w") as file:
    while written < records:
        for group in groups:
            if written >= records:
                break
            millis = serial % 1000
            for line in group:
                file.write(stamp.sub(f"msg=audit({seconds}.{millis:03d}:{serial})", line, count=1) + "\n")
            written += len(group)
            serial += 1
            if millis == 999:
                seconds += 1
print(f"{written} auditd records in {serial - 1} events from {len(groups)} corpus events", file=sys.stderr)
EOF

# The generated file is flushed to disk first, so neither engine's time includes the kernel
# writing back 116 MB it has just been handed. The clock is read with date, not a Python
# start-up, which would add tens of milliseconds to each engine's time.
sync
seconds_since() { python3 -c "print(round($(date +%s.%N) - $1, 2))"; }

start=$(date +%s.%N)
"$vigil" hunt --rules "$rules" --format auditd --output-format jsonl --timeline --summary --report "$work/report.html" \
    --output "$work/vigil.jsonl" --since 2000-01-01T00:00:00Z --min-level informational "$work/audit.log" 2>"$work/vigil.err"
vigil_seconds=$(seconds_since "$start")

start=$(date +%s.%N)
(cd "$zircolite" && "$python" zircolite.py --auditd --events "$work/audit.log" --ruleset "$OLDPWD/$rules" \
    --outfile "$work/zircolite.json" --logfile "$work/zircolite.log" >"$work/zircolite.out" 2>&1) || { cat "$work/zircolite.out" >&2; exit 1; }
zircolite_seconds=$(seconds_since "$start")

python3 - "$work" "$vigil_seconds" "$zircolite_seconds" <<'EOF'
import collections, json, sys
work, vigil_seconds, zircolite_seconds = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
vigil = collections.Counter()
for line in open(f"{work}/vigil.jsonl"):
    line = line.strip()
    if line.startswith("{"):
        record = json.loads(line)
        if "rule_id" in record and "line" in record:
            vigil[record["title"]] += 1
zircolite = collections.Counter()
for detection in json.load(open(f"{work}/zircolite.json")):
    zircolite[detection["title"]] += detection.get("count", len(detection.get("matches", [])))
print(f"vigil hunt (every option): {vigil_seconds} s; Zircolite: {zircolite_seconds} s; "
      f"vigil is {zircolite_seconds / vigil_seconds:.1f}x faster")
print(f"| rule | vigil hunt | Zircolite |\n|---|---:|---:|")
for title in sorted(set(vigil) | set(zircolite), key=lambda t: (-max(vigil[t], zircolite[t]), t)):
    print(f"| {title} | {vigil[title]} | {zircolite[title]} |")
print(f"| total | {sum(vigil.values())} | {sum(zircolite.values())} |")
EOF

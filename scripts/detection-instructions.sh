#!/bin/sh
# Detection's cost in instructions per event, counted by valgrind's callgrind: repeatable for
# the same binary and input, whatever else the machine is doing (wall-clock rates here swing
# by 2× from day to day). The sample is fixed: the bench workload's first 50,000 events with
# the default rule pack (Benchmarks/DetectionInstructions). Only detection is counted
# (--toggle-collect on its one function), not generating, parsing or loading rules, and with
# deterministic hashing, so two runs of one build give the same count.
#
#   scripts/detection-instructions.sh           print the figure
#   scripts/detection-instructions.sh --check   also fail (exit 1) when it is more than 10%
#                                               above Benchmarks/Thresholds/detection-instructions-per-event
#   scripts/detection-instructions.sh --parse   count parsing the same sample instead (every
#                                               format, on one thread; no threshold)
#
# After a change that lowers it for good, write the new figure into that file.
set -eu
cd "$(dirname "$0")/.."
threshold_file=Benchmarks/Thresholds/detection-instructions-per-event
check=no
counted='*detectAll*' stage=detection
case "${1:-}" in
    --check) check=yes ;;
    --parse) counted='*parseAll*' stage=parsing ;;
    "") ;;
    *) echo "usage: $0 [--check | --parse]" >&2; exit 2 ;;
esac

command -v valgrind > /dev/null || { echo "valgrind is missing: apt-get install valgrind" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
swift build -c release --package-path Benchmarks --scratch-path .build --product DetectionInstructions > "$work/build.log" 2>&1 ||
    { cat "$work/build.log" >&2; exit 2; }
# valgrind 3.19 cannot read the DWARF 5 debug information Swift writes; the symbols stay.
objcopy --strip-debug .build/release/DetectionInstructions "$work/DetectionInstructions"
SWIFT_DETERMINISTIC_HASHING=1 valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.out" --toggle-collect="$counted" \
    "$work/DetectionInstructions" > "$work/result" 2> "$work/valgrind.log" || { cat "$work/valgrind.log" >&2; exit 2; }

events=$(sed -n 's/.*events=\([0-9]*\).*/\1/p' "$work/result")
instructions=$(sed -n 's/^summary: *\([0-9]*\).*/\1/p; s/^totals: *\([0-9]*\).*/\1/p' "$work/callgrind.out" | head -n 1)
[ -n "$events" ] && [ "$events" -gt 0 ] && [ -n "$instructions" ] || { echo "no count: $(cat "$work/result")" >&2; exit 2; }
per_event=$((instructions / events))
echo "$stage: $(cat "$work/result") instructions=$instructions per_event=$per_event"

[ "$check" = yes ] || exit 0
threshold=$(tr -dc '0-9' < "$threshold_file")
limit=$((threshold + threshold / 10))
if [ "$per_event" -gt "$limit" ]; then
    echo "detection takes $per_event instructions per event, more than 10% above the threshold of $threshold ($threshold_file)" >&2
    exit 1
fi
echo "within the threshold of $threshold instructions per event (limit $limit)"

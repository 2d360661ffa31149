#!/bin/sh
# Mutation testing: applies each mutant under scripts/mutants/ (one small patch: an operator
# flipped, a call skipped, a condition dropped) to the sources, one at a time, runs the tests,
# and prints whether the suite caught it (killed) or stayed green (survived).
#
#   scripts/mutate.sh                      every mutant
#   scripts/mutate.sh scripts/mutants/07-*.patch
#
# Each patch names, on its "Tests:" line, the suites expected to catch it; those run first,
# and the whole suite runs only when they stay green. A mutant that no longer applies or no
# longer builds is reported as such: refresh the patches with scripts/make-mutants.py. Exits 1
# when any mutant survived. It takes a while (a debug rebuild and a test run per mutant), so CI
# does not run it.
set -u
cd "$(dirname "$0")/.."

if ! git diff --quiet -- Sources; then
    echo "mutate.sh: Sources/ has uncommitted changes; commit or stash them first" >&2
    exit 2
fi
[ "$#" -gt 0 ] || set -- scripts/mutants/*.patch

log=$(mktemp)
applied=""
restore() { [ -n "$applied" ] && git apply -R "$applied"; applied=""; }
trap 'restore; rm -f "$log"' EXIT
trap 'exit 130' INT TERM

# A mutant counts as killed only against a suite that passes without it.
if ! swift build --build-tests >"$log" 2>&1 || ! swift test --skip-build >"$log" 2>&1; then
    echo "mutate.sh: the suite fails without any mutant; fix that first ($(grep -m1 -o '✘ Test [^(]*' "$log"))" >&2
    exit 2
fi
echo "baseline: the suite passes without mutants"

killed=0 survived=0 broken=0
for patch in "$@"; do
    name=$(basename "$patch" .patch)
    if ! git apply "$patch" 2>"$log"; then
        echo "broken    $name (does not apply: $(head -1 "$log"))"
        broken=$((broken + 1))
        continue
    fi
    applied=$patch
    if ! swift build --build-tests >"$log" 2>&1; then
        echo "broken    $name (does not build)"
        broken=$((broken + 1))
        restore
        continue
    fi
    suites=$(sed -n 's/^Tests: //p' "$patch")
    verdict=survived
    if [ -n "$suites" ] && ! timeout 900 swift test --skip-build --filter "$suites" >"$log" 2>&1; then
        verdict="killed    $name (by $(grep -m1 -o '✘ Test [^(]*' "$log" | sed 's/✘ Test //'))"
    elif ! timeout 1800 swift test --skip-build >"$log" 2>&1; then
        verdict="killed    $name (by the full suite: $(grep -m1 -o '✘ Test [^(]*' "$log" | sed 's/✘ Test //'))"
    fi
    restore
    if [ "$verdict" = survived ]; then
        echo "SURVIVED  $name: $(head -1 "$patch")"
        survived=$((survived + 1))
    else
        echo "$verdict"
        killed=$((killed + 1))
    fi
done
total=$((killed + survived))
echo "score: $killed of $total killed ($broken broken)"
[ "$survived" -eq 0 ] && [ "$broken" -eq 0 ]

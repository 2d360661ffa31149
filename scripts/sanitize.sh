#!/bin/sh
# The threaded and unsafe-pointer code under a sanitizer: builds vigil-stress with
# AddressSanitizer or ThreadSanitizer (each in a build folder of its own) and runs it. It
# imports a mixed workload and the corpus logs serially and in parallel, and detects on four
# threads over one shared rule set, checking that the answers agree. A sanitizer report or a
# wrong answer exits non-zero.
#
#   scripts/sanitize.sh                  both sanitizers (what CI runs)
#   scripts/sanitize.sh thread 100000    one sanitizer, a larger workload
set -eu
cd "$(dirname "$0")/.."
sanitizers=${1:-"address thread"}
events=${2:-20000}

for sanitizer in $sanitizers; do
    echo "--- vigil-stress under the ${sanitizer} sanitizer, ${events} events"
    swift build --product vigil-stress --sanitize="$sanitizer" --scratch-path ".build-sanitize-$sanitizer"
    # halt_on_error: the first report fails the run; ASan's leak check stays on.
    ASAN_OPTIONS=halt_on_error=1:detect_leaks=1 TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
        ".build-sanitize-$sanitizer/debug/vigil-stress" "$events" ../shared/corpus
done

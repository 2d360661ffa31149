#!/bin/sh
# Coverage-guided fuzzing with libFuzzer (Swift's -sanitize=fuzzer) and AddressSanitizer.
#
#   scripts/fuzz.sh                 every target for 10 s (what CI runs)
#   scripts/fuzz.sh 3600 cef times  one hour each for two targets
#
# Targets: every parser (auditd, sysmon-linux, santa, eslogger, jamf-protect, unified-log,
# osquery, clamav, cef, mobile-threat-defense, syslog, json), times (timestamps, durations and
# the time fields of CEF, ClamAV, syslog, Santa and auditd records), json-scanner, rules (the
# Sigma loader and compiler) and detect (format detection). Each starts from Fuzz/seeds/TARGET,
# the regression inputs in Fuzz/regressions/TARGET and, beside a checkout of the shared corpus,
# its real logs; what it learns is kept in .build-fuzz/corpus/TARGET between runs. A crash, a
# hang (over 10 s) or a blow-up (over 2 GiB) stops the run and is written to
# Fuzz/crashes/TARGET-…: fix it, then move the input to Fuzz/regressions/TARGET/ so it is
# replayed from then on. Exits non-zero when any target failed.
set -eu
cd "$(dirname "$0")/.."
seconds=${1:-10}
[ "$#" -gt 0 ] && shift
targets=${*:-"auditd sysmon-linux santa eslogger jamf-protect unified-log osquery clamav cef mobile-threat-defense syslog json times json-scanner rules detect"}

swift build -c release --product vigil-fuzz --scratch-path .build-fuzz \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -DVIGIL_FUZZING -Xswiftc -parse-as-library
binary=.build-fuzz/release/vigil-fuzz

shared=../shared/corpus/logs
corpus_logs() { # the shared corpus folder with real logs of a target, when it is checked out beside
    case "$1" in
        auditd) echo "$shared/auditd/go-libaudit $shared/auditd/otrf $shared/auditd/crowdsec" ;;
        sysmon-linux) echo "$shared/sysmon_linux" ;;
        santa) echo "$shared/macos_santa" ;;
        jamf-protect) echo "$shared/macos_jamf_protect" ;;
        osquery) echo "$shared/osquery" ;;
        clamav) echo "$shared/clamav" ;;
        cef) echo "$shared/cef_av" ;;
        mobile-threat-defense) echo "$shared/android_ios" ;;
        syslog) echo "$shared/syslog_auth/crowdsec" ;;
        rules) echo "../shared/corpus/sigma" ;;
    esac
}

mkdir -p Fuzz/crashes
failed=""
for target in $targets; do
    mkdir -p ".build-fuzz/corpus/$target"
    inputs=".build-fuzz/corpus/$target"
    for folder in "Fuzz/seeds/$target" "Fuzz/regressions/$target" $(corpus_logs "$target"); do
        [ -d "$folder" ] && inputs="$inputs $folder"
    done
    echo "--- fuzzing $target for ${seconds}s"
    # shellcheck disable=SC2086
    if ! VIGIL_FUZZ_TARGET=$target "$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -max_len=65536 -print_final_stats=1 -artifact_prefix="Fuzz/crashes/$target-" $inputs 2>".build-fuzz/$target.log"; then
        tail -40 ".build-fuzz/$target.log"
        failed="$failed $target"
    else
        grep -E "stat::number_of_executed_units|stat::new_units_added" ".build-fuzz/$target.log" | tr '\n' ' '
        echo
    fi
done
if [ -n "$failed" ]; then
    echo "fuzzing found failures in:$failed (inputs in Fuzz/crashes/)"
    exit 1
fi

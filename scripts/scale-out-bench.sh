#!/bin/sh
# Ingest throughput of 1, 2 or 3 `vigil serve` nodes on one PostgreSQL, in one run:
#
#     scripts/scale-out-bench.sh postgresql://vigil@127.0.0.1:55432/postgres [EVENTS] [NODES...]
#
# For each node count it creates a scratch database on that server, starts the nodes, has 8
# pushers (curl) send the bench's JSON workload in 500-line bodies round-robin over them, waits
# until the correlator has drained its queue, and prints events/s with the CPU microseconds the nodes
# (together) and the PostgreSQL server used per event. On two cores the nodes and the server share the
# same two cores, so the figures show cost per event more than scaling. Needs curl and psql; the build
# is .build/release/vigil (swift build -c release --product vigil).
set -eu
server=${1:?usage: scale-out-bench.sh POSTGRES_URL [EVENTS] [NODES...]}
events=${2:-60000}
shift; [ $# -gt 0 ] && shift
counts=${*:-1 2 3}
cd "$(dirname "$0")/.."
vigil=$(pwd)/.build/release/vigil
work=$(mktemp -d /tmp/vigil-scale.XXXXXX)
trap 'pkill -f "vigil serve --store .*vigil_scale_" 2>/dev/null || true; rm -rf "$work"' EXIT

"$vigil" bench --write-workload "$work/workload" --events "$events" --format json >/dev/null
split -l 500 -a 4 "$work/workload/bench-json.log" "$work/body."
lines=$(wc -l < "$work/workload/bench-json.log")

ticks() { # CPU clock ticks (user + system) of the processes PIDS...
    total=0
    for pid in "$@"; do
        [ -r "/proc/$pid/stat" ] || continue
        set -- $(sed 's/^.*) //' "/proc/$pid/stat")
        total=$((total + ${12} + ${13}))
    done
    echo $total
}
postgres_pids() { pgrep -x postgres || pgrep -f "postgres:" || true; }
hz=$(getconf CLK_TCK)

printf '%-6s %-8s %-9s %-10s %-24s %-20s\n' nodes events seconds events/s "nodes CPU µs/event" "server CPU µs/event"
for count in $counts; do
    database="vigil_scale_${count}_$$"
    psql "$server" -qtAc "CREATE DATABASE $database" >/dev/null
    store=$(echo "$server" | sed "s|/[^/]*\$|/$database|")
    VIGIL_STORE=$store "$vigil" init >/dev/null
    VIGIL_STORE=$store "$vigil" integration on json >/dev/null
    token=$(VIGIL_STORE=$store "$vigil" integration token json 2>/dev/null)
    pids=""; ports=""
    for node in $(seq 1 "$count"); do
        port=$(shuf -i 20000-32000 -n 1)  # below the ephemeral ports clients use
        VIGIL_STORE=$store "$vigil" serve --port "$port" --push-rate 0 --event-rate 0 >/dev/null 2>&1 &
        pids="$pids $!"; ports="$ports $port"
    done
    for port in $ports; do
        tries=0
        until curl -sf "http://127.0.0.1:$port/health" >/dev/null; do
            tries=$((tries + 1))
            [ $tries -lt 300 ] || { echo "a node on port $port did not answer /health" >&2; exit 1; }
            sleep 0.1
        done
    done
    set -- $ports
    node_ticks_before=$(ticks $pids); server_ticks_before=$(ticks $(postgres_pids))
    start=$(date +%s.%N)
    index=0
    for body in "$work"/body.*; do
        eval port=\${$((index % count + 1))}
        echo "$port $body"
        index=$((index + 1))
    done | xargs -P 8 -n 2 sh -c 'curl -sf -o /dev/null -H "Authorization: Bearer '"$token"'" --data-binary "@$1" "http://127.0.0.1:$0/api/v1/ingest?format=json" || echo "push failed: $1" >&2'
    until [ "$(psql "$store" -qtAc 'SELECT COUNT(*) FROM detection_queue')" = 0 ]; do sleep 0.1; done
    end=$(date +%s.%N)
    node_ticks=$(( $(ticks $pids) - node_ticks_before )); server_ticks=$(( $(ticks $(postgres_pids)) - server_ticks_before ))
    stored=$(psql "$store" -qtAc 'SELECT COUNT(*) FROM events')
    kill $pids; wait $pids 2>/dev/null || true
    psql "$server" -qtAc "DROP DATABASE $database WITH (FORCE)" >/dev/null
    awk -v n="$count" -v e="$stored" -v s="$(echo "$end - $start" | bc)" -v nt="$node_ticks" -v st="$server_ticks" -v hz="$hz" -v lines="$lines" 'BEGIN {
        if (e != lines) printf "warning: %d of %d lines stored\n", e, lines > "/dev/stderr"
        printf "%-6d %-8d %-9.2f %-10.0f %-24.1f %-20.1f\n", n, e, s, e / s, nt / hz / e * 1e6, st / hz / e * 1e6 }'
done

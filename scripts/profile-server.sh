#!/usr/bin/env bash
# A CPU profile of `roster serve` alone under `roster bench --url` (the load
# generator and the floor run in the bench's own process, so the profile
# holds only the server's work), with the requests it served during the
# profile, for CPU per request:
#   scripts/profile-server.sh BINARY [WORKLOAD [DIALECT]]     # create truv by default
#   go tool pprof -top BINARY /tmp/roster-profile/cpu.prof
set -euo pipefail
BIN="$(realpath "${1:?usage: $0 BINARY [WORKLOAD [DIALECT]]}")"; WL="${2:-create}"; DIA="${3:-truv}"
OUT="${OUT:-/tmp/roster-profile}"; API=127.0.0.1:18090; PPROF=127.0.0.1:6062
rm -rf "$OUT"; mkdir -p "$OUT"; cd "$OUT"
export ROSTER_DB="sqlite:$OUT/p.db" ROSTER_RATE_LIMIT=0
"$BIN" migrate >/dev/null
"$BIN" tenant create bench >/dev/null
cred="$("$BIN" credential create --tenant bench --json)"
id="$(echo "$cred" | python3 -c 'import json,sys; print(json.load(sys.stdin)["client_id"])')"
sec="$(echo "$cred" | python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')"
"$BIN" serve --listen "$API" --pprof "$PPROF" >/dev/null 2>serve.log &
srv=$!
trap 'kill $srv 2>/dev/null; wait $srv 2>/dev/null || true' EXIT
sleep 1.5
ROSTER_BENCH_SECRET="$sec" "$BIN" bench --url "http://$API" --tenant bench --client-id "$id" \
	--workload "$WL" --dialect "$DIA" --duration 12s --warmup 1s >bench.txt 2>&1 &
bench=$!
sleep 2
count() { curl -s "http://$API/metrics" | awk '/^roster_http_requests_total/{s+=$2} END{print s+0}'; }
m0="$(count)"
curl -s -o cpu.prof "http://$PPROF/debug/pprof/profile?seconds=11"
m1="$(count)"
wait $bench
echo "requests served during the 11 s profile: $((m1 - m0))"
go tool pprof -top -nodecount=1 "$BIN" cpu.prof 2>/dev/null | grep -o 'Total samples = [^ ]*'
grep -E '^(roster |floor|ratio)' bench.txt

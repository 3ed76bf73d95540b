#!/usr/bin/env bash
# Issue 10's hot-path table (docs/BENCHMARKS.md, "Hot path"): every
# workload of the table through `roster bench`, for each binary given,
# interleaved per workload so that two builds meet the same machine load.
#   go build -o /tmp/roster-new ./cmd/roster
#   git stash; go build -o /tmp/roster-old ./cmd/roster; git stash pop   # or a worktree at the old commit
#   scripts/hotpath.sh /tmp/roster-old /tmp/roster-new
#   DURATION=20s PG='postgres://postgres@127.0.0.1:5432/roster_bench' scripts/hotpath.sh /tmp/roster-new
# PG names a scratch database that bench creates and writes into (empty:
# skip PostgreSQL); drop it afterwards with `dropdb`.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 ROSTER_BINARY..." >&2; exit 2; }
DURATION="${DURATION:-10s}"
PG="${PG-postgres://postgres@127.0.0.1:5432/roster_hotpath_bench?sslmode=disable}"
echo "date:    $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "machine: $(nproc) vCPU, $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n1), $(free -g | awk '/^Mem:/{print $2}') GiB"
workloads=("create --dialect truv" "create --dialect entrust" "create --dialect cl2c" "create --dialect ownli"
	"create --dialect scim" "get" "mixed")
[ -n "$PG" ] && workloads+=("create --dialect truv --db $PG")
for w in "${workloads[@]}"; do
	for bin in "$@"; do
		echo "\$ uptime: $(uptime | sed 's/.*load/load/')"
		echo "\$ [$bin] roster bench --workload $w --conns 64 --duration $DURATION"
		# shellcheck disable=SC2086 # $w is several flags
		"$bin" bench --workload $w --conns 64 --duration "$DURATION" 2>&1 | grep -E '^(roster |floor|ratio)'
	done
done

#!/usr/bin/env bash
# The project's benchmark command: runs every benchmark with the floors
# measured beside it in the same run, and prints the machine and date so the
# numbers can go into docs/BENCHMARKS.md as they are.
#   scripts/bench.sh                              # create: 5 s each; SCIM list: 5 walks
#   BENCHTIME=10s LISTTIMES=10x scripts/bench.sh  # longer runs
set -euo pipefail
cd "$(dirname "$0")/.."
export ROSTER_TEST_POSTGRES="${ROSTER_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}"
echo "date:    $(date -u +%Y-%m-%dT%H:%MZ)"
echo "machine: $(nproc) vCPU, $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n1), $(free -g | awk '/^Mem:/{print $2}') GiB"
echo "go:      $(go env GOVERSION); PostgreSQL: $(psql --version 2>/dev/null | awk '{print $3}')"
echo
# Create path (HTTP + core + durable commit) beside its floors.
go test -run '^$' -bench 'CreateUser|Floor' -benchtime "${BENCHTIME:-5s}" -benchmem ./internal/server/
echo
# SCIM paging through 50,000 filtered users of 100,000, beside raw SQL.
go test -run '^$' -bench 'ListUsersContains' -benchtime "${LISTTIMES:-5x}" ./internal/dialect/scim/

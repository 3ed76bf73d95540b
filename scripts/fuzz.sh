#!/usr/bin/env bash
# fuzz.sh runs every Go fuzz target in the module, one after the other, for
# a fixed time each, and keeps what the fuzzer learned.
#
#   scripts/fuzz.sh                 # every target, 2m each
#   FUZZTIME=30s scripts/fuzz.sh    # shorter
#   scripts/fuzz.sh scim Patch      # only targets whose "pkg/Name" matches
#                                   # every given pattern (grep -E)
#
# Each target runs with -parallel=1 (one fuzz worker) so the machine stays
# usable; set FUZZ_PARALLEL to use more. Inputs the fuzzer found that reach
# new code live in the Go build cache ($GOCACHE/fuzz); after each target
# they are copied into that package's testdata/fuzz/<FuzzName>/, where
# plain `go test` replays them as regression inputs, so commit them. A
# failing input is written there by `go test` itself and the script stops
# with its exit status after finishing the remaining targets.
set -u
cd "$(dirname "$0")/.."

FUZZTIME=${FUZZTIME:-2m}
PARALLEL=${FUZZ_PARALLEL:-1}
# Go spends up to 60 s minimizing every new interesting input by default;
# the HTTP targets run a few hundred inputs a second, so that would eat
# most of the time. 100 runs per input is enough to drop obvious bloat.
MINIMIZE=${FUZZ_MINIMIZE:-100x}
module=$(go list -m)
cache=$(go env GOCACHE)/fuzz

# Every "dir Name" pair: fuzz targets are functions "func FuzzX(f *testing.F)"
# in _test.go files.
targets=$(grep -rEo --include='*_test.go' '^func (Fuzz[A-Za-z0-9_]+)\(f \*testing\.F\)' internal cmd 2>/dev/null |
	sed -E 's#^(.*)/[^/]+_test\.go:func (Fuzz[A-Za-z0-9_]+).*#\1 \2#' | sort -u)

status=0
ran=0
while read -r dir name; do
	[ -n "$dir" ] || continue
	for pat in "$@"; do
		echo "$dir/$name" | grep -Eq -- "$pat" || continue 2
	done
	ran=$((ran + 1))
	echo "== $dir $name ($FUZZTIME)"
	start=$(date +%s)
	if ! go test -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" -fuzzminimizetime "$MINIMIZE" -parallel "$PARALLEL" "./$dir"; then
		echo "!! $dir $name failed (see above; a crashing input is saved under $dir/testdata/fuzz/$name/)"
		status=1
	fi
	src="$cache/$module/$dir/$name"
	if [ -d "$src" ]; then
		mkdir -p "$dir/testdata/fuzz/$name"
		# -n: never overwrite a checked-in input (the names are content
		# hashes, so an existing name holds the same bytes).
		cp -n "$src"/* "$dir/testdata/fuzz/$name/" 2>/dev/null || true
	fi
	echo "   $(( $(date +%s) - start ))s, corpus $(ls "$dir/testdata/fuzz/$name" 2>/dev/null | wc -l) inputs"
done <<<"$targets"

if [ "$ran" -eq 0 ]; then
	echo "no fuzz target matches: $*" >&2
	exit 2
fi
exit $status

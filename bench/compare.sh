#!/usr/bin/env bash
# compare.sh: the effect of a change on the engine's Go micro-benchmarks as
# ratios from one run. It checks BASE out into a temporary worktree, then
# runs the same benchmarks for BASE and for the working tree in turn,
# COUNT rounds interleaved (base, new, base, new, ...) so that load on the
# machine hits both alike, and prints benchstat's comparison.
#
#   bench/compare.sh BASE [PATTERN] [PACKAGES]
#   make bench-compare BASE=<commit> [BENCH=regexp] [PKGS='./ ./protocol/']
#
# Environment: COUNT (rounds, default 6), BENCHTIME (default 1s).
set -euo pipefail

base=${1:?usage: compare.sh BASE [PATTERN] [PACKAGES]}
pattern=${2:-.}
pkgs=${3:-./...}
count=${COUNT:-6}
benchtime=${BENCHTIME:-1s}
root=$(git rev-parse --show-toplevel)
cd "$root"

git rev-parse --verify --quiet "$base^{commit}" >/dev/null || { echo "compare.sh: unknown commit $base" >&2; exit 2; }
work=$(mktemp -d)
cleanup() {
	git worktree remove --force "$work/base" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT
git worktree add --quiet --detach "$work/base" "$base"

# benchstat from the Go module proxy, built once into the cache.
benchstat=(go run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da)

run() { # run DIR OUT: one round of the benchmarks in DIR, appended to OUT
	(cd "$1" && go test -run='^$' -bench="$pattern" -benchmem -count=1 -benchtime="$benchtime" $pkgs) >>"$2"
}
echo "compare.sh: $count rounds of -bench='$pattern' in $pkgs, $(git rev-parse --short "$base") vs working tree; load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for i in $(seq 1 "$count"); do
	echo "compare.sh: round $i/$count" >&2
	run "$work/base" "$work/base.txt"
	run "$root" "$work/new.txt"
done
"${benchstat[@]}" base="$work/base.txt" new="$work/new.txt"

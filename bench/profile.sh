#!/usr/bin/env bash
# profile.sh — CPU profile of a server under one benchmark case, with
# perf(1) (wse-server exposes no pprof endpoint). Writes the hottest
# functions (self time, and with children) to results/profile-<target>-<case>.txt.
#
#   ./profile.sh fan10k            # wse-server, 10K subscribers, max rate
#   TARGET=centrifuge ./profile.sh cpu1k200
#
# Needs bin/ from run.sh. Loopback only; bounded like run.sh.
set -euo pipefail
cd "$(dirname "$0")"
ulimit -n "$(ulimit -Hn)"
CASE=${1:?case name, as in run.sh}
TARGET=${TARGET:-wse}
SECRET=wse-bench-secret-0123456789abcdefghij
case "$CASE" in
fan10k) ARGS="-scenario fanout -n 10000 -size 100" ;;
fan1k) ARGS="-scenario fanout -n 1000 -size 100" ;;
cpu1k200) ARGS="-scenario fanout -n 1000 -size 100 -rate 200" ;;
lat1k100) ARGS="-scenario fanout -n 1000 -size 100 -rate 100" ;;
connect10k) ARGS="-scenario connect -n 10000" ;;
p2p100) ARGS="-scenario p2p -n 100" ;;
*) echo "profile.sh: unknown case $CASE" >&2; exit 2 ;;
esac
case "$TARGET" in
wse) bin/wse-server --port 19107 --api-addr 127.0.0.1:19108 --client-subscriptions any --max-connections 20000 \
	--jwt-secret "$SECRET" --log-level warn --demo=false --drain-timeout 2s >/dev/null 2>&1 & ;;
centrifuge) bin/centrifuge-peer -jwt-secret "$SECRET" -maxtime 200s >/dev/null 2>&1 & ;;
raw) bin/raw-floor -maxtime 200s >/dev/null 2>&1 & ;;
esac
PID=$!
(sleep 200 && kill -KILL "$PID" 2>/dev/null) &
DOG=$!
trap 'kill -TERM $PID 2>/dev/null || true; sleep 1; kill -KILL $PID 2>/dev/null || true; kill $DOG 2>/dev/null || true' EXIT
sleep 2
# shellcheck disable=SC2086
timeout -k 5 150 bin/wse-bench run $ARGS -target "$TARGET" -dur 12s -warmup 2s -server-pid "$PID" \
	-jwt-secret "$SECRET" -maxtime 120s -label "profile $CASE" >"results/profile-$TARGET-$CASE.json" &
BENCH=$!
if [ "$CASE" = connect10k ]; then sleep 0.2; else sleep 8; fi
perf record -F 499 -g -p "$PID" -o "results/perf-$TARGET-$CASE.data" -- sleep 8 >/dev/null 2>&1
wait "$BENCH" || true
{
	echo "# perf profile of $TARGET under $CASE ($(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg))"
	echo "## self time"
	perf report -i "results/perf-$TARGET-$CASE.data" --no-children --sort sym --stdio -g none 2>/dev/null | grep "%" | head -40 || true
	echo "## with children"
	perf report -i "results/perf-$TARGET-$CASE.data" --children --sort sym --stdio -g none 2>/dev/null | grep "%" | head -60 || true
} >"results/profile-$TARGET-$CASE.txt"
rm -f "results/perf-$TARGET-$CASE.data" "results/perf-$TARGET-$CASE.data.old"
echo "profile.sh: results/profile-$TARGET-$CASE.txt"

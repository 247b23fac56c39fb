#!/usr/bin/env bash
# soak.sh — the soak run of issue 16: one wse-server with recovery and JWT,
# a fleet of real Go clients (cmd/wse-soak) subscribed to TOPICS topics,
# publications throughout, CHURN of the clients losing their connection
# every minute, every client checking its offsets. Prints the per-minute
# figures and ends with one summary line ("soak: PASS …" / "soak: FAIL …").
#
#   ./soak.sh                 # the full run: 19,000 clients, 1,000 topics, 10 minutes
#   SHORT=1 ./soak.sh         # the make-test form: 2,000 clients, 200 topics, 60 s
#
# Environment: CLIENTS, TOPICS, RATE (publications/s), DUR, WARMUP, CHURN,
# WSE_FLAGS (more wse-server flags). Loopback only; the server is killed by
# a watchdog and wse-soak stops by itself (-maxtime).
set -euo pipefail
cd "$(dirname "$0")"

if [ -n "${SHORT:-}" ]; then
	: "${CLIENTS:=2000}" "${TOPICS:=200}" "${RATE:=200}" "${DUR:=60s}" "${WARMUP:=20s}" "${CHURN:=0.10}" "${CHECK_RSS:=false}"
else
	: "${CLIENTS:=19000}" "${TOPICS:=1000}" "${RATE:=500}" "${DUR:=10m}" "${WARMUP:=2m}" "${CHURN:=0.10}" "${CHECK_RSS:=true}"
fi
WSE_FLAGS=${WSE_FLAGS:-}
SECRET=wse-soak-secret-0123456789abcdefghijkl
ulimit -n "$(ulimit -Hn)"

mkdir -p bin
(cd .. && go build -o bench/bin/wse-server ./cmd/wse-server)
go build -o bin/wse-soak ./cmd/wse-soak

port=$((20000 + RANDOM % 20000))
api=$((port + 1))
log=$(mktemp /tmp/wse-soak-server.XXXXXX.log)
# The server is killed if it outlives the run by much (timeout is its parent).
# shellcheck disable=SC2086
timeout -s KILL 2400 bin/wse-server --port "$port" --api-addr "127.0.0.1:$api" --jwt-secret "$SECRET" \
	--client-subscriptions any --recovery --max-connections 20000 --demo=false \
	--log-level warn $WSE_FLAGS 2>"$log" &
dog=$!
cleanup() { kill "$dog" 2>/dev/null || true; wait "$dog" 2>/dev/null || true; }
trap cleanup EXIT

for _ in $(seq 100); do
	curl -fsS "http://127.0.0.1:$api/health" >/dev/null 2>&1 && break
	sleep 0.1
done
srv=$(pgrep -P "$dog" -x wse-server)

set +e
bin/wse-soak -url "ws://127.0.0.1:$port/wse" -api "http://127.0.0.1:$api" -secret "$SECRET" \
	-server-pid "$srv" -clients "$CLIENTS" -topics "$TOPICS" -rate "$RATE" -dur "$DUR" \
	-warmup "$WARMUP" -churn "$CHURN" -check-rss="$CHECK_RSS" -maxtime 30m
rc=$?
set -e
if [ "$rc" -ne 0 ]; then
	echo "soak: server log tail:"; tail -20 "$log"
fi
rm -f "$log"
exit "$rc"

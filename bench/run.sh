#!/usr/bin/env bash
# run.sh — builds the benchmark binaries and runs the measurement set:
# every case against every target, a fresh server process per run, targets
# interleaved within each repetition. Results are appended as JSON lines to
# $OUT and summarized (medians, ratios) into ${OUT%.jsonl}.md.
#
#   ./run.sh                         # everything, REPS=3
#   REPS=1 DUR=3s ./run.sh fan1k     # some cases only
#   TARGETS="wse raw" ./run.sh idle10k idle19k
#
# Cases: connect10k idle10k idle19k fan100 fan1k fan10k lat1k100 cpu1k200
# lat1k1k p2p100 cluster1k (wse only: two wse-server nodes linked by
# --cluster-port/--peers, publisher on A, 1K subscribers on B; B's CPU),
# cluster10k, and the same two-node layout through a broker: redis1k
# redis10k (a redis-server started here, both nodes --broker redis) and
# nats1k nats10k (a nats-server started here, --broker nats), and
# cluster1k100 redis1k100 nats1k100 at 100 publishes/s (latency); the mesh and
# broker cases run with TARGETS ignored (wse only). Environment: REPS, DUR (measured window), TARGETS,
# OUT, EXTRA (more wse-bench flags), WSE_SERVER (a prebuilt wse-server), WSE_FLAGS (more wse-server flags,
# e.g. --write-delay=10ms), PEER_FLAGS (more centrifuge-peer flags, e.g. -write-delay=10ms). Loopback only; every process is bounded
# in time (servers by a watchdog, the client by -maxtime and timeout(1)).
set -euo pipefail
cd "$(dirname "$0")"

REPS=${REPS:-3}
DUR=${DUR:-10s}
TARGETS=${TARGETS:-"wse centrifuge raw"}
OUT=${OUT:-results/run-$(date -u +%Y%m%dT%H%M%SZ).jsonl}
EXTRA=${EXTRA:-}
WSE_FLAGS=${WSE_FLAGS:-}
PEER_FLAGS=${PEER_FLAGS:-}
SERVER_MAXTIME=240     # seconds a server may live
CLIENT_MAXTIME=180s    # bound of one wse-bench run
# A benchmark-only HS256 secret (not used anywhere else).
SECRET=wse-bench-secret-0123456789abcdefghij
DEFAULT_CASES="connect10k idle10k idle19k fan100 fan1k fan10k lat1k100 cpu1k200 lat1k1k p2p100"
CASES=${*:-$DEFAULT_CASES}

# The per-process open-file limit: raise the soft limit to the hard one.
ulimit -n "$(ulimit -Hn)"

mkdir -p bin results
# WSE_SERVER names a prebuilt wse-server (e.g. built from a given commit);
# otherwise it is built from this work tree.
if [ -n "${WSE_SERVER:-}" ]; then
	cp "$WSE_SERVER" bin/wse-server
else
	(cd .. && go build -o bench/bin/wse-server ./cmd/wse-server)
fi
go build -o bin/ ./cmd/...

case_args() {
	case "$1" in
	connect10k) echo "-scenario connect -n 10000" ;;
	idle10k) echo "-scenario idle -n 10000" ;;
	idle19k) echo "-scenario idle -n 19500" ;;
	fan100) echo "-scenario fanout -n 100 -size 100" ;;
	fan1k) echo "-scenario fanout -n 1000 -size 100" ;;
	fan10k) echo "-scenario fanout -n 10000 -size 100" ;;
	lat1k100) echo "-scenario fanout -n 1000 -size 100 -rate 100" ;;
	cpu1k200) echo "-scenario fanout -n 1000 -size 100 -rate 200" ;;
	lat1k1k) echo "-scenario fanout -n 1000 -size 100 -rate 1000" ;;
	p2p100) echo "-scenario p2p -n 100" ;;
	cluster1k | redis1k | nats1k) echo "-scenario cluster-fanout -n 1000 -size 100 -pub-api http://127.0.0.1:19118" ;;
	cluster10k | redis10k | nats10k) echo "-scenario cluster-fanout -n 10000 -size 100 -pub-api http://127.0.0.1:19118" ;;
	cluster1k100 | redis1k100 | nats1k100) echo "-scenario cluster-fanout -n 1000 -size 100 -rate 100 -pub-api http://127.0.0.1:19118" ;;
	*) echo "run.sh: unknown case $1" >&2; return 2 ;;
	esac
}

SERVER_PID=""
WATCHDOG_PID=""
NODE_A_PID=""
BROKER_PID=""

# broker_server redis|nats: a fresh, empty broker on 19400 in the background.
broker_server() {
	case "$1" in
	redis) /usr/bin/redis-server --port 19400 --bind 127.0.0.1 --save '' --appendonly no --loglevel warning >>results/server.log 2>&1 & ;;
	nats) /usr/sbin/nats-server -a 127.0.0.1 -p 19400 >>results/server.log 2>&1 & ;;
	esac
	BROKER_PID=$!
	(sleep $SERVER_MAXTIME && kill -KILL "$BROKER_PID" 2>/dev/null) &
	for _ in $(seq 100); do (echo >/dev/tcp/127.0.0.1/19400) 2>/dev/null && return 0; sleep 0.1; done
	echo "run.sh: $1 broker did not start" >&2
	return 1
}

# wse_node PORT APIPORT [CLUSTERPORT PEER]: one wse-server in the background.
wse_node() {
	local cluster=()
	if [ $# -gt 2 ]; then cluster=(--cluster-port "$3" --peers "$4"); fi
	# shellcheck disable=SC2086
	bin/wse-server --port "$1" --api-addr "127.0.0.1:$2" --client-subscriptions any \
		--max-connections 20000 --jwt-secret "$SECRET" --log-level warn --demo=false \
		--drain-timeout 2s "${cluster[@]}" $WSE_FLAGS >>results/server.log 2>&1 &
}

start_server() {
	local ready
	case "$1" in
	wse)
		wse_node 19107 19108
		ready=http://127.0.0.1:19108/health ;;
	wse-cluster)
		# Node A (publisher side) first; B (subscribers, measured) is SERVER_PID.
		wse_node 19117 19118 19119 127.0.0.1:19109
		NODE_A_PID=$!
		(sleep $SERVER_MAXTIME && kill -KILL "$NODE_A_PID" 2>/dev/null) &
		wse_node 19107 19108 19109 127.0.0.1:19119
		ready=http://127.0.0.1:19108/health ;;
	wse-redis | wse-nats)
		local kind=${1#wse-} url=redis://127.0.0.1:19400
		[ "$kind" = nats ] && url=nats://127.0.0.1:19400
		broker_server "$kind"
		WSE_FLAGS="$WSE_FLAGS --broker $kind --$kind-url $url" wse_node 19117 19118
		NODE_A_PID=$!
		(sleep $SERVER_MAXTIME && kill -KILL "$NODE_A_PID" 2>/dev/null) &
		WSE_FLAGS="$WSE_FLAGS --broker $kind --$kind-url $url" wse_node 19107 19108
		ready=http://127.0.0.1:19108/health ;;
	centrifuge)
		# shellcheck disable=SC2086
		bin/centrifuge-peer -addr 127.0.0.1:19200 -jwt-secret "$SECRET" \
			-maxtime ${SERVER_MAXTIME}s $PEER_FLAGS >>results/server.log 2>&1 &
		ready=http://127.0.0.1:19200/stats ;;
	raw)
		bin/raw-floor -addr 127.0.0.1:19300 -maxtime ${SERVER_MAXTIME}s >>results/server.log 2>&1 &
		ready=http://127.0.0.1:19300/stats ;;
	esac
	SERVER_PID=$!
	(sleep $SERVER_MAXTIME && kill -KILL "$SERVER_PID" 2>/dev/null) &
	WATCHDOG_PID=$!
	for _ in $(seq 100); do
		curl -fs -o /dev/null "$ready" && break
		sleep 0.1
	done
	curl -fs -o /dev/null "$ready" || { echo "run.sh: $1 did not start" >&2; stop_server; return 1; }
	sleep 1 # let the fresh process settle before the RSS baseline
}

stop_server() {
	if [ -n "$NODE_A_PID" ]; then
		kill -TERM "$NODE_A_PID" 2>/dev/null || true
		wait "$NODE_A_PID" 2>/dev/null || true
		NODE_A_PID=""
	fi
	if [ -n "$SERVER_PID" ]; then
		kill -TERM "$SERVER_PID" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
	fi
	if [ -n "$WATCHDOG_PID" ]; then
		kill "$WATCHDOG_PID" 2>/dev/null || true
		wait "$WATCHDOG_PID" 2>/dev/null || true
	fi
	if [ -n "$BROKER_PID" ]; then
		kill -KILL "$BROKER_PID" 2>/dev/null || true
		wait "$BROKER_PID" 2>/dev/null || true
		BROKER_PID=""
	fi
	SERVER_PID="" WATCHDOG_PID=""
}
trap stop_server EXIT

echo "run.sh: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, load $(cut -d' ' -f1-3 /proc/loadavg), out $OUT"
for rep in $(seq "$REPS"); do
	for c in $CASES; do
		args=$(case_args "$c")
		targets=$TARGETS
		case "$c" in cluster1* | redis1* | nats1*) targets=wse ;; esac
		for t in $targets; do
			server=$t
			case "$c" in
			cluster1*) server=wse-cluster ;;
			redis1*) server=wse-redis ;;
			nats1*) server=wse-nats ;;
			esac
			start_server "$server"
			echo "run.sh: rep $rep $c $t (load $(cut -d' ' -f1 /proc/loadavg))"
			# shellcheck disable=SC2086
			timeout -k 5 200 bin/wse-bench run $args -target "$t" -dur "$DUR" -server-pid "$SERVER_PID" \
				-jwt-secret "$SECRET" -maxtime $CLIENT_MAXTIME -label "rep$rep $c" -out "$OUT" $EXTRA >/dev/null ||
				echo "run.sh: rep $rep $c $t: wse-bench exited $?" >&2
			stop_server
		done
	done
done
bin/wse-bench report "$OUT" >"${OUT%.jsonl}.md"
cat "${OUT%.jsonl}.md"

#!/usr/bin/env bash
# chaos.sh — the chaos and restart-under-load runs of issue 16, on three
# wse-server nodes in network namespaces this script makes and removes.
#
# Layout: namespace wsec-hub holds two bridges, one for clients
# (10.77.1.0/24; the client fleet and curl run in the hub at 10.77.1.254)
# and one for the cluster (10.77.2.0/24). Node i (namespace wsec-n$i) has
# eth0 = 10.77.1.$i on the client bridge and eth1 = 10.77.2.$i on the
# cluster bridge, so the cluster links can be cut or degraded without
# touching the clients. Nothing is added to the host's own namespace.
#
# Phases (one summary line each, then "chaos: PASS|FAIL …"):
#   partition  node 3's cluster interface down for PART_S (30) seconds while
#              node 1 publishes to clients on node 3: nodes live, links heal,
#              presence converges, every lost message is a reported gap
#              (never silent), node 1's DLQ and counters show the drops.
#   kill       kill -9 node 2, restart it: links heal, presence converges.
#   degrade    node 1's cluster link degraded for NETEM_S (20) seconds while
#              publishing: tc netem 100 ms ± 20 ms delay and 5% loss where the
#              kernel has sch_netem, else tc tbf 512 kbit/s with a 100 ms
#              queue (delay, and tail drops once the queue is full; this
#              machine's kernel has tbf but no netem): no crash, no silent loss.
#   restart    RESTART_CLIENTS (10,000) clients on node 1 (failing over to
#              node 2); SIGTERM node 1: every client gets 4300, node 1 exits
#              within --drain-timeout, every client reconnects to node 2,
#              which reports the node change as a gap, and goes on receiving.
#
#   sudo ./chaos.sh                         # everything
#   SHORT=1 ./chaos.sh                      # the make-test form (smaller, shorter)
#
# Needs root and iproute2 (ip netns, veth, bridge, tc). Every process
# runs under timeout(1); the namespaces are removed on exit.
set -euo pipefail
cd "$(dirname "$0")"

if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null || ! command -v tc >/dev/null; then
	echo "chaos: SKIP (needs root, ip and tc)"
	exit 0
fi
if [ -n "${SHORT:-}" ]; then
	: "${PART_S:=10}" "${FLEET:=300}" "${RESTART_CLIENTS:=1000}" "${NETEM_S:=8}" "${SLACK_S:=25}" "${RESTART_DUR:=20s}"
else
	: "${PART_S:=30}" "${FLEET:=1000}" "${RESTART_CLIENTS:=10000}" "${NETEM_S:=20}" "${SLACK_S:=60}" "${RESTART_DUR:=60s}"
fi
DRAIN=${DRAIN:-10s}
SECRET=wse-chaos-secret-0123456789abcdefghijkl
KEY=wse-chaos-api-key
ulimit -n "$(ulimit -Hn)"

mkdir -p bin
(cd .. && go build -o bench/bin/wse-server ./cmd/wse-server)
go build -o bin/wse-soak ./cmd/wse-soak
BIN=$PWD/bin
LOGS=$(mktemp -d /tmp/wse-chaos.XXXXXX)

hub() { ip netns exec wsec-hub "$@"; }
node_ns() { echo "wsec-n$1"; }

FLEETS=() # timeout(1) processes of the client fleets; TERM reaches the fleet
teardown() {
	for p in "${FLEETS[@]}"; do kill "$p" 2>/dev/null || true; done
	for i in 1 2 3; do
		if [ -f "$LOGS/n$i.pid" ]; then kill -9 "$(cat "$LOGS/n$i.pid")" 2>/dev/null || true; fi
	done
	for ns in wsec-hub wsec-n1 wsec-n2 wsec-n3; do ip netns del "$ns" 2>/dev/null || true; done
}
trap 'teardown; rm -rf "$LOGS"' EXIT
teardown

ip netns add wsec-hub
hub ip link set lo up
hub ip link add brc type bridge
hub ip link add brk type bridge
hub ip addr add 10.77.1.254/24 dev brc
hub ip link set brc up
hub ip link set brk up
for i in 1 2 3; do
	ns=$(node_ns "$i")
	ip netns add "$ns"
	ip netns exec "$ns" ip link set lo up
	for net in c k; do
		ip link add "${net}$i" netns wsec-hub type veth peer name "${net}$i-n" netns "$ns"
		hub ip link set "${net}$i" master "br$net"
		hub ip link set "${net}$i" up
	done
	ip netns exec "$ns" ip link set "c$i-n" name eth0
	ip netns exec "$ns" ip link set "k$i-n" name eth1
	ip netns exec "$ns" ip addr add "10.77.1.$i/24" dev eth0
	ip netns exec "$ns" ip addr add "10.77.2.$i/24" dev eth1
	ip netns exec "$ns" ip link set eth0 up
	ip netns exec "$ns" ip link set eth1 up
done

api() { echo "http://10.77.1.$1:5008"; }
ws() { echo "ws://10.77.1.$1:5007/wse"; }
get() { hub curl -fsS -m 5 -H "Authorization: Bearer $KEY" "$(api "$1")$2"; }
num() { get "$1" /metrics | awk -v k="$2" '$1==k {print $2}'; }
peers() { get "$1" /health 2>/dev/null | sed -n 's/.*"cluster_peer_count":\([0-9]*\).*/\1/p'; }

# start_node i: wse-server in namespace i, peering with the two others.
start_node() {
	local i=$1 peers=()
	for j in 1 2 3; do [ "$j" = "$i" ] || peers+=("10.77.2.$j:7946"); done
	ip netns exec "$(node_ns "$i")" timeout -s KILL 1800 "$BIN/wse-server" \
		--host 0.0.0.0 --port 5007 --api-addr "10.77.1.$i:5008" --api-key "$KEY" \
		--cluster-port 7946 --cluster-addr "10.77.2.$i:7946" --peers "$(IFS=,; echo "${peers[*]}")" \
		--jwt-secret "$SECRET" --client-subscriptions any --recovery --presence \
		--max-connections 20000 --drain-timeout "$DRAIN" --demo=false --log-level info \
		>>"$LOGS/n$i.log" 2>&1 &
	local dog=$!
	disown "$dog" # no job-control notice when it is killed on purpose
	for _ in $(seq 200); do
		if get "$i" /health >/dev/null 2>&1; then
			# The server itself, child of timeout(1): signals go to it.
			pgrep -P "$dog" -x wse-server >"$LOGS/n$i.pid"
			return 0
		fi
		sleep 0.1
	done
	echo "chaos: node $i did not start"; tail -20 "$LOGS/n$i.log"; return 1
}

# wait_mesh n: every running node in $RUNNING sees n peers (within 30 s).
wait_mesh() {
	local want=$1
	for _ in $(seq 300); do
		local ok=1
		for i in $RUNNING; do [ "$(peers "$i")" = "$want" ] || ok=0; done
		[ $ok = 1 ] && return 0
		sleep 0.1
	done
	return 1
}

alive() { kill -0 "$(cat "$LOGS/n$1.pid")" 2>/dev/null; }

# presence_users node topic
presence_users() { get "$1" "/api/presence/$2/stats" | sed -n 's/.*"num_users":\([0-9]*\).*/\1/p'; }

# present: a client with presence on node 2, for the convergence checks.
present() {
	ip netns exec wsec-hub timeout 900 "$BIN/wse-soak" -label presence -url "$(ws 2)" -api "$(api 2)" -api-key "$KEY" \
		-secret "$SECRET" -clients 1 -topics 1 -rate 1 -dur 10m -churn 0 -check-rss=false -allow-gaps \
		>"$LOGS/presence.log" 2>&1 &
	pp=$!
}

FAILS=()
fail() { FAILS+=("$1"); echo "chaos: $1 FAILED"; }

for i in 1 2 3; do start_node "$i"; done
RUNNING="1 2 3"
wait_mesh 2 || fail "initial mesh"
echo "chaos: mesh of 3 up"

# ---- partition + kill -9 + degraded link, with one fleet on node 3 fed from node 1.
total_s=$((PART_S + NETEM_S + SLACK_S))
ip netns exec wsec-hub timeout $((total_s + 120)) "$BIN/wse-soak" -label chaos-fleet -url "$(ws 3)" -api "$(api 1)" -api-key "$KEY" \
	-secret "$SECRET" -clients "$FLEET" -topics 20 -rate 50 -dur "${total_s}s" -churn 0 -warmup 0s \
	-check-rss=false -allow-gaps -settle 60s >"$LOGS/fleet.log" 2>&1 &
fleet=$!
FLEETS+=("$fleet")
for _ in $(seq 600); do grep -q "clients connected" "$LOGS/fleet.log" && break; sleep 0.1; done
sleep 5 # traffic flows before the first fault

dlq_before=$(num 1 wse_cluster_dlq_size)
echo "chaos: partition node 3 for ${PART_S}s"
ip netns exec wsec-n3 ip link set eth1 down
sleep "$PART_S"
ip netns exec wsec-n3 ip link set eth1 up
for i in 1 2 3; do alive "$i" || fail "partition: node $i died"; done
t0=$(date +%s%N)
if wait_mesh 2; then heal_ms=$(( ($(date +%s%N) - t0) / 1000000 )); else fail "partition: links did not heal"; heal_ms=-1; fi
dropped=$(num 1 wse_cluster_messages_dropped_total)
gaps1=$(num 1 wse_cluster_link_gaps_total)
renew3=$(num 3 wse_cluster_epoch_renewals_total)
echo "partition: nodes_alive=3 heal_ms=$heal_ms n1_dropped=$dropped n1_link_gaps=$gaps1 n3_epoch_renewals=$renew3 n1_dlq_size=$(num 1 wse_cluster_dlq_size) (before $dlq_before)"
[ "${renew3:-0}" != 0 ] || fail "partition: node 3 did not renew its epochs"

echo "chaos: kill -9 node 2, restart it"
kill -9 "$(cat "$LOGS/n2.pid")"
RUNNING="1 3"
wait_mesh 1 || fail "kill: survivors did not drop node 2"
for i in 1 3; do alive "$i" || fail "kill: node $i died"; done
start_node 2
RUNNING="1 2 3"
t0=$(date +%s%N)
if wait_mesh 2; then relink_ms=$(( ($(date +%s%N) - t0) / 1000000 )); else fail "kill: node 2 did not relink"; relink_ms=-1; fi
# Presence converges: a user made present on node 2 is seen on 1 and 3,
# and gone from both once its client leaves.
present
FLEETS+=("$pp")
cid=""
for _ in $(seq 200); do
	cid=$(get 2 /api/connections | sed -n 's/.*"connections":\["\([^"]*\)".*/\1/p')
	[ -n "$cid" ] && break
	sleep 0.1
done
hub curl -fsS -m 5 -H "Authorization: Bearer $KEY" -d "{\"conn_id\":\"$cid\",\"topics\":[\"room\"],\"presence\":{\"name\":\"chaos\"}}" "$(api 2)/api/subscribe" >/dev/null || fail "kill: presence subscribe"
converge() { # converge want: ms until nodes 1 and 3 both count want users in room (-1: never)
	for n in $(seq 100); do
		if [ "$(presence_users 1 room)" = "$1" ] && [ "$(presence_users 3 room)" = "$1" ]; then echo $((n * 100)); return; fi
		sleep 0.1
	done
	echo -1
}
join_ms=$(converge 1)
kill "$pp" 2>/dev/null || true
leave_ms=$(converge 0)
echo "kill: relink_ms=$relink_ms presence_join_converged_ms=$join_ms presence_leave_converged_ms=$leave_ms"
[ "$join_ms" != -1 ] && [ "$leave_ms" != -1 ] || fail "kill: presence did not converge"

if hub tc qdisc add dev k1 root netem delay 100ms 20ms loss 5% 2>/dev/null; then
	shaper="netem delay 100ms±20ms loss 5%"
else
	hub tc qdisc add dev k1 root tbf rate 512kbit burst 16kb latency 100ms
	shaper="tbf 512kbit latency 100ms (no netem in this kernel)"
fi
echo "chaos: degrade node 1's cluster link for ${NETEM_S}s: $shaper"
sleep "$NETEM_S"
hub tc qdisc del dev k1 root
for i in 1 2 3; do alive "$i" || fail "degrade: node $i died"; done
wait_mesh 2 || fail "degrade: mesh lost"
echo "degrade: shaper=\"$shaper\" nodes_alive=3 n1_reconnects=$(num 1 wse_cluster_reconnects_total) n1_dropped=$(num 1 wse_cluster_messages_dropped_total)"

wait "$fleet" && fleet_rc=0 || fleet_rc=$?
tail -1 "$LOGS/fleet.log"
[ "$fleet_rc" = 0 ] || fail "fleet: $(tail -1 "$LOGS/fleet.log" | cut -c1-60)"

# ---- restart under load: clients on node 1, SIGTERM it, they move to node 2.
echo "chaos: restart under load: $RESTART_CLIENTS clients on node 1, then SIGTERM"
ip netns exec wsec-hub timeout 900 "$BIN/wse-soak" -label restart-fleet -url "$(ws 1),$(ws 2)" -failover -api "$(api 3)" -api-key "$KEY" \
	-secret "$SECRET" -clients "$RESTART_CLIENTS" -topics 100 -rate 50 -dur "$RESTART_DUR" -churn 0 -warmup 0s \
	-check-rss=false -allow-gaps -expect-close 4300 -dialers 128 -settle 60s >"$LOGS/restart.log" 2>&1 &
rfleet=$!
FLEETS+=("$rfleet")
FLEETS+=("$fleet")
for _ in $(seq 3000); do
	grep -q "clients connected" "$LOGS/restart.log" && break
	alive 1 || break
	sleep 0.1
done
sleep 5
conns1=$(num 1 wse_connections)
t0=$(date +%s%N)
kill -TERM "$(cat "$LOGS/n1.pid")"
while alive 1; do sleep 0.05; done
exit_s=$(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
RUNNING="2 3"
echo "restart: node1_connections_before=$conns1 exit_after_s=$exit_s drain_timeout=$DRAIN"
awk -v e="$exit_s" -v d="${DRAIN%s}" 'BEGIN { exit !(e <= d + 1) }' || fail "restart: exit took ${exit_s}s"
t0=$(date +%s%N)
moved_ms=-1
for _ in $(seq 1200); do
	if [ "$(num 2 wse_connections)" = "$RESTART_CLIENTS" ]; then moved_ms=$(( ($(date +%s%N) - t0) / 1000000 )); break; fi
	sleep 0.1
done
echo "restart: all $RESTART_CLIENTS clients on node 2 after ${moved_ms}ms"
[ "$moved_ms" != -1 ] || fail "restart: clients did not all reach node 2"
wait "$rfleet" && rfleet_rc=0 || rfleet_rc=$?
tail -1 "$LOGS/restart.log"
[ "$rfleet_rc" = 0 ] || fail "restart: $(tail -1 "$LOGS/restart.log" | cut -c1-60)"

for i in 2 3; do alive "$i" || fail "end: node $i died"; done
if [ ${#FAILS[@]} -eq 0 ]; then
	echo "chaos: PASS partition+kill+degrade+restart (fleet $FLEET clients, restart $RESTART_CLIENTS clients) load=$(cut -d' ' -f1 /proc/loadavg)"
else
	echo "chaos: FAIL (${FAILS[*]}) load=$(cut -d' ' -f1 /proc/loadavg)"
	for i in 1 2 3; do echo "--- node $i log tail"; tail -5 "$LOGS/n$i.log"; done
	exit 1
fi

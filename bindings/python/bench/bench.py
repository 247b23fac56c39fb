"""Throughput benchmark of the Python binding (not a test; see bench/RESULTS.md).

In one run, three targets with the same load (bench/loadgen: N clients,
each sending M 100-byte JSON messages, then holding):

* python: WSEServer in this process; drain_inbound(256, 50) in Python,
  reading each message dict's "t"; broadcast() calls from one thread.
* go:     the same engine driven from Go (bench/goapi): DrainInbound(256,
  50 ms), Broadcast.
* http:   wse-server, its events read by this process from GET /api/events
  (long poll, max=256, timeout_ms=50) and published with POST /api/publish.

Events are measured from a full queue: the clients send everything, the
benchmark waits until every event is queued, then times draining them,
so the figure is the consumer's rate alone; with --live the consumer
drains while the clients send, from the moment they are all connected, so
the figure is end to end (clients, engine and consumer share the machine)
and CPU per event includes the engine reading and parsing each message.
Broadcasts go to a topic every client is subscribed to. Usage (from bindings/python, after make python):

    ../../.venv/bin/python -P bench/bench.py [--clients 1000] [--msgs 200] [--broadcasts 10000] [--rounds 1] [--live]
"""

from __future__ import annotations

import argparse
import ctypes
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

from wse_server import WSEServer
from wse_server import _server as srvmod

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
SECRET = "benchmark-secret-of-at-least-32-bytes!!"
MSG100 = '{"t":"bench","p":{"b":"' + "x" * (100 - 26) + '"}}'
DEADLINE = 180.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait(cond: Callable[[], bool], what: str) -> None:
    end = time.monotonic() + DEADLINE
    while not cond():
        if time.monotonic() > end:
            raise SystemExit(f"bench: timed out waiting for {what}")
        time.sleep(0.05)


def proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by process pid."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def build(out: str) -> dict[str, str]:
    go = os.environ.get("GO", "go")
    bins = {name: os.path.join(out, name) for name in ("loadgen", "goapi", "wse-server")}
    subprocess.run([go, "build", "-o", bins["loadgen"], "./bench/loadgen"], cwd=os.path.dirname(HERE), check=True)
    subprocess.run([go, "build", "-o", bins["goapi"], "./bench/goapi"], cwd=os.path.dirname(HERE), check=True)
    subprocess.run([go, "build", "-o", bins["wse-server"], "./cmd/wse-server"], cwd=ROOT, check=True)
    return bins


class Load:
    """A loadgen process: connects, sends, holds until closed."""

    def __init__(self, binary: str, addr: str, clients: int, msgs: int, live: bool = False) -> None:
        """Start the clients; return once all are connected and, unless
        ``live``, once all messages are sent."""
        self.proc = subprocess.Popen(
            [binary, "-addr", addr, "-n", str(clients), "-msgs", str(msgs), "-secret", SECRET],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self._expect("ready")
        self.sending = bool(msgs)
        if self.sending and not live:
            self.wait_sent()

    def _expect(self, want: str) -> None:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith(want):
            raise SystemExit(f"bench: loadgen said {line!r}, want {want}")

    def wait_sent(self) -> None:
        if self.sending:
            self._expect("sent")
            self.sending = False

    def close(self) -> None:
        self.wait_sent()
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


#: --live: drain while the clients send, instead of from a full queue.
LIVE = False


def python_target(bins: dict[str, str], clients: int, msgs: int, broadcasts: int, queue: int) -> dict[str, Any]:
    server = WSEServer("127.0.0.1", 0, jwt_secret=SECRET.encode(), max_connections=5000,
                       max_inbound_queue_size=queue)
    server.enable_drain_mode()
    server.start()
    total = clients * (msgs + 1)  # auth_connect + messages
    load = Load(bins["loadgen"], f"127.0.0.1:{server.port}", clients, msgs, live=LIVE)
    if not LIVE:
        wait(lambda: server.inbound_queue_depth() >= total, "python queue")
    got = seen = 0
    t0, c0 = time.perf_counter(), time.process_time()
    while got < total:
        for kind, _conn, data in server.drain_inbound(256, 50):
            got += 1
            if kind == "msg" and data["t"]:
                seen += 1
    drain_s, drain_cpu = time.perf_counter() - t0, time.process_time() - c0
    assert seen == clients * msgs, seen
    # A topic nobody reads first: the call's own cost, before the writers
    # get busy delivering the fan-out below.
    t0 = time.perf_counter()
    for _ in range(broadcasts):
        server.broadcast("nobody", MSG100)
    empty_s = time.perf_counter() - t0
    for cid in server.get_connections():
        server.subscribe_connection(cid, ["bench"])
    t0 = time.perf_counter()
    for _ in range(broadcasts):
        server.broadcast("bench", MSG100)
    bcast_s = time.perf_counter() - t0
    dropped = server.inbound_dropped_count()
    load.close()
    profile = drain_profile(bins, clients, msgs, queue)
    server.stop()
    return {"events": got, "events_per_s": got / drain_s, "cpu_us_per_event": drain_cpu / got * 1e6,
            "broadcasts_per_s": broadcasts / bcast_s,
            "empty_broadcasts_per_s": broadcasts / empty_s, "dropped": dropped, "profile": profile}


def drain_profile(bins: dict[str, str], clients: int, msgs: int, queue: int) -> dict[str, float]:
    """Where drain_inbound's time goes: the steps of WSEServer._drain timed
    one by one over a second full queue, in CPU time of the calling thread
    (a foreign call runs on it, so this includes the Go side), µs per event."""
    server = WSEServer("127.0.0.1", 0, jwt_secret=SECRET.encode(), max_connections=5000,
                       max_inbound_queue_size=queue)
    server.start()
    total = clients * (msgs + 1)
    load = Load(bins["loadgen"], f"127.0.0.1:{server.port}", clients, msgs)
    wait(lambda: server.inbound_queue_depth() >= total, "profile queue")
    lib = srvmod.lib
    handle: int = server._h  # type: ignore[attr-defined]  # the library handle, for timing its steps
    steps = {"go_drain_and_encode": 0.0, "copy_out": 0.0, "json_loads": 0.0, "tuples": 0.0, "app_loop": 0.0}
    got = 0
    pc = time.thread_time
    while got < total:
        ptr, n = ctypes.c_void_p(), ctypes.c_size_t()
        a = pc()
        rc = lib.wse_drain(handle, 256, 50, ctypes.byref(ptr), ctypes.byref(n))
        b = pc()
        if rc <= 0:
            continue
        buf = ctypes.string_at(ptr.value or 0, n.value)
        lib.wse_free(ptr.value)
        c = pc()
        size = int.from_bytes(buf[0:4], "little")
        flat = json.loads(buf[12:12 + size])
        d = pc()
        it = iter(flat)
        evs = list(zip(it, it, it))
        e = pc()
        for kind, _conn, data in evs:
            got += 1
            if kind == "msg" and data["t"]:
                pass
        f = pc()
        for k, v in zip(steps, (b - a, c - b, d - c, e - d, f - e)):
            steps[k] += v
    load.close()
    server.stop()
    return {k: v / total * 1e6 for k, v in steps.items()}


class GoAPI:
    def __init__(self, binary: str, queue: int) -> None:
        self.proc = subprocess.Popen([binary, SECRET, str(queue)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True)
        assert self.proc.stdout is not None
        self.addr = self.proc.stdout.readline().strip()

    def cmd(self, line: str) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        out: dict[str, Any] = json.loads(self.proc.stdout.readline())
        return out

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def go_target(bins: dict[str, str], clients: int, msgs: int, broadcasts: int, queue: int) -> dict[str, Any]:
    g = GoAPI(bins["goapi"], queue)
    total = clients * (msgs + 1)
    load = Load(bins["loadgen"], g.addr, clients, msgs, live=LIVE)
    if not LIVE:
        wait(lambda: g.cmd("depth")["depth"] >= total, "go queue")
    d = g.cmd(f"drain {total}")
    assert d["messages"] == clients * msgs, d
    e = g.cmd(f"broadcast {broadcasts} nobody")
    g.cmd("subscribe bench")
    b = g.cmd(f"broadcast {broadcasts} bench")
    load.close()
    g.close()
    return {"events": d["events"], "events_per_s": d["events"] / d["seconds"],
            "cpu_us_per_event": d["cpu_seconds"] / d["events"] * 1e6,
            "broadcasts_per_s": b["calls"] / b["seconds"], "empty_broadcasts_per_s": e["calls"] / e["seconds"]}


def http_target(bins: dict[str, str], clients: int, msgs: int, broadcasts: int, queue: int) -> dict[str, Any]:
    ws_port, api_port = free_port(), free_port()
    proc = subprocess.Popen([bins["wse-server"], "--port", str(ws_port), "--api-addr", f"127.0.0.1:{api_port}",
                             "--jwt-secret", SECRET, "--max-connections", "5000",
                             "--max-inbound-queue-size", str(queue), "--events-buffer-size", str(queue),
                             "--events-buffer-before-poll", "--events-buffer-bytes", "1GiB"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    api = http.client.HTTPConnection("127.0.0.1", api_port, timeout=60)

    def req(method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body)
        api.request(method, path, body=data)
        resp = api.getresponse()
        raw = resp.read()
        if resp.status != 200:
            raise SystemExit(f"bench: {method} {path}: {resp.status} {raw[:200]!r}")
        return json.loads(raw)

    def up() -> bool:
        try:
            req("GET", "/health")
            return True
        except OSError:
            api.close()
            return False

    wait(up, "wse-server")
    total = clients * (msgs + 1)
    load = Load(bins["loadgen"], f"127.0.0.1:{ws_port}", clients, msgs, live=LIVE)

    def buffered() -> bool:
        api.request("GET", "/metrics")
        text = api.getresponse().read().decode()
        for line in text.splitlines():
            if line.startswith("wse_api_events_buffered "):
                return float(line.split()[1]) >= total
        return False

    if not LIVE:
        wait(buffered, "http event buffer")
    got = seen = 0
    t0, c0, s0 = time.perf_counter(), time.process_time(), proc_cpu(proc.pid)
    while got < total:
        for ev in req("GET", "/api/events?max=256&timeout_ms=50")["events"]:
            got += 1
            if ev["type"] == "msg" and ev["data"]["t"]:
                seen += 1
    drain_s = time.perf_counter() - t0
    drain_cpu = time.process_time() - c0 + proc_cpu(proc.pid) - s0
    assert seen == clients * msgs, seen
    n = max(1, broadcasts // 10)  # an HTTP call is ~10x slower: fewer calls, same rate
    t0 = time.perf_counter()
    for _ in range(n):
        req("POST", "/api/publish", {"topic": "nobody", "data": MSG100})
    empty_s = time.perf_counter() - t0
    for cid in req("GET", "/api/connections")["connections"]:
        req("POST", "/api/subscribe", {"conn_id": cid, "topics": ["bench"]})
    t0 = time.perf_counter()
    for _ in range(n):
        req("POST", "/api/publish", {"topic": "bench", "data": MSG100})
    bcast_s = time.perf_counter() - t0
    load.close()
    proc.terminate()
    proc.wait(timeout=60)
    return {"events": got, "events_per_s": got / drain_s, "cpu_us_per_event": drain_cpu / got * 1e6,
            "broadcasts_per_s": n / bcast_s,
            "empty_broadcasts_per_s": n / empty_s}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=1000)
    ap.add_argument("--msgs", type=int, default=200)
    ap.add_argument("--broadcasts", type=int, default=10000)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--live", action="store_true", help="drain while the clients send (not from a full queue)")
    args = ap.parse_args()
    global LIVE
    LIVE = args.live
    queue = args.clients * (args.msgs + 1) + 1024
    with tempfile.TemporaryDirectory() as tmp:
        bins = build(tmp)
        runs: dict[str, list[dict[str, Any]]] = {"python": [], "go": [], "http": []}
        targets = {"python": python_target, "go": go_target, "http": http_target}
        for r in range(args.rounds):
            for name, fn in targets.items():
                load1 = os.getloadavg()[0]
                res = fn(bins, args.clients, args.msgs, args.broadcasts, queue)
                res["load1"] = load1
                runs[name].append(res)
                print(f"round {r + 1} {name}: {json.dumps(res)}", flush=True)
    med: dict[str, dict[str, float]] = {}
    for name, rs in runs.items():
        ev = sorted(x["events_per_s"] for x in rs)
        bc = sorted(x["broadcasts_per_s"] for x in rs)
        em = sorted(x["empty_broadcasts_per_s"] for x in rs)
        cpu = sorted(x["cpu_us_per_event"] for x in rs)
        med[name] = {"events_per_s": ev[len(ev) // 2], "broadcasts_per_s": bc[len(bc) // 2],
                     "cpu_us_per_event": cpu[len(cpu) // 2],
                     "empty_broadcasts_per_s": em[len(em) // 2]}
    py, go, ht = med["python"], med["go"], med["http"]
    print()
    print("| figure | python (binding) | Go API | HTTP API | python/Go | python/HTTP |")
    print("|---|---|---|---|---|---|")
    print(f"| events/s drained | {py['events_per_s']:,.0f} | {go['events_per_s']:,.0f} | {ht['events_per_s']:,.0f} "
          f"| {py['events_per_s'] / go['events_per_s']:.2f} | {py['events_per_s'] / ht['events_per_s']:.1f} |")
    print(f"| CPU µs per event drained (all threads; HTTP: client + server) | {py['cpu_us_per_event']:.2f} "
          f"| {go['cpu_us_per_event']:.2f} | {ht['cpu_us_per_event']:.2f} "
          f"| {go['cpu_us_per_event'] / py['cpu_us_per_event']:.2f} | {ht['cpu_us_per_event'] / py['cpu_us_per_event']:.1f} |")
    print(f"| broadcast calls/s, {args.clients:,} subscribers | {py['broadcasts_per_s']:,.0f} | {go['broadcasts_per_s']:,.0f} "
          f"| {ht['broadcasts_per_s']:,.0f} | {py['broadcasts_per_s'] / go['broadcasts_per_s']:.2f} "
          f"| {py['broadcasts_per_s'] / ht['broadcasts_per_s']:.1f} |")
    print(f"| broadcast calls/s, no subscribers | {py['empty_broadcasts_per_s']:,.0f} "
          f"| {go['empty_broadcasts_per_s']:,.0f} | {ht['empty_broadcasts_per_s']:,.0f} "
          f"| {py['empty_broadcasts_per_s'] / go['empty_broadcasts_per_s']:.2f} "
          f"| {py['empty_broadcasts_per_s'] / ht['empty_broadcasts_per_s']:.1f} |")
    prof = runs["python"][-1]["profile"]
    print()
    print("drain_inbound µs per event: " + ", ".join(f"{k} {v:.2f}" for k, v in prof.items()))
    sys.stdout.flush()


if __name__ == "__main__":
    main()

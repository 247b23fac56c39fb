"""Receive benchmark of wse_client (not a test): messages/s one client
process receives from one topic with recovery on, and CPU per message.

    python bench_recv.py --testapp PATH [-n 200000] [--size 100] [--runs 3]

Each run starts ``testapp feed`` (an in-process WSE engine publishing -n
stamped messages as fast as it can, its outbound queue large enough that
the client is the bottleneck) and measures, from the first message to the
last, in the same process one after another:

- ``floor``: websockets 10.4 reading the frames and ``json.loads`` on each,
  nothing else (the cost of transport + JSON);
- ``async for``: ``AsyncWSEClient`` with recovery, ``async for event in client``;
- ``handler``: ``AsyncWSEClient(queue_size=0)`` with an ``on("tick")`` handler;
- with ``--aiohttp``, also ``aiohttp floor``: aiohttp 3.8's WebSocket client
  doing what ``floor`` does (the measurement behind the choice of transport).

Prints one line per target and run, then the medians and the ratio to the
floor.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import time
from typing import Any, Awaitable, Callable

import websockets

from wse_client import AsyncWSEClient, Message, MissedData


def start_feed(testapp: str, n: int, size: int) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [testapp, "feed", "-n", str(n), "-size", str(size)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


class Meter:
    """Wall and CPU time from the first message to the last."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.count = 0
        self.t0 = 0.0
        self.c0 = 0.0
        self.wall = 0.0
        self.cpu = 0.0

    def hit(self) -> bool:
        if self.count == 0:
            self.t0, self.c0 = time.perf_counter(), time.process_time()
        self.count += 1
        if self.count == self.n:
            self.wall = time.perf_counter() - self.t0
            self.cpu = time.process_time() - self.c0
            return True
        return False


async def floor(url: str, m: Meter) -> None:
    async with websockets.connect(url, compression=None, ping_interval=None, max_size=1 << 20) as ws:  # type: ignore[attr-defined]
        await ws.send('{"t":"subscription_update","p":{"action":"subscribe","topics":["bench"],"recover":true}}')
        async for data in ws:
            if json.loads(data).get("tp") == "bench" and m.hit():
                return


async def aiohttp_floor(url: str, m: Meter) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(url, max_msg_size=1 << 20, compress=0) as ws:
            await ws.send_str('{"t":"subscription_update","p":{"action":"subscribe","topics":["bench"],"recover":true}}')
            async for msg in ws:
                if json.loads(msg.data).get("tp") == "bench" and m.hit():
                    return


async def async_for(url: str, m: Meter) -> None:
    async with AsyncWSEClient(url, topics=["bench"], recovery=True) as client:
        async for ev in client:
            if isinstance(ev, Message):
                if m.hit():
                    return
            elif isinstance(ev, MissedData):
                raise AssertionError(f"missed data: {ev}")


async def handler(url: str, m: Meter) -> None:
    done = asyncio.Event()

    def on_tick(ev: Message) -> None:
        if m.hit():
            done.set()

    client = AsyncWSEClient(url, topics=["bench"], recovery=True, queue_size=0)
    client.on("tick", on_tick)
    async with client:
        await done.wait()


TARGETS: dict[str, Callable[[str, Meter], Awaitable[None]]] = {"floor": floor, "async for": async_for, "handler": handler}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--testapp", required=True)
    ap.add_argument("-n", type=int, default=200_000)
    ap.add_argument("--size", type=int, default=100)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--aiohttp", action="store_true", help="also measure the aiohttp floor")
    ap.add_argument("--only", default="", help="comma-separated targets to run (default: all)")
    a = ap.parse_args()
    targets = dict(TARGETS)
    if a.aiohttp:
        targets["aiohttp floor"] = aiohttp_floor
    if a.only:
        targets = {k: v for k, v in targets.items() if k in a.only.split(",")}
    print(f"load average {os.getloadavg()[0]:.2f}, n={a.n}, size={a.size}")
    results: dict[str, list[tuple[float, float]]] = {k: [] for k in targets}
    for run in range(a.runs):
        for name, fn in targets.items():
            proc, url = start_feed(a.testapp, a.n, a.size)
            m = Meter(a.n)
            try:
                asyncio.run(asyncio.wait_for(fn(url, m), 300))
            finally:
                assert proc.stdin is not None
                proc.stdin.close()
                proc.wait(30)
                if proc.stdout is not None:
                    proc.stdout.close()
            rate, cpu_us = a.n / m.wall, m.cpu / a.n * 1e6
            results[name].append((rate, cpu_us))
            print(f"run {run + 1} {name:13s} {rate:10,.0f} msg/s  {cpu_us:6.2f} us CPU/msg  load {os.getloadavg()[0]:.2f}")
    base: Any = None
    print("median:")
    for name, rs in results.items():
        rate = statistics.median(r for r, _ in rs)
        cpu = statistics.median(c for _, c in rs)
        if base is None:
            base = (rate, cpu)
        print(f"  {name:13s} {rate:10,.0f} msg/s  {cpu:6.2f} us CPU/msg  rate x{rate / base[0]:.2f}  CPU x{cpu / base[1]:.2f} of floor")


if __name__ == "__main__":
    main()

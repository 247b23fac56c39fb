import { describe, expect, it } from 'vitest';
import { IdWindow, MAX_HELD_MESSAGES, Subscription, type Publication, type TrackerContext } from './subscription.js';
import type { StreamPosition } from './types.js';

/** A recording sink: what the tracker delivered, dropped, missed and asked for. */
function harness(recoverable = true) {
  const out = { delivered: [] as number[], dups: 0, gaps: 0, missed: [] as [StreamPosition, StreamPosition][], asked: [] as StreamPosition[] };
  const ctx: TrackerContext = {
    recoverable, now: 1000, timeout: 10_000,
    sink: {
      deliver: (_s, p) => out.delivered.push(p.o),
      duplicate: () => { out.dups++; },
      gap: () => { out.gaps++; },
      missed: (_s, from, to) => out.missed.push([from, to]),
      recover: (_s, from) => out.asked.push(from),
    },
  };
  const sub = new Subscription('feed');
  const pub = (offset: number, epoch = 'e1'): Publication => ({ tp: 'feed', e: epoch, o: offset, t: 'x' });
  return { out, ctx, sub, pub };
}

describe('Subscription recovery', () => {
  it('delivers consecutive offsets and drops duplicates', () => {
    const { out, ctx, sub, pub } = harness();
    for (const o of [1, 2, 2, 3, 1, 3, 4]) sub.accept(pub(o), 40, ctx);
    expect(out.delivered).toEqual([1, 2, 3, 4]);
    expect(out.dups).toBe(3);
    expect(sub.position).toEqual({ epoch: 'e1', offset: 4 });
  });

  it('holds a gap, asks from the last position and releases after the replay', () => {
    const { out, ctx, sub, pub } = harness();
    sub.accept(pub(1), 40, ctx);
    sub.accept(pub(4), 40, ctx);
    sub.accept(pub(5), 40, ctx);
    expect(out.delivered).toEqual([1]);
    expect(out.gaps).toBe(1);
    expect(out.asked).toEqual([{ epoch: 'e1', offset: 1 }]);
    // The replay arrives before the reply; then the reply.
    sub.accept(pub(2), 40, ctx);
    sub.accept(pub(3), 40, ctx);
    sub.settle({ epoch: 'e1', offset: 3, recovered: true, count: 2 }, ctx);
    expect(out.delivered).toEqual([1, 2, 3, 4, 5]);
    expect(out.missed).toEqual([]);
  });

  it('reports missed data when the server cannot replay, and continues', () => {
    const { out, ctx, sub, pub } = harness();
    sub.accept(pub(1), 40, ctx);
    sub.accept(pub(9), 40, ctx);
    sub.settle({ epoch: 'e1', offset: 8, recovered: false }, ctx);
    expect(out.missed).toEqual([[{ epoch: 'e1', offset: 1 }, { epoch: 'e1', offset: 8 }]]);
    expect(out.delivered).toEqual([1, 9]);
  });

  it('takes a new epoch after a server restart as missed data', () => {
    const { out, ctx, sub, pub } = harness();
    sub.accept(pub(1), 40, ctx);
    sub.accept(pub(2), 40, ctx);
    sub.reset(); // reconnect
    expect(sub.prepare(ctx)).toEqual({ epoch: 'e1', offset: 2 });
    sub.accept(pub(1, 'e2'), 40, ctx); // held: pending
    sub.settle({ epoch: 'e2', offset: 0, recovered: false }, ctx);
    expect(out.missed).toEqual([[{ epoch: 'e1', offset: 2 }, { epoch: 'e2', offset: 0 }]]);
    expect(out.delivered).toEqual([1, 2, 1]);
    expect(sub.position).toEqual({ epoch: 'e2', offset: 1 });
  });

  it('asks again when the replay stopped short of the reply', () => {
    const { out, ctx, sub, pub } = harness();
    sub.accept(pub(1), 40, ctx);
    sub.accept(pub(5), 40, ctx);
    sub.accept(pub(2), 40, ctx);
    sub.settle({ epoch: 'e1', offset: 4, recovered: true, count: 3 }, ctx);
    expect(out.delivered).toEqual([1, 2]);
    expect(out.asked).toEqual([{ epoch: 'e1', offset: 1 }, { epoch: 'e1', offset: 2 }]);
  });

  it('takes the first recovery reply as the baseline of a fresh subscription', () => {
    const { out, ctx, sub, pub } = harness();
    expect(sub.prepare(ctx)).toBeUndefined();
    sub.settle({ epoch: 'e1', offset: 41, recovered: false }, ctx);
    sub.accept(pub(42), 40, ctx);
    expect(out.delivered).toEqual([42]);
    expect(out.missed).toEqual([]);
  });

  it('without recovery reports a gap as missed data at once', () => {
    const { out, ctx, sub, pub } = harness(false);
    sub.accept(pub(1), 40, ctx);
    sub.accept(pub(3), 40, ctx);
    expect(out.delivered).toEqual([1, 3]);
    expect(out.asked).toEqual([]);
    expect(out.missed).toEqual([[{ epoch: 'e1', offset: 1 }, { epoch: 'e1', offset: 2 }]]);
  });

  it('releases held messages when the server gives no position', () => {
    const { out, ctx, sub, pub } = harness();
    sub.accept(pub(1), 40, ctx);
    sub.reset();
    sub.prepare(ctx);
    sub.accept(pub(3), 40, ctx);
    sub.noPosition(ctx);
    expect(out.delivered).toEqual([1, 3]);
    expect(out.missed.length).toBe(1);
  });

  it('asks again on a later gap once a request timed out', () => {
    const { out, ctx, sub, pub } = harness();
    sub.accept(pub(1), 40, ctx);
    sub.accept(pub(3), 40, ctx);
    ctx.now += 20_000;
    sub.accept(pub(4), 40, ctx);
    expect(out.asked.length).toBe(2);
  });

  it('bounds what it holds', () => {
    const { ctx, sub, pub } = harness();
    sub.accept(pub(1), 40, ctx);
    for (let o = 3; o < MAX_HELD_MESSAGES + 100; o++) sub.accept(pub(o), 40, ctx);
    const { out } = harness();
    ctx.sink = { ...ctx.sink, deliver: (_s, p) => out.delivered.push(p.o) };
    sub.accept(pub(2), 40, ctx);
    sub.settle({ epoch: 'e1', offset: 2, recovered: true }, ctx);
    expect(out.delivered.length).toBe(1 + MAX_HELD_MESSAGES);
  });
});

describe('IdWindow', () => {
  it('drops repeated ids within the window and forgets old ones', () => {
    const w = new IdWindow(3);
    expect(['a', 'b', 'a', 'c', 'd', 'a'].map((id) => w.add(id))).toEqual([true, true, false, true, true, true]);
  });
});

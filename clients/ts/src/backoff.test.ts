import { describe, expect, it } from 'vitest';
import { backoffDelay, exhausted, resolveReconnection } from './backoff.js';
import { closeAction, CloseCode } from './codes.js';

describe('backoffDelay', () => {
  const policy = resolveReconnection({ baseDelay: 1000, maxDelay: 30000, factor: 2, jitter: false });

  it('grows exponentially up to maxDelay', () => {
    expect([0, 1, 2, 3, 4, 5, 10].map((n) => backoffDelay(n, policy))).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000]);
  });

  it('jitters within [delay/2, delay]', () => {
    const j = { ...policy, jitter: true };
    expect(backoffDelay(2, j, () => 0)).toBe(2000);
    expect(backoffDelay(2, j, () => 0.999999)).toBeCloseTo(4000, 0);
    for (let i = 0; i < 200; i++) {
      const d = backoffDelay(3, j);
      expect(d).toBeGreaterThanOrEqual(4000);
      expect(d).toBeLessThanOrEqual(8000);
    }
  });

  it('uses the defaults of the original client', () => {
    expect(resolveReconnection()).toEqual({ baseDelay: 1000, maxDelay: 30000, factor: 1.5, jitter: true, maxAttempts: -1 });
  });

  it('gives up only with a positive maxAttempts', () => {
    expect(exhausted(1000, resolveReconnection())).toBe(false);
    expect(exhausted(0, resolveReconnection({ maxAttempts: 0 }))).toBe(false);
    expect(exhausted(2, resolveReconnection({ maxAttempts: 3 }))).toBe(false);
    expect(exhausted(3, resolveReconnection({ maxAttempts: 3 }))).toBe(true);
  });
});

describe('closeAction (PROTOCOL §8)', () => {
  const table: [number, string][] = [
    [CloseCode.Normal, 'stop'],
    [CloseCode.GoingAway, 'stop'],
    [CloseCode.Forbidden, 'stop'],
    [CloseCode.AuthFailed, 'refresh'],
    [CloseCode.Drain, 'reconnect'],
    [CloseCode.IdleTimeout, 'reconnect'],
    [CloseCode.SlowConsumer, 'reconnect'],
    [CloseCode.Abnormal, 'reconnect'],
    [CloseCode.MessageTooBig, 'reconnect'],
    [1011, 'reconnect'],
    [4999, 'reconnect'],
  ];
  for (const [code, action] of table) {
    it(`${code} → ${action}`, () => expect(closeAction(code)).toBe(action));
  }
});

/**
 * Reconnect delays: jittered exponential backoff.
 *
 * @module
 */

/** Reconnect policy. Every field is optional; the defaults are the constants below. */
export interface ReconnectionConfig {
  /** Delay before the first retry, in ms. Default 1000. */
  baseDelay?: number;
  /** Largest delay, in ms. Default 30000. */
  maxDelay?: number;
  /** Growth per attempt. Default 1.5. */
  factor?: number;
  /** Randomize each delay within [delay/2, delay] so clients do not reconnect in step. Default true. */
  jitter?: boolean;
  /** Attempts before giving up; -1 (default) or 0 = never give up. */
  maxAttempts?: number;
}

/** Default delay before the first retry (ms). */
export const DEFAULT_BASE_DELAY = 1000;
/** Default largest delay (ms). */
export const DEFAULT_MAX_DELAY = 30000;
/** Default growth factor per attempt. */
export const DEFAULT_FACTOR = 1.5;

/** The reconnect policy with every default applied. */
export type ResolvedReconnection = Required<ReconnectionConfig>;

/** resolveReconnection applies the defaults to a partial policy. */
export function resolveReconnection(c: ReconnectionConfig = {}): ResolvedReconnection {
  return {
    baseDelay: c.baseDelay ?? DEFAULT_BASE_DELAY,
    maxDelay: c.maxDelay ?? DEFAULT_MAX_DELAY,
    factor: c.factor ?? DEFAULT_FACTOR,
    jitter: c.jitter ?? true,
    maxAttempts: c.maxAttempts ?? -1,
  };
}

/**
 * backoffDelay returns the delay in ms before retry number `attempt`
 * (0 = first retry): min(maxDelay, baseDelay × factor^attempt), and with
 * jitter a uniform value in [delay/2, delay]. `random` returns [0, 1).
 */
export function backoffDelay(attempt: number, c: ResolvedReconnection, random: () => number = Math.random): number {
  const exp = Math.min(c.maxDelay, c.baseDelay * Math.pow(c.factor, Math.max(0, attempt)));
  if (!c.jitter) return exp;
  return exp / 2 + random() * (exp / 2);
}

/** exhausted reports whether `attempts` failed attempts use up the policy's maxAttempts. */
export function exhausted(attempts: number, c: ResolvedReconnection): boolean {
  return c.maxAttempts > 0 && attempts >= c.maxAttempts;
}

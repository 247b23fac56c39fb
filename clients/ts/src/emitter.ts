/**
 * A minimal typed event emitter: listeners are called synchronously in the
 * order they were added; a throwing listener does not stop the others.
 *
 * @module
 */

/** Emitter dispatches the events named by the keys of `Events` to their listeners. */
export class Emitter<Events extends { [K in keyof Events]: (...args: any[]) => void }> {
  private readonly listeners = new Map<keyof Events, Set<Events[keyof Events]>>();

  /** on adds a listener and returns the function that removes it. */
  on<K extends keyof Events>(event: K, fn: Events[K]): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(fn);
    return () => this.off(event, fn);
  }

  /** off removes a listener. */
  off<K extends keyof Events>(event: K, fn: Events[K]): void {
    this.listeners.get(event)?.delete(fn);
  }

  /** emit calls the event's listeners with args; errors are reported with reportError (or console.error) and do not propagate. */
  protected emit<K extends keyof Events>(event: K, ...args: Parameters<Events[K]>): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const fn of set) {
      try {
        (fn as (...a: Parameters<Events[K]>) => void)(...args);
      } catch (err) {
        reportListenerError(err);
      }
    }
  }
}

/** reportListenerError hands an application callback's exception to the platform without breaking the client. */
export function reportListenerError(err: unknown): void {
  const g = globalThis as { reportError?: (e: unknown) => void };
  if (typeof g.reportError === 'function') g.reportError(err);
  else console.error('wse: listener failed', err);
}

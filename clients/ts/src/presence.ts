/**
 * Presence per topic, built from the server's `presence_join`,
 * `presence_leave` and `presence_update` messages (PROTOCOL.md §7).
 * The server announces changes, not the current list: members present
 * before this client joined are known only once they change, unless the
 * application seeds them with {@link TopicPresence.reset} (for example from
 * its backend, which can read `GET /api/presence/{topic}`).
 *
 * @module
 */

/** One user present in a topic. */
export interface PresenceMember {
  /** The user (JWT `sub`, or the connection id on a server without JWT). */
  userId: string;
  /** The user's presence data. */
  data: Record<string, unknown>;
}

/** What changed in a topic's presence. */
export interface PresenceChange {
  /** `join`, `leave` or `update`. */
  action: 'join' | 'leave' | 'update';
  /** The topic. */
  topic: string;
  /** The member (on leave: its last data). */
  member: PresenceMember;
}

/** TopicPresence is the member list of one topic. Its snapshot is immutable and replaced on every change. */
export class TopicPresence {
  private members = new Map<string, PresenceMember>();
  private snap: readonly PresenceMember[] = [];
  private readonly listeners = new Set<() => void>();

  /** Creates the empty member list of a topic. */
  constructor(readonly topic: string) {}

  /** snapshot returns the members, stable between changes (for useSyncExternalStore). */
  snapshot(): readonly PresenceMember[] {
    return this.snap;
  }

  /** subscribe adds a change listener and returns the function that removes it. */
  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => {
      this.listeners.delete(fn);
    };
  }

  /** apply takes one presence message's action; it returns the change, or null when nothing changed. */
  apply(action: PresenceChange['action'], userId: string, data: Record<string, unknown>): PresenceChange | null {
    if (action === 'leave') {
      const m = this.members.get(userId);
      if (!m) return null;
      this.members.delete(userId);
      this.changed();
      return { action, topic: this.topic, member: m };
    }
    const m: PresenceMember = { userId, data };
    this.members.set(userId, m);
    this.changed();
    return { action, topic: this.topic, member: m };
  }

  /** reset replaces the member list (for a list the application loaded itself). */
  reset(members: Iterable<PresenceMember>): void {
    this.members = new Map([...members].map((m) => [m.userId, m]));
    this.changed();
  }

  private changed(): void {
    this.snap = Object.freeze([...this.members.values()]);
    for (const fn of this.listeners) fn();
  }
}

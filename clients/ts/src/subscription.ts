/**
 * One object per topic: its subscription state and its recovery position.
 * Stamped publications (`tp`, `e`, `o`) run through {@link Subscription.accept}:
 * duplicates are dropped, the next offset is delivered, and a gap holds the
 * message and asks the server to replay from the last position; the reply
 * ({@link Subscription.settle}) releases what was held. When the server
 * cannot replay, the app is told what range it missed.
 *
 * @module
 */
import type { RecoveryResult, StreamPosition, WSEMessage } from './types.js';

/** Most messages held per topic while a recovery request is pending; later ones are dropped (the replay brings them again). */
export const MAX_HELD_MESSAGES = 4096;
/** Most bytes of frames held per topic while a recovery request is pending. */
export const MAX_HELD_BYTES = 8 << 20;

/** The state of one topic's subscription. */
export type SubscriptionState = 'unsubscribed' | 'subscribing' | 'subscribed' | 'refused';

/** A stamped publication: a message whose `tp`, `e` and `o` are set (see {@link isPublication}). */
export type Publication = WSEMessage & { tp: string; e: string; o: number };

/** Where a tracker step sends its results; the client implements it. */
export interface TrackerSink {
  /** Deliver a publication to the application, in order. */
  deliver(sub: Subscription, pub: Publication): void;
  /** A publication already processed was dropped. */
  duplicate(sub: Subscription): void;
  /** Offsets from `from` (exclusive) to `to` (inclusive) will never arrive. */
  missed(sub: Subscription, from: StreamPosition, to: StreamPosition): void;
  /** Ask the server to replay the topic from `from`. */
  recover(sub: Subscription, from: StreamPosition): void;
  /** A gap was seen (counted). */
  gap(sub: Subscription): void;
}

/** The connection-wide facts a tracker step needs. */
export interface TrackerContext {
  /** The server recovers and the client asks it to. */
  recoverable: boolean;
  /** Now, in ms. */
  now: number;
  /** How long a recovery request may go unanswered, in ms. */
  timeout: number;
  /** The results. */
  sink: TrackerSink;
}

/** Subscription is one topic: what the app asked for, what the server granted and where its stream is. */
export class Subscription {
  /** The topic. */
  readonly topic: string;
  /** The state of the subscription on the server, as far as the client knows. */
  state: SubscriptionState = 'unsubscribed';
  /** The application wants this topic (resubscribed after every reconnect). */
  wanted = false;
  /** Presence data the topic is joined with, when any. */
  presence: Record<string, unknown> | undefined;
  /** Whether this subscription asks for recovery. */
  recover = true;
  /** Why the server refused the topic, when it did. */
  refusedCode = '';
  /** Last position delivered, or the baseline the server gave. */
  position: StreamPosition = { epoch: '', offset: 0 };
  /** Whether `position` is meaningful. */
  known = false;
  private pending = false;
  private deadline = 0;
  private noRecover = false;
  private held: { pub: Publication; size: number }[] = [];
  private heldBytes = 0;

  /** Creates the subscription of a topic, unsubscribed. */
  constructor(topic: string) {
    this.topic = topic;
  }

  /** reset starts a new connection: nothing is pending or held any more. */
  reset(): void {
    this.pending = false;
    this.noRecover = false;
    this.held = [];
    this.heldBytes = 0;
    if (this.state !== 'refused') this.state = 'unsubscribed';
  }

  /** prepare marks a subscription request sent now and returns the position to recover from, if known. */
  prepare(ctx: TrackerContext): StreamPosition | undefined {
    this.state = 'subscribing';
    if (!ctx.recoverable || !this.recover) return undefined;
    this.pending = true;
    this.deadline = ctx.now + ctx.timeout;
    return this.known && this.position.epoch !== '' ? { ...this.position } : undefined;
  }

  /** forget drops the position (after an unsubscribe). */
  forget(): void {
    this.known = false;
    this.position = { epoch: '', offset: 0 };
    this.reset();
  }

  /** accept runs one stamped publication (its frame `size` bytes) through the tracker. */
  accept(pub: Publication, size: number, ctx: TrackerContext): void {
    const pos = this.position;
    if (!this.known) {
      this.set(pub);
      ctx.sink.deliver(this, pub);
    } else if (pub.e === pos.epoch && pub.o <= pos.offset) {
      ctx.sink.duplicate(this);
    } else if (this.follows(pub)) {
      this.set(pub);
      ctx.sink.deliver(this, pub);
    } else if (this.pending && ctx.now < this.deadline) {
      this.hold(pub, size);
    } else if (ctx.recoverable && this.recover && !this.noRecover) {
      ctx.sink.gap(this);
      this.hold(pub, size);
      this.ask(pub.e, ctx);
    } else {
      ctx.sink.gap(this);
      ctx.sink.missed(this, { ...pos }, { epoch: pub.e, offset: pub.o - 1 });
      this.set(pub);
      ctx.sink.deliver(this, pub);
    }
  }

  /**
   * settle applies the server's recovery result for this topic and releases
   * the held publications. When the server replayed up to a position the
   * held messages do not reach, it asks again.
   */
  settle(res: RecoveryResult, ctx: TrackerContext): void {
    const pos: StreamPosition = { epoch: String(res.epoch ?? ''), offset: Number(res.offset ?? 0) };
    const reached = () => this.known && this.position.epoch === pos.epoch && this.position.offset >= pos.offset;
    if (!this.known) {
      this.position = pos;
      this.known = true;
    } else if (reached()) {
      // Up to date: the replay, if any, was delivered before the reply.
    } else if (res.recovered && ctx.recoverable) {
      // The replay came before the reply; the held messages continue it.
    } else {
      ctx.sink.missed(this, { ...this.position }, { ...pos });
      this.position = pos;
    }
    this.release(ctx);
    if (res.recovered && ctx.recoverable && !this.pending && !reached()) this.ask(pos.epoch, ctx);
  }

  /** noPosition handles a grant without a recovery result: nothing will be replayed, so what is held goes through as is. */
  noPosition(ctx: TrackerContext): void {
    if (!this.pending) return;
    this.noRecover = true;
    this.release(ctx);
  }

  private follows(pub: Publication): boolean {
    if (this.position.epoch === '' && this.position.offset === 0) return pub.o === 1;
    return pub.e === this.position.epoch && pub.o === this.position.offset + 1;
  }

  private set(pub: Publication): void {
    this.position.epoch = pub.e;
    this.position.offset = pub.o;
    this.known = true;
  }

  private hold(pub: Publication, size: number): void {
    if (this.held.length >= MAX_HELD_MESSAGES || this.heldBytes + size > MAX_HELD_BYTES) return;
    this.held.push({ pub, size });
    this.heldBytes += size;
  }

  private ask(epoch: string, ctx: TrackerContext): void {
    const from = this.position.epoch === '' ? { epoch, offset: this.position.offset } : { ...this.position };
    this.pending = true;
    this.deadline = ctx.now + ctx.timeout;
    ctx.sink.recover(this, from);
  }

  private release(ctx: TrackerContext): void {
    this.pending = false;
    const held = this.held;
    this.held = [];
    this.heldBytes = 0;
    for (const h of held) this.accept(h.pub, h.size, ctx);
  }
}

/** IdWindow remembers the last `size` message ids, to drop repeated unstamped messages. */
export class IdWindow {
  private readonly seen = new Set<string>();
  private readonly ring: string[] = [];
  private next = 0;

  /** Creates a window of `size` ids. */
  constructor(private readonly size = 1024) {}

  /** add records id and reports whether it was new. */
  add(id: string): boolean {
    if (this.seen.has(id)) return false;
    if (this.ring.length < this.size) {
      this.ring.push(id);
    } else {
      this.seen.delete(this.ring[this.next]!);
      this.ring[this.next] = id;
      this.next = (this.next + 1) % this.size;
    }
    this.seen.add(id);
    return true;
  }
}

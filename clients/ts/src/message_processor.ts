/**
 * Handlers by message type: the application registers one or more
 * functions per `t` value (`messageProcessor.registerHandler('quote_update', fn)`),
 * as the original package's MessageProcessor does.
 *
 * @module
 */
import { reportListenerError } from './emitter.js';
import type { WSEMessage } from './types.js';

/** A handler receives the whole message (`t`, `p`, `id`, `ts`, stamp …). */
export type MessageHandler = (message: WSEMessage) => void;

/** The type under which a handler receives every message. */
export const ANY_MESSAGE = '*';

/** MessageProcessor keeps the handlers per message type and calls them. */
export class MessageProcessor {
  private readonly handlers = new Map<string, Set<MessageHandler>>();

  /** registerHandler adds a handler for messages of `type` (`'*'` = every message); it returns the function that removes it. */
  registerHandler(type: string, handler: MessageHandler): () => void {
    let set = this.handlers.get(type);
    if (!set) {
      set = new Set();
      this.handlers.set(type, set);
    }
    set.add(handler);
    return () => this.unregisterHandler(type, handler);
  }

  /** unregisterHandler removes one handler of `type`, or all of them when `handler` is omitted. */
  unregisterHandler(type: string, handler?: MessageHandler): void {
    if (!handler) this.handlers.delete(type);
    else this.handlers.get(type)?.delete(handler);
  }

  /** hasHandler reports whether `type` has a handler. */
  hasHandler(type: string): boolean {
    return (this.handlers.get(type)?.size ?? 0) > 0;
  }

  /** getRegisteredTypes lists the types with handlers. */
  getRegisteredTypes(): string[] {
    return [...this.handlers.keys()].filter((t) => this.hasHandler(t));
  }

  /** process calls the handlers of the message's type, then the `'*'` handlers; a throwing handler does not stop the others. */
  process(message: WSEMessage): void {
    this.call(this.handlers.get(message.t), message);
    this.call(this.handlers.get(ANY_MESSAGE), message);
  }

  private call(set: Set<MessageHandler> | undefined, message: WSEMessage): void {
    if (!set) return;
    for (const h of set) {
      try {
        h(message);
      } catch (err) {
        reportListenerError(err);
      }
    }
  }
}

// The integration guide's registerAllHandlers, typed as the guide types it.
export const received: { type: string; p: unknown }[] = [];

export function registerAllHandlers(messageProcessor: {
  registerHandler: (type: string, handler: (msg: any) => void) => void;
}): void {
  messageProcessor.registerHandler('broker_health_update', (msg) => received.push({ type: msg.t, p: msg.p }));
  messageProcessor.registerHandler('quote_update', (msg) => received.push({ type: msg.t, p: msg.p }));
}

// The integration guide's src/wse/config.ts, with the endpoint injected for the test.
export const APP_DEFAULT_TOPICS = ['broker_events', 'account_events', 'market_data'] as const;

let endpoint = '';

/** setEndpoint points the app at the test's server. */
export function setEndpoint(url: string): void {
  endpoint = url;
}

export function getAppEndpoints(): string[] {
  return [endpoint];
}

export const refreshCalls = { n: 0 };

export async function refreshAuthToken(): Promise<void> {
  refreshCalls.n++;
}

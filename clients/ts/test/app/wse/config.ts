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

// The guide's version POSTs /api/auth/refresh to renew the cookie; this test
// server never closes with 4401, so it is not called.
export async function refreshAuthToken(): Promise<void> {
  throw new Error('not expected in this test');
}

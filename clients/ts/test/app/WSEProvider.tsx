// The integration guide's provider, as an app writes it against the original package.
import type { ReactNode } from 'react';
import { useWSE, WSEContext } from './wse/index.js';
import type { UseWSEConfig } from './wse/index.js';
import { APP_DEFAULT_TOPICS, getAppEndpoints, refreshAuthToken } from './wse/config.js';
import { registerAllHandlers } from './wse/handlers/index.js';

export function WSEProvider({ children, isAuthenticated }: { children: ReactNode; isAuthenticated: boolean }) {
  const wseConfig: UseWSEConfig = {
    endpoints: getAppEndpoints(),
    refreshAuthToken,
    registerHandlers: registerAllHandlers,
    WebSocket: (globalThis as any).__testWebSocket,
  };

  const wse = useWSE(
    isAuthenticated ? 'cookie' : undefined, // 'cookie' = HttpOnly cookie auth
    [...APP_DEFAULT_TOPICS],
    wseConfig,
  );

  return <WSEContext.Provider value={wse}>{children}</WSEContext.Provider>;
}

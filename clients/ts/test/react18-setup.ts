// Setup of the react18 test project: every `react` and `react-dom` that
// CommonJS packages (react-dom, Testing Library) require resolves to the
// React 18 copies installed as `react-18` and `react-dom-18`, so the whole
// tree runs on one React 18. ESM imports are redirected by the project's
// resolve.alias.
import Module from 'node:module';

type Resolve = (request: string, ...rest: unknown[]) => string;
const mod = Module as unknown as { _resolveFilename: Resolve };
const original = mod._resolveFilename;
mod._resolveFilename = function (this: unknown, request: string, ...rest: unknown[]) {
  const to = /^react-dom(\/|$)/.test(request)
    ? request.replace(/^react-dom/, 'react-dom-18')
    : /^react(\/|$)/.test(request)
      ? request.replace(/^react/, 'react-18')
      : request;
  return original.call(this, to, ...rest);
};

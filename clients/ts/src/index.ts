/**
 * `wse-client`: the WSE client and its React hooks. The root entry exports
 * both, like the original package, so `export * from 'wse-client'` in an
 * app's barrel keeps its imports working. Apps without React import
 * `wse-client/core`.
 *
 * @module
 */
export * from './core.js';
export * from './react/index.js';

// The integration guide's barrel: the app's `@/wse` re-exports the package.
export * from 'wse-client';

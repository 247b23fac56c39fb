import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // The app under test imports the package by name, as users do; it gets the build.
    alias: { 'wse-client': new URL('./dist/index.js', import.meta.url).pathname },
  },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'test/**/*.test.tsx'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});

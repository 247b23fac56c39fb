import { defineConfig } from 'vitest/config';

// The app under test imports the package by name, as users do; it gets the build.
const pkg = { 'wse-client': new URL('./dist/index.js', import.meta.url).pathname };

export default defineConfig({
  test: {
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    projects: [
      {
        extends: true,
        resolve: { alias: pkg },
        test: {
          name: 'react19',
          include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'test/**/*.test.tsx'],
        },
      },
      {
        // The hooks again on React 18, the other supported peer major.
        extends: true,
        resolve: { alias: { ...pkg, react: 'react-18', 'react-dom': 'react-dom-18' } },
        test: {
          name: 'react18',
          include: ['test/react.test.tsx'],
          setupFiles: ['test/react18-setup.ts'],
        },
      },
    ],
  },
});

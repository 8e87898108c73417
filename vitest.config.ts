import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'main/**/*.test.ts',
      'shared/**/*.test.ts',
      'renderer/**/*.test.{ts,tsx}',
      'test/**/*.test.ts',
    ],
    exclude: ['**/node_modules/**', 'dist/**', 'release/**'],
    // Integration tests start real workstations, keychains and browsers.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Forks, not threads: native addons (keytar, better-sqlite3) and process-wide
    // state stay isolated per test file. Two workers for two cores.
    pool: 'forks',
    maxWorkers: 2,
    globals: false,
  },
});

import { defineConfig } from 'vitest/config';
import { UNTIL_DEFAULT_MS } from './test/support/until';

/** Tests that load the whole machine on purpose (`*.stress.test.ts`): run alone, last. */
const STRESS = '**/*.stress.test.ts';
/** Never tests: dependencies and build output. */
const NOT_TESTS = ['**/node_modules/**', 'dist/**', 'release/**'];

export default defineConfig({
  test: {
    exclude: NOT_TESTS,
    // Integration tests start real workstations, keychains and browsers.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Forks, not threads: native addons (keytar, better-sqlite3) and process-wide
    // state stay isolated per test file. Two workers for two cores.
    pool: 'forks',
    maxWorkers: 2,
    globals: false,
    // expect.poll gives up after 1 s by default; waits bound failures, not speed.
    expect: { poll: { timeout: UNTIL_DEFAULT_MS } },
    projects: [
      {
        extends: true,
        test: {
          name: 'suite',
          include: ['main/**/*.test.ts', 'shared/**/*.test.ts', 'renderer/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: [...NOT_TESTS, STRESS],
          sequence: { groupOrder: 0 },
        },
      },
      {
        // React components, in jsdom, beside the suite.
        extends: true,
        test: {
          name: 'dom',
          include: ['renderer/**/*.test.tsx'],
          environment: 'jsdom',
          setupFiles: ['test/support/dom-setup.ts'],
          sequence: { groupOrder: 0 },
        },
      },
      {
        // After the suite has finished (a higher group order), so that what they spin
        // slows no other test.
        extends: true,
        test: { name: 'stress', include: [STRESS], sequence: { groupOrder: 1 } },
      },
    ],
  },
});

import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'simulator/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // One temporary folder per run (removed at its end) and a fresh build when dist/ is older than the sources.
    globalSetup: ['./test/setup/temp-root.ts', './test/setup/build-dist.ts'],
    setupFiles: ['./test/setup/per-file-temp.ts'],
    reporters: ['default', './test/reporters/summary.ts'],
  },
});

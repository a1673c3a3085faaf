import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 600_000,
    // Synth and the real-process suites are CPU heavy; two workers match the build machines.
    maxWorkers: 2,
    fileParallelism: true,
  },
});

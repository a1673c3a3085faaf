import { defineConfig } from 'vitest/config';
import { LongestFirstSequencer } from './test/sequencer';
import { ALL_TESTS, ISOLATED_FAST_TESTS, SLOW_TESTS, SYNTH_TESTS } from './test/tiers';

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 600_000,
    // Three files at a time on two cores: the rehearsal, moto and bake files spend part of their time
    // waiting (gate timeouts, bake windows, servers starting), and a third file fills that time.
    maxWorkers: 3,
    fileParallelism: true,
    sequence: { sequencer: LongestFirstSequencer },
    projects: [
      // Files that leave no state behind share modules within a worker instead of loading them per file.
      { extends: true, test: { name: 'fast', include: [ALL_TESTS], exclude: [...SLOW_TESTS, ...ISOLATED_FAST_TESTS], isolate: false } },
      { extends: true, test: { name: 'fast-isolated', include: [...ISOLATED_FAST_TESTS] } },
      { extends: true, test: { name: 'slow', include: [...SLOW_TESTS], exclude: [...SYNTH_TESTS] } },
      // In-process synths skip CDK's built-in template validation, which only warns here and costs about 6 s
      // of CPU per worker (see test/helpers/synth.ts).
      { extends: true, test: { name: 'synth', include: [...SYNTH_TESTS], isolate: false, env: { CDK_VALIDATION: 'false' } } },
    ],
  },
});

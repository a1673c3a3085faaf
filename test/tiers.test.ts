// Every test file is in exactly one tier, the slow list names only files that exist, and no file in
// the fast tier synthesizes, starts servers or runs the CLI as a process.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import config from '../vitest.config';
import { REPO_ROOT } from './helpers/settings';
import { PROJECT_ORDER } from './sequencer';
import { ALL_TESTS, ISOLATED_FAST_TESTS, LONGEST_FIRST, SLOW_TESTS, SYNTH_TESTS } from './tiers';

function testFiles(dir = 'test'): string[] {
  return fs.readdirSync(path.join(REPO_ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) return testFiles(rel);
    return e.name.endsWith('.test.ts') ? [rel] : [];
  });
}

/** What makes a test file slow, as it shows in the file's text. */
const SLOW_MARKERS: ReadonlyArray<readonly [RegExp, string]> = [
  [/from 'aws-cdk-lib/, 'uses aws-cdk-lib (synth)'],
  [/from '[./]*(lib\/app|helpers\/synth)'/, 'synthesizes the app'],
  [/import \{[^}]*\bcli\b[^}]*\} from '[./]*helpers\/cli'/, 'runs the CLI as a process'],
  [/node_modules', '\.bin', '(tsx|cdk)'|node_modules\/\.bin\/(tsx|cdk)/, 'runs tsx or cdk as a process'],
  [/\brehearse\(/, 'plays a rehearsal'],
  [/from '[./]*helpers\/moto'/, 'starts moto'],
  [/ProcessSupervisor|from '\.\/(processes|postgres|instance)'/, 'starts servers'],
  [/packer', \['(validate|build|init)/, 'runs Packer'],
  [/manage\.py['"]?,? *['"]?(test|runserver)/, 'runs Django'],
];

const files = testFiles();

describe('test tiers', () => {
  it('vitest runs the fast tier as everything but the slow list, and each tier in a shared and an isolated project', () => {
    const projects = (config.test?.projects ?? []) as Array<{ test: { name: string; include?: string[]; exclude?: string[]; isolate?: boolean } }>;
    expect(projects.map((p) => p.test)).toMatchObject([
      { name: 'fast', include: [ALL_TESTS], exclude: [...SLOW_TESTS, ...ISOLATED_FAST_TESTS], isolate: false },
      { name: 'fast-isolated', include: [...ISOLATED_FAST_TESTS] },
      { name: 'slow', include: [...SLOW_TESTS], exclude: [...SYNTH_TESTS] },
      { name: 'synth', include: [...SYNTH_TESTS], isolate: false },
    ]);
    // The sequencer orders every project.
    expect([...PROJECT_ORDER].sort()).toEqual(projects.map((p) => p.test.name).sort());
    expect(projects[1].test.isolate).toBeUndefined();
    expect(projects[2].test.isolate).toBeUndefined();
    expect(config.test?.include).toBeUndefined();
  });

  it('shares modules only between files that leave no state behind', () => {
    // Mocked SDK clients, environment changes, fake timers or processes left running would leak into the next file.
    const leaky = [/mockClient|vi\.(mock|spyOn|stubEnv|useFakeTimers)/, /process\.(chdir|env\.\w+ *=(?!=))/, /\bspawn\(|helpers\/(cli|moto)/];
    const shared = [...files.filter((f) => !SLOW_TESTS.includes(f) && !ISOLATED_FAST_TESTS.includes(f)), ...SYNTH_TESTS];
    const leaking = shared.flatMap((f) => {
      const text = fs.readFileSync(path.join(REPO_ROOT, f), 'utf8').replace(/process\.env\.AWS_EC2_METADATA_DISABLED = 'true';/g, '');
      return leaky.filter((re) => re.test(text)).map((re) => `${f} matches ${re}: list it in ISOLATED_FAST_TESTS or outside SYNTH_TESTS`);
    });
    expect(leaking).toEqual([]);
    expect(SYNTH_TESTS.filter((f) => !SLOW_TESTS.includes(f))).toEqual([]);
    expect(ISOLATED_FAST_TESTS.filter((f) => !files.includes(f) || SLOW_TESTS.includes(f))).toEqual([]);
  });

  it('lists only test files that exist, each once', () => {
    expect(SLOW_TESTS.filter((f) => !files.includes(f))).toEqual([]);
    expect(new Set(SLOW_TESTS).size).toBe(SLOW_TESTS.length);
    // The sequencer's list starts slow files first; a fast or renamed file there would be a stale entry.
    expect(LONGEST_FIRST.filter((f) => !SLOW_TESTS.includes(f))).toEqual([]);
    expect(new Set(LONGEST_FIRST).size).toBe(LONGEST_FIRST.length);
  });

  it('keeps synth, servers and CLI processes out of the fast tier', () => {
    const misplaced = files
      // This file holds the markers themselves.
      .filter((f) => !SLOW_TESTS.includes(f) && f !== 'test/tiers.test.ts')
      .flatMap((f) => {
        const text = fs.readFileSync(path.join(REPO_ROOT, f), 'utf8');
        return SLOW_MARKERS.filter(([re]) => re.test(text)).map(([, why]) => `${f} ${why}: list it in test/tiers.ts`);
      });
    expect(misplaced).toEqual([]);
  });

  it('finds the markers in the files that are slow for those reasons', () => {
    const reasons = (f: string) => SLOW_MARKERS.filter(([re]) => re.test(fs.readFileSync(path.join(REPO_ROOT, f), 'utf8'))).map(([, why]) => why);
    expect(reasons('test/cli/cli-process.test.ts')).toContain('runs the CLI as a process');
    expect(reasons('test/constructs/release-chain.test.ts')).toContain('synthesizes the app');
    expect(reasons('test/rehearsal/e2e.test.ts')).toContain('plays a rehearsal');
    expect(reasons('test/userdata/bootstrap.test.ts')).toContain('starts servers');
  });
});

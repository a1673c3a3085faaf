// One lowest Node version, said the same way everywhere: package.json's engines (npm warns below it
// at install) and the README; every CI job's image or setup-node runs it or a later one.
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/settings';

const read = (...parts: string[]) => readFileSync(path.join(REPO_ROOT, ...parts), 'utf8');
const SUPPORTED = Number(/^>=(\d+)$/.exec((JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node)?.[1]);

describe('the supported Node version', () => {
  it('is a major version in engines', () => {
    expect(SUPPORTED).toBeGreaterThanOrEqual(20);
  });

  it('is the one the README names', () => {
    const named = [...read('README.md').matchAll(/Node (\d+) or later/g)].map((m) => Number(m[1]));
    expect(named.length).toBeGreaterThan(0);
    expect(new Set(named)).toEqual(new Set([SUPPORTED]));
  });

  it('is at or below the one every CI job runs', () => {
    const files = [
      ...readdirSync(path.join(REPO_ROOT, '.github', 'workflows')).map((f) => path.join('.github', 'workflows', f)),
      path.join('.circleci', 'config.yml'),
    ];
    const versions = files.flatMap((f) => [...read(f).matchAll(/(?:node-version: |image: node:)(\d+)/g)].map((m) => ({ f, major: Number(m[1]) })));
    expect(versions.length).toBeGreaterThan(0);
    expect(versions.filter((v) => v.major < SUPPORTED)).toEqual([]);
  });
});

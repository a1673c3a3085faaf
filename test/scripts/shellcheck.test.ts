// The repository's own shell entry points, under the real shellcheck.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/settings';

const scripts = [
  '.ci/run',
  ...readdirSync(path.join(REPO_ROOT, 'scripts'))
    .filter((f) => f.endsWith('.sh'))
    .map((f) => `scripts/${f}`),
];

describe('shell entry points', () => {
  it('include the CI entry and the Debian package installer', () => {
    expect(scripts).toEqual(expect.arrayContaining(['.ci/run', 'scripts/install-debian-packages.sh', 'scripts/release-id.sh']));
  });

  it.each(scripts)('%s is clean under shellcheck', (script) => {
    const result = spawnSync('shellcheck', ['--shell=bash', script], { cwd: REPO_ROOT, encoding: 'utf8' });
    expect(result.error).toBeUndefined();
    expect(result.stdout).toBe('');
    expect(result.status).toBe(0);
  });
});

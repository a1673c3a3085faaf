// Wheels for a test app's wheels/ directory, fetched with `pip download` from the package index this
// machine's pip is configured with: the way a team ships the packages Debian 12 lacks.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';

/**
 * Downloads `requirements` and their dependencies into `dir` as wheels for Debian's python3. pip's
 * retries are off: an index that is not reachable (PyPI on a machine with a local index only) then
 * costs one refused connection per package, not a minute of back-off.
 */
export function downloadWheels(dir: string, requirements: readonly string[]): string[] {
  fs.mkdirSync(dir, { recursive: true });
  const run = spawnSync(
    '/usr/bin/python3',
    ['-m', 'pip', 'download', '--disable-pip-version-check', '--only-binary=:all:', '--dest', dir, ...requirements],
    { encoding: 'utf8', env: { ...process.env, PIP_RETRIES: '0' }, timeout: 120_000 },
  );
  if (run.status !== 0) throw new Error(`pip download ${requirements.join(' ')} failed: ${(run.stderr || run.error?.message || '').trim().split('\n').slice(-3).join(' ')}`);
  return fs.readdirSync(dir).filter((f) => f.endsWith('.whl'));
}

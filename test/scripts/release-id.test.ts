// scripts/release-id.sh, the release id both release pipelines compute, in a throwaway git repository.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RELEASE_PATTERN } from '../../lib/config/release';
import { REPO_ROOT } from '../helpers/settings';

const SCRIPT = path.join(REPO_ROOT, 'scripts', 'release-id.sh');

describe('scripts/release-id.sh', () => {
  let repo: string;
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, encoding: 'utf8' }).trim();
  const releaseId = (env: Record<string, string> = {}, ...args: string[]) =>
    execFileSync('bash', [SCRIPT, ...args], { cwd: repo, encoding: 'utf8', env: { ...process.env, ...env } }).trim();

  beforeAll(() => {
    repo = mkdtempSync(path.join(tmpdir(), 'greenlight-release-id-'));
    git('init', '-q');
    writeFileSync(path.join(repo, 'a'), '1');
    git('add', 'a');
    // 23:30 on the 22nd in UTC-5 is the 23rd in UTC: the id uses UTC wherever the job runs.
    const env = { GIT_AUTHOR_DATE: '2026-11-22T23:30:00-05:00', GIT_COMMITTER_DATE: '2026-11-22T23:30:00-05:00' };
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-q', '-m', 'one'], {
      cwd: repo,
      env: { ...process.env, ...env },
    });
  });
  afterAll(() => rmSync(repo, { recursive: true, force: true }));

  it('is the commit’s UTC date and short sha, a valid release id', () => {
    const id = releaseId();
    expect(id).toBe(`2026.11.23-${git('rev-parse', '--short=7', 'HEAD')}`);
    expect(id).toMatch(RELEASE_PATTERN);
  });

  it('depends only on the commit: the same on a rerun, in any time zone', () => {
    expect(releaseId({ TZ: 'Pacific/Auckland' })).toBe(releaseId({ TZ: 'America/Los_Angeles' }));
  });

  it('names another commit when given one', () => {
    expect(releaseId({}, 'HEAD')).toBe(releaseId());
    expect(() => execFileSync('bash', [SCRIPT, 'no-such-ref'], { cwd: repo, stdio: 'pipe' })).toThrow();
  });
});

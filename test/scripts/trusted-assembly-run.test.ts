// scripts/trusted-assembly-run.ts: which run's cdk-out artifact the rollback workflow may deploy, on
// crafted lists of the runs that uploaded an artifact of the release's name.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { RELEASE_WORKFLOW, trustedAssemblyRun, type WorkflowRun } from '../../scripts/trusted-assembly-run';
import { REPO_ROOT } from '../helpers/settings';

const REPO = 'acme/shop';
const run = (id: number, over: Partial<WorkflowRun> = {}): WorkflowRun => ({
  id,
  event: 'push',
  head_branch: 'main',
  path: RELEASE_WORKFLOW,
  created_at: `2026-11-${String(10 + id).padStart(2, '0')}T10:00:00Z`,
  repository: { full_name: REPO },
  head_repository: { full_name: REPO },
  ...over,
});

describe('the rollback deploys an assembly only from a release run on a push to main of the repository', () => {
  const poisoned: [string, WorkflowRun][] = [
    ['a pull request from a fork', run(1, { event: 'pull_request', head_branch: 'main', head_repository: { full_name: 'mallory/shop' } })],
    ['a pull request from a branch of the repository', run(2, { event: 'pull_request', head_branch: 'feature' })],
    ['a push to another branch', run(3, { head_branch: 'release-candidate' })],
    ['a dispatch of the release workflow on main', run(4, { event: 'workflow_dispatch' })],
    ['another workflow, on a push to main', run(5, { path: '.github/workflows/ci.yml' })],
    ["another repository's run", run(6, { repository: { full_name: 'acme/shop-fork' }, head_repository: { full_name: 'acme/shop-fork' } })],
    ['a run whose head repository is gone', run(7, { head_repository: null })],
  ];

  it.each(poisoned)('passes over %s, and says why', (_what, r) => {
    const { run: chosen, passedOver } = trustedAssemblyRun([r], REPO);
    expect(chosen).toBeUndefined();
    expect(passedOver).toHaveLength(1);
    expect(passedOver[0]).toMatch(new RegExp(`^run ${r.id} `));
  });

  it('takes the release run among poisoned ones, even when they are newer', () => {
    const release = run(0);
    const { run: chosen, passedOver } = trustedAssemblyRun([...poisoned.map(([, r]) => r), release], REPO);
    expect(chosen?.id).toBe(release.id);
    expect(passedOver).toHaveLength(poisoned.length);
  });

  it('takes the newest of several release runs (a rerun of the same commit)', () => {
    expect(trustedAssemblyRun([run(1), run(3), run(2)], REPO).run?.id).toBe(3);
  });

  it('takes none from an empty list: the rollback then synthesizes', () => {
    expect(trustedAssemblyRun([], REPO)).toEqual({ run: undefined, passedOver: [] });
  });

  it('is what the rollback workflow asks before it downloads an artifact', () => {
    const workflow = parse(readFileSync(path.join(REPO_ROOT, '.github', 'workflows', 'rollback.yml'), 'utf8'));
    const steps = workflow.jobs.rollback.steps as { id?: string; run?: string; uses?: string; with?: Record<string, string> }[];
    const find = steps.findIndex((s) => s.id === 'assembly');
    expect(steps[find].run).toContain('npx tsx scripts/trusted-assembly-run.ts "$runs" "$GITHUB_REPOSITORY"');
    const fetch = steps.findIndex((s) => String(s.uses).startsWith('actions/download-artifact@'));
    expect(fetch).toBeGreaterThan(find);
    expect(steps[fetch].with?.['run-id']).toBe('${{ steps.assembly.outputs.run-id }}');
  });
});

// The trust table of docs/iam.md: each OIDC trust policy in iam/, rendered, against the token claims
// of each CI situation, and the roles each situation can assume. The IAM policy simulator drops
// an OIDC provider's claims for sts:AssumeRoleWithWebIdentity (it knows no such keys for the
// action), so the trust policies are asked with test/pipelines/iam-policy.ts's StringEquals and
// StringLike, the only operators they use.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/settings';
import { allows, type Context, list, renderPolicy } from './iam-policy';

const ACCOUNT = '111111111111';
const ORG = '11111111-2222-3333-4444-555555555555';
const PROJECT = '66666666-7777-8888-9999-000000000000';
const PRODUCTION_PROJECT = '77777777-8888-9999-0000-111111111111';
const USER = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
const VALUES = {
  ACCOUNT_ID: ACCOUNT, GITHUB_OWNER: 'acme', GITHUB_REPO: 'shop', CIRCLECI_ORG_ID: ORG, CIRCLECI_PROJECT_ID: PROJECT,
  CIRCLECI_PRODUCTION_PROJECT_ID: PRODUCTION_PROJECT, VCS_ORIGIN: 'github.com/acme/shop',
};

/** Each role and its trust policy, rendered for the environment it serves. */
const ROLES: Readonly<Record<'github' | 'circleci', Readonly<Record<string, { file: string; env?: string }>>>> = {
  github: {
    bake: { file: 'github-oidc-trust-bake.json' },
    preview: { file: 'github-oidc-trust-preview.json' },
    'deploy staging': { file: 'github-oidc-trust-deploy.json', env: 'staging' },
    'deploy production': { file: 'github-oidc-trust-deploy.json', env: 'production' },
  },
  circleci: {
    bake: { file: 'circleci-oidc-trust-bake.json' },
    preview: { file: 'circleci-oidc-trust-preview.json' },
    'deploy staging': { file: 'circleci-oidc-trust-deploy.json', env: 'staging' },
    'deploy production': { file: 'circleci-oidc-trust-deploy-production.json', env: 'production' },
  },
};

const gh = (sub: string): Context => ({ 'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com', 'token.actions.githubusercontent.com:sub': sub });
const cc = (project: string, ref: string, origin = 'github.com/acme/shop'): Context => ({
  [`oidc.circleci.com/org/${ORG}:aud`]: ORG,
  [`oidc.circleci.com/org/${ORG}:sub`]: `org/${ORG}/project/${project}/user/${USER}/vcs-origin/${origin}/vcs-ref/${ref}`,
});

interface Situation {
  /** The row of docs/iam.md's table, word for word. */
  readonly situation: string;
  readonly ci: 'github' | 'circleci';
  readonly claims: Context;
  /** The roles it assumes; the others refuse it. */
  readonly assumes: readonly string[];
}

const SITUATIONS: readonly Situation[] = [
  { ci: 'github', situation: 'a push to main: the bake, synth and preview jobs', claims: gh('repo:acme/shop:ref:refs/heads/main'), assumes: ['bake', 'preview'] },
  { ci: 'github', situation: 'a push to main: the deploy job in environment staging', claims: gh('repo:acme/shop:environment:staging'), assumes: ['deploy staging'] },
  { ci: 'github', situation: 'a push to main: the deploy job in environment production, once a reviewer approves', claims: gh('repo:acme/shop:environment:production'), assumes: ['deploy production'] },
  { ci: 'github', situation: 'a rollback dispatched on main, in environment production, once a reviewer approves', claims: gh('repo:acme/shop:environment:production'), assumes: ['deploy production'] },
  { ci: 'github', situation: 'a pull request from a fork', claims: gh('repo:acme/shop:pull_request'), assumes: [] },
  { ci: 'github', situation: 'a pull request from a branch of the repository', claims: gh('repo:acme/shop:pull_request'), assumes: [] },
  { ci: 'github', situation: 'a push to another branch', claims: gh('repo:acme/shop:ref:refs/heads/feature'), assumes: [] },
  { ci: 'github', situation: 'a tag', claims: gh('repo:acme/shop:ref:refs/tags/v1'), assumes: [] },
  { ci: 'github', situation: 'an environment that is not the role\'s', claims: gh('repo:acme/shop:environment:production-2'), assumes: [] },
  { ci: 'github', situation: 'another repository, on its main', claims: gh('repo:mallory/shop:ref:refs/heads/main'), assumes: [] },
  { ci: 'github', situation: 'another repository, in an environment named production', claims: gh('repo:mallory/shop:environment:production'), assumes: [] },
  { ci: 'circleci', situation: 'the project, on main, any job and any context', claims: cc(PROJECT, 'refs/heads/main'), assumes: ['bake', 'preview', 'deploy staging'] },
  { ci: 'circleci', situation: 'the project, on another branch', claims: cc(PROJECT, 'refs/heads/feature'), assumes: [] },
  { ci: 'circleci', situation: 'the production project, on main', claims: cc(PRODUCTION_PROJECT, 'refs/heads/main'), assumes: ['deploy production'] },
  { ci: 'circleci', situation: 'the production project, on another branch', claims: cc(PRODUCTION_PROJECT, 'refs/heads/feature'), assumes: [] },
  { ci: 'circleci', situation: 'another project of the organization, on main', claims: cc('99999999-7777-8888-9999-000000000000', 'refs/heads/main'), assumes: [] },
  { ci: 'circleci', situation: 'a fork\'s pipeline, on its main', claims: cc(PROJECT, 'refs/heads/main', 'github.com/mallory/shop'), assumes: [] },
  {
    ci: 'circleci',
    situation: "CircleCI's first token (`CIRCLE_OIDC_TOKEN`), which names no branch",
    claims: { [`oidc.circleci.com/org/${ORG}:aud`]: ORG, [`oidc.circleci.com/org/${ORG}:sub`]: `org/${ORG}/project/${PROJECT}/user/${USER}` },
    assumes: [],
  },
];

const assumed = (s: Situation): string[] =>
  Object.entries(ROLES[s.ci])
    .filter(([, { file, env }]) => allows(renderPolicy(REPO_ROOT, file, { ...VALUES, ENV: env ?? 'staging' }), 'sts:AssumeRoleWithWebIdentity', '', s.claims))
    .map(([role]) => role);

describe('the trust table', () => {
  const doc = readFileSync(path.join(REPO_ROOT, 'docs', 'iam.md'), 'utf8');

  it.each(SITUATIONS.map((s) => [`${s.ci}: ${s.situation}`, s] as const))('%s', (_name, s) => {
    expect(assumed(s)).toEqual(s.assumes);
    const row = `| ${s.ci === 'github' ? 'GitHub' : 'CircleCI'} | ${s.situation} | ${s.assumes.length ? s.assumes.join(', ') : 'none'} |`;
    expect(doc, 'docs/iam.md prints the row').toContain(row);
  });

  it("reaches production's deploy role only from production's approved path", () => {
    const reaching = SITUATIONS.filter((s) => s.assumes.includes('deploy production')).map((s) => `${s.ci}: ${s.situation}`);
    expect(reaching).toEqual([
      'github: a push to main: the deploy job in environment production, once a reviewer approves',
      'github: a rollback dispatched on main, in environment production, once a reviewer approves',
      'circleci: the production project, on main',
    ]);
  });

  it("trusts no CircleCI project with production that it trusts with anything else: the token names no context", () => {
    const sub = (file: string) =>
      list(Object.values(renderPolicy(REPO_ROOT, file, { ...VALUES, ENV: 'production' }).Statement[0].Condition!.StringLike)[0]).join();
    const production = sub('circleci-oidc-trust-deploy-production.json');
    for (const other of ['circleci-oidc-trust-bake.json', 'circleci-oidc-trust-preview.json', 'circleci-oidc-trust-deploy.json']) {
      expect(sub(other)).toContain(`/project/${PROJECT}/`);
      expect(production).not.toContain(`/project/${PROJECT}/`);
    }
  });
});

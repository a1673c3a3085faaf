// scripts/circleci-production-project.sh, the check CircleCI's production deploy and rollback run
// before assuming the role: with tokens whose payload names a project, as CircleCI's does.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REPO_ROOT } from '../helpers/settings';

const SCRIPT = path.join(REPO_ROOT, 'scripts', 'circleci-production-project.sh');
const PRODUCTION = '77777777-8888-9999-0000-111111111111';
const SHARED = '66666666-7777-8888-9999-000000000000';
const token = (project: string) =>
  ['{"alg":"RS256"}', JSON.stringify({ sub: `org/o/project/${project}/user/u`, 'oidc.circleci.com/project-id': project })]
    .map((part) => Buffer.from(part).toString('base64url'))
    .concat('signature')
    .join('.');

const check = (environment: string, env: Record<string, string>) => {
  const { PATH, HOME } = process.env;
  return spawnSync('bash', [SCRIPT, environment], { encoding: 'utf8', env: { PATH, HOME, ...env } });
};

describe('scripts/circleci-production-project.sh', () => {
  it('lets a production job of the production project through', () => {
    const run = check('production', { CIRCLE_OIDC_TOKEN_V2: token(PRODUCTION), GREENLIGHT_PRODUCTION_PROJECT_ID: PRODUCTION });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain(PRODUCTION);
  });

  it('stops a production job of the shared project, naming both projects', () => {
    const run = check('production', { CIRCLE_OIDC_TOKEN_V2: token(SHARED), GREENLIGHT_PRODUCTION_PROJECT_ID: PRODUCTION });
    expect(run.status).toBe(1);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain(`runs in CircleCI project ${SHARED}, not in production's own project ${PRODUCTION}`);
  });

  it('says what is missing when no production project is set', () => {
    const run = check('production', { CIRCLE_OIDC_TOKEN_V2: token(SHARED) });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('GREENLIGHT_PRODUCTION_PROJECT_ID is not set');
    expect(run.stderr).toContain(`this job runs in project ${SHARED}`);
  });

  it('leaves the other environments alone', () => {
    expect(check('staging', {}).status).toBe(0);
  });

  it('runs before the deploy and the rollback jobs assume their role', () => {
    const config = parse(readFileSync(path.join(REPO_ROOT, '.circleci', 'config.yml'), 'utf8'));
    for (const job of ['deploy', 'rollback']) {
      const steps = config.jobs[job].steps as Record<string, { command?: string }>[];
      const at = steps.findIndex((s) => s.run?.command === 'bash scripts/circleci-production-project.sh << parameters.environment >>');
      const assume = steps.findIndex((s) => s['assume-role'] !== undefined);
      expect(at, job).toBeGreaterThan(-1);
      expect(at, job).toBeLessThan(assume);
    }
  });
});

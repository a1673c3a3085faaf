// Parity of the pipelines with a deploy by hand: each pipeline's deploy command, read from its file
// and expanded by bash as the job's shell would, run through `greenlight deploy` against moto's
// SSM. Each finds the live release and passes it as the standby, with the deploy time and the
// environment, to the cdk deploy it runs; cdk itself is replaced by a recorder.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createEnvironmentClients } from '../../lib/aws/clients';
import { type DeployCommandOptions, type DeployRuntime, prepareDeploy, runDeploy } from '../../lib/cli/deploy';
import { MOTO, type Moto, useMoto } from '../helpers/moto';
import { cdkContext, REPO_ROOT } from '../helpers/settings';
import { circleciConfig, githubWorkflows, type Yaml } from './pipelines';

const APP = cdkContext().app;
const ENVIRONMENTS = Object.keys(cdkContext().environments);
const RELEASE = '2026.11.22-3f9c2ab';
const LIVE = '2026.11.20-0a1b2c3';
const NOW = Date.UTC(2026, 10, 22, 9, 30, 0);

/** The deploy script of each pipeline, with the values its job would give it. */
function deployScripts(dir: string, envName: string): Array<{ pipeline: string; script: string; env: Record<string, string> }> {
  const github = githubWorkflows()['deploy.yml'].jobs.deploy.steps.find((s: Yaml) => /npm run deploy/.test(s.run ?? ''));
  const circle = circleciConfig().jobs.deploy.steps.find((s: Yaml) => /npm run deploy/.test(s.run?.command ?? ''));
  return [
    {
      pipeline: 'GitHub Actions',
      script: github.run,
      env: { ENVIRONMENT: envName, RELEASE, GITHUB_STEP_SUMMARY: path.join(dir, 'summary.md') },
    },
    {
      pipeline: 'CircleCI',
      script: String(circle.run.command).replace(/<<\s*parameters\.environment\s*>>/g, envName),
      env: {},
    },
  ];
}

/** The arguments after `npm run deploy --`, as bash expands them in the job. */
function deployArguments(script: string, env: Record<string, string>, cwd: string): string[] {
  const command = script.trim();
  expect(command.startsWith('npm run deploy -- ')).toBe(true);
  const expanded = spawnSync('bash', ['-c', `set -- ${command.slice('npm run deploy -- '.length)}; printf '%s\\0' "$@"`], {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
  });
  expect(expanded.status, expanded.stderr).toBe(0);
  return expanded.stdout.split('\0').slice(0, -1);
}

/** Every option greenlight deploy takes; parseArgs refuses any other. */
function deployOptions(args: string[]): DeployCommandOptions {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      env: { type: 'string' },
      release: { type: 'string' },
      'app-dir': { type: 'string' },
      ami: { type: 'string' },
      interval: { type: 'string' },
      summary: { type: 'string' },
      annotate: { type: 'boolean' },
      'max-session': { type: 'string' },
    },
  });
  return { ...values, appDir: values['app-dir'], maxSession: values['max-session'] };
}

if (!MOTO.available) console.warn(`skipping the pipelines' standby parity test: ${MOTO.skipReason}`);

describe.skipIf(!MOTO.available)("each pipeline's deploy keeps the live release as the standby (moto)", () => {
  let moto!: Moto;
  let dir: string;
  useMoto((started) => {
    moto = started;
  });
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'greenlight-parity-'));
    mkdirSync(path.join(dir, 'workspace'));
    writeFileSync(path.join(dir, 'workspace', 'release-id'), `${RELEASE}\n`);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  beforeEach(async () => {
    await moto.reset();
    const ssm = new SSMClient({});
    for (const envName of ENVIRONMENTS) {
      await ssm.send(new PutParameterCommand({ Name: `/greenlight/${APP}/${envName}/live-release`, Value: LIVE, Type: 'String' }));
    }
  });

  for (const envName of ENVIRONMENTS) {
    it(`${envName}: both pipelines' deploys read the live release and pass it as the standby, with the deploy time and the environment`, async () => {
      const scripts = deployScripts(dir, envName);
      expect(scripts.map((s) => s.pipeline)).toEqual(['GitHub Actions', 'CircleCI']);
      for (const { pipeline, script, env } of scripts) {
        const opts = deployOptions(deployArguments(script, env, dir));
        expect(opts, pipeline).toMatchObject({ env: envName, release: RELEASE, appDir: undefined });
        const prepared = prepareDeploy(opts, REPO_ROOT);
        const cdkCalls: string[][] = [];
        const lines: string[] = [];
        const rt: DeployRuntime = {
          clients: createEnvironmentClients(prepared.env.settings.region),
          runCdk: async (args) => {
            cdkCalls.push([...args]);
            return 0;
          },
          print: (line) => lines.push(line),
          now: () => NOW,
          sleep: async () => undefined,
          appendFile: () => undefined,
        };
        await runDeploy(prepared, rt);
        expect(cdkCalls, pipeline).toEqual([
          [
            'deploy',
            `${APP}-${envName}`,
            ...['-c', `env=${envName}`, '-c', `release=${RELEASE}`, '-c', `standby=${LIVE}`, '-c', 'deployTime=2026-11-22T09:30:00Z'],
            ...['--require-approval', 'never', '--progress', 'events'],
          ],
        ]);
        expect(lines, pipeline).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`^keeping ${LIVE.replace(/\./g, '\\.')} running as the standby until `))]));
      }
    });
  }

  it("refuses a pipeline deploy whose settings could outlast the job's session, before anything runs", () => {
    const [{ script, env }] = deployScripts(dir, 'staging');
    const opts = deployOptions(deployArguments(script, env, dir));
    expect(opts.maxSession).toBe('3600');
    const project = mkdtempSync(path.join(tmpdir(), 'greenlight-parity-project-'));
    try {
      const context = cdkContext();
      const staging = { ...context.environments.staging, gate: { pollInterval: 15, timeout: 1800 }, bake: { duration: 1200 } };
      const appSource = path.join(REPO_ROOT, context.appSource ?? 'examples/django-app');
      writeFileSync(path.join(project, 'cdk.json'), JSON.stringify({ context: { ...context, appSource, environments: { staging } } }));
      expect(() => prepareDeploy(opts, project)).toThrow(
        '--max-session 3600: a deploy to staging can run 4875s (stack work 600s + capacity probe 180s + gate 1935s + smoke 300s + bake 1830s + ' +
          'deregistration 30s), longer than the session\'s credentials last; shorten gate.timeout, traffic.stepDuration or bake.duration, or deploy with a longer session',
      );
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });
});

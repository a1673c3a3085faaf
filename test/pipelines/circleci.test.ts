// .circleci/config.yml: CircleCI's own config parser and schemas, a reference check of our own, then
// the release workflow's shape read from the parsed YAML.
import { parseConfig, schemas, Validator } from '@circleci/circleci-config-parser';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { cdkContext } from '../helpers/settings';
import { CIRCLECI_CONFIG, circleciConfig, readRepoFile, type Yaml } from './pipelines';

const source = readRepoFile(CIRCLECI_CONFIG);
const config = circleciConfig();
const release = config.workflows.release;

/** A copy of the config with one piece of text replaced (which must be there). */
const broken = (from: string, to: string): string => {
  expect(source).toContain(from);
  return source.replace(from, to);
};

const schemaErrors = (doc: unknown): string[] => {
  const result = Validator.getInstance().validateComponent(schemas.ConfigSchema, doc);
  return result === true ? [] : (result as { errors: { instancePath: string; message?: string }[] }).errors.map((e) => `${e.instancePath} ${e.message}`);
};

/** A workflow's job invocations as [invoked job, its settings]. */
const invocations = (workflow: Yaml): [string, Yaml][] =>
  workflow.jobs.map((entry: Yaml) => (typeof entry === 'string' ? [entry, {}] : (Object.entries(entry)[0] as [string, Yaml])));
const nameOf = ([job, settings]: [string, Yaml]): string => settings?.name ?? job;
const INVOCATION_KEYS = new Set(['requires', 'name', 'context', 'type', 'filters', 'matrix', 'serial-group', 'pre-steps', 'post-steps']);

/**
 * What CircleCI checks when it compiles a config and the parser does not: `requires` names a job of
 * the same workflow, invocations pass exactly the declared parameters, and `<< parameters.x >>` and
 * `<< pipeline.parameters.x >>` name declared parameters.
 */
function referenceErrors(doc: Yaml): string[] {
  const errors: string[] = [];
  const pipelineParams = new Set(Object.keys(doc.parameters ?? {}));
  for (const m of JSON.stringify(doc).matchAll(/<<\s*pipeline\.parameters\.([\w-]+)\s*>>/g)) {
    if (!pipelineParams.has(m[1])) errors.push(`pipeline parameter ${m[1]} is not declared`);
  }
  const scopes: [string, Yaml][] = [
    ...Object.entries<Yaml>(doc.jobs).map(([id, j]) => [`job ${id}`, j] as [string, Yaml]),
    ...Object.entries<Yaml>(doc.commands ?? {}).map(([id, c]) => [`command ${id}`, c] as [string, Yaml]),
  ];
  for (const [where, body] of scopes) {
    const declared = new Set(Object.keys(body.parameters ?? {}));
    for (const m of JSON.stringify(body.steps).matchAll(/<<\s*parameters\.([\w-]+)\s*>>/g)) {
      if (!declared.has(m[1])) errors.push(`${where} uses parameter ${m[1]}, which it does not declare`);
    }
    for (const step of body.steps) {
      if (!step || typeof step !== 'object') continue;
      const [name, args] = Object.entries<Yaml>(step)[0];
      const command = doc.commands?.[name];
      if (!command) continue;
      const params = command.parameters ?? {};
      for (const arg of Object.keys(args ?? {})) if (!(arg in params)) errors.push(`${where} passes unknown parameter ${arg} to ${name}`);
      for (const [p, spec] of Object.entries<Yaml>(params)) {
        if (spec.default === undefined && !(p in (args ?? {}))) errors.push(`${where} does not pass ${p} to ${name}`);
      }
    }
  }
  for (const [wfName, workflow] of Object.entries<Yaml>(doc.workflows)) {
    const names = new Set(invocations(workflow).map(nameOf));
    for (const inv of invocations(workflow)) {
      const [job, settings] = inv;
      for (const r of settings.requires ?? []) if (!names.has(r)) errors.push(`${wfName}: ${nameOf(inv)} requires ${r}, which is not in the workflow`);
      if (settings.type === 'approval') continue;
      const params = doc.jobs[job]?.parameters ?? {};
      for (const arg of Object.keys(settings)) {
        if (!INVOCATION_KEYS.has(arg) && !(arg in params)) errors.push(`${wfName}: ${nameOf(inv)} passes unknown parameter ${arg}`);
      }
      for (const [p, spec] of Object.entries<Yaml>(params)) {
        if (spec.default === undefined && !(p in settings)) errors.push(`${wfName}: ${nameOf(inv)} does not pass ${p}`);
      }
    }
  }
  return errors;
}

describe('CircleCI: config validation', () => {
  it("parses with CircleCI's config parser into the jobs and workflows it declares", () => {
    const parsed = parseConfig(source);
    expect(parsed.jobs.map((j) => j.name).sort()).toEqual(['bake', 'deploy', 'preview', 'rollback', 'synth', 'test']);
    expect(parsed.workflows.map((w) => w.name).sort()).toEqual(['release', 'rollback', 'test']);
    expect(config.version).toBe(2.1);
  });

  it("passes the parser's config schema", () => {
    expect(schemaErrors(config)).toEqual([]);
  });

  it('rejects a workflow that invokes a job that does not exist', () => {
    expect(() => parseConfig(broken('      - synth:\n', '      - synthesize:\n'))).toThrow(/synthesize not found/);
  });

  it('rejects a step that is no command', () => {
    expect(() => parseConfig(broken('- persist_to_workspace:', '- persist_workspace:'))).toThrow(/persist_workspace not found/);
  });

  it('rejects an approval job of another type', () => {
    expect(schemaErrors(parse(broken('type: approval', 'type: manual')))).toContainEqual(expect.stringMatching(/type must be equal to one of the allowed values/));
  });

  it('has no dangling references: requires, job and command parameters, pipeline parameters', () => {
    expect(referenceErrors(config)).toEqual([]);
  });

  it.each([
    ['a requires on a job the workflow lacks', 'requires: [deploy-staging, hold-production]', 'requires: [deploy-staging, hold-prod]', 'deploy-production requires hold-prod'],
    ['an invocation without the environment', '          environment: staging\n', '', 'deploy-staging does not pass environment'],
    ['a misspelt job parameter', '          environment: production\n', '          enviroment: production\n', 'passes unknown parameter enviroment'],
    ['an undeclared parameter in a script', '--env << parameters.environment >> --release', '--env << parameters.env >> --release', 'job deploy uses parameter env'],
    ['an undeclared pipeline parameter', 'when: << pipeline.parameters.rollback-environment >>', 'when: << pipeline.parameters.rollback >>', 'pipeline parameter rollback'],
  ])('catches %s', (_, from, to, message) => {
    expect(referenceErrors(parse(broken(from, to)))).toContainEqual(expect.stringContaining(message));
  });
});

describe('CircleCI: the release workflow', () => {
  const inv = (name: string): Yaml => {
    const found = invocations(release).find((i) => nameOf(i) === name);
    if (!found) throw new Error(`no job ${name} in the release workflow`);
    return found[1];
  };
  const deploys = invocations(release).filter(([job]) => job === 'deploy');

  it('runs on main only, unless a rollback was asked for; other branches run the tests', () => {
    expect(JSON.stringify(release.when)).toContain('"equal":["main","<< pipeline.git.branch >>"]');
    expect(JSON.stringify(config.workflows.test.when)).toContain('"not":{"equal":["main","<< pipeline.git.branch >>"]}');
    expect(invocations(config.workflows.test).map(nameOf)).toEqual(['test']);
  });

  it('runs test, bake, synth, staging, preview, approval, production in that order', () => {
    const order = invocations(release).map(nameOf);
    const fixed = ['test', 'bake', 'synth', 'deploy-staging', 'preview-production', 'hold-production', 'deploy-production'];
    expect(order.filter((n) => fixed.includes(n))).toEqual(fixed);
    // Other environments deploy after the first, beside production's path.
    for (const name of order.filter((n) => !fixed.includes(n))) expect(inv(name).requires, name).toEqual(['deploy-staging']);
    expect(inv('bake').requires).toEqual(['test']);
    expect(inv('synth').requires).toEqual(['bake']);
    expect(inv('deploy-staging').requires).toEqual(['synth']);
  });

  it("deploys production only after staging, production's diff of the same assembly, and an approval", () => {
    expect(inv('hold-production')).toEqual({ type: 'approval', requires: ['deploy-staging', 'preview-production'] });
    expect(inv('preview-production')).toEqual({ name: 'preview-production', environment: 'production', context: 'greenlight-preview', requires: ['deploy-staging'] });
    const diff = config.jobs.preview.steps.map((st: Yaml) => st.run?.command ?? '').find((c: string) => /cdk diff/.test(c));
    expect(diff).toContain('npx cdk diff "$stack" --app workspace/cdk.out --method template');
    expect(config.jobs.preview.steps).toContainEqual({ attach_workspace: { at: 'workspace' } });
    expect(inv('deploy-production').requires.sort()).toEqual(['deploy-staging', 'hold-production']);
  });

  it('writes the deploy once, as a job with an environment parameter, invoked per environment with its own context', () => {
    expect(Object.keys(config.jobs.deploy.parameters)).toEqual(['environment']);
    expect(deploys.map(([, s]) => [s.environment, s.context]).sort()).toEqual(Object.keys(cdkContext().environments).map((env) => [env, `greenlight-${env}`]).sort());
    expect(source.match(/npm run deploy/g)).toHaveLength(1);
    expect(source).not.toMatch(/cdk deploy/);
  });

  it('serialises every deploy per environment across pipelines', () => {
    for (const [, settings] of deploys) {
      expect(settings['serial-group']).toBe(`<< pipeline.project.slug >>/deploy-${settings.environment}`);
    }
    const rollback = invocations(config.workflows.rollback).find(([job]) => job === 'rollback')![1];
    expect(rollback['serial-group']).toBe('<< pipeline.project.slug >>/deploy-<< pipeline.parameters.rollback-environment >>');
    expect(rollback.requires).toEqual(['hold-rollback']);
  });

  it('computes the release id once, in bake, and passes it through the workspace to both deploys, which synthesize with their standby', () => {
    expect(JSON.stringify(config).match(/scripts\/release-id\.sh/g)).toHaveLength(1);
    const bake = JSON.stringify(config.jobs.bake.steps);
    expect(bake).toContain('bash scripts/release-id.sh > workspace/release-id');
    expect(config.jobs.bake.steps).toContainEqual({ persist_to_workspace: { root: 'workspace', paths: ['release-id', 'ami'] } });
    expect(config.jobs.synth.steps).toContainEqual({ attach_workspace: { at: 'workspace' } });
    expect(JSON.stringify(config.jobs.synth.steps)).toContain('npx cdk synth -c release=\\"$(cat workspace/release-id)\\" --quiet --output workspace/cdk.out');
    expect(config.jobs.synth.steps).toContainEqual({ persist_to_workspace: { root: 'workspace', paths: ['cdk.out'] } });
    expect(config.jobs.deploy.steps).toContainEqual({ attach_workspace: { at: 'workspace' } });
    const deployRun = config.jobs.deploy.steps.find((s: Yaml) => /npm run deploy/.test(s.run?.command ?? ''));
    expect(deployRun.run.command).toBe(
      'npm run deploy -- --env << parameters.environment >> --release "$(cat workspace/release-id)" --max-session 3600 --summary summary/deploy-<< parameters.environment >>.md',
    );
    expect(config.jobs.deploy.steps).toContainEqual({ store_artifacts: { path: 'summary' } });
    // The bake account's AMI is recorded in each environment's account before its deploy.
    const commands = config.jobs.deploy.steps.map((st: Yaml) => st.run?.command ?? '');
    const record = commands.indexOf('npx greenlight publish-ami --ami "$(cat workspace/ami)" --release "$(cat workspace/release-id)"');
    expect(record).toBeGreaterThan(-1);
    expect(record).toBeLessThan(commands.indexOf(deployRun.run.command));
  });

  it('assumes roles only with the OIDC token, only in jobs that run with a context, and names no AWS keys', () => {
    const assuming = Object.entries<Yaml>(config.jobs)
      .filter(([, j]) => j.steps.some((s: Yaml) => s && typeof s === 'object' && 'assume-role' in s))
      .map(([id]) => id);
    expect(assuming.sort()).toEqual(['bake', 'deploy', 'preview', 'rollback']);
    for (const workflow of Object.values<Yaml>(config.workflows)) {
      for (const [job, settings] of invocations(workflow)) {
        if (assuming.includes(job)) expect(settings.context, job).toMatch(/^greenlight-/);
        else expect(settings.context, job).toBeUndefined();
      }
    }
    const assume = JSON.stringify(config.commands['assume-role']);
    expect(assume).toContain('CIRCLE_OIDC_TOKEN_V2');
    expect(assume).toContain('AWS_WEB_IDENTITY_TOKEN_FILE');
    expect(config.orbs).toBeUndefined();
    expect(source).not.toMatch(/AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|aws-access-key-id|aws-secret-access-key/i);
  });

  it('pins its images to a minor version of Node on Debian 12 and a dated VM, and Packer to a release', () => {
    const images = Object.values<Yaml>(config.executors).flatMap((e) => e.docker.map((d: Yaml) => d.image));
    expect(images).toEqual(['node:22.20-bookworm']);
    expect(config.jobs.test.machine.image).toMatch(/^ubuntu-\d{4}:\d{4}\.\d{2}\.\d+$/);
    expect(config.jobs.bake.environment.PACKER_VERSION).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('tests with the project CI entry point, in the same privileged Debian 12 container as GitHub', () => {
    const run = config.jobs.test.steps.find((s: Yaml) => s.run).run;
    expect(run.command).toMatch(/^docker run --rm --privileged .* node:22\.20-bookworm bash \.ci\/run$/);
  });
});

// .github/workflows: a real validator, then the release pipeline's shape read from the parsed YAML.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cdkContext, REPO_ROOT } from '../helpers/settings';
import { GITHUB_DIR, githubScripts, githubWorkflows, pipelineFiles, readRepoFile, type Yaml } from './pipelines';

const VALIDATOR = path.join(REPO_ROOT, 'node_modules', '.bin', 'action-validator');
const validate = (file: string) => spawnSync(VALIDATOR, [file], { encoding: 'utf8' });

const workflows = githubWorkflows();
const release = workflows['release.yml'];
const deploy = workflows['deploy.yml'];
const jobsOf = (wf: Yaml): [string, Yaml][] => Object.entries<Yaml>(wf.jobs);
const allJobs = (): [string, Yaml][] => Object.entries(workflows).flatMap(([f, wf]) => jobsOf(wf).map(([id, j]) => [`${f}:${id}`, j] as [string, Yaml]));
const needs = (job: Yaml): string[] => [job.needs ?? []].flat();
const assumesRole = (job: Yaml): boolean =>
  (job.steps ?? []).some((s: Yaml) => String(s.uses ?? '').startsWith('aws-actions/configure-aws-credentials@'));
/** The jobs of the workflow a `uses: ./.github/workflows/x.yml` job calls. */
const called = (job: Yaml): Yaml => workflows[path.basename(String(job.uses))];

describe('GitHub Actions: action-validator', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'greenlight-gha-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(Object.keys(workflows))('accepts %s', (file) => {
    const result = validate(path.join(GITHUB_DIR, file));
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it.each([
    ['a need on a job that does not exist', 'release.yml', 'needs: [bake, synth, deploy-staging]', 'needs: [bake, synth, deploy-stagin]', 'unresolved_job'],
    ['a permission level that does not exist', 'deploy.yml', 'id-token: write', 'id-token: admin', '/jobs/deploy/permissions'],
    ['a non-boolean cancel-in-progress', 'deploy.yml', 'cancel-in-progress: false', 'cancel-in-progress: never', 'cancel-in-progress'],
  ])('rejects %s', (_, file, from, to, reported) => {
    const source = readRepoFile(path.join(GITHUB_DIR, file));
    expect(source).toContain(from);
    const broken = path.join(dir, file);
    writeFileSync(broken, source.replace(from, to));
    const result = validate(broken);
    expect(result.status).not.toBe(0);
    expect(result.stdout + result.stderr).toContain(reported);
  });
});

describe('GitHub Actions: the release pipeline', () => {
  it('runs test, bake, synth, staging, production in that order, on main and by hand', () => {
    expect(Object.keys(release.on).sort()).toEqual(['push', 'workflow_dispatch']);
    expect(release.on.push.branches).toEqual(['main']);
    expect(release.jobs.test.uses).toBe('./.github/workflows/ci.yml');
    expect(needs(release.jobs.bake)).toEqual(['test']);
    expect(needs(release.jobs.synth)).toEqual(['bake']);
    expect(needs(release.jobs['deploy-staging'])).toEqual(expect.arrayContaining(['bake', 'synth']));
  });

  it('tests pull requests with the project CI entry point, on Debian 12', () => {
    const ci = workflows['ci.yml'];
    expect(Object.keys(ci.on)).toEqual(expect.arrayContaining(['pull_request', 'workflow_call']));
    expect(ci.jobs.test.container.image).toMatch(/^node:22\.\d+-bookworm$/);
    // The local bake test mounts /proc inside a chroot.
    expect(ci.jobs.test.container.options).toBe('--privileged');
    expect(ci.jobs.test.steps.map((s: Yaml) => s.run).filter(Boolean)).toEqual(['bash .ci/run']);
  });

  it('deploys production only after staging, in the production environment (its required reviewers approve)', () => {
    const production = release.jobs['deploy-production'];
    expect(needs(production)).toContain('deploy-staging');
    expect(production.uses).toBe('./.github/workflows/deploy.yml');
    expect(production.with.environment).toBe('production');
    expect(release.jobs['deploy-staging'].with.environment).toBe('staging');
    // The called job runs in the GitHub environment named by the input, so its protection rules apply.
    expect(deploy.jobs.deploy.environment.name).toBe('${{ inputs.environment }}');
  });

  it('writes the deploy once: every environment calls deploy.yml, which is the only place npm run deploy appears', () => {
    const callers = jobsOf(release).filter(([, j]) => j.uses === './.github/workflows/deploy.yml');
    expect(callers.map(([, j]) => j.with.environment).sort()).toEqual(Object.keys(cdkContext().environments).sort());
    const deploys = Object.entries(workflows).flatMap(([f, wf]) =>
      jobsOf(wf).flatMap(([id, j]) => (j.steps ?? []).filter((s: Yaml) => /npm run deploy/.test(s.run ?? '')).map(() => `${f}:${id}`)),
    );
    expect(deploys).toEqual(['deploy.yml:deploy']);
    expect(Object.keys(deploy.on)).toEqual(['workflow_call']);
    expect(Object.keys(deploy.on.workflow_call.inputs).sort()).toEqual(['ami', 'environment', 'release']);
    for (const [id, j] of callers) expect(j.with.ami, id).toBe('${{ needs.bake.outputs.ami }}');
    // The bake account's AMI is recorded in each environment's account before its deploy.
    const steps = deploy.jobs.deploy.steps.map((st: Yaml) => st.run ?? '');
    const record = steps.findIndex((r: string) => r === 'npx greenlight publish-ami --ami "$AMI" --release "$RELEASE"');
    expect(record).toBeGreaterThan(-1);
    expect(record).toBeLessThan(steps.findIndex((r: string) => /npm run deploy/.test(r)));
    for (const text of Object.values(workflows).map((wf) => JSON.stringify(wf))) expect(text).not.toMatch(/cdk deploy/);
  });

  it('serialises every job that deploys per environment and never cancels one in progress', () => {
    const deploying = allJobs().filter(([, j]) => assumesRole(j) && j.environment);
    expect(deploying.map(([id]) => id).sort()).toEqual(['deploy.yml:deploy', 'rollback.yml:rollback']);
    for (const [, job] of deploying) {
      expect(job.concurrency).toEqual({ group: 'greenlight-deploy-${{ inputs.environment }}', 'cancel-in-progress': false });
    }
  });

  it('computes the release id once, in bake, and hands that output to synth and both deploys', () => {
    const bake = release.jobs.bake;
    const step = bake.steps.find((s: Yaml) => s.id === 'release');
    expect(step.run).toContain('bash scripts/release-id.sh');
    expect(bake.outputs.release).toBe('${{ steps.release.outputs.id }}');
    const uses = JSON.stringify(workflows).match(/scripts\/release-id\.sh/g) ?? [];
    expect(uses).toHaveLength(1);

    const fromBake = '${{ needs.bake.outputs.release }}';
    expect(release.jobs.synth.steps.find((s: Yaml) => /cdk synth/.test(s.run ?? '')).env.RELEASE).toBe(fromBake);
    for (const id of Object.keys(cdkContext().environments).map((env) => `deploy-${env}`)) {
      expect(needs(release.jobs[id])).toContain('bake');
      expect(release.jobs[id].with.release).toBe(fromBake);
    }
    // The assembly synthesized for that release is kept for the preview and rollbacks; each deploy
    // synthesizes its environment's stack with its standby (test/pipelines/standby-parity).
    const upload = release.jobs.synth.steps.find((s: Yaml) => String(s.uses).startsWith('actions/upload-artifact@'));
    expect(upload.with.name).toBe(`cdk-out-${fromBake}`);
    expect(upload.with.path).toBe('cdk.out');
    expect(deploy.jobs.deploy.steps.find((s: Yaml) => String(s.uses).startsWith('actions/download-artifact@'))).toBeUndefined();
    const deployStep = deploy.jobs.deploy.steps.find((s: Yaml) => /npm run deploy/.test(s.run ?? ''));
    expect(deployStep.run).toBe('npm run deploy -- --env "$ENVIRONMENT" --release "$RELEASE" --max-session 3600 --summary "$GITHUB_STEP_SUMMARY" --annotate');
    expect(deployStep.env).toEqual({ ENVIRONMENT: '${{ inputs.environment }}', RELEASE: '${{ inputs.release }}' });
  });

  it('grants each job only what it uses: contents read, and id-token write only where a role is assumed', () => {
    for (const [file, wf] of Object.entries(workflows)) {
      expect([{}, { contents: 'read' }], file).toContainEqual(wf.permissions);
    }
    for (const [id, job] of allJobs()) {
      expect(job.permissions, id).toBeDefined();
      const grants = job.permissions as Record<string, string>;
      for (const [scope, level] of Object.entries(grants)) {
        // Rollback reads the artifacts list, to find the assembly recorded for a release.
        const allowed = id === 'rollback.yml:rollback' ? /^(contents: read|id-token: write|actions: read)$/ : /^(contents: read|id-token: write)$/;
        expect(`${scope}: ${level}`, id).toMatch(allowed);
      }
      const needsToken = job.uses ? jobsOf(called(job)).some(([, j]) => assumesRole(j)) : assumesRole(job);
      expect(grants['id-token'] === 'write', `${id} id-token`).toBe(needsToken);
    }
  });

  it('assumes roles by OIDC from per-environment variables, and references no long-lived keys', () => {
    const credentialSteps = allJobs().flatMap(([id, j]) =>
      (j.steps ?? []).filter((s: Yaml) => String(s.uses ?? '').startsWith('aws-actions/configure-aws-credentials@')).map((s: Yaml) => [id, s]),
    );
    expect(credentialSteps.map(([id]) => id).sort()).toEqual(['deploy.yml:deploy', 'preview.yml:diff', 'release.yml:bake', 'rollback.yml:rollback']);
    for (const [id, step] of credentialSteps) {
      expect(Object.keys(step.with).sort(), id).toEqual(['aws-region', 'role-duration-seconds', 'role-session-name', 'role-to-assume']);
      if (id === 'preview.yml:diff') {
        // Outside the GitHub environment (no approval holds it), so a repository variable per environment.
        expect(step.with['role-to-assume']).toBe('${{ fromJSON(vars.GREENLIGHT_PREVIEW_ROLE_ARNS)[inputs.environment] }}');
        expect(step.with['aws-region']).toBe('${{ steps.stack.outputs.region }}');
        continue;
      }
      expect(step.with['role-to-assume']).toMatch(/^\$\{\{ vars\.AWS_(DEPLOY|BAKE)_ROLE_ARN \}\}$/);
      expect(step.with['aws-region']).toBe('${{ vars.AWS_REGION }}');
    }
    for (const [file, wf] of Object.entries(workflows)) {
      expect(JSON.stringify(wf), file).not.toMatch(/AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|aws-access-key-id|aws-secret-access-key|secrets\./i);
    }
  });

  it('pins every action to a commit, with its release tag beside it, and the container to a minor version', () => {
    const uses = allJobs().flatMap(([, j]) => (j.steps ?? []).map((s: Yaml) => s.uses).filter(Boolean));
    expect(uses.length).toBeGreaterThan(10);
    for (const ref of uses) expect(ref).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/);
    // YAML drops comments, so the tags are read from the text: one commit and one tag per action.
    const pins = new Map<string, Set<string>>();
    for (const [file, text] of Object.entries(pipelineFiles())) {
      for (const line of text.split('\n').filter((l) => /^\s*(- )?uses: [\w-][\w.-]*\//.test(l))) {
        const m = line.match(/uses: ([\w.-]+\/[\w.-]+)@([0-9a-f]{40}) # (v\d+\.\d+\.\d+)$/);
        expect(m, `${file}: ${line.trim()}`).not.toBeNull();
        pins.set(m![1], new Set([...(pins.get(m![1]) ?? []), `${m![2]} ${m![3]}`]));
      }
    }
    for (const [action, versions] of pins) expect([...versions], action).toHaveLength(1);
    for (const [id, job] of allJobs()) {
      if (job.uses) expect(job.uses, id).toMatch(/^\.\/\.github\/workflows\/[\w-]+\.yml$/);
      if (job['runs-on']) expect(job['runs-on'], id).toMatch(/^ubuntu-\d+\.\d+$/);
      for (const step of (job.steps ?? []).filter((st: Yaml) => st.uses?.startsWith('actions/setup-node@'))) expect(step.with['node-version'], id).toBe(22);
    }
  });

  it("shows production's diff of the release's own assembly before the approval, from a read-only role", () => {
    const preview = release.jobs['preview-production'];
    expect(preview.uses).toBe('./.github/workflows/preview.yml');
    expect(preview.with).toEqual({ environment: 'production', release: '${{ needs.bake.outputs.release }}' });
    expect(needs(preview)).toEqual(expect.arrayContaining(['synth', 'deploy-staging']));
    expect(needs(release.jobs['deploy-production'])).toContain('preview-production');
    const job = workflows['preview.yml'].jobs.diff;
    // No GitHub environment, or its required reviewers would hold the diff too.
    expect(job.environment).toBeUndefined();
    const download = job.steps.find((st: Yaml) => String(st.uses).startsWith('actions/download-artifact@'));
    expect(download.with).toEqual({ name: 'cdk-out-${{ inputs.release }}', path: 'cdk.out' });
    const diff = job.steps.find((st: Yaml) => /cdk diff/.test(st.run ?? ''));
    expect(diff.run).toContain('npx cdk diff "$STACK" --app cdk.out --method template');
    expect(diff.run).toContain('>> "$GITHUB_STEP_SUMMARY"');
  });

  it("gives each environment its load balancer's URL and prints the fleet after the deploy", () => {
    const job = deploy.jobs.deploy;
    expect(job.environment.url).toBe('${{ steps.url.outputs.url }}');
    const url = job.steps.find((st: Yaml) => st.id === 'url');
    expect(url.run).toBe('bash scripts/environment-url.sh "$ENVIRONMENT" >> "$GITHUB_OUTPUT"');
    expect(url.if).toBe('always()');
    expect(job.steps.map((st: Yaml) => st.run ?? '')).toContain('npx greenlight status --env "$ENVIRONMENT" || true');
  });

  it('passes workflow values to scripts through env, never by ${{ }} inside a script', () => {
    const scripts = githubScripts();
    expect(scripts.length).toBeGreaterThan(5);
    for (const { where, script } of scripts) expect(script, where).not.toContain('${{');
  });

  it('offers a manual rollback per environment, to the previous or a named release, from its recorded assembly when kept', () => {
    const rollback = workflows['rollback.yml'];
    expect(rollback.on.workflow_dispatch.inputs.environment.options).toEqual(Object.keys(cdkContext().environments));
    expect(rollback.on.workflow_dispatch.inputs.release).toMatchObject({ required: false, type: 'string' });
    const job = rollback.jobs.rollback;
    expect(job.environment.name).toBe('${{ inputs.environment }}');
    const fetch = job.steps.find((st: Yaml) => String(st.uses).startsWith('actions/download-artifact@'));
    expect(fetch.with).toMatchObject({ name: 'cdk-out-${{ inputs.release }}', path: 'cdk.out', 'run-id': '${{ steps.assembly.outputs.run-id }}' });
    const last = job.steps.at(-1).run as string;
    expect(last).toContain('npx greenlight rollback "${args[@]}"');
    expect(last).toContain('args+=(--app-dir "$ASSEMBLY")');
  });
});

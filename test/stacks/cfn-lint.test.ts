// cfn-lint, AWS's template linter, on the template of every environment in cdk.json, each in its
// own region. Findings fail the test, apart from these, each with the reason it is accepted.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../lib/config/load';
import { cdkContext } from '../helpers/settings';
import { synthesize } from '../helpers/synth';

process.env.AWS_EC2_METADATA_DISABLED = 'true';

const IGNORED_RULES: Readonly<Record<string, string>> = {
  // Offline synth takes the zones from cdk.json's context, so the template names them by design.
  W3010: 'hard-coded availability zones',
  // aws-cdk-lib adds a DependsOn beside a GetAtt for its own roles and the gate's group; it is redundant, not wrong.
  W3005: 'redundant DependsOn',
};

/** Findings that are cfn-lint lagging CloudFormation, matched by rule and text, never by rule alone. */
const LAGGING_SCHEMA: ReadonlyArray<{ readonly rule: string; readonly text: RegExp; readonly why: string }> = [
  {
    rule: 'E3002',
    text: /^Additional properties are not allowed \('Tags' was unexpected\)$/,
    // CloudFormation documents Tags on AWS::ElasticLoadBalancingV2::Listener and aws-cdk-lib's L1 emits them; cfn-lint 1.51's schema predates them.
    why: 'listener Tags',
  },
];

/** cfn-lint loads its schemas on every start: about 10 s each on an idle 2-core machine, more under load. */
const LINT_TIMEOUT = 180_000;

const available = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' }).status === 0;
if (!available) console.warn("skipping cfn-lint: install it with `pip install cfn-lint` to lint the synthesized templates");

describe.skipIf(!available)('cfn-lint on every synthesized template', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'greenlight-cfn-lint-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const settings = loadSettings(cdkContext());
  const { templates } = synthesize({ release: 'r1' });

  it('covers every environment of cdk.json', () => {
    expect(Object.keys(templates).sort()).toEqual(Object.keys(settings.environments).map((env) => `${settings.app}-${env}`).sort());
  });

  /** cfn-lint's findings for one template, parsed. */
  function lint(name: string, template: unknown, region: string) {
    const file = path.join(dir, `${name}.json`);
    writeFileSync(file, JSON.stringify(template, null, 1));
    const run = spawnSync(
      'cfn-lint',
      ['--format', 'parseable', '--regions', region, '--ignore-checks', ...Object.keys(IGNORED_RULES), '--', file],
      { encoding: 'utf8', timeout: 120_000 },
    );
    expect(run.error).toBeUndefined();
    // file:line:col:endline:endcol:rule:message
    expect(run.stderr).toBe('');
    return run.stdout.split('\n').filter(Boolean).map((line) => {
      const [, , , , , rule, ...message] = line.slice(file.length).split(':');
      return { rule, message: message.join(':'), line };
    });
  }

  it('reports a real mistake, so a clean result means something', () => {
    const broken = { Resources: { Queue: { Type: 'AWS::SQS::Queue', Properties: { VisibilityTimeout: 'soon' } } } };
    expect(lint('broken', broken, 'eu-west-1').map((f) => f.rule)).toContain('E3012');
  }, LINT_TIMEOUT);

  it.each(Object.keys(settings.environments))('%s has no finding beyond the justified ones', (env) => {
    const findings = lint(env, templates[`${settings.app}-${env}`].toJSON(), settings.environments[env].region);
    const unexplained = findings.filter((f) => !LAGGING_SCHEMA.some((l) => l.rule === f.rule && l.text.test(f.message)));
    expect(unexplained.map((f) => f.line)).toEqual([]);
  }, LINT_TIMEOUT);
});

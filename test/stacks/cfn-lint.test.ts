// cfn-lint, AWS's template linter, on the template of every environment in cdk.json, each in its
// own region. Findings fail the test, apart from these, each with the reason it is accepted.
// cfn-lint loads its schemas on every start, so one run lints every template: each template names
// its own region in `Metadata.cfn-lint.config.regions`, which cfn-lint reads per template (a
// `--regions` on the command line would override it for all of them).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

/** One cfn-lint start loads its schemas: about 10 s on an idle 2-core machine, more under load. */
const LINT_TIMEOUT = 180_000;

/** A template cfn-lint must reject: a string where SQS wants seconds (E3012). Linted in a region no environment uses. */
const BROKEN = { Resources: { Queue: { Type: 'AWS::SQS::Queue', Properties: { VisibilityTimeout: 'soon' } } } };
const BROKEN_REGION = 'eu-west-3';

/**
 * Added to the copy of every template cfn-lint is given: a resource type that exists nowhere, which
 * cfn-lint reports with the region it checked the template in.
 */
const REGION_PROBE = 'GreenlightRegionProbe';
const regionProbeMessage = (region: string) => `Resource type 'AWS::Greenlight::RegionProbe' does not exist in '${region}'`;

interface Finding {
  readonly rule: string;
  readonly message: string;
  readonly line: string;
}

const available = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' }).status === 0;
if (!available) console.warn("skipping cfn-lint: install it with `pip install cfn-lint` to lint the synthesized templates");

describe.skipIf(!available)('cfn-lint on every synthesized template', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'greenlight-cfn-lint-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const settings = loadSettings(cdkContext());
  const { templates } = synthesize({ release: 'r1' });
  const environments = Object.keys(settings.environments);
  const stackOf = (env: string) => `${settings.app}-${env}`;
  /** cfn-lint's findings, parsed, by the template they are in: its stack's name, or `broken`. */
  const findings = new Map<string, Finding[]>();

  /** A copy of the template that tells cfn-lint its region, with the region probe; the synthesized one is shared and stays as it is. */
  const forLint = (template: Record<string, unknown>, region: string) => ({
    ...template,
    Metadata: { ...(template.Metadata as object | undefined), 'cfn-lint': { config: { regions: [region] } } },
    Resources: { ...(template.Resources as object), [REGION_PROBE]: { Type: 'AWS::Greenlight::RegionProbe' } },
  });
  /** Each template's findings, its region probe's taken out: that it was reported in the template's own region. */
  const linted = (name: string, region: string): Finding[] => {
    const all = findings.get(name)!;
    const probe = all.filter((f) => f.message === regionProbeMessage(region));
    expect(probe.map((f) => f.rule), `${name} linted in ${region}`).toEqual(['E3006']);
    return all.filter((f) => !probe.includes(f));
  };

  beforeAll(() => {
    const files = new Map<string, string>();
    const write = (name: string, template: Record<string, unknown>, region: string) => {
      const file = path.join(dir, `${name}.json`);
      writeFileSync(file, JSON.stringify(forLint(template, region), null, 1));
      files.set(file, name);
      findings.set(name, []);
    };
    write('broken', BROKEN, BROKEN_REGION);
    for (const env of environments) write(stackOf(env), templates[stackOf(env)].toJSON(), settings.environments[env].region);

    const run = spawnSync('cfn-lint', ['--format', 'parseable', '--ignore-checks', ...Object.keys(IGNORED_RULES), '--', ...files.keys()], {
      encoding: 'utf8',
      timeout: LINT_TIMEOUT - 10_000,
    });
    expect(run.error).toBeUndefined();
    expect(run.stderr).toBe('');
    // file:line:col:endline:endcol:rule:message
    for (const line of run.stdout.split('\n').filter(Boolean)) {
      const file = [...files.keys()].find((f) => line.startsWith(`${f}:`));
      expect(file, `a finding in no template cfn-lint was given: ${line}`).toBeDefined();
      const [, , , , , rule, ...message] = line.slice(file!.length).split(':');
      findings.get(files.get(file!)!)!.push({ rule, message: message.join(':'), line });
    }
  }, LINT_TIMEOUT);

  it('covers every environment of cdk.json', () => {
    expect(Object.keys(templates).sort()).toEqual(environments.map(stackOf).sort());
  });

  it('reports a real mistake, so a clean result means something', () => {
    expect(linted('broken', BROKEN_REGION).map((f) => f.rule)).toContain('E3012');
  });

  it.each(environments)('%s, linted in its own region, has no finding beyond the justified ones', (env) => {
    const unexplained = linted(stackOf(env), settings.environments[env].region).filter(
      (f) => !LAGGING_SCHEMA.some((l) => l.rule === f.rule && l.text.test(f.message)),
    );
    expect(unexplained.map((f) => f.line)).toEqual([]);
  });
});

// The standby on synthesized templates: a deploy with `-c standby=` keeps the outgoing release's
// probe, target group and fleet exactly as they were (same logical ids, same properties), so
// CloudFormation leaves them running; a switch back moves only the listener, after a gate of its own.
import { App } from 'aws-cdk-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../lib/app';
import { UserError } from '../../lib/errors';
import { cdkContext } from '../helpers/settings';
import { type Synthesized, synthesize } from '../helpers/synth';

process.env.AWS_EC2_METADATA_DISABLED = 'true';

const STAGING = 'greenlight-demo-staging';
const R1 = '2026.11.01-0a1b2c3';
const R2 = '2026.11.02-4d5e6f7';
const R3 = '2026.11.03-8a9b0c1';
const DEPLOY_TIME = '2026-11-22T10:00:00Z';

interface Resource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly DependsOn?: string[] | string;
}
type Resources = Record<string, Resource>;

const resourcesOf = (s: Synthesized): Resources => s.templates[STAGING].toJSON().Resources as Resources;
const idsOf = (resources: Resources, type: string): string[] => Object.keys(resources).filter((id) => resources[id].Type === type);
/** The release's own probe, target group, preview rule, launch template and group: `<Kind>-<release>/…` in the construct path. */
const releaseIds = (s: Synthesized, release: string, kinds = ['Capacity', 'Target', 'Fleet']): string[] =>
  Object.entries(s.paths[STAGING])
    .filter(([, p]) => kinds.some((k) => p.includes(`/${k}-${release}/`)))
    .map(([id]) => id)
    .sort();
const dependsOn = (r: Resource): string[] => [r.DependsOn ?? []].flat();
const listenerOf = (resources: Resources): Resource => {
  const [id] = idsOf(resources, 'AWS::ElasticLoadBalancingV2::Listener').filter((l) => resources[l].Properties?.Port === 80);
  return resources[id];
};
const groupOf = (s: Synthesized, release: string): string => {
  const resources = resourcesOf(s);
  const [id] = releaseIds(s, release, ['Fleet']).filter((g) => resources[g].Type === 'AWS::AutoScaling::AutoScalingGroup');
  return id;
};
const targetGroupOf = (s: Synthesized, release: string): string => {
  const resources = resourcesOf(s);
  const [id] = releaseIds(s, release, ['Target']).filter((t) => resources[t].Type === 'AWS::ElasticLoadBalancingV2::TargetGroup');
  return id;
};

let r1: Synthesized;
let r2: Synthesized;
let back: Synthesized;
let r3: Synthesized;
beforeAll(() => {
  // r1 without a standby: the synth of every environment, which traffic's tests share within a worker.
  r1 = synthesize({ release: R1 });
  r2 = synthesize({ env: 'staging', release: R2, standby: R1, deployTime: DEPLOY_TIME });
  back = synthesize({ env: 'staging', release: R1, standby: R2, deployTime: '2026-11-22T10:20:00Z', rollback: '20261122T102000Z' });
  r3 = synthesize({ env: 'staging', release: R3, standby: R2, deployTime: '2026-11-22T11:00:00Z' });
});

describe('a deploy that keeps the outgoing release as its standby', () => {
  it("keeps the outgoing release's probe, target group, rule and fleet with their logical ids and properties", () => {
    const ids = releaseIds(r1, R1);
    const types = ids.map((id) => resourcesOf(r1)[id].Type);
    expect(types).toEqual(
      expect.arrayContaining([
        'Custom::CapacityProbe',
        'AWS::ElasticLoadBalancingV2::TargetGroup',
        'AWS::ElasticLoadBalancingV2::ListenerRule',
        'AWS::EC2::LaunchTemplate',
        'AWS::AutoScaling::AutoScalingGroup',
      ]),
    );
    expect(releaseIds(r2, R1)).toEqual(ids);
    for (const id of ids) expect(resourcesOf(r2)[id], id).toEqual(resourcesOf(r1)[id]);
  });

  it('forwards the listener to the new release, after its gate', () => {
    const resources = resourcesOf(r2);
    const listener = listenerOf(resources);
    expect(listener.Properties?.DefaultActions).toEqual([{ Type: 'forward', TargetGroupArn: { Ref: targetGroupOf(r2, R2) } }]);
    const [gate] = idsOf(resources, 'Custom::HealthGate');
    expect(gate).toContain('Gate202611024d5e6f7');
    expect(dependsOn(listener)).toContain(gate);
  });

  it("drops the outgoing release's gate, smoke checks and bake", () => {
    expect(releaseIds(r1, R1, ['Gate', 'Smoke', 'Bake']).length).toBeGreaterThan(0);
    for (const id of releaseIds(r1, R1, ['Gate', 'Smoke', 'Bake'])) expect(resourcesOf(r2)[id], id).toBeUndefined();
  });

  it('scales the standby to zero at the deploy time plus the window, once the new release is live', () => {
    const resources = resourcesOf(r2);
    const actions = idsOf(resources, 'AWS::AutoScaling::ScheduledAction');
    expect(actions).toHaveLength(1);
    const action = resources[actions[0]];
    expect(action.Properties).toEqual({
      AutoScalingGroupName: { Ref: groupOf(r2, R1) },
      StartTime: '2026-11-22T11:00:00Z',
      MinSize: 0,
      DesiredCapacity: 0,
    });
    const [pointer] = idsOf(resources, 'AWS::SSM::Parameter').filter((p) => /LiveRelease/.test(p));
    expect(dependsOn(action)).toContain(pointer);
    expect(r2.templates[STAGING].toJSON().Outputs).toMatchObject({
      StandbyRelease: { Value: R1 },
      StandbyScalesToZeroAt: { Value: '2026-11-22T11:00:00Z' },
    });
  });

  it('removes any older release: the next deploy keeps only the new one and its standby', () => {
    for (const id of releaseIds(r2, R1)) expect(resourcesOf(r3)[id], id).toBeUndefined();
    for (const id of releaseIds(r2, R2)) expect(resourcesOf(r3)[id], id).toEqual(resourcesOf(r2)[id]);
    expect(idsOf(resourcesOf(r3), 'AWS::AutoScaling::AutoScalingGroup').sort()).toEqual([groupOf(r3, R2), groupOf(r3, R3)].sort());
  });

  it('sizes a standby with a set capacity to it, and never below', () => {
    const context = cdkContext();
    const environments = { ...context.environments, staging: { ...context.environments.staging, standby: { window: 3600, capacity: 1 } } };
    const small = synthesize({ env: 'staging', release: R2, standby: R1, deployTime: DEPLOY_TIME, environments });
    expect(resourcesOf(small)[groupOf(small, R1)].Properties).toMatchObject({ MinSize: '1', DesiredCapacity: '1' });
  });
});

describe('a switch back to the standby', () => {
  it('keeps both fleets and target groups as they were, and moves the listener to the standby', () => {
    for (const release of [R1, R2]) {
      const ids = releaseIds(r2, release);
      expect(releaseIds(back, release)).toEqual(ids);
      for (const id of ids) expect(resourcesOf(back)[id], id).toEqual(resourcesOf(r2)[id]);
    }
    expect(listenerOf(resourcesOf(back)).Properties?.DefaultActions).toEqual([
      { Type: 'forward', TargetGroupArn: { Ref: targetGroupOf(back, R1) } },
    ]);
  });

  it('moves the listener only after a gate that is new for this rollback', () => {
    const resources = resourcesOf(back);
    const [gate] = idsOf(resources, 'Custom::HealthGate');
    expect(gate).toMatch(/Gate202611010a1b2c3rollback20261122T102000Z/);
    expect(Object.keys(resourcesOf(r1))).not.toContain(gate);
    expect(resources[gate].Properties).toMatchObject({ GroupName: { Ref: groupOf(back, R1) }, Release: R1 });
    expect(dependsOn(listenerOf(resources))).toContain(gate);
    const again = synthesize({ env: 'staging', release: R1, standby: R2, deployTime: '2026-11-22T10:40:00Z', rollback: '20261122T104000Z' });
    expect(idsOf(resourcesOf(again), 'Custom::HealthGate')).not.toContain(gate);
  });

  it('takes the scale-to-zero off the release that serves again, and puts it on the new standby', () => {
    const resources = resourcesOf(back);
    const actions = idsOf(resources, 'AWS::AutoScaling::ScheduledAction');
    expect(actions).toHaveLength(1);
    expect(resources[actions[0]].Properties).toMatchObject({ AutoScalingGroupName: { Ref: groupOf(back, R2) }, StartTime: '2026-11-22T11:20:00Z' });
  });
});

describe('the standby context', () => {
  const build = (extra: Record<string, unknown>) => () => buildApp(new App(), { ...cdkContext(), release: R2, ...extra });

  it('says in one line that a deploy without a standby deletes the outgoing release', () => {
    const infos = (s: Synthesized) => s.messages[STAGING].filter((m) => m.level === 'info').map((m) => m.text);
    const line = /^no -c standby=<release>: the outgoing release is deleted after the cutover/;
    expect(infos(synthesize({ release: R2 })).filter((text) => line.test(text))).toHaveLength(1);
    expect(infos(r2).filter((text) => line.test(text))).toEqual([]);
  });

  it.each([
    ['the release itself', { env: 'staging', standby: R2, deployTime: DEPLOY_TIME }, `-c standby=${R2}: the standby must be another release than -c release=${R2}`],
    ['no environment', { standby: R1, deployTime: DEPLOY_TIME }, `-c standby=${R1}: name the environment it stands by in, with -c env=<name>`],
    ['a bad release id', { env: 'staging', standby: 'r 1', deployTime: DEPLOY_TIME }, '-c standby=r 1: not a valid release id'],
    ['no deploy time', { env: 'staging', standby: R1 }, `-c standby=${R1}: -c deployTime=<UTC time> is required`],
    ['a local deploy time', { env: 'staging', standby: R1, deployTime: '2026-11-22 10:00' }, '-c deployTime=2026-11-22 10:00: not a UTC time'],
    ['a rollback id with a slash', { env: 'staging', standby: R1, deployTime: DEPLOY_TIME, rollback: 'a/b' }, '-c rollback=a/b: not a rollback id'],
  ])('refuses %s', (_name, extra, message) => {
    expect(build(extra)).toThrow(UserError);
    expect(build(extra)).toThrow(message);
  });

  it('refuses a standby in an environment that keeps none', () => {
    const context = cdkContext();
    const { standby: _off, ...staging } = context.environments.staging;
    expect(build({ env: 'staging', standby: R1, deployTime: DEPLOY_TIME, environments: { ...context.environments, staging } })).toThrow(
      `-c standby=${R1}: environment staging keeps no standby; set environments.staging.standby in cdk.json`,
    );
  });

  it('refuses a standby switched off by name, not as one the environment keeps none of', () => {
    const context = cdkContext();
    const staging = { ...context.environments.staging, standby: { ...(context.environments.staging.standby as object), enabled: false } };
    expect(build({ env: 'staging', standby: R1, deployTime: DEPLOY_TIME, environments: { ...context.environments, staging } })).toThrow(
      `-c standby=${R1}: environment staging has its standby switched off (environments.staging.standby.enabled is false); ` +
        'set it to true in cdk.json, or deploy without -c standby',
    );
  });

  it('refuses a deploy time whose standby would scale to zero in the past, given the clock of the synth', () => {
    // staging: standby.window 3600 s; gate 900 s + bake 60 s + 300 s make a deploy of up to 1260 s.
    const now = new Date('2026-11-22T12:00:00Z');
    expect(build({ env: 'staging', standby: R1, deployTime: DEPLOY_TIME, now })).toThrow(
      '-c deployTime=2026-11-22T10:00:00Z: the standby would scale to zero at 2026-11-22T11:00:00Z, in the past; ' +
        'it is now 2026-11-22T12:00:00Z: pass the time this deploy starts, as greenlight deploy does',
    );
    expect(build({ env: 'staging', standby: R1, deployTime: '2026-11-22T11:10:00Z', now })).toThrow(
      'the standby would scale to zero at 2026-11-22T12:10:00Z, before this deploy can be over (it may take 1260s)',
    );
    expect(build({ env: 'staging', standby: R1, deployTime: '2026-11-22T11:59:00Z', now })).not.toThrow();
    // A window at its least (the longest deploy) synthesized minutes after the start it was given.
    const context = cdkContext();
    const tight = { ...context.environments.staging, standby: { window: 1260, capacity: 'full' } };
    const environments = { ...context.environments, staging: tight };
    expect(build({ env: 'staging', standby: R1, deployTime: '2026-11-22T11:56:00Z', now, environments })).not.toThrow();
    expect(build({ env: 'staging', standby: R1, deployTime: '2026-11-22T11:54:00Z', now, environments })).toThrow(
      'the standby would scale to zero at 2026-11-22T12:15:00Z, before this deploy can be over (it may take 1260s)',
    );
  });

  it('refuses a top-level context key in greenlight\'s style that it does not read, and leaves the CDK\'s own alone', () => {
    const keys = ['app', 'appSorce', 'environments', '@aws-cdk/core:newStyleStackSynthesis', 'acknowledged-issue-numbers', 'aws:cdk:enable-path-metadata'];
    expect(build({ contextKeys: keys })).toThrow(
      'appSorce: unknown setting (did you mean appSource?); greenlight reads app, appSource, environments from the context and ' +
        '-c env=, -c release=, -c ami=, -c standby=, -c deployTime=, -c rollback= from the command line',
    );
    expect(build({ contextKeys: keys.filter((k) => k !== 'appSorce') })).not.toThrow();
  });
});

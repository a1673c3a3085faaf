// Blue/green at the traffic layer, checked on synthesized templates: each release gets its own
// target group and preview rule, the listener moves to it only after the gate and the smoke checks,
// the bake follows the cutover, and a stack of the shared-target-group model upgrades in one deploy.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Synthesized, synthesize } from '../helpers/synth';

process.env.AWS_EC2_METADATA_DISABLED = 'true';

const STAGING = 'greenlight-demo-staging';
const PRODUCTION = 'greenlight-demo-production';

interface Resource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly DependsOn?: string[] | string;
}
type Resources = Record<string, Resource>;

const resourcesOf = (s: Synthesized, stack: string): Resources => s.templates[stack].toJSON().Resources as Resources;

/** Every logical id a value refers to through Ref, Fn::GetAtt or Fn::Sub. */
function references(value: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const v of value) references(v, out);
  else if (value && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      if (key === 'Ref' && typeof v === 'string') out.add(v);
      else if (key === 'Fn::GetAtt') out.add(Array.isArray(v) ? String(v[0]) : String(v).split('.')[0]);
      else if (key === 'Fn::Sub') for (const m of JSON.stringify(v).matchAll(/\$\{([A-Za-z0-9]+)[.}]/g)) out.add(m[1]);
      else references(v, out);
    }
  }
  return out;
}

/** What CloudFormation must finish before it creates or updates `id`: DependsOn and every reference. */
const directDependencies = (resources: Resources, id: string): Set<string> => {
  const r = resources[id];
  const deps = references(r.Properties);
  for (const d of [r.DependsOn ?? []].flat()) deps.add(d);
  return new Set([...deps].filter((d) => d in resources));
};

/** Every resource `id` waits for, directly or through others. */
function waitsFor(resources: Resources, id: string): Set<string> {
  const seen = new Set<string>();
  const stack = [id];
  while (stack.length > 0) {
    for (const d of directDependencies(resources, stack.pop() as string)) {
      if (!seen.has(d)) {
        seen.add(d);
        stack.push(d);
      }
    }
  }
  return seen;
}

const idsOf = (resources: Resources, type: string): string[] => Object.keys(resources).filter((id) => resources[id].Type === type);
const one = (resources: Resources, type: string): string => {
  const ids = idsOf(resources, type);
  expect(ids, type).toHaveLength(1);
  return ids[0];
};
const listenerOnPort = (resources: Resources, port: number): string => {
  const found = idsOf(resources, 'AWS::ElasticLoadBalancingV2::Listener').filter((id) => resources[id].Properties?.Port === port);
  expect(found, `listener on ${port}`).toHaveLength(1);
  return found[0];
};

let r1: Synthesized;
let r2: Synthesized;
beforeAll(() => {
  r1 = synthesize({ release: '2026.11.01-0a1b2c3' });
  r2 = synthesize({ release: '2026.11.02-4d5e6f7' });
});

describe('a release at the traffic layer', () => {
  it.each([
    ['staging', STAGING, ['Custom::HealthGate', 'Custom::SmokeCheck', 'Custom::BakeWindow']],
    ['production', PRODUCTION, ['Custom::HealthGate']],
  ])('in %s gives each release its own target group, preview rule and phases', (_env, stack, phases) => {
    const before = resourcesOf(r1, stack);
    const after = resourcesOf(r2, stack);
    for (const type of [
      'AWS::ElasticLoadBalancingV2::TargetGroup',
      'AWS::ElasticLoadBalancingV2::ListenerRule',
      'AWS::AutoScaling::AutoScalingGroup',
      ...phases,
    ]) {
      const [old] = idsOf(before, type);
      const [incoming] = idsOf(after, type);
      expect(old, type).toMatch(/202611010a1b2c3/);
      expect(incoming, type).toMatch(/202611024d5e6f7/);
      expect(idsOf(after, type), type).toEqual([incoming]);
    }
    // The load balancer and its listeners are the same resources in both.
    for (const type of ['AWS::ElasticLoadBalancingV2::LoadBalancer', 'AWS::ElasticLoadBalancingV2::Listener']) {
      expect(idsOf(after, type).sort()).toEqual(idsOf(before, type).sort());
    }
  });

  it("attaches the release's group to its own target group and to nothing else", () => {
    const resources = resourcesOf(r2, STAGING);
    const group = resources[one(resources, 'AWS::AutoScaling::AutoScalingGroup')];
    expect(group.Properties?.TargetGroupARNs).toEqual([{ Ref: one(resources, 'AWS::ElasticLoadBalancingV2::TargetGroup') }]);
  });

  it('routes the preview header to the release on the preview listener, at a priority the probe picked', () => {
    const resources = resourcesOf(r2, STAGING);
    const rule = resources[one(resources, 'AWS::ElasticLoadBalancingV2::ListenerRule')];
    const probe = one(resources, 'Custom::CapacityProbe');
    const preview = listenerOnPort(resources, 8080);
    expect(rule.Properties).toMatchObject({
      ListenerArn: { Ref: preview },
      Priority: { 'Fn::GetAtt': [probe, 'PreviewPriority'] },
      // Created matching no request: the release's PreviewKey writes its key into the rule.
      Conditions: [
        { Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: 'X-Greenlight-Release', Values: ['2026.11.02-4d5e6f7'] } },
        { Field: 'source-ip', SourceIpConfig: { Values: ['255.255.255.255/32'] } },
      ],
      Actions: [{ Type: 'forward', TargetGroupArn: { Ref: one(resources, 'AWS::ElasticLoadBalancingV2::TargetGroup') } }],
    });
    expect(resources[probe].Properties).toMatchObject({ ListenerArn: { Ref: preview }, Release: '2026.11.02-4d5e6f7' });
    // The group waits for the rule, so its targets are health-checked from the first instance on.
    expect(waitsFor(resources, one(resources, 'AWS::AutoScaling::AutoScalingGroup'))).toContain(
      one(resources, 'AWS::ElasticLoadBalancingV2::ListenerRule'),
    );
  });

  it('takes a configured preview header', () => {
    const context = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'cdk.json'), 'utf8')).context;
    const custom = synthesize({
      release: '2026.11.02-4d5e6f7',
      environments: { ...context.environments, staging: { ...context.environments.staging, preview: { header: 'X-Canary' } } },
    });
    const header = (s: Synthesized) => {
      const resources = resourcesOf(s, STAGING);
      return (resources[one(resources, 'AWS::ElasticLoadBalancingV2::ListenerRule')].Properties?.Conditions as { HttpHeaderConfig: unknown }[])[0]
        .HttpHeaderConfig;
    };
    expect(header(r2)).toEqual({ HttpHeaderName: 'X-Greenlight-Release', Values: ['2026.11.02-4d5e6f7'] });
    expect(header(custom)).toEqual({ HttpHeaderName: 'X-Canary', Values: ['2026.11.02-4d5e6f7'] });
  });

  it.each([
    [STAGING, 80],
    [PRODUCTION, 443],
  ])('in %s runs gate, smoke, cutover, bake and live pointer in that order', (stack, port) => {
    const resources = resourcesOf(r2, stack);
    const listener = listenerOnPort(resources, port);
    const gate = one(resources, 'Custom::HealthGate');
    const pointer = one(resources, 'AWS::SSM::Parameter');
    const smoke = idsOf(resources, 'Custom::SmokeCheck')[0];
    const bake = idsOf(resources, 'Custom::BakeWindow')[0];
    const chain = [gate, smoke, listener, bake, pointer].filter((id): id is string => id !== undefined);
    if (stack === STAGING) expect(chain).toHaveLength(5);
    // Each step waits for the one before it, and never the other way round.
    for (let i = 1; i < chain.length; i++) {
      expect(waitsFor(resources, chain[i]), `${chain[i]} after ${chain[i - 1]}`).toContain(chain[i - 1]);
      expect(waitsFor(resources, chain[i - 1]), `${chain[i - 1]} before ${chain[i]}`).not.toContain(chain[i]);
    }
    // The cutover is the listener's own default action, naming the release's target group.
    expect(resources[listener].Properties?.DefaultActions).toEqual([
      { Type: 'forward', TargetGroupArn: { Ref: one(resources, 'AWS::ElasticLoadBalancingV2::TargetGroup') } },
    ]);
  });

  it.each([STAGING, PRODUCTION])('in %s has no path to the new instances before the gate completes but the preview header', (stack) => {
    const resources = resourcesOf(r2, stack);
    const targetGroup = one(resources, 'AWS::ElasticLoadBalancingV2::TargetGroup');
    const gate = one(resources, 'Custom::HealthGate');
    const routes = Object.keys(resources).filter(
      (id) => resources[id].Type.startsWith('AWS::ElasticLoadBalancingV2::Listener') && references(resources[id].Properties).has(targetGroup),
    );
    expect(routes.length).toBe(2);
    for (const id of routes) {
      const r = resources[id];
      if (waitsFor(resources, id).has(gate)) continue;
      // The only route that exists before the gate: a rule matching the header with the release id,
      // and until its key is written into it, no source at all.
      expect(r.Type, id).toBe('AWS::ElasticLoadBalancingV2::ListenerRule');
      expect(r.Properties?.Conditions, id).toEqual([
        { Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: 'X-Greenlight-Release', Values: ['2026.11.02-4d5e6f7'] } },
        { Field: 'source-ip', SourceIpConfig: { Values: ['255.255.255.255/32'] } },
      ]);
    }
    // Instances admit only the load balancer, so nothing bypasses it.
    const instanceSg = Object.keys(resources).find((id) => String(resources[id].Properties?.GroupDescription).startsWith('Release instances'));
    const ingress = Object.values(resources).filter(
      (r) => r.Type === 'AWS::EC2::SecurityGroupIngress' && JSON.stringify(r.Properties?.GroupId).includes(String(instanceSg)),
    );
    expect(ingress).toHaveLength(1);
    expect(JSON.stringify(ingress[0].Properties?.SourceSecurityGroupId)).toContain('LoadBalancerAlbSecurityGroup');
  });

  it('publishes the DNS name, the live release, the release target group and the preview URL', () => {
    const outputs = r2.templates[STAGING].toJSON().Outputs as Record<string, { Value: unknown }>;
    const resources = resourcesOf(r2, STAGING);
    expect(outputs.LoadBalancerDnsName.Value).toEqual({ 'Fn::GetAtt': [one(resources, 'AWS::ElasticLoadBalancingV2::LoadBalancer'), 'DNSName'] });
    expect(outputs.LiveReleaseId.Value).toBe('2026.11.02-4d5e6f7');
    expect(outputs.ReleaseTargetGroup.Value).toEqual({ Ref: one(resources, 'AWS::ElasticLoadBalancingV2::TargetGroup') });
    expect(JSON.stringify(outputs.PreviewUrl.Value)).toContain(':8080/');
  });

  it("passes the smoke checks the preview listener's URL, the header and the paths", () => {
    const resources = resourcesOf(r2, STAGING);
    const smoke = resources[one(resources, 'Custom::SmokeCheck')];
    expect(smoke.Properties).toMatchObject({
      Release: '2026.11.02-4d5e6f7',
      Header: 'X-Greenlight-Release',
      Paths: ['/'],
      ExpectedStatuses: '200',
      TimeoutSeconds: 10,
      ResultParameter: '/greenlight/greenlight-demo/staging/smoke/2026.11.02-4d5e6f7',
    });
    expect(JSON.stringify(smoke.Properties?.BaseUrl)).toMatch(/"http:\/\/".*DNSName.*":8080"/);
  });

  it("passes the bake the release target group's metric dimensions and the policy", () => {
    const resources = resourcesOf(r2, STAGING);
    const bake = resources[one(resources, 'Custom::BakeWindow')];
    const targetGroup = one(resources, 'AWS::ElasticLoadBalancingV2::TargetGroup');
    expect(bake.Properties).toMatchObject({
      Release: '2026.11.02-4d5e6f7',
      LoadBalancer: { 'Fn::GetAtt': [one(resources, 'AWS::ElasticLoadBalancingV2::LoadBalancer'), 'LoadBalancerFullName'] },
      TargetGroup: { 'Fn::GetAtt': [targetGroup, 'TargetGroupFullName'] },
      TargetGroupArn: { Ref: targetGroup },
      DurationSeconds: 60,
      SettleSeconds: 180,
      MaxErrorRate: 1,
      MaxErrors: 0,
      Alarms: [],
      ProgressParameter: '/greenlight/greenlight-demo/staging/bake/2026.11.02-4d5e6f7',
    });
  });
});

describe('upgrading a stack of the shared-target-group model', () => {
  const fixture = (stack: string): Resources =>
    JSON.parse(readFileSync(path.join(__dirname, '..', 'fixtures', 'shared-target-group', `${stack}.template.json`), 'utf8')).Resources;

  it.each([
    [STAGING, 80],
    [PRODUCTION, 443],
  ])('%s keeps its load balancer and listeners, and switches only after the gate', (stack, port) => {
    const old = fixture(stack);
    const next = resourcesOf(r2, stack);
    const oldListener = listenerOnPort(old, port);
    const sharedTargetGroup = one(old, 'AWS::ElasticLoadBalancingV2::TargetGroup');
    const oldGroup = one(old, 'AWS::AutoScaling::AutoScalingGroup');
    // The fixture is the earlier model: the listener serves the shared group, which the release's group joins.
    expect(old[oldListener].Properties?.DefaultActions).toEqual([{ Type: 'forward', TargetGroupArn: { Ref: sharedTargetGroup } }]);
    expect(old[oldGroup].Properties?.TargetGroupARNs).toEqual([{ Ref: sharedTargetGroup }]);

    // Same load balancer and listeners: updated in place, never replaced.
    expect(idsOf(next, 'AWS::ElasticLoadBalancingV2::LoadBalancer')).toEqual(idsOf(old, 'AWS::ElasticLoadBalancingV2::LoadBalancer'));
    for (const id of idsOf(old, 'AWS::ElasticLoadBalancingV2::Listener')) {
      expect(next[id]?.Type, id).toBe('AWS::ElasticLoadBalancingV2::Listener');
      expect(next[id].Properties?.Port).toBe(old[id].Properties?.Port);
    }
    // The shared target group and the old group are left to the cleanup phase: absent from the new
    // template and referred to by nothing in it.
    expect(next[sharedTargetGroup]).toBeUndefined();
    expect(next[oldGroup]).toBeUndefined();
    for (const [id, r] of Object.entries(next)) {
      expect(references(r.Properties).has(sharedTargetGroup), id).toBe(false);
    }
    // The listener's update, the moment the old group stops taking new requests, waits for the gate.
    expect(waitsFor(next, oldListener)).toContain(one(next, 'Custom::HealthGate'));
  });
});

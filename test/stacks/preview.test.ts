// The closed preview in the synthesized templates: the preview port admits nobody from the
// internet by default, only the NAT gateways the smoke checks leave through and the CIDRs of
// preview.allowedCidrs; each release's rule is created matching nothing, and its PreviewKey writes
// a key into it that the smoke checks read; the preview listener's 404 says nothing of how.
import { describe, expect, it } from 'vitest';
import { loadSettings } from '../../lib/config/load';
import { cdkContext } from '../helpers/settings';
import { type Synthesized, synthesize } from '../helpers/synth';

type Resource = { Type: string; Properties?: Record<string, unknown>; DependsOn?: string | string[] };
type Resources = Record<string, Resource>;

const STACKS = { staging: 'greenlight-demo-staging', production: 'greenlight-demo-production' } as const;
const PREVIEW_PORT = { staging: 8080, production: 8443 } as const;
const SERVING_PORT = { staging: 80, production: 443 } as const;
const RELEASE = '2026.11.02-4d5e6f7';
const STANDBY = '2026.11.01-0a1b2c3';

const resourcesOf = (s: Synthesized, stack: string): Resources => s.templates[stack].toJSON().Resources as Resources;
const ofType = (resources: Resources, type: string): Array<[string, Resource]> => Object.entries(resources).filter(([, r]) => r.Type === type);

/** Every inbound rule of the load balancer's security group: inline and as separate resources. */
function albIngress(resources: Resources): Array<Record<string, unknown>> {
  const [[albSg, sg]] = ofType(resources, 'AWS::EC2::SecurityGroup').filter(([id]) => id.startsWith('LoadBalancerAlbSecurityGroup'));
  const inline = (sg.Properties?.SecurityGroupIngress as Array<Record<string, unknown>> | undefined) ?? [];
  const separate = ofType(resources, 'AWS::EC2::SecurityGroupIngress')
    .filter(([, r]) => JSON.stringify(r.Properties?.GroupId).includes(albSg))
    .map(([, r]) => r.Properties as Record<string, unknown>);
  return [...inline, ...separate];
}

function withEnvironment(env: 'staging' | 'production', change: Record<string, unknown>): Synthesized {
  const context = cdkContext();
  return synthesize({ release: RELEASE, environments: { ...context.environments, [env]: { ...context.environments[env], ...change } } });
}

describe('the closed preview', () => {
  const synthesized = synthesize({ release: RELEASE });

  it.each(['staging', 'production'] as const)('in %s, the preview port admits no 0.0.0.0/0; the serving port does', (env) => {
    const ingress = albIngress(resourcesOf(synthesized, STACKS[env]));
    const onPort = (port: number) => ingress.filter((r) => r.FromPort === port);
    expect(onPort(SERVING_PORT[env]).map((r) => r.CidrIp)).toContain('0.0.0.0/0');
    for (const rule of onPort(PREVIEW_PORT[env])) {
      expect(rule.CidrIp, JSON.stringify(rule)).not.toBe('0.0.0.0/0');
      expect(rule.CidrIpv6, JSON.stringify(rule)).toBeUndefined();
    }
  });

  it("admits each NAT gateway's address on the preview port where smoke checks leave through them, and nothing where none run", () => {
    // Production has no smoke checks and no preview.allowedCidrs: its preview port admits nobody.
    expect(albIngress(resourcesOf(synthesized, STACKS.production)).filter((r) => r.FromPort === PREVIEW_PORT.production)).toEqual([]);
    const env = 'staging';
    const resources = resourcesOf(synthesized, STACKS[env]);
    const eips = ofType(resources, 'AWS::EC2::EIP').map(([id]) => id).sort();
    expect(eips.length).toBe(loadSettings(cdkContext()).environments[env].vpc.maxAzs);
    const fromNat = albIngress(resources)
      .filter((r) => r.FromPort === PREVIEW_PORT[env])
      .map((r) => JSON.stringify(r.CidrIp ?? null))
      .filter((cidr) => eips.some((id) => cidr.includes(`{"Ref":"${id}"}`)));
    expect(fromNat.map((cidr) => eips.find((id) => cidr.includes(id))).sort()).toEqual(eips);
  });

  it('admits preview.allowedCidrs on the preview port only', () => {
    const resources = resourcesOf(withEnvironment('staging', { preview: { allowedCidrs: ['203.0.113.0/24', '198.51.100.7/32'] } }), STACKS.staging);
    const cidrs = albIngress(resources).filter((r) => typeof r.CidrIp === 'string' && r.CidrIp !== '0.0.0.0/0');
    expect(cidrs.map((r) => [r.CidrIp, r.FromPort]).sort()).toEqual([
      ['198.51.100.7/32', 8080],
      ['203.0.113.0/24', 8080],
    ]);
  });

  it("answers anything else on the preview listener with a 404 that names no header", () => {
    for (const env of ['staging', 'production'] as const) {
      const resources = resourcesOf(synthesized, STACKS[env]);
      const [[, listener]] = ofType(resources, 'AWS::ElasticLoadBalancingV2::Listener').filter(([, r]) => r.Properties?.Port === PREVIEW_PORT[env]);
      expect(listener.Properties?.DefaultActions).toEqual([
        { Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404', ContentType: 'text/plain', MessageBody: 'not found' } },
      ]);
    }
  });

  it('keys each release: its PreviewKey names its rule and key parameter, and the smoke checks read that key after it', () => {
    const resources = resourcesOf(synthesized, STACKS.staging);
    const [[ruleId]] = ofType(resources, 'AWS::ElasticLoadBalancingV2::ListenerRule');
    const [[keyId, key]] = ofType(resources, 'Custom::PreviewKey');
    expect(key.Properties).toMatchObject({
      ParameterName: `/greenlight/greenlight-demo/staging/preview/${RELEASE}`,
      RuleArn: { Ref: ruleId },
      Header: 'X-Greenlight-Release',
      Release: RELEASE,
    });
    const [[, smoke]] = ofType(resources, 'Custom::SmokeCheck');
    expect(smoke.Properties?.KeyParameter).toBe(`/greenlight/greenlight-demo/staging/preview/${RELEASE}`);
    expect([smoke.DependsOn ?? []].flat()).toContain(keyId);
    // No rule in any template names the key's header: the key is written at deploy time only.
    for (const stack of Object.values(STACKS)) expect(JSON.stringify(synthesized.templates[stack].toJSON())).not.toContain('X-Greenlight-Preview-Key');
  });

  it("grants the key's function its path and the rules, and the smoke checks a read of the keys", () => {
    const resources = resourcesOf(synthesized, STACKS.staging);
    const statements = ofType(resources, 'AWS::IAM::Policy').flatMap(([, p]) => (p.Properties?.PolicyDocument as { Statement: Array<Record<string, unknown>> }).Statement);
    const sid = (name: string) => statements.filter((st) => st.Sid === name);
    expect(sid('KeepPreviewKeys').map((st) => [st.Action, JSON.stringify(st.Resource)])).toEqual([
      [['ssm:DeleteParameter', 'ssm:PutParameter'], expect.stringContaining(':parameter/greenlight/greenlight-demo/staging/preview/*')],
    ]);
    expect(sid('KeyPreviewRules').map((st) => [st.Action, JSON.stringify(st.Resource)])).toEqual([
      ['elasticloadbalancing:ModifyRule', expect.stringMatching(/:listener-rule\/",\{"Fn::GetAtt":\["LoadBalancerAlb[0-9A-F]+","LoadBalancerFullName"\]\},"\/\*\/\*"/)],
    ]);
    expect(sid('ReadPreviewKeys').map((st) => [st.Action, JSON.stringify(st.Resource)])).toEqual([
      ['ssm:GetParameter', expect.stringContaining(':parameter/greenlight/greenlight-demo/staging/preview/*')],
    ]);
  });

  it("keeps the standby's key with its rule, so a deploy that keeps a standby deletes neither", () => {
    const resources = resourcesOf(synthesize({ env: 'staging', release: RELEASE, standby: STANDBY, deployTime: '2026-11-22T00:00:00Z' }), STACKS.staging);
    const keys = ofType(resources, 'Custom::PreviewKey').map(([, r]) => r.Properties?.Release).sort();
    expect(keys).toEqual([STANDBY, RELEASE].sort());
  });
});

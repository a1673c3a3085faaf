// Progressive traffic on synthesized templates: the step resource sits between the smoke checks
// (and the scaling hold) and the cutover, its role may modify only the load balancer's listeners,
// and a weighted forward appears only through it, never in the template. A switch back to a
// standby stays all at once.
import { describe, expect, it } from 'vitest';
import { synthesize } from '../helpers/synth';

process.env.AWS_EC2_METADATA_DISABLED = 'true';

const PRODUCTION = 'greenlight-demo-production';
const STAGING = 'greenlight-demo-staging';

interface Resource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly DependsOn?: string[] | string;
}
type Resources = Record<string, Resource>;

const resourcesOf = (stack: string, overrides: Parameters<typeof synthesize>[0] = { release: '2026.11.02-4d5e6f7' }): Resources =>
  synthesize(overrides).templates[stack].toJSON().Resources as Resources;

const idsOf = (resources: Resources, type: string): string[] => Object.keys(resources).filter((id) => resources[id].Type === type);

/** Every logical id `id` waits for through DependsOn, Ref and Fn::GetAtt, directly or through others. */
function waitsFor(resources: Resources, id: string): Set<string> {
  const direct = (r: Resource): string[] => {
    const refs = [...JSON.stringify(r.Properties ?? {}).matchAll(/"(?:Ref|Fn::GetAtt)":\s*\[?"([A-Za-z0-9]+)/g)].map((m) => m[1]);
    return [...refs, ...[r.DependsOn ?? []].flat()].filter((d) => d in resources);
  };
  const seen = new Set<string>();
  const todo = [id];
  while (todo.length > 0) {
    for (const d of direct(resources[todo.pop() as string])) if (!seen.has(d)) todo.push(d), seen.add(d);
  }
  return seen;
}

describe('progressive traffic in the template', () => {
  it('production, whose example configuration has steps, runs gate, hold, steps, cutover, pointer in that order', () => {
    const resources = resourcesOf(PRODUCTION);
    const [steps] = idsOf(resources, 'Custom::TrafficSteps');
    expect(idsOf(resources, 'Custom::TrafficSteps')).toHaveLength(1);
    expect(steps).toMatch(/202611024d5e6f7/);
    const [gate] = idsOf(resources, 'Custom::HealthGate');
    const [hold] = idsOf(resources, 'Custom::ScalingHold');
    const [pointer] = idsOf(resources, 'AWS::SSM::Parameter');
    const listener = idsOf(resources, 'AWS::ElasticLoadBalancingV2::Listener').find((id) => resources[id].Properties?.Port === 443) as string;
    const chain = [gate, hold, steps, listener, pointer];
    for (const id of chain) expect(id).toBeDefined();
    for (let i = 1; i < chain.length; i++) {
      expect(waitsFor(resources, chain[i]), `${chain[i]} after ${chain[i - 1]}`).toContain(chain[i - 1]);
      expect(waitsFor(resources, chain[i - 1]), `${chain[i - 1]} before ${chain[i]}`).not.toContain(chain[i]);
    }
    expect(resources[steps].Properties).toMatchObject({
      Release: '2026.11.02-4d5e6f7',
      ListenerPort: 443,
      Steps: [10],
      StepDurationSeconds: 300,
      MaxExtensionSeconds: 120,
      SettleSeconds: 180,
      StickinessSeconds: 3600,
      OnTooFewRequests: 'fail',
      ProgressParameter: '/greenlight/greenlight-demo/production/traffic/2026.11.02-4d5e6f7',
      // One step of 300 s, 180 s for late metrics, up to 120 s of extension, 300 s to give up on
      // figures out of reach, one more poll of 30 s and 120 s to report.
      ServiceTimeout: '1050',
    });
  });

  it('a staging without traffic keeps the cutover all at once', () => {
    expect(idsOf(resourcesOf(STAGING), 'Custom::TrafficSteps')).toEqual([]);
  });

  it('a weighted forward appears only through the step resource, never in the template', () => {
    const template = JSON.stringify(resourcesOf(PRODUCTION));
    expect(template).not.toContain('ForwardConfig');
    expect(template).not.toContain('"Weight"');
  });

  it("the step resource's role may modify only the load balancer's listeners, and calls nothing else that writes", () => {
    const resources = resourcesOf(PRODUCTION);
    const role = Object.keys(resources).find(
      (id) => resources[id].Type === 'AWS::IAM::Role' && String(resources[id].Properties?.Description).startsWith('greenlight traffic'),
    ) as string;
    expect(role).toBeDefined();
    const statements = Object.values(resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties?.Roles) === JSON.stringify([{ Ref: role }]))
      .flatMap((r) => (r.Properties?.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] }).Statement);
    const actions = statements.flatMap((s) => [s.Action].flat());
    const [lb] = idsOf(resources, 'AWS::ElasticLoadBalancingV2::LoadBalancer');
    const modify = statements.filter((s) => [s.Action].flat().includes('elasticloadbalancing:ModifyListener'));
    expect(modify).toHaveLength(1);
    expect([modify[0].Action].flat()).toEqual(['elasticloadbalancing:ModifyListener']);
    const scope = JSON.stringify(modify[0].Resource);
    expect(scope).toContain(':listener/');
    expect(scope).toContain(`"Fn::GetAtt":["${lb}","LoadBalancerFullName"]`);
    expect(scope).not.toBe('"*"');
    // Everything else is a read, the progress parameter, or the function's own logs.
    const writes = actions.filter((a) => !/^(cloudwatch:GetMetricData|elasticloadbalancing:Describe\w+|cloudwatch:DescribeAlarms|ssm:GetParameter|ssm:PutParameter|logs:CreateLogStream|logs:PutLogEvents)$/.test(a));
    expect(writes).toEqual(['elasticloadbalancing:ModifyListener']);
  });

  it('a switch back to a standby stays all at once', () => {
    const back = resourcesOf(PRODUCTION, {
      env: 'production',
      release: '2026.11.01-0a1b2c3',
      standby: '2026.11.02-4d5e6f7',
      deployTime: '2026-11-22T10:20:00Z',
      rollback: '20261122T102000Z',
    });
    expect(idsOf(back, 'Custom::TrafficSteps')).toEqual([]);
  });
});

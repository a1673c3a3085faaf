import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../lib/app';
import { UserError } from '../lib/errors';
import { cdkContext } from './helpers/settings';
import { synthesize } from './helpers/synth';

describe('buildApp', () => {
  it('fails the synth on an unacknowledged cdk-nag finding', () => {
    const app = new App();
    const [stack] = buildApp(app, { ...cdkContext(), env: 'staging', release: 'r1' });
    // A bucket without server access logs or TLS enforcement breaks AwsSolutions-S1 and S10.
    new s3.Bucket(stack, 'Unreviewed');
    expect(() => app.synth()).toThrow(/greenlight-demo-staging\/Unreviewed\/Resource[\s\S]*AwsSolutions-S1/);
  });

  it('builds nothing when the release is missing', () => {
    const app = new App();
    expect(() => buildApp(app, { ...cdkContext() })).toThrow(UserError);
    expect(app.node.children).toHaveLength(0);
  });

  it('builds nothing when one environment is invalid, even if another is fine', () => {
    const context = cdkContext();
    const app = new App();
    const broken = { ...context.environments.production, deregistrationDelay: 4000 };
    expect(() =>
      buildApp(app, { ...context, release: 'r1', environments: { ...context.environments, production: broken } }),
    ).toThrow('environments.production.deregistrationDelay: 4000s is out of range; allowed 0–3600s');
    expect(app.node.children).toHaveLength(0);
  });

  it.each([
    ['a size its family does not come in', 't3.smal', 'environments.production.instanceType: "t3.smal" is not an EC2 instance type: t3 comes in '],
    ['a family EC2 does not have', 't9.small', 'environments.production.instanceType: "t9.small" is not an EC2 instance type: no family "t9"; families starting with "t": t1, t2, t3, t3a, t4g'],
  ])('builds nothing for an instance type EC2 does not have: %s', (_name, instanceType, message) => {
    const context = cdkContext();
    const app = new App();
    const production = { ...context.environments.production, instanceType };
    expect(() => buildApp(app, { ...context, release: 'r1', environments: { ...context.environments, production } })).toThrow(message);
    expect(app.node.children).toHaveLength(0);
  });

  it('tags every stack with the app, the environment and the configured tags', () => {
    const staging = synthesize({ release: 'r1' }).templates['greenlight-demo-staging'];
    const alb = Object.values(staging.findResources('AWS::ElasticLoadBalancingV2::LoadBalancer'))[0];
    expect(alb.Properties.Tags).toEqual(
      expect.arrayContaining([
        { Key: 'greenlight:app', Value: 'greenlight-demo' },
        { Key: 'greenlight:environment', Value: 'staging' },
        { Key: 'team', Value: 'platform' },
      ]),
    );
  });

  it('synthesizes a gate with any valid poll interval, such as 7 s', () => {
    const context = cdkContext();
    const staging = { ...context.environments.staging, gate: { consecutiveHealthyPolls: 3, pollInterval: 7, timeout: 900, maxReplacedInstances: 2 } };
    const app = new App();
    const [stack] = buildApp(app, { ...context, env: 'staging', release: 'r1', environments: { ...context.environments, staging } });
    Template.fromStack(stack).hasResourceProperties('Custom::HealthGate', { PollIntervalSeconds: 7, ServiceTimeout: '1027' });
  });
});

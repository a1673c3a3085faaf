import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { CfnParameter, Duration, Token, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { addGate, gateStack } from './gate-stack';

process.env.AWS_EC2_METADATA_DISABLED = 'true';
const REPO = path.join(__dirname, '..', '..');

describe('HealthGate', () => {
  /** A stack with one gate of the default props, synthesized once for the tests that only read it. */
  let defaultGate: { stack: ReturnType<typeof gateStack>['stack']; group: ReturnType<typeof gateStack>['group']; template: Template } | undefined;
  const withDefaultGate = () => {
    if (!defaultGate) {
      const { stack, group } = gateStack();
      addGate(stack, group);
      defaultGate = { stack, group, template: Template.fromStack(stack) };
    }
    return defaultGate;
  };

  it('is a Custom::HealthGate that depends on the new group and carries the policy', () => {
    const { stack, group, template } = withDefaultGate();
    const groupId = stack.getLogicalId(group.node.defaultChild as never);
    template.hasResource('Custom::HealthGate', {
      DependsOn: Match.arrayWith([groupId]),
      Properties: {
        GroupName: { Ref: groupId },
        Release: 'r1',
        ProgressParameter: '/greenlight/shop/staging/gate/r1',
        ExpectedInstances: 2,
        ConsecutiveHealthyPolls: 3,
        PollIntervalSeconds: 15,
        TimeoutSeconds: 900,
        MaxReplacedInstances: 2,
      },
    });
  });

  const waiter = (stack: ReturnType<typeof gateStack>['stack']) => {
    const machine = Object.values(Template.fromStack(stack).findResources('AWS::StepFunctions::StateMachine'))[0];
    const definition = JSON.stringify(machine.Properties.DefinitionString);
    const read = (field: string) => Number(definition.match(new RegExp(`\\\\"${field}\\\\":(\\d+)`))?.[1]);
    return { interval: read('IntervalSeconds'), attempts: read('MaxAttempts') };
  };

  it('polls at the gate interval and lets the gate time out before the framework and CloudFormation do', () => {
    const { stack, group } = gateStack();
    addGate(stack, group, { pollInterval: Duration.seconds(20), timeout: Duration.minutes(30) });
    // CloudFormation waits for the timeout, one more poll and two minutes to report: 1800 + 20 + 120 s.
    Template.fromStack(stack).hasResourceProperties('Custom::HealthGate', { ServiceTimeout: '1940' });
    // The framework's waiter covers the same time in whole intervals: 97 × 20 s.
    expect(waiter(stack)).toEqual({ interval: 20, attempts: 97 });
  });

  it.each([7, 13, 299])('any poll interval divides the framework timeout (pollInterval %is)', (seconds) => {
    const { stack, group } = gateStack();
    addGate(stack, group, { pollInterval: Duration.seconds(seconds), timeout: Duration.minutes(15) });
    const { interval, attempts } = waiter(stack);
    expect(interval).toBe(seconds);
    expect(interval * attempts).toBeGreaterThanOrEqual(900 + seconds + 120);
    expect(interval * attempts).toBeLessThan(900 + 2 * seconds + 120);
  });

  it('the longest gate timeout still fits CloudFormation’s one-hour limit', () => {
    const { stack, group } = gateStack();
    addGate(stack, group, { pollInterval: Duration.seconds(15), timeout: Duration.seconds(3465) });
    Template.fromStack(stack).hasResourceProperties('Custom::HealthGate', { ServiceTimeout: '3600' });
  });

  it("grants describe calls and its own environment's gate path, nothing else", () => {
    const { template } = withDefaultGate();
    const policies = template.findResources('AWS::IAM::Policy', {
      Properties: { PolicyName: Match.stringLikeRegexp('^HealthGateProviderGateRole') },
    });
    const statements = Object.values(policies).flatMap((p) => p.Properties.PolicyDocument.Statement);
    expect(statements).toEqual([
      {
        Sid: 'WriteOwnLogs',
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^HealthGateProviderGateLogs/), 'Arn'] },
      },
      {
        Sid: 'DescribeFleet',
        Effect: 'Allow',
        Action: ['autoscaling:DescribeAutoScalingGroups', 'autoscaling:DescribeScalingActivities', 'elasticloadbalancing:DescribeTargetHealth'],
        Resource: '*',
      },
      {
        Sid: 'KeepGateProgress',
        Effect: 'Allow',
        Action: ['ssm:GetParameter', 'ssm:PutParameter'],
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ssm:eu-west-1:111111111111:parameter/greenlight/shop/staging/gate/*']] },
      },
    ]);
    const role = Object.values(template.findResources('AWS::IAM::Role')).find((r) =>
      String(r.Properties.Description).startsWith('greenlight health gate'),
    );
    expect(role?.Properties.ManagedPolicyArns).toBeUndefined();
  });

  it('shares one Provider between the gates of a stack', () => {
    const { stack, group } = gateStack();
    addGate(stack, group, { release: 'r1' });
    addGate(stack, group, { release: 'r2', progressParameterName: '/greenlight/shop/staging/gate/r2' });
    const template = Template.fromStack(stack);
    template.resourceCountIs('Custom::HealthGate', 2);
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
  });

  it('accepts a token for the expected instances', () => {
    const { stack, group } = gateStack();
    new CfnParameter(stack, 'Desired', { type: 'Number', default: 2 });
    addGate(stack, group, { expectedInstances: Token.asNumber({ Ref: 'Desired' }) });
    Template.fromStack(stack).hasResourceProperties('Custom::HealthGate', { ExpectedInstances: { Ref: 'Desired' } });
  });

  it.each([
    [{ expectedInstances: 0 }, 'expectedInstances: 0 must be a whole number of at least 1'],
    [{ consecutiveHealthyPolls: 0 }, 'consecutiveHealthyPolls: 0 must be a whole number of at least 1'],
    [{ maxReplacedInstances: -1 }, 'maxReplacedInstances: -1 must be a whole number of at least 0'],
    [{ pollInterval: Duration.minutes(6) }, 'pollInterval: 360s must be between 1 and 300 seconds'],
    [
      { pollInterval: Duration.minutes(1), timeout: Duration.seconds(3421) },
      'timeout: 3421s must be between pollInterval (60s) and 3420s: CloudFormation waits at most 3600s for a custom resource, ' +
        'and the gate needs one poll interval and 120s after its timeout to report',
    ],
    [
      { pollInterval: Duration.minutes(1), timeout: Duration.seconds(30) },
      'timeout: 30s must be between pollInterval (60s) and 3420s',
    ],
    [{ progressParameterName: 'greenlight/x' }, 'progressParameterName: "greenlight/x" must be an absolute SSM parameter name'],
  ] as const)('rejects %j', (overrides, message) => {
    const { stack, group } = gateStack();
    expect(() => addGate(stack, group, overrides)).toThrow(message);
  });

  it('gives gates that disagree on the Provider settings a Provider each, the first keeping its id', () => {
    const { stack, group } = gateStack();
    addGate(stack, group, { release: 'r1' });
    addGate(stack, group, { release: 'r2', progressParameterName: '/greenlight/shop/staging/gate/r2' });
    addGate(stack, group, { release: 'r3', progressParameterName: '/greenlight/shop/staging/gate/r3', timeout: Duration.minutes(20) });
    expect(stack.node.tryFindChild('HealthGateProvider')).toBeDefined();
    const template = Template.fromStack(stack);
    template.resourceCountIs('Custom::HealthGate', 3);
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 2);
  });

  it('refuses a progress parameter name it cannot scope the Provider to', () => {
    const { stack, group } = gateStack();
    expect(() => addGate(stack, group, { progressParameterName: '/r1' })).toThrow('progressParameterName: "/r1" must be an absolute SSM parameter name under a path');
    expect(() => addGate(stack, group, { release: 'r2', progressParameterName: Token.asString({ Ref: 'Name' }) })).toThrow(/progressParameterName: .* known at synth/);
  });

  it('leaves no unacknowledged cdk-nag finding on its own resources', () => {
    const { app, stack, group } = gateStack();
    addGate(stack, group);
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    const report = (() => {
      try {
        app.synth();
        return '';
      } catch (err) {
        return (err as Error).message;
      }
    })();
    // The bare test VPC and group are not the gate's; every finding must be theirs.
    const offenders = report.split('\n').filter((line) => /^\s+shop-staging\//.test(line) && !/shop-staging\/(Vpc|Group)\//.test(line));
    expect(offenders).toEqual([]);
  });

  it('bundles the handler with the local esbuild into an asset that loads and exports both entry points', () => {
    const { app, stack, group } = gateStack({});
    addGate(stack, group);
    const assembly = app.synth();
    const fn = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function', {
      Properties: { Handler: 'index.isComplete' },
    }))[0];
    expect(fn.Properties.Runtime).toBe('nodejs24.x');
    const key = String(fn.Properties.Code.S3Key);
    const bundle = path.join(assembly.directory, `asset.${key.replace(/\.zip$/, '')}`, 'index.js');
    expect(existsSync(bundle)).toBe(true);
    expect(readFileSync(bundle, 'utf8')).not.toContain('aws-sdk-client-mock');
    // The Lambda runtime provides the SDK; here the repository's copy stands in for it.
    const exported = execFileSync(process.execPath, ['-e', `console.log(Object.keys(require(${JSON.stringify(bundle)})).sort().join(','))`], {
      env: { ...process.env, NODE_PATH: path.join(REPO, 'node_modules') },
      encoding: 'utf8',
    });
    expect(exported.trim()).toBe('gateHandlers,isComplete,onEvent');
  });
});

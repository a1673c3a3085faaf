import { describe, expect, it } from 'vitest';
import { cdkDeployArgs, cdkDeployCommandLine, checkAssemblyRelease } from '../../lib/cli/cdk-deploy';
import { UserError } from '../../lib/errors';

const plan = { stackName: 'shop-staging', envName: 'staging', release: '2026.11.22-3f9c2ab' };

describe('cdkDeployArgs', () => {
  it('synthesizes the one environment with the release as context', () => {
    expect(cdkDeployArgs(plan)).toEqual([
      'deploy', 'shop-staging', '-c', 'env=staging', '-c', 'release=2026.11.22-3f9c2ab',
      '--require-approval', 'never', '--progress', 'events',
    ]);
  });

  it('passes an AMI override as context', () => {
    expect(cdkDeployArgs({ ...plan, ami: 'ami-0123456789abcdef0' })).toContain('ami=ami-0123456789abcdef0');
  });

  it('deploys a pre-synthesized assembly without context, which cdk would ignore', () => {
    expect(cdkDeployArgs({ ...plan, appDir: 'cdk.out' })).toEqual([
      'deploy', 'shop-staging', '--app', 'cdk.out', '--require-approval', 'never', '--progress', 'events',
    ]);
  });
});

describe('cdkDeployCommandLine', () => {
  it('is a command a person can paste', () => {
    expect(cdkDeployCommandLine(plan)).toBe(
      'npx cdk deploy shop-staging -c env=staging -c release=2026.11.22-3f9c2ab --require-approval never --progress events',
    );
  });

  it('quotes what the shell would split', () => {
    expect(cdkDeployCommandLine({ ...plan, appDir: "my out/it's" })).toContain(`--app 'my out/it'\\''s'`);
  });
});

describe('checkAssemblyRelease', () => {
  const NAME = '/greenlight/shop/staging/live-release';
  const template = (value: unknown) => ({
    Resources: {
      Bucket: { Type: 'AWS::S3::Bucket', Properties: {} },
      Live: { Type: 'AWS::SSM::Parameter', Properties: { Name: NAME, Value: value, Type: 'String' } },
    },
  });

  it('accepts the release the assembly was synthesized for', () => {
    expect(() => checkAssemblyRelease(template('r5'), NAME, 'r5', 'cdk.out')).not.toThrow();
  });

  it('refuses another release, naming both', () => {
    expect(() => checkAssemblyRelease(template('r4'), NAME, 'r5', 'cdk.out')).toThrow(
      new UserError('--app-dir cdk.out: synthesized for release r4, not --release r5; synth again with -c release=r5'),
    );
  });

  it('refuses a stack without the live pointer', () => {
    expect(() => checkAssemblyRelease({ Resources: {} }, NAME, 'r5', 'out')).toThrow(
      `--app-dir out: the stack has no ${NAME} parameter; is this a greenlight assembly?`,
    );
  });
});

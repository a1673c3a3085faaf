import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { loadSettings } from '../../lib/config/load';
import { cdkContext } from '../helpers/settings';
import { idsOfType, synthesize } from '../helpers/synth';

const settings = loadSettings(cdkContext());
const STAGING = 'greenlight-demo-staging';
const PRODUCTION = 'greenlight-demo-production';

describe('EnvironmentStack', () => {
  const { templates } = synthesize({ release: 'r1' });

  it('builds one stack per environment, named <app>-<env>', () => {
    expect(Object.keys(templates).sort()).toEqual(Object.keys(settings.environments).map((env) => `greenlight-demo-${env}`).sort());
  });

  it.each(Object.entries(settings.environments))("gives %s's target group the configured health check", (env, cfg) => {
    const hc = cfg.healthCheck;
    templates[`greenlight-demo-${env}`].hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      Port: 80,
      Protocol: 'HTTP',
      TargetType: 'instance',
      HealthCheckProtocol: 'HTTP',
      HealthCheckPath: hc.path,
      HealthCheckIntervalSeconds: hc.interval,
      HealthCheckTimeoutSeconds: hc.timeout,
      HealthyThresholdCount: hc.healthyThreshold,
      UnhealthyThresholdCount: hc.unhealthyThreshold,
      Matcher: { HttpCode: hc.matcher },
      TargetGroupAttributes: Match.arrayWith([
        { Key: 'deregistration_delay.timeout_seconds', Value: String(cfg.deregistrationDelay) },
      ]),
    });
  });

  it('follows a changed health check into the template', () => {
    const context = cdkContext();
    const staging = context.environments.staging as Record<string, unknown>;
    const changed = synthesize({
      release: 'r1',
      env: 'staging',
      environments: {
        staging: { ...staging, healthCheck: { path: '/ready/', interval: 30, timeout: 10, healthyThreshold: 3, unhealthyThreshold: 4, matcher: '200-204' } },
      },
    });
    changed.templates[STAGING].hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      HealthCheckPath: '/ready/',
      HealthCheckIntervalSeconds: 30,
      HealthCheckTimeoutSeconds: 10,
      HealthyThresholdCount: 3,
      UnhealthyThresholdCount: 4,
      Matcher: { HttpCode: '200-204' },
    });
  });

  it('requires IMDSv2 with a hop limit of 1 and an encrypted gp3 root volume', () => {
    for (const template of Object.values(templates)) {
      template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
        LaunchTemplateData: Match.objectLike({
          MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 1 },
          BlockDeviceMappings: [
            { DeviceName: '/dev/xvda', Ebs: Match.objectLike({ Encrypted: true, VolumeType: 'gp3' }) },
          ],
        }),
      });
    }
  });

  it('admits only the load balancer to the instances', () => {
    const template = templates[STAGING];
    const [instanceSg] = Object.entries(template.findResources('AWS::EC2::SecurityGroup')).find(([, r]) =>
      String(r.Properties.GroupDescription).startsWith('Release instances'),
    )!;
    const [albSg] = Object.entries(template.findResources('AWS::EC2::SecurityGroup')).find(([, r]) =>
      String(r.Properties.GroupDescription).startsWith('Load balancer'),
    )!;
    const instanceSgProps = template.findResources('AWS::EC2::SecurityGroup')[instanceSg].Properties;
    expect(instanceSgProps.SecurityGroupIngress).toBeUndefined();
    const ingress = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress')).filter(
      (r) => JSON.stringify(r.Properties.GroupId) === JSON.stringify({ 'Fn::GetAtt': [instanceSg, 'GroupId'] }),
    );
    expect(ingress.map((r) => r.Properties)).toEqual([
      expect.objectContaining({
        IpProtocol: 'tcp',
        FromPort: 80,
        ToPort: 80,
        SourceSecurityGroupId: { 'Fn::GetAtt': [albSg, 'GroupId'] },
      }),
    ]);
  });

  it('uses HTTP alone without a certificate: the serving listener and the preview listener', () => {
    const template = templates[STAGING];
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::Listener', 2);
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 80,
      Protocol: 'HTTP',
      DefaultActions: [Match.objectLike({ Type: 'forward' })],
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 8080,
      Protocol: 'HTTP',
      DefaultActions: [Match.objectLike({ Type: 'fixed-response', FixedResponseConfig: Match.objectLike({ StatusCode: '404' }) })],
    });
  });

  it('redirects HTTP to HTTPS when a certificate is set', () => {
    const template = templates[PRODUCTION];
    const certificateArn = (settings.environments.production.listener as { certificateArn: string }).certificateArn;
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 443,
      Protocol: 'HTTPS',
      Certificates: [{ CertificateArn: certificateArn }],
      DefaultActions: [Match.objectLike({ Type: 'forward' })],
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 8443,
      Protocol: 'HTTPS',
      Certificates: [{ CertificateArn: certificateArn }],
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 80,
      Protocol: 'HTTP',
      DefaultActions: [
        { Type: 'redirect', RedirectConfig: { Port: '443', Protocol: 'HTTPS', StatusCode: 'HTTP_301' } },
      ],
    });
  });

  it('drops invalid header fields, logs access, and protects production from deletion', () => {
    const attributes = (stack: string) =>
      Object.values(templates[stack].findResources('AWS::ElasticLoadBalancingV2::LoadBalancer'))[0].Properties
        .LoadBalancerAttributes as { Key: string; Value: string }[];
    const value = (stack: string, key: string) => attributes(stack).find((a) => a.Key === key)?.Value;
    for (const stack of [STAGING, PRODUCTION]) {
      expect(value(stack, 'routing.http.drop_invalid_header_fields.enabled')).toBe('true');
      expect(value(stack, 'access_logs.s3.enabled')).toBe('true');
    }
    expect(value(PRODUCTION, 'deletion_protection.enabled')).toBe('true');
    expect(value(STAGING, 'deletion_protection.enabled')).toBe('false');
  });

  it('joins the target group with ELB health checks and the configured grace period', () => {
    const cfg = settings.environments.staging;
    templates[STAGING].hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
      HealthCheckType: 'ELB',
      HealthCheckGracePeriod: cfg.healthCheckGracePeriod,
      MinSize: String(cfg.capacity.min),
      MaxSize: String(cfg.capacity.max),
      TargetGroupARNs: [{ Ref: idsOfType(templates[STAGING], 'AWS::ElasticLoadBalancingV2::TargetGroup')[0] }],
      Tags: Match.arrayWith([{ Key: 'greenlight:release', PropagateAtLaunch: true, Value: 'r1' }]),
    });
  });

  it('resolves the AMI from the release parameter at deploy time', () => {
    const parameters = templates[STAGING].toJSON().Parameters as Record<string, { Type: string; Default: string }>;
    expect(Object.values(parameters)).toContainEqual({
      Type: 'AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>',
      Default: '/greenlight/greenlight-demo/releases/r1/ami-id',
    });
  });

  it('takes -c ami instead of the release parameter', () => {
    const overridden = synthesize({ release: 'r1', env: 'staging', ami: 'ami-0123456789abcdef0' });
    const template = overridden.templates[STAGING];
    const parameters = Object.values(template.toJSON().Parameters ?? {}) as { Default?: string }[];
    expect(parameters.map((p) => p.Default)).not.toContain('/greenlight/greenlight-demo/releases/r1/ami-id');
    template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({ ImageId: 'ami-0123456789abcdef0' }),
    });
  });

  it('renders userdata with the app, environment, release and region, and no secrets', () => {
    const lt = Object.values(templates[PRODUCTION].findResources('AWS::EC2::LaunchTemplate'))[0];
    const userData = Buffer.from(lt.Properties.LaunchTemplateData.UserData['Fn::Base64'], 'utf8').toString();
    expect(userData).toContain("GREENLIGHT_APP='greenlight-demo'");
    expect(userData).toContain("GREENLIGHT_ENV='production'");
    expect(userData).toContain("GREENLIGHT_RELEASE='r1'");
    expect(userData).toContain("AWS_REGION='eu-west-1'");
    expect(userData).toContain("GREENLIGHT_TLS='true'");
    expect(userData).not.toContain('@greenlight-parameters@');
    expect(userData).not.toMatch(/SECRET_KEY=|DATABASE_URL=|password/i);
  });

  it.each(Object.keys(settings.environments))("lets %s's instances read only their own configuration, plus what Session Manager needs", (env) => {
    const template = templates[`greenlight-demo-${env}`];
    const [roleId, role] = Object.entries(template.findResources('AWS::IAM::Role')).find(([id]) => id.startsWith('InstanceRole'))!;
    // No managed policy: AmazonSSMManagedInstanceCore would grant ssm:GetParameter* on every parameter.
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
      (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === roleId),
    );
    const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement as { Sid: string; Action: string | string[]; Resource: unknown }[]);
    const cfg = settings.environments[env];
    const prefix = `arn:aws:ssm:${cfg.region}:${cfg.account}:parameter/greenlight/greenlight-demo/${env}/config`;
    expect(Object.fromEntries(statements.map((st) => [st.Sid, st.Resource]))).toEqual({
      SessionManagerChannels: '*',
      SessionManagerRegistration: `arn:aws:ec2:${cfg.region}:${cfg.account}:instance/*`,
      ReadOwnConfiguration: [prefix, `${prefix}/`],
    });
    const actions = statements.flatMap((st) => [st.Action].flat());
    expect(actions.filter((a) => a.startsWith('ssm:')).sort()).toEqual(['ssm:GetParametersByPath', 'ssm:UpdateInstanceInformation']);
    expect(statements.find((st) => st.Sid === 'SessionManagerChannels')!.Action).toEqual(
      expect.arrayContaining(['ssmmessages:CreateControlChannel', 'ssmmessages:OpenDataChannel', 'ec2messages:GetMessages']),
    );
    expect(actions.every((a) => /^(ssmmessages|ec2messages|ssm):[A-Za-z]+$/.test(a))).toBe(true);
  });
});

describe('a new release', () => {
  const before = synthesize({ release: 'r1' });
  const after = synthesize({ release: 'r2' });

  it.each(Object.keys(settings.environments).map((env) => `greenlight-demo-${env}`))('in %s replaces only the release-scoped resources', (stack) => {
    const idsBefore = Object.keys(before.paths[stack]);
    const idsAfter = new Set(Object.keys(after.paths[stack]));
    const replaced = idsBefore.filter((id) => !idsAfter.has(id));
    const replacedTypes = replaced.map((id) => before.templates[stack].toJSON().Resources[id].Type).sort();

    expect(replacedTypes).toEqual(
      expect.arrayContaining([
        'AWS::AutoScaling::AutoScalingGroup',
        'AWS::EC2::LaunchTemplate',
        'AWS::ElasticLoadBalancingV2::TargetGroup',
        'AWS::ElasticLoadBalancingV2::ListenerRule',
      ]),
    );
    // Everything replaced lives under a construct whose id carries the release.
    for (const id of replaced) expect(before.paths[stack][id]).toMatch(/\/[A-Za-z]+-r1\//);
    // The shared parts keep their logical ids.
    for (const type of [
      'AWS::ElasticLoadBalancingV2::LoadBalancer',
      'AWS::ElasticLoadBalancingV2::Listener',
      'AWS::EC2::SecurityGroup',
      'AWS::IAM::Role',
      'AWS::IAM::InstanceProfile',
    ]) {
      expect(idsOfType(after.templates[stack], type)).toEqual(idsOfType(before.templates[stack], type));
    }
    expect(idsAfter.size).toBe(idsBefore.length);
  });
});

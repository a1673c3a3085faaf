import * as path from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { HANDLER_FUNCTION_TIMEOUT } from '../time-limits';
import { bundleHandler } from './handler-bundle';

export interface HandlerFunctionProps {
  /** The TypeScript module that exports the handler. */
  readonly entry: string;
  /** The exported function's name. */
  readonly handler: string;
  /** What it does, for the console. */
  readonly description: string;
  /** The role the function runs as; it is granted its own log group and nothing else here. */
  readonly role: iam.IRole;
  /** The log group the function writes its JSON lines to. */
  readonly logGroup: logs.ILogGroup;
  /**
   * @default Duration.minutes(1)
   */
  readonly timeout?: Duration;
  /**
   * Run in this VPC's private subnets, e.g. to reach an internal load balancer.
   * @default - outside any VPC
   */
  readonly vpc?: ec2.IVpc;
  /**
   * The function's security groups, with `vpc`.
   * @default - none
   */
  readonly securityGroups?: ec2.ISecurityGroup[];
}

/** The template metadata naming a function's handler: `<module under lib/>#<export>`. */
export const HANDLER_METADATA = 'greenlight:handler';

/** The Lambda runtime of greenlight's functions. */
export const HANDLER_RUNTIME = lambda.Runtime.NODEJS_24_X;

/** esbuild's target for a Node.js runtime (`nodejs24.x` → `node24`), so the bundle never outruns the runtime, nor lags it. */
export function esbuildTarget(runtime: { readonly name: string }): string {
  const major = /^nodejs(\d+)\.x$/.exec(runtime.name)?.[1];
  if (!major) throw new Error(`esbuildTarget: ${runtime.name} is not a Node.js runtime`);
  return `node${major}`;
}

/**
 * A custom-resource Lambda of greenlight, bundled by the local esbuild (never Docker). The AWS SDK
 * v3 clients come from the Lambda runtime, which keeps the bundle small and the synth fast.
 */
export class HandlerFunction extends Construct {
  readonly function: lambda.Function;

  constructor(scope: Construct, id: string, props: HandlerFunctionProps) {
    super(scope, id);
    this.function = new lambda.Function(this, 'Function', {
      code: lambda.Code.fromAsset(bundleHandler({ entry: props.entry, target: esbuildTarget(HANDLER_RUNTIME) })),
      handler: `index.${props.handler}`,
      description: props.description,
      runtime: HANDLER_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: props.timeout ?? Duration.seconds(HANDLER_FUNCTION_TIMEOUT),
      role: props.role,
      logGroup: props.logGroup,
      vpc: props.vpc,
      vpcSubnets: props.vpc ? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS } : undefined,
      securityGroups: props.securityGroups,
      loggingFormat: lambda.LoggingFormat.TEXT,
    });
    // Which of greenlight's handlers the function runs, so that the role it runs as can be checked
    // against the AWS calls that handler's code makes (test/pipelines/lambda-roles).
    (this.function.node.defaultChild as lambda.CfnFunction).addMetadata(
      HANDLER_METADATA,
      `${path.relative(path.join(__dirname, '..'), props.entry).split(path.sep).join('/')}#${props.handler}`,
    );
  }
}

/** A role for greenlight's custom-resource functions: it can write its own log group, nothing more yet. */
export function customResourceRole(scope: Construct, id: string, description: string): { role: iam.Role; logGroup: logs.LogGroup } {
  const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
    retention: logs.RetentionDays.THREE_MONTHS,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const role = new iam.Role(scope, `${id}Role`, {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description,
  });
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'WriteOwnLogs',
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [logGroup.logGroupArn],
    }),
  );
  return { role, logGroup };
}

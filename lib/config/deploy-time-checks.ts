// Checks across settings that AWS would otherwise make only at deploy time (or the instance at its
// first boot): where the certificate and the zones are, which architecture the type is, whether
// the smoke checks can reach the closed preview, and whether scaling has room within the group's capacity. The schema (schema.ts) runs them.
import type { z } from 'zod';
import { IMAGE_ARCHITECTURE, isArm64InstanceType } from './image-facts';
import type { ScalingSettings } from './schema';

/**
 * Mistakes CloudFormation or the instance would only catch at deploy time: a certificate or zones
 * of another region or account, an arm64 type for the x86_64 image, a health path that nginx
 * redirects to HTTPS, subnets that do not pair with the imported zones, and smoke checks in an
 * imported VPC whose NAT addresses the preview port does not admit.
 */
export function imageAndPlacementIssues(env: {
  readonly account: string;
  readonly region: string;
  readonly instanceType: string;
  readonly vpc: {
    readonly vpcId?: string;
    readonly availabilityZones?: readonly string[];
    readonly publicSubnetIds?: readonly string[];
    readonly privateSubnetIds?: readonly string[];
  };
  readonly listener: { readonly protocol: string; readonly certificateArn?: string };
  readonly healthCheck: { readonly path: string };
  readonly preview: { readonly allowedCidrs: readonly string[] };
  readonly smoke?: unknown;
}): Array<{ path: PropertyKey[]; message: string }> {
  const issues: Array<{ path: PropertyKey[]; message: string }> = [];
  // The smoke checks reach an internet-facing load balancer through the NAT gateways, whose
  // addresses greenlight knows only for a VPC it creates.
  if (env.smoke && env.vpc.vpcId !== undefined && env.preview.allowedCidrs.length === 0) {
    issues.push({
      path: ['preview', 'allowedCidrs'],
      message:
        `is empty, but the smoke checks in imported VPC ${env.vpc.vpcId} reach the preview port through its NAT gateways; ` +
        `list their public addresses, such as "198.51.100.7/32"`,
    });
  }
  const arn = env.listener.certificateArn;
  if (arn) {
    const [, , , certRegion, certAccount] = arn.split(':');
    if (certRegion !== env.region || certAccount !== env.account) {
      issues.push({
        path: ['listener', 'certificateArn'],
        message:
          `${JSON.stringify(arn)} is in region ${certRegion}, account ${certAccount}; a load balancer can only use an ACM ` +
          `certificate of its own region and account (${env.region}, ${env.account})`,
      });
    }
  }
  const zones = env.vpc.availabilityZones ?? [];
  zones.forEach((zone, i) => {
    if (!new RegExp(`^${env.region}[a-z]$`).test(zone)) {
      issues.push({
        path: ['vpc', 'availabilityZones', i],
        message: `${JSON.stringify(zone)} is not a zone of region ${env.region}; expected a zone such as "${env.region}a"`,
      });
    }
  });
  for (const key of ['publicSubnetIds', 'privateSubnetIds'] as const) {
    const subnets = env.vpc[key];
    if (subnets && zones.length > 0 && subnets.length !== zones.length) {
      issues.push({
        path: ['vpc', key],
        message:
          `lists ${subnets.length} subnet${subnets.length === 1 ? '' : 's'} for ${zones.length} availability zone${zones.length === 1 ? '' : 's'}; ` +
          `allowed one subnet per zone, in the order of availabilityZones`,
      });
    }
  }
  if (isArm64InstanceType(env.instanceType)) {
    issues.push({
      path: ['instanceType'],
      message:
        `${JSON.stringify(env.instanceType)} is an arm64 (Graviton) type, and the release AMI is ${IMAGE_ARCHITECTURE}; ` +
        `allowed an ${IMAGE_ARCHITECTURE} type such as "t3.small" or "m6i.large"`,
    });
  }
  return issues;
}

/** Policies need room between min and max; a scheduled action must stay within what it does not set. */
export function checkScalingRoom(
  env: { readonly capacity: { readonly min: number; readonly max: number }; readonly scaling?: ScalingSettings },
  ctx: z.RefinementCtx,
): void {
  const { capacity: c, scaling: s } = env;
  if (!s) return;
  if ((s.cpuUtilization !== undefined || s.requestsPerTargetPerMinute !== undefined) && c.min === c.max) {
    ctx.addIssue({
      code: 'custom',
      path: ['scaling'],
      message: `target tracking needs room to scale, but capacity.min and capacity.max are both ${c.min}; raise capacity.max`,
    });
  }
  s.scheduled?.forEach((a, i) => {
    const min = a.min ?? c.min;
    const max = a.max ?? c.max;
    const where = ['scaling', 'scheduled', i];
    if (a.min !== undefined && a.max === undefined && a.min > c.max) {
      ctx.addIssue({ code: 'custom', path: [...where, 'min'], message: `${a.min} is above capacity.max ${c.max}; set max in the action too` });
    } else if (a.max !== undefined && a.min === undefined && a.max < c.min) {
      ctx.addIssue({ code: 'custom', path: [...where, 'max'], message: `${a.max} is below capacity.min ${c.min}; set min in the action too` });
    } else if (a.desired !== undefined && (a.desired < min || a.desired > max)) {
      ctx.addIssue({ code: 'custom', path: [...where, 'desired'], message: `${a.desired} must lie between min ${min} and max ${max}` });
    }
  });
}

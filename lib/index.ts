// greenlight's public API: the constructs of a blue/green release and their props types, for an
// app of its own (`import { ReleaseFleet, HealthGate } from 'greenlight'`) or greenlight's stack.

// One release, in deploy order.
export { CapacityProbe, type CapacityProbeProps } from './constructs/capacity-probe';
export { ReleaseTargetGroup, type ReleaseTargetGroupProps, type TargetHealthCheck } from './constructs/release-target-group';
export {
  DEFAULT_ROOT_DEVICE_NAME,
  type FleetScaling,
  type FleetScheduledAction,
  ReleaseFleet,
  type ReleaseFleetProps,
  startScalingAfter,
} from './constructs/release-fleet';
export { HealthGate, type HealthGateProps } from './constructs/health-gate';
export { SmokeCheck, type SmokeCheckProps } from './constructs/smoke-check';
export { PreviewKey, type PreviewKeyProps } from './constructs/preview-key';
export { OutgoingScalingHold, type OutgoingScalingHoldProps } from './constructs/scaling-hold';
export { ListenerCutover, type ListenerCutoverProps } from './constructs/cutover';
export { BakeWindow, type BakeWindowProps } from './constructs/bake-window';
export { TrafficSteps, type TrafficStepsProps } from './constructs/traffic-steps';
export { LiveReleasePointer, type LiveReleasePointerProps } from './constructs/live-release';
export { releaseScopedId } from './constructs/release-id';

// What outlives releases.
export {
  type ILoadBalancer,
  INSTANCE_PORT,
  LoadBalancer,
  type LoadBalancerAttributes,
  type LoadBalancerProps,
} from './constructs/load-balancer';
export { type ImportedVpcAttributes, Network, type NetworkProps } from './constructs/network';
export { InstanceRole, type InstanceRoleProps, SESSION_MANAGER_ACTIONS } from './constructs/instance-role';

// greenlight's own environment: everything above, composed from cdk.json's settings.
export { EnvironmentStack, type EnvironmentStackProps, permissionsBoundaryName, type StandbyProps } from './stacks/environment-stack';
export type { EnvironmentSettings, GreenlightSettings, ScalingSettings } from './config/schema';

// The SSM names greenlight's tools read: use them so `greenlight status` and `watch` find a release.
export {
  amiParameterName,
  bakeProgressParameterName,
  configPrefix,
  gateProgressParameterName,
  liveReleaseParameterName,
  RELEASE_TAG,
  smokeResultParameterName,
} from './ssm-paths';

// A scripted Auto Scaling group and target group behind aws-sdk-client-mock. The SDK clients
// answer from the fleet's state at the fake clock's time, so the real handler and the real aws
// module run unchanged. Shared by the timeline test and `npm run bench:gate`.
import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  DescribeScalingActivitiesCommand,
  type Activity,
} from '@aws-sdk/client-auto-scaling';
import { DescribeTargetHealthCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetParameterCommand, ParameterNotFound, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';

export interface SimInstance {
  readonly id: string;
  /** Seconds after the start when the group launches it. */
  readonly launchAt: number;
  /** Seconds from launch to InService (boot, userdata, lifecycle hooks). */
  readonly bootSeconds: number;
  /** Passing checks needed once InService; Infinity for an instance that never turns healthy. */
  readonly healthyAfterChecks: number;
  /** The load balancer's verdict while it is not healthy. */
  readonly failure?: { readonly reason: string; readonly description: string };
  /** [from, to) windows in seconds during which it fails its checks again. */
  readonly flaps?: ReadonlyArray<readonly [number, number]>;
  /** Seconds after the start when Auto Scaling terminates it. */
  readonly terminateAt?: number;
}

export interface FleetScript {
  readonly groupName: string;
  readonly targetGroups: readonly string[];
  /** The load balancer's health-check interval in seconds. */
  readonly checkInterval: number;
  readonly instances: readonly SimInstance[];
  /** Targets of the previous release, registered in the same target group and always healthy. */
  readonly oldFleet?: readonly string[];
}

export class FakeClock {
  ms: number;
  readonly start: number;
  constructor(start = Date.UTC(2026, 10, 22, 12, 0, 0)) {
    this.ms = start;
    this.start = start;
  }
  now = (): number => this.ms;
  advance(seconds: number): void {
    this.ms += seconds * 1000;
  }
  get seconds(): number {
    return (this.ms - this.start) / 1000;
  }
}

/** Counts every SDK call by command name. */
export type CallCounter = Map<string, number>;

export class SimulatedFleet {
  readonly calls: CallCounter = new Map();
  readonly parameters = new Map<string, string>();
  private readonly asg = mockClient(AutoScalingClient);
  private readonly elb = mockClient(ElasticLoadBalancingV2Client);
  private readonly ssm = mockClient(SSMClient);

  constructor(
    private readonly script: FleetScript,
    private readonly clock: FakeClock,
  ) {
    const { asg, elb, ssm } = this;
    asg.on(DescribeAutoScalingGroupsCommand).callsFake(() => {
      this.count('DescribeAutoScalingGroups');
      return { AutoScalingGroups: [this.group()] };
    });
    asg.on(DescribeScalingActivitiesCommand).callsFake(() => {
      this.count('DescribeScalingActivities');
      return { Activities: this.activities() };
    });
    elb.on(DescribeTargetHealthCommand).callsFake((input: { TargetGroupArn?: string }) => {
      this.count('DescribeTargetHealth');
      return { TargetHealthDescriptions: this.targets(input.TargetGroupArn ?? '') };
    });
    ssm.on(GetParameterCommand).callsFake((input: { Name?: string }) => {
      this.count('GetParameter');
      const value = this.parameters.get(input.Name ?? '');
      if (value === undefined) throw new ParameterNotFound({ message: 'not found', $metadata: {} });
      return { Parameter: { Name: input.Name, Value: value } };
    });
    ssm.on(PutParameterCommand).callsFake((input: { Name?: string; Value?: string }) => {
      this.count('PutParameter');
      this.parameters.set(input.Name ?? '', input.Value ?? '');
      return { Version: 1 };
    });
  }

  restore(): void {
    this.asg.restore();
    this.elb.restore();
    this.ssm.restore();
  }

  totalCalls(): number {
    return [...this.calls.values()].reduce((a, b) => a + b, 0);
  }

  private count(name: string): void {
    this.calls.set(name, (this.calls.get(name) ?? 0) + 1);
  }

  private present(i: SimInstance, t: number): boolean {
    return t >= i.launchAt && (i.terminateAt === undefined || t < i.terminateAt);
  }

  private healthy(i: SimInstance, t: number): boolean {
    const inServiceAt = i.launchAt + i.bootSeconds;
    if (t < inServiceAt + i.healthyAfterChecks * this.script.checkInterval) return false;
    return !(i.flaps ?? []).some(([from, to]) => t >= from && t < to);
  }

  private group() {
    const t = this.clock.seconds;
    return {
      AutoScalingGroupName: this.script.groupName,
      MinSize: 1,
      MaxSize: 400,
      DesiredCapacity: this.script.instances.filter((i) => this.present(i, t)).length,
      DefaultCooldown: 300,
      AvailabilityZones: ['eu-west-1a'],
      HealthCheckType: 'ELB',
      CreatedTime: new Date(this.clock.start),
      TargetGroupARNs: [...this.script.targetGroups],
      Instances: this.script.instances
        .filter((i) => this.present(i, t))
        .map((i) => ({
          InstanceId: i.id,
          AvailabilityZone: 'eu-west-1a',
          LifecycleState: t < i.launchAt + i.bootSeconds ? ('Pending' as const) : ('InService' as const),
          HealthStatus: 'Healthy',
          ProtectedFromScaleIn: false,
        })),
    };
  }

  private activities(): Activity[] {
    const t = this.clock.seconds;
    const out: Activity[] = [];
    for (const i of this.script.instances) {
      if (t >= i.launchAt) {
        out.push({
          ActivityId: `launch-${i.id}`,
          AutoScalingGroupName: this.script.groupName,
          Cause: 'At 2026-11-22T12:00:00Z a user request created an AutoScalingGroup',
          StartTime: new Date(this.clock.start + i.launchAt * 1000),
          StatusCode: 'Successful',
          Description: `Launching a new EC2 instance: ${i.id}`,
        });
      }
      if (i.terminateAt !== undefined && t >= i.terminateAt) {
        out.push({
          ActivityId: `terminate-${i.id}`,
          AutoScalingGroupName: this.script.groupName,
          Cause: 'an instance was taken out of service in response to an ELB system health check failure',
          StartTime: new Date(this.clock.start + i.terminateAt * 1000),
          StatusCode: 'Successful',
          Description: `Terminating EC2 instance: ${i.id}`,
        });
      }
    }
    return out.reverse().slice(0, 100);
  }

  private targets(targetGroup: string) {
    const t = this.clock.seconds;
    if (!this.script.targetGroups.includes(targetGroup)) return [];
    const old = (this.script.oldFleet ?? []).map((id) => ({
      Target: { Id: id, Port: 80 },
      HealthCheckPort: '80',
      TargetHealth: { State: 'healthy' as const },
    }));
    const fresh = this.script.instances
      .filter((i) => this.present(i, t) && t >= i.launchAt + i.bootSeconds)
      .map((i) => {
        const inServiceAt = i.launchAt + i.bootSeconds;
        const firstVerdictAt = inServiceAt + Math.min(i.healthyAfterChecks, 2) * this.script.checkInterval;
        const health = this.healthy(i, t)
          ? { State: 'healthy' as const }
          : t < firstVerdictAt
            ? { State: 'initial' as const, Reason: 'Elb.InitialHealthChecking' as const, Description: 'Initial health checks in progress' }
            : {
                State: 'unhealthy' as const,
                Reason: (i.failure?.reason ?? 'Target.Timeout') as 'Target.Timeout',
                Description: i.failure?.description ?? 'Request timed out',
              };
        return { Target: { Id: i.id, Port: 80 }, HealthCheckPort: '80', TargetHealth: health };
      });
    return [...old, ...fresh];
  }
}

/** `count` identical instances that boot in 30 s and turn healthy after 2 checks. */
export function uniformFleet(count: number, groupName = 'shop-staging-Fleet-r1'): FleetScript {
  return {
    groupName,
    targetGroups: ['arn:aws:elasticloadbalancing:eu-west-1:111111111111:targetgroup/web/0123456789abcdef'],
    checkInterval: 15,
    instances: Array.from({ length: count }, (_, n) => ({
      id: `i-${n.toString(16).padStart(17, '0')}`,
      launchAt: 0,
      bootSeconds: 30,
      healthyAfterChecks: 2,
    })),
    oldFleet: Array.from({ length: count }, (_, n) => `i-${(0xf0000 + n).toString(16).padStart(17, '0')}`),
  };
}

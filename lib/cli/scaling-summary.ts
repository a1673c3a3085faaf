// One line of text per scaling policy, scheduled action and scaling activity, for `greenlight status`. Pure.
import type { Activity, ScalingPolicy, ScheduledUpdateGroupAction } from '../aws/auto-scaling';

const METRICS: Readonly<Record<string, string>> = {
  ASGAverageCPUUtilization: 'average CPU',
  ALBRequestCountPerTarget: 'requests per target per minute',
  ASGAverageNetworkIn: 'average network in',
  ASGAverageNetworkOut: 'average network out',
};

/** `target tracking: average CPU 60` or `target tracking: requests per target per minute 1200 on web`, `; no scale-in` when disabled. */
export function describePolicy(p: ScalingPolicy): string {
  const tt = p.TargetTrackingConfiguration;
  if (p.PolicyType === 'TargetTrackingScaling' && tt) {
    const type = tt.PredefinedMetricSpecification?.PredefinedMetricType;
    const metric = type ? (METRICS[type] ?? type) : (tt.CustomizedMetricSpecification?.MetricName ?? 'custom metric');
    const unit = type === 'ASGAverageCPUUtilization' ? '%' : '';
    // `app/<lb>/<id>/targetgroup/<name>/<id>`: the target group's name is what the other tables show.
    const label = tt.PredefinedMetricSpecification?.ResourceLabel?.match(/targetgroup\/([^/]+)\//)?.[1];
    const on = label ? ` on ${label}` : '';
    const scaleIn = tt.DisableScaleIn ? '; no scale-in' : '';
    return `target tracking: ${metric} ${tt.TargetValue ?? '?'}${unit}${on}${scaleIn}`;
  }
  const kind = p.PolicyType === 'StepScaling' ? 'step scaling' : p.PolicyType === 'PredictiveScaling' ? 'predictive scaling' : (p.PolicyType ?? 'simple scaling');
  return `${kind}: ${p.PolicyName ?? '?'}${p.Enabled === false ? ' (disabled)' : ''}`;
}

/** `scheduled weekday-morning: 30 6 * * MON-FRI Europe/London, min 4` */
export function describeScheduledAction(a: ScheduledUpdateGroupAction): string {
  const sizes = [
    a.MinSize !== undefined ? `min ${a.MinSize}` : undefined,
    a.DesiredCapacity !== undefined ? `desired ${a.DesiredCapacity}` : undefined,
    a.MaxSize !== undefined ? `max ${a.MaxSize}` : undefined,
  ].filter(Boolean);
  const when = a.Recurrence ?? a.StartTime?.toISOString() ?? '?';
  const zone = a.TimeZone ? ` ${a.TimeZone}` : '';
  return `scheduled ${a.ScheduledActionName ?? '?'}: ${when}${zone}, ${sizes.join(', ')}`;
}

/** `2026-11-25 09:00:12Z Successful: Launching a new EC2 instance: i-0c (desired 2 → 3)` */
export function describeActivity(a: Activity | undefined): string {
  if (!a) return 'none recorded';
  const at = a.StartTime ? `${a.StartTime.toISOString().slice(0, 19).replace('T', ' ')}Z ` : '';
  const change = a.Cause?.match(/changing the desired capacity from (\d+) to (\d+)/);
  const why = change ? ` (desired ${change[1]} → ${change[2]})` : '';
  const message = a.StatusCode === 'Failed' && a.StatusMessage ? `: ${a.StatusMessage}` : '';
  return `${at}${a.StatusCode ?? '?'}: ${a.Description ?? ''}${why}${message}`;
}

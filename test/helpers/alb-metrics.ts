// The load balancer's per-minute sums for one target group, put into moto's CloudWatch as the
// ALB would publish them: requests and 5xx answers of a minute, at `timestamp`.
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';

export async function putTargetGroupFigures(loadBalancer: string, targetGroup: string, timestamp: Date, requests: number, errors5xx: number): Promise<void> {
  const Dimensions = [
    { Name: 'LoadBalancer', Value: loadBalancer },
    { Name: 'TargetGroup', Value: targetGroup },
  ];
  await new CloudWatchClient({}).send(
    new PutMetricDataCommand({
      Namespace: 'AWS/ApplicationELB',
      MetricData: [
        { MetricName: 'RequestCount', Dimensions, Timestamp: timestamp, Value: requests, Unit: 'Count' },
        { MetricName: 'HTTPCode_Target_5XX_Count', Dimensions, Timestamp: timestamp, Value: errors5xx, Unit: 'Count' },
      ],
    }),
  );
}

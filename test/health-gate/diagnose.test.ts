import { TargetHealthReasonEnum } from '@aws-sdk/client-elastic-load-balancing-v2';
import { describe, expect, it } from 'vitest';
import { diagnose, responseCodes } from '../../lib/health-gate/diagnose';

describe('diagnose', () => {
  it.each([
    ['Target.ResponseCodeMismatch', 'Health checks failed with these codes: [301]', /APPEND_SLASH/],
    ['Target.ResponseCodeMismatch', 'Health checks failed with these codes: [302]', /HTTPS redirect off the health path/],
    ['Target.ResponseCodeMismatch', 'Health checks failed with these codes: [400]', /ALLOWED_HOSTS/],
    ['Target.ResponseCodeMismatch', 'Health checks failed with these codes: [404]', /healthCheck\.path/],
    ['Target.ResponseCodeMismatch', 'Health checks failed with these codes: [503]', /SELECT 1/],
    ['Target.ResponseCodeMismatch', 'Health checks failed with these codes: [500]', /before any middleware/],
    ['Target.ResponseCodeMismatch', 'Health checks failed with these codes: [502]', /no app listens behind it \(502\).*journalctl -u greenlight-app/],
    ['Target.ResponseCodeMismatch', 'Health checks failed with these codes: [504]', /connect timeout < health-check timeout/],
    ['Target.Timeout', 'Request timed out', /connect timeout < health-check timeout < interval/],
    ['Target.FailedHealthChecks', 'Health checks failed', /did not start.*missing configuration/],
    [undefined, 'Connection refused', /did not start/],
    ['Target.NotRegistered', undefined, /not registered/],
    [undefined, 'Health checks failed with these codes: [301]', /APPEND_SLASH/],
    [undefined, 'Layer7 timeout', /connect timeout/],
  ] as const)('%s %s', (code, description, hint) => {
    expect(diagnose(code, description)).toMatch(hint);
  });

  it('has a hint for every reason code DescribeTargetHealth documents, as the SDK lists them', () => {
    const codes = Object.values(TargetHealthReasonEnum);
    expect(codes).toHaveLength(12);
    const hints = new Map(codes.map((code) => [code, diagnose(code, code === 'Target.ResponseCodeMismatch' ? 'Health checks failed with these codes: [301]' : undefined)]));
    expect([...hints].filter(([, hint]) => !hint).map(([code]) => code)).toEqual([]);
    // One hint per code, apart from the response-code family.
    expect(new Set(hints.values()).size).toBe(12);
  });

  it.each([
    ['Elb.RegistrationInProgress', /launched late/],
    ['Elb.InitialHealthChecking', /first health checks.*healthyThreshold × interval/],
    ['Target.NotInUse', /not used by the load balancer.*Availability Zone is not enabled/],
    ['Target.DeregistrationInProgress', /being deregistered/],
    ['Target.InvalidState', /stopped or terminated/],
    ['Target.IpUnusable', /reserved for use by a load balancer/],
    ['Target.HealthCheckDisabled', /health checks are disabled/],
    ['Elb.InternalError', /internal error on AWS's side/],
  ] as const)('%s says what it means when it lasts', (code, hint) => {
    expect(diagnose(code)).toMatch(hint);
  });

  it('has nothing to say about a response code it cannot explain', () => {
    expect(diagnose('Target.ResponseCodeMismatch', 'Health checks failed with these codes: [418]')).toBeUndefined();
  });

  it('reads the quoted codes', () => {
    expect(responseCodes('Health checks failed with these codes: [301]')).toEqual([301]);
    expect(responseCodes('Health checks failed with these codes: [301, 404]')).toEqual([301, 404]);
    expect(responseCodes('no codes')).toEqual([]);
    expect(responseCodes(undefined)).toEqual([]);
  });
});

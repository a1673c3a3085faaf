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

  it('has nothing to say while checks are still in progress', () => {
    expect(diagnose('Elb.RegistrationInProgress', 'Target registration is in progress')).toBeUndefined();
    expect(diagnose('Elb.InitialHealthChecking', 'Initial health checks in progress')).toBeUndefined();
    expect(diagnose('Target.ResponseCodeMismatch', 'Health checks failed with these codes: [418]')).toBeUndefined();
  });

  it('reads the quoted codes', () => {
    expect(responseCodes('Health checks failed with these codes: [301]')).toEqual([301]);
    expect(responseCodes('Health checks failed with these codes: [301, 404]')).toEqual([301, 404]);
    expect(responseCodes('no codes')).toEqual([]);
    expect(responseCodes(undefined)).toEqual([]);
  });
});

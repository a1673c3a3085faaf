import { describe, expect, it } from 'vitest';
import { unknownInstanceType } from '../../lib/aws/instance-types';

describe('unknownInstanceType: the EC2 SDK list of instance types', () => {
  it.each(['t3.small', 'm6i.large', 'm5.metal', 'c7i-flex.large', 'g4dn.xlarge', 'u-3tb1.56xlarge'])('knows %s', (type) => {
    expect(unknownInstanceType(type)).toBeUndefined();
  });

  it('names the sizes of a family when the size does not exist, even a size another family has', () => {
    expect(unknownInstanceType('t3.smal')).toBe('"t3.smal" is not an EC2 instance type: t3 comes in nano, micro, small, medium, large, xlarge, 2xlarge');
    expect(unknownInstanceType('m6i.nano')).toMatch(/^"m6i\.nano" is not an EC2 instance type: m6i comes in large, xlarge, /);
  });

  it('names the families with the same first letter when the family does not exist', () => {
    expect(unknownInstanceType('t9.small')).toMatch(/^"t9\.small" is not an EC2 instance type: no family "t9"; families starting with "t": t1, t2, t3, t3a, t4g/);
  });
});

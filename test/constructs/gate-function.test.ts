// The functions' Lambda runtime and esbuild's target come from one constant, so they cannot drift apart.
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { esbuildTarget, GATE_RUNTIME } from '../../lib/constructs/gate-function';

describe('esbuildTarget', () => {
  it("names the runtime's Node.js major version", () => {
    expect(esbuildTarget(lambda.Runtime.NODEJS_22_X)).toBe('node22');
    expect(esbuildTarget(lambda.Runtime.NODEJS_24_X)).toBe('node24');
    expect(esbuildTarget(GATE_RUNTIME)).toBe(`node${GATE_RUNTIME.name.match(/\d+/)![0]}`);
  });

  it('refuses a runtime that is not Node.js', () => {
    expect(() => esbuildTarget(lambda.Runtime.PYTHON_3_13)).toThrow('esbuildTarget: python3.13 is not a Node.js runtime');
  });
});

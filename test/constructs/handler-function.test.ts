// The functions' Lambda runtime and esbuild's target come from one constant, so they cannot drift apart.
import { describe, expect, it } from 'vitest';
import { esbuildTarget, HANDLER_RUNTIME } from '../../lib/constructs/handler-function';

describe('esbuildTarget', () => {
  it("names the runtime's Node.js major version", () => {
    expect(esbuildTarget({ name: 'nodejs22.x' })).toBe('node22');
    expect(esbuildTarget({ name: 'nodejs24.x' })).toBe('node24');
    expect(esbuildTarget(HANDLER_RUNTIME)).toBe(`node${HANDLER_RUNTIME.name.match(/\d+/)![0]}`);
  });

  it('refuses a runtime that is not Node.js', () => {
    expect(() => esbuildTarget({ name: 'python3.13' })).toThrow('esbuildTarget: python3.13 is not a Node.js runtime');
  });
});

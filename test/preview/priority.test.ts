import { describe, expect, it } from 'vitest';
import { PREVIEW_PRIORITY_RANGE, preferredPriority, previewPriority } from '../../lib/preview/priority';

const [LO, HI] = PREVIEW_PRIORITY_RANGE;

describe('preview rule priority', () => {
  it('is stable for a release and lies in the range', () => {
    const p = preferredPriority('2026.11.22-3f9c2ab');
    expect(p).toBe(preferredPriority('2026.11.22-3f9c2ab'));
    expect(p).toBeGreaterThanOrEqual(LO);
    expect(p).toBeLessThanOrEqual(HI);
  });

  it('spreads releases over the range', () => {
    const priorities = new Set(Array.from({ length: 200 }, (_, i) => preferredPriority(`2026.11.${i}-abc`)));
    expect(priorities.size).toBeGreaterThan(195);
  });

  it('takes the preferred priority on a listener without rules', () => {
    expect(previewPriority('r2', new Set())).toBe(preferredPriority('r2'));
  });

  it("steps past the outgoing release's rule when both hash alike", () => {
    const incoming = preferredPriority('r2');
    expect(previewPriority('r2', new Set([incoming]))).toBe(incoming === HI ? LO : incoming + 1);
  });

  it('steps past a run of taken priorities and wraps at the end of the range', () => {
    expect(previewPriority('r2', new Set([preferredPriority('r2'), preferredPriority('r2') + 1]))).toBe(
      preferredPriority('r2') + 2 > HI ? LO + (preferredPriority('r2') + 2 - HI - 1) : preferredPriority('r2') + 2,
    );
    const allButFirst = new Set(Array.from({ length: HI - LO }, (_, i) => LO + 1 + i));
    expect(previewPriority('r2', allButFirst)).toBe(LO);
  });

  it('refuses when the range is full', () => {
    const all = new Set(Array.from({ length: HI - LO + 1 }, (_, i) => LO + i));
    expect(() => previewPriority('r2', all)).toThrow(`no free preview rule priority in ${LO}–${HI}`);
  });
});

// The record a deploy leaves for rollback, and the rollback's decision on it. Pure.
import { describe, expect, it } from 'vitest';
import { classifyPlan, type OperationFacts, type ReleaseGraph } from '../../lib/migrations/classify';
import { parseSchemaRecord, releaseCommit, rollbackRefusal, schemaRecord } from '../../lib/migrations/rollback-safety';

const graph = (operations: OperationFacts[], acknowledged: string | null = null): ReleaseGraph => ({
  django: '3.2.25',
  applied: [],
  conflicts: {},
  plan: [{ app: 'shop', name: '0007_change', replaces: [], merge: false, acknowledged, operations }],
});

describe('rollback safety', () => {
  it('records a release whose migrations only add as a safe rollback, and one that breaks with the operations', () => {
    const added = classifyPlan(graph([{ operation: 'CreateModel', model: 'Offer' }]));
    expect(schemaRecord('r2', 'r1', added)).toEqual({ release: 'r2', previous: 'r1', rollbackSafe: true });
    const removed = classifyPlan(graph([{ operation: 'DeleteModel', model: 'Item' }], 'Item moved to catalog'));
    expect(schemaRecord('r2', 'r1', removed)).toEqual({
      release: 'r2',
      previous: 'r1',
      rollbackSafe: false,
      reason: 'shop.0007_change DeleteModel: drops model Item and its table: the live release still queries it (acknowledged: Item moved to catalog)',
    });
  });

  it('keeps the reason within a Standard parameter', () => {
    const many = classifyPlan(graph(Array.from({ length: 200 }, (_, i) => ({ operation: 'DeleteModel', model: `Model${i}` })), 'cleanup'));
    const record = schemaRecord('r2', 'r1', many);
    expect(record.reason?.length).toBe(3000);
    expect(record.reason?.endsWith('…')).toBe(true);
    expect(JSON.stringify(record).length).toBeLessThan(4096);
  });

  it('refuses only a rollback away from the release the record is about, when it is not safe and not accepted', () => {
    const unsafe = { release: 'r2', previous: 'r1', rollbackSafe: false, reason: 'x' };
    expect(rollbackRefusal(unsafe, 'r2', 'r1', false)).toMatch(/^r2 is not rollback-safe: its migrations break the release before it \(x\), so r1 would serve/);
    expect(rollbackRefusal(unsafe, 'r2', 'r1', true)).toBeUndefined();
    expect(rollbackRefusal(unsafe, 'r3', 'r2', false)).toBeUndefined();
    expect(rollbackRefusal({ ...unsafe, rollbackSafe: true }, 'r2', 'r1', false)).toBeUndefined();
    expect(rollbackRefusal(undefined, 'r2', 'r1', false)).toBeUndefined();
  });

  it('reads a record it wrote, and treats anything else as none', () => {
    expect(parseSchemaRecord(JSON.stringify({ release: 'r2', previous: 'r1', rollbackSafe: true }))).toEqual({ release: 'r2', previous: 'r1', rollbackSafe: true });
    for (const text of [undefined, '', 'not json', '{"release": "r2"}', '[]']) expect(parseSchemaRecord(text)).toBeUndefined();
  });

  it('takes the commit from a release id', () => {
    expect(releaseCommit('2026.11.22-3f9c2ab')).toBe('3f9c2ab');
    expect(releaseCommit('rehearsal-a')).toBeUndefined();
    expect(releaseCommit('2026.11.22')).toBeUndefined();
  });
});

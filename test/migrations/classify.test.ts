// The classification's rules that Debian's Django 3.2 cannot produce from a migration file (a database
// default is Django 5's db_default), and the verdict lines; the rest is tested on real files in plan.test.ts.
import { describe, expect, it } from 'vitest';
import { classifyPlan, type FieldFacts, type OperationFacts, type ReleaseGraph } from '../../lib/migrations/classify';
import { renderCheck, verdictLine } from '../../lib/migrations/render';

const field = (over: Partial<FieldFacts> = {}): FieldFacts => ({
  name: 'stock',
  type: 'django.db.models.IntegerField',
  column: 'stock',
  null: false,
  dbDefault: false,
  unique: false,
  manyToMany: false,
  maxLength: null,
  maxDigits: null,
  decimalPlaces: null,
  relatedTo: null,
  ...over,
});

const graph = (operations: OperationFacts[], acknowledged: string | null = null, conflicts: Record<string, string[]> = {}): ReleaseGraph => ({
  django: '5.0',
  applied: [],
  conflicts,
  plan: [{ app: 'shop', name: '0002_change', replaces: [], merge: false, acknowledged, operations }],
});

describe('classifyPlan', () => {
  it('passes a NOT NULL field added with a database default (Django 5 db_default), and refuses one without', () => {
    const withDefault = classifyPlan(graph([{ operation: 'AddField', model: 'Item', field: 'stock', new: field({ dbDefault: true }) }]));
    expect(withDefault.findings[0]).toMatchObject({ severity: 'safe', what: 'adds Item.stock with a database default' });
    expect(withDefault.verdict).toBe('pass');
    const without = classifyPlan(graph([{ operation: 'AddField', model: 'Item', field: 'stock', new: field() }]));
    expect(without.verdict).toBe('fail');
  });

  it('refuses a foreign key pointed at another model', () => {
    const fk = (relatedTo: string) => field({ name: 'owner', column: 'owner_id', type: 'django.db.models.ForeignKey', relatedTo });
    const check = classifyPlan(graph([{ operation: 'AlterField', model: 'Item', field: 'owner', old: fk('auth.user'), new: fk('shop.customer') }]));
    expect(check.findings[0]).toMatchObject({ severity: 'breaks' });
    expect(check.findings[0].what).toContain('(auth.user to shop.customer)');
  });

  it('asks for a look at an operation it does not know, and at an AlterField whose earlier field it could not find', () => {
    const check = classifyPlan(graph([{ operation: 'CreateExtension' }, { operation: 'AlterField', model: 'Item', field: 'x', new: field() }]));
    expect(check.findings.map((f) => f.severity)).toEqual(['look', 'look']);
    expect(check.verdict).toBe('pass');
    expect(verdictLine(check)).toBe('passed: nothing breaks the live release (2 to look at)');
  });

  it('fails on a conflict alone, and says so', () => {
    const check = classifyPlan(graph([], null, { shop: ['0002_a', '0002_b'] }));
    expect(check.verdict).toBe('fail');
    expect(verdictLine(check)).toBe('refused: conflicting migrations (shop: 0002_a, 0002_b)');
    expect(renderCheck(check)).toContain('CONFLICT shop: 0002_a, 0002_b: migrate refuses to run until a merge migration joins them');
  });

  it('keeps an acknowledged breaking operation breaking, counts it, and passes', () => {
    const check = classifyPlan(graph([{ operation: 'DeleteModel', model: 'Item' }], 'Item moved to catalog in release 3'));
    expect(check).toMatchObject({ verdict: 'pass', breaking: 1 });
    expect(check.findings[0]).toMatchObject({ severity: 'breaks', acknowledged: 'Item moved to catalog in release 3' });
  });
});

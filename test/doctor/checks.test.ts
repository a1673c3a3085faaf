// doctor's verdicts without a boot: a check that could not be verified never counts as a pass, so
// the exit code is 0 only when every row passed.
import { describe, expect, it } from 'vitest';
import { bootRow, CHECKS, dbTimeoutRow, migrationSafetyRow, notBooted, passed, pathRow, renderTable } from '../../lib/doctor/checks';
import { classifyPlan, type ReleaseGraph } from '../../lib/migrations/classify';

const HEALTH_TIMEOUT_MS = 5_000;

describe('the database connect-timeout check', () => {
  it('passes a PostgreSQL connect that gives up below the health-check timeout, and fails one that hangs', () => {
    expect(dbTimeoutRow({ vendor: 'postgresql', elapsedMs: 2_000, hung: false }, HEALTH_TIMEOUT_MS)).toEqual({
      check: CHECKS.dbTimeout,
      status: 'pass',
      detail: 'gave up after 2.0 s (health-check timeout 5 s)',
    });
    expect(dbTimeoutRow({ vendor: 'postgresql', elapsedMs: 8_000, hung: true }, HEALTH_TIMEOUT_MS)).toMatchObject({
      status: 'fail',
      fix: expect.stringContaining('set the database connect timeout below 5 s'),
    });
  });

  it('fails, with a fix, an app that is not on PostgreSQL: the migration lock needs it', () => {
    const row = dbTimeoutRow({ vendor: 'sqlite', elapsedMs: 10, hung: false }, HEALTH_TIMEOUT_MS);
    expect(row.status).toBe('fail');
    expect(row.detail).toBe("with DATABASE_URL=postgres://… the app's database is sqlite, so its connect timeout could not be checked");
    expect(row.fix).toContain('ENGINE django.db.backends.postgresql');
    expect(row.fix).toContain("greenlight's migration lock is a PostgreSQL advisory lock");
    expect(passed([pathRow('/health/', 'staging', '/health/'), row])).toBe(false);
  });
});

describe('the verdict and the table', () => {
  const path = pathRow('/health/', 'staging', '/health/');

  it('passes only when every row passed', () => {
    expect(passed([path, bootRow({ ok: true })])).toBe(true);
    expect(passed([])).toBe(false);
    expect(renderTable([path, bootRow({ ok: true })])).toMatch(/\n\nevery check passed\n$/);
  });

  it('counts checks that could not be run as not passed, and says so', () => {
    const rows = [path, bootRow({ ok: false, step: 'migrations', detail: 'exit 1', log: '/var/log/bootstrap.log' }), ...notBooted(CHECKS.health, CHECKS.migrations)];
    expect(passed(rows)).toBe(false);
    const table = renderTable(rows);
    expect(table).toMatch(/^SKIP {2}health path answers 200 +the app did not boot$/m);
    expect(table).toMatch(/\n\n1 of 4 checks failed; 2 could not be run\n$/);
    expect(passed(notBooted(CHECKS.health))).toBe(false);
    expect(renderTable(notBooted(CHECKS.health))).toMatch(/\n\n1 could not be run\n$/);
  });
});

describe('the migration check row (--live-app)', () => {
  const graph = (operation: string, acknowledged: string | null = null): ReleaseGraph => ({
    django: '3.2.25',
    applied: [],
    conflicts: {},
    plan: [{ app: 'catalog', name: '0003_change', replaces: [], merge: false, acknowledged, operations: [{ operation, model: 'Product', field: 'name' }] }],
  });

  it('fails on the first unacknowledged breaking operation with its fix, and passes an acknowledged one', () => {
    const row = migrationSafetyRow(classifyPlan(graph('RemoveField')), 'shop-v1');
    expect(row).toMatchObject({ check: CHECKS.migrationSafety, status: 'fail', detail: 'on top of shop-v1: catalog.0003_change RemoveField: drops Product.name (column name): the live release still reads and writes it' });
    expect(row.fix).toContain('first ship a release whose code no longer uses Product.name');
    const acknowledged = migrationSafetyRow(classifyPlan(graph('RemoveField', 'nothing reads name')), 'shop-v1');
    expect(acknowledged.status).toBe('pass');
    expect(acknowledged.detail).toContain('1 breaking operation(s) acknowledged');
  });

  it('fails, naming the cause, when the migrations could not be read', () => {
    const row = migrationSafetyRow({ error: "the live release (shop-v1): the settings shop.settings do not load: KeyError: 'X'" }, 'shop-v1');
    expect(row).toMatchObject({ status: 'fail', detail: expect.stringContaining("KeyError: 'X'") });
  });
});

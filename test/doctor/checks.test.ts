// doctor's verdicts without a boot: a check that could not be verified never counts as a pass, so
// the exit code is 0 only when every row passed.
import { describe, expect, it } from 'vitest';
import { bakeRow, bootRow, CHECKS, dbTimeoutRow, hostValidatedRow, migrationSafetyRow, notBooted, pagesRow, passed, pathRow, renderTable, settingsFix } from '../../lib/doctor/checks';
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

describe('the rows of the app as users and the load balancer see it', () => {
  const context = { healthPath: '/health/', address: '127.0.3.1', timeoutMs: HEALTH_TIMEOUT_MS, foreignHost: 'greenlight-doctor.invalid' };

  it('passes a health check that refuses a foreign Host, and fails one that answers it', () => {
    expect(hostValidatedRow({ status: 400, ms: 3 }, context).status).toBe('pass');
    expect(hostValidatedRow({ status: 200, ms: 3 }, context)).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(/^GET \/health\/ with Host greenlight-doctor\.invalid -> 200: a Host not in ALLOWED_HOSTS is not refused/),
      fix: expect.stringContaining('request.get_host()'),
    });
    expect(hostValidatedRow({ status: 'ECONNREFUSED', ms: 3 }, context).status).toBe('fail');
  });

  it('fails a page that answers 5xx or nothing, naming the exception the app logged; a redirect or a 4xx is served', () => {
    const served = [
      { path: '/', chain: ['/', '/catalog/'], status: 200 },
      { path: '/missing/', chain: ['/missing/'], status: 404 },
    ];
    expect(pagesRow(served, undefined, '/x/app.log')).toMatchObject({ status: 'pass', detail: 'GET / -> /catalog/ -> 200; GET /missing/ -> 404' });
    const broken = [...served, { path: '/orders/', chain: ['/orders/'], status: 500, excerpt: 'Server Error (500)' }];
    expect(pagesRow(broken, 'django.db.utils.ProgrammingError: relation "orders" does not exist', '/x/app.log')).toEqual({
      check: CHECKS.pages,
      status: 'fail',
      detail: 'GET /orders/ -> 500: django.db.utils.ProgrammingError: relation "orders" does not exist',
      fix: 'fix the exception the page raises (its traceback is in /x/app.log)',
    });
    expect(pagesRow([{ path: '/', chain: ['/'], status: 'timeout' }], undefined, '/x/app.log').detail).toBe('GET / -> timeout');
  });

  it('names the variable the settings read and the configuration lacks, and only then', () => {
    expect(settingsFix("KeyError: 'DJANGO_SECRET_KEY'", { SECRET_KEY: 'x' }, 'other')).toBe(
      "give DJANGO_SECRET_KEY in --env-file (NAME=VALUE lines): the app's settings read it, and list it in required-env (on AWS: SSM /greenlight/<app>/<env>/config/DJANGO_SECRET_KEY)",
    );
    expect(settingsFix('django.core.exceptions.ImproperlyConfigured: STRIPE_KEY is not set', {}, 'other')).toMatch(/^give STRIPE_KEY in --env-file/);
    expect(settingsFix("KeyError: 'DJANGO_SECRET_KEY'", { DJANGO_SECRET_KEY: 'x' }, 'other')).toBe('other');
    expect(settingsFix('ModuleNotFoundError: No module named whitenoise', {}, 'other')).toBe('other');
  });

  it('says which bake step failed, with a fix for its cause', () => {
    expect(bakeRow({ ok: false, step: 'requirements', cause: 'requirements.txt: no distribution of whitenoise==6.6.0 in wheels/ or the package index; …' })).toMatchObject({
      status: 'fail',
      detail: 'failed in step requirements: requirements.txt: no distribution of whitenoise==6.6.0 in wheels/ or the package index; …',
      fix: expect.stringContaining('wheels/'),
    });
    expect(bakeRow({ ok: false, step: 'static', cause: "manage.py collectstatic --no-input: KeyError: 'DJANGO_SECRET_KEY'" }).fix).toContain('GREENLIGHT_BAKE=1');
    const outside = bakeRow({ ok: false, step: 'static', cause: 'STATIC_ROOT: received "/var/www/static"; expected a directory inside the app directory, …' });
    expect(outside.fix).toContain('STATIC_ROOT to a directory inside the project');
    expect(outside.fix).not.toContain('GREENLIGHT_BAKE');
  });
});

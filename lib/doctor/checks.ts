// `greenlight doctor`'s verdicts: what each observation of the booted app means for the health
// contract, with a fix for each failure, and the table that shows them. Pure.
import type { MigrationCheck } from '../migrations/classify';
import { findingLine, verdictLine } from '../migrations/render';

/** `skip`: not run, because the app did not boot; like a failure, it keeps doctor from passing. */
export type CheckStatus = 'pass' | 'fail' | 'skip';

export interface CheckRow {
  readonly check: string;
  readonly status: CheckStatus;
  /** What was observed. */
  readonly detail: string;
  /** What to change, for a failure. */
  readonly fix?: string;
}

export const CHECKS = {
  bake: 'the release image bakes (30-release.sh)',
  boot: 'first boot (bootstrap.sh)',
  requiredConfig: 'refuses to start without required config',
  host: 'Host = instance IP is allowed',
  hostValidated: 'the health check validates Host',
  slash: 'no trailing-slash redirect',
  https: 'no HTTPS redirect on the health path',
  health: 'health path answers 200',
  pages: 'home page and smoke paths serve (no 5xx)',
  migrations: 'migrations applied at boot',
  models: 'every model change has a migration',
  dbTimeout: 'database connect timeout < health-check timeout',
  path: "health path = the environment's health check",
  migrationSafety: 'migrations keep the live release working',
} as const;

const pass = (check: string, detail: string): CheckRow => ({ check, status: 'pass', detail });
const fail = (check: string, detail: string, fix: string): CheckRow => ({ check, status: 'fail', detail, fix });
const skip = (check: string, detail: string): CheckRow => ({ check, status: 'skip', detail });

/** One GET of the health path as the load balancer sends it. */
export interface HealthAnswer {
  /** The status code, or the error (`timeout`, `ECONNREFUSED`) when there was no answer. */
  readonly status: number | string;
  readonly location?: string;
  /** What the body says (its title or first line), for a failure's detail. */
  readonly excerpt?: string;
  readonly ms: number;
}

export interface HealthContext {
  readonly healthPath: string;
  readonly address: string;
  readonly timeoutMs: number;
}

/** The four rows a load balancer's health check decides: Host, both redirects, and the 200. */
export function healthRows(answer: HealthAnswer, c: HealthContext): CheckRow[] {
  const got = typeof answer.status === 'number' ? `GET ${c.healthPath} with Host ${c.address} -> ${answer.status}` : `GET ${c.healthPath}: ${answer.status}`;
  const redirect = typeof answer.status === 'number' && answer.status >= 300 && answer.status < 400 ? (answer.location ?? '') : undefined;
  const rows: CheckRow[] = [];
  rows.push(
    answer.status === 400
      ? fail(CHECKS.host, got, "add the instance's private IP to ALLOWED_HOSTS: read it from the file GREENLIGHT_IPV4_FILE names (/etc/aws/ipv4, written at first boot)")
      : pass(CHECKS.host, typeof answer.status === 'number' ? `not 400 (${answer.status})` : 'no answer to judge'),
  );
  const toSlash = redirect !== undefined && /^(https?:\/\/[^/]+)?(\/.*)$/.exec(redirect)?.[2] === `${c.healthPath}/`;
  const toHttps = redirect !== undefined && redirect.startsWith('https://');
  rows.push(
    toSlash && !toHttps
      ? fail(CHECKS.slash, `${got} to ${redirect}`, `end health-path with its slash (${c.healthPath}/) in pyproject.toml and in cdk.json's healthCheck.path; Django's APPEND_SLASH redirects it`)
      : pass(CHECKS.slash, redirect === undefined ? 'no redirect' : `redirect to ${redirect} is not the slash`),
  );
  rows.push(
    toHttps
      ? fail(CHECKS.https, `${got} to ${redirect}`, `exempt the health path from the app's HTTPS redirect (e.g. SECURE_REDIRECT_EXEMPT = [r"^${c.healthPath.replace(/^\//, '')}$"]); nginx already serves it over plain HTTP`)
      : pass(CHECKS.https, redirect === undefined ? 'no redirect' : `redirect to ${redirect} is not to https`),
  );
  if (answer.status === 200) {
    rows.push(
      answer.ms < c.timeoutMs
        ? pass(CHECKS.health, `200 in ${answer.ms} ms`)
        : fail(CHECKS.health, `200, but after ${answer.ms} ms`, `answer within the health-check timeout (${c.timeoutMs} ms): keep the health check's work small`),
    );
  } else if (typeof answer.status === 'number') {
    rows.push(
      fail(
        CHECKS.health,
        `${got}${answer.excerpt && answer.status >= 500 ? `: ${answer.excerpt}` : ''}`,
        answer.status === 503 ? 'the app says it is not ready: fix what its reason names (the app log has the detail)' : 'fix the rows above; the load balancer counts anything but 200 as a failure',
      ),
    );
  } else {
    rows.push(fail(CHECKS.health, got, answer.status === 'timeout' ? `answer within the health-check timeout (${c.timeoutMs} ms)` : 'the app did not answer: see the app log'));
  }
  return rows;
}

/** The health path asked with a Host no app allows: Django's answer is 400, when the check validates it. */
export function hostValidatedRow(answer: HealthAnswer, c: HealthContext & { readonly foreignHost: string }): CheckRow {
  const got = `GET ${c.healthPath} with Host ${c.foreignHost} -> ${answer.status}`;
  if (answer.status === 400) return pass(CHECKS.hostValidated, got);
  if (typeof answer.status !== 'number') return fail(CHECKS.hostValidated, got, 'the app did not answer: see the app log');
  return fail(
    CHECKS.hostValidated,
    `${got}: a Host not in ALLOWED_HOSTS is not refused, so a check by the instance IP passes where real traffic on that Host fails`,
    'validate the Host in the health check before it answers: call request.get_host() first, or put greenlight_health.HealthCheckMiddleware first in MIDDLEWARE',
  );
}

/** One page as a person's browser gets it: the path asked, the redirects followed, and the last answer. */
export interface PageAnswer {
  readonly path: string;
  /** Every path requested, the first one included, when redirects were followed. */
  readonly chain: readonly string[];
  readonly status: number | string;
  /** What the answer's body says (its title or first line). */
  readonly excerpt?: string;
}

/** `/` and the smoke paths: none may answer 5xx or nothing, as a load balancer counts errors; a redirect or a 4xx is served. */
export function pagesRow(answers: readonly PageAnswer[], appException: string | undefined, appLog: string): CheckRow {
  const describe = (a: PageAnswer) => `GET ${a.chain.join(' -> ')} -> ${a.status}`;
  const failed = answers.filter((a) => typeof a.status !== 'number' || a.status >= 500);
  if (failed.length === 0) return pass(CHECKS.pages, answers.map(describe).join('; '));
  const first = failed[0];
  const cause = appException ?? first.excerpt;
  return fail(
    CHECKS.pages,
    `${describe(first)}${cause ? `: ${cause}` : ''}${failed.length > 1 ? ` (+${failed.length - 1} more)` : ''}`,
    appException ? `fix the exception the page raises (its traceback is in ${appLog})` : `fix the page; see ${appLog}`,
  );
}

/**
 * The fix for a cause in the app's own settings: a variable they read that the configuration lacks
 * is named, with where to give it; anything else falls back to `otherwise`.
 */
export function settingsFix(cause: string, config: Readonly<Record<string, string>>, otherwise: string): string {
  const name =
    /KeyError: '([A-Za-z_][A-Za-z0-9_]*)'/.exec(cause)?.[1] ??
    /\b([A-Z][A-Z0-9_]+) (?:is not set|is required|is missing|not set)/.exec(cause)?.[1] ??
    /environment variable '?([A-Z][A-Z0-9_]+)'?/i.exec(cause)?.[1];
  if (name && config[name] === undefined) {
    return `give ${name} in --env-file (NAME=VALUE lines): the app's settings read it, and list it in required-env (on AWS: SSM /greenlight/<app>/<env>/config/${name})`;
  }
  return otherwise;
}

/** Started without the variable (bad), or refused with this cause (good). */
export interface WithoutVariable {
  readonly name: string;
  readonly refused: boolean;
  readonly cause?: string;
}

export function requiredConfigRow(results: readonly WithoutVariable[]): CheckRow {
  if (results.length === 0) {
    return fail(CHECKS.requiredConfig, 'the manifest requires no configuration', 'list the variables the app cannot run without in [tool.greenlight] required-env');
  }
  const started = results.filter((r) => !r.refused).map((r) => r.name);
  if (started.length > 0) {
    return fail(
      CHECKS.requiredConfig,
      `the app starts without ${started.join(', ')}`,
      `read ${started.join(', ')} with no default and raise ImproperlyConfigured when it is unset, so a misconfigured release never turns healthy`,
    );
  }
  return pass(CHECKS.requiredConfig, results.map((r) => `without ${r.name}: ${r.cause ?? 'refused'}`).join('; '));
}

export function migrationsRow(unappliedCheck: { code: number | null; output: string }, migrate: readonly string[]): CheckRow {
  return unappliedCheck.code === 0
    ? pass(CHECKS.migrations, 'manage.py migrate --check: nothing unapplied')
    : fail(
        CHECKS.migrations,
        `after first boot ran ${migrate.join(' ')}, manage.py migrate --check still finds unapplied migrations`,
        'make [tool.greenlight] migrate run Django\'s migrate (e.g. ["manage.py", "migrate", "--no-input"])',
      );
}

export function modelsRow(makemigrations: { code: number | null; output: string }): CheckRow {
  return makemigrations.code === 0
    ? pass(CHECKS.models, 'manage.py makemigrations --check: no changes')
    : fail(CHECKS.models, 'manage.py makemigrations --check finds model changes without a migration', 'run manage.py makemigrations and ship the migration with the release');
}

/** Connecting to a database that accepts TCP and never answers. */
export interface DbTimeoutProbe {
  /** The engine the app chose for the probe's DATABASE_URL. */
  readonly vendor?: string;
  readonly elapsedMs: number;
  /** Still waiting when the probe gave up. */
  readonly hung: boolean;
}

export function dbTimeoutRow(probe: DbTimeoutProbe, healthTimeoutMs: number): CheckRow {
  // Not verified is not passed: greenlight-migrate's lock across instances is a PostgreSQL advisory lock.
  if (!probe.hung && probe.vendor !== undefined && probe.vendor !== 'postgresql') {
    return fail(
      CHECKS.dbTimeout,
      `with DATABASE_URL=postgres://… the app's database is ${probe.vendor}, so its connect timeout could not be checked`,
      `take PostgreSQL from a postgres:// DATABASE_URL (ENGINE django.db.backends.postgresql, OPTIONS {"connect_timeout": 3}): greenlight's migration lock is a PostgreSQL advisory lock`,
    );
  }
  const fix = `set the database connect timeout below ${healthTimeoutMs / 1000} s (PostgreSQL: OPTIONS {"connect_timeout": 3}), so a dead database gives a clean 503, not Target.Timeout`;
  if (probe.hung) return fail(CHECKS.dbTimeout, `a connect to an unanswering database still waited after ${(probe.elapsedMs / 1000).toFixed(1)} s`, fix);
  return probe.elapsedMs < healthTimeoutMs
    ? pass(CHECKS.dbTimeout, `gave up after ${(probe.elapsedMs / 1000).toFixed(1)} s (health-check timeout ${healthTimeoutMs / 1000} s)`)
    : fail(CHECKS.dbTimeout, `gave up after ${(probe.elapsedMs / 1000).toFixed(1)} s, not below the health-check timeout`, fix);
}

export function pathRow(manifestPath: string, environment: string, environmentPath: string): CheckRow {
  return manifestPath === environmentPath
    ? pass(CHECKS.path, `${environment} checks ${environmentPath}`)
    : fail(CHECKS.path, `the app serves ${manifestPath}; ${environment} checks ${environmentPath}`, `set healthCheck.path of ${environment} in cdk.json to ${manifestPath}`);
}

export function bootRow(boot: { readonly ok: true } | { readonly ok: false; readonly step: string; readonly detail: string; readonly log?: string }): CheckRow {
  if (boot.ok) return pass(CHECKS.boot, 'every step passed; the app started behind nginx');
  const fix =
    boot.step === 'required configuration'
      ? 'give the missing variables in --env-file (on AWS: SSM /greenlight/<app>/<env>/config/)'
      : `see the full log: ${boot.log ?? 'none was written'}`;
  return fail(CHECKS.boot, `failed in step ${boot.step}: ${boot.detail}`, fix);
}

/**
 * The migration check against the live release's project (`--live-app`), or the one line that says
 * why its migrations could not be read.
 */
export function migrationSafetyRow(check: MigrationCheck | { readonly error: string }, liveApp: string): CheckRow {
  if ('error' in check) return fail(CHECKS.migrationSafety, check.error, 'make both projects\' settings and migrations load (greenlight check-migrations shows the same line)');
  const first = check.findings.find((f) => f.severity === 'breaks' && !f.acknowledged);
  if (check.verdict === 'pass') return pass(CHECKS.migrationSafety, `on top of ${liveApp}: ${verdictLine(check)}`);
  if (!first) return fail(CHECKS.migrationSafety, verdictLine(check), 'add a merge migration (manage.py makemigrations --merge)');
  return fail(CHECKS.migrationSafety, `on top of ${liveApp}: ${findingLine(first)}`, first.fix ?? 'ship it in two releases: expand, then contract');
}

export function bakeRow(bake: { readonly ok: true; readonly detail: string } | { readonly ok: false; readonly step: string; readonly cause: string }): CheckRow {
  if (bake.ok) return pass(CHECKS.bake, bake.detail);
  const fix =
    bake.step === 'requirements'
      ? "ship the missing package's wheel in the app's wheels/ directory, or fix requirements.txt"
      : bake.step === 'static' && /^STATIC_(ROOT|URL):/.test(bake.cause)
        ? 'set STATIC_URL to a path such as /static/ and STATIC_ROOT to a directory inside the project, e.g. BASE_DIR / "staticfiles": nginx serves it from the release'
        : bake.step === 'static'
          ? 'make the static step run without the environment\'s configuration: settings see GREENLIGHT_BAKE=1 at bake and must import without secrets'
          : 'see the bake log';
  return fail(CHECKS.bake, `failed in step ${bake.step}: ${bake.cause}`, fix);
}

/** Rows that need a running app, skipped because it did not boot. */
export function notBooted(...checks: string[]): CheckRow[] {
  return checks.map((c) => skip(c, 'the app did not boot'));
}

/** Every row after a failed bake: nothing could be booted or imported. */
export function notBaked(checks: readonly string[]): CheckRow[] {
  return checks.map((c) => skip(c, 'the release image did not bake'));
}

/** Every check passed: one that failed or could not be run is not a pass. */
export function passed(rows: readonly CheckRow[]): boolean {
  return rows.length > 0 && rows.every((r) => r.status === 'pass');
}

/** The table: one line per check, the fix under each failure. */
export function renderTable(rows: readonly CheckRow[]): string {
  const width = Math.max(...rows.map((r) => r.check.length));
  const lines = rows.flatMap((r) => [
    `${r.status.toUpperCase().padEnd(4)}  ${r.check.padEnd(width)}  ${r.detail}`,
    ...(r.fix ? [`${' '.repeat(6 + width)}  fix: ${r.fix}`] : []),
  ]);
  const failed = rows.filter((r) => r.status === 'fail').length;
  const skipped = rows.filter((r) => r.status === 'skip').length;
  const summary = passed(rows)
    ? 'every check passed'
    : [failed > 0 ? `${failed} of ${rows.length} checks failed` : '', skipped > 0 ? `${skipped} could not be run` : ''].filter(Boolean).join('; ');
  return `${lines.join('\n')}\n\n${summary}\n`;
}

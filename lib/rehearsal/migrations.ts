// The migration check, played where a release starts: after blue serves and before green launches,
// green's migrations are planned on top of blue's with each image's own python. A pair that breaks
// blue is refused before anything migrates, unless the rehearsal was told to play it anyway
// (--ignore-migration-check), which shows what the check prevents: blue failing from the moment
// green's migration ran. Nothing here stops the load, which keeps running on blue.
import { execFile } from 'node:child_process';
import type { MigrationCheck } from '../migrations/classify';
import { checkMigrations, releaseCode } from '../migrations/check';
import { findingLine, verdictLine } from '../migrations/render';
import type { BlueServing } from './blue';
import type { AfterGate } from './cutover';
import type { ReleaseImage } from './instance';
import type { MigrationsReport } from './report';
import type { Stage } from './stage';

export interface MigrationsPhase {
  readonly check: MigrationCheck;
  /** Green does not launch. */
  readonly refused: boolean;
  readonly overridden: boolean;
}

export async function checkGreenMigrations(stage: Stage, { blueImage, greenImage, config }: BlueServing): Promise<MigrationsPhase> {
  const check = await checkMigrations({
    live: releaseCode(blueImage, `blue (${stage.appDir})`),
    next: releaseCode(greenImage, `green (${stage.appGreenDir})`),
    config,
    acknowledgements: greenImage.manifest.acceptBreakingMigrations,
  });
  stage.mark(`migration check ${check.verdict === 'pass' ? 'passed' : 'failed'}`, verdictLine(check));
  const failed = check.verdict === 'fail';
  const overridden = failed && stage.o.ignoreMigrationCheck === true;
  if (failed && !overridden) stage.mark('green refused', 'before it launched or migrated anything; blue serves on');
  if (overridden) stage.mark('migration check overridden', "green launches anyway (--ignore-migration-check): its migrations run while blue serves");
  return { check, refused: failed && !overridden, overridden };
}

const APPLIED_AT = [
  'import json, os, sys',
  'sys.path.insert(0, os.getcwd())',
  'import django',
  'django.setup()',
  'from django.db.migrations.recorder import MigrationRecorder',
  'from django.utils import timezone',
  'times = []',
  'for app, name in json.loads(sys.argv[1]):',
  '    for applied in MigrationRecorder.Migration.objects.filter(app=app, name=name).values_list("applied", flat=True):',
  '        times.append((applied if timezone.is_aware(applied) else timezone.make_aware(applied)).timestamp())',
  'print(min(times) if times else "")',
].join('\n');

/** When the first of `migrations` (app.name) was recorded applied in green's database (epoch ms), if it was. */
function migratedAt(image: ReleaseImage, config: Readonly<Record<string, string>>, migrations: readonly string[]): Promise<number | undefined> {
  const code = releaseCode(image, 'green');
  const pairs = migrations.map((m) => [m.slice(0, m.indexOf('.')), m.slice(m.indexOf('.') + 1)]);
  const env = { ...config, PATH: '/usr/bin:/bin', LANG: 'C.UTF-8', DJANGO_SETTINGS_MODULE: code.settings, PYTHONDONTWRITEBYTECODE: '1' };
  return new Promise((resolve) => {
    execFile(code.python, ['-c', APPLIED_AT, JSON.stringify(pairs)], { cwd: code.appDir, env, timeout: 60_000 }, (err, stdout) => {
      const seconds = Number(stdout.trim());
      resolve(err || stdout.trim() === '' || !Number.isFinite(seconds) ? undefined : Math.round(seconds * 1000));
    });
  });
}

/** The report's section: the check, and with the check overridden, blue's failures from green's migration on. */
export async function migrationsReport(stage: Stage, phase: MigrationsPhase, live: BlueServing, after: AfterGate): Promise<MigrationsReport> {
  const { check } = phase;
  const base: MigrationsReport = {
    verdict: check.verdict,
    summary: verdictLine(check),
    findings: check.findings.filter((f) => f.severity !== 'safe').map((f) => `${f.severity === 'breaks' ? 'BREAKS' : 'LOOK'} ${findingLine(f)}${f.acknowledged ? ` (acknowledged: ${f.acknowledged})` : ''}`),
    refused: phase.refused,
    overridden: phase.overridden,
  };
  if (!phase.overridden) return base;
  const at = await migratedAt(live.greenImage, live.config, check.migrations);
  if (at === undefined) return { ...base, cause: "green's migrations were never recorded as applied" };
  const sinceStart = (t: number) => t - stage.started;
  // Blue serves every user request until the cutover (and again after a switch back).
  // By when they failed: a request sent just before the migration and held by its lock (PostgreSQL's
  // ALTER TABLE) fails once the column is gone.
  const blueFailures = live.load.failuresAnswered(at, after.cutoverAt);
  const before = { count: live.load.failuresAnsweredBefore(at) };
  const first = check.findings.find((f) => f.severity === 'breaks' && !f.acknowledged) ?? check.findings[0];
  return {
    ...base,
    greenMigratedAfterMs: sinceStart(at),
    blueFailuresAfterMigration: blueFailures.count,
    failuresBeforeMigration: before.count,
    ...(blueFailures.firstAt !== undefined ? { blueFirstFailureAfterMs: sinceStart(blueFailures.firstAt) } : {}),
    cause:
      blueFailures.count > 0
        ? `green's migration ${first ? `${first.app}.${first.migration} (${first.operation} ${first.model ?? ''}${first.field ? `.${first.field}` : ''})` : ''} ran at ` +
          `${(sinceStart(at) / 1000).toFixed(1)} s; blue's first failed request followed ${((blueFailures.firstAt ?? at) - at) / 1000} s later, and ${blueFailures.count} failed until the cutover`
        : "green's migrations ran, and no request to blue failed",
  };
}

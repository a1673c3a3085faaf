// `greenlight check-migrations`: both projects baked as release images, their graphs read by each
// image's python (Debian's Django), the exit code and the lines a user sees.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliInProcess } from '../helpers/cli';
import { writeDjangoProject, type DjangoProjectSpec, type MigrationSource } from '../helpers/django-project';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'greenlight-check-migrations-test-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const INITIAL: MigrationSource = {
  operations: [
    'migrations.CreateModel(name="Greeting", fields=[("id", models.AutoField(primary_key=True, serialize=False)), ("text", models.CharField(max_length=200))])',
  ],
};
const next = (operations: string[], classLines: string[] = []): MigrationSource => ({ dependencies: [['shop', '0001_initial']], operations, classLines });

let n = 0;
const project = (migrations: Record<string, MigrationSource>, extra: Omit<DjangoProjectSpec, 'apps'> = {}) =>
  writeDjangoProject(path.join(root, `p${++n}`), { apps: { shop: { '0001_initial': INITIAL, ...migrations } }, ...extra });

const v1 = project({});
// Its settings print, as some do: the check reads its JSON all the same.
const addsNullable = project(
  { '0002_greeting_created': next(['migrations.AddField(model_name="greeting", name="created", field=models.DateTimeField(null=True))']) },
  { settingsLines: ['print("settings loaded")'] },
);
const removesText = project({ '0002_remove_greeting_text': next(['migrations.RemoveField(model_name="greeting", name="text")']) });

describe('greenlight check-migrations', () => {
  it('passes a pair that only adds a nullable field (exit 0)', async () => {
    const run = await cliInProcess(['check-migrations', '--app', v1, '--app-green', addsNullable]);
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain('safe   shop.0002_greeting_created AddField: adds Greeting.created nullable');
    expect(run.stdout).toMatch(/^passed: nothing breaks the live release$/m);
    expect(run.code).toBe(0);
  }, 60_000);

  it('refuses a pair that removes a field the live release uses, naming the field and the fix (exit 1)', async () => {
    const run = await cliInProcess(['check-migrations', '--app', v1, '--app-green', removesText]);
    expect(run.stdout).toContain('BREAKS shop.0002_remove_greeting_text RemoveField: drops Greeting.text (column text): the live release still reads and writes it');
    expect(run.stdout).toMatch(/fix: first ship a release whose code no longer uses Greeting\.text/);
    expect(run.stdout).toMatch(/^refused: 1 operation\(s\) break the live release, first shop\.0002_remove_greeting_text RemoveField/m);
    expect(run.code).toBe(1);
  }, 60_000);

  it('lets an acknowledged removal pass and shows the acknowledgement, in the manifest or in the migration', async () => {
    const inManifest = project({ '0002_remove_greeting_text': next(['migrations.RemoveField(model_name="greeting", name="text")']) }, {
      manifestLines: ['[tool.greenlight.accept-breaking-migrations]', '"shop.0002_remove_greeting_text" = "text moved to Message in release 7"'],
    });
    const inMigration = project({ '0002_remove_greeting_text': next(['migrations.RemoveField(model_name="greeting", name="text")'], ['greenlight_accept_breaking = "nothing reads text since release 7"']) });
    const manifestRun = await cliInProcess(['check-migrations', '--app', v1, '--app-green', inManifest, '--json']);
    expect(manifestRun.code).toBe(0);
    const json = JSON.parse(manifestRun.stdout);
    expect(json).toMatchObject({ verdict: 'pass', breaking: 1, findings: [{ severity: 'breaks', field: 'text', acknowledged: 'text moved to Message in release 7' }] });
    const migrationRun = await cliInProcess(['check-migrations', '--app', v1, '--app-green', inMigration]);
    expect(migrationRun.stdout).toContain('acknowledged: nothing reads text since release 7');
    expect(migrationRun.stdout).toMatch(/^passed: nothing breaks the live release; 1 breaking operation\(s\) acknowledged, so the live release is not a safe rollback target$/m);
    expect(migrationRun.code).toBe(0);
  }, 60_000);

  it('stops in one line for a missing app (exit 2)', async () => {
    const missing = path.join(root, 'nowhere');
    const run = await cliInProcess(['check-migrations', '--app', missing, '--app-green', v1]);
    expect(run.stderr).toBe(`greenlight: --app ${JSON.stringify(missing)}: ${missing} has no manage.py; expected a Django project directory\n`);
    expect(run.code).toBe(2);
    const noGreen = await cliInProcess(['check-migrations', '--app', v1]);
    expect(noGreen.stderr).toBe('greenlight: --app-green is required: the Django project of the new release\n');
    expect(noGreen.code).toBe(2);
  });

  it('stops in one line when the settings do not load, and runs with --env-file giving what they read', async () => {
    const needsToken = project({}, { settingsLines: ['SHOP_TOKEN = os.environ["SHOP_TOKEN"]'] });
    const run = await cliInProcess(['check-migrations', '--app', needsToken, '--app-green', addsNullable]);
    expect(run.stderr).toBe(
      `greenlight: the live release (${needsToken}): the settings project.settings do not load: KeyError: 'SHOP_TOKEN'; give the app's configuration with --env-file (NAME=VALUE lines)\n`,
    );
    expect(run.stdout).toBe('');
    expect(run.code).toBe(2);
    const envFile = path.join(root, 'app.env');
    fs.writeFileSync(envFile, 'SHOP_TOKEN=abc\n');
    const withConfig = await cliInProcess(['check-migrations', '--app', needsToken, '--app-green', addsNullable, '--env-file', envFile]);
    expect(withConfig.code).toBe(0);
  }, 60_000);
});

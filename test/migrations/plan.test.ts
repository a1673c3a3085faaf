// The migration check on real migration files: two Django projects (the live release and the new one)
// with an app per case, read by Django's own MigrationLoader (Debian's python3-django) through
// migration_plan.py, then classified. One pair of projects holds every case, so Django loads twice.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MigrationCheck, type MigrationFinding, type ReleaseGraph } from '../../lib/migrations/classify';
import { checkMigrations, readGraph, type ReleaseCode } from '../../lib/migrations/check';
import { writeDjangoProject, type MigrationSource } from '../helpers/django-project';

const ITEM = `migrations.CreateModel(name="Item", fields=[
            ("id", models.AutoField(primary_key=True, serialize=False)),
            ("name", models.CharField(max_length=100)),
            ("note", models.CharField(max_length=100, null=True)),
            ("code", models.CharField(max_length=20, db_column="legacy_code")),
        ])`;
const initial: MigrationSource = { operations: [ITEM] };
const after0001 = (...operations: string[]): MigrationSource => ({ dependencies: [['APP', '0001_initial']], operations });

/** One app per case: the live release has 0001_initial, the new one adds 0002_change. */
const CASES: Record<string, { change: MigrationSource; severity: MigrationFinding['severity']; what: RegExp; fix?: RegExp }> = {
  add_nullable: { change: after0001('migrations.AddField(model_name="item", name="colour", field=models.CharField(max_length=20, null=True))'), severity: 'safe', what: /adds Item\.colour nullable/ },
  add_not_null: {
    change: after0001('migrations.AddField(model_name="item", name="stock", field=models.IntegerField(default=0), preserve_default=False)'),
    severity: 'breaks',
    what: /adds Item\.stock NOT NULL without a database default/,
    fix: /null=True.*backfill.*NOT NULL in a later release/,
  },
  remove_field: { change: after0001('migrations.RemoveField(model_name="item", name="note")'), severity: 'breaks', what: /drops Item\.note \(column note\)/, fix: /no longer uses Item\.note.*SeparateDatabaseAndState.*later release/ },
  rename_field: { change: after0001('migrations.RenameField(model_name="item", old_name="name", new_name="title")'), severity: 'breaks', what: /renames Item\.name to Item\.title: the live release reads column name/, fix: /db_column="name"/ },
  rename_same_column: { change: after0001('migrations.RenameField(model_name="item", old_name="code", new_name="sku")'), severity: 'safe', what: /same column legacy_code/ },
  alter_not_null: { change: after0001('migrations.AlterField(model_name="item", name="note", field=models.CharField(max_length=100, default=""), preserve_default=False)'), severity: 'breaks', what: /makes Item\.note NOT NULL/, fix: /always sets Item\.note/ },
  alter_type: { change: after0001('migrations.AlterField(model_name="item", name="name", field=models.TextField())'), severity: 'breaks', what: /changes Item\.name from django\.db\.models\.CharField to django\.db\.models\.TextField/, fix: /new field of the new type/ },
  alter_shorter: { change: after0001('migrations.AlterField(model_name="item", name="name", field=models.CharField(max_length=50))'), severity: 'breaks', what: /shortens Item\.name from 100 to 50/ },
  alter_longer: { change: after0001('migrations.AlterField(model_name="item", name="name", field=models.CharField(max_length=200))'), severity: 'safe', what: /alters Item\.name/ },
  alter_unique: { change: after0001('migrations.AlterField(model_name="item", name="name", field=models.CharField(max_length=100, unique=True))'), severity: 'breaks', what: /makes Item\.name unique/, fix: /de-duplicate/ },
  alter_nullable: { change: after0001('migrations.AlterField(model_name="item", name="name", field=models.CharField(max_length=100, null=True))'), severity: 'safe', what: /alters Item\.name/ },
  delete_model: { change: after0001('migrations.DeleteModel(name="Item")'), severity: 'breaks', what: /drops model Item and its table/ },
  rename_model: { change: after0001('migrations.RenameModel(old_name="Item", new_name="Product")'), severity: 'breaks', what: /renames model Item to Product/, fix: /db_table="rename_model_item"/ },
  create_model: { change: after0001('migrations.CreateModel(name="Tag", fields=[("id", models.AutoField(primary_key=True, serialize=False))])'), severity: 'safe', what: /creates model Tag/ },
  add_index: { change: after0001('migrations.AddIndex(model_name="item", index=models.Index(fields=["name"], name="item_name_idx"))'), severity: 'safe', what: /adds an index on Item/ },
  unique_constraint: {
    change: after0001('migrations.AddConstraint(model_name="item", constraint=models.UniqueConstraint(fields=["name"], name="item_name_uniq"))'),
    severity: 'breaks',
    what: /adds unique constraint item_name_uniq on Item \(name\)/,
  },
  unique_together: { change: after0001('migrations.AlterUniqueTogether(name="item", unique_together={("name", "code")})'), severity: 'breaks', what: /adds unique_together \(name, code\) on Item/ },
  check_constraint: {
    change: after0001('migrations.AddConstraint(model_name="item", constraint=models.CheckConstraint(check=models.Q(name__gt=""), name="item_name_set"))'),
    severity: 'look',
    what: /adds check constraint item_name_set on Item/,
  },
  run_sql: { change: after0001('migrations.RunSQL("UPDATE run_sql_item SET note = name", migrations.RunSQL.noop)'), severity: 'look', what: /runs SQL greenlight cannot judge: UPDATE run_sql_item SET note = name/ },
  run_python: {
    change: { ...after0001('migrations.RunPython(fill_notes, migrations.RunPython.noop)'), moduleLines: ['def fill_notes(apps, schema_editor):', '    pass'] },
    severity: 'look',
    what: /runs run_python\.migrations\.0002_change\.fill_notes while the live release serves/,
  },
  state_only_removal: {
    change: after0001('migrations.SeparateDatabaseAndState(state_operations=[migrations.RemoveField(model_name="item", name="note")], database_operations=[])'),
    severity: 'safe',
    what: /./,
  },
  acknowledged: {
    change: { ...after0001('migrations.RemoveField(model_name="item", name="note")'), classLines: ['greenlight_accept_breaking = "nothing reads note since release 41"'] },
    severity: 'breaks',
    what: /drops Item\.note/,
  },
  acknowledged_in_manifest: { change: after0001('migrations.RemoveField(model_name="item", name="note")'), severity: 'breaks', what: /drops Item\.note/ },
};

const withApp = (app: string, m: MigrationSource): MigrationSource => ({
  ...m,
  dependencies: (m.dependencies ?? []).map(([a, n]) => [a === 'APP' ? app : a, n] as const),
});

const caseApps = (withChange: boolean) =>
  Object.fromEntries(Object.entries(CASES).map(([app, c]) => [app, { '0001_initial': initial, ...(withChange ? { '0002_change': withApp(app, c.change) } : {}) }]));

const colour = (app: string, after: string): MigrationSource => withApp(app, { dependencies: [['APP', after]], operations: ['migrations.AddField(model_name="item", name="colour", field=models.CharField(max_length=20, null=True))'] });

const LIVE: Record<string, Record<string, MigrationSource>> = {
  ...caseApps(false),
  // Squashed: the live release applied 0001 and 0002; the new one squashed them and removes a field.
  squashed: { '0001_initial': initial, '0002_colour': colour('squashed', '0001_initial') },
  // Squashed over a partly applied history: Django runs the replaced migrations that are left.
  squash_partial: { '0001_initial': initial },
  // A branch merged in the new release.
  merged: { '0001_initial': initial, '0002_colour': colour('merged', '0001_initial') },
  catalog: { '0001_initial': initial },
  conflicted: { '0001_initial': initial },
};

const NEW: Record<string, Record<string, MigrationSource>> = {
  ...caseApps(true),
  squashed: {
    '0001_initial': initial,
    '0002_colour': colour('squashed', '0001_initial'),
    '0001_squashed_0002_colour': {
      replaces: [['squashed', '0001_initial'], ['squashed', '0002_colour']],
      operations: [ITEM, 'migrations.AddField(model_name="item", name="colour", field=models.CharField(max_length=20, null=True))'],
    },
    '0003_remove_note': { dependencies: [['squashed', '0001_squashed_0002_colour']], operations: ['migrations.RemoveField(model_name="item", name="note")'] },
  },
  squash_partial: {
    '0001_initial': initial,
    '0002_stock': withApp('squash_partial', { dependencies: [['APP', '0001_initial']], operations: ['migrations.AddField(model_name="item", name="stock", field=models.IntegerField(default=0), preserve_default=False)'] }),
    '0001_squashed_0002_stock': {
      replaces: [['squash_partial', '0001_initial'], ['squash_partial', '0002_stock']],
      operations: [ITEM, 'migrations.AddField(model_name="item", name="stock", field=models.IntegerField(default=0), preserve_default=False)'],
    },
  },
  merged: {
    '0001_initial': initial,
    '0002_colour': colour('merged', '0001_initial'),
    '0002_size': withApp('merged', { dependencies: [['APP', '0001_initial']], operations: ['migrations.AddField(model_name="item", name="size", field=models.IntegerField(null=True))'] }),
    '0003_merge': { dependencies: [['merged', '0002_colour'], ['merged', '0002_size']] },
  },
  catalog: { '0001_initial': initial },
  // Several apps: a new app whose first migration points at another app's model.
  orders: {
    '0001_initial': {
      dependencies: [['catalog', '0001_initial']],
      operations: ['migrations.CreateModel(name="Order", fields=[("id", models.AutoField(primary_key=True, serialize=False)), ("item", models.ForeignKey(on_delete=models.CASCADE, to="catalog.item"))])'],
    },
  },
  conflicted: {
    '0001_initial': initial,
    '0002_a': withApp('conflicted', { dependencies: [['APP', '0001_initial']] }),
    '0002_b': withApp('conflicted', { dependencies: [['APP', '0001_initial']] }),
  },
};

let dir: string;
let liveGraph: ReleaseGraph;
let check: MigrationCheck;
const code = (project: string): ReleaseCode => ({ label: `the ${project} release`, python: '/usr/bin/python3', appDir: path.join(dir, project), settings: 'project.settings' });
const CONFIG = { SECRET_KEY: 'test' };

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'greenlight-migrations-'));
  writeDjangoProject(path.join(dir, 'live'), { apps: LIVE });
  writeDjangoProject(path.join(dir, 'new'), { apps: NEW });
  liveGraph = await readGraph(code('live'), CONFIG);
  check = await checkMigrations({
    live: code('live'),
    next: code('new'),
    config: CONFIG,
    acknowledgements: new Map([['acknowledged_in_manifest.0002_change', 'the note moved to Remark in release 40']]),
  });
}, 60_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const findingsOf = (app: string) => check.findings.filter((f) => f.app === app);

describe('the migration check on real migration files (Django ' + '3.2, Debian)', () => {
  it('reads what the live release applied: every migration of its graph', () => {
    expect(liveGraph.applied).toContainEqual(['squashed', '0002_colour']);
    expect(liveGraph.applied).toContainEqual(['remove_field', '0001_initial']);
    expect(liveGraph.applied).not.toContainEqual(['remove_field', '0002_change']);
    expect(liveGraph.plan).toBeUndefined();
  });

  it.each(Object.entries(CASES))('%s', (app, c) => {
    const findings = findingsOf(app);
    if (app === 'state_only_removal') {
      // The expand step of a removal: the model forgets the field, the column stays, nothing reaches the database.
      expect(findings).toEqual([]);
      expect(check.migrations).toContain(`${app}.0002_change`);
      return;
    }
    expect(findings).toHaveLength(1);
    const [f] = findings;
    expect(f).toMatchObject({ severity: c.severity, app, migration: '0002_change' });
    expect(f.what).toMatch(c.what);
    if (c.fix) expect(f.fix).toMatch(c.fix);
    if (c.severity !== 'safe') expect(f.fix).toBeTruthy();
    if (/_field$|^alter_|^add_/.test(app)) expect(f).toMatchObject({ model: 'Item' });
  });

  it('names the model and the field of field operations', () => {
    expect(findingsOf('remove_field')[0]).toMatchObject({ operation: 'RemoveField', model: 'Item', field: 'note' });
    expect(findingsOf('rename_field')[0]).toMatchObject({ operation: 'RenameField', model: 'Item', field: 'name' });
  });

  it("takes an acknowledgement from the migration or the manifest, and keeps it breaking", () => {
    expect(findingsOf('acknowledged')[0].acknowledged).toBe('nothing reads note since release 41');
    expect(findingsOf('acknowledged_in_manifest')[0].acknowledged).toBe('the note moved to Remark in release 40');
    expect(findingsOf('remove_field')[0].acknowledged).toBeUndefined();
  });

  it('plans on top of a squashed history: only what the squash did not replace', () => {
    expect(check.migrations.filter((m) => m.startsWith('squashed.'))).toEqual(['squashed.0003_remove_note']);
    expect(findingsOf('squashed')).toMatchObject([{ severity: 'breaks', migration: '0003_remove_note', field: 'note' }]);
  });

  it('runs the replaced migrations that are left when a squash is only partly applied', () => {
    expect(check.migrations.filter((m) => m.startsWith('squash_partial.'))).toEqual(['squash_partial.0002_stock']);
    expect(findingsOf('squash_partial')).toMatchObject([{ severity: 'breaks', migration: '0002_stock', field: 'stock' }]);
  });

  it('follows a merged branch: the branch the live release lacks, then the merge', () => {
    expect(check.migrations.filter((m) => m.startsWith('merged.'))).toEqual(['merged.0002_size', 'merged.0003_merge']);
    expect(findingsOf('merged')).toMatchObject([{ severity: 'safe', migration: '0002_size', field: 'size' }]);
  });

  it('covers several apps: a new app that depends on another comes in whole, after it', () => {
    expect(check.migrations).toContain('orders.0001_initial');
    expect(findingsOf('orders')).toMatchObject([{ severity: 'safe', operation: 'CreateModel', model: 'Order' }]);
    expect(findingsOf('catalog')).toEqual([]);
  });

  it('reports two leaves of one app as a conflict, which fails the check', () => {
    expect(check.conflicts).toEqual(['conflicted: 0002_a, 0002_b']);
    expect(check.verdict).toBe('fail');
  });

});

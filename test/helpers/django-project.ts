// Small Django projects with real migration files, for the migration check's tests: each app is a
// package with a migrations/ folder, written as `makemigrations` writes them.
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface MigrationSource {
  /** Dependencies as [app, name] pairs. */
  readonly dependencies?: ReadonlyArray<readonly [string, string]>;
  /** The operations, as Python expressions inside `operations = [...]`. */
  readonly operations?: readonly string[];
  readonly replaces?: ReadonlyArray<readonly [string, string]>;
  /** Extra lines of the Migration class (e.g. an acknowledgement) and of the module (functions). */
  readonly classLines?: readonly string[];
  readonly moduleLines?: readonly string[];
}

export interface DjangoProjectSpec {
  /** App label → migration name → its source. */
  readonly apps: Readonly<Record<string, Readonly<Record<string, MigrationSource>>>>;
  /** Lines added to the settings module (e.g. one that reads a variable). */
  readonly settingsLines?: readonly string[];
  /** Lines added to [tool.greenlight]. */
  readonly manifestLines?: readonly string[];
}

const py = (pairs: ReadonlyArray<readonly [string, string]>) => `[${pairs.map(([a, n]) => `("${a}", "${n}")`).join(', ')}]`;

function migrationFile(m: MigrationSource): string {
  return [
    'from django.db import migrations, models',
    '',
    ...(m.moduleLines ?? []),
    '',
    'class Migration(migrations.Migration):',
    `    dependencies = ${py(m.dependencies ?? [])}`,
    ...(m.replaces ? [`    replaces = ${py(m.replaces)}`] : []),
    ...(m.classLines ?? []).map((l) => `    ${l}`),
    '    operations = [',
    ...(m.operations ?? []).map((op) => `        ${op},`),
    '    ]',
    '',
  ].join('\n');
}

/** Writes the project into `dir` (created) and returns it. Settings: `project.settings`. */
export function writeDjangoProject(dir: string, spec: DjangoProjectSpec): string {
  const write = (file: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), text);
  };
  write('manage.py', '#!/usr/bin/env python3\nimport os, sys\nos.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")\nfrom django.core.management import execute_from_command_line\nexecute_from_command_line(sys.argv)\n');
  write(
    'pyproject.toml',
    ['[tool.greenlight]', 'wsgi = "project.wsgi:application"', 'settings = "project.settings"', 'health-path = "/health/"', 'required-env = ["SECRET_KEY"]', ...(spec.manifestLines ?? []), ''].join('\n'),
  );
  write('requirements.txt', 'Django>=3.2\n');
  write('project/__init__.py', '');
  write('project/wsgi.py', 'from django.core.wsgi import get_wsgi_application\napplication = get_wsgi_application()\n');
  write(
    'project/settings.py',
    [
      'import os',
      'SECRET_KEY = os.environ["SECRET_KEY"]',
      `INSTALLED_APPS = [${Object.keys(spec.apps).map((a) => `"${a}"`).join(', ')}]`,
      'DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "/nonexistent/never-opened.sqlite3"}}',
      'DEFAULT_AUTO_FIELD = "django.db.models.AutoField"',
      ...(spec.settingsLines ?? []),
      '',
    ].join('\n'),
  );
  for (const [app, migrations] of Object.entries(spec.apps)) {
    write(`${app}/__init__.py`, '');
    write(`${app}/migrations/__init__.py`, '');
    for (const [name, m] of Object.entries(migrations)) write(`${app}/migrations/${name}.py`, migrationFile(m));
  }
  return dir;
}

// The manifest has two readers: lib/manifest/load.ts (rehearsal, doctor) and packer/files/greenlight-app
// (bake, first boot). Both must accept the same files and reject the same mistakes with the same line.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadManifest } from '../../lib/manifest/load';
import { REPO_ROOT } from '../helpers/settings';

const HELPER = path.join(REPO_ROOT, 'packer', 'files', 'greenlight-app');
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

const VALID = `[tool.greenlight]
wsgi = "shopfront.server:app"
settings = "shopfront.conf"
health-path = "/ready/"
required-env = ["SHOP_SECRET"]
`;

function appWith(pyproject: string | undefined, files: Record<string, string> = {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'greenlight-manifest-'));
  dirs.push(dir);
  if (pyproject !== undefined) fs.writeFileSync(path.join(dir, 'pyproject.toml'), pyproject);
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}

const python = (dir: string, ...args: string[]) => spawnSync(HELPER, [...args.length ? args : ['check'], dir], { encoding: 'utf8' });
const tsError = (dir: string) => {
  try {
    loadManifest(dir);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
};

describe('the manifest', () => {
  it('reads a valid table with its defaults, the same in both readers', () => {
    const dir = appWith(`[project]\nname = "shopfront"\n\n${VALID}`);
    expect(loadManifest(dir)).toEqual({
      dir,
      file: path.join(dir, 'pyproject.toml'),
      wsgi: 'shopfront.server:app',
      settings: 'shopfront.conf',
      healthPath: '/ready/',
      requiredEnv: ['SHOP_SECRET'],
      migrate: ['manage.py', 'migrate', '--no-input'],
      requirements: 'requirements.txt',
      acceptBreakingMigrations: new Map(),
    });
    const get = (field: string) => spawnSync(HELPER, ['get', dir, field], { encoding: 'utf8' }).stdout;
    expect(get('migrate')).toBe('manage.py\nmigrate\n--no-input\n');
    expect(get('required-env')).toBe('SHOP_SECRET\n');
    expect(get('static')).toBe('');
    expect(python(dir).status).toBe(0);
  });

  it("is the example's, too", () => {
    const example = path.join(REPO_ROOT, 'examples', 'django-app');
    expect(loadManifest(example)).toMatchObject({ wsgi: 'greenlight_example.wsgi:application', livenessPath: '/healthz/' });
    expect(python(example).status).toBe(0);
  });

  const broken: Array<[string, string | undefined, string]> = [
    ['no file', undefined, 'pyproject.toml: not found; create it next to manage.py with a [tool.greenlight] table of wsgi, settings, health-path and required-env'],
    ['no table', '[project]\nname = "x"\n', 'pyproject.toml: no [tool.greenlight] table; add one with wsgi, settings, health-path and required-env'],
    ['a missing field', VALID.replace('wsgi = "shopfront.server:app"\n', ''), 'pyproject.toml: [tool.greenlight] wsgi is missing; expected a module and a callable, e.g. mysite.wsgi:application'],
    ['a WSGI module without its callable', VALID.replace('shopfront.server:app', 'shopfront.server'), 'pyproject.toml: [tool.greenlight] wsgi: received "shopfront.server"; expected a module and a callable, e.g. mysite.wsgi:application'],
    ['a relative health path', VALID.replace('"/ready/"', '"ready/"'), 'pyproject.toml: [tool.greenlight] health-path: received "ready/"; expected an absolute URL path such as /health/ (letters, digits, . _ ~ - /)'],
    ['a health path with a query', VALID.replace('"/ready/"', '"/ready/?full=1"'), 'health-path: received "/ready/?full=1"; expected an absolute URL path'],
    ['a string for a list', VALID.replace('["SHOP_SECRET"]', '"SHOP_SECRET"'), 'pyproject.toml: [tool.greenlight] required-env: received "SHOP_SECRET"; expected a list of distinct environment variable names, e.g. ["SECRET_KEY", "DATABASE_URL"]'],
    ['a bad variable name', VALID.replace('["SHOP_SECRET"]', '["SHOP-SECRET"]'), 'required-env: received ["SHOP-SECRET"]; expected a list of distinct'],
    ['an empty migrate command', `${VALID}migrate = []\n`, 'pyproject.toml: [tool.greenlight] migrate: received []; expected a non-empty list of arguments for the release\'s python, e.g. ["manage.py", "migrate", "--no-input"]'],
    ['an empty static command', `${VALID}static = []\n`, 'pyproject.toml: [tool.greenlight] static: received []; expected a non-empty list of arguments for the release\'s python, e.g. ["manage.py", "collectstatic", "--no-input"]'],
    ['a typo', `${VALID}helth-path = "/x/"\n`, 'pyproject.toml: [tool.greenlight] helth-path: unknown field; expected one of wsgi, settings, health-path, liveness-path, required-env, migrate, requirements, static, accept-breaking-migrations'],
    ['a requirements file that is not there', `${VALID}requirements = "requirements/prod.txt"\n`, 'requirements: received "requirements/prod.txt"; expected a file in the app directory, and'],
    ['requirements outside the app', `${VALID}requirements = "../secrets.txt"\n`, 'requirements: received "../secrets.txt"; expected a file path relative to the app directory'],
    [
      'an acknowledgement without its app label',
      `${VALID}[tool.greenlight.accept-breaking-migrations]\n"0007_remove_item_price" = "gone"\n`,
      'pyproject.toml: [tool.greenlight] accept-breaking-migrations: received {"0007_remove_item_price": "gone"}; expected a table of "app_label.migration_name" = "why", e.g. { "shop.0007_remove_item_price" = "nothing reads price since release 41" }',
    ],
    ['an acknowledgement without its reason', `${VALID}accept-breaking-migrations = { "shop.0007_remove_item_price" = " " }\n`, 'accept-breaking-migrations: received {"shop.0007_remove_item_price": " "}; expected a table of'],
    ['the liveness path equal to the health path', `${VALID}liveness-path = "/ready/"\n`, 'liveness-path: received "/ready/"; expected a path other than health-path'],
  ];

  it.each(broken)('rejects %s with one line naming the file and field, the same in both readers', (_what, pyproject, message) => {
    const dir = appWith(pyproject);
    const ts = tsError(dir);
    expect(ts).toContain(message);
    expect(ts?.startsWith(path.join(dir, 'pyproject.toml'))).toBe(true);
    const py = python(dir);
    expect(py.status).toBe(2);
    expect(py.stderr).toBe(`${ts}\n`);
  });

  it('reads the migrations a team accepts as breaking, app.name to the reason', () => {
    const dir = appWith(`${VALID}[tool.greenlight.accept-breaking-migrations]\n"shop.0007_remove_item_price" = "nothing reads price since release 41"\n`);
    expect(loadManifest(dir).acceptBreakingMigrations).toEqual(new Map([['shop.0007_remove_item_price', 'nothing reads price since release 41']]));
    expect(python(dir).status).toBe(0);
  });

  it('rejects TOML that does not parse, naming the file', () => {
    const dir = appWith('[tool.greenlight\nwsgi = 1\n');
    expect(tsError(dir)).toMatch(new RegExp(`^${path.join(dir, 'pyproject.toml')}: not valid TOML: `));
    const py = python(dir);
    expect(py.status).toBe(2);
    expect(py.stderr).toMatch(new RegExp(`^${path.join(dir, 'pyproject.toml')}: not valid TOML: `));
  });
});

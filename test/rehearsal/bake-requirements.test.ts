// The local bake is the AMI's: packer/scripts/30-release.sh installs the app's requirements into the
// release's virtualenv from its wheels/ (offline first) and the package index, runs the static step,
// and a step that fails says so in one line.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BakeError, bakeImage } from '../../lib/rehearsal/image';
import { REPO_ROOT } from '../helpers/settings';
import { downloadWheels } from './wheels';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
const tempDir = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gl-bake-'));
  fs.chmodSync(dir, 0o755);
  dirs.push(dir);
  return dir;
};

/** A minimal Django project: settings read DJANGO_SECRET_KEY, as many projects name it. */
function project(requirements: readonly string[], manifestExtra: readonly string[] = []): string {
  const dir = path.join(tempDir(), 'bookshop');
  const file = (name: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  };
  file('manage.py', 'import os, sys\nos.environ.setdefault("DJANGO_SETTINGS_MODULE", "bookshop.settings")\nfrom django.core.management import execute_from_command_line\nexecute_from_command_line(sys.argv)\n');
  file('bookshop/__init__.py', '');
  file('bookshop/settings.py', 'import os\nSECRET_KEY = os.environ["DJANGO_SECRET_KEY"]\nINSTALLED_APPS = ["django.contrib.staticfiles"]\nSTATIC_URL = "/static/"\nSTATIC_ROOT = "static"\n');
  file('requirements.txt', `${requirements.join('\n')}\n`);
  file('pyproject.toml', ['[tool.greenlight]', 'wsgi = "bookshop.wsgi:application"', 'settings = "bookshop.settings"', 'health-path = "/health/"', 'required-env = ["DJANGO_SECRET_KEY"]', ...manifestExtra, ''].join('\n'));
  return dir;
}

const bake = (appSource: string) => {
  const dir = tempDir();
  return { dir, image: () => bakeImage({ dir, app: 'bookshop', release: 'r1', appSource, packerFiles: path.join(REPO_ROOT, 'packer', 'files') }) };
};
const bakeError = (appSource: string): BakeError => {
  try {
    bake(appSource).image();
  } catch (error) {
    if (error instanceof BakeError) return error;
    throw error;
  }
  throw new Error('the bake passed');
};

describe('the local bake runs packer/scripts/30-release.sh', () => {
  it("installs what Debian 12 lacks (Django 5, dj-database-url, python-dotenv) from the app's wheels/, without the index", () => {
    const appSource = project(['Django>=5.2,<6', 'dj-database-url>=2', 'python-dotenv>=1']);
    const wheels = downloadWheels(path.join(appSource, 'wheels'), ['Django>=5.2,<6', 'dj-database-url>=2', 'python-dotenv>=1']);
    expect(wheels.some((w) => /^django-5\./i.test(w))).toBe(true);
    const { dir, image } = bake(appSource);
    // No index at all: what wheels/ holds must be enough.
    const previous = process.env.PIP_INDEX_URL;
    process.env.PIP_INDEX_URL = 'http://127.0.0.1:9/simple';
    try {
      image();
    } finally {
      if (previous === undefined) delete process.env.PIP_INDEX_URL;
      else process.env.PIP_INDEX_URL = previous;
    }
    const python = path.join(dir, 'opt/bookshop/current/venv/bin/python');
    const versions = spawnSync(python, ['-c', 'import django, dj_database_url, dotenv, greenlight_health, sys; print(django.get_version(), sys.version_info[:2])'], { encoding: 'utf8' });
    expect(versions.stdout).toMatch(/^5\.2\.\d+ \(3, 11\)$/m);
    // The venv is Debian's python3 with its packages, without a pip of its own.
    expect(fs.readFileSync(path.join(dir, 'opt/bookshop/current/venv/pyvenv.cfg'), 'utf8')).toMatch(/include-system-site-packages = true/);
    expect(fs.existsSync(path.join(dir, 'opt/bookshop/current/venv/bin/pip'))).toBe(false);
    expect(fs.readFileSync(path.join(dir, 'etc/greenlight/release'), 'utf8')).toBe('APP=bookshop\nRELEASE=r1\n');
  }, 120_000);

  it('stops in one line naming a package that neither wheels/ nor the index has, and how to ship it', () => {
    process.env.PIP_RETRIES ??= '0';
    const error = bakeError(project(['Django>=3.2', 'greenlight-no-such-package==1.0']));
    expect(error.message).toBe(
      "bake failed in step requirements: requirements.txt: no distribution of greenlight-no-such-package==1.0 in wheels/ or the package index; ship its wheel in the app's wheels/ directory (pip download -d wheels -r requirements.txt, where the index is reachable)",
    );
    expect(error.message).not.toContain('\n');
  }, 120_000);

  it("stops in one line at a static step that fails, with the exception it raised", () => {
    const error = bakeError(project(['Django>=3.2'], ['static = ["manage.py", "collectstatic", "--no-input"]']));
    expect(error.step).toBe('static');
    expect(error.message).toBe("bake failed in step static: manage.py collectstatic --no-input: KeyError: 'DJANGO_SECRET_KEY'");
  }, 60_000);
});

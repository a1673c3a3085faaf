// Static files through the AMI's nginx site: an app with a static step is baked by the AMI's own
// 30-release.sh (which reads STATIC_URL and STATIC_ROOT from its settings), and the real nginx,
// with the site the bake rendered, serves STATIC_ROOT in front of the app under gunicorn: hashed
// names cached for a year, unhashed ones revalidated, a missing one nginx's 404 that never reaches
// Django. A static root the site cannot serve stops the bake in one line.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BakeError, type ReleaseImage } from '../../lib/rehearsal/image';
import { ephemeralPort } from '../../lib/rehearsal/net';
import { bake, get, launch, startNginx } from '../userdata/instance';
import { startService, waitFor, type Service } from '../userdata/processes';

const ADDRESS = '127.0.2.7';
const dirs: string[] = [];
const services: Service[] = [];
afterAll(async () => {
  for (const service of services.reverse()) await service.stop();
  dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true }));
});
const tempDir = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gl-static-'));
  fs.chmodSync(dir, 0o755);
  dirs.push(dir);
  return dir;
};

/** A small Django project with a stylesheet, ManifestStaticFilesStorage and the given static settings. */
function project(staticSettings: readonly string[]): string {
  const dir = path.join(tempDir(), 'shop');
  const file = (name: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  };
  file('manage.py', 'import os, sys\nos.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")\nfrom django.core.management import execute_from_command_line\nexecute_from_command_line(sys.argv)\n');
  file('shop/__init__.py', '');
  file('shop/static/shop/site.css', 'body { font-family: sans-serif; }\n');
  file('shop/urls.py', 'from django.http import HttpResponse\nfrom django.urls import path\nurlpatterns = [path("", lambda request: HttpResponse("home"))]\n');
  file('shop/wsgi.py', 'from django.core.wsgi import get_wsgi_application\napplication = get_wsgi_application()\n');
  file('shop/settings.py', [
    'import os',
    'from pathlib import Path',
    'import django',
    'BASE_DIR = Path(__file__).resolve().parent.parent',
    'SECRET_KEY = "bake-only" if os.environ.get("GREENLIGHT_BAKE") == "1" else os.environ["DJANGO_SECRET_KEY"]',
    'ALLOWED_HOSTS = ["shop.test"]',
    'INSTALLED_APPS = ["django.contrib.staticfiles", "shop"]',
    'ROOT_URLCONF = "shop.urls"',
    'MANIFEST = "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"',
    'if django.VERSION >= (4, 2):',
    '    STORAGES = {"default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}, "staticfiles": {"BACKEND": MANIFEST}}',
    'else:',
    '    STATICFILES_STORAGE = MANIFEST',
    ...staticSettings,
    '',
  ].join('\n'));
  file('requirements.txt', 'Django>=3.2\n');
  file('pyproject.toml', ['[tool.greenlight]', 'wsgi = "shop.wsgi:application"', 'settings = "shop.settings"', 'health-path = "/health/"', 'required-env = ["DJANGO_SECRET_KEY"]', 'static = ["manage.py", "collectstatic", "--no-input"]', ''].join('\n'));
  return dir;
}

const bakeShop = (appSource: string) => bake(tempDir(), 'shop', 'r1', appSource);
const bakeError = (appSource: string): BakeError => {
  try {
    bakeShop(appSource);
  } catch (error) {
    if (error instanceof BakeError) return error;
    throw error;
  }
  throw new Error('the bake passed');
};

describe('nginx serves the release STATIC_ROOT', () => {
  let image: ReleaseImage;
  let root: string;
  let port: number;
  let accessLog: string;
  const https = { Host: 'shop.test', 'X-Forwarded-Proto': 'https' };

  beforeAll(async () => {
    image = bakeShop(project(['STATIC_URL = "/assets/"', 'STATIC_ROOT = BASE_DIR / "collected"']));
    root = launch(image, path.join(tempDir(), 'instance'));
    const app = path.join(root, 'opt', 'shop', 'current');
    accessLog = path.join(root, 'var', 'log', 'gunicorn-access.log');
    const gunicorn = startService(
      path.join(app, 'venv', 'bin', 'python'),
      ['-m', 'gunicorn', '--bind', `unix:${root}/run/greenlight/gunicorn.sock`, '--workers', '1', '--access-logfile', accessLog, 'shop.wsgi:application'],
      { cwd: path.join(app, 'app'), env: { PATH: '/usr/bin:/bin', DJANGO_SETTINGS_MODULE: 'shop.settings', DJANGO_SECRET_KEY: 'test-only' } },
    );
    port = await ephemeralPort(ADDRESS);
    const nginx = startNginx(root, ADDRESS, port);
    services.push(gunicorn, nginx);
    await waitFor('the app through nginx', async () => (await get(ADDRESS, port, '/', https)).status === 200);
  }, 120_000);

  const staticRoot = () => path.join(root, 'opt', 'shop', 'current', 'app', 'collected');
  const hashedCss = () => {
    const { paths } = JSON.parse(fs.readFileSync(path.join(staticRoot(), 'staticfiles.json'), 'utf8')) as { paths: Record<string, string> };
    return paths['shop/site.css'];
  };
  const appRequests = () => fs.readFileSync(accessLog, 'utf8');

  it("records the settings' STATIC_URL and STATIC_ROOT, relative to the app, in the release", () => {
    expect(JSON.parse(fs.readFileSync(path.join(image.root, 'opt/shop/releases/r1/static.json'), 'utf8'))).toEqual({ url: '/assets/', root: 'collected' });
  });

  it('renders a site that nginx -t accepts, with the static location aliased into the image', () => {
    const conf = path.join(root, 'etc', 'nginx', 'nginx.conf');
    const site = fs.readFileSync(path.join(root, 'etc', 'nginx', 'sites-enabled', 'greenlight'), 'utf8');
    expect(site).toContain('location ^~ /assets/ {');
    expect(site).toContain(`alias ${root}/opt/shop/current/app/collected/;`);
    const test = spawnSync('nginx', ['-t', '-c', conf], { encoding: 'utf8' });
    expect(test.stderr).toContain('test is successful');
  });

  it('serves a hashed name with a year-long immutable cache, from the file collectstatic wrote', async () => {
    const name = hashedCss();
    expect(name).toMatch(/^shop\/site\.[0-9a-f]{12}\.css$/);
    const reply = await get(ADDRESS, port, `/assets/${name}`, https);
    expect(reply.status).toBe(200);
    expect(reply.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(reply.headers['content-type']).toBe('text/css');
    expect(reply.body).toBe(fs.readFileSync(path.join(staticRoot(), name), 'utf8'));
  });

  it('serves an unhashed name for revalidation, and answers a revalidation with 304', async () => {
    const reply = await get(ADDRESS, port, '/assets/shop/site.css', https);
    expect(reply.status).toBe(200);
    expect(reply.headers['cache-control']).toBe('no-cache');
    expect(reply.body).toBe('body { font-family: sans-serif; }\n');
    const again = await get(ADDRESS, port, '/assets/shop/site.css', { ...https, 'If-None-Match': String(reply.headers.etag) });
    expect(again.status).toBe(304);
  });

  it("answers a missing file with nginx's 404, hashed-looking or not, without reaching Django", async () => {
    for (const missing of ['/assets/shop/missing.css', '/assets/shop/site.0123456789ab.css']) {
      const reply = await get(ADDRESS, port, missing, https);
      expect(reply.status, missing).toBe(404);
      expect(reply.headers['cache-control'], missing).toBeUndefined();
      expect(reply.body, missing).toMatch(/<center>nginx\/[\d.]+<\/center>/);
    }
    expect(appRequests()).toMatch(/"GET \/ HTTP/);
    expect(appRequests()).not.toContain('/assets/');
  });

  it('redirects static requests that did not arrive over https, and still never redirects the health path', async () => {
    const plain = await get(ADDRESS, port, `/assets/${hashedCss()}`, { Host: 'shop.test' });
    expect(plain.status).toBe(301);
    expect(plain.headers.location).toBe(`https://shop.test/assets/${hashedCss()}`);
    const unhashed = await get(ADDRESS, port, '/assets/shop/site.css', { Host: 'shop.test' });
    expect(unhashed.status).toBe(301);
    const health = await get(ADDRESS, port, '/health/', { Host: 'shop.test' });
    expect(health.status).not.toBe(301);
    expect(appRequests()).toMatch(/"GET \/health\/ HTTP/);
  });
});

describe('a static root nginx cannot serve from the release stops the bake in one line', () => {
  it('STATIC_ROOT outside the app directory', () => {
    const outside = path.join(tempDir(), 'www');
    const error = bakeError(project(['STATIC_URL = "/static/"', `STATIC_ROOT = "${outside}"`]));
    expect(error.step).toBe('static');
    expect(error.message).toBe(
      `bake failed in step static: STATIC_ROOT: received "${outside}"; expected a directory inside the app directory, such as BASE_DIR / "staticfiles" (letters, digits, . _ ~ -), so that nginx serves it from the release`,
    );
  }, 120_000);

  it("STATIC_ROOT holding the project's code, which nginx would serve", () => {
    const error = bakeError(project(['STATIC_URL = "/static/"', 'STATIC_ROOT = BASE_DIR / "shop"']));
    expect(error.message).toMatch(
      /^bake failed in step static: STATIC_ROOT: received "\/\S+\/opt\/shop\/releases\/r1\/app\/shop"; expected a directory of its own, and it holds the settings shop\/settings\.py, which nginx would serve; use BASE_DIR \/ "staticfiles"$/,
    );
  }, 120_000);

  it('STATIC_URL at the root of the site, which would hide the app', () => {
    const error = bakeError(project(['MEDIA_URL = "/media/"', 'STATIC_URL = "/"', 'STATIC_ROOT = BASE_DIR / "collected"']));
    expect(error.message).toBe(
      'bake failed in step static: STATIC_URL: received "/"; expected a path below / ending in a slash, such as /static/ (letters, digits, . _ ~ - /), which nginx serves from STATIC_ROOT',
    );
  }, 120_000);
});

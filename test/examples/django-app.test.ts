// Django's own tests for the reference app (health middleware, settings, migration lock),
// run with Debian's python3 and Django like the AMI.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const APP = join(__dirname, '..', '..', 'examples', 'django-app');

it('passes manage.py test', async () => {
  const db = join(mkdtempSync(join(tmpdir(), 'greenlight-django-')), 'db.sqlite3');
  const child = spawn('/usr/bin/python3', ['manage.py', 'test', '--noinput', '-v', '1'], {
    cwd: APP,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', SECRET_KEY: 'test-only', DATABASE_URL: `sqlite://${db}`, PYTHONDONTWRITEBYTECODE: '1' },
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  expect(output).toMatch(/^OK$/m);
  expect(output).toMatch(/Ran (\d{2,}) tests/);
  expect(code, output).toBe(0);
}, 120_000);

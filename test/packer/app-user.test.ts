// packer/scripts/20-app-user.sh with getent, useradd and id replaced by stubs on PATH, so it runs
// without root and without touching this machine's users.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const SCRIPT = join(__dirname, '..', '..', 'packer', 'scripts', '20-app-user.sh');
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'greenlight-app-user-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the script for `app` on an image whose passwd holds `passwd` lines. */
function run(app: string, passwd: string[]) {
  writeFileSync(join(dir, 'passwd'), passwd.join('\n') + '\n');
  const stub = (name: string, body: string) => {
    writeFileSync(join(dir, name), `#!/bin/bash\n${body}\n`);
    chmodSync(join(dir, name), 0o755);
  };
  stub('getent', `grep "^$2:" "${dir}/passwd"`);
  stub('useradd', `echo "$@" >>"${dir}/useradd.log"; echo "\${@: -1}:x:998:998::/opt/\${@: -1}:/usr/sbin/nologin" >>"${dir}/passwd"`);
  stub('id', `grep "^$2:" "${dir}/passwd" | cut -d: -f3`);
  const result = spawnSync('bash', [SCRIPT], { encoding: 'utf8', env: { PATH: `${dir}:/usr/bin:/bin`, GREENLIGHT_APP: app } });
  const useradd = (() => {
    try {
      return readFileSync(join(dir, 'useradd.log'), 'utf8');
    } catch {
      return '';
    }
  })();
  return { ...result, useradd };
}

describe('20-app-user.sh', () => {
  it('creates a system user without a login shell', () => {
    const r = run('shop', ['root:x:0:0:root:/root:/bin/bash']);
    expect(r.status).toBe(0);
    expect(r.useradd).toBe('--system --user-group --home-dir /opt/shop --no-create-home --shell /usr/sbin/nologin shop\n');
  });

  it('keeps the user an earlier run created', () => {
    const r = run('shop', ['shop:x:998:998::/opt/shop:/usr/sbin/nologin']);
    expect(r.status).toBe(0);
    expect(r.useradd).toBe('');
  });

  it("refuses a user the base image already has, such as cloud-init's admin", () => {
    const r = run('admin', ['admin:x:1000:1000:Debian:/home/admin:/bin/bash']);
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe('user admin already exists on the base image (home /home/admin); choose another app name');
    expect(r.useradd).toBe('');
  });
});

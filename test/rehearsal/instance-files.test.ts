// The rehearsal runs the AMI's own files: these tests render them from packer/files and let nginx
// itself check the result.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { gunicornCommand, renderNginxMain, renderSite, type InstancePaths } from '../../lib/rehearsal/instance-files';
import { REPO_ROOT } from '../helpers/settings';

// The site and the unit as the bake renders them from the example's manifest; the rest as shipped.
const packerFile = (name: string) =>
  name === 'nginx-site.conf' || name === 'greenlight-app.service'
    ? execFileSync(path.join(REPO_ROOT, 'packer', 'files', 'greenlight-app'), ['render', path.join(REPO_ROOT, 'examples', 'django-app'), '--app', 'greenlight-demo', path.join(REPO_ROOT, 'packer', 'files', name)], { encoding: 'utf8' })
    : fs.readFileSync(path.join(REPO_ROOT, 'packer', 'files', name), 'utf8');
const paths: InstancePaths = {
  root: '/srv/rehearsal/green-1',
  image: '/srv/rehearsal/image-b',
  address: '127.0.1.3',
  port: 8080,
  socketPath: '/srv/rehearsal/green-1/run/greenlight/gunicorn.sock',
};

describe('renderSite', () => {
  const site = renderSite(packerFile('nginx-site.conf'), paths);
  const code = site.split('\n').filter((l) => !l.trim().startsWith('#')).join('\n');

  it('rewrites only the listen address, socket, logs and TLS include of the AMI site', () => {
    expect(code).toContain('listen 127.0.1.3:8080 default_server;');
    expect(code.match(/proxy_pass http:\/\/unix:\/srv\/rehearsal\/green-1\/run\/greenlight\/gunicorn\.sock:;/g)).toHaveLength(3);
    expect(code).toContain('access_log /srv/rehearsal/green-1/var/log/nginx/greenlight-health.log;');
    expect(code).toContain('include /srv/rehearsal/green-1/etc/greenlight/nginx/tls.conf;');
    expect(code).not.toMatch(/\s\/run\/|\s\/var\/log\/|listen 80\b/);
  });

  it('keeps everything else of the AMI site', () => {
    const untouched = (text: string) => text.split('\n').filter((l) => !/listen |proxy_pass |_log |include /.test(l));
    expect(untouched(site)).toEqual(untouched(packerFile('nginx-site.conf')));
  });

  it('fails loudly when the AMI site no longer has a line it rewrites', () => {
    const changed = packerFile('nginx-site.conf').replace(/^(\s+)listen 80 default_server;/m, '$1listen 8000;');
    expect(() => renderSite(changed, paths)).toThrow('packer/files/nginx-site.conf: expected the line "listen 80 default_server;" to rewrite');
  });

  it('is a configuration nginx accepts', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'greenlight-nginx-'));
    try {
      const own = { ...paths, root, socketPath: path.join(root, 'run/greenlight/gunicorn.sock') };
      for (const dir of ['etc/greenlight/nginx', 'var/log/nginx', 'var/lib/nginx', 'run/greenlight']) fs.mkdirSync(path.join(root, dir), { recursive: true });
      fs.writeFileSync(path.join(root, 'etc/greenlight/nginx/tls.conf'), packerFile('tls-on.conf'));
      fs.writeFileSync(path.join(root, 'site.conf'), renderSite(packerFile('nginx-site.conf'), own));
      fs.writeFileSync(path.join(root, 'nginx.conf'), renderNginxMain(own, path.join(root, 'site.conf'), undefined));
      const run = spawnSync('nginx', ['-t', '-p', root, '-c', path.join(root, 'nginx.conf')], { encoding: 'utf8' });
      expect(run.stderr).toContain('test is successful');
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('gunicornCommand', () => {
  it("runs the unit's ExecStart from the release image, bound to the instance's socket", () => {
    const service = gunicornCommand(packerFile('greenlight-app.service'), 'greenlight-demo', paths);
    expect(service.command).toBe('/srv/rehearsal/image-b/opt/greenlight-demo/current/venv/bin/python');
    expect(service.args).toEqual([
      '-m',
      'gunicorn',
      '--config',
      '/srv/rehearsal/image-b/etc/greenlight/gunicorn.conf.py',
      '--bind',
      'unix:/srv/rehearsal/green-1/run/greenlight/gunicorn.sock',
      'greenlight_example.wsgi:application',
    ]);
    expect(service.cwd).toBe('/srv/rehearsal/image-b/opt/greenlight-demo/current/app');
  });

  it("takes the unit's environment, with the instance's IP file", () => {
    const service = gunicornCommand(packerFile('greenlight-app.service'), 'greenlight-demo', paths);
    expect(service.env).toEqual({
      DJANGO_SETTINGS_MODULE: 'greenlight_example.settings',
      GREENLIGHT_IPV4_FILE: '/srv/rehearsal/green-1/etc/aws/ipv4',
      PYTHONUNBUFFERED: '1',
    });
  });

  it('refuses a unit it cannot run faithfully', () => {
    expect(() => gunicornCommand('[Service]\nExecStart=/bin/sh -c "gunicorn app"\nWorkingDirectory=/opt\n', 'a', paths)).toThrow('needs a shell');
    expect(() => gunicornCommand('[Service]\nExecStart=/usr/bin/uwsgi app\nWorkingDirectory=/opt\n', 'a', paths)).toThrow('does not run gunicorn');
    expect(() => gunicornCommand('[Service]\n', 'a', paths)).toThrow('expected ExecStart= and WorkingDirectory= lines');
  });
});

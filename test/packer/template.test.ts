// The AMI's template and shell scripts, checked with the real tools: shellcheck and Debian's Packer 1.6.6.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '..', '..');
const run = (cmd: string, args: string[]) => spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });

describe('shell scripts', () => {
  it('are clean under shellcheck', () => {
    const scripts = readdirSync(join(ROOT, 'packer/scripts'))
      .filter((f) => f.endsWith('.sh'))
      .map((f) => `packer/scripts/${f}`);
    expect(scripts.length).toBeGreaterThanOrEqual(4);
    const out = run('shellcheck', ['--external-sources', ...scripts, 'userdata/bootstrap.sh']);
    expect(out.stdout + out.stderr).toBe('');
    expect(out.status).toBe(0);
  });

  it('bootstrap carries the parameters marker right after set -euo pipefail', () => {
    const lines = readFileSync(join(ROOT, 'userdata/bootstrap.sh'), 'utf8').split('\n');
    const strict = lines.indexOf('set -euo pipefail');
    expect(strict).toBeGreaterThan(0);
    expect(lines.indexOf('# @greenlight-parameters@')).toBe(strict + 1);
  });
});

describe('Packer template', () => {
  const vars = ['-var', 'app=greenlight-demo', '-var', 'release=2026.11.22-3f9c2ab'];

  it('passes packer validate with Debian’s Packer 1.6.6', () => {
    expect(execFileSync('packer', ['version'], { encoding: 'utf8' })).toMatch(/^Packer v1\.6\.6/);
    const out = run('packer', ['validate', ...vars, 'packer/']);
    expect(out.stderr + out.stdout).not.toMatch(/Error/);
    expect(out.status).toBe(0);
  });

  it('shares the AMI with other accounts under a given KMS key, and type-checks the account list', () => {
    const sharing = ['-var', 'ami_users=["222222222222"]', '-var', 'kms_key_id=arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab'];
    expect(run('packer', ['validate', ...vars, ...sharing, 'packer/']).status).toBe(0);
    const wrong = run('packer', ['validate', ...vars, '-var', 'ami_users=222222222222', 'packer/']);
    expect(wrong.status).not.toBe(0);
    expect(wrong.stdout + wrong.stderr).toMatch(/ami_users/);
  });

  it('builds in a given VPC and subnet, reaching the instance as asked, and refuses an unknown ssh_interface', () => {
    const network = ['-var', 'vpc_id=vpc-0123', '-var', 'subnet_id=subnet-0123', '-var', 'associate_public_ip_address=false', '-var', 'ssh_interface=private_ip'];
    expect(run('packer', ['validate', ...vars, ...network, 'packer/']).status).toBe(0);
    const wrong = run('packer', ['validate', ...vars, '-var', 'ssh_interface=session_manager', 'packer/']);
    expect(wrong.status).not.toBe(0);
    expect(wrong.stdout + wrong.stderr).toMatch(/ssh_interface must be one of public_ip, private_ip, public_dns or\s+private_dns/);
    const template = readFileSync(join(ROOT, 'packer/greenlight.pkr.hcl'), 'utf8');
    for (const v of ['vpc_id', 'subnet_id', 'associate_public_ip_address', 'ssh_interface']) expect(template).toMatch(new RegExp(`\\b${v}\\s*=\\s*var\\.${v}\\b`));
  });

  it("tags what Packer creates with greenlight:packer, which the bake role's mutations require, and not the finished image's labels", () => {
    const template = readFileSync(join(ROOT, 'packer/greenlight.pkr.hcl'), 'utf8');
    expect(template).toMatch(/run_tags = merge\(local\.tags, \{ "greenlight:packer" = var\.app \}\)/);
    expect(template).toMatch(/\brun_tags\s*=\s*local\.run_tags/);
    expect(template).toMatch(/\brun_volume_tags\s*=\s*local\.run_tags/);
    expect(template).toMatch(/\btags\s*=\s*local\.tags/);
    const labels = template.slice(template.indexOf('tags = {'), template.indexOf('  # What Packer creates'));
    expect(labels).toContain('"greenlight:app"');
    expect(labels).not.toContain('greenlight:packer');
    // A shared AMI launches without its snapshot being shared, so the role needs no ModifySnapshotAttribute.
    expect(template).not.toMatch(/snapshot_users/);
  });

  it('is rejected without the app and release variables', () => {
    const out = run('packer', ['validate', 'packer/']);
    expect(out.status).not.toBe(0);
    expect(out.stdout + out.stderr).toMatch(/Unset variable "app"/);
  });

  it('is formatted (packer fmt -check), plugins included', () => {
    for (const dir of ['packer/', 'packer/plugins/']) {
      const out = run('packer', ['fmt', '-check', dir]);
      expect(out.stdout, `packer fmt would change ${out.stdout}`).toBe('');
      expect(out.status).toBe(0);
    }
  });

  it('keeps required_plugins out of the build template, for 1.6.6', () => {
    const template = readFileSync(join(ROOT, 'packer/greenlight.pkr.hcl'), 'utf8');
    expect(template).not.toMatch(/^\s*required_plugins\s*{/m);
    expect(readFileSync(join(ROOT, 'packer/plugins/plugins.pkr.hcl'), 'utf8')).toMatch(
      /source\s*=\s*"github.com\/hashicorp\/amazon"/,
    );
  });

  it('bakes an encrypted, tagged image from the official Debian 12 AMI and records its id', () => {
    const template = readFileSync(join(ROOT, 'packer/greenlight.pkr.hcl'), 'utf8');
    expect(template).toMatch(/encrypt_boot\s*=\s*true/);
    expect(template).toMatch(/encrypted\s*=\s*true/);
    expect(template).toMatch(/default\s*=\s*"debian-12-amd64-\*"/);
    expect(template).toMatch(/default\s*=\s*"136693071363"/);
    for (const tag of ['greenlight:app', 'greenlight:release', 'greenlight:git-sha', 'greenlight:built']) {
      expect(template).toContain(`"${tag}"`);
    }
    expect(template).toMatch(/post-processor "manifest"/);
  });
});

describe('files rendered at bake from the app manifest', () => {
  // Not the example: another project, WSGI callable, settings module and health path, no liveness path.
  const app = mkdtempSync(join(tmpdir(), 'greenlight-render-'));
  writeFileSync(join(app, 'pyproject.toml'), [
    '[tool.greenlight]',
    'wsgi = "shopfront.server:app"',
    'settings = "shopfront.conf.production"',
    'health-path = "/ops/ready/"',
    'required-env = ["SHOP_SECRET"]',
    '',
  ].join('\n'));
  afterAll(() => rmSync(app, { recursive: true, force: true }));
  const render = (file: string) => {
    const out = run(join(ROOT, 'packer/files/greenlight-app'), ['render', app, '--app', 'shopfront', join(ROOT, 'packer/files', file)]);
    expect(out.stderr).toBe('');
    expect(out.status).toBe(0);
    return out.stdout;
  };

  it('the unit runs the manifest\'s WSGI callable with its settings, as the app user', () => {
    const unit = render('greenlight-app.service');
    expect(unit).toMatch(/^ExecStart=\/opt\/shopfront\/current\/venv\/bin\/python -m gunicorn --config \/etc\/greenlight\/gunicorn\.conf\.py shopfront\.server:app$/m);
    expect(unit).toMatch(/^Environment=DJANGO_SETTINGS_MODULE=shopfront\.conf\.production$/m);
    expect(unit).toMatch(/^User=shopfront$/m);
    expect(unit).toMatch(/^WorkingDirectory=\/opt\/shopfront\/current\/app$/m);
    expect(unit).not.toMatch(/@[A-Z_]+@|greenlight_example/);
  });

  it('the nginx site exempts exactly the manifest\'s health path from the redirect', () => {
    const site = render('nginx-site.conf');
    const code = site.split('\n').filter((l) => !l.trim().startsWith('#')).join('\n');
    expect(code.match(/location = [^ ]+ \{/g)).toEqual(['location = /ops/ready/ {']);
    expect(code).not.toMatch(/@[A-Z_]+@|\/health\/|\/healthz\//);
    expect(code).toMatch(/location = \/ops\/ready\/ \{\s+access_log \/var\/log\/nginx\/greenlight-health\.log;/);
  });

  it("serves static files only when the release holds the bake's static.json, at its STATIC_URL from its STATIC_ROOT", () => {
    expect(render('nginx-site.conf')).not.toMatch(/^\s*(alias|location \^~)/m);
    // The release layout: static.json beside the app directory.
    const release = mkdtempSync(join(tmpdir(), 'greenlight-release-'));
    cpSync(app, join(release, 'app'), { recursive: true });
    writeFileSync(join(release, 'static.json'), JSON.stringify({ url: '/assets/', root: 'build/static' }));
    const out = run(join(ROOT, 'packer/files/greenlight-app'), ['render', join(release, 'app'), '--app', 'shopfront', join(ROOT, 'packer/files/nginx-site.conf')]);
    rmSync(release, { recursive: true, force: true });
    expect(out.status).toBe(0);
    const code = out.stdout.split('\n').filter((l) => !l.trim().startsWith('#')).join('\n');
    expect(code).toMatch(/location \^~ \/assets\/ \{\s+include \/etc\/greenlight\/nginx\/tls\.conf;\s+alias \/opt\/shopfront\/current\/app\/build\/static\/;/);
    expect(code).not.toMatch(/@[A-Z_]+@/);
  });

  it('a bad manifest stops the render with one line naming the file and field', () => {
    const bad = mkdtempSync(join(tmpdir(), 'greenlight-render-'));
    writeFileSync(join(bad, 'pyproject.toml'), '[tool.greenlight]\nwsgi = "shopfront.server:app"\nsettings = "shopfront.conf"\nhealth-path = "/ready/"\n');
    const out = run(join(ROOT, 'packer/files/greenlight-app'), ['render', bad, '--app', 'shopfront', join(ROOT, 'packer/files/greenlight-app.service')]);
    expect(out.status).toBe(2);
    expect(out.stdout).toBe('');
    expect(out.stderr).toBe(`${join(bad, 'pyproject.toml')}: [tool.greenlight] required-env is missing; expected a list of distinct environment variable names, e.g. ["SECRET_KEY", "DATABASE_URL"]\n`);
    rmSync(bad, { recursive: true, force: true });
  });
});

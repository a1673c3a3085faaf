// The image facts the configuration checks against, tied to the files that make the image.
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { IMAGE_ARCHITECTURE, IMAGE_USERS, isArm64InstanceType } from '../../lib/config/image-facts';
import { REPO_ROOT } from '../helpers/settings';

const read = (file: string) => readFileSync(path.join(REPO_ROOT, file), 'utf8');

describe('image facts', () => {
  it("the architecture is the Packer template's base-image filter, and its build type matches it", () => {
    const template = read('packer/greenlight.pkr.hcl');
    expect([...template.matchAll(/architecture\s*=\s*"([^"]+)"/g)].map((m) => m[1])).toEqual([IMAGE_ARCHITECTURE]);
    const buildType = template.match(/variable "instance_type"[\s\S]*?default\s*=\s*"([^"]+)"/)?.[1];
    expect(buildType).toBeDefined();
    expect(isArm64InstanceType(buildType ?? '')).toBe(false);
  });

  it("nginx exempts from the HTTPS redirect only the manifest's health paths, the ones the configuration checks", () => {
    const site = read('packer/files/nginx-site.conf');
    const blocks = [...site.matchAll(/location\s+(=\s*)?(\S+)\s*\{([^}]*)\}/g)].map((m) => ({ exact: Boolean(m[1]), path: m[2], body: m[3] }));
    const exempt = blocks.filter((b) => b.exact && !b.body.includes('tls.conf')).map((b) => b.path);
    // One exact block, repeated at bake for the manifest's health-path and liveness-path.
    expect(exempt).toEqual(['@HEALTH_PATH@']);
    expect(site).toMatch(/# @each-health-path@\s*\n\s*location = @HEALTH_PATH@ \{/);
    // Everything else goes through the catch-all, which redirects.
    expect(blocks.find((b) => b.path === '/')?.body).toContain('include /etc/greenlight/nginx/tls.conf;');
  });

  it.skipIf(!existsSync('/usr/share/base-passwd/passwd.master'))("covers Debian's base-passwd accounts (read from this Debian machine)", () => {
    const base = readFileSync('/usr/share/base-passwd/passwd.master', 'utf8').split('\n').filter(Boolean).map((line) => line.split(':')[0]);
    expect(base.length).toBeGreaterThan(10);
    expect(base.filter((user) => !IMAGE_USERS.includes(user))).toEqual([]);
  });

  it('the login user Packer connects as exists on the image, so it is refused as an app name', () => {
    const sshUser = read('packer/greenlight.pkr.hcl').match(/ssh_username\s*=\s*"([^"]+)"/)?.[1];
    expect(IMAGE_USERS).toContain(sshUser);
  });

  it.each([
    ['t4g.small', true], ['m6g.large', true], ['m6gd.xlarge', true], ['c7g.large', true], ['c7gn.large', true], ['r8g.large', true],
    ['x2gd.large', true], ['im4gn.large', true], ['is4gen.large', true], ['g5g.xlarge', true], ['hpc7g.16xlarge', true], ['a1.large', true],
    ['t3.small', false], ['m6i.large', false], ['c5n.large', false], ['g4dn.xlarge', false], ['g5.xlarge', false], ['m7i-flex.large', false],
    ['r7iz.large', false], ['x2iezn.2xlarge', false], ['i3en.large', false], ['m5zn.large', false], ['m7a.large', false],
  ] as const)('%s is arm64: %s', (type, arm) => {
    expect(isArm64InstanceType(type)).toBe(arm);
  });
});

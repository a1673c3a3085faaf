import { describe, expect, it } from 'vitest';
import { parseAmiOverride, parseRelease } from '../../lib/config/release';
import { renderBootstrap } from '../../lib/userdata/render';

describe('parseRelease', () => {
  it.each(['r1', '2026.11.22-3f9c2ab', 'A'.repeat(63)])('accepts %s', (release) => {
    expect(parseRelease(release)).toBe(release);
  });

  it('requires a release', () => {
    for (const missing of [undefined, '']) {
      expect(() => parseRelease(missing)).toThrow(
        '-c release=<id> is required: the release to deploy, e.g. -c release=2026.11.22-3f9c2ab',
      );
    }
  });

  it.each(['bad id', '-r1', '.r1', 'r1/../../x', "r1'; rm -rf /", 'A'.repeat(64), 'r_1'])('rejects %j', (release) => {
    expect(() => parseRelease(release)).toThrow(
      `-c release=${release}: not a valid release id; expected 1–63 letters, digits, dots or hyphens, starting with a letter or digit`,
    );
  });
});

describe('parseAmiOverride', () => {
  it('is optional', () => {
    expect(parseAmiOverride(undefined)).toBeUndefined();
  });

  it.each(['ami-12345678', 'ami-0123456789abcdef0'])('accepts %s', (ami) => {
    expect(parseAmiOverride(ami)).toBe(ami);
  });

  it.each(['ami-123', 'ami-0123456789ABCDEF0', 'i-0123456789abcdef0'])('rejects %s', (ami) => {
    expect(() => parseAmiOverride(ami)).toThrow(`-c ami=${ami}: not an AMI id; expected "ami-" and 8 or 17 hex digits`);
  });
});

describe('renderBootstrap', () => {
  const params = { app: 'shop', env: 'staging', release: 'r1', region: 'eu-west-1', tls: false };

  it('replaces the marker line with exported assignments and keeps the rest', () => {
    const out = renderBootstrap('#!/bin/bash\nset -euo pipefail\n# @greenlight-parameters@\nmain "$@"\n', params);
    expect(out).toBe(
      [
        '#!/bin/bash',
        'set -euo pipefail',
        "GREENLIGHT_APP='shop'",
        "GREENLIGHT_ENV='staging'",
        "GREENLIGHT_RELEASE='r1'",
        "AWS_REGION='eu-west-1'",
        "GREENLIGHT_TLS='false'",
        'export GREENLIGHT_APP GREENLIGHT_ENV GREENLIGHT_RELEASE AWS_REGION GREENLIGHT_TLS',
        'main "$@"',
        '',
      ].join('\n'),
    );
  });

  it('quotes values for the shell', () => {
    expect(renderBootstrap('# @greenlight-parameters@', { ...params, app: "it's" })).toContain(`GREENLIGHT_APP='it'\\''s'`);
  });

  it('refuses a script without the marker', () => {
    expect(() => renderBootstrap('#!/bin/bash\n', params)).toThrow(
      'userdata script has no "# @greenlight-parameters@" line to carry the release parameters',
    );
  });
});

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import {
  GetParameterCommand,
  ParameterAlreadyExists,
  ParameterNotFound,
  PutParameterCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { publishAmi, resolveApp } from '../../lib/ami/publish';
import { parseManifest } from '../../lib/ami/manifest';
import { UserError } from '../../lib/errors';
import { cliInProcess } from '../helpers/cli';

const NAME = '/greenlight/greenlight-demo/releases/2026.11.22-3f9c2ab/ami-id';
const AMI = 'ami-0123456789abcdef0';

const dir = mkdtempSync(join(tmpdir(), 'greenlight-ami-'));
function manifestFile(builds: unknown[], name = 'manifest.json'): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify({ builds, last_run_uuid: 'x' }));
  return file;
}
const build = (artifact_id: string, release = '2026.11.22-3f9c2ab') => ({
  name: 'debian',
  builder_type: 'amazon-ebs',
  artifact_id,
  custom_data: { app: 'greenlight-demo', release },
});

const ssm = mockClient(SSMClient);
const client = new SSMClient({ region: 'eu-west-1' });
beforeEach(() => ssm.reset());
afterEach(() => ssm.reset());

const notFound = () => new ParameterNotFound({ message: 'not found', $metadata: {} });
const confirm = { attempts: 3, delayMs: 0 };
const publish = (manifest: string, release = '2026.11.22-3f9c2ab') =>
  publishAmi({ manifest, release, app: 'greenlight-demo', client, confirm });

describe('publishAmi', () => {
  it("records the last build's AMI under the release, never overwriting", async () => {
    // Absent before the write; SSM's asynchronous AMI check then keeps it.
    ssm.on(GetParameterCommand).rejectsOnce(notFound()).rejectsOnce(notFound()).resolves({ Parameter: { Name: NAME, Value: AMI } });
    ssm.on(PutParameterCommand).resolves({ Version: 1 });
    const file = manifestFile([build('eu-west-1:ami-0aaaaaaaaaaaaaaaa'), build(`eu-west-1:${AMI}`)]);

    const result = await publish(file);

    expect(result).toEqual({ parameterName: NAME, amiId: AMI, region: 'eu-west-1', action: 'created' });
    const puts = ssm.commandCalls(PutParameterCommand);
    expect(puts).toHaveLength(1);
    expect(puts[0].args[0].input).toMatchObject({
      Name: NAME,
      Value: AMI,
      Type: 'String',
      DataType: 'aws:ec2:image',
      Overwrite: false,
    });
  });

  it('fails when SSM drops the parameter because the AMI is not available to this account', async () => {
    ssm.on(GetParameterCommand).rejects(notFound());
    ssm.on(PutParameterCommand).resolves({ Version: 1 });
    await expect(publish(manifestFile([build(`eu-west-1:${AMI}`)]))).rejects.toThrow(
      new UserError(
        `SSM did not keep ${NAME} = ${AMI}: the AMI is not available to this account in eu-west-1 ` +
          '(a typo, another region, or not shared with this account: see ami_users and kms_key_id in packer/)',
      ),
    );
    expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(1 + confirm.attempts);
  });

  it('is a no-op success when the release already points at the same AMI', async () => {
    ssm.on(GetParameterCommand).resolves({ Parameter: { Name: NAME, Value: AMI } });
    const result = await publish(manifestFile([build(`eu-west-1:${AMI}`)]));
    expect(result.action).toBe('unchanged');
    expect(ssm.commandCalls(PutParameterCommand)).toHaveLength(0);
  });

  it('refuses a release that points at a different AMI', async () => {
    ssm.on(GetParameterCommand).resolves({ Parameter: { Name: NAME, Value: 'ami-0bbbbbbbbbbbbbbbb' } });
    const run = publish(manifestFile([build(`eu-west-1:${AMI}`)]));
    await expect(run).rejects.toThrow(UserError);
    await expect(run).rejects.toThrow(`${NAME} points at ami-0bbbbbbbbbbbbbbbb, not ${AMI}`);
    expect(ssm.commandCalls(PutParameterCommand)).toHaveLength(0);
  });

  it('re-checks when another writer published the release first', async () => {
    ssm
      .on(GetParameterCommand)
      .rejectsOnce(notFound())
      .resolves({ Parameter: { Name: NAME, Value: 'ami-0cccccccccccccccc' } });
    ssm.on(PutParameterCommand).rejects(new ParameterAlreadyExists({ message: 'exists', $metadata: {} }));
    await expect(publish(manifestFile([build(`eu-west-1:${AMI}`)]))).rejects.toThrow('points at ami-0cccccccccccccccc');
  });

  it('validates the release id, naming the field and echoing the value', async () => {
    await expect(publish(manifestFile([build(`eu-west-1:${AMI}`)]), 'bad/release')).rejects.toThrow(
      '--release "bad/release": not a valid release id',
    );
    expect(ssm.calls()).toHaveLength(0);
  });

  it('refuses a manifest baked for another release', async () => {
    await expect(publish(manifestFile([build(`eu-west-1:${AMI}`, 'other-release')]))).rejects.toThrow(
      'baked as release "other-release"',
    );
  });

  it('propagates AWS errors other than not-found', async () => {
    ssm.on(GetParameterCommand).rejects(new Error('AccessDeniedException'));
    await expect(publish(manifestFile([build(`eu-west-1:${AMI}`)]))).rejects.toThrow('AccessDeniedException');
  });
});

describe('publishAmi --ami: an AMI shared from the bake account', () => {
  const share = (ami: string | undefined, region: string | undefined, manifest?: string) =>
    publishAmi({ ami, region, manifest, release: '2026.11.22-3f9c2ab', app: 'greenlight-demo', client, confirm });

  it("records it in this account's region", async () => {
    ssm.on(GetParameterCommand).rejectsOnce(notFound()).resolves({ Parameter: { Name: NAME, Value: AMI } });
    ssm.on(PutParameterCommand).resolves({ Version: 1 });
    await expect(share(AMI, 'eu-west-1')).resolves.toEqual({ parameterName: NAME, amiId: AMI, region: 'eu-west-1', action: 'created' });
    expect(ssm.commandCalls(PutParameterCommand)[0].args[0].input).toMatchObject({ Name: NAME, Value: AMI, DataType: 'aws:ec2:image' });
  });

  it('is a no-op in the bake account, where the release already points at it', async () => {
    ssm.on(GetParameterCommand).resolves({ Parameter: { Name: NAME, Value: AMI } });
    await expect(share(AMI, 'eu-west-1')).resolves.toMatchObject({ action: 'unchanged' });
    expect(ssm.commandCalls(PutParameterCommand)).toHaveLength(0);
  });

  it.each([
    [undefined, 'eu-west-1', undefined, 'give either --manifest <file> (after a bake) or --ami <id> (an AMI shared from the bake account)'],
    [AMI, 'eu-west-1', 'packer/manifest.json', 'give either --manifest <file> (after a bake) or --ami <id> (an AMI shared from the bake account)'],
    ['ami-xyz', 'eu-west-1', undefined, '--ami "ami-xyz": not an AMI id; expected "ami-" and 8 or 17 hex digits'],
    [AMI, undefined, undefined, '--ami needs a region: set AWS_REGION to the region the AMI is in'],
  ])('refuses --ami %s in %s with --manifest %s, before any AWS call', async (ami, region, manifest, message) => {
    await expect(share(ami, region, manifest)).rejects.toThrow(new UserError(message));
    expect(ssm.calls()).toHaveLength(0);
  });
});

describe('parseManifest', () => {
  const parse = (builds: unknown[], region?: string) => parseManifest(JSON.stringify({ builds }), 'm.json', region);

  it('validates the AMI id, echoing it', () => {
    expect(() => parse([build('eu-west-1:ami-12345')])).toThrow('AMI id "ami-12345" is not valid');
    expect(() => parse([build('eu-west-1:ami-XYZ45678')])).toThrow('AMI id "ami-XYZ45678"');
  });

  it('rejects artifacts that are not region:ami', () => {
    expect(() => parse([build(AMI)])).toThrow(`artifact_id "${AMI}" is not "region:ami-…"`);
    expect(() => parse([{ name: 'x' }])).toThrow('the last build has no artifact_id');
    expect(() => parse([])).toThrow('no "builds" recorded');
    expect(() => parseManifest('{nope', 'm.json')).toThrow('--manifest m.json: not valid JSON');
  });

  it('picks the AWS_REGION copy when the image was copied to several regions', () => {
    const builds = [build(`eu-west-1:${AMI},us-east-1:ami-0ddddddddddddddd1`)];
    expect(parse(builds, 'us-east-1')).toMatchObject({ region: 'us-east-1', amiId: 'ami-0ddddddddddddddd1' });
    expect(() => parse(builds)).toThrow('set AWS_REGION to choose one');
    expect(() => parse(builds, 'ap-south-1')).toThrow('no AMI for AWS_REGION=ap-south-1');
  });

  it('accepts 8-digit AMI ids', () => {
    expect(parse([build('eu-west-1:ami-0123abcd')]).amiId).toBe('ami-0123abcd');
  });
});

describe('resolveApp', () => {
  it("defaults to cdk.json's context.app", () => {
    writeFileSync(join(dir, 'cdk.json'), JSON.stringify({ context: { app: 'greenlight-demo' } }));
    expect(resolveApp(undefined, dir)).toBe('greenlight-demo');
    expect(resolveApp('shop', dir)).toBe('shop');
  });

  it('names the field and the value when the app name is invalid', () => {
    expect(() => resolveApp('Bad_App', join(dir, 'none'))).toThrow(/^--app: .*"Bad_App"/);
    expect(() => resolveApp(undefined, join(dir, 'none'))).toThrow('--app is required');
  });
});

describe('greenlight publish-ami (CLI)', () => {
  it('reports a user mistake on one line with exit code 2, before any AWS call', async () => {
    const file = manifestFile([build(`eu-west-1:${AMI}`)], 'cli.json');
    const out = await cliInProcess(['publish-ami', '--manifest', file, '--release', '-bad']);
    expect(out.code).toBe(2);
    expect(out.stderr.trim()).toBe(
      'greenlight: --release "-bad": not a valid release id; expected 1–63 letters, digits, dots or hyphens, starting with a letter or digit',
    );
    expect(ssm.calls()).toHaveLength(0);
  });
});

// greenlight deploy's migration check: the live release's app and the new one's come out of a real git
// clone by the commits their ids carry, check-migrations judges them in release images (Debian's
// Django), and SSM (mocked) gets the record a rollback reads.
import { GetParameterCommand, ParameterNotFound, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { createClients } from '../../lib/aws/clients';
import type { DeployRuntime, PreparedDeploy } from '../../lib/cli/deploy';
import { migrationGate } from '../../lib/cli/deploy-migrations';
import { loadEnvironment } from '../../lib/cli/environment';
import { writeDjangoProject, type MigrationSource } from '../helpers/django-project';
import { cdkContext } from '../helpers/settings';

const ssm = mockClient(SSMClient);
const repo = fs.mkdtempSync(path.join(os.tmpdir(), 'greenlight-deploy-migrations-'));
afterAll(() => fs.rmSync(repo, { recursive: true, force: true }));

const git = (...args: string[]) => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com' } }).trim();
const INITIAL: MigrationSource = {
  operations: ['migrations.CreateModel(name="Greeting", fields=[("id", models.AutoField(primary_key=True, serialize=False)), ("text", models.CharField(max_length=200))])'],
};
const removal = (classLines: string[] = []): MigrationSource => ({ dependencies: [['shop', '0001_initial']], operations: ['migrations.RemoveField(model_name="greeting", name="text")'], classLines });

/** Commits the app as `migrations` and returns the release id of that commit. */
function release(migrations: Record<string, MigrationSource>): string {
  fs.rmSync(path.join(repo, 'app'), { recursive: true, force: true });
  writeDjangoProject(path.join(repo, 'app'), { apps: { shop: { '0001_initial': INITIAL, ...migrations } } });
  git('add', '-A');
  git('commit', '-q', '-m', 'release');
  return `2026.12.06-${git('rev-parse', '--short=7', 'HEAD')}`;
}

fs.writeFileSync(path.join(repo, 'cdk.json'), JSON.stringify({ context: { ...cdkContext(), appSource: 'app' } }));
git('init', '-q');
const v1 = release({});
const nullable = release({ '0002_created': { dependencies: [['shop', '0001_initial']], operations: ['migrations.AddField(model_name="greeting", name="created", field=models.DateTimeField(null=True))'] } });
const removes = release({ '0002_remove_text': removal() });
const acknowledged = release({ '0002_remove_text': removal(['greenlight_accept_breaking = "nothing reads text since v1"']) });

const env = loadEnvironment('staging', repo);
const RECORD = `/greenlight/${env.app}/staging/schema-record`;
const deploying = (r: string): PreparedDeploy => ({ env, plan: { stackName: env.stackName, envName: 'staging', release: r }, intervalMs: 1000 });

function runtime() {
  const lines: string[] = [];
  const rt: DeployRuntime = { clients: createClients('eu-west-1'), print: (l) => lines.push(l), now: () => 0, sleep: async () => undefined, runCdk: async () => 0 };
  return { rt, lines };
}
const liveIs = (r: string | undefined) =>
  r === undefined
    ? ssm.on(GetParameterCommand).rejects(new ParameterNotFound({ message: 'not found', $metadata: {} }))
    : ssm.on(GetParameterCommand, { Name: `/greenlight/${env.app}/staging/live-release` }).resolves({ Parameter: { Value: r } });
const written = () => ssm.commandCalls(PutParameterCommand).map((c) => ({ name: c.args[0].input.Name, record: JSON.parse(c.args[0].input.Value as string) }));

beforeEach(() => {
  ssm.reset();
  ssm.on(PutParameterCommand).resolves({ Version: 1 });
});

describe("greenlight deploy's migration check", () => {
  it('goes on with a release that only adds a nullable field, and records the live release as a safe rollback', async () => {
    liveIs(v1);
    const { rt, lines } = runtime();
    expect(await migrationGate(deploying(nullable), rt, repo)).toBeUndefined();
    expect(lines).toContain('migrations: passed: nothing breaks the live release');
    expect(written()).toEqual([{ name: RECORD, record: { release: nullable, previous: v1, rollbackSafe: true } }]);
  }, 60_000);

  it('refuses a release that removes a field the live release reads, before anything migrates, and records nothing', async () => {
    liveIs(v1);
    const { rt, lines } = runtime();
    expect(await migrationGate(deploying(removes), rt, repo)).toBe(1);
    expect(lines).toContain('migrations:   BREAKS shop.0002_remove_text RemoveField: drops Greeting.text (column text): the live release still reads and writes it');
    expect(lines.at(-1)).toBe(`deploy refused before anything migrated: ${removes}'s migrations break ${v1}, which serves until the cutover`);
    expect(written()).toEqual([]);
    // In a GitHub job (--annotate), the refusal is an error annotation on the run too.
    const annotated = runtime();
    expect(await migrationGate({ ...deploying(removes), annotate: true }, annotated.rt, repo)).toBe(1);
    expect(annotated.lines.at(-1)).toMatch(new RegExp(`^::error title=${removes} failed in staging::refused: 1 operation\\(s\\) break the live release, first shop\\.0002_remove_text RemoveField: .*%0Adeploy refused before anything migrated: `));
  }, 60_000);

  it('goes on with an acknowledged removal, and records that the live release is no safe rollback', async () => {
    liveIs(v1);
    const { rt } = runtime();
    expect(await migrationGate(deploying(acknowledged), rt, repo)).toBeUndefined();
    expect(written()).toEqual([
      {
        name: RECORD,
        record: {
          release: acknowledged,
          previous: v1,
          rollbackSafe: false,
          reason: 'shop.0002_remove_text RemoveField: drops Greeting.text (column text): the live release still reads and writes it (acknowledged: nothing reads text since v1)',
        },
      },
    ]);
  }, 60_000);

  it("goes on, saying why, when the live release's source cannot be found or nothing is live", async () => {
    liveIs('2026.12.01-0badc0d');
    const missing = runtime();
    expect(await migrationGate(deploying(removes), missing.rt, repo)).toBeUndefined();
    expect(missing.lines).toEqual([expect.stringMatching(/^migrations: not checked against 2026\.12\.01-0badc0d: commit 0badc0d is not in this clone \(.+\); fetch it first, e.g\. git fetch origin 0badc0d$/)]);
    ssm.reset();
    liveIs(undefined);
    const none = runtime();
    expect(await migrationGate(deploying(removes), none.rt, repo)).toBeUndefined();
    expect(none.lines).toEqual(['migrations: nothing is live in staging yet; nothing to check against']);
    expect(written()).toEqual([]);
  });
});

// `greenlight deploy`'s migration check, before cdk deploy: both releases' ids carry their commits, so
// the live release's app and the new one's come out of this clone with `git archive`, and
// check-migrations judges the pair. A breaking pair is refused before anything migrates; otherwise the
// verdict is recorded for `greenlight rollback`. Without the live release's source the deploy goes on,
// and says the check did not run.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readParameter, writeParameter } from '../aws/ssm';
import { readProjectConfig } from '../config/project';
import { UserError } from '../errors';
import type { MigrationCheck } from '../migrations/classify';
import { renderCheck, verdictLine } from '../migrations/render';
import { releaseCommit, schemaRecord } from '../migrations/rollback-safety';
import { liveReleaseParameterName, schemaRecordParameterName } from '../ssm-paths';
import { checkProjectMigrations } from './check-migrations';
import type { DeployRuntime, PreparedDeploy } from './deploy';
import { explainAwsError } from './environment';
import { errorAnnotation } from './job-summary';

/** Checks a pair of project directories (the live release's, the new one's). */
export type PairCheck = (liveDir: string, nextDir: string) => Promise<MigrationCheck>;

/** Writes `appSource` as of `commit` into `dest`; the reason when it cannot. */
export function exportAppSource(repoDir: string, commit: string, appSource: string, dest: string): string | undefined {
  const tar = path.join(dest, 'source.tar');
  const archive = spawnSync('git', ['-C', repoDir, 'archive', '--format=tar', '-o', tar, commit, '--', appSource], { encoding: 'utf8' });
  if (archive.status !== 0) {
    const why = (archive.stderr || archive.error?.message || '').trim().split('\n')[0];
    return `commit ${commit} is not in this clone (${why}); fetch it first, e.g. git fetch origin ${commit}`;
  }
  const extract = spawnSync('tar', ['-x', '-f', tar, '-C', dest], { encoding: 'utf8' });
  fs.rmSync(tar, { force: true });
  return extract.status === 0 ? undefined : `extracting ${appSource} of ${commit} failed: ${extract.stderr.trim().split('\n')[0]}`;
}

/**
 * Runs the check for the deploy; resolves to the exit code when the deploy must stop (a breaking
 * pair), or undefined to go on.
 */
export async function migrationGate(prepared: PreparedDeploy, rt: DeployRuntime, projectDir = '.', check: PairCheck = checkProjectMigrations): Promise<number | undefined> {
  const { env, plan } = prepared;
  const say = (line: string) => rt.print(`migrations: ${line}`);
  const liveParameter = liveReleaseParameterName(env.app, env.envName);
  const live = await readParameter(rt.clients, liveParameter).catch((err) => explainAwsError(err, `reading ${liveParameter}`));
  if (live === undefined || live === plan.release) {
    say(live === undefined ? `nothing is live in ${env.envName} yet; nothing to check against` : `${plan.release} is the live release already`);
    return undefined;
  }
  const appSource = readProjectConfig(projectDir).appSource;
  const commits = { live: releaseCommit(live), next: releaseCommit(plan.release) };
  const missing = !appSource ? 'cdk.json has no appSource' : !commits.live ? `the live release id ${live} carries no commit` : !commits.next ? `the release id ${plan.release} carries no commit` : undefined;
  if (missing) {
    say(`not checked against ${live}: ${missing}`);
    return undefined;
  }
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'greenlight-deploy-migrations-'));
  try {
    const dirs = { live: path.join(work, 'live'), next: path.join(work, 'next') };
    for (const side of ['live', 'next'] as const) {
      fs.mkdirSync(dirs[side]);
      const failed = exportAppSource(projectDir, commits[side] as string, appSource as string, dirs[side]);
      if (failed) {
        say(`not checked against ${live}: ${failed}`);
        return undefined;
      }
    }
    let result: MigrationCheck;
    try {
      result = await check(path.join(dirs.live, appSource as string), path.join(dirs.next, appSource as string));
    } catch (err) {
      // The check could not run here (settings that need configuration, a bake this machine cannot
      // do): the deploy goes on as without it, and says so.
      say(`not checked against ${live}: ${(err instanceof UserError ? err.message : String((err as Error).message ?? err)).split('\n')[0]}`);
      return undefined;
    }
    renderCheck(result).trimEnd().split('\n').forEach(say);
    if (result.verdict === 'fail') {
      const refusal = `deploy refused before anything migrated: ${plan.release}'s migrations break ${live}, which serves until the cutover`;
      rt.print(refusal);
      if (prepared.annotate) {
        const now = rt.now();
        const outcome = { exitCode: 1 as const, lines: [verdictLine(result), refusal] };
        rt.print(errorAnnotation({ release: plan.release, envName: env.envName, stackName: plan.stackName, outcome, startedAt: now, finishedAt: now }) ?? '');
      }
      return 1;
    }
    const recordParameter = schemaRecordParameterName(env.app, env.envName);
    await writeParameter(rt.clients, recordParameter, JSON.stringify(schemaRecord(plan.release, live, result))).catch((err) =>
      explainAwsError(err, `writing ${recordParameter}`),
    );
    return undefined;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

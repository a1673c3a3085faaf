// `greenlight rehearse`: checks the options, checks prerequisites, reads the environment from
// cdk.json, plays the release and prints the report. Exit code 0 only when the outcome is the
// scenario's expected one and no request failed.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { environmentNamed, readProjectConfig } from '../config/project';
import { checkRehearseOptions, KEPT_RUNS, pruneRuns, REPO_ROOT, type RehearseCommandOptions, runDirectory } from './options';
import { ensurePrerequisites } from './prerequisites';
import { rehearse } from './release';
import { renderReport } from './report';
import { RehearsalStopped } from './stage';

export async function rehearseCommand(raw: RehearseCommandOptions): Promise<number> {
  const envName = raw.env ?? 'staging';
  const settings = readProjectConfig(REPO_ROOT);
  const env = environmentNamed(settings, envName);
  const options = checkRehearseOptions(raw, envName, env);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  // The app's PostgreSQL, unless --env-file names its database; db-down stops one of its own.
  ensurePrerequisites(options.config?.DATABASE_URL === undefined || options.scenario.greenDatabaseDown === true, log);
  const workDir = runDirectory(raw.workDir);
  if (raw.workDir === undefined) {
    const removed = pruneRuns(path.dirname(workDir));
    if (removed > 0) log(`removed ${removed} older run directories from ${path.dirname(workDir)} (the newest ${KEPT_RUNS} are kept)`);
  }
  fs.mkdirSync(workDir, { recursive: true });

  let report;
  try {
    report = await rehearse({
      app: settings.app,
      environment: envName,
      settings: env,
      ...(Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as typeof options),
      workDir,
      repoRoot: REPO_ROOT,
      log,
    });
  } catch (err) {
    // Blue (or HAProxy) never came up: nothing to report, and the cause is one line, not a trace.
    if (!(err instanceof RehearsalStopped)) throw err;
    process.stderr.write(`greenlight: rehearsal stopped: ${err.message}\n`);
    return 1;
  }
  process.stdout.write(raw.json ? `${JSON.stringify(report, null, 2)}\n` : renderReport(report));
  return report.ok ? 0 : 1;
}

// npm run bench:cutover [-- --time-scale 0.2 --rate 80 --concurrency 1024 --env staging --work-dir <dir>]
// The same load against the same app and release, deployed (a) blue/green with greenlight's gate and
// (b) by restarting gunicorn in place, (c) a release failing after the cutover, which the bake
// takes out, and (d) the same release with traffic.steps [10], refused at its first step. Prints
// errors, error seconds and p99 for each; exits 1 when (a) dropped a request or (c) or (d) did not
// end as its scenario expects (no failure outside the bake's or the step's window). The load arrives
// open-loop at --rate, with at most --concurrency requests in flight.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { benchCutover, renderBench } from '../lib/rehearsal/bench';
import { environmentNamed, readProjectConfig } from '../lib/config/project';
import { numberOption } from '../lib/options';
import { REPO_ROOT, timeScaleFor } from '../lib/rehearsal/options';
import { ensurePrerequisites } from '../lib/rehearsal/prerequisites';
import { UserError } from '../lib/errors';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      env: { type: 'string', default: 'staging' },
      'time-scale': { type: 'string', default: '0.2' },
      // Open arrivals do not slow down when the app does: the rate stays well under what a fleet of
      // 2 instances serves on a busy 2-core machine, or every row measures an overloaded machine.
      rate: { type: 'string', default: '80' },
      // The most requests in flight: room for a release whose answers are slow without lowering the rate.
      concurrency: { type: 'string', default: '1024' },
      // gunicorn's unix socket lives under it, so a deep checkout may need a shorter one.
      'work-dir': { type: 'string' },
    },
  });
  const settings = readProjectConfig(REPO_ROOT);
  const env = environmentNamed(settings, values.env);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  ensurePrerequisites(false, log);
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const workDir = path.resolve(values['work-dir'] ?? path.join(REPO_ROOT, '.rehearsal', `bench-${stamp}-${process.pid}`));
  fs.mkdirSync(workDir, { recursive: true });
  const result = await benchCutover({
    app: settings.app,
    environment: values.env,
    settings: env,
    timeScale: timeScaleFor(values['time-scale'], values.env, env),
    ratePerSecond: numberOption('--rate', values.rate, 1, 2000, false) as number,
    concurrency: numberOption('--concurrency', values.concurrency, 1, 4096, true) as number,
    workDir,
    repoRoot: REPO_ROOT,
    log,
  });
  process.stdout.write(renderBench(result));
  return result.blueGreen.failed === 0 && result.failsAfterCutover.ok && result.failsAtFirstStep.ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UserError) {
      console.error(`bench:cutover: ${err.message}`);
      process.exit(2);
    }
    console.error(err);
    process.exit(1);
  },
);

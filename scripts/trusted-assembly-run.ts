// Which workflow run's cdk-out-<release> artifact the rollback workflow may deploy: only one uploaded
// by the release workflow on a push to main of this repository. Any run can upload an artifact of
// that name (a pull request from a fork, a push to another branch, a dispatch on one), and the
// rollback deploys what it downloads with the environment's deploy role, so the name proves nothing.
// Usage: npx tsx scripts/trusted-assembly-run.ts <runs.json> <owner/repo>
//   runs.json: the workflow runs (GitHub's REST objects) of the artifacts of that name.
// Prints the newest trusted run's id, or nothing (the rollback then synthesizes from its checkout),
// and on stderr one line per run it passes over, with the reason.
import { readFileSync } from 'node:fs';

/** The fields of a GitHub workflow run that its provenance rests on. */
export interface WorkflowRun {
  readonly id: number;
  readonly event: string;
  readonly head_branch: string | null;
  readonly path: string;
  readonly created_at: string;
  readonly repository: { readonly full_name: string };
  readonly head_repository: { readonly full_name: string } | null;
}

export const RELEASE_WORKFLOW = '.github/workflows/release.yml';

/** Why a run's artifact must not be deployed, or undefined when it may be. */
export function distrust(run: WorkflowRun, repository: string): string | undefined {
  if (run.repository.full_name !== repository) return `run ${run.id} belongs to ${run.repository.full_name}, not ${repository}`;
  if (run.head_repository?.full_name !== repository) return `run ${run.id} ran code from ${run.head_repository?.full_name ?? 'an unknown repository'}, not ${repository}`;
  if (run.path !== RELEASE_WORKFLOW) return `run ${run.id} is ${run.path}, not ${RELEASE_WORKFLOW}`;
  if (run.event !== 'push') return `run ${run.id} was started by ${run.event}, not a push`;
  if (run.head_branch !== 'main') return `run ${run.id} ran on ${run.head_branch ?? 'no branch'}, not main`;
  return undefined;
}

/** The newest run whose artifact may be deployed, and each run passed over with its reason. */
export function trustedAssemblyRun(runs: readonly WorkflowRun[], repository: string): { readonly run?: WorkflowRun; readonly passedOver: string[] } {
  const passedOver: string[] = [];
  const trusted = runs.filter((run) => {
    const why = distrust(run, repository);
    if (why) passedOver.push(why);
    return !why;
  });
  const [run] = [...trusted].sort((a, b) => b.created_at.localeCompare(a.created_at) || b.id - a.id);
  return { run, passedOver };
}

if (require.main === module) {
  const [file, repository] = process.argv.slice(2);
  if (!file || !repository || !/^[^/\s]+\/[^/\s]+$/.test(repository)) {
    console.error(`trusted-assembly-run: usage: trusted-assembly-run.ts <runs.json> <owner/repo>; got ${JSON.stringify(process.argv.slice(2))}`);
    process.exit(2);
  }
  const { run, passedOver } = trustedAssemblyRun(JSON.parse(readFileSync(file, 'utf8')) as WorkflowRun[], repository);
  for (const line of passedOver) console.error(`passed over: ${line}`);
  if (run) console.log(run.id);
}

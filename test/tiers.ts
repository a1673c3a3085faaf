// The two test tiers. `npm run test:fast` runs unit tests: pure logic, mocked AWS clients and
// short-lived linters (shellcheck, haproxy -c), with no synth and no servers, in seconds.
// `npm run test:slow` runs everything that synthesizes, starts servers or runs the CLI as a process.
// A test file is in the fast tier unless it is listed here; tiers.test.ts keeps the lists honest.
// Files that leave no state behind share one module graph per worker (vitest's isolate: false):
// each would otherwise load its imports afresh (aws-cdk-lib and cdk-nag for the synth files), which
// costs more than most of their tests. The others get a module graph of their own.

/**
 * Fast test files that need modules of their own: they mock SDK clients, change the environment or
 * spy on globals, which would leak into the next file.
 */
export const ISOLATED_FAST_TESTS: readonly string[] = [
  'test/ami/baked-image.test.ts',
  'test/ami/publish.test.ts',
  'test/bake/handler.test.ts',
  'test/traffic/handler.test.ts',
  'test/capacity-probe/handler.test.ts',
  'test/cli/arguments.test.ts',
  'test/cli/preflight.test.ts',
  'test/cli/recover.test.ts',
  'test/pipelines/rollback-parity.test.ts',
  'test/cli/status.test.ts',
  'test/cli/watch.test.ts',
  'test/health-gate/handler.test.ts',
  'test/scaling-hold/handler.test.ts',
  'test/preview/handler.test.ts',
  'test/rehearsal/haproxy-config.test.ts',
  'test/rehearsal/options.test.ts',
  'test/smoke/handler.test.ts',
  'test/tiers.test.ts',
];

/**
 * Slow test files that only synthesize in-process: no mocked clients, no servers, no environment
 * changes, so they may share modules with each other.
 */
export const SYNTH_TESTS: readonly string[] = [
  'test/app.test.ts',
  'test/constructs/capacity-probe.test.ts',
  'test/constructs/health-gate.test.ts',
  'test/constructs/release-chain.test.ts',
  'test/stacks/environment-stack.test.ts',
  'test/stacks/scaling.test.ts',
  'test/constructs/release-fleet-scaling.test.ts',
  'test/constructs/library.test.ts',
  'test/constructs/time-limits.test.ts',
  'test/stacks/cfn-lint.test.ts',
  'test/stacks/traffic.test.ts',
  'test/stacks/traffic-steps.test.ts',
  'test/stacks/standby.test.ts',
  'test/stacks/preview.test.ts',
  'test/pipelines/execution-policy.test.ts',
  'test/pipelines/escalation.test.ts',
  'test/pipelines/lambda-roles.test.ts',
  'test/pipelines/instance-role.test.ts',
  'test/examples/cdk-app.test.ts',
];

/** Test files of the process tier: synth, real processes, the rehearsal, Packer and the bake. */
export const SLOW_TESTS: readonly string[] = [
  ...SYNTH_TESTS,
  // synth with mocked AWS clients, or through the cdk CLI
  'test/bin/cdk-synth.test.ts',
  'test/cli/deploy.test.ts',
  'test/cli/rollback.test.ts',
  // AWS's API emulator (moto) as a process
  'test/health-gate/moto.test.ts',
  'test/cli/status-moto.test.ts',
  'test/cli/recover-moto.test.ts',
  'test/cli/preflight-moto.test.ts',
  'test/stacks/standby-moto.test.ts',
  'test/bake/moto.test.ts',
  'test/pipelines/standby-parity.test.ts',
  'test/preview/moto.test.ts',
  'test/traffic/moto.test.ts',
  // the CLI as a process
  'test/cli/cli-process.test.ts',
  'test/cli/add-env.test.ts',
  // real nginx, gunicorn, Django, PostgreSQL and HAProxy
  'test/examples/django-app.test.ts',
  'test/userdata/bootstrap.test.ts',
  'test/rehearsal/e2e.test.ts',
  'test/rehearsal/traffic-steps.test.ts',
  'test/rehearsal/rollback-warm.test.ts',
  'test/rehearsal/lifetime.test.ts',
  'test/rehearsal/processes.test.ts',
  'test/rehearsal/scale-out.test.ts',
  'test/rehearsal/byo-app.test.ts',
  'test/rehearsal/bake-requirements.test.ts',
  'test/rehearsal/static-files.test.ts',
  'test/rehearsal/lending-app.test.ts',
  // Django's migration loader (python3-django), and the release images it runs in
  'test/migrations/plan.test.ts',
  'test/cli/check-migrations.test.ts',
  'test/cli/deploy-migrations.test.ts',
  // Packer and the bake into a root filesystem
  'test/packer/template.test.ts',
  'test/packer/bake.test.ts',
];

export const ALL_TESTS = 'test/**/*.test.ts';

/**
 * The slow files that take longest, longest first, as measured on a fresh 2-core machine (the bake
 * downloads its packages there). The sequencer starts these before everything else.
 */
export const LONGEST_FIRST: readonly string[] = [
  'test/rehearsal/e2e.test.ts',
  'test/packer/bake.test.ts',
  'test/rehearsal/byo-app.test.ts',
  'test/rehearsal/lending-app.test.ts',
  'test/bin/cdk-synth.test.ts',
  'test/userdata/bootstrap.test.ts',
  'test/cli/add-env.test.ts',
  'test/rehearsal/scale-out.test.ts',
  'test/rehearsal/rollback-warm.test.ts',
  'test/stacks/standby-moto.test.ts',
];

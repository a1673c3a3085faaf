// The rehearsal's scenarios: what goes wrong with the green release, and the outcome the gate must
// reach. Each failure is a common one in practice: a 301 on the health path, a Host the app does not
// allow, configuration missing at boot, a database down during boot, a flapping
// instance (the K-consecutive rule), a release whose pages fail once it serves (the bake window, or
// the first traffic step), one whose pages are slower than the live release's (the traffic steps),
// and a migration that breaks the release still serving (the migration check). The faults act on the
// environment (SSM, IMDS, the database, the instance's gunicorn config), never on the app's code, so
// they apply to any app; the breaking migration alone is green's code. Pure data plus a pure outcome check.
import { UserError } from '../errors';
import type { CheckSettings } from './haproxy-config';
import type { ScaleOutFacts } from './scale-out';

export const SCENARIO_NAMES = [
  'healthy',
  'redirect-301',
  'bad-host',
  'missing-config',
  'db-down',
  'flapping',
  'errors-after-cutover',
  'latency-regression',
  'scale-out-mid-gate',
  'rollback-warm',
  'breaking-migration',
] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

/** What a finished rehearsal looked like, as far as the expected outcome is concerned. */
export interface OutcomeFacts {
  /** `not run` when green never launched (its migrations were refused). */
  readonly verdict: 'pass' | 'fail' | 'not run';
  /** The gate's final message (reason and hints). */
  readonly reason: string;
  /** Most consecutive healthy polls the gate counted. */
  readonly maxConsecutiveHealthy: number;
  readonly consecutiveHealthyPolls: number;
  /** How each green instance's first boot ended: `started`, or `failed in step <step>: <detail>`. */
  readonly greenBoots: readonly string[];
  /** Whether any green instance was ever healthy in the load balancer. */
  readonly greenEverHealthy: boolean;
  /** The smoke checks' verdict, when they ran (after a passing gate, when the environment has `smoke`). */
  readonly smoke?: 'pass' | 'fail';
  /** The traffic steps' verdict and message, when they ran (after the smoke checks, when the environment has `traffic`). */
  readonly traffic?: { readonly verdict: 'pass' | 'fail'; readonly reason: string };
  /** The bake's verdict and message, when it ran (after the cutover, when the environment has `bake`). */
  readonly bake?: { readonly verdict: 'pass' | 'fail'; readonly reason: string };
  /** Where the release ended up. */
  readonly outcome: ReleaseOutcome;
  /** The gate on the standby when the scenario rolls back to it. */
  readonly rollback?: { readonly verdict: 'pass' | 'fail'; readonly reason: string };
  /** Green's answer to its check path after the gate (Host = its IP), when the scenario asks for it. */
  readonly greenCheckAnswer?: { readonly path: string; readonly status: number | string; readonly location?: string };
  /** Green's scale-out during the gate, when the scenario plays one and it happened. */
  readonly scaleOut?: ScaleOutFacts;
  /** The migration check before green launched, and what blue's load saw once green migrated. */
  readonly migrations?: {
    readonly verdict: 'pass' | 'fail';
    /** The check failed and green was not launched. */
    readonly refused: boolean;
    /** The check failed and the rehearsal was told to play green anyway (--ignore-migration-check). */
    readonly overridden: boolean;
    /** Blue's failed requests sent from green's migration until the cutover. */
    readonly blueFailuresAfterMigration?: number;
    /** Failed requests sent before green's migration ran. */
    readonly failuresBeforeMigration?: number;
  };
}

/**
 * Green serves; or it was taken out before any user reached it; or a traffic step refused it while
 * it served a share of the users; or the bake took it out again; or it never launched.
 */
export type ReleaseOutcome =
  | 'live'
  | 'rolled back before cutover'
  | 'refused at a traffic step'
  | 'rolled back after cutover'
  | 'switched back to the standby'
  | 'refused before green launched';

export interface Scenario {
  readonly name: ScenarioName;
  readonly summary: string;
  /** One line for the report: what the release must come to. */
  readonly expected: string;
  /** The gate's expected verdict. */
  readonly expectedVerdict: 'pass' | 'fail';
  /** Why the outcome differs from the expected one, or undefined when it matches. */
  check(facts: OutcomeFacts): string | undefined;
  /** Green's target group health check, when the release changes it. */
  greenCheck?(check: CheckSettings): CheckSettings;
  /**
   * The gate starts once green has booted, and green's own answer to the check path decides the
   * outcome: a verdict on nginx's answer before the app runs would not be the app's.
   */
  readonly greenCheckAnswerMatters?: boolean;
  /** Green's SSM configuration lacks the first name the app's manifest requires. */
  readonly greenMissesRequiredConfig?: boolean;
  /** Green's IMDS reports another private IP than the address the load balancer checks. */
  readonly greenWrongIpv4?: boolean;
  /** Green uses its own PostgreSQL, stopped once green's app has started. */
  readonly greenDatabaseDown?: boolean;
  /** The first green instance's app crashes whenever it turns healthy, and restarts once marked unhealthy. */
  readonly greenFlaps?: boolean;
  /**
   * Green has its own database, which loses its tables right after the cutover. Only a bake window
   * can catch it, so the environment must have one.
   */
  readonly greenBreaksAfterCutover?: boolean;
  /**
   * Milliseconds green's gunicorn waits before each request but the health checks (a hook in the
   * instance's gunicorn config): its health check answers at once, its pages that much later.
   */
  readonly greenSlowPagesMs?: number;
  /** A policy raises green's desired capacity by one after the gate's first healthy poll. */
  readonly greenScalesOutMidGate?: boolean;
  /**
   * Once green is live, blue stays running as the standby instead of stopping, and `greenlight
   * rollback` returns to it within the window: a gate on blue's backend, then the switch.
   */
  readonly rollbackToStandby?: boolean;
  /**
   * Green's migration drops a column blue's home page reads: without --app-green, green is the
   * reference app with Greeting.text dropped (breaking-migration.ts).
   */
  readonly greenDropsAColumn?: boolean;
}

const gateFailedWith =
  (...patterns: RegExp[]) =>
  (facts: OutcomeFacts): string | undefined => {
    if (facts.verdict !== 'fail') return `the gate passed; expected it to fail`;
    const missing = patterns.filter((p) => !p.test(facts.reason));
    return missing.length > 0 ? `the gate failed, but its reason does not match ${missing.join(', ')}` : undefined;
  };

const SCENARIOS: Record<ScenarioName, Scenario> = {
  healthy: {
    name: 'healthy',
    summary: 'green is a good release',
    expected: 'the gate passes, traffic moves to green, blue drains and stops',
    expectedVerdict: 'pass',
    check: (facts) => {
      if (facts.verdict !== 'pass') return 'the gate failed; expected it to pass';
      if (facts.smoke === 'fail') return 'the smoke checks failed; expected them to pass';
      if (facts.traffic?.verdict === 'fail') return `a traffic step refused green; expected the steps to pass: ${facts.traffic.reason}`;
      if (facts.bake?.verdict === 'fail') return `the bake failed; expected it to pass: ${facts.bake.reason}`;
      return facts.outcome === 'live' ? undefined : `green was ${facts.outcome}; expected it to stay live`;
    },
  },
  'redirect-301': {
    name: 'redirect-301',
    summary: "green's health-check path lacks the trailing slash, so the booted app's APPEND_SLASH answers 301",
    expected: 'the gate fails on Target.ResponseCodeMismatch [301] with the trailing-slash hint, the 301 being the app\'s redirect to the slash; blue keeps serving',
    expectedVerdict: 'fail',
    check: (facts) => {
      const gate = gateFailedWith(/ResponseCodeMismatch \[301\]/, /trailing slash/)(facts);
      if (gate) return gate;
      if (!facts.greenBoots.every((b) => b === 'started')) return `green did not boot, so the 301 was not the app's: ${facts.greenBoots.join('; ')}`;
      const answer = facts.greenCheckAnswer;
      if (!answer) return "green's answer to the check path was not recorded";
      const target = answer.location === undefined ? undefined : new URL(answer.location, 'http://green.invalid');
      const toSlash = answer.status === 301 && target?.protocol === 'http:' && target.pathname === `${answer.path}/`;
      return toSlash ? undefined : `green answers GET ${answer.path} with ${answer.status}${answer.location ? ` to ${answer.location}` : ''}, not the app's redirect to ${answer.path}/`;
    },
    greenCheckAnswerMatters: true,
    greenCheck: (check) => ({ ...check, path: check.path.length > 1 ? check.path.replace(/\/+$/, '') : check.path }),
  },
  'bad-host': {
    name: 'bad-host',
    summary: "green's instance metadata reports another private IP than the one the load balancer checks, so the check's Host is not in ALLOWED_HOSTS",
    expected: 'the gate fails on Target.ResponseCodeMismatch [400] with the ALLOWED_HOSTS hint; blue keeps serving',
    expectedVerdict: 'fail',
    check: gateFailedWith(/ResponseCodeMismatch \[400\]/, /ALLOWED_HOSTS/),
    greenWrongIpv4: true,
  },
  'missing-config': {
    name: 'missing-config',
    summary: "green's configuration lacks the first variable the app's manifest requires, so first boot refuses to start it",
    expected: "the gate fails because green's app never started (nginx answers 502), each boot failing in step 'required configuration'; blue keeps serving",
    expectedVerdict: 'fail',
    check: (facts) =>
      gateFailedWith(/\[502\]/)(facts) ??
      (facts.greenBoots.every((b) => /^failed in step required configuration: .*required configuration missing/.test(b))
        ? undefined
        : `green did not fail on its missing configuration: ${facts.greenBoots.join('; ')}`),
    greenMissesRequiredConfig: true,
  },
  'db-down': {
    name: 'db-down',
    summary: "green's PostgreSQL stops during green's boot",
    expected: 'the gate fails on readiness 503 (Target.ResponseCodeMismatch [503]) with the database hint; blue keeps serving',
    expectedVerdict: 'fail',
    check: gateFailedWith(/ResponseCodeMismatch \[503\]/, /SELECT 1/),
    greenDatabaseDown: true,
  },
  flapping: {
    name: 'flapping',
    summary: "one green instance's app crashes each time it turns healthy, and restarts once it is marked unhealthy",
    expected: 'the load balancer marks it healthy now and then, but never for K consecutive polls: the gate times out',
    expectedVerdict: 'fail',
    check: (facts) => {
      if (facts.verdict !== 'fail') return 'the gate passed; expected the flapping instance to hold it';
      if (!facts.greenEverHealthy) return 'no green instance was ever healthy, so nothing flapped';
      if (facts.maxConsecutiveHealthy >= facts.consecutiveHealthyPolls) return 'the gate counted K consecutive healthy polls';
      return /timed out/.test(facts.reason) ? undefined : `the gate failed for another reason: ${facts.reason}`;
    },
    // Each crash shows at the next check. With an unhealthy threshold of T, a flap stays healthy for
    // about T intervals, which T+1 polls one interval apart can all catch: K must exceed T+1 to hold
    // it. The ALB's minimum T is 2; 1 keeps this scenario decisive for K=3.
    greenCheck: (check) => ({ ...check, fall: 1 }),
    greenFlaps: true,
  },
  'errors-after-cutover': {
    name: 'errors-after-cutover',
    summary:
      'green passes its gate and smoke checks; as soon as it serves users its database loses every table but django_migrations ' +
      '(as a restore of the wrong snapshot would leave it): the migrations still count as applied, and every page answers 500',
    expected:
      "the gate passes; with traffic steps, the first step sees the 5xx on green's share and puts every request back on blue; " +
      "without, the bake sees the 5xx share on green's backend and switches the listener back to blue, which still runs",
    expectedVerdict: 'pass',
    check: (facts) => {
      if (facts.verdict !== 'pass') return `the gate failed; expected it to pass: ${facts.reason}`;
      if (facts.smoke === 'fail') return 'the smoke checks failed; expected them to pass before the fault';
      if (facts.traffic) {
        if (facts.traffic.verdict !== 'fail') return `the traffic steps passed; expected the first to catch the 5xx: ${facts.traffic.reason}`;
        if (!/^traffic step 1 \(/.test(facts.traffic.reason) || !/5xx/.test(facts.traffic.reason)) {
          return `the traffic steps failed, but not at the first step on the 5xx: ${facts.traffic.reason}`;
        }
        return facts.outcome === 'refused at a traffic step' ? undefined : `green was ${facts.outcome}; expected it refused at a traffic step`;
      }
      if (!facts.bake) return 'no bake and no traffic steps ran; this scenario needs the environment to have one of them';
      if (facts.bake.verdict !== 'fail') return `the bake passed; expected it to catch the 5xx: ${facts.bake.reason}`;
      if (!/5xx/.test(facts.bake.reason)) return `the bake failed for another reason: ${facts.bake.reason}`;
      return facts.outcome === 'rolled back after cutover' ? undefined : `green was ${facts.outcome}; expected it rolled back after the cutover`;
    },
    greenBreaksAfterCutover: true,
  },
  'latency-regression': {
    name: 'latency-regression',
    summary: "green answers its health check at once, but each of its pages 300 ms later than blue's (a hook in green's gunicorn config)",
    expected: "the gate and the smoke checks pass; the first traffic step compares green's p99 with blue's and puts every request back on blue",
    expectedVerdict: 'pass',
    check: (facts) => {
      if (facts.verdict !== 'pass') return `the gate failed; expected it to pass, as green's health check is fast: ${facts.reason}`;
      if (facts.smoke === 'fail') return 'the smoke checks failed; expected them to pass, as the pages answer, only slowly';
      if (!facts.traffic) return 'no traffic steps ran; this scenario needs the environment to have traffic.steps';
      if (facts.traffic.verdict !== 'fail') return `the traffic steps passed; expected the latency comparison to refuse green: ${facts.traffic.reason}`;
      if (!/^traffic step 1 \(.*p99 \d+ ms vs live \d+ ms/.test(facts.traffic.reason)) {
        return `the traffic steps failed, but not at the first step on both p99s: ${facts.traffic.reason}`;
      }
      return facts.outcome === 'refused at a traffic step' ? undefined : `green was ${facts.outcome}; expected it refused at a traffic step`;
    },
    greenSlowPagesMs: 300,
  },
  'scale-out-mid-gate': {
    name: 'scale-out-mid-gate',
    summary: "a scaling policy raises green's desired capacity by one after the gate's first healthy poll",
    expected: 'the gate restarts its count, waits for the new instance to turn healthy, then passes on the larger fleet',
    expectedVerdict: 'pass',
    check: (facts) => {
      if (!facts.scaleOut) return 'green never scaled out: the gate passed before its first healthy poll could trigger it';
      const { to, instance, streakBefore } = facts.scaleOut;
      if (facts.verdict !== 'pass') return `the gate failed; expected it to pass with ${instance}: ${facts.reason}`;
      if (streakBefore >= facts.consecutiveHealthyPolls) return 'the gate had already counted K healthy polls before the scale-out';
      if (!new RegExp(`^${to}/${to} healthy`).test(facts.reason)) {
        return `the gate passed without waiting for ${instance}: ${facts.reason}`;
      }
      return facts.outcome === 'live' ? undefined : `green was ${facts.outcome}; expected it to stay live`;
    },
    greenScalesOutMidGate: true,
  },
  'rollback-warm': {
    name: 'rollback-warm',
    summary: 'green goes live and blue stays running as the standby; then `greenlight rollback` returns to blue within the window',
    expected: "green passes and serves; the rollback gates blue's running backend and switches the listener back; nothing restarts",
    expectedVerdict: 'pass',
    check: (facts) => {
      if (facts.verdict !== 'pass') return `the gate failed; expected it to pass: ${facts.reason}`;
      if (facts.smoke === 'fail') return 'the smoke checks failed; expected them to pass';
      if (facts.bake?.verdict === 'fail') return `the bake failed; expected it to pass: ${facts.bake.reason}`;
      if (!facts.rollback) return 'no rollback ran';
      if (facts.rollback.verdict !== 'pass') return `the gate on the standby failed: ${facts.rollback.reason}`;
      return facts.outcome === 'switched back to the standby' ? undefined : `green was ${facts.outcome}; expected a switch back to the standby`;
    },
    rollbackToStandby: true,
  },
  'breaking-migration': {
    name: 'breaking-migration',
    summary: "green's migration drops a column blue's home page reads (Greeting.text of the reference app)",
    expected:
      "the migration check refuses green before it launches or migrates, and blue serves every request; with --ignore-migration-check, blue's requests fail from the moment green migrates",
    expectedVerdict: 'pass',
    check: (facts) => {
      const m = facts.migrations;
      if (!m) return 'the migration check did not run';
      if (m.verdict !== 'fail') return 'the migration check passed; expected it to find the dropped column';
      if (m.refused) return facts.outcome === 'refused before green launched' ? undefined : `green was ${facts.outcome}; expected it refused before it launched`;
      // Overridden: green migrates, and blue, still serving, breaks from that moment.
      if (!m.blueFailuresAfterMigration) return "no request to blue failed after green's migration ran; expected the dropped column to break blue";
      if (m.failuresBeforeMigration) return `${m.failuresBeforeMigration} requests failed before green's migration ran`;
      return undefined;
    },
    greenDropsAColumn: true,
  },
};

/** The scenario named by `--scenario`. */
export function scenarioNamed(name: string): Scenario {
  if (!(SCENARIO_NAMES as readonly string[]).includes(name)) {
    throw new UserError(`--scenario ${JSON.stringify(name)}: unknown scenario; expected one of ${SCENARIO_NAMES.join(', ')}`);
  }
  return SCENARIOS[name as ScenarioName];
}

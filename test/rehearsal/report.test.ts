// The report as people read it: where the release ended up, the smoke and bake sections, and the
// bench table's row for a release that failed after the cutover.
import { describe, expect, it } from 'vitest';
import { renderBench } from '../../lib/rehearsal/bench';
import type { LoadResult } from '../../lib/rehearsal/load';
import { renderReport, type BakeReport, type RehearsalReport } from '../../lib/rehearsal/report';
import { lastException } from '../../lib/rehearsal/first-boot';

const load = (patch: Partial<LoadResult> = {}): LoadResult => ({
  paths: ['/'],
  sent: 8423,
  served: 8174,
  redirects: {},
  clientErrors: {},
  serverErrors: { '500': 249 },
  connectionErrors: {},
  failed: 249,
  errorSeconds: 16,
  latencyMs: { p50: 16, p99: 555.6, max: 1359.7 },
  servedBy: { 'release-rehearsal-a': 8161, 'release-rehearsal-b': 262 },
  durationMs: 101_400,
  ...patch,
});

const rolledBack: RehearsalReport = {
  scenario: 'errors-after-cutover',
  summary: 'green breaks after the cutover',
  environment: 'staging',
  timeScale: 1,
  releases: { blue: 'rehearsal-a', green: 'rehearsal-b' },
  instancesPerRelease: 2,
  healthCheck: { path: '/health/', greenPath: '/health/', intervalMs: 15_000, timeoutMs: 5_000, healthyThreshold: 2, unhealthyThreshold: 10, matcher: '200' },
  gatePolicy: { consecutiveHealthyPolls: 3, pollIntervalMs: 15_000, timeoutMs: 900_000 },
  expected: 'the bake switches back',
  expectedVerdict: 'pass',
  gate: { verdict: 'pass', reason: '2/2 healthy', polls: 6, maxConsecutiveHealthy: 3 },
  outcome: 'rolled back after cutover',
  phaseFailed: 'bake',
  smoke: { verdict: 'pass', message: 'smoke: 1/1 paths answered 200 (/)', requests: [{ path: '/', status: 200, servedBy: 'release-rehearsal-b/green-1' }] },
  bake: {
    verdict: 'fail',
    reason: "bake: 94.9% 5xx on the release's target group over 15s (limit 1%): 241 of 254 requests",
    durationMs: 60_000,
    pollIntervalMs: 15_000,
    maxErrorRate: 1,
    maxErrors: 0,
    figures: { requests: 254, errors5xx: 241, healthyHosts: 2, unhealthyHosts: 0 },
    decidedAfterCutoverMs: 15_500,
    failedBeforeSwitchBack: 249,
    failedAfterSwitchBack: 0,
    detectionMs: 15_300,
    switchedBackAfterFirstFailureMs: 15_300,
  },
  load: load(),
  instances: [],
  servingAfter: { release: 'rehearsal-a', instances: [{ name: 'blue-1', running: true, health: 200 }] },
  timeline: [],
  ok: true,
  workDir: '.rehearsal/x',
  durationMs: 110_000,
};

describe('renderReport', () => {
  it('says the release was rolled back after the cutover, with the bake figures and times', () => {
    const text = renderReport(rolledBack);
    expect(text).toContain('release       rolled back after cutover (phase bake failed)\n');
    expect(text).toContain('  requested          GET /\n');
    expect(text).toContain('  served             8174\n  4xx (not failed)   0\n  5xx                249 (249× 500)\n');
    expect(text).toContain('  GET /               200 from release-rehearsal-b/green-1\n');
    expect(text).toContain(
      "  verdict            fail 15.5 s after the cutover: bake: 94.9% 5xx on the release's target group over 15s (limit 1%): 241 of 254 requests\n",
    );
    expect(text).toContain("  green's backend    254 requests, 241 5xx since the cutover; 2 healthy, 0 unhealthy servers\n");
    expect(text).toContain('  failed requests    249 before the switch back to blue, 0 after\n');
    expect(text).toContain("  detection          15.3 s from the first failed request to the bake's verdict\n");
    expect(text).toContain('  switched back      15.3 s after the first failed request\n');
  });

  it('leaves out the phases that did not run', () => {
    const text = renderReport({ ...rolledBack, outcome: 'rolled back before cutover', phaseFailed: 'gate', smoke: undefined, bake: undefined });
    expect(text).toContain('release       rolled back before cutover (phase gate failed)\n');
    expect(text).not.toContain('smoke (through the preview route)');
    expect(text).not.toMatch(/^bake$/m);
    expect(renderReport({ ...rolledBack, outcome: 'live', phaseFailed: undefined })).toContain('release       live\n');
  });
});

describe('renderReport: the migration check', () => {
  const check = {
    verdict: 'fail' as const,
    summary: 'refused: 1 operation(s) break the live release, first shop.0003_remove_item_name RemoveField: …',
    findings: ['BREAKS shop.0003_remove_item_name RemoveField: drops Item.name (column name): the live release still reads and writes it'],
  };

  it('says green was refused and the gate never ran', () => {
    const text = renderReport({
      ...rolledBack,
      outcome: 'refused before green launched',
      phaseFailed: 'migrations',
      smoke: undefined,
      bake: undefined,
      gate: { verdict: 'not run', reason: 'green never launched: the migration check refused it', polls: 0, maxConsecutiveHealthy: 0 },
      migrations: { ...check, refused: true, overridden: false },
    });
    expect(text).toContain(`migrations (green on top of blue)\n  check              ${check.summary}\n  ${check.findings[0]}\n  green              refused before it launched: nothing migrated, blue served on\n`);
    expect(text).toContain('gate\n  verdict            not run\n');
    expect(text).toContain('release       refused before green launched (phase migrations failed)\n');
  });

  it("gives blue's failures from green's migration on, and their cause, when the check was overridden", () => {
    const text = renderReport({
      ...rolledBack,
      migrations: { ...check, refused: false, overridden: true, greenMigratedAfterMs: 10_100, blueFailuresAfterMigration: 122, failuresBeforeMigration: 0, cause: "green's migration … ran at 10.1 s" },
    });
    expect(text).toContain('  green              played anyway (--ignore-migration-check)\n  green migrated     10.1 s after start\n');
    expect(text).toContain("  blue's failures    122 from green's migration until the cutover, 0 before it\n  cause              green's migration … ran at 10.1 s\n");
  });
});

describe('renderBench', () => {
  const clean = load({ sent: 4435, served: 4435, serverErrors: {}, failed: 0, errorSeconds: 0 });
  const refused: RehearsalReport = {
    ...rolledBack,
    outcome: 'refused at a traffic step',
    phaseFailed: 'traffic',
    bake: undefined,
    traffic: {
      verdict: 'fail',
      reason: "traffic step 1 (10%): 100% 5xx on the release's target group over 3s (limit 1%): 24 of 24 requests",
      steps: [10],
      stepDurationMs: 12_000,
      pollIntervalMs: 3000,
      step: 1,
      weight: 10,
      passed: [],
      release: { requests: 24, errors5xx: 24, p99Ms: 9 },
      live: { requests: 215, errors5xx: 0, p99Ms: 31 },
      decidedAfterStartMs: 3100,
      failedDuringSteps: 25,
      failedAfterRestore: 0,
      detectionMs: 2900,
      sentFromFirstFailure: 240,
      restoredAfterFirstFailureMs: 1600,
    },
    load: load({ sent: 8399, served: 8374, serverErrors: { '500': 25 }, failed: 25 }),
  };

  it("adds the failing release's rows, how the bake took it out, and how the first step did with what share of the failures", () => {
    const text = renderBench({
      load: { ratePerSecond: 150, concurrency: 256 },
      blueGreen: clean,
      inPlace: load({ serverErrors: { '502': 382 }, failed: 382 }),
      report: rolledBack,
      failsAfterCutover: { ...rolledBack, bake: { ...(rolledBack.bake as BakeReport), sentFromFirstFailure: 2295 } },
      failsAtFirstStep: refused,
    });
    expect(text).toMatch(/^load: open arrivals at 150 requests\/s \(at most 256 in flight\), the same in every row/);
    // Each row's achieved rate over its run: 8399 requests in 101.4 s.
    expect(text).toMatch(/^\(d\) fails, steps \[10\]\s+8399\s+83\s+25\s/m);
    expect(text).toContain(
      "(d) errors: 25× 500; 25 failed during the step = 10% of (c)'s, 0 after every request went back to blue; detected 2.9 s after the first failed request (polled every 3000 ms); " +
        '25 of the 240 requests sent from the first failure until blue served them all failed (10%), 240 in 1.6 s = 150 requests/s: traffic step 1 (10%)',
    );
    expect(text).toMatch(/^\(c\) fails after cutover\s+8423\s+83\s+249\s+16\s+555\.6 ms\s+1359\.7 ms$/m);
    expect(text).toContain(
      '(c) errors: 249× 500; 249 failed before the switch back, 0 after; detected 15.3 s and back on blue 15.3 s after the first failed request (bake polled every 15000 ms); ' +
        '249 of the 2295 requests sent from the first failure until blue served them all failed (11%), 2295 in 15.3 s = 150 requests/s: bake:',
    );
  });

  it('renders the steps: the verdict, where they ended, both releases\' figures with their p99s, and the failures', () => {
    const text = renderReport(refused);
    expect(text).toContain(
      [
        'traffic steps',
        "  verdict            fail 3.1 s after the first step: traffic step 1 (10%): 100% 5xx on the release's target group over 3s (limit 1%): 24 of 24 requests",
        '  steps              10%, 12.0 s each, polled every 3000 ms; ended at step 1 (10%)',
        "  green's backend    24 requests, 24 5xx, p99 9 ms in the step",
        "  blue's backend     215 requests, 0 5xx, p99 31 ms in the step",
        '  failed requests    25 during the steps, 0 after every request went back to blue',
        '  detection          2.9 s from the first failed request to the verdict',
        '',
      ].join('\n'),
    );
    expect(text).toContain('release       refused at a traffic step (phase traffic failed)\n');
  });

  it('says so when the release was not rolled back after the cutover', () => {
    const live = { ...rolledBack, outcome: 'live' as const, mismatch: 'the bake passed; expected it to catch the 5xx' };
    const text = renderBench({ load: { ratePerSecond: 150, concurrency: 256 }, blueGreen: clean, inPlace: clean, report: rolledBack, failsAfterCutover: live, failsAtFirstStep: live });
    expect(text).toContain('(c) errors: 249× 500; not rolled back after the cutover (live): the bake passed; expected it to catch the 5xx');
    expect(text).toContain('(d) errors: 249× 500; not refused at a traffic step (live): the bake passed; expected it to catch the 5xx');
  });
});

describe('the load in the report', () => {
  it('names the exception the app logged behind a failed phase', () => {
    const text = renderReport({ ...rolledBack, appException: 'green-1\'s app log: django.db.utils.OperationalError: no such table: greenlight_example_greeting' });
    expect(text).toContain(
      "release       rolled back after cutover (phase bake failed)\ncause         green-1's app log: django.db.utils.OperationalError: no such table: greenlight_example_greeting\n",
    );
    expect(renderReport(rolledBack)).not.toContain('cause ');
  });

  it('says what it requested and counts redirects as served and 4xx apart', () => {
    const text = renderReport({
      ...rolledBack,
      load: load({ paths: ['/', '/catalog/'], served: 100, redirects: { '302': 50 }, clientErrors: { '404': 3 }, serverErrors: {}, failed: 0 }),
    });
    expect(text).toContain('  requested          GET /, /catalog/ in turn\n');
    expect(text).toContain('  served             100 (50 redirects: 50× 302)\n  4xx (not failed)   3 (3× 404)\n  5xx                0\n');
  });
});

describe('lastException', () => {
  it("finds the exception of the app log's last traceback, past the frames and the lines after it", () => {
    const log = [
      'Traceback (most recent call last):',
      '  File "/x/views.py", line 3, in home',
      'KeyError: \'first\'',
      '[2026-12-06 21:00:00 +0000] [12] [INFO] Booting worker',
      'Internal Server Error: /catalog/',
      'Traceback (most recent call last):',
      '  File "/x/django/template/loader.py", line 19, in get_template',
      '    raise TemplateDoesNotExist(template_name, chain=chain)',
      'django.template.exceptions.TemplateDoesNotExist: catalog/home.html',
      '127.0.0.1 - - "GET /catalog/ HTTP/1.0" 500',
    ];
    expect(lastException(log)).toBe('django.template.exceptions.TemplateDoesNotExist: catalog/home.html');
    expect(lastException(['[INFO] Listening at: unix:/run/greenlight/gunicorn.sock'])).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { type ComparisonPolicy, compareReleases, formatP, latencyRegressed, normalUpperTail, proportionTest } from '../../lib/traffic/compare';

const policy: ComparisonPolicy = { errorMargin: 1, confidence: 99, minRequests: 100, latencyRatio: 1.5, latencyFloorMs: 100 };
const figures = (requests: number, errors5xx: number, p99Ms?: number) => ({ requests, errors5xx, p99Ms });

describe('normalUpperTail', () => {
  it.each([
    [0, 0.5],
    [1.644854, 0.05],
    [2.326348, 0.01],
    [3.090232, 0.001],
    [-1.644854, 0.95],
  ])('1 − Φ(%f) ≈ %f', (z, p) => {
    expect(Math.abs(normalUpperTail(z) - p)).toBeLessThan(2e-6);
  });
});

describe('proportionTest, one-sided, with a margin', () => {
  it.each([
    // release errors/requests, live errors/requests, margin, confidence, significant
    { name: 'no errors on either side', r: [0, 100], l: [0, 900], margin: 1, confidence: 99, significant: false },
    { name: '3% on 100 requests against none is within the noise', r: [3, 100], l: [0, 900], margin: 1, confidence: 99, significant: false },
    { name: '5% on 100 requests: significant at 95%', r: [5, 100], l: [0, 900], margin: 1, confidence: 95, significant: true },
    { name: '5% on 100 requests: not at 99%', r: [5, 100], l: [0, 900], margin: 1, confidence: 99, significant: false },
    { name: '4.1% against 0.2% on 1000 and 9000 requests', r: [41, 1000], l: [18, 9000], margin: 1, confidence: 99, significant: true },
    { name: 'a share just above the margin on many requests is not beyond it', r: [110, 10_000], l: [10, 90_000], margin: 1, confidence: 99, significant: false },
    { name: 'the same share with no margin is', r: [110, 10_000], l: [10, 90_000], margin: 0, confidence: 99, significant: true },
    { name: 'every request failing', r: [100, 100], l: [0, 900], margin: 1, confidence: 99.9, significant: true },
    { name: 'a lower share than the live one', r: [0, 1000], l: [90, 9000], margin: 0, confidence: 50, significant: false },
  ])('$name', ({ r, l, margin, confidence, significant }) => {
    const test = proportionTest(figures(r[1], r[0]), figures(l[1], l[0]), margin, confidence);
    expect(test.significant).toBe(significant);
    expect(test.p).toBeGreaterThanOrEqual(0);
    expect(test.p).toBeLessThanOrEqual(1);
  });

  it('p falls as the same shares rest on more requests', () => {
    const small = proportionTest(figures(100, 5), figures(900, 0), 1, 99).p;
    const large = proportionTest(figures(1000, 50), figures(9000, 0), 1, 99).p;
    expect(large).toBeLessThan(small / 100);
  });

  it.each([
    [0.0000013, 'p < 0.001'],
    [0.001, 'p = 0.001'],
    [0.0204, 'p = 0.02'],
    [0.553, 'p = 0.55'],
  ])('formats %f as %s', (p, text) => expect(formatP(p)).toBe(text));
});

describe('latencyRegressed: beyond the ratio and the floor both', () => {
  it.each([
    { name: '300 ms slower', release: 320, live: 20, regressed: true },
    { name: 'twice as slow but only 10 ms more', release: 20, live: 10, regressed: false },
    { name: '150 ms more but within the ratio', release: 450, live: 300, regressed: false },
    { name: 'exactly at the ratio and above the floor', release: 600, live: 400, regressed: false },
    { name: 'just beyond the ratio and the floor', release: 601, live: 400, regressed: true },
    { name: 'exactly at the floor', release: 150, live: 50, regressed: false },
    { name: 'no p99 for the release', release: undefined, live: 50, regressed: false },
  ])('$name', ({ release, live, regressed }) => expect(latencyRegressed(release, live, policy)).toBe(regressed));
});

describe('compareReleases', () => {
  it('is nodata below the minimum on either side', () => {
    expect(compareReleases(figures(99, 99), figures(900, 0), policy)).toMatchObject({
      verdict: 'nodata',
      errorsText: '5xx 100% vs live 0% (too few requests to judge: 99 and 900, minimum 100 each)',
    });
    expect(compareReleases(figures(100, 0), figures(99, 0), policy).verdict).toBe('nodata');
    expect(compareReleases(figures(100, 0), figures(100, 0), policy).verdict).toBe('pass');
  });

  it('names both releases, the test and the margin', () => {
    const c = compareReleases(figures(1000, 41, 120), figures(9000, 18, 110), policy);
    expect(c.verdict).toBe('fail');
    expect(c.failedText).toBe('5xx 4.1% vs live 0.2% (p < 0.001, margin 1 point)');
    expect(c.latencyText).toBe('p99 120 ms vs live 110 ms (limit 1.5× and +100 ms)');
  });

  it('fails on latency alone, with both p99s', () => {
    const c = compareReleases(figures(200, 0, 330), figures(1800, 0, 25), policy);
    expect(c).toMatchObject({ verdict: 'fail', failedText: 'p99 330 ms vs live 25 ms (limit 1.5× and +100 ms)' });
  });

  it('passes clean figures', () => {
    const c = compareReleases(figures(200, 1, 30), figures(1800, 4, 25), policy);
    expect(c.verdict).toBe('pass');
    expect(c.errorsText).toBe('5xx 0.5% vs live 0.2% (p = 0.66, margin 1 point)');
  });
});

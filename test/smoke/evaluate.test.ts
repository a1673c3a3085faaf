import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bodyExcerpt, evaluateSmoke, sameSiteRedirect, type SmokeResult, statusMatches } from '../../lib/smoke/evaluate';

describe('statusMatches', () => {
  const cases: ReadonlyArray<readonly [string, number, boolean]> = [
    ['200', 200, true],
    ['200', 301, false],
    ['200,202', 202, true],
    ['200,202', 201, false],
    ['200-299', 204, true],
    ['200-299', 300, false],
    ['200,300-399', 302, true],
    ['200,300-399', 404, false],
  ];
  it.each(cases)('%s matches %i: %s', (matcher, status, expected) => {
    expect(statusMatches(matcher, status)).toBe(expected);
  });

  it('names a malformed matcher', () => {
    expect(() => statusMatches('2xx', 200)).toThrow('smoke expectedStatuses: "2xx" is not a matcher such as "200", "200,202" or "200-299"');
  });
});

describe('bodyExcerpt', () => {
  it('puts the body on one line', () => {
    expect(bodyExcerpt('Traceback (most recent call last):\n  File "x"\n')).toBe('Traceback (most recent call last): File "x"');
  });
  it("quotes the exception of Django's debug page, not its markup", () => {
    // The first 4 KB (what the smoke checks read) of Django's answer to a view whose template is missing.
    const page = fs.readFileSync(path.join(__dirname, 'fixtures', 'django-debug-500-head.html'), 'utf8');
    expect(bodyExcerpt(page)).toBe('TemplateDoesNotExist at /');
    expect(bodyExcerpt(`${page}<pre class="exception_value">catalog/index.html</pre>`)).toBe('TemplateDoesNotExist at /: catalog/index.html');
  });
  it("quotes a page's text without its markup when it has no title", () => {
    expect(bodyExcerpt('\n<h1>Server Error (500)</h1>\n<p>Sorry &amp; goodbye</p>')).toBe('Server Error (500) Sorry & goodbye');
    expect(bodyExcerpt('<!doctype html><html><head><style>h1 { color: red }</style></head><body><h1>Bad Request (400)</h1></body></html>')).toBe('Bad Request (400)');
  });
  it('cuts a long body with an ellipsis', () => {
    expect(bodyExcerpt('a'.repeat(200), 10)).toBe(`${'a'.repeat(9)}…`);
  });
});

describe('evaluateSmoke', () => {
  const ok = (path: string, status = 200): SmokeResult => ({ path, status });
  const cases: ReadonlyArray<{
    readonly name: string;
    readonly results: readonly SmokeResult[];
    readonly expected?: string;
    readonly verdict: 'pass' | 'fail';
    readonly message: string;
    readonly failed?: readonly string[];
  }> = [
    {
      name: 'every path answers 200',
      results: [ok('/'), ok('/orders/')],
      verdict: 'pass',
      message: 'smoke: 2/2 paths answered 200 (/, /orders/)',
    },
    {
      name: 'a 500 with its body',
      results: [ok('/'), { path: '/orders/', status: 500, bodyExcerpt: 'Traceback (most recent call last):' }],
      verdict: 'fail',
      message: 'smoke: GET /orders/ answered 500 (expected 200): "Traceback (most recent call last):"',
      failed: ['/orders/'],
    },
    {
      name: 'a redirect is not a 200',
      results: [{ path: '/orders', status: 301 }],
      verdict: 'fail',
      message: 'smoke: GET /orders answered 301 (expected 200)',
    },
    {
      name: 'a range of expected statuses',
      results: [ok('/', 204), ok('/login/', 302)],
      expected: '200-399',
      verdict: 'pass',
      message: 'smoke: 2/2 paths answered 200-399 (/, /login/)',
    },
    {
      name: 'no answer at all',
      results: [{ path: '/', error: 'timed out after 10s' }],
      verdict: 'fail',
      message: 'smoke: GET / failed: timed out after 10s',
    },
    {
      name: 'the first failure is named and the others counted',
      results: [{ path: '/a/', status: 502 }, ok('/b/'), { path: '/c/', error: 'socket hang up' }],
      verdict: 'fail',
      message: 'smoke: GET /a/ answered 502 (expected 200) (+1 more of 3 paths failed)',
      failed: ['/a/', '/c/'],
    },
    {
      name: 'nothing requested proves nothing',
      results: [],
      verdict: 'fail',
      message: 'smoke: no paths were requested',
    },
  ];

  it.each(cases)('$name', ({ results, expected = '200', verdict, message, failed }) => {
    const decision = evaluateSmoke(results, expected);
    expect(decision.verdict).toBe(verdict);
    expect(decision.message).toBe(message);
    if (failed) expect(decision.failures.map((f) => f.path)).toEqual(failed);
  });
});

describe('sameSiteRedirect', () => {
  it('follows a relative or same-site Location, and nothing else', () => {
    expect(sameSiteRedirect('/catalog/', '/', 'http://alb.example')).toBe('/catalog/');
    expect(sameSiteRedirect('catalog/?page=2', '/', 'http://alb.example')).toBe('/catalog/?page=2');
    expect(sameSiteRedirect('http://alb.example/a/', '/', 'http://alb.example')).toBe('/a/');
    expect(sameSiteRedirect('https://alb.example/a/', '/', 'http://alb.example')).toBeUndefined();
    expect(sameSiteRedirect('https://accounts.example/login', '/', 'https://alb.example')).toBeUndefined();
  });

  it('names the redirects a failing path went through', () => {
    const verdict = evaluateSmoke([{ path: '/', redirects: ['/catalog/'], status: 500, bodyExcerpt: 'TemplateDoesNotExist at /catalog/' }], '200');
    expect(verdict.message).toBe('smoke: GET / -> /catalog/ answered 500 (expected 200): "TemplateDoesNotExist at /catalog/"');
  });
});

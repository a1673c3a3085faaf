// The kinds of value cdk.json's settings are made of, each checked as AWS would check it and
// refused in one line that shows the value received and what is allowed. A value that is absent
// where one is needed "is required"; a value of the wrong type is named as such, never "out of range".
import { z } from 'zod';

/** A value as a message shows it: text quoted, a list or an object as JSON (cut short), the rest as is. */
export const describe = (value: unknown): string => {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value !== null && typeof value === 'object') {
    const json = JSON.stringify(value);
    return json.length > 60 ? `${json.slice(0, 57)}...` : json;
  }
  return String(value);
};

/**
 * A field checked by `problem`, which says what is wrong with a value that is there (or nothing);
 * an absent value is required, with `allowed` saying what to put.
 */
export const field = <T>(allowed: string, problem: (value: unknown) => string | undefined) =>
  z.unknown().transform((value, ctx) => {
    const wrong = value === undefined ? `is required; allowed ${allowed}` : problem(value);
    if (wrong !== undefined) {
      ctx.addIssue({ code: 'custom', message: wrong });
      return z.NEVER;
    }
    return value as T;
  });

const isWhole = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value);
const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

/** Whole seconds within [min, max]. */
export const seconds = ([min, max]: readonly [number, number]) =>
  field<number>(`${min}–${max}s`, (value) =>
    !isWhole(value)
      ? `${describe(value)} must be a whole number of seconds (${min}–${max})`
      : value < min || value > max
        ? `${value}s is out of range; allowed ${min}–${max}s`
        : undefined,
  );

/** A whole count within [min, max]; `why` explains the range when AWS's reason is not obvious. */
export const count = ([min, max]: readonly [number, number], why?: string) =>
  field<number>(`a whole number ${min}–${max}`, (value) =>
    !isWhole(value)
      ? `${describe(value)} is not a whole number; allowed ${min}–${max}`
      : value < min || value > max
        ? `${value} is out of range; allowed a whole number ${min}–${max}${why ? ` (${why})` : ''}`
        : undefined,
  );

export const isWholeSeconds = isWhole;

/** A number within [min, max], fractions allowed; `what` names it in the message ("a percentage"). */
export const decimal = ([min, max]: readonly [number, number], what: string) =>
  field<number>(`${what} ${min}–${max}`, (value) =>
    !isNumber(value)
      ? `${describe(value)} is not a number; allowed ${what} ${min}–${max}`
      : value < min || value > max
        ? `${value} is out of range; allowed ${what} ${min}–${max}`
        : undefined,
  );

/** A percentage within [min, max], fractions allowed. */
export const percent = (range: readonly [number, number]) => decimal(range, 'a percentage');

/** A number or true/false where text is wanted: said as such, since the value may look right (an account id). */
const unquoted = (value: unknown, allowed: string): string | undefined =>
  typeof value === 'number' || typeof value === 'boolean' ? `${value} is a ${typeof value}, not text; expected ${allowed}, in quotes: "${value}"` : undefined;

/** Text matching `pattern`; `what` names it ("an AWS account id") and `allowed` describes it. */
export const text = (what: string, pattern: RegExp, allowed: string) =>
  field<string>(allowed, (value) =>
    unquoted(value, allowed) ?? (typeof value !== 'string' || !pattern.test(value) ? `${describe(value)} is not ${what}; expected ${allowed}` : undefined),
  );

/** true or false. */
export const flag = () => field<boolean>('true or false', (value) => (typeof value !== 'boolean' ? `${describe(value)} must be true or false` : undefined));

export const MATCHER_CODES = [200, 499] as const;

/** "200", "200,202" or "200-299"; every code 200–499. */
export const matcher = () => {
  const [lo, hi] = MATCHER_CODES;
  const allowed = `HTTP codes ${lo}–${hi} as "200", "200,202" or "200-299"`;
  return field<string>(allowed, (value) => {
    const wrong = unquoted(value, allowed) ?? `${describe(value)} is not a valid matcher; expected ${allowed}`;
    if (typeof value !== 'string' || !/^\d{3}(-\d{3})?(,\d{3}(-\d{3})?)*$/.test(value)) return wrong;
    for (const part of value.split(',')) {
      const [from, to = from] = part.split('-').map(Number);
      if (from < lo || to > hi || from > to) return wrong;
    }
    return undefined;
  });
};

export const absolutePath = (what: string) => text(what, /^\/[\x21-\x7e]{0,1023}$/, 'an absolute path such as "/health/"');

/** A list of `min`–`max` entries; the message shows what it received, or how many. */
export const list = <T extends z.ZodType>(item: T, [min, max]: readonly [number, number], what: string) =>
  z
    .array(item, { error: (iss) => `${describe(iss.input)} is not a list of ${what}` })
    .superRefine((items, ctx) => {
      if (items.length < min || items.length > max) {
        ctx.addIssue({ code: 'custom', message: `lists ${items.length} ${items.length === 1 ? what.replace(/s$/, '') : what}; allowed ${min}–${max}` });
      }
    });

// Auto Scaling's Recurrence is Unix cron: each field a value, a range, a step or a list of them,
// within the field's range; months and week days may be named.
const CRON_FIELDS = [
  { name: 'minute', range: [0, 59] },
  { name: 'hour', range: [0, 23] },
  { name: 'day-of-month', range: [1, 31] },
  { name: 'month', range: [1, 12], names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'] },
  { name: 'day-of-week', range: [0, 7], names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] },
] as const;

/** What is wrong with one cron field, or nothing. */
function cronFieldProblem(text: string, spec: (typeof CRON_FIELDS)[number]): string | undefined {
  const [lo, hi] = spec.range;
  const names: readonly string[] = 'names' in spec ? spec.names : [];
  const valueOf = (v: string): number | undefined => {
    const named = names.indexOf(v.toUpperCase());
    if (named >= 0) return named + (spec.name === 'month' ? 1 : 0);
    return /^\d+$/.test(v) ? Number(v) : undefined;
  };
  const allowed = `${lo}–${hi}${names.length > 0 ? ` or ${names[0]}–${names[names.length - 1]}` : ''}`;
  for (const part of text.split(',')) {
    const [span, step] = part.split('/');
    if (step !== undefined && (!/^\d+$/.test(step) || Number(step) < 1)) return `the ${spec.name} step "${step}" is not a whole number from 1`;
    if (span === '*') continue;
    const [from, to] = span.split('-');
    for (const v of to === undefined ? [from] : [from, to]) {
      const n = valueOf(v);
      if (n === undefined || n < lo || n > hi) return `the ${spec.name} "${v}" is out of range; allowed ${allowed}`;
    }
    if (to !== undefined && valueOf(from)! > valueOf(to)!) return `the ${spec.name} range "${span}" runs backwards`;
  }
  return undefined;
}

/** A five-field Unix cron expression, as Auto Scaling's Recurrence takes it. */
export const cron = () => {
  const allowed = 'five fields "minute hour day-of-month month day-of-week", such as "0 7 * * MON-FRI"';
  return field<string>(allowed, (value) => {
    const fields = typeof value === 'string' ? value.trim().split(/\s+/) : [];
    if (fields.length !== 5 || !fields.every((f) => /^[0-9A-Za-z*/,-]+$/.test(f))) return `${describe(value)} is not a cron expression; expected ${allowed}`;
    for (const [i, spec] of CRON_FIELDS.entries()) {
      const problem = cronFieldProblem(fields[i], spec);
      if (problem) return `${describe(value)} is not a cron expression: ${problem}`;
    }
    return undefined;
  });
};

/**
 * An IANA time zone name, as Auto Scaling takes it: known to this Node.js, and in its canonical case
 * ("Europe/London", not "europe/london"), which Node accepts and AWS refuses.
 */
export const timeZone = () => {
  const allowed = 'an IANA name such as "Europe/London" or "UTC"';
  return field<string>(allowed, (value) => {
    let canonical: string | undefined;
    try {
      if (typeof value === 'string' && value !== '') canonical = new Intl.DateTimeFormat('en-US', { timeZone: value }).resolvedOptions().timeZone;
    } catch {
      canonical = undefined;
    }
    if (canonical === undefined) return `${describe(value)} is not a time zone; expected ${allowed}`;
    if (canonical !== value && canonical.toLowerCase() === (value as string).toLowerCase()) {
      return `${describe(value)} is not a time zone AWS accepts; time zone names are case-sensitive: expected ${JSON.stringify(canonical)}`;
    }
    return undefined;
  });
};

/**
 * An instance type's shape, `<family>.<size>`; whether EC2 has it is checked at synth against the
 * EC2 SDK's list (lib/aws/instance-types.ts), which this foundation may not import.
 */
export const instanceType = () => {
  const allowed = 'an EC2 instance type such as "t3.small"';
  return field<string>(allowed, (value) =>
    typeof value !== 'string' || !/^[a-z][a-z0-9-]*\.[a-z0-9-]+$/.test(value) ? `${describe(value)} is not an instance type; expected ${allowed}` : undefined,
  );
};

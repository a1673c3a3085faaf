// A small evaluator for the iam/ documents: enough of IAM's matching and condition operators to ask
// whether a request is allowed, so that the tests can trace what greenlight and Packer call.
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

export interface Statement {
  readonly Sid?: string;
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource?: string | string[];
  readonly Principal?: { Federated?: string };
  readonly Condition?: Record<string, Record<string, string | string[]>>;
}
export interface Policy {
  readonly Version: string;
  readonly Statement: Statement[];
}

/** Request context: condition keys and their values (a list for multi-valued keys like aws:TagKeys). */
export type Context = Record<string, string | string[]>;

export const list = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : [v].flat() as T[]);

/** IAM's wildcards: `*` is any run of characters, `?` one character. */
export const glob = (pattern: string, value: string, flags = ''): boolean =>
  new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, flags).test(value);

const OPERATORS: Record<string, (pattern: string, value: string) => boolean> = {
  StringEquals: (p, v) => p === v,
  StringLike: (p, v) => glob(p, v),
  ArnEquals: (p, v) => p === v,
  ArnLike: (p, v) => glob(p, v),
  Bool: (p, v) => p === v,
};

/** One condition block entry: operator (with IfExists / ForAllValues: qualifiers), key, allowed values. */
function holds(operator: string, key: string, allowed: string[], context: Context): boolean {
  const forAll = operator.startsWith('ForAllValues:');
  const ifExists = operator.endsWith('IfExists');
  const base = operator.replace(/^ForAllValues:/, '').replace(/IfExists$/, '');
  const test = OPERATORS[base];
  if (!test) throw new Error(`the evaluator does not know the condition operator ${operator}`);
  const present = Object.keys(context).find((k) => k.toLowerCase() === key.toLowerCase());
  if (present === undefined) return ifExists || forAll;
  const values = list(context[present]);
  const matches = (v: string) => allowed.some((p) => test(p, v));
  return forAll ? values.every(matches) : values.some(matches);
}

/** Whether one statement allows the action on the resource under the context. */
export function statementAllows(s: Statement, action: string, resource: string, context: Context = {}): boolean {
  if (s.Effect !== 'Allow') return false;
  if (!list(s.Action).some((a) => glob(a, action, 'i'))) return false;
  // Trust policies name a Principal, not a Resource.
  if (s.Resource !== undefined && !list(s.Resource).some((r) => glob(r, resource))) return false;
  return Object.entries(s.Condition ?? {}).every(([op, entries]) =>
    Object.entries(entries).every(([key, allowed]) => holds(op, key, list(allowed), context)),
  );
}

export const allows = (policy: Policy, action: string, resource: string, context: Context = {}): boolean =>
  policy.Statement.some((s) => statementAllows(s, action, resource, context));

/** The statements that allow this action on this resource, conditions aside. */
export const grantsIgnoringConditions = (policy: Policy, action: string, resource: string): Statement[] =>
  policy.Statement.filter((s) => statementAllows({ ...s, Condition: undefined }, action, resource));

export const iamDir = (root: string): string => path.join(root, 'iam');
export const iamFiles = (root: string): string[] => readdirSync(iamDir(root)).filter((f) => f.endsWith('.json')).sort();
export const rawPolicy = (root: string, file: string): string => readFileSync(path.join(iamDir(root), file), 'utf8');

/** The policy with its <PLACEHOLDERS> filled in, as docs/iam.md tells a team to do. */
export function renderPolicy(root: string, file: string, values: Record<string, string>): Policy {
  const text = rawPolicy(root, file).replace(/<([A-Z_]+)>/g, (m, key: string) => values[key] ?? m);
  const left = text.match(/<[A-Z_]+>/);
  if (left) throw new Error(`${file} still has the placeholder ${left[0]}`);
  return JSON.parse(text) as Policy;
}

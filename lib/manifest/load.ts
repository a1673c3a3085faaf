// The application manifest: the [tool.greenlight] table of the app's pyproject.toml. The same rules
// as packer/files/greenlight-app, which the bake and first boot use; test/manifest/load.test.ts holds
// both to the same messages.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse, TomlError } from 'smol-toml';
import { z } from 'zod';
import { UserError } from '../errors';

export const MANIFEST_FILE = 'pyproject.toml';
const TABLE = '[tool.greenlight]';
const MODULE = '[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*';
const URL_PATH = /^\/[A-Za-z0-9._~/-]*$/;

/** What each field allows, as the error message states it. */
const ALLOWED = {
  wsgi: 'a module and a callable, e.g. mysite.wsgi:application',
  settings: 'a dotted module name, e.g. mysite.settings',
  'health-path': 'an absolute URL path such as /health/ (letters, digits, . _ ~ - /)',
  'liveness-path': 'an absolute URL path such as /healthz/ (letters, digits, . _ ~ - /)',
  'required-env': 'a list of distinct environment variable names, e.g. ["SECRET_KEY", "DATABASE_URL"]',
  migrate: 'a non-empty list of arguments for the release\'s python, e.g. ["manage.py", "migrate", "--no-input"]',
  requirements: 'a file path relative to the app directory, e.g. requirements.txt',
  static: 'a non-empty list of arguments for the release\'s python, e.g. ["manage.py", "collectstatic", "--no-input"]',
  'accept-breaking-migrations':
    'a table of "app_label.migration_name" = "why", e.g. { "shop.0007_remove_item_price" = "nothing reads price since release 41" }',
} as const;
type Field = keyof typeof ALLOWED;

const command = z.array(z.string().regex(/^[^\n\0]+$/)).min(1);
const schema = z.strictObject({
  wsgi: z.string().regex(new RegExp(`^${MODULE}:[A-Za-z_][A-Za-z0-9_]*$`)),
  settings: z.string().regex(new RegExp(`^${MODULE}$`)),
  'health-path': z.string().regex(URL_PATH),
  'liveness-path': z.string().regex(URL_PATH).optional(),
  'required-env': z
    .array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/))
    .refine((names) => new Set(names).size === names.length),
  migrate: command.default(['manage.py', 'migrate', '--no-input']),
  requirements: z
    .string()
    .refine((p) => p !== '' && !p.startsWith('/') && !p.split('/').includes('..'))
    .optional(),
  static: command.optional(),
  'accept-breaking-migrations': z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z0-9_]+$/), z.string().regex(/\S/)).optional(),
});

export interface AppManifest {
  /** The app directory (holding manage.py and pyproject.toml). */
  readonly dir: string;
  readonly file: string;
  readonly wsgi: string;
  readonly settings: string;
  readonly healthPath: string;
  readonly livenessPath?: string;
  readonly requiredEnv: readonly string[];
  readonly migrate: readonly string[];
  readonly requirements: string;
  readonly static?: readonly string[];
  /**
   * Migrations the team ships knowing they break the release still serving (`app.name` → why); the
   * migration check reports them and lets them pass. @default none
   */
  readonly acceptBreakingMigrations: ReadonlyMap<string, string>;
}

/** A value as TOML-ish text for an error message (the Python helper prints the same). */
function received(value: unknown): string {
  if (typeof value === 'string') return `"${value}"`;
  if (Array.isArray(value)) return `[${value.map(received).join(', ')}]`;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'object' && value !== null) {
    return `{${Object.entries(value).map(([k, v]) => `"${k}": ${received(v)}`).join(', ')}}`;
  }
  return String(value);
}

/** Reads and checks DIR/pyproject.toml; every mistake is one UserError naming the file and field. */
export function loadManifest(dir: string): AppManifest {
  const file = path.join(dir, MANIFEST_FILE);
  if (!fs.existsSync(file)) {
    throw new UserError(`${file}: not found; create it next to manage.py with a ${TABLE} table of wsgi, settings, health-path and required-env`);
  }
  let document: Record<string, unknown>;
  try {
    document = parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    if (err instanceof TomlError) throw new UserError(`${file}: not valid TOML: ${err.message.split('\n')[0]}`);
    throw err;
  }
  const tool = document.tool;
  const table = typeof tool === 'object' && tool !== null && !Array.isArray(tool) ? (tool as Record<string, unknown>).greenlight : undefined;
  if (typeof table !== 'object' || table === null || Array.isArray(table)) {
    throw new UserError(`${file}: no ${TABLE} table; add one with wsgi, settings, health-path and required-env`);
  }
  const raw = table as Record<string, unknown>;
  const unknown = Object.keys(raw).filter((k) => !(k in ALLOWED)).sort();
  if (unknown.length > 0) {
    throw new UserError(`${file}: ${TABLE} ${unknown[0]}: unknown field; expected one of ${Object.keys(ALLOWED).join(', ')}`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    // Fields in the order they are declared, so both implementations report the same one first.
    const bad = new Set(parsed.error.issues.map((issue) => String(issue.path[0])));
    const field = (Object.keys(ALLOWED) as Field[]).find((f) => bad.has(f)) as Field;
    if (raw[field] === undefined) throw new UserError(`${file}: ${TABLE} ${field} is missing; expected ${ALLOWED[field]}`);
    throw new UserError(`${file}: ${TABLE} ${field}: received ${received(raw[field])}; expected ${ALLOWED[field]}`);
  }
  const m = parsed.data;
  if (m['liveness-path'] !== undefined && m['liveness-path'] === m['health-path']) {
    throw new UserError(`${file}: ${TABLE} liveness-path: received ${received(m['liveness-path'])}; expected a path other than health-path`);
  }
  if (m.requirements !== undefined && !fs.existsSync(path.join(dir, m.requirements))) {
    throw new UserError(
      `${file}: ${TABLE} requirements: received ${received(m.requirements)}; expected a file in the app directory, and ${path.join(dir, m.requirements)} does not exist`,
    );
  }
  return {
    dir,
    file,
    wsgi: m.wsgi,
    settings: m.settings,
    healthPath: m['health-path'],
    ...(m['liveness-path'] !== undefined ? { livenessPath: m['liveness-path'] } : {}),
    requiredEnv: m['required-env'],
    migrate: m.migrate,
    requirements: m.requirements ?? 'requirements.txt',
    ...(m.static !== undefined ? { static: m.static } : {}),
    acceptBreakingMigrations: new Map(Object.entries(m['accept-breaking-migrations'] ?? {})),
  };
}

// The import rules of docs/architecture.md as code: which layer each module of lib/, bin/ and
// scripts/ is in, and the checks test/architecture.test.ts runs over the real sources.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';

export interface Layer {
  readonly name: string;
  /** Folders (ending in `/`) and files; a module is in the layer of its longest match. */
  readonly modules: readonly string[];
}

/** Lowest first: a module may import from its own layer and the ones before it. */
export const LAYERS: readonly Layer[] = [
  {
    name: 'foundations',
    modules: [
      'lib/errors.ts',
      'lib/ssm-paths.ts',
      'lib/options.ts',
      'lib/resource-properties.ts',
      'lib/time-limits.ts',
      'lib/observations.ts',
      'lib/config/',
      'lib/manifest/',
      'lib/preview/',
      'lib/userdata/',
      'lib/health-gate/time-limits.ts',
    ],
  },
  { name: 'pure cores', modules: ['lib/health-gate/', 'lib/bake/', 'lib/smoke/', 'lib/traffic/', 'lib/capacity-probe/capacity.ts', 'lib/migrations/'] },
  { name: 'adapters', modules: ['lib/aws/'] },
  {
    name: 'runtimes and constructs',
    modules: [
      'lib/health-gate/handler.ts',
      'lib/scaling-hold/handler.ts',
      'lib/bake/handler.ts',
      'lib/traffic/handler.ts',
      'lib/smoke/handler.ts',
      'lib/capacity-probe/handler.ts',
      'lib/preview/handler.ts',
      'lib/constructs/',
      'lib/stacks/',
      'lib/app.ts',
      'lib/index.ts',
    ],
  },
  { name: 'tools', modules: ['lib/cli/', 'lib/ami/', 'lib/rehearsal/', 'lib/doctor/', 'lib/migrations/check.ts'] },
  { name: 'entries', modules: ['bin/', 'scripts/'] },
];

/** The folder that alone imports the AWS SDK, and the one that alone reads cdk.json. */
export const SDK_OWNER = 'lib/aws/';
export const CDK_JSON_OWNER = 'lib/config/';

/** One import: the importing module and what it names (a repository path, or a package). */
export interface ImportEdge {
  readonly from: string;
  readonly to: string;
}

/** The index of a module's layer (0 = foundations), or undefined when no layer lists it. */
export function layerOf(file: string, layers: readonly Layer[] = LAYERS): number | undefined {
  let best: { index: number; length: number } | undefined;
  layers.forEach((layer, index) => {
    for (const m of layer.modules) {
      const hit = m.endsWith('/') ? file.startsWith(m) : file === m;
      if (hit && (!best || m.length > best.length)) best = { index, length: m.length };
    }
  });
  return best?.index;
}

const SPECIFIER = /(?:^|[^\w.])(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]|(?:^|[^\w.])import\s*['"]([^'"]+)['"]|(?:import|require)\(\s*['"]([^'"]+)['"]\s*\)/gm;

/** The module specifiers a source file names: static, side-effect, dynamic and require imports. */
export function specifiersOf(source: string): string[] {
  const out: string[] = [];
  for (const m of source.matchAll(SPECIFIER)) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

/** A relative specifier as the repository path of its .ts file; a package stays as it is. */
export function resolveSpecifier(from: string, specifier: string, exists: (file: string) => boolean = existsSync): string {
  if (!specifier.startsWith('.')) return specifier;
  const base = path.posix.normalize(path.posix.join(path.posix.dirname(from), specifier));
  for (const candidate of [base, `${base}.ts`, `${base}/index.ts`]) {
    if (candidate.endsWith('.ts') && exists(candidate)) return candidate;
  }
  return base;
}

/** Modules outside lib/aws/ that import `@aws-sdk/*`. */
export const sdkViolations = (edges: readonly ImportEdge[]): string[] =>
  edges.filter((e) => e.to.startsWith('@aws-sdk/') && !e.from.startsWith(SDK_OWNER)).map((e) => `${e.from} imports ${e.to}`);

/** Imports that point to a higher layer, and repository modules no layer lists. */
export function layerViolations(edges: readonly ImportEdge[], layers: readonly Layer[] = LAYERS): string[] {
  const problems = new Set<string>();
  for (const e of edges) {
    const from = layerOf(e.from, layers);
    if (from === undefined) problems.add(`${e.from} is in no layer`);
    if (!/^(lib|bin|scripts)\//.test(e.to)) continue;
    const to = layerOf(e.to, layers);
    if (to === undefined) problems.add(`${e.to} is in no layer`);
    else if (from !== undefined && to > from) {
      problems.add(`${e.from} (${layers[from].name}) imports ${e.to} (${layers[to].name}), a higher layer`);
    }
  }
  return [...problems];
}

/**
 * Imports from lib/aws/ of anything but lib/aws/ itself and the foundations: the adapters turn AWS's
 * answers into greenlight's observations and the pure cores judge them, neither knowing the other.
 */
export function adapterViolations(edges: readonly ImportEdge[], layers: readonly Layer[] = LAYERS): string[] {
  return edges
    .filter((e) => e.from.startsWith(SDK_OWNER) && /^(lib|bin|scripts)\//.test(e.to) && !e.to.startsWith(SDK_OWNER) && layerOf(e.to, layers) !== 0)
    .map((e) => `${e.from} (adapters) imports ${e.to}: lib/aws/ builds on the foundations only`);
}

/** A module longer than this does more than one job, unless its opening comment says why not. */
export const MAX_MODULE_LINES = 400;

/** Modules over MAX_MODULE_LINES whose opening comment (the first lines of `//`) has no "Long because:". */
export const longModulesWithoutReason = (files: ReadonlyArray<{ readonly file: string; readonly source: string }>): string[] =>
  files
    .map(({ file, source }) => ({ file, lines: source.split('\n').length, opening: /^(?:\/\/.*\n)*/.exec(source)?.[0] ?? '' }))
    .filter(({ lines, opening }) => lines > MAX_MODULE_LINES && !/Long because: /.test(opening))
    .map(({ file, lines }) => `${file} has ${lines} lines; split it, or say why at its top ("Long because: …")`);

// A string that is the file's name or a path to it: what reading or writing cdk.json takes.
const CDK_JSON_LITERAL = /(['"`])(?:[^'"`\n]*\/)?cdk\.json\1/;

/** Modules outside lib/config/ with a `cdk.json` path string. */
export const cdkJsonViolations = (files: ReadonlyArray<{ readonly file: string; readonly source: string }>): string[] =>
  files.filter((f) => !f.file.startsWith(CDK_JSON_OWNER) && CDK_JSON_LITERAL.test(f.source)).map((f) => `${f.file} names cdk.json as a file`);

/** Every .ts module under these folders of the repository, as repository paths. */
export function modulesUnder(root: string, folders: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(path.join(root, rel))) {
      const child = `${rel}/${name}`;
      if (statSync(path.join(root, child)).isDirectory()) walk(child);
      else if (name.endsWith('.ts')) out.push(child);
    }
  };
  for (const folder of folders) walk(folder);
  return out.sort();
}

/** The layer table of docs/architecture.md: rows `| 1 | foundations | `lib/errors.ts`, … |`. */
export function documentedLayers(markdown: string): Layer[] {
  const rows = [...markdown.matchAll(/^\|\s*(\d+)\s*\|\s*([^|]+?)\s*\|([^|]+)\|/gm)];
  return rows.map((row) => ({ name: row[2], modules: [...row[3].matchAll(/`([^`]+)`/g)].map((m) => m[1]) }));
}

export const readModule = (root: string, file: string): string => readFileSync(path.join(root, file), 'utf8');

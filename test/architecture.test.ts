// The layering of docs/architecture.md, held over every module of lib/, bin/ and scripts/: only
// lib/aws/ imports the AWS SDK, only lib/config/ names cdk.json as a file, and no import points
// to a higher layer. The checker's own tests show each rule fails on a module that breaks it.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  adapterViolations,
  cdkJsonViolations,
  documentedLayers,
  type ImportEdge,
  LAYERS,
  layerOf,
  layerViolations,
  longModulesWithoutReason,
  MAX_MODULE_LINES,
  modulesUnder,
  readModule,
  resolveSpecifier,
  sdkViolations,
  specifiersOf,
} from './helpers/architecture';
import { REPO_ROOT } from './helpers/settings';

const MODULES = modulesUnder(REPO_ROOT, ['lib', 'bin', 'scripts']);
const SOURCES = MODULES.map((file) => ({ file, source: readModule(REPO_ROOT, file) }));
const EDGES: ImportEdge[] = SOURCES.flatMap(({ file, source }) =>
  specifiersOf(source).map((s) => ({ from: file, to: resolveSpecifier(file, s, (f) => MODULES.includes(f)) })),
);

describe('the repository', () => {
  it('has modules and imports to check', () => {
    expect(MODULES).toContain('lib/aws/clients.ts');
    expect(MODULES).toContain('bin/greenlight.ts');
    expect(EDGES.some((e) => e.from === 'lib/aws/clients.ts' && e.to === '@aws-sdk/client-ssm')).toBe(true);
    expect(EDGES.some((e) => e.from === 'bin/greenlight.ts' && e.to === 'lib/cli/status.ts')).toBe(true);
  });

  it('imports the AWS SDK from lib/aws/ only', () => {
    expect(sdkViolations(EDGES)).toEqual([]);
  });

  it('names cdk.json as a file in lib/config/ only', () => {
    expect(cdkJsonViolations(SOURCES)).toEqual([]);
  });

  it('imports only from the same or a lower layer, and puts every module in a layer', () => {
    expect(MODULES.filter((file) => layerOf(file) === undefined)).toEqual([]);
    expect(layerViolations(EDGES)).toEqual([]);
  });

  it('keeps lib/aws/ on the foundations: it imports no pure core, not even a type', () => {
    expect(EDGES.some((e) => e.from === 'lib/aws/observe.ts' && e.to === 'lib/observations.ts')).toBe(true);
    expect(adapterViolations(EDGES)).toEqual([]);
  });

  it('has no module of lib/ over about 400 lines without a reason stated at its top', () => {
    expect(longModulesWithoutReason(SOURCES.filter(({ file }) => file.startsWith('lib/')))).toEqual([]);
  });

  it('declares the layers docs/architecture.md shows', () => {
    const doc = readFileSync(path.join(REPO_ROOT, 'docs', 'architecture.md'), 'utf8');
    expect(documentedLayers(doc)).toEqual(LAYERS.map((l) => ({ name: l.name, modules: [...l.modules] })));
  });
});

describe('the checker', () => {
  const edge = (from: string, to: string): ImportEdge => ({ from, to });

  it('finds the import specifiers of every form', () => {
    const source = [
      "import type { A } from '../a';",
      "import * as b from './b';",
      "export { c } from '../c';",
      "import './d';",
      "const e = require('e');",
      "await import('@aws-sdk/client-ssm');",
      "import {\n  f,\n  g,\n} from '../f';",
    ].join('\n');
    expect(specifiersOf(source).sort()).toEqual(['../a', '../c', '../f', './b', './d', '@aws-sdk/client-ssm', 'e']);
  });

  it('counts every form of type-only import as an import', () => {
    const source = [
      "import type { A } from '../a';",
      "import { type B, c } from '../b';",
      "export type { D } from '../d';",
      "type E = typeof import('../e');",
      "let f: import('../f').F;",
    ].join('\n');
    expect(specifiersOf(source).sort()).toEqual(['../a', '../b', '../d', '../e', '../f']);
    const edges = specifiersOf("import type { GateDecision } from '../health-gate/types';").map((s) => edge('lib/aws/observe.ts', resolveSpecifier('lib/aws/observe.ts', s, () => true)));
    expect(adapterViolations(edges)).toEqual(['lib/aws/observe.ts (adapters) imports lib/health-gate/types.ts: lib/aws/ builds on the foundations only']);
    const upward = specifiersOf("import type { Report } from '../cli/status';").map((s) => edge('lib/bake/evaluate.ts', resolveSpecifier('lib/bake/evaluate.ts', s, () => true)));
    expect(layerViolations(upward)).toEqual(['lib/bake/evaluate.ts (pure cores) imports lib/cli/status.ts (tools), a higher layer']);
  });

  it('lets lib/aws/ import itself and the foundations, and nothing else of the repository', () => {
    expect(
      adapterViolations([
        edge('lib/aws/observe.ts', 'lib/aws/elbv2.ts'),
        edge('lib/aws/observe.ts', 'lib/observations.ts'),
        edge('lib/aws/auto-scaling.ts', 'lib/ssm-paths.ts'),
        edge('lib/aws/ssm.ts', '@aws-sdk/client-ssm'),
        edge('lib/aws/cloudwatch.ts', 'lib/bake/evaluate.ts'),
        edge('lib/cli/status.ts', 'lib/bake/evaluate.ts'),
      ]),
    ).toEqual(['lib/aws/cloudwatch.ts (adapters) imports lib/bake/evaluate.ts: lib/aws/ builds on the foundations only']);
  });

  it('resolves a relative import to its module, and leaves a package alone', () => {
    const files = new Set(['lib/aws/ssm.ts', 'lib/config/index.ts']);
    expect(resolveSpecifier('lib/cli/status.ts', '../aws/ssm', (f) => files.has(f))).toBe('lib/aws/ssm.ts');
    expect(resolveSpecifier('lib/cli/status.ts', '../config', (f) => files.has(f))).toBe('lib/config/index.ts');
    expect(resolveSpecifier('lib/cli/status.ts', 'commander', (f) => files.has(f))).toBe('commander');
  });

  it('puts a module in the layer of its most specific entry', () => {
    expect(LAYERS[layerOf('lib/health-gate/evaluate.ts')!].name).toBe('pure cores');
    expect(LAYERS[layerOf('lib/health-gate/handler.ts')!].name).toBe('runtimes and constructs');
    expect(LAYERS[layerOf('lib/health-gate/time-limits.ts')!].name).toBe('foundations');
    expect(layerOf('lib/somewhere-new.ts')).toBeUndefined();
  });

  it('fails an SDK import outside lib/aws/', () => {
    expect(sdkViolations([edge('lib/aws/ssm.ts', '@aws-sdk/client-ssm'), edge('lib/cli/status.ts', '@aws-sdk/client-ssm')])).toEqual([
      'lib/cli/status.ts imports @aws-sdk/client-ssm',
    ]);
  });

  it('fails a cdk.json path outside lib/config/, not a message that mentions it', () => {
    const files = [
      { file: 'lib/config/project.ts', source: "export const CDK_JSON = 'cdk.json';" },
      { file: 'lib/cli/environment.ts', source: "throw new UserError('--env is required: the environment in cdk.json');" },
      { file: 'lib/rehearsal/command.ts', source: "readFileSync(path.join(root, 'cdk.json'))" },
      { file: 'scripts/x.ts', source: 'require("./cdk.json")' },
    ];
    expect(cdkJsonViolations(files)).toEqual(['lib/rehearsal/command.ts names cdk.json as a file', 'scripts/x.ts names cdk.json as a file']);
  });

  it('fails an import that points upward, and a module in no layer', () => {
    expect(
      layerViolations([
        edge('lib/ami/publish.ts', 'lib/options.ts'),
        edge('lib/cli/status.ts', 'lib/aws/ssm.ts'),
        edge('lib/config/schema.ts', 'lib/health-gate/time-limits.ts'),
        edge('lib/ami/publish.ts', 'lib/cli/options.ts'),
        edge('lib/aws/ssm.ts', 'lib/cli/previous-release.ts'),
        edge('lib/constructs/fleet.ts', 'lib/somewhere-new.ts'),
        edge('scripts/bench-gate.ts', 'test/health-gate/simulated-fleet.ts'),
      ]),
    ).toEqual([
      'lib/aws/ssm.ts (adapters) imports lib/cli/previous-release.ts (tools), a higher layer',
      'lib/somewhere-new.ts is in no layer',
    ]);
    expect(layerViolations([edge('lib/health-gate/evaluate.ts', 'lib/aws/ssm.ts')])).toEqual([
      'lib/health-gate/evaluate.ts (pure cores) imports lib/aws/ssm.ts (adapters), a higher layer',
    ]);
  });

  it('fails a long module unless its opening comment says why it is long', () => {
    const long = Array.from({ length: MAX_MODULE_LINES }, (_, i) => `export const x${i} = ${i};`).join('\n');
    expect(
      longModulesWithoutReason([
        { file: 'lib/short.ts', source: '// A short module.\nexport const a = 1;\n' },
        { file: 'lib/long.ts', source: `// A long module.\n${long}\n` },
        { file: 'lib/explained.ts', source: `// A long module.\n// Long because: one table, which reads best whole.\n${long}\n` },
        { file: 'lib/buried.ts', source: `// A long module.\n${long}\n// Long because: said too late.\n` },
      ]),
    ).toEqual([`lib/long.ts has ${MAX_MODULE_LINES + 2} lines; split it, or say why at its top ("Long because: …")`, `lib/buried.ts has ${MAX_MODULE_LINES + 3} lines; split it, or say why at its top ("Long because: …")`]);
  });

  it('reads the layer table of the architecture page', () => {
    const doc = ['| Layer | Name | Modules |', '|---|---|---|', '| 1 | foundations | `lib/errors.ts`, `lib/config/` |', '| 2 | pure cores | `lib/bake/` |'].join('\n');
    expect(documentedLayers(doc)).toEqual([
      { name: 'foundations', modules: ['lib/errors.ts', 'lib/config/'] },
      { name: 'pure cores', modules: ['lib/bake/'] },
    ]);
  });
});

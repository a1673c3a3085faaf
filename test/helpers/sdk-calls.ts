// The AWS operations a function of lib/ can reach, read from the sources: from its declaration,
// every top-level function, constant or class it names, in its own module and through relative
// imports, down to the SDK commands and paginators lib/aws/ imports. Syntax only, so it errs on
// the side of more: a name counts wherever it appears, whether or not that branch runs.
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';
import { readModule, resolveSpecifier } from './architecture';

/** The IAM service prefix of each SDK client package. */
export const SERVICE_PREFIX: Readonly<Record<string, string>> = {
  '@aws-sdk/client-auto-scaling': 'autoscaling',
  '@aws-sdk/client-cloudformation': 'cloudformation',
  '@aws-sdk/client-cloudwatch': 'cloudwatch',
  '@aws-sdk/client-ec2': 'ec2',
  '@aws-sdk/client-elastic-load-balancing-v2': 'elasticloadbalancing',
  '@aws-sdk/client-service-quotas': 'servicequotas',
  '@aws-sdk/client-ssm': 'ssm',
};

/** The IAM action of an SDK command class or paginator, by its name; undefined for anything else. */
export function iamActionOf(sdkPackage: string, name: string): string | undefined {
  if (/^waitUntil|^waitFor/.test(name)) throw new Error(`${name}: a waiter's calls are not followed`);
  const operation = name.startsWith('paginate') ? name.slice('paginate'.length) : name.endsWith('Command') ? name.slice(0, -'Command'.length) : undefined;
  if (!operation) return undefined;
  const prefix = SERVICE_PREFIX[sdkPackage];
  if (!prefix) throw new Error(`no IAM prefix known for ${sdkPackage}: add it to SERVICE_PREFIX`);
  return `${prefix}:${operation}`;
}

interface ModuleIndex {
  /** Top-level functions, constants and classes, by name. */
  readonly declarations: Map<string, ts.Node>;
  /** Value imports, by local name: the module specifier and the name it exports. */
  readonly imports: Map<string, { readonly from: string; readonly name: string }>;
}

function indexModule(file: string, source: string): ModuleIndex {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true);
  const declarations = new Map<string, ts.Node>();
  const imports = new Map<string, { from: string; name: string }>();
  for (const s of sf.statements) {
    if ((ts.isFunctionDeclaration(s) || ts.isClassDeclaration(s)) && s.name) declarations.set(s.name.text, s);
    if (ts.isVariableStatement(s)) {
      for (const d of s.declarationList.declarations) if (ts.isIdentifier(d.name)) declarations.set(d.name.text, d);
    }
    if (ts.isImportDeclaration(s) && s.importClause && !s.importClause.isTypeOnly) {
      const from = (s.moduleSpecifier as ts.StringLiteral).text;
      const bindings = s.importClause.namedBindings;
      if (from.startsWith('.') && (s.importClause.name || (bindings && ts.isNamespaceImport(bindings)))) {
        throw new Error(`${file}: a default or namespace import of ${from} is not followed; import its names`);
      }
      if (bindings && ts.isNamedImports(bindings)) {
        for (const e of bindings.elements) {
          if (!e.isTypeOnly) imports.set(e.name.text, { from, name: (e.propertyName ?? e.name).text });
        }
      }
    }
  }
  return { declarations, imports };
}

/** Whether this identifier is a property's name rather than a reference to a binding. */
const isPropertyName = (id: ts.Identifier): boolean => {
  const p = id.parent;
  return (
    (ts.isPropertyAccessExpression(p) && p.name === id) ||
    ((ts.isPropertyAssignment(p) || ts.isMethodDeclaration(p) || ts.isPropertyDeclaration(p) || ts.isPropertySignature(p)) && p.name === id)
  );
};

/** The IAM actions of every SDK call reachable from `name`, declared in `file` (a repository path). */
export function sdkActionsReachedFrom(root: string, file: string, name: string): string[] {
  const modules = new Map<string, ModuleIndex>();
  const moduleAt = (f: string): ModuleIndex => {
    let m = modules.get(f);
    if (!m) modules.set(f, (m = indexModule(f, readModule(root, f))));
    return m;
  };
  const actions = new Set<string>();
  const visited = new Set<string>();

  const visit = (f: string, declared: string): void => {
    const key = `${f}#${declared}`;
    if (visited.has(key)) return;
    visited.add(key);
    const m = moduleAt(f);
    const node = m.declarations.get(declared);
    if (!node) throw new Error(`${f} declares no ${declared}`);
    const walk = (n: ts.Node): void => {
      // Types make no calls.
      if (ts.isTypeNode(n)) return;
      if (ts.isIdentifier(n) && !isPropertyName(n)) follow(f, m, n.text);
      ts.forEachChild(n, walk);
    };
    walk(node);
  };

  const follow = (f: string, m: ModuleIndex, id: string): void => {
    if (m.declarations.has(id)) return visit(f, id);
    const imported = m.imports.get(id);
    if (!imported) return;
    if (imported.from.startsWith('.')) {
      return visit(resolveSpecifier(f, imported.from, (candidate) => existsSync(path.join(root, candidate))), imported.name);
    }
    if (imported.from.startsWith('@aws-sdk/client-')) {
      const action = iamActionOf(imported.from, imported.name);
      if (action) actions.add(action);
    }
  };

  visit(file, name);
  return [...actions].sort();
}

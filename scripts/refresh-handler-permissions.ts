// Rewrites test/fixtures/cloudformation-handlers.json from a checkout of aws-cloudformation/cfn-lint:
// for each resource type already listed there (plus any given with --type), the permissions the
// CloudFormation registry says its create, update and delete handlers call, in us-east-1's schemas,
// and the commit they were read at. test/pipelines/execution-policy.test.ts proves the execution
// policy against them.
// Usage: npx tsx scripts/refresh-handler-permissions.ts <cfn-lint checkout> [--type AWS::X::Y ...]
// cfn-lint's schemas kept the handlers from v1.0 until its commit 00501ed (September 2024, between
// v1.12.3 and v1.12.4), which dropped them: check out 469fe11 or an earlier v1 commit. Those keep one
// file per type, providers/us_east_1/<type>.json.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';

const FIXTURE = path.join(__dirname, '..', 'test', 'fixtures', 'cloudformation-handlers.json');
const HANDLERS = ['create', 'update', 'delete'] as const;

export interface HandlerPermissions {
  readonly source: { readonly repository: string; readonly commit: string; readonly schemas: string };
  readonly types: Record<string, Partial<Record<(typeof HANDLERS)[number], string[]>>>;
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { type: { type: 'string', multiple: true } } });
const checkout = positionals[0];
if (!checkout || !existsSync(path.join(checkout, 'src', 'cfnlint', 'data', 'schemas'))) {
  console.error(`refresh-handler-permissions: ${checkout ?? '(none)'} is not a cfn-lint checkout (no src/cfnlint/data/schemas); pass the directory of one`);
  process.exit(2);
}
const schemas = path.join(checkout, 'src', 'cfnlint', 'data', 'schemas');
const current: HandlerPermissions | undefined = existsSync(FIXTURE) ? JSON.parse(readFileSync(FIXTURE, 'utf8')) : undefined;
const types = [...new Set([...Object.keys(current?.types ?? {}), ...(values.type ?? [])])].sort();

/** The schema file of a type. */
function schemaFile(type: string): string {
  const file = path.join(schemas, 'providers', 'us_east_1', `${type.toLowerCase().replace(/::/g, '-')}.json`);
  if (!existsSync(file)) throw new Error(`no us-east-1 schema for ${type}: ${file} does not exist (a cfn-lint from before September 2024 has one file per type)`);
  return file;
}

const result: HandlerPermissions = {
  source: {
    repository: 'aws-cloudformation/cfn-lint',
    commit: execFileSync('git', ['-C', checkout, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim(),
    schemas: 'src/cfnlint/data/schemas/providers/us_east_1',
  },
  types: Object.fromEntries(
    types.map((type) => {
      const schema = JSON.parse(readFileSync(schemaFile(type), 'utf8')) as { typeName: string; handlers?: Record<string, { permissions?: string[] }> };
      if (schema.typeName !== type) throw new Error(`${schemaFile(type)} is the schema of ${schema.typeName}, not ${type}`);
      if (!schema.handlers) throw new Error(`${schemaFile(type)} has no handlers: this cfn-lint dropped them; check out 469fe11 or earlier`);
      return [type, Object.fromEntries(HANDLERS.filter((h) => schema.handlers?.[h]).map((h) => [h, [...new Set(schema.handlers![h].permissions ?? [])].sort()]))];
    }),
  ),
};
writeFileSync(FIXTURE, `${JSON.stringify(result, null, 1)}\n`);
console.log(`wrote ${types.length} types from ${result.source.repository}@${result.source.commit} to ${path.relative(process.cwd(), FIXTURE)}`);

// Which of the new release's migrations break the release still serving. In blue/green the old release
// serves on the schema the new one migrates, from green's first boot until the cutover, and again on a
// rollback: an operation that takes away or changes what the old code reads and writes breaks it at
// once. Pure: the facts come from Django's own migration loader (migration_plan.py).
import { z } from 'zod';

const fieldFacts = z.object({
  name: z.string(),
  type: z.string(),
  column: z.string(),
  null: z.boolean(),
  dbDefault: z.boolean(),
  unique: z.boolean(),
  manyToMany: z.boolean(),
  maxLength: z.number().nullable(),
  maxDigits: z.number().nullable(),
  decimalPlaces: z.number().nullable(),
  relatedTo: z.string().nullable(),
});
export type FieldFacts = z.infer<typeof fieldFacts>;

const operationFacts = z.object({
  operation: z.string(),
  model: z.string().optional(),
  field: z.string().optional(),
  newName: z.string().optional(),
  old: fieldFacts.optional(),
  new: fieldFacts.optional(),
  oldTable: z.string().optional(),
  newTable: z.string().optional(),
  keepsTable: z.boolean().optional(),
  addedUnique: z.array(z.array(z.string())).optional(),
  constraint: z.object({ name: z.string(), kind: z.enum(['unique', 'check', 'other']), fields: z.array(z.string()) }).optional(),
  name: z.string().nullable().optional(),
  sql: z.string().optional(),
  code: z.string().optional(),
});
export type OperationFacts = z.infer<typeof operationFacts>;

const migrationFacts = z.object({
  app: z.string(),
  name: z.string(),
  replaces: z.array(z.tuple([z.string(), z.string()])),
  merge: z.boolean(),
  acknowledged: z.string().nullable(),
  operations: z.array(operationFacts),
});
export type MigrationFacts = z.infer<typeof migrationFacts>;

/** What migration_plan.py prints for one release. */
export const releaseGraph = z.object({
  django: z.string(),
  applied: z.array(z.tuple([z.string(), z.string()])),
  conflicts: z.record(z.string(), z.array(z.string())),
  plan: z.array(migrationFacts).optional(),
});
export type ReleaseGraph = z.infer<typeof releaseGraph>;

export type Severity = 'breaks' | 'look' | 'safe';

export interface MigrationFinding {
  readonly severity: Severity;
  readonly app: string;
  /** The migration's name, e.g. 0003_remove_item_price. */
  readonly migration: string;
  readonly operation: string;
  readonly model?: string;
  readonly field?: string;
  /** What the operation does to the schema the live release uses. */
  readonly what: string;
  /** The expand/contract way to ship the same change (breaks and needs-a-look only). */
  readonly fix?: string;
  /** Why the team accepted it, when they did (the migration's attribute or the manifest). */
  readonly acknowledged?: string;
}

export interface MigrationCheck {
  /** Every operation the new release applies on top of the live one, in migrate's order. */
  readonly findings: readonly MigrationFinding[];
  /** Migrations the new release applies, in order (merges and squashes included). */
  readonly migrations: readonly string[];
  /** Apps with more than one leaf migration: migrate refuses to run until a merge migration joins them. */
  readonly conflicts: readonly string[];
  /** Exit 1: a breaking finding nobody acknowledged, or a conflict. */
  readonly verdict: 'pass' | 'fail';
  /** Breaking findings, acknowledged ones included: the live release is no longer a safe standby. */
  readonly breaking: number;
}

/** Acknowledgements from the manifest: `app.migration` → the reason. */
export type Acknowledgements = ReadonlyMap<string, string>;

type Verdict = Pick<MigrationFinding, 'severity' | 'what' | 'fix'>;

const breaks = (what: string, fix: string): Verdict => ({ severity: 'breaks', what, fix });
const look = (what: string, fix: string): Verdict => ({ severity: 'look', what, fix });
const safe = (what: string): Verdict => ({ severity: 'safe', what });

const LATER = 'in a later release, once no serving release uses it';

const FIX = {
  stopUsingFirst: (thing: string) =>
    `first ship a release whose code no longer uses ${thing} (for a field: remove it from the model in the state only, with SeparateDatabaseAndState, or make it nullable), then drop it ${LATER}`,
  renameColumn: (column: string) =>
    `keep the column (db_column="${column}"), or expand and contract: add the new field beside the old one, write both and backfill, move reads to it in the next release, and drop the old one ${LATER}`,
  renameTable: (table: string) =>
    `keep the table (db_table="${table}" in Meta), or create the new model, write both and copy, move reads in the next release, and drop the old model ${LATER}`,
  notNull: (field: string) =>
    `first ship a release that always sets ${field} and backfill the rows that lack it, then make it NOT NULL in a later release`,
  newType: (field: string) =>
    `add a new field of the new type beside ${field}, write both and backfill, move reads to it in the next release, and drop the old one ${LATER}`,
  addNotNull: (field: string) =>
    `add ${field} as null=True (or with a database default, db_default in Django 5), backfill it, and make it NOT NULL in a later release once every serving release writes it`,
  unique: (what: string) =>
    `first ship a release that keeps ${what} unique and de-duplicate the existing rows, then add the constraint in a later release`,
};

/** The column type a field maps to, as far as a change of it matters to the old code. */
function sameType(a: FieldFacts, b: FieldFacts): boolean {
  return a.type === b.type && a.maxDigits === b.maxDigits && a.decimalPlaces === b.decimalPlaces && a.relatedTo === b.relatedTo;
}

function addField(op: OperationFacts, label: string): Verdict {
  const f = op.new;
  if (!f) return look(`adds ${label} (no field facts)`, 'check it by hand');
  if (f.manyToMany) return safe(`adds the many-to-many ${label} (a new table)`);
  if (!f.null && !f.dbDefault) {
    return breaks(`adds ${label} NOT NULL without a database default: the live release's inserts leave it out and fail`, FIX.addNotNull(label));
  }
  return safe(`adds ${label} ${f.null ? 'nullable' : 'with a database default'}`);
}

function alterField(op: OperationFacts, label: string): Verdict {
  const { old, new: f } = op;
  if (!f || !old) return look(`alters ${label}, whose earlier definition was not found`, 'check it against the live release by hand');
  if (old.column !== f.column) return breaks(`renames column ${old.column} of ${label} to ${f.column}: the live release reads ${old.column}`, FIX.renameColumn(old.column));
  if (!sameType(old, f)) return breaks(`changes ${label} from ${old.type} to ${f.type}${f.relatedTo !== old.relatedTo ? ` (${old.relatedTo} to ${f.relatedTo})` : ''}: the live release reads and writes the old type`, FIX.newType(label));
  if (old.maxLength !== null && f.maxLength !== null && f.maxLength < old.maxLength) {
    return breaks(`shortens ${label} from ${old.maxLength} to ${f.maxLength} characters: the live release may write longer values`, FIX.newType(label));
  }
  if (old.null && !f.null) return breaks(`makes ${label} NOT NULL: the live release may write NULL`, FIX.notNull(label));
  if (!old.unique && f.unique) return breaks(`makes ${label} unique: the live release may write duplicates, and existing rows may hold them`, FIX.unique(label));
  return safe(`alters ${label} (same column, type and nullability)`);
}

function removeField(op: OperationFacts, label: string): Verdict {
  const column = op.old?.manyToMany ? 'its table' : `column ${op.old?.column ?? op.field}`;
  return breaks(`drops ${label} (${column}): the live release still reads and writes it`, FIX.stopUsingFirst(label));
}

function renameField(op: OperationFacts, label: string, model: string): Verdict {
  if (op.old && op.new && op.old.column === op.new.column) return safe(`renames ${label} to ${op.newName} on the same column ${op.old.column}`);
  const column = op.old?.column ?? op.field ?? '';
  return breaks(`renames ${label} to ${model}.${op.newName}: the live release reads column ${column}`, FIX.renameColumn(column));
}

function classifyOperation(op: OperationFacts, app: string): Verdict {
  const model = op.model ?? '';
  const label = op.field ? `${model}.${op.field}` : model;
  switch (op.operation) {
    case 'AddField':
      return addField(op, label);
    case 'AlterField':
      return alterField(op, label);
    case 'RemoveField':
      return removeField(op, label);
    case 'RenameField':
      return renameField(op, label, model);
    case 'DeleteModel':
      return breaks(`drops model ${model} and its table: the live release still queries it`, FIX.stopUsingFirst(`model ${model}`));
    case 'RenameModel':
      if (op.keepsTable) return safe(`renames model ${model} to ${op.newName} on the same table`);
      return breaks(`renames model ${model} to ${op.newName}, and its table with it: the live release queries the old table`, FIX.renameTable(`${app}_${model.toLowerCase()}`));
    case 'AlterModelTable':
      if (op.oldTable === op.newTable) return safe(`keeps ${model}'s table ${op.oldTable}`);
      return breaks(`renames ${model}'s table ${op.oldTable} to ${op.newTable}: the live release queries ${op.oldTable}`, FIX.renameTable(op.oldTable ?? ''));
    case 'AlterUniqueTogether': {
      const added = op.addedUnique ?? [];
      if (added.length === 0) return safe(`removes unique_together sets of ${model}`);
      const sets = added.map((s) => `(${s.join(', ')})`).join(', ');
      return breaks(`adds unique_together ${sets} on ${model}: the live release may write duplicates, and existing rows may hold them`, FIX.unique(`${model} ${sets}`));
    }
    case 'AddConstraint': {
      const c = op.constraint;
      if (c?.kind === 'unique') {
        const what = `${model} (${c.fields.join(', ') || c.name})`;
        return breaks(`adds unique constraint ${c.name} on ${what}: the live release may write duplicates, and existing rows may hold them`, FIX.unique(what));
      }
      return look(
        `adds ${c?.kind ?? 'a'} constraint ${c?.name ?? ''} on ${model}: the live release may write rows it refuses`,
        'check the live release never writes a row the constraint refuses, and that no existing row does (or add it NOT VALID and validate it in a later release)',
      );
    }
    case 'RunSQL':
      return look(`runs SQL greenlight cannot judge: ${op.sql ?? ''}`, 'make sure it only adds to the schema (expand); anything that drops, renames or tightens belongs in a later release');
    case 'RunPython':
      return look(`runs ${op.code ?? 'Python code'} while the live release serves`, 'keep it to data changes the live release tolerates, in batches; schema changes belong in operations greenlight can judge');
    case 'CreateModel':
      return safe(`creates model ${model}`);
    case 'AddIndex':
    case 'AddIndexConcurrently':
      return safe(`adds an index on ${model}`);
    case 'RemoveIndex':
    case 'RemoveIndexConcurrently':
    case 'RenameIndex':
    case 'RemoveConstraint':
    case 'AlterIndexTogether':
    case 'AlterModelOptions':
    case 'AlterModelManagers':
    case 'AlterOrderWithRespectTo':
      return safe(`${op.operation} on ${model}`);
    default:
      return look(`${op.operation}, an operation greenlight does not know`, 'check by hand that the live release still works on the schema it leaves');
  }
}

/**
 * Classifies each operation of the plan. A breaking operation in a migration the team acknowledged
 * (its `greenlight_accept_breaking` attribute, or the manifest's entry) stays breaking, with the reason,
 * but no longer fails the check.
 */
export function classifyPlan(graph: ReleaseGraph, acknowledgements: Acknowledgements = new Map()): MigrationCheck {
  const plan = graph.plan ?? [];
  const findings: MigrationFinding[] = [];
  for (const migration of plan) {
    const acknowledged = migration.acknowledged ?? acknowledgements.get(`${migration.app}.${migration.name}`);
    for (const op of migration.operations) {
      const verdict = classifyOperation(op, migration.app);
      findings.push({
        ...verdict,
        app: migration.app,
        migration: migration.name,
        operation: op.operation,
        ...(op.model ? { model: op.model } : {}),
        ...(op.field ? { field: op.field } : {}),
        ...(acknowledged && verdict.severity !== 'safe' ? { acknowledged } : {}),
      });
    }
  }
  const conflicts = Object.entries(graph.conflicts).map(([app, names]) => `${app}: ${names.join(', ')}`);
  const failing = findings.some((f) => f.severity === 'breaks' && f.acknowledged === undefined) || conflicts.length > 0;
  return {
    findings,
    migrations: plan.map((m) => `${m.app}.${m.name}`),
    conflicts,
    verdict: failing ? 'fail' : 'pass',
    breaking: findings.filter((f) => f.severity === 'breaks').length,
  };
}

// The migration check as people read it: one line per operation, the fix under each that needs one,
// and a last line with the verdict.
import type { MigrationCheck, MigrationFinding } from './classify';

const LABEL: Record<MigrationFinding['severity'], string> = { breaks: 'BREAKS', look: 'LOOK  ', safe: 'safe  ' };

/** How to accept a breaking migration on purpose, as the refusal says it. */
export const ACKNOWLEDGE_HOW =
  'to ship it on purpose, acknowledge the migration: greenlight_accept_breaking = "<why>" in its Migration class, or its app.name in [tool.greenlight] accept-breaking-migrations';

export function findingLine(f: MigrationFinding): string {
  return `${f.app}.${f.migration} ${f.operation}: ${f.what}`;
}

export function renderCheck(check: MigrationCheck): string {
  const lines: string[] = [];
  if (check.migrations.length === 0) lines.push('no migration to apply on top of the live release');
  else lines.push(`${check.migrations.length} migration(s) to apply on top of the live release: ${check.migrations.join(', ')}`);
  for (const f of check.findings) {
    lines.push(`  ${LABEL[f.severity]} ${findingLine(f)}`);
    if (f.acknowledged) lines.push(`         acknowledged: ${f.acknowledged}`);
    if (f.fix && f.severity !== 'safe') lines.push(`         fix: ${f.fix}`);
  }
  for (const c of check.conflicts) lines.push(`  CONFLICT ${c}: migrate refuses to run until a merge migration joins them (makemigrations --merge)`);
  lines.push(verdictLine(check));
  return `${lines.join('\n')}\n`;
}

/** One line: what the check decided and why. */
export function verdictLine(check: MigrationCheck): string {
  const unacknowledged = check.findings.filter((f) => f.severity === 'breaks' && !f.acknowledged);
  if (check.verdict === 'fail') {
    if (unacknowledged.length === 0) return `refused: conflicting migrations (${check.conflicts.join('; ')})`;
    const first = unacknowledged[0];
    return `refused: ${unacknowledged.length} operation(s) break the live release, first ${findingLine(first)}; ${ACKNOWLEDGE_HOW}`;
  }
  const looks = check.findings.filter((f) => f.severity === 'look').length;
  const acknowledged = check.breaking > 0 ? `; ${check.breaking} breaking operation(s) acknowledged, so the live release is not a safe rollback target` : '';
  return `passed: nothing breaks the live release${looks > 0 ? ` (${looks} to look at)` : ''}${acknowledged}`;
}

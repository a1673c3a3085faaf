// Whether the release that served before the live one can serve again: not when the live release's
// migrations broke it (acknowledged ones included, which is what an acknowledgement accepts). The
// deploy records it per environment; the rollback refuses on it. Pure.
import { z } from 'zod';
import type { MigrationCheck } from './classify';
import { findingLine } from './render';

export interface SchemaRecord {
  /** The release whose migrations this is about. */
  readonly release: string;
  /** The release it was checked against: the one live when it was deployed. */
  readonly previous: string;
  readonly rollbackSafe: boolean;
  /** The breaking operations, when not rollback-safe. */
  readonly reason?: string;
}

const recordSchema = z.object({ release: z.string(), previous: z.string(), rollbackSafe: z.boolean(), reason: z.string().optional() });

/** Room for the reason within a Standard SSM parameter (4 KB), with the rest of the record. */
const MAX_REASON = 3000;

export function schemaRecord(release: string, previous: string, check: MigrationCheck): SchemaRecord {
  const breaking = check.findings.filter((f) => f.severity === 'breaks');
  if (breaking.length === 0) return { release, previous, rollbackSafe: true };
  let reason = breaking.map((f) => `${findingLine(f)}${f.acknowledged ? ` (acknowledged: ${f.acknowledged})` : ''}`).join('; ');
  if (reason.length > MAX_REASON) reason = `${reason.slice(0, MAX_REASON - 1)}…`;
  return { release, previous, rollbackSafe: false, reason };
}

/** A record this version cannot parse is absent. */
export function parseSchemaRecord(text: string | undefined): SchemaRecord | undefined {
  if (!text) return undefined;
  try {
    const parsed = recordSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Why a rollback from `live` to `target` must not run, or undefined when it may: the record is about
 * the live release and says its migrations broke the release before it.
 */
export function rollbackRefusal(record: SchemaRecord | undefined, live: string, target: string, accepted: boolean): string | undefined {
  if (!record || record.release !== live || record.rollbackSafe || accepted) return undefined;
  return (
    `${live} is not rollback-safe: its migrations break the release before it (${record.reason ?? 'breaking operations'}), ` +
    `so ${target} would serve on a schema it cannot use. Roll forward with a fix, or pass --accept-schema-risk to roll back anyway`
  );
}

/** The commit a release id carries (`2026.11.22-3f9c2ab`: its short sha), when it carries one. */
export function releaseCommit(release: string): string | undefined {
  return /-([0-9a-f]{7,40})$/.exec(release)?.[1];
}

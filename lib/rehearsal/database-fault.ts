// The errors-after-cutover scenario's fault, acted on the environment rather than the app: green's
// own SQLite database loses every table but django_migrations, as a restore of the wrong snapshot
// would leave it. The migration records still say everything is applied; every query on an app
// table fails, so every page that reads one answers 500.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const DROP_TABLES = `
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=10)
names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != 'django_migrations'")]
for name in names:
    db.execute('DROP TABLE "%s"' % name.replace('"', '""'))
db.commit()
print(len(names))
`;

/** Drops every table of the database but django_migrations; returns how many went. Asynchronous: the load keeps running. */
export async function dropAppTables(databasePath: string): Promise<number> {
  try {
    const { stdout } = await promisify(execFile)('/usr/bin/python3', ['-c', DROP_TABLES, databasePath], { encoding: 'utf8', timeout: 30_000 });
    return Number(stdout.trim());
  } catch (err) {
    const detail = ((err as { stderr?: string }).stderr || (err as Error).message).trim();
    throw new Error(`dropping the tables of ${databasePath} failed: ${detail}`);
  }
}

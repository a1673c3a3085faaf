// Runs the greenlight CLI: in-process through its entry function (argument and error paths, where a
// process adds nothing), or as a real process with no AWS credentials unless a test passes some.
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { format } from 'node:util';
import { vi } from 'vitest';

export const REPO = path.join(__dirname, '..', '..');
const TSX = path.join(REPO, 'node_modules', '.bin', 'tsx');

export interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export const cli = (args: string[], env: Record<string, string> = {}, timeout = 60_000): Promise<Run> =>
  new Promise((resolve) => {
    execFile(
      TSX,
      ['bin/greenlight.ts', ...args],
      {
        cwd: REPO,
        timeout,
        env: {
          ...process.env,
          AWS_EC2_METADATA_DISABLED: 'true',
          AWS_ACCESS_KEY_ID: '',
          AWS_SECRET_ACCESS_KEY: '',
          AWS_PROFILE: '',
          AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
          AWS_CONFIG_FILE: '/dev/null',
          CDK_DISABLE_VERSION_CHECK: '1',
          ...env,
        },
      },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr }),
    );
  });

/**
 * The CLI's entry function in this process, from the repository root, as `greenlight <args>`. What
 * commands print with console.log or console.error is captured too.
 */
export async function cliInProcess(args: string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void (stdout += `${format(...a)}\n`));
  const error = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void (stderr += `${format(...a)}\n`));
  const cwd = process.cwd();
  try {
    // Imported here, so that a file that runs only the CLI process does not load every command.
    const { main } = await import('../../bin/greenlight');
    if (cwd !== REPO) process.chdir(REPO);
    const code = await main(['node', 'greenlight', ...args], { out: (t) => void (stdout += t), err: (t) => void (stderr += t) });
    return { code, stdout, stderr };
  } finally {
    if (cwd !== REPO) process.chdir(cwd);
    log.mockRestore();
    error.mockRestore();
  }
}

/** stderr without npm's and Node's own warnings. */
export const errorLines = (run: Run): string[] =>
  run.stderr.split('\n').filter((l) => l && !l.startsWith('npm warn'));

// Runs the real greenlight CLI as a process, with no AWS credentials unless a test passes some.
import { execFile } from 'node:child_process';
import * as path from 'node:path';

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

/** stderr without npm's and Node's own warnings. */
export const errorLines = (run: Run): string[] =>
  run.stderr.split('\n').filter((l) => l && !l.startsWith('npm warn'));

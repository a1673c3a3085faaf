// Times `cdk synth -c release=<id>` for every environment, offline, and prints each run and the median.
// Usage: npm run bench:synth [-- <runs>]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

const runs = Number(process.argv[2] ?? 3);
const root = path.join(__dirname, '..');
const cdk = path.join(root, 'node_modules', '.bin', 'cdk');
const seconds: number[] = [];

for (let i = 1; i <= runs; i++) {
  const out = mkdtempSync(path.join(tmpdir(), 'greenlight-bench-'));
  const started = process.hrtime.bigint();
  execFileSync(cdk, ['synth', '--quiet', '--no-notices', '--output', out, '-c', `release=bench${i}`], {
    cwd: root,
    env: { ...process.env, AWS_EC2_METADATA_DISABLED: 'true', CDK_DISABLE_VERSION_CHECK: '1' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  rmSync(out, { recursive: true, force: true });
  seconds.push(elapsed);
  console.log(`run ${i}: ${elapsed.toFixed(2)} s`);
}
const sorted = [...seconds].sort((a, b) => a - b);
console.log(`median of ${runs}: ${sorted[Math.floor(sorted.length / 2)].toFixed(2)} s (every environment, offline)`);

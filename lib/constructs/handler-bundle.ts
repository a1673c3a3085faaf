// Bundles a handler module with esbuild's own API, once per process and input, into a directory named
// by its content. NodejsFunction would spawn `npx esbuild` for every function of every synth, which
// costs half a second each; the bundle itself takes milliseconds.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface HandlerBundleOptions {
  /** The TypeScript module that exports the handler. */
  readonly entry: string;
  /** esbuild's target, such as `node24`. */
  readonly target: string;
}

/** Modules the Lambda runtime provides: the AWS SDK v3 clients. */
const RUNTIME_PROVIDED = ['@aws-sdk/*'];

const bundles = new Map<string, string>();

/** The directory holding `index.js`, the handler bundled for the Lambda runtime. */
export function bundleHandler(options: HandlerBundleOptions): string {
  const entry = path.resolve(options.entry);
  const key = `${entry}\0${options.target}`;
  const known = bundles.get(key);
  if (known) return known;

  // Loaded here so that importing the constructs does not need esbuild until something is bundled.
  const esbuild = require('esbuild') as typeof import('esbuild');
  const result = esbuild.buildSync({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: options.target,
    minify: true,
    external: RUNTIME_PROVIDED,
    write: false,
    outfile: 'index.js',
    logLevel: 'warning',
  });
  const code = result.outputFiles[0].contents;
  const hash = createHash('sha256').update(code).digest('hex').slice(0, 20);
  const dir = path.join(os.tmpdir(), 'greenlight-handlers', hash);
  if (!fs.existsSync(path.join(dir, 'index.js'))) {
    // Written beside, then renamed: a parallel synth never sees half a file.
    fs.mkdirSync(dir, { recursive: true });
    const partial = path.join(dir, `index.js.${process.pid}`);
    fs.writeFileSync(partial, code);
    fs.renameSync(partial, path.join(dir, 'index.js'));
  }
  bundles.set(key, dir);
  return dir;
}

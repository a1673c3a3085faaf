// The rehearsal runs real software: HAProxy, nginx, gunicorn and Django from Debian (and PostgreSQL
// for db-down), and the real first boot, which needs root (runuser, the app user's files). As root on Debian or Ubuntu, missing packages are installed with apt; anywhere else
// the exact command is printed and the rehearsal stops with a user error.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { UserError } from '../errors';
import { postgresBinDir } from './postgres';

/** What must be present, how to tell, and the Debian package that provides it. */
export interface Prerequisite {
  readonly name: string;
  readonly debianPackage: string;
  present(): boolean;
}

const onPath = (command: string) => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
// Debian's interpreter, not whatever python3 comes first on PATH: the apt packages install there.
const pythonImports = (module: string) =>
  fs.existsSync('/usr/bin/python3') && spawnSync('/usr/bin/python3', ['-c', `import ${module}`], { stdio: 'ignore' }).status === 0;

export function prerequisites(withPostgres: boolean): Prerequisite[] {
  const all: Prerequisite[] = [
    { name: 'haproxy', debianPackage: 'haproxy', present: () => onPath('haproxy') },
    { name: 'nginx', debianPackage: 'nginx', present: () => onPath('nginx') },
    { name: 'gunicorn', debianPackage: 'gunicorn', present: () => pythonImports('gunicorn') },
    { name: 'Django', debianPackage: 'python3-django', present: () => pythonImports('django') },
    { name: 'python3 venv', debianPackage: 'python3-venv', present: () => pythonImports('venv') },
    // The bake's pip (packer/scripts/30-release.sh) installs the app's requirements into its virtualenv.
    { name: 'pip', debianPackage: 'python3-pip', present: () => pythonImports('pip') },
    // First boot: bootstrap.sh fetches IMDS with curl and SSM with botocore, and migrates under a lock.
    { name: 'curl', debianPackage: 'curl', present: () => onPath('curl') },
    { name: 'botocore', debianPackage: 'python3-botocore', present: () => pythonImports('botocore') },
  ];
  if (withPostgres) {
    all.push(
      { name: 'psycopg2', debianPackage: 'python3-psycopg2', present: () => pythonImports('psycopg2') },
      { name: 'PostgreSQL server', debianPackage: 'postgresql', present: () => postgresBinDir() !== undefined },
    );
  }
  return all;
}

/** Whether /etc/os-release describes Debian, Ubuntu or a derivative. */
export function debianFamily(osRelease: string): boolean {
  const field = (key: string) => osRelease.match(new RegExp(`^${key}=\"?([^\"\\n]*)\"?`, 'm'))?.[1] ?? '';
  return /\b(debian|ubuntu)\b/.test(`${field('ID')} ${field('ID_LIKE')}`);
}

export function installCommand(packages: readonly string[]): string {
  return `apt-get install -y --no-install-recommends ${packages.join(' ')}`;
}

/**
 * Ensures every prerequisite is present, installing the missing ones with apt when that is possible
 * (root on Debian or Ubuntu); otherwise throws a UserError carrying the exact command.
 */
export function ensurePrerequisites(withPostgres: boolean, log: (line: string) => void): void {
  if (process.getuid?.() !== 0) {
    throw new UserError('the rehearsal runs the real first boot (userdata/bootstrap.sh), which needs root: run it as root, e.g. in a Debian 12 container');
  }
  const missing = prerequisites(withPostgres).filter((p) => !p.present());
  if (missing.length === 0) return;
  const packages = [...new Set(missing.map((p) => p.debianPackage))];
  const osRelease = fs.existsSync('/etc/os-release') ? fs.readFileSync('/etc/os-release', 'utf8') : '';
  const canInstall = process.getuid?.() === 0 && debianFamily(osRelease) && onPath('apt-get');
  const what = missing.map((p) => p.name).join(', ');
  if (!canInstall) {
    throw new UserError(
      `the rehearsal needs ${what}, which ${missing.length === 1 ? 'is' : 'are'} not installed; ` +
        `on Debian or Ubuntu run as root: apt-get update && ${installCommand(packages)}`,
    );
  }
  log(`installing ${what}: apt-get update && ${installCommand(packages)}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update'], ['install', '-y', '--no-install-recommends', ...packages]]) {
    // apt's output goes to stderr, so that --json keeps stdout to the report.
    const run = spawnSync('apt-get', args, { stdio: ['ignore', 2, 2], env });
    if (run.status !== 0) throw new Error(`apt-get ${args.join(' ')} failed with exit code ${run.status}`);
  }
  const still = prerequisites(withPostgres).filter((p) => !p.present());
  if (still.length > 0) throw new Error(`still missing after apt-get install: ${still.map((p) => p.name).join(', ')}`);
}

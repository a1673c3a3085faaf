// First boot off EC2: userdata/bootstrap.sh itself, with its documented overrides (a root directory,
// a systemctl stand-in, loopback IMDS and SSM). The rehearsal, doctor and the boot tests all start it
// from here, so what boots locally is the script every instance runs. Pure.
import { BOOTSTRAP_SCRIPT } from '../userdata/render';

export { BOOTSTRAP_SCRIPT };

export interface FirstBootProps {
  readonly root: string;
  readonly app: string;
  readonly environment: string;
  readonly release: string;
  readonly region: string;
  readonly tls: boolean;
  /** The unprivileged user the app runs as. */
  readonly appUser: string;
  readonly imdsUrl: string;
  readonly ssmUrl: string;
  /** The command bootstrap.sh runs instead of systemctl. */
  readonly systemctl: string;
}

/** The environment bootstrap.sh runs with: the stack's parameters, then the test overrides. */
export function bootstrapEnvironment(p: FirstBootProps): Record<string, string> {
  return {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    LANG: 'C.UTF-8',
    HOME: p.root,
    GREENLIGHT_APP: p.app,
    GREENLIGHT_ENV: p.environment,
    GREENLIGHT_RELEASE: p.release,
    AWS_REGION: p.region,
    GREENLIGHT_TLS: String(p.tls),
    GREENLIGHT_ROOT: p.root,
    GREENLIGHT_SYSTEMCTL: p.systemctl,
    GREENLIGHT_APP_USER: p.appUser,
    AWS_EC2_METADATA_SERVICE_ENDPOINT: p.imdsUrl,
    AWS_ENDPOINT_URL: p.ssmUrl,
  };
}

export interface BootFailure {
  readonly step: string;
  /** The first line that names the problem: an exception, an error, not a usage hint after it. */
  readonly cause: string;
}

const USAGE = /^(Type '.*' for usage\.?|usage:|Run '.*--help'|See '.*--help')/i;
const ERROR_WORDS = /error|exception|fail|missing|not set|unknown|refus|denied|no such|not found|invalid|cannot|can't|unable/i;

/**
 * The cause in a command's output: the exception line of a Python traceback, else the first line
 * that reads as an error, else the first line that is not a usage hint.
 */
export function firstCause(lines: readonly string[]): string | undefined {
  const text = lines.map((l) => l.replace(/\s+$/, '')).filter((l) => l.trim() !== '');
  const traceback = text.findIndex((l) => l.trim() === 'Traceback (most recent call last):');
  if (traceback >= 0) {
    const exception = text.slice(traceback + 1).find((l) => !/^\s/.test(l));
    if (exception) return exception.trim();
  }
  const meaningful = text.map((l) => l.trim()).filter((l) => !USAGE.test(l));
  return meaningful.find((l) => ERROR_WORDS.test(l)) ?? meaningful[0];
}

/** The exception line of the last Python traceback in a log (the app's latest error), if any. */
export function lastException(lines: readonly string[]): string | undefined {
  const start = lines.map((l) => l.trim() === 'Traceback (most recent call last):').lastIndexOf(true);
  if (start < 0) return undefined;
  // The exception is the first line after the traceback that is not indented (frames and code are).
  return lines.slice(start + 1).find((l) => l.trim() !== '' && !/^\s/.test(l))?.trim();
}

const LOG_PREFIX = /^\S+ greenlight-bootstrap: /;

/** Where bootstrap.sh's output says it failed, and why; undefined when it did not fail. */
export function bootFailure(output: string): BootFailure | undefined {
  const lines = output.split('\n').map((l) => l.replace(LOG_PREFIX, ''));
  const failedAt = lines.findIndex((l) => l.startsWith('FAILED in step '));
  if (failedAt < 0) return undefined;
  const failed = lines[failedAt];
  const step = failed.match(/^FAILED in step '([^']*)'/)?.[1] ?? 'unknown';
  const stepStart = lines.slice(0, failedAt).map((l) => l === `step: ${step}`).lastIndexOf(true);
  // The step's own output is indented by two spaces (log_output); fail's message stands alone.
  const stepOutput = lines.slice(stepStart + 1, failedAt).filter((l) => l.startsWith('  ')).map((l) => l.slice(2));
  const message = failed.replace(/^FAILED in step '[^']*': /, '');
  return { step, cause: firstCause(stepOutput) ?? message };
}

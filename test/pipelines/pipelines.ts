// Loads the release pipelines and pulls out what the pipeline tests look at: jobs, steps and the
// shell scripts they run.
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from '../helpers/settings';

/* eslint-disable @typescript-eslint/no-explicit-any -- parsed YAML is untyped by nature */
export type Yaml = any;

export const GITHUB_DIR = path.join(REPO_ROOT, '.github', 'workflows');
export const CIRCLECI_CONFIG = path.join(REPO_ROOT, '.circleci', 'config.yml');

export const readRepoFile = (file: string): string => readFileSync(path.isAbsolute(file) ? file : path.join(REPO_ROOT, file), 'utf8');

/** Every GitHub workflow file, by file name (`release.yml`). */
export function githubWorkflows(): Record<string, Yaml> {
  const files = readdirSync(GITHUB_DIR).filter((f) => /\.ya?ml$/.test(f));
  return Object.fromEntries(files.map((f) => [f, parse(readRepoFile(path.join(GITHUB_DIR, f)))]));
}

export const circleciConfig = (): Yaml => parse(readRepoFile(CIRCLECI_CONFIG));

/** Every text file of both pipelines, for checks that apply to all of them. */
export function pipelineFiles(): Record<string, string> {
  const files = [...readdirSync(GITHUB_DIR).map((f) => path.join(GITHUB_DIR, f)), CIRCLECI_CONFIG];
  return Object.fromEntries(files.map((f) => [path.relative(REPO_ROOT, f), readRepoFile(f)]));
}

export interface Script {
  /** Where it came from, e.g. `release.yml jobs.bake "Bake the release's AMI, unless it exists"`. */
  readonly where: string;
  readonly name?: string;
  readonly script: string;
  /** Environment the step sets, GitHub's `env` or CircleCI's `environment`. */
  readonly env: Record<string, string>;
}

/** The `run:` scripts of every GitHub workflow's steps. */
export function githubScripts(): Script[] {
  const out: Script[] = [];
  for (const [file, wf] of Object.entries(githubWorkflows())) {
    for (const [jobId, job] of Object.entries<Yaml>(wf.jobs)) {
      for (const step of job.steps ?? []) {
        if (typeof step.run === 'string') {
          out.push({ where: `${file} jobs.${jobId} "${step.name ?? step.run}"`, name: step.name, script: step.run, env: step.env ?? {} });
        }
      }
    }
  }
  return out;
}

/**
 * The `run` scripts of CircleCI's jobs and commands, with `<< parameters.x >>` replaced by the value
 * given for it (or the parameter's name), as CircleCI does before the shell sees the script.
 */
export function circleciScripts(values: Record<string, string> = {}): Script[] {
  const config = circleciConfig();
  const out: Script[] = [];
  const visit = (kind: string, id: string, steps: Yaml[]) => {
    for (const step of steps) {
      if (!step || typeof step !== 'object' || !('run' in step)) continue;
      const run = typeof step.run === 'string' ? { command: step.run } : step.run;
      const script = String(run.command).replace(/<<\s*parameters\.([\w-]+)\s*>>/g, (_, p: string) => values[p] ?? p);
      out.push({ where: `${kind}.${id} "${run.name ?? run.command}"`, name: run.name, script, env: run.environment ?? {} });
    }
  };
  for (const [id, job] of Object.entries<Yaml>(config.jobs)) visit('jobs', id, job.steps);
  for (const [id, command] of Object.entries<Yaml>(config.commands ?? {})) visit('commands', id, command.steps);
  return out;
}

/** The one script whose step has this name. */
export function scriptNamed(scripts: Script[], name: string): Script {
  const found = scripts.filter((s) => s.name === name);
  if (found.length !== 1) throw new Error(`expected one step named "${name}", found ${found.length}`);
  return found[0];
}

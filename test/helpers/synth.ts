// Synthesizes the real app from cdk.json's context (plus overrides), offline, once per distinct input,
// without CDK's built-in template validation: with `@aws-cdk/core:validateAgainstDefaultRules` off it
// only prints warnings, so it fails no test, and its WebAssembly validator costs about 6 s of CPU in
// each process that starts it, and a fifth of a second per stack. cfn-lint is the templates' check
// (test/stacks/cfn-lint).
// Files of the synth project share modules within a worker, so they share this cache too: a result
// is frozen, and a test that changes a template, a path or a message throws instead of changing
// what the next test or file reads.
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { type AppContext, buildApp } from '../../lib/app';
import { cdkContext } from './settings';

export interface SynthMessage {
  readonly level: string;
  /** The construct path the message is attached to. */
  readonly id: string;
  readonly text: string;
}

export interface Synthesized {
  readonly templates: Readonly<Record<string, Template>>;
  /** Logical id → CDK construct path, per stack. */
  readonly paths: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** The annotations (info, warning, error) of each stack's synth. */
  readonly messages: Readonly<Record<string, readonly SynthMessage[]>>;
}

const cache = new Map<string, Synthesized>();

/** JSON with object keys sorted, so that the same context written in another order is the same key. */
const keyOf = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v,
  );

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/**
 * The app synthesized for cdk.json's context with `overrides`, once per distinct context in a worker.
 * A test that reads one environment's plain template takes it from the synth of every environment
 * (no `env`), which the other files share: an environment's stack is the same whichever others are
 * built with it, as test/bin/cdk-synth checks through the cdk CLI.
 */
export function synthesize(overrides: Partial<AppContext> = {}): Synthesized {
  const context = { ...cdkContext(), ...overrides };
  const key = keyOf(context);
  const hit = cache.get(key);
  if (hit) return hit;
  const app = new App({ context: { ...context, 'aws:cdk:enable-path-metadata': true }, builtinCloudFormationValidation: false });
  const stacks = buildApp(app, context);
  const assembly = app.synth();
  const templates: Record<string, Template> = {};
  const paths: Record<string, Record<string, string>> = {};
  const messages: Record<string, SynthMessage[]> = {};
  for (const stack of stacks) {
    const template = Template.fromStack(stack);
    deepFreeze(template.toJSON());
    templates[stack.stackName] = template;
    Object.freeze(template);
    const resources = template.toJSON().Resources as Record<string, { Metadata?: Record<string, string> }>;
    paths[stack.stackName] = Object.fromEntries(
      Object.entries(resources).map(([id, r]) => [id, r.Metadata?.['aws:cdk:path'] ?? '']),
    );
    messages[stack.stackName] = assembly.getStackArtifact(stack.artifactId).messages.map((m) => ({
      level: m.level,
      id: m.id,
      text: String(m.entry.data),
    }));
  }
  const result: Synthesized = deepFreeze({ templates, paths, messages });
  cache.set(key, result);
  return result;
}

/** Logical ids of every resource of one type. */
export const idsOfType = (template: Template, type: string): string[] => Object.keys(template.findResources(type));

// Synthesizes the real app from cdk.json's context (plus overrides), offline, once per distinct input.
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { type AppContext, buildApp } from '../../lib/app';
import { cdkContext } from './settings';

export interface Synthesized {
  readonly templates: Record<string, Template>;
  /** Logical id → CDK construct path, per stack. */
  readonly paths: Record<string, Record<string, string>>;
}

const cache = new Map<string, Synthesized>();

export function synthesize(overrides: Partial<AppContext> = {}): Synthesized {
  const context = { ...cdkContext(), ...overrides };
  const key = JSON.stringify(context);
  const hit = cache.get(key);
  if (hit) return hit;
  const app = new App({ context: { ...context, 'aws:cdk:enable-path-metadata': true } });
  const stacks = buildApp(app, context);
  app.synth();
  const templates: Record<string, Template> = {};
  const paths: Record<string, Record<string, string>> = {};
  for (const stack of stacks) {
    const template = Template.fromStack(stack);
    templates[stack.stackName] = template;
    const resources = template.toJSON().Resources as Record<string, { Metadata?: Record<string, string> }>;
    paths[stack.stackName] = Object.fromEntries(
      Object.entries(resources).map(([id, r]) => [id, r.Metadata?.['aws:cdk:path'] ?? '']),
    );
  }
  const result = { templates, paths };
  cache.set(key, result);
  return result;
}

/** Logical ids of every resource of one type. */
export const idsOfType = (template: Template, type: string): string[] => Object.keys(template.findResources(type));

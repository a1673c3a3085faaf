// Test fixtures: cdk.json's own context, and a minimal valid environment to break one field at a time.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

export const REPO_ROOT = path.join(__dirname, '..', '..');

export const cdkContext = (): { app: string; appSource?: string; environments: Record<string, Record<string, unknown>> } =>
  JSON.parse(readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')).context;

export const minimalEnvironment = (): Record<string, unknown> => ({
  account: '123456789012',
  region: 'eu-west-1',
});

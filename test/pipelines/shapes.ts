// The shapes of a greenlight stack the IAM proofs synthesize (through the shared, cached synth), and
// each synthesized template as a stack of its environment's account and region.
import { cdkContext } from '../helpers/settings';
import { type Synthesized, synthesize } from '../helpers/synth';
import type { Stack } from './cloudformation-requests';

const { app, environments } = cdkContext();
const R1 = '2026.11.01-0a1b2c3';
const R2 = '2026.11.02-4d5e6f7';
const staging = environments.staging as { bake: object } & Record<string, unknown>;

/**
 * Each environment (staging: HTTP, smoke checks, a bake window, a standby; production: HTTPS,
 * scaling policies and schedules, traffic steps) at its first release and at the next, a release
 * with the previous one standing by, the switch back to it, and a bake that names alarms.
 */
export const SHAPES = {
  'every environment, r1': () => synthesize({ release: 'r1' }),
  'every environment, r2': () => synthesize({ release: 'r2' }),
  'staging, r2 with r1 standing by': () => synthesize({ env: 'staging', release: R2, standby: R1, deployTime: '2026-11-22T10:00:00Z' }),
  'staging, rolled back to the standby': () =>
    synthesize({ env: 'staging', release: R1, standby: R2, deployTime: '2026-11-22T10:20:00Z', rollback: '20261122T102000Z' }),
  'staging, a bake with alarms': () =>
    synthesize({ env: 'staging', release: 'r1', environments: { staging: { ...staging, bake: { ...staging.bake, alarms: ['greenlight-demo-5xx'] } } } }),
} as const satisfies Record<string, () => Synthesized>;

export type Shape = keyof typeof SHAPES;

/** The stacks of a shape, each in its environment's account and region. */
export const stacksOf = (shape: Shape): Stack[] =>
  Object.entries(SHAPES[shape]().templates).map(([name, template]) => {
    const env = environments[name.slice(app.length + 1)] as { account: string; region: string };
    return { name, account: env.account, region: env.region, template: template.toJSON() as Stack['template'] };
  });

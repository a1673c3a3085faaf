// Builds one EnvironmentStack per selected environment from validated context, with cdk-nag on every synth.
import { type App, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { loadSettings, selectEnvironments } from './config/load';
import { parseAmiOverride, parseRelease } from './config/release';
import { EnvironmentStack } from './stacks/environment-stack';

/** The raw context values bin/app.ts passes through. */
export interface AppContext {
  readonly app?: unknown;
  readonly appSource?: unknown;
  readonly environments?: unknown;
  /** The directory holding cdk.json. @default - the app's manifest is not read */
  readonly projectRoot?: string;
  /** `-c env=` */
  readonly env?: unknown;
  /** `-c release=` */
  readonly release?: unknown;
  /** `-c ami=` */
  readonly ami?: unknown;
}

/** Validates everything first, so a mistake builds nothing. Returns the stacks it built. */
export function buildApp(app: App, context: AppContext): EnvironmentStack[] {
  const settings = loadSettings(context, { projectRoot: context.projectRoot });
  const release = parseRelease(context.release);
  const amiId = parseAmiOverride(context.ami);
  const selected = selectEnvironments(settings, context.env);

  const stacks = selected.map(([envName, env]) => {
    const stack = new EnvironmentStack(app, `${settings.app}-${envName}`, {
      env: { account: env.account, region: env.region },
      description: `greenlight: ${settings.app} ${envName}`,
      app: settings.app,
      envName,
      settings: env,
      release,
      amiId,
    });
    Tags.of(stack).add('greenlight:app', settings.app);
    Tags.of(stack).add('greenlight:environment', envName);
    for (const [key, value] of Object.entries(env.tags)) Tags.of(stack).add(key, value);
    return stack;
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return stacks;
}

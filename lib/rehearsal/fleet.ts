// A release's instances, as its Auto Scaling group launches them: each with its own loopback
// address, its own IMDS answers and the release's configuration in a loopback SSM. The scenarios
// act here, on the environment and never on the app.
import { UserError } from '../errors';
import { configParameters, startStubSsm } from './fake-aws';
import { Instance, type ReleaseImage } from './instance';
import type { Stage } from './stage';

export type Color = 'blue' | 'green';

/**
 * A release's configuration in its own loopback SSM. With the scenario that asks for it, green's
 * SSM lacks the first name the manifest requires.
 */
export async function releaseSsm(stage: Stage, color: Color, image: ReleaseImage, config: Record<string, string>): Promise<string> {
  const { o } = stage;
  const own = { ...config };
  if (color === 'green' && o.scenario.greenMissesRequiredConfig) {
    const [first] = image.manifest.requiredEnv;
    if (!first) throw new UserError(`scenario ${o.scenario.name}: ${image.manifest.file} declares no required-env to leave out`);
    delete own[first];
  }
  const ssm = await startStubSsm(configParameters(o.app, o.environment, own));
  stage.cleanups.push(ssm.close);
  return ssm.url;
}

/** A release's instances, built and not yet started. */
export function launchFleet(stage: Stage, color: Color, image: ReleaseImage, port: number, ssmUrl: string): Instance[] {
  return Array.from({ length: stage.n }, (_, i) => launchInstance(stage, color, i, image, port, ssmUrl));
}

/**
 * The i-th instance of a release (from 0); green's addresses follow blue's. Its IMDS gives its own
 * address, or with the bad-host scenario another one than the load balancer checks.
 */
export function launchInstance(stage: Stage, color: Color, i: number, image: ReleaseImage, port: number, ssmUrl: string): Instance {
  const { o } = stage;
  const offset = color === 'blue' ? 0 : stage.n;
  const name = `${color}-${i + 1}`;
  const address = `127.0.1.${offset + i + 1}`;
  const imdsUrl = stage.imds.add(name, {
    localIpv4: color === 'green' && o.scenario.greenWrongIpv4 ? `127.0.9.${offset + i + 1}` : address,
    instanceId: `i-${(offset + i + 1).toString(16).padStart(17, '0')}`,
  });
  return new Instance(
    {
      name,
      address,
      port,
      image,
      root: stage.dir(name),
      environment: o.environment,
      region: o.settings.region,
      imdsUrl,
      ssmUrl,
      systemctl: stage.systemctl,
      tls: o.settings.listener.protocol === 'HTTPS',
    },
    stage.supervisor,
  );
}

// The last phase of a release that went live: after a clean bake (or with none), blue drains,
// stops and leaves the load balancer, as the old group is deleted on AWS.
import type { Instance } from './instance';
import { drain } from './load-balancer';
import type { Stage } from './stage';

export async function retire(stage: Stage, blue: readonly Instance[]): Promise<void> {
  await stage.api.run(blue.map((b) => `set server ${stage.blueBackend}/${b.name} state drain`));
  const left = await drain(stage, stage.blueBackend);
  stage.mark('blue drained', left === 0 ? 'no sessions left on blue' : `${left} sessions cut at the deregistration delay`);
  await Promise.all(blue.map((b) => b.stop()));
  await stage.api.run(blue.flatMap((b) => [`set server ${stage.blueBackend}/${b.name} state maint`, `del server ${stage.blueBackend}/${b.name}`]));
  stage.mark('blue stopped', `${blue.length} instances of ${stage.blueRelease} stopped and deregistered`);
}

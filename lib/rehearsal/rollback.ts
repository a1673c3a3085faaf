// The rollbacks: after a failed gate, smoke check or bake, green leaves the load balancer and stops
// while blue is untouched; and `greenlight rollback` within the standby's window, where blue never
// stopped, so a gate on its backend and one `set map` send every request back to it.
import { runGate } from './gate';
import type { Instance } from './instance';
import type { LoadGenerator } from './load';
import { drain, switchTo } from './load-balancer';
import type { RollbackReport } from './report';
import type { Stage } from './stage';

/** A failed gate, smoke check or bake: green leaves the load balancer and stops; blue's processes and servers are untouched. */
export async function rollBack(stage: Stage, green: readonly Instance[], terminated: Set<string>): Promise<void> {
  await stage.api.run(green.map((g) => `set server ${stage.greenBackend}/${g.name} state maint`));
  // Requests still on green at the deregistration delay are cut, as the load balancer cuts them.
  const left = await drain(stage, stage.greenBackend);
  await Promise.all(green.map((g) => g.stop()));
  for (const g of green) terminated.add(g.name);
  await stage.api.run(green.map((g) => `shutdown sessions server ${stage.greenBackend}/${g.name}`));
  await deleteServers(stage, green);
  const cut = left === 0 ? '' : ` (${left} sessions cut at the deregistration delay)`;
  stage.mark('rollback', `${green.length} instances of ${stage.greenRelease} deregistered and stopped${cut}; ${stage.blueBackend} untouched`);
}

/** HAProxy refuses to delete a server until its cut sessions are gone, which takes a moment: each retried for up to 2 s. */
async function deleteServers(stage: Stage, green: readonly Instance[]): Promise<void> {
  for (const g of green) {
    const deadline = Date.now() + 2_000;
    for (;;) {
      try {
        await stage.api.run([`del server ${stage.greenBackend}/${g.name}`]);
        break;
      } catch (err) {
        if (Date.now() > deadline || !/still has connections/.test(String(err))) throw err;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }
}

/**
 * `greenlight rollback` within the standby's window: blue never stopped, so the gate polls its
 * running backend, then one `set map` sends every new request back to it; green drains and stops.
 * Blue serves every request once green has answered its last one.
 */
export async function rollBackToStandby(
  stage: Stage,
  blue: readonly Instance[],
  green: readonly Instance[],
  terminated: Set<string>,
  load: LoadGenerator,
): Promise<RollbackReport> {
  stage.mark('standby', `${blue.length} instances of ${stage.blueRelease} keep running in ${stage.blueBackend}`);
  await stage.o.onRollbackCommand?.(blue);
  const startedAt = Date.now();
  stage.mark('rollback command', `a gate on ${stage.blueBackend}, then the listener moves back; nothing starts`);
  const gate = await runGate({
    api: stage.api,
    backend: stage.blueBackend,
    instances: () => blue.map((b) => ({ name: b.name, lifecycleState: 'InService' })),
    policy: stage.policy,
    log: stage.progress('rollback '),
  });
  stage.mark(`rollback gate ${gate.decision.verdict}`, gate.decision.message);
  const verdict = gate.decision.verdict === 'pass' ? 'pass' : 'fail';
  if (verdict === 'fail') {
    return { verdict, reason: gate.decision.message, gatePolls: gate.polls, failedDuringRollback: load.failuresSent(startedAt).count };
  }
  const switchedAt = await switchTo(stage, stage.blueBackend);
  stage.mark('switched back', `the listener sends every new request to ${stage.blueBackend}, whose instances never stopped`);
  await rollBack(stage, green, terminated);
  const servesAllAt = Math.max(switchedAt, load.lastAnsweredBy(stage.greenBackend) ?? 0);
  return {
    verdict,
    reason: gate.decision.message,
    gatePolls: gate.polls,
    switchedAfterMs: switchedAt - startedAt,
    blueServesAllAfterMs: servesAllAt - startedAt,
    failedDuringRollback: load.failuresSent(startedAt).count,
  };
}

// npm run bench:gate — what one gate poll costs, for fleets of 2, 20 and 200 instances:
// AWS API calls per poll (the goal is a constant) and the time evaluate takes per poll.
// The handler and the aws module run for real; only the SDK is answered by a simulated fleet.
import { performance } from 'node:perf_hooks';
import { createClients } from '../lib/aws/clients';
import { observeGroup } from '../lib/aws/observe';
import { evaluate } from '../lib/health-gate/evaluate';
import { gateHandlers } from '../lib/health-gate/handler';
import type { GateProgress } from '../lib/health-gate/types';
import { gateProperties, runGate } from '../test/health-gate/provider-driver';
import { FakeClock, SimulatedFleet, uniformFleet } from '../test/health-gate/simulated-fleet';

const SIZES = [2, 20, 200];
const EVALUATE_ROUNDS = 2000;

async function callsPerPoll(size: number) {
  const clock = new FakeClock();
  const fleet = new SimulatedFleet(uniformFleet(size), clock);
  try {
    const handlers = gateHandlers({ clients: () => createClients('eu-west-1'), now: clock.now, log: () => undefined });
    const result = await runGate(handlers, gateProperties({ GroupName: 'shop-staging-Fleet-r1', ExpectedInstances: String(size) }), clock, {
      queryInterval: 15,
      maxPolls: 100,
    });
    const perCommand = Object.fromEntries([...fleet.calls].map(([name, n]) => [name, n / result.polls]));
    return { outcome: result.outcome, polls: result.polls, total: fleet.totalCalls() / result.polls, perCommand };
  } finally {
    fleet.restore();
  }
}

async function evaluateMicros(size: number): Promise<number> {
  const clock = new FakeClock();
  const fleet = new SimulatedFleet(uniformFleet(size), clock);
  try {
    clock.advance(120); // every instance InService and healthy
    const observation = await observeGroup(createClients('eu-west-1'), 'shop-staging-Fleet-r1', clock.now());
    const policy = { expectedInstances: size, consecutiveHealthyPolls: 3, pollIntervalMs: 15_000, timeoutMs: 900_000, maxReplacedInstances: 2 };
    let progress: GateProgress | undefined = evaluate({ ...observation, at: observation.at - 15_000 }, policy, undefined).progress;
    const samples: number[] = [];
    for (let n = 0; n < EVALUATE_ROUNDS; n++) {
      const start = performance.now();
      evaluate(observation, policy, progress);
      samples.push(performance.now() - start);
    }
    progress = undefined;
    samples.sort((a, b) => a - b);
    return samples[Math.floor(samples.length / 2)] * 1000;
  } finally {
    fleet.restore();
  }
}

async function main() {
  console.log('instances  polls-to-pass  API calls/poll  breakdown per poll                                               evaluate median');
  for (const size of SIZES) {
    const calls = await callsPerPoll(size);
    const micros = await evaluateMicros(size);
    const breakdown = Object.entries(calls.perCommand)
      .map(([name, n]) => `${name} ${Number(n.toFixed(2))}`)
      .join(', ');
    console.log(
      `${String(size).padStart(9)}  ${String(calls.polls).padStart(13)}  ${calls.total.toFixed(2).padStart(14)}  ${breakdown.padEnd(112)} ${micros.toFixed(1)} µs`,
    );
    if (calls.outcome !== 'pass') throw new Error(`the simulated ${size}-instance fleet did not pass: ${calls.outcome}`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

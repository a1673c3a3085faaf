// Reads one release's gate, smoke, traffic and bake records from SSM; a record this version cannot parse is absent.
import { parseBakeRecord } from '../bake/record';
import type { AwsClients } from '../aws/clients';
import { readParameter } from '../aws/ssm';
import { parseRecord } from '../health-gate/progress-record';
import { parseSmokeRecord } from '../smoke/record';
import { bakeProgressParameterName, gateProgressParameterName, smokeResultParameterName, trafficProgressParameterName } from '../ssm-paths';
import { parseTrafficRecord } from '../traffic/record';
import type { ReleaseRecords } from './phases';

export async function readReleaseRecords(
  clients: AwsClients,
  app: string,
  env: string,
  release: string,
  read: (clients: AwsClients, name: string) => Promise<string | undefined> = readParameter,
): Promise<ReleaseRecords> {
  const [gate, smoke, traffic, bake] = await Promise.all([
    read(clients, gateProgressParameterName(app, env, release)),
    read(clients, smokeResultParameterName(app, env, release)),
    read(clients, trafficProgressParameterName(app, env, release)),
    read(clients, bakeProgressParameterName(app, env, release)),
  ]);
  return { gate: parseRecord(gate), smoke: parseSmokeRecord(smoke), traffic: parseTrafficRecord(traffic), bake: parseBakeRecord(bake) };
}

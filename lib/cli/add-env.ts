// `greenlight add-env <name> --account … --region …`: one environment added everywhere it must go.
// Pure transforms of cdk.json and the pipelines' text, then a thin layer that reads and writes files.
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { isMap, isSeq, parseDocument, type YAMLMap, type YAMLSeq } from 'yaml';
import { loadSettings } from '../config/load';
import { CDK_JSON, readCdkJson, writeCdkJson } from '../config/project';
import { ENVIRONMENT_NAME, environmentSchema } from '../config/schema';
import { UserError } from '../errors';

export interface NewEnvironment {
  readonly name: string;
  readonly account: string;
  readonly region: string;
}

/** Checks the command's input; one line naming the field, the value and what is allowed. */
export function checkNewEnvironment(name: string | undefined, account: string | undefined, region: string | undefined): NewEnvironment {
  if (!name || !ENVIRONMENT_NAME.pattern.test(name)) {
    throw new UserError(`environment name ${JSON.stringify(name ?? '')}: expected ${ENVIRONMENT_NAME.allowed}, as cdk.json's environments are named`);
  }
  const shape = environmentSchema.safeParse({ account, region });
  if (!shape.success) {
    const issue = shape.error.issues[0];
    const field = String(issue.path[0] ?? 'account');
    throw new UserError(`--${field} ${JSON.stringify(field === 'region' ? (region ?? '') : (account ?? ''))}: ${issue.message}`);
  }
  return { name, account: account!, region: region! };
}

/** The availability-zones context key cdk reads offline for an account and region. */
export const azContextKey = (account: string, region: string): string => `availability-zones:account=${account}:region=${region}`;

type CdkJson = { readonly context: { app: string; environments: Record<string, Record<string, unknown>>; [key: string]: unknown }; [key: string]: unknown };

/**
 * cdk.json with the environment added: the schema's defaults, the first environment's tags with its
 * own `environment` tag, and placeholder availability zones for offline synth when none are recorded.
 */
export function addToCdkJson(cdkJson: CdkJson, env: NewEnvironment): CdkJson {
  const environments = cdkJson.context.environments;
  if (env.name in environments) throw new UserError(`environment ${env.name} is already in cdk.json`);
  const first = Object.values(environments)[0] as { tags?: Record<string, string> } | undefined;
  const added = {
    account: env.account,
    region: env.region,
    vpc: { maxAzs: 2 },
    tags: { ...(first?.tags ?? {}), environment: env.name },
  };
  const key = azContextKey(env.account, env.region);
  const context = { ...cdkJson.context, environments: { ...environments, [env.name]: added } };
  if (!(key in context)) (context as Record<string, unknown>)[key] = ['a', 'b', 'c'].map((z) => `${env.region}${z}`);
  loadSettings(context);
  return { ...cdkJson, context };
}

// Written back as the files are styled: flow lists without padding, no line folding.
const YAML_OUT = { flowCollectionPadding: false, lineWidth: 0 } as const;

const yamlDoc = (text: string, file: string) => {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new UserError(`${file}: not valid YAML (${doc.errors[0].message})`);
  return doc;
};

/** release.yml with a deploy job for the environment, after the first environment's deploy. */
export function addToGithubRelease(text: string, env: NewEnvironment, first: string): string {
  const doc = yamlDoc(text, 'release.yml');
  const jobs = doc.get('jobs') as YAMLMap;
  const id = `deploy-${env.name}`;
  if (jobs.has(id)) throw new UserError(`release.yml already has a job ${id}`);
  jobs.set(
    id,
    doc.createNode({
      needs: ['bake', 'synth', `deploy-${first}`],
      uses: './.github/workflows/deploy.yml',
      permissions: { contents: 'read', 'id-token': 'write' },
      with: { environment: env.name, release: '${{ needs.bake.outputs.release }}', ami: '${{ needs.bake.outputs.ami }}' },
    }),
  );
  const job = jobs.get(id) as YAMLMap;
  (job.get('needs') as YAMLSeq).flow = true;
  return doc.toString(YAML_OUT);
}

/** rollback.yml with the environment among the choices. */
export function addToGithubRollback(text: string, env: NewEnvironment): string {
  const doc = yamlDoc(text, 'rollback.yml');
  const options = doc.getIn(['on', 'workflow_dispatch', 'inputs', 'environment', 'options']);
  if (!isSeq(options)) throw new UserError('rollback.yml: no environment options under on.workflow_dispatch.inputs');
  if (!options.items.some((i) => String((i as { value?: unknown }).value ?? i) === env.name)) options.add(env.name);
  return doc.toString(YAML_OUT);
}

/** .circleci/config.yml with a deploy invocation for the environment, after the first environment's. */
export function addToCircleci(text: string, env: NewEnvironment, first: string): string {
  const doc = yamlDoc(text, '.circleci/config.yml');
  const jobs = doc.getIn(['workflows', 'release', 'jobs']);
  if (!isSeq(jobs)) throw new UserError('.circleci/config.yml: no workflows.release.jobs');
  const name = `deploy-${env.name}`;
  const index = jobs.items.findIndex((item) => isMap(item) && (item.getIn(['deploy', 'name']) as string) === `deploy-${first}`);
  if (index < 0) throw new UserError(`.circleci/config.yml: no deploy-${first} in the release workflow`);
  if (jobs.items.some((item) => isMap(item) && item.getIn(['deploy', 'name']) === name)) throw new UserError(`.circleci/config.yml already deploys ${env.name}`);
  const node = doc.createNode({
    deploy: {
      name,
      environment: env.name,
      context: `greenlight-${env.name}`,
      'serial-group': `<< pipeline.project.slug >>/deploy-${env.name}`,
      requires: [`deploy-${first}`],
    },
  }) as YAMLMap;
  ((node.get('deploy') as YAMLMap).get('requires') as YAMLSeq).flow = true;
  jobs.items.splice(index + 1, 0, node);
  return doc.toString(YAML_OUT);
}

export const PROJECT_FILES = {
  release: '.github/workflows/release.yml',
  rollback: '.github/workflows/rollback.yml',
  circleci: '.circleci/config.yml',
} as const;

/** Reads cdk.json and the pipelines, transforms them all (nothing is written when one fails), then writes them. */
export function addEnvironment(root: string, env: NewEnvironment): string[] {
  const file = (name: string) => path.join(root, name);
  const read = (name: string) => readFileSync(file(name), 'utf8');
  const cdkJson = readCdkJson(root) as CdkJson;
  const first = Object.keys(cdkJson.context.environments)[0];
  const updated = addToCdkJson(cdkJson, env);
  const out: [string, string][] = [
    [PROJECT_FILES.release, addToGithubRelease(read(PROJECT_FILES.release), env, first)],
    [PROJECT_FILES.rollback, addToGithubRollback(read(PROJECT_FILES.rollback), env)],
    [PROJECT_FILES.circleci, addToCircleci(read(PROJECT_FILES.circleci), env, first)],
  ];
  writeCdkJson(root, updated);
  for (const [name, text] of out) writeFileSync(file(name), text);
  return [CDK_JSON, ...out.map(([name]) => name)];
}

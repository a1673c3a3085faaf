#!/usr/bin/env node
// CDK entry of the example: reads the release from the context, nothing else.
import { App } from 'aws-cdk-lib';
import { ShopStack } from '../lib/shop-stack';

const app = new App();
const release: unknown = app.node.tryGetContext('release');
if (typeof release !== 'string' || release === '') {
  console.error('cdk-app: pass the release to deploy, e.g. -c release=2026.11.22-3f9c2ab');
  process.exit(1);
}
new ShopStack(app, 'shop-web', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  app: 'shop',
  envName: 'web',
  release,
});
app.synth();

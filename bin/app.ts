#!/usr/bin/env node
// CDK entry: passes the context through to lib/app.ts. No logic lives here.
import { App } from 'aws-cdk-lib';
import { buildApp } from '../lib/app';
import { UserError } from '../lib/errors';

const app = new App();
const context = (key: string): unknown => app.node.tryGetContext(key);

try {
  buildApp(app, {
    app: context('app'),
    appSource: context('appSource'),
    environments: context('environments'),
    projectRoot: process.cwd(),
    env: context('env'),
    release: context('release'),
    ami: context('ami'),
  });
} catch (err) {
  if (!(err instanceof UserError)) throw err;
  console.error(`greenlight: ${err.message}`);
  process.exit(1);
}
app.synth();

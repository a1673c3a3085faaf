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
    standby: context('standby'),
    // The standby's window counts from the deploy's start. greenlight deploy passes it; a plain
    // `cdk deploy -c standby=` takes this machine's clock at synth.
    deployTime: context('deployTime') ?? (context('standby') ? new Date().toISOString() : undefined),
    rollback: context('rollback'),
    contextKeys: Object.keys(app.node.getAllContext()),
    now: new Date(),
  });
} catch (err) {
  if (!(err instanceof UserError)) throw err;
  console.error(`greenlight: ${err.message}`);
  process.exit(1);
}
app.synth();

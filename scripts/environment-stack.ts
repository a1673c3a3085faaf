// Prints `<stack> <http|https>` for an environment of cdk.json, with the schema's defaults applied;
// scripts/environment-url.sh turns it into the CI job's environment URL.
import { environmentNamed, readProjectConfig } from '../lib/config/project';
import { UserError } from '../lib/errors';

const envName = process.argv[2] ?? '';
try {
  const config = readProjectConfig();
  const env = environmentNamed(config, envName);
  console.log(`${config.app}-${envName} ${env.listener.protocol === 'HTTPS' ? 'https' : 'http'}`);
} catch (err) {
  if (!(err instanceof UserError)) throw err;
  console.error(`environment-url.sh: ${err.message}`);
  process.exit(2);
}

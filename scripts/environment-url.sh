#!/usr/bin/env bash
# Prints `url=<scheme>://<the load balancer's DNS name>` for an environment, from its stack's
# LoadBalancerDnsName output (aws cloudformation describe-stacks) and its listener protocol in
# cdk.json; prints nothing when the stack has no such output yet. For a CI job's environment URL.
set -euo pipefail
env_name="${1:?usage: environment-url.sh <environment>}"
# shellcheck disable=SC2016 # JavaScript's template literals, not shell expansions
info="$(ENV_NAME="$env_name" node -e '
  const c = require("./cdk.json").context;
  const e = c.environments[process.env.ENV_NAME];
  if (!e) { console.error(`environment-url.sh: no environment ${process.env.ENV_NAME} in cdk.json`); process.exit(2); }
  console.log(`${c.app}-${process.env.ENV_NAME} ${(e.listener || {}).protocol === "HTTPS" ? "https" : "http"}`);
')"
read -r stack scheme <<< "$info"
dns="$(aws cloudformation describe-stacks --stack-name "$stack" \
  --query "Stacks[0].Outputs[?OutputKey=='LoadBalancerDnsName'].OutputValue | [0]" --output text 2>/dev/null || true)"
if [ -n "$dns" ] && [ "$dns" != "None" ]; then
  echo "url=$scheme://$dns"
fi

#!/usr/bin/env bash
# Prints `url=<scheme>://<the load balancer's DNS name>` for an environment, from its stack's
# LoadBalancerDnsName output (aws cloudformation describe-stacks) and its listener protocol in
# cdk.json (through scripts/environment-stack.ts); prints nothing when the stack has no such
# output yet. For a CI job's environment URL.
set -euo pipefail
env_name="${1:?usage: environment-url.sh <environment>}"
info="$(node --import tsx scripts/environment-stack.ts "$env_name")"
read -r stack scheme <<< "$info"
dns="$(aws cloudformation describe-stacks --stack-name "$stack" \
  --query "Stacks[0].Outputs[?OutputKey=='LoadBalancerDnsName'].OutputValue | [0]" --output text 2>/dev/null || true)"
if [ -n "$dns" ] && [ "$dns" != "None" ]; then
  echo "url=$scheme://$dns"
fi

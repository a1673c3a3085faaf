#!/usr/bin/env bash
# Before a CircleCI job assumes production's deploy role: checks that it runs in the CircleCI
# project of its own that alone the role trusts (iam/circleci-oidc-trust-deploy-production.json),
# and says what is missing in one line instead of STS's AccessDenied. CircleCI's token names the
# project and the branch, never the context, so in a project shared with the other jobs any job
# on main could assume the role, approval or not.
# Usage: bash scripts/circleci-production-project.sh <environment>   (does nothing but for production)
set -euo pipefail

environment="${1:?usage: circleci-production-project.sh <environment>}"
[ "$environment" = production ] || exit 0
: "${CIRCLE_OIDC_TOKEN_V2:?circleci-production-project.sh: no OIDC token: run this job with a context}"

# The token's payload (base64url, unpadded) names the project it was issued to.
project="$(node -e 'const [, payload] = process.argv[1].split("."); process.stdout.write(String(JSON.parse(Buffer.from(payload, "base64url").toString())["oidc.circleci.com/project-id"] ?? ""))' "$CIRCLE_OIDC_TOKEN_V2")"

if [ -z "${GREENLIGHT_PRODUCTION_PROJECT_ID:-}" ]; then
  echo "circleci-production-project.sh: GREENLIGHT_PRODUCTION_PROJECT_ID is not set in this job's context: production deploys run in a CircleCI project of their own, which alone production's deploy role trusts (docs/iam.md, Trust); set it to that project's id (this job runs in project ${project:-unknown})" >&2
  exit 1
fi
if [ "$project" != "$GREENLIGHT_PRODUCTION_PROJECT_ID" ]; then
  echo "circleci-production-project.sh: this job runs in CircleCI project ${project:-unknown}, not in production's own project $GREENLIGHT_PRODUCTION_PROJECT_ID, the only one production's deploy role trusts: run production deploys and rollbacks from that project" >&2
  exit 1
fi
echo "production deploy from CircleCI project $project, the one production's deploy role trusts"

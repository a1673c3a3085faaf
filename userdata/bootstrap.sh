#!/bin/bash
# First-boot userdata for a greenlight instance: instance metadata, configuration, migrations, services,
# as the app's manifest ([tool.greenlight] in its pyproject.toml) asks.
# Any failure exits non-zero before the app starts, so the instance never turns healthy and the
# health gate reports it. Every step is logged to the console and the journal (tag greenlight-bootstrap).
set -euo pipefail
# @greenlight-parameters@

# The stack replaces the line above with GREENLIGHT_APP, GREENLIGHT_ENV, GREENLIGHT_RELEASE,
# AWS_REGION and GREENLIGHT_TLS. No secrets: those come from SSM Parameter Store below.
#
# Overrides for tests on a machine that is not an EC2 instance (all unset in production):
#   GREENLIGHT_ROOT      prefix for every file read or written (default: none, i.e. /)
#   GREENLIGHT_SYSTEMCTL command used instead of systemctl
#   GREENLIGHT_APP_USER  the user the app runs as (default: the app's name, created at bake)
#   AWS_EC2_METADATA_SERVICE_ENDPOINT, AWS_ENDPOINT_URL  the standard AWS SDK endpoint overrides

STEP="start"

log() {
  printf '%s greenlight-bootstrap: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2
  logger -t greenlight-bootstrap -- "$*" 2>/dev/null || true
}

fail() {
  log "FAILED in step '$STEP': $*"
  exit 1
}

trap 'log "FAILED in step '"'"'$STEP'"'"': command exited with $?: $BASH_COMMAND"' ERR

step() {
  STEP="$1"
  log "step: $STEP"
}

# Logs each line of a command's output, keeping the command's exit status.
log_output() {
  local line
  while IFS= read -r line; do log "  $line"; done
}

require() {
  local name="$1" pattern="$2" allowed="$3"
  local value="${!name:-}"
  [ -n "$value" ] || fail "$name is not set; expected $allowed"
  [[ "$value" =~ $pattern ]] || fail "$name='$value' is not valid; expected $allowed"
}

step "parameters"
require GREENLIGHT_APP '^[a-z][a-z0-9-]{1,30}[a-z0-9]$' '3-32 lowercase letters, digits or hyphens'
require GREENLIGHT_ENV '^[a-z][a-z0-9]{0,15}$' 'an environment name from cdk.json (up to 16 lowercase letters or digits)'
require GREENLIGHT_RELEASE '^[A-Za-z0-9][A-Za-z0-9.-]{0,62}$' '1-63 letters, digits, dots or hyphens'
require AWS_REGION '^[a-z]{2}(-[a-z]+)+-[0-9]+$' 'an AWS region such as eu-west-1'
require GREENLIGHT_TLS '^(true|false)$' 'true or false'

ROOT="${GREENLIGHT_ROOT:-}"
SYSTEMCTL="${GREENLIGHT_SYSTEMCTL:-systemctl}"
APP_USER="${GREENLIGHT_APP_USER:-$GREENLIGHT_APP}"
IMDS="${AWS_EC2_METADATA_SERVICE_ENDPOINT:-http://169.254.169.254}"
IMDS="${IMDS%/}"
APP_HOME="$ROOT/opt/$GREENLIGHT_APP/current"
CONFIG_HELPER="$ROOT/usr/local/bin/greenlight-config"
MANIFEST_HELPER="$ROOT/usr/local/bin/greenlight-app"
MIGRATE_HELPER="$ROOT/usr/local/bin/greenlight-migrate"
ENV_FILE="$ROOT/etc/greenlight/app.env"
IPV4_FILE="$ROOT/etc/aws/ipv4"
export AWS_REGION

step "image"
# The AMI records what it was baked with; a different release means the SSM pointer is wrong.
BAKED_FILE="$ROOT/etc/greenlight/release"
[ -f "$BAKED_FILE" ] || fail "$BAKED_FILE is missing: this AMI was not baked by greenlight's Packer template"
baked_app="$(sed -n 's/^APP=//p' "$BAKED_FILE")"
baked_release="$(sed -n 's/^RELEASE=//p' "$BAKED_FILE")"
[ "$baked_app" = "$GREENLIGHT_APP" ] || fail "this AMI was baked for app '$baked_app', not '$GREENLIGHT_APP'"
[ "$baked_release" = "$GREENLIGHT_RELEASE" ] ||
  fail "this AMI was baked for release '$baked_release', not '$GREENLIGHT_RELEASE'"
[ -x "$APP_HOME/venv/bin/python" ] || fail "$APP_HOME/venv/bin/python is missing"
id -u "$APP_USER" >/dev/null 2>&1 || fail "app user '$APP_USER' does not exist"
[ "$(id -u "$APP_USER")" != 0 ] || fail "app user '$APP_USER' is root; the app must run unprivileged"

step "application manifest"
"$MANIFEST_HELPER" check "$APP_HOME/app" 2>&1 | log_output
manifest() { "$MANIFEST_HELPER" get "$APP_HOME/app" "$1"; }
settings_module="$(manifest settings)"
mapfile -t required_env < <(manifest required-env)
mapfile -t migrate_command < <(manifest migrate)

step "instance metadata (IMDSv2)"
curl_imds() {
  curl --silent --show-error --fail --max-time 5 --retry 5 --retry-connrefused --retry-delay 1 "$@"
}
token="$(curl_imds -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 300' "$IMDS/latest/api/token")"
imds() { curl_imds -H "X-aws-ec2-metadata-token: $token" "$IMDS/latest/meta-data/$1"; }
ipv4="$(imds local-ipv4)"
instance_id="$(imds instance-id)"
[[ "$ipv4" =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]] || fail "IMDS local-ipv4 '$ipv4' is not an IPv4 address"
[[ "$instance_id" =~ ^i-[0-9a-f]+$ ]] || fail "IMDS instance-id '$instance_id' is not an instance id"
mkdir -p "$ROOT/etc/aws"
printf '%s\n' "$ipv4" >"$IPV4_FILE"
printf '%s\n' "$instance_id" >"$ROOT/etc/aws/instance-id"
chmod 0644 "$IPV4_FILE" "$ROOT/etc/aws/instance-id"
log "instance $instance_id, private IPv4 $ipv4"

step "configuration from SSM"
"$CONFIG_HELPER" fetch \
  --path "/greenlight/$GREENLIGHT_APP/$GREENLIGHT_ENV/config/" \
  --out "$ENV_FILE" \
  --owner "$APP_USER" \
  --set "GREENLIGHT_APP=$GREENLIGHT_APP" \
  --set "GREENLIGHT_ENV=$GREENLIGHT_ENV" \
  --set "GREENLIGHT_RELEASE=$GREENLIGHT_RELEASE" \
  --set "GREENLIGHT_INSTANCE_ID=$instance_id" 2>&1 | log_output

step "required configuration"
# Before anything starts: a release without its configuration must never start, let alone turn healthy.
"$CONFIG_HELPER" require --env-file "$ENV_FILE" \
  --source "SSM /greenlight/$GREENLIGHT_APP/$GREENLIGHT_ENV/config/" -- "${required_env[@]}" 2>&1 | log_output

step "nginx TLS redirect"
if [ "$GREENLIGHT_TLS" = true ]; then tls_snippet=tls-on.conf; else tls_snippet=tls-off.conf; fi
ln -sfn "$tls_snippet" "$ROOT/etc/greenlight/nginx/tls.conf"
log "TLS redirect: $tls_snippet"

step "migrations"
# As the app user with the app's configuration: the app's own migrate command, run by
# greenlight-migrate under a lock so that instances booting together migrate one at a time.
(
  cd "$APP_HOME/app"
  runuser -u "$APP_USER" -- env "GREENLIGHT_IPV4_FILE=$IPV4_FILE" "DJANGO_SETTINGS_MODULE=$settings_module" \
    "$CONFIG_HELPER" run --env-file "$ENV_FILE" -- \
    "$APP_HOME/venv/bin/python" "$MIGRATE_HELPER" -- "${migrate_command[@]}"
) 2>&1 | log_output

step "services"
"$SYSTEMCTL" enable --now greenlight-app.service 2>&1 | log_output
"$SYSTEMCTL" reload-or-restart nginx.service 2>&1 | log_output

STEP="done"
log "release $GREENLIGHT_RELEASE of $GREENLIGHT_APP ($GREENLIGHT_ENV) started on $instance_id"

#!/usr/bin/env bash
# Installs the Debian packages greenlight's tests and rehearsal use, when any is missing (as root).
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
apt_packages=(
  # local rehearsal and the health-contract tests: real load balancer, web server, app server, app, database
  haproxy nginx gunicorn python3-django python3-psycopg2 python3-venv python3-pip postgresql
  # first-boot helper: loads the app configuration from SSM Parameter Store
  python3-botocore
  # AMI checks: template validation, shell lint, a local bake into a Debian root filesystem
  packer shellcheck debootstrap
  # test plumbing
  curl socat iproute2 ca-certificates procps
)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update
  apt-get install -y --no-install-recommends "${missing[@]}"
fi


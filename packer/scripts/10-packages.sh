#!/bin/bash
# Debian packages the app needs at run time. Debian's Python libraries meet what most apps need through
# the release's virtualenv (--system-site-packages); pip installs the rest from the app's wheels/ or
# the package index (30-release.sh).
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends \
  nginx \
  gunicorn \
  python3 python3-venv python3-pip python3-django python3-psycopg2 \
  python3-botocore \
  curl ca-certificates util-linux

#!/bin/bash
# Debian packages the app needs at run time. Python libraries come from Debian too, so the release's
# virtualenv (--system-site-packages) needs no package index.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends \
  nginx \
  gunicorn \
  python3 python3-venv python3-django python3-psycopg2 \
  python3-botocore \
  curl ca-certificates util-linux

#!/bin/bash
# The unprivileged user the app runs as (seed 004): no login shell, no password, named after the app.
set -euo pipefail
: "${GREENLIGHT_APP:?GREENLIGHT_APP is required: the app name}"

if ! id -u "$GREENLIGHT_APP" >/dev/null 2>&1; then
  useradd --system --user-group --home-dir "/opt/$GREENLIGHT_APP" --no-create-home \
    --shell /usr/sbin/nologin "$GREENLIGHT_APP"
fi
if [ "$(id -u "$GREENLIGHT_APP")" = 0 ]; then
  echo "app user $GREENLIGHT_APP has uid 0; refusing to run the app as root" >&2
  exit 1
fi

#!/bin/bash
# The unprivileged user the app runs as: no login shell, no password, named after the app.
set -euo pipefail
: "${GREENLIGHT_APP:?GREENLIGHT_APP is required: the app name}"

home="/opt/$GREENLIGHT_APP"
if entry="$(getent passwd "$GREENLIGHT_APP")"; then
  # Only an earlier run of this script may have made it: never run the app as a user the base image
  # already has (cloud-init's sudo-capable admin, www-data, ...).
  if [ "$(cut -d: -f6 <<<"$entry")" != "$home" ]; then
    echo "user $GREENLIGHT_APP already exists on the base image (home $(cut -d: -f6 <<<"$entry")); choose another app name" >&2
    exit 1
  fi
else
  useradd --system --user-group --home-dir "$home" --no-create-home \
    --shell /usr/sbin/nologin "$GREENLIGHT_APP"
fi
if [ "$(id -u "$GREENLIGHT_APP")" = 0 ]; then
  echo "app user $GREENLIGHT_APP has uid 0; refusing to run the app as root" >&2
  exit 1
fi

#!/bin/bash
# The app in a versioned release directory with its own virtualenv, as its manifest
# ([tool.greenlight] in pyproject.toml) describes it:
#   /opt/<app>/releases/<release>/app    the code, owned by root and read-only for the app user
#   /opt/<app>/releases/<release>/venv   python3 -m venv --system-site-packages (Debian's python3)
#   /opt/<app>/current -> releases/<release>
set -euo pipefail
: "${GREENLIGHT_APP:?GREENLIGHT_APP is required: the app name}"
: "${GREENLIGHT_RELEASE:?GREENLIGHT_RELEASE is required: the release id}"
: "${GREENLIGHT_APP_SOURCE:?GREENLIGHT_APP_SOURCE is required: the uploaded app directory}"
: "${GREENLIGHT_FILES:?GREENLIGHT_FILES is required: the uploaded packer/files directory}"

[ -f "$GREENLIGHT_APP_SOURCE/manage.py" ] || {
  echo "GREENLIGHT_APP_SOURCE=$GREENLIGHT_APP_SOURCE has no manage.py; expected a Django project" >&2
  exit 1
}
manifest() { /usr/bin/python3 "$GREENLIGHT_FILES/greenlight-app" "$@"; }
# A missing or invalid field stops the bake here, with one line naming it.
manifest check "$GREENLIGHT_APP_SOURCE"

base="/opt/$GREENLIGHT_APP"
release_dir="$base/releases/$GREENLIGHT_RELEASE"
rm -rf "$release_dir"
mkdir -p "$release_dir"
cp -a "$GREENLIGHT_APP_SOURCE/." "$release_dir/app/"
find "$release_dir/app" -name __pycache__ -prune -exec rm -rf {} +

/usr/bin/python3 -m venv --system-site-packages "$release_dir/venv"
requirements="$release_dir/app/$(manifest get "$GREENLIGHT_APP_SOURCE" requirements)"
if [ -f "$requirements" ]; then
  # No index: requirements are met by Debian's packages, or by wheels shipped in the app's wheels/.
  find_links=()
  [ -d "$release_dir/app/wheels" ] && find_links=(--find-links "$release_dir/app/wheels")
  "$release_dir/venv/bin/python" -m pip install --no-index --disable-pip-version-check \
    "${find_links[@]}" -r "$requirements"
fi
mapfile -t static < <(manifest get "$GREENLIGHT_APP_SOURCE" static)
if [ "${#static[@]}" -gt 0 ]; then
  # Without the environment's configuration: settings see GREENLIGHT_BAKE=1 at this point.
  (cd "$release_dir/app" &&
    env GREENLIGHT_BAKE=1 DJANGO_SETTINGS_MODULE="$(manifest get "$GREENLIGHT_APP_SOURCE" settings)" \
      "$release_dir/venv/bin/python" "${static[@]}")
fi
"$release_dir/venv/bin/python" -m compileall -q "$release_dir/app"

chown -R root:root "$release_dir"
chmod -R go-w "$release_dir"
# Atomic switch: a new symlink renamed over the old one.
ln -sfn "releases/$GREENLIGHT_RELEASE" "$base/current.new"
mv -T "$base/current.new" "$base/current"

mkdir -p /etc/greenlight
printf 'APP=%s\nRELEASE=%s\n' "$GREENLIGHT_APP" "$GREENLIGHT_RELEASE" >/etc/greenlight/release

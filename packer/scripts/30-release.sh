#!/bin/bash
# The app in a versioned release directory with its own virtualenv, as its manifest
# ([tool.greenlight] in pyproject.toml) describes it:
#   /opt/<app>/releases/<release>/app    the code, owned by root and read-only for the app user
#   /opt/<app>/releases/<release>/venv   python3 -m venv --system-site-packages (Debian's python3)
#   /opt/<app>/releases/<release>/static.json  with a static step: the STATIC_URL and STATIC_ROOT nginx serves
#   /opt/<app>/current -> releases/<release>
# The rehearsal and doctor run this same script for their local image, with GREENLIGHT_ROOT naming
# the directory that stands for / (empty on the AMI).
set -euo pipefail
: "${GREENLIGHT_APP:?GREENLIGHT_APP is required: the app name}"
: "${GREENLIGHT_RELEASE:?GREENLIGHT_RELEASE is required: the release id}"
: "${GREENLIGHT_APP_SOURCE:?GREENLIGHT_APP_SOURCE is required: the uploaded app directory}"
: "${GREENLIGHT_FILES:?GREENLIGHT_FILES is required: the uploaded packer/files directory}"
root="${GREENLIGHT_ROOT:-}"

# One line on stderr that says which step failed and why; the local bake quotes it as is.
fail() {
  echo "bake failed in step $1: $2" >&2
  exit 1
}
[ -f "$GREENLIGHT_APP_SOURCE/manage.py" ] || fail app "GREENLIGHT_APP_SOURCE=$GREENLIGHT_APP_SOURCE has no manage.py; expected a Django project"
manifest() { /usr/bin/python3 "$GREENLIGHT_FILES/greenlight-app" "$@"; }
# A missing or invalid field stops the bake here, with one line naming it.
manifest check "$GREENLIGHT_APP_SOURCE"

base="$root/opt/$GREENLIGHT_APP"
release_dir="$base/releases/$GREENLIGHT_RELEASE"
rm -rf "$release_dir"
mkdir -p "$release_dir"
cp -a "$GREENLIGHT_APP_SOURCE/." "$release_dir/app/"
find "$release_dir/app" -name __pycache__ -prune -exec rm -rf {} +

# Debian's pip installs into the virtualenv (pip --python): the venv needs no pip of its own, and
# nothing on the instance can install packages at run time.
/usr/bin/python3 -m venv --without-pip --system-site-packages "$release_dir/venv"
# greenlight's health check middleware (greenlight_health.HealthCheckMiddleware), importable by the app.
site_packages="$("$release_dir/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
install -D -m 0644 "$GREENLIGHT_FILES/greenlight_health.py" "$site_packages/greenlight_health.py"
requirements_file="$(manifest get "$GREENLIGHT_APP_SOURCE" requirements)"
requirements="$release_dir/app/$requirements_file"
if [ -f "$requirements" ]; then
  pip_log="$(mktemp)"
  trap 'rm -f "$pip_log"' EXIT
  pip() {
    /usr/bin/python3 -m pip --python "$release_dir/venv/bin/python" install --disable-pip-version-check "$@" \
      -r "$requirements" >"$pip_log" 2>&1
  }
  # What Debian's packages (--system-site-packages) and the app's own wheels/ meet installs offline;
  # only what they lack comes from the package index pip is configured with (PyPI by default).
  find_links=()
  [ -d "$release_dir/app/wheels" ] && find_links=(--find-links "$release_dir/app/wheels")
  if ! pip --no-index "${find_links[@]}" && ! pip "${find_links[@]}"; then
    cat "$pip_log" >&2
    missing="$(sed -n 's/^ERROR: No matching distribution found for \(.*\)$/\1/p' "$pip_log" | head -n 1)"
    if [ -n "$missing" ]; then
      fail requirements "$requirements_file: no distribution of $missing in wheels/ or the package index; ship its wheel in the app's wheels/ directory (pip download -d wheels -r $requirements_file, where the index is reachable)"
    fi
    fail requirements "pip install -r $requirements_file: $(grep -m 1 '^ERROR: ' "$pip_log" || tail -n 1 "$pip_log")"
  fi
  cat "$pip_log"
fi
mapfile -t static < <(manifest get "$GREENLIGHT_APP_SOURCE" static)
if [ "${#static[@]}" -gt 0 ]; then
  static_log="$(mktemp)"
  # Without the environment's configuration: settings see GREENLIGHT_BAKE=1 at this point.
  if ! (cd "$release_dir/app" &&
    env GREENLIGHT_BAKE=1 DJANGO_SETTINGS_MODULE="$(manifest get "$GREENLIGHT_APP_SOURCE" settings)" \
      "$release_dir/venv/bin/python" "${static[@]}") >"$static_log" 2>&1; then
    cat "$static_log" >&2
    # A Python traceback ends with its exception; a management command's error is its last line.
    cause="$(grep -v '^[[:space:]]*$' "$static_log" | tail -n 1)"
    rm -f "$static_log"
    fail static "${static[*]}: ${cause:-no output}"
  fi
  cat "$static_log"
  # What nginx serves at STATIC_URL, read from the same settings: STATIC_ROOT, inside the app directory.
  # The nginx site is rendered with it (greenlight-app render reads the release's static.json).
  if ! (cd "$release_dir/app" &&
    env GREENLIGHT_BAKE=1 DJANGO_SETTINGS_MODULE="$(manifest get "$GREENLIGHT_APP_SOURCE" settings)" \
      "$release_dir/venv/bin/python" "$GREENLIGHT_FILES/greenlight-app" static "$release_dir/app") >"$release_dir/static.json" 2>"$static_log"; then
    cause="$(grep -v '^[[:space:]]*$' "$static_log" | tail -n 1)"
    rm -f "$static_log"
    fail static "${cause:-reading STATIC_URL and STATIC_ROOT failed}"
  fi
  cat "$static_log"
  rm -f "$static_log"
  [ -s "$release_dir/static.json" ] || rm -f "$release_dir/static.json"
fi
"$release_dir/venv/bin/python" -m compileall -q "$release_dir/app"

# The AMI bakes as root; an unprivileged local bake (deploy's migration check on a CI runner) keeps its user.
if [ "$(id -u)" -eq 0 ]; then chown -R root:root "$release_dir"; fi
chmod -R go-w "$release_dir"
# Atomic switch: a new symlink renamed over the old one.
ln -sfn "releases/$GREENLIGHT_RELEASE" "$base/current.new"
mv -T "$base/current.new" "$base/current"

mkdir -p "$root/etc/greenlight"
printf 'APP=%s\nRELEASE=%s\n' "$GREENLIGHT_APP" "$GREENLIGHT_RELEASE" >"$root/etc/greenlight/release"

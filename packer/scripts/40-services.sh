#!/bin/bash
# nginx, the gunicorn unit and the first-boot helpers, from the files baked into the AMI. The unit
# and the nginx site are rendered from the release's manifest ([tool.greenlight] in pyproject.toml).
set -euo pipefail
: "${GREENLIGHT_APP:?GREENLIGHT_APP is required: the app name}"
: "${GREENLIGHT_FILES:?GREENLIGHT_FILES is required: the uploaded packer/files directory}"

files="$GREENLIGHT_FILES"
install -d -m 0755 /etc/greenlight /etc/greenlight/nginx
install -m 0644 "$files/gunicorn.conf.py" /etc/greenlight/gunicorn.conf.py
install -m 0644 "$files/tls-on.conf" "$files/tls-off.conf" /etc/greenlight/nginx/
# Redirect by default; first-boot userdata switches it off for an environment with an HTTP listener.
ln -sfn tls-on.conf /etc/greenlight/nginx/tls.conf
for helper in greenlight-config greenlight-app greenlight-migrate; do
  install -m 0755 "$files/$helper" "/usr/local/bin/$helper"
done

app_dir="/opt/$GREENLIGHT_APP/current/app"
render() { /usr/local/bin/greenlight-app render "$app_dir" --app "$GREENLIGHT_APP" "$files/$1"; }
render greenlight-app.service >/etc/systemd/system/greenlight-app.service
chmod 0644 /etc/systemd/system/greenlight-app.service

render nginx-site.conf >/etc/nginx/sites-available/greenlight
chmod 0644 /etc/nginx/sites-available/greenlight
ln -sfn /etc/nginx/sites-available/greenlight /etc/nginx/sites-enabled/greenlight
rm -f /etc/nginx/sites-enabled/default

nginx -t
# nginx starts at boot; the app starts from userdata once its configuration is in place.
systemctl enable nginx.service

#!/bin/bash
# nginx, the gunicorn unit and the first-boot helper, from the files baked into the AMI.
set -euo pipefail
: "${GREENLIGHT_APP:?GREENLIGHT_APP is required: the app name}"
: "${GREENLIGHT_FILES:?GREENLIGHT_FILES is required: the uploaded packer/files directory}"

files="$GREENLIGHT_FILES"
install -d -m 0755 /etc/greenlight /etc/greenlight/nginx
install -m 0644 "$files/gunicorn.conf.py" /etc/greenlight/gunicorn.conf.py
install -m 0644 "$files/tls-on.conf" "$files/tls-off.conf" /etc/greenlight/nginx/
# Redirect by default; first-boot userdata switches it off for an environment with an HTTP listener.
ln -sfn tls-on.conf /etc/greenlight/nginx/tls.conf
install -m 0755 "$files/greenlight-config" /usr/local/bin/greenlight-config

sed "s/@APP@/$GREENLIGHT_APP/g" "$files/greenlight-app.service" >/etc/systemd/system/greenlight-app.service
chmod 0644 /etc/systemd/system/greenlight-app.service

install -m 0644 "$files/nginx-site.conf" /etc/nginx/sites-available/greenlight
ln -sfn /etc/nginx/sites-available/greenlight /etc/nginx/sites-enabled/greenlight
rm -f /etc/nginx/sites-enabled/default

nginx -t
# nginx starts at boot; the app starts from userdata once its configuration is in place.
systemctl enable nginx.service

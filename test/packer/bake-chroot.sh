#!/bin/bash
# A local bake: the real provisioning scripts, run as Packer runs them, inside a Debian 12 root
# filesystem made by debootstrap instead of an EC2 instance.
#   test/packer/bake-chroot.sh ROOTFS CACHE_DIR APP RELEASE
# The debootstrap result and the downloaded .debs are cached in CACHE_DIR (outside the clone), so
# only the first run on a machine pays for them. /proc is mounted for package scripts and always
# unmounted on exit.
set -euo pipefail

rootfs="$1" cache="$2" app="$3" release="$4"
repo="$(cd "$(dirname "$0")/../.." && pwd)"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
base="$cache/debootstrap-bookworm-amd64-minbase.tar.gz"
archives="$cache/apt-archives"

log() { printf 'bake: %s\n' "$*" >&2; }

unmount_under() {
  local mnt
  # Deepest first; lazy, so a process still inside cannot block the cleanup.
  awk -v root="$1" '$2 == root || index($2, root "/") == 1 { print $2 }' /proc/mounts | sort -r |
    while IFS= read -r mnt; do umount -l "$mnt"; done
}
trap 'unmount_under "$rootfs"' EXIT

mkdir -p "$cache" "$archives"
(
  flock 9
  if [ ! -f "$base" ]; then
    log "debootstrap bookworm from $mirror (first run on this machine)"
    tmp="$(mktemp -d "$cache/debootstrap.XXXXXX")"
    debootstrap --variant=minbase --include=systemd,ca-certificates bookworm "$tmp" "$mirror" >&2
    tar -C "$tmp" -czf "$base.partial" .
    mv "$base.partial" "$base"
    rm -rf "$tmp"
  fi
) 9>"$cache/.lock"

unmount_under "$rootfs"
rm -rf "$rootfs"
mkdir -p "$rootfs"
log "unpacking $base"
tar -C "$rootfs" -xzf "$base"

cp /etc/resolv.conf "$rootfs/etc/resolv.conf"
# No daemons start inside the chroot, as on an image being built.
printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
chmod 0755 "$rootfs/usr/sbin/policy-rc.d"
find "$archives" -maxdepth 1 -name '*.deb' -exec cp -t "$rootfs/var/cache/apt/archives/" {} +
mount -t proc proc "$rootfs/proc"

# What the template's file provisioners upload.
mkdir -p "$rootfs/tmp/greenlight"
cp -a "$repo/examples/django-app" "$rootfs/tmp/greenlight/app"
cp -a "$repo/packer/files" "$rootfs/tmp/greenlight/files"
cp -a "$repo/packer/scripts" "$rootfs/tmp/greenlight/scripts"

provision() {
  log "provisioning: $1"
  chroot "$rootfs" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
    GREENLIGHT_APP="$app" GREENLIGHT_RELEASE="$release" \
    GREENLIGHT_APP_SOURCE=/tmp/greenlight/app GREENLIGHT_FILES=/tmp/greenlight/files \
    bash "/tmp/greenlight/scripts/$1"
}
for script in 10-packages.sh 20-app-user.sh 30-release.sh 40-services.sh; do provision "$script"; done
# Keep the downloads for the next run before the cleanup script empties apt's cache.
find "$rootfs/var/cache/apt/archives" -maxdepth 1 -name '*.deb' -exec cp -n -t "$archives/" {} +
provision 90-cleanup.sh

rm -f "$rootfs/usr/sbin/policy-rc.d"
log "done"

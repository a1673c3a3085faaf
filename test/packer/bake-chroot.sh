#!/bin/bash
# A local bake: the real provisioning scripts, run as Packer runs them, inside a Debian 12 root
# filesystem made by debootstrap instead of an EC2 instance.
#   test/packer/bake-chroot.sh ROOTFS CACHE_DIR APP RELEASE
# The debootstrap result and the downloaded .debs are cached in CACHE_DIR (outside the clone), so
# only the first run on a machine pays for them. So is the root filesystem after 10-packages.sh,
# keyed by that script's text and the base: a later run with the same script mounts ROOTFS as an
# overlay on it instead of unpacking and installing again, and any change to the script runs it
# again. /proc is mounted for package scripts and always unmounted on exit; the overlay stays
# mounted for the image to be inspected, until the next run or `umount ROOTFS`.
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
trap 'unmount_under "$rootfs/proc"' EXIT

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

packages_key="$(cat "$repo/packer/scripts/10-packages.sh" <(printf '%s\n' "$base" "$mirror") | sha256sum | cut -c1-16)"
packages_layer="$cache/after-10-packages-$packages_key"
overlay="$(dirname "$rootfs")/overlay"

unmount_under "$rootfs"
rm -rf "$rootfs" "$overlay"
mkdir -p "$rootfs"
reuse_packages=false
[ -d "$packages_layer" ] && reuse_packages=true
if "$reuse_packages"; then
  log "mounting $rootfs as an overlay on $packages_layer"
  mkdir -p "$overlay/upper" "$overlay/work"
  mount -t overlay overlay -o "lowerdir=$packages_layer,upperdir=$overlay/upper,workdir=$overlay/work" "$rootfs"
else
  log "unpacking $base"
  tar -C "$rootfs" -xzf "$base"
  # The .debs an earlier run downloaded, for 10-packages.sh's install.
  find "$archives" -maxdepth 1 -name '*.deb' -exec cp -t "$rootfs/var/cache/apt/archives/" {} +
fi

cp /etc/resolv.conf "$rootfs/etc/resolv.conf"
# No daemons start inside the chroot, as on an image being built.
printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
chmod 0755 "$rootfs/usr/sbin/policy-rc.d"
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
if "$reuse_packages"; then
  log "provisioning: 10-packages.sh: unchanged, its result reused from $packages_layer"
else
  provision 10-packages.sh
  # Keep the downloads for the next run before the cleanup script empties apt's cache.
  find "$rootfs/var/cache/apt/archives" -maxdepth 1 -name '*.deb' -exec cp -n -t "$archives/" {} +
  (
    flock 9
    rm -rf "$cache"/after-10-packages-*
    mkdir "$packages_layer.partial"
    tar -C "$rootfs" --exclude=./proc/* --exclude=./tmp/greenlight --exclude=./var/cache/apt/archives/*.deb -cf - . |
      tar -C "$packages_layer.partial" -xf -
    mv "$packages_layer.partial" "$packages_layer"
  ) 9>"$cache/.lock"
fi
for script in 20-app-user.sh 30-release.sh 40-services.sh; do provision "$script"; done
provision 90-cleanup.sh

rm -f "$rootfs/usr/sbin/policy-rc.d"
log "done"

#!/bin/bash
# Leave no package caches or build uploads in the image.
set -euo pipefail
apt-get clean
rm -rf /var/lib/apt/lists/* /tmp/greenlight

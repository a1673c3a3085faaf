#!/usr/bin/env bash
# Prints the release id of a commit (default HEAD): <commit date>-<short sha>, e.g. 2026.11.22-3f9c2ab.
# It depends only on the commit, so a rerun of a release job gets the same id and bakes nothing twice.
set -euo pipefail

commit="${1:-HEAD}"
day="$(TZ=UTC git show -s --date=format-local:%Y.%m.%d --format=%cd "$commit")"
sha="$(git rev-parse --short=7 "$commit")"
printf '%s-%s\n' "$day" "$sha"

#!/usr/bin/env bash
# Refresh the console's vendored htmx file from the npm registry and re-pin its SHA-256 (the alert stream has its
# own client, static/alerts.js). Run by hand when upgrading (never at install or run time); review the diff, then
# update the version in the README there.
set -euo pipefail
cd "$(dirname "$0")/.."
HTMX="${HTMX:-2.0.11}"
dest=src/openfr/web/static/vendor
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "htmx.org@$HTMX" >/dev/null && for f in *.tgz; do mkdir "${f%.tgz}" && tar xzf "$f" -C "${f%.tgz}"; done)
rm -f "$dest"/htmx-*.min.js
cp "$work/htmx.org-$HTMX/package/dist/htmx.min.js" "$dest/htmx-$HTMX.min.js"
cp "$work/htmx.org-$HTMX/package/LICENSE" "$dest/LICENSE-htmx"
(cd "$dest" && sha256sum ./*.min.js | sed 's# \./# #' > ASSETS.sha256 && cat ASSETS.sha256)
echo "now update the file names in src/openfr/web/templates/base.html and $dest/README.md" >&2

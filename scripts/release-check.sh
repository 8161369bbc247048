#!/usr/bin/env bash
# Release check (not run in CI: the six backend builds take about 15 minutes on two cores).
# Builds the frontend and the backend for all six platforms (linux amd64/arm64/arm, darwin
# amd64/arm64, windows amd64), zips dist/ without rebuilding (`mage zip`: the archive's binaries are
# the ones just built, so a MANIFEST.txt written by `npm run sign` between the build and the zip
# stays valid), checks the archive (layout, 0755 binaries, go_plugin_build_manifest, signature
# hashes when signed) and runs Grafana's plugin validator on it (scripts/validate-package.sh).
# usage: scripts/release-check.sh [--sign]
#   --sign  runs `npm run sign` after the build (needs GRAFANA_ACCESS_POLICY_TOKEN; add
#           SIGN_ARGS="--rootUrls https://grafana.example.com/" for a private signature).
set -euo pipefail
cd "$(dirname "$0")/.."
sign=false
[[ "${1:-}" == "--sign" ]] && sign=true
mage() { nice -n 10 go run github.com/magefile/mage -v "$@"; }

echo "==> frontend build"
npm run build
echo "==> backend build, six platforms"
rm -f dist/gpx_modellens_* dist/MANIFEST.txt
mage buildAll
if $sign; then
  echo "==> sign dist/"
  # shellcheck disable=SC2086 # SIGN_ARGS is a list of arguments
  npm run sign -- ${SIGN_ARGS:-}
fi
echo "==> zip dist/ without rebuilding"
mage zip
version=$(node -p 'require("./package.json").version')
zip=modellens-mlmonitoring-datasource-$version.zip
for exe in gpx_modellens_linux_amd64 gpx_modellens_linux_arm64 gpx_modellens_linux_arm \
  gpx_modellens_darwin_amd64 gpx_modellens_darwin_arm64 gpx_modellens_windows_amd64.exe; do
  unzip -Z1 "$zip" | grep -qx "modellens-mlmonitoring-datasource/$exe" || { echo "release-check: $zip lacks $exe" >&2; exit 1; }
done
echo "==> plugin validator"
bash scripts/validate-package.sh "$zip"
echo "release-check: $zip is ready ($(sha1sum "$zip" | cut -d' ' -f1))"

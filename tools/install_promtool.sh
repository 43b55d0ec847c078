#!/usr/bin/env bash
# promtool (checks and unit-tests ops/prometheus/alerts.yml) from Debian's `prometheus`
# package, unpacked without root; only promtool is kept, as .tools/usr/bin/promtool.
# Skips when already there.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
promtool="$root/.tools/usr/bin/promtool"
if [[ -x "$promtool" ]]; then
  exit 0
fi
download="$(mktemp -d)"
trap 'rm -rf "$download"' EXIT
chmod 0777 "$download"  # apt's sandbox user writes the .deb there
(cd "$download" && apt-get download -qq prometheus)
dpkg -x "$download"/prometheus_*.deb "$download/root"
install -D -m 0755 "$download/root/usr/bin/promtool" "$promtool"
"$promtool" --version | head -1

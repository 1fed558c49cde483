#!/bin/sh
# Installs bitnetd as a systemd service from a built checkout (after "npm ci"):
#   sudo systemd/install.sh            install into /opt/bitnetd, create the user, enable and start
#   sudo systemd/install.sh --no-start install and enable only
# DESTDIR=/some/dir systemd/install.sh stages the files only (no user, no systemctl), for packaging.
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
prefix=/opt/bitnetd
dest=${DESTDIR:-}
start=yes
[ "${1:-}" = "--no-start" ] && start=no

die() { echo "install.sh: $*" >&2; exit 1; }
[ -f "$here/dist/daemon/cli.js" ] || die "build first: run \"npm ci\" in $here"
# The engine the loader would pick here (the prebuild for this machine or the local build), probed.
addon=$(cd "$here" && env -u BITNETD_ADDON node --input-type=module \
  -e "const { findUsableAddon } = await import('./dist/daemon/engine/addon/addon-loader.js'); console.log(findUsableAddon().path)") ||
  die "no engine addon runs on this machine: run \"npm ci\" in $here"
if [ -z "$dest" ]; then
  [ "$(id -u)" = 0 ] || die "run as root (sudo), or set DESTDIR to stage the files"
  [ -x /usr/bin/node ] || die "the unit runs /usr/bin/node, which is missing: install Node.js 20+ from your distribution or NodeSource"
fi

echo "installing bitnetd into $dest$prefix"
install -d "$dest$prefix"
rm -rf "$dest$prefix/dist" "$dest$prefix/build" "$dest$prefix/prebuilds" "$dest$prefix/node_modules"
cp -a "$here/dist" "$here/package.json" "$here/README.md" "$dest$prefix/"
install -d "$dest$prefix/config"
install -D -m 0755 "$addon" "$dest$prefix/${addon#"$here"/}"
cp -a "$here/config/example.json" "$dest$prefix/config/"
cp -a "$here/node_modules" "$dest$prefix/"
(cd "$dest$prefix" && npm prune --omit=dev --no-audit --no-fund >/dev/null 2>&1) || echo "note: could not prune dev packages (harmless)"

install -D -m 0644 "$here/systemd/bitnetd.service" "$dest/etc/systemd/system/bitnetd.service"
install -D -m 0644 "$here/systemd/bitnetd.sysusers" "$dest/usr/lib/sysusers.d/bitnetd.conf"
install -D -m 0644 "$here/systemd/bitnetd.tmpfiles" "$dest/usr/lib/tmpfiles.d/bitnetd.conf"
# A Raspberry Pi's firmware reports power and throttling through /dev/vcio (BITNETD_PI_POWER=yes forces it).
if [ -e /dev/vcio ] || [ "${BITNETD_PI_POWER:-}" = yes ]; then
  install -D -m 0644 "$here/systemd/bitnetd-pi-power.conf" "$dest/etc/systemd/system/bitnetd.service.d/pi-power.conf"
fi
install -d -m 0750 "$dest/etc/bitnetd"
if [ ! -e "$dest/etc/bitnetd/config.json" ]; then
  # It may hold the MQTT password: readable by root and the service only.
  install -m 0640 "$here/config/example.json" "$dest/etc/bitnetd/config.json"
fi

[ -n "$dest" ] && { echo "staged in $dest"; exit 0; }

systemd-sysusers bitnetd.conf
systemd-tmpfiles --create bitnetd.conf
chgrp bitnetd /etc/bitnetd /etc/bitnetd/config.json
systemctl daemon-reload
if [ "$start" = yes ]; then
  systemctl enable --now bitnetd.service
  echo "started: journalctl -u bitnetd -f shows the log"
else
  systemctl enable bitnetd.service
fi
model=/var/lib/bitnetd/models/ggml-model-i2_s.gguf
[ -f "$model" ] || echo "now put the model at $model (see README.md)"

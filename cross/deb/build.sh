#!/usr/bin/env bash
# npm run package: Debian packages of bitnetd for arm64 and armhf (Raspberry Pi OS 64- and 32-bit) and
# amd64, made with dpkg-deb into build-deb/bitnetd_<version>_<arch>.deb. Each holds the daemon (compiled
# TypeScript and its production node_modules, all JavaScript), the prebuilt engine for its architecture
# (made by cross/build.sh when missing), a Node 20 runtime from the npm registry for systems whose own
# Node is older, the systemd unit, sysusers.d and tmpfiles.d files and /etc/bitnetd/config.json as a
# conffile. Nothing is compiled on the target. BITNETD_DEB_ARCHES="arm64" picks architectures.
set -euo pipefail
cd "$(dirname "$0")/../.."
source cross/targets.sh
need_commands dpkg dpkg-deb

version=$(node -p "require('./package.json').version")
declare -A NODE_ARCH=([arm64]=arm64 [armhf]=arm [amd64]=x64)
# Beyond glibc 2.29 and GCC 9's C++ runtime (the engine's and Node's symbol versions): the 32-bit Node
# links libatomic.
declare -A EXTRA_DEPENDS=([armhf]=", libatomic1")
out=build-deb
work=$out/work
node_major=20   # the oldest system Node bitnetd runs on (package.json "engines")

npx tsc -p .
rm -rf "$work"
mkdir -p "$work/app"
# The production dependencies, the same for every architecture.
cp package.json package-lock.json "$work/app/"
(cd "$work/app" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
rm "$work/app/package-lock.json"

for debarch in ${BITNETD_DEB_ARCHES:-arm64 armhf amd64}; do
    arch=${NODE_ARCH[$debarch]:?"package: no Node architecture for $debarch (known: ${!NODE_ARCH[*]})"}
    addon=prebuilds/linux-$arch/bitnetd.node
    [ -f "$addon" ] || BITNETD_CROSS_TARGETS=$arch cross/build.sh
    node=$(cross/fetch-node.sh "$arch")
    node_version=${NODE_PACKAGE[$arch]#*@}
    root=$work/$debarch
    lib=$root/usr/lib/bitnetd
    mkdir -p "$lib/dist" "$root/DEBIAN"
    cp -a "$work/app/node_modules" "$work/app/package.json" "$lib/"
    cp -a dist/daemon "$lib/dist/"
    install -D -m 0644 config/example.json "$lib/config/example.json"
    install -D -m 0755 "$addon" "$lib/prebuilds/linux-$arch/bitnetd.node"
    install -D -m 0755 "$node" "$lib/node/bin/node"
    install -d "$root/usr/bin" "$root/usr/share/doc/bitnetd"
    sed "s/@NODE_MAJOR@/$node_major/" cross/deb/bitnetd.sh >"$root/usr/bin/bitnetd"
    chmod 0755 "$root/usr/bin/bitnetd"
    # The checkout's unit, with the package's command and documentation.
    install -d "$root/lib/systemd/system"
    sed -e 's|^ExecStart=.*|ExecStart=/usr/bin/bitnetd serve|' \
        -e 's|^Documentation=.*|Documentation=file:///usr/share/doc/bitnetd/README.md|' \
        -e 's|^# bitnetd as a system service.*|# bitnetd as a system service, from the Debian package bitnetd; see /usr/share/doc/bitnetd/README.md.|' \
        systemd/bitnetd.service >"$root/lib/systemd/system/bitnetd.service"
    grep -q '^ExecStart=/usr/bin/bitnetd serve$' "$root/lib/systemd/system/bitnetd.service"
    install -D -m 0644 systemd/bitnetd.sysusers "$root/usr/lib/sysusers.d/bitnetd.conf"
    install -D -m 0644 systemd/bitnetd.tmpfiles "$root/usr/lib/tmpfiles.d/bitnetd.conf"
    install -D -m 0644 systemd/bitnetd-pi-power.conf "$root/usr/share/bitnetd/pi-power.conf"
    install -D -m 0640 config/example.json "$root/etc/bitnetd/config.json"
    install -D -m 0644 README.md "$root/usr/share/doc/bitnetd/README.md"
    {
        echo "bitnetd $version: MIT license."
        echo
        echo "It brings Node.js $node_version in /usr/lib/bitnetd/node, under this license:"
        echo
        cat "$(dirname "$(dirname "$node")")/LICENSE"
    } >"$root/usr/share/doc/bitnetd/copyright"

    install -m 0755 cross/deb/debian/postinst cross/deb/debian/prerm cross/deb/debian/postrm "$root/DEBIAN/"
    echo /etc/bitnetd/config.json >"$root/DEBIAN/conffiles"
    cat >"$root/DEBIAN/control" <<CONTROL
Package: bitnetd
Version: $version
Architecture: $debarch
Maintainer: bitnetd developers <bitnetd@localhost>
Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)
Depends: libc6 (>= 2.29), libstdc++6 (>= 9), init-system-helpers (>= 1.54), passwd${EXTRA_DEPENDS[$debarch]:-}
Suggests: mosquitto
Section: misc
Priority: optional
Description: BitNet b1.58 1-bit LLM as a home-automation daemon
 bitnetd runs Microsoft's BitNet b1.58 2B4T, an LLM with ternary weights,
 on a plain CPU (Raspberry Pi 4/5, x86 home servers). It answers prompts
 over MQTT 5, a Unix socket, an Ollama-compatible HTTP API and the Wyoming
 protocol, appears in Home Assistant, and keeps a power budget.
 .
 The model file is downloaded separately: sudo -u bitnetd bitnetd pull
CONTROL
    (cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum >DEBIAN/md5sums)
    deb=$out/bitnetd_${version}_$debarch.deb
    # xz at level 3: 12 s for the amd64 package here against 29 s at the default level 6, 12 % larger.
    dpkg-deb --root-owner-group -Zxz -z3 --build "$root" "$deb" >/dev/null
    echo "package: $deb, $(du -k "$deb" | cut -f1) kB ($(du -sk --exclude=DEBIAN "$root" | cut -f1) kB installed), Node $node_version, engine $addon"
done

#!/usr/bin/env bash
# npm run cross: the engine addon for linux-arm64 (64-bit Raspberry Pi OS), linux-arm (32-bit, ARMv7)
# and this machine, each checked by check-binary.sh, into prebuilds/<platform>-<arch>/bitnetd.node:
# what `npm pack` ships and what the loader and the install step look for.
# BITNETD_CROSS_TARGETS="arm64 arm x64" picks targets (default: both ARM ones and the host).
set -euo pipefail
cd "$(dirname "$0")/.."
source cross/targets.sh

host=$(host_arch)
for arch in ${BITNETD_CROSS_TARGETS:-arm64 arm $host}; do
    flags=()
    if [ "$arch" != "$host" ]; then
        triplet=${TRIPLET[$arch]:?"cross: no toolchain for $arch (known: ${!TRIPLET[*]})"}
        need_commands "g++-$triplet" "$triplet-g++"
        flags=(--CDCMAKE_TOOLCHAIN_FILE="$PWD/cross/toolchains/$triplet.cmake")
    fi
    echo "cross: building linux-$arch"
    mkdir -p build-cross
    npx cmake-js compile -d native -O "build-cross/$arch" -p 2 "${flags[@]}" >"build-cross/$arch.log" 2>&1 ||
        { mkdir -p build-cross; tail -40 "build-cross/$arch.log" >&2; exit 1; }
    mkdir -p "prebuilds/linux-$arch"
    cp "build-cross/$arch/Release/bitnetd.node" "prebuilds/linux-$arch/bitnetd.node"
    cross/check-binary.sh "prebuilds/linux-$arch/bitnetd.node" "$arch"
done

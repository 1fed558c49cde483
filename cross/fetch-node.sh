#!/usr/bin/env bash
# fetch-node.sh ARCH: prints the path of an official Node binary for ARCH (arm64, arm, x64), to run
# under qemu-user or to ship in the Debian package, fetched once from the npm registry into .cache/emu/
# (outside git), with its LICENSE beside bin/.
set -euo pipefail
cd "$(dirname "$0")/.."
source cross/targets.sh
arch=$1
package=${NODE_PACKAGE[$arch]:?"fetch-node: no Node package for $arch"}
dir=.cache/emu/${package/@/-}
if [ ! -x "$dir/bin/node" ] || [ ! -f "$dir/LICENSE" ]; then
    mkdir -p "$dir"
    tarball=$(cd "$dir" && npm pack --silent "$package" 2>/dev/null | tail -1)
    tar -xzf "$dir/$tarball" -C "$dir" --strip-components=1 package/bin/node package/LICENSE
    rm "$dir/$tarball"
fi
echo "$PWD/$dir/bin/node"

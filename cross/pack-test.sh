#!/usr/bin/env bash
# pack-test.sh: `npm pack` gives one tarball that installs with no compiler. Installs it into an empty
# folder (npm install ./bitnetd-*.tgz), then checks that the install step used the prebuilt engine (no
# build/ folder appeared), that every prebuild is inside, and that `bitnetd info` runs on the reference
# model with the prebuild; then installs it globally with the README's line, which must leave npm 11
# nothing to warn about its install script. Needs the prebuilds (npm run cross) first.
set -euo pipefail
cd "$(dirname "$0")/.."
source cross/targets.sh
ref=$(realpath "${BITNETD_REF_DIR:-../shared/ref}")/synth-tiny-i2_s.gguf
fail() { echo "pack-test: $*" >&2; exit 1; }

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
tarball=$(npm pack --silent --pack-destination "$out" 2>/dev/null | tail -1)
contents=$(tar -tzf "$out/$tarball")
for arch in arm64 arm "$(host_arch)"; do
    grep -qx "package/prebuilds/linux-$arch/bitnetd.node" <<<"$contents" || fail "$tarball lacks prebuilds/linux-$arch"
done
echo "pack-test: $tarball, $(du -k "$out/$tarball" | cut -f1) kB, $(wc -l <<<"$contents") files"

mkdir "$out/app"
(cd "$out/app" && npm init -y >/dev/null && npm install --no-audit --no-fund --foreground-scripts "../$tarball" >install.log 2>&1) ||
    { cat "$out/app/install.log" >&2; fail "npm install failed"; }
grep -q "using the prebuilt engine for linux-$(host_arch)" "$out/app/install.log" || { cat "$out/app/install.log" >&2; fail "the install step did not take the prebuild"; }
[ ! -e "$out/app/node_modules/bitnetd/build" ] || fail "the install step compiled the engine"
info=$(cd "$out/app" && env -u BITNETD_ADDON npx --no-install bitnetd info "$ref")
grep -q "^engine *prebuild .*prebuilds/linux-$(host_arch)/bitnetd.node" <<<"$info" || { echo "$info" >&2; fail "bitnetd info did not run on the prebuild"; }
echo "pack-test: installed into an empty folder without compiling; bitnetd info: $(grep -E '^(kernel|engine)' <<<"$info" | tr -s ' ' | tr '\n' ';')"

# The README's global install (into a prefix of its own): the install script approved, no warning.
(cd "$out" && npm install -g --prefix "$out/global" --allow-scripts="$out/$tarball" --no-audit --no-fund --foreground-scripts "./$tarball" >global.log 2>&1) ||
    { cat "$out/global.log" >&2; fail "npm install -g failed"; }
grep -q "using the prebuilt engine for linux-$(host_arch)" "$out/global.log" || { cat "$out/global.log" >&2; fail "the global install did not take the prebuild"; }
! grep -q "install-scripts" "$out/global.log" || { cat "$out/global.log" >&2; fail "npm warns about the install script despite --allow-scripts"; }
[ "$("$out/global/bin/bitnetd" --version)" = "$(node -p "require('./package.json').version")" ] || fail "the global bitnetd does not run"
echo "pack-test: npm install -g --allow-scripts=<tarball> installs with the prebuild and no install-script warning"

#!/usr/bin/env bash
# npm run test:deb: the Debian packages (npm run package) installed on Raspberry Pi OS's userland, as a
# user would: Debian bullseye armhf (Raspberry Pi OS 32-bit, Node 12 in it) and bookworm arm64 (64-bit,
# Node 18), root file systems made by rootfs.sh, their ARM binaries run by qemu-user. In each:
#   apt-get install ./bitnetd_<version>_<arch>.deb (its dependencies from Debian's mirror);
#   the user, the conffile's group, the enabled unit; bitnetd runs on the Node it brings, not the old one;
#   sudo -u bitnetd bitnetd pull fetches the model (the reference one, served over HTTP here) to its place;
#   bitnetd info on it names the NEON kernels of a Pi 4's CPU;
#   the daemon, started as its user without systemd (none runs in a chroot), answers over its socket;
#   apt-get remove keeps the configuration and the models; apt-get purge deletes them.
# Both run at once, one per core. Logs: .cache/deb-test/<suite>-<arch>.log. Needs root (chroot, mount).
set -euo pipefail
cd "$(dirname "$0")/../.."
source cross/targets.sh
[ "$(id -u)" -eq 0 ] || exec sudo --preserve-env=BITNETD_REF_DIR,BITNETD_DEBIAN_MIRROR,PATH "$0" "$@"
need_commands "qemu-user-static binfmt-support" qemu-aarch64-static qemu-arm-static
need_commands socat socat
need_commands python3 python3

version=$(node -p "require('./package.json').version")
ref=$(realpath "${BITNETD_REF_DIR:-../shared/ref}")/synth-tiny-i2_s.gguf
[ -f "$ref" ] || { echo "test:deb: the reference model $ref is missing" >&2; exit 1; }
mkdir -p .cache/deb-test

# suite, Debian architecture, the CPU qemu plays, the kernels bitnetd must pick on it
SUITES=("bullseye armhf cortex-a7 neon" "bookworm arm64 cortex-a72 neon")

install_test() (  # install_test SUITE ARCH CPU KERNEL PORT: one userland, in a subshell that cleans up after it
    suite=$1 arch=$2 cpu=$3 kernel=$4 port=$5
    deb=build-deb/bitnetd_${version}_$arch.deb pid=""
    [ -f "$deb" ] || { echo "no $deb: run npm run package first"; exit 1; }
    root=$(cross/deb/rootfs.sh "$suite" "$arch")
    mount -t proc proc "$root/proc"
    trap '[ -z "$pid" ] || kill "$pid" 2>/dev/null; umount -l "$root/proc"' EXIT
    # Only what a login shell has: not this machine's environment.
    in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root QEMU_CPU="$cpu" "$@"; }
    as_bitnetd() { chroot --userspec=bitnetd:bitnetd "$root" /usr/bin/env -i PATH=/usr/bin:/bin QEMU_CPU="$cpu" "$@"; }
    fail() { echo "FAILED: $*"; exit 1; }

    cp "$deb" "$root/tmp/"
    echo "== apt-get install ./$(basename "$deb")"
    in_root apt-get install -y "/tmp/$(basename "$deb")" || fail "apt-get install"
    in_root getent passwd bitnetd || fail "no bitnetd user"
    [ "$(in_root stat -c %G /etc/bitnetd/config.json)" = bitnetd ] || fail "config.json is not the service's group"
    [ "$(stat -c %a "$root/etc/bitnetd/config.json")" = 640 ] || fail "config.json is not 0640"
    [ -L "$root/etc/systemd/system/multi-user.target.wants/bitnetd.service" ] || fail "the unit is not enabled"
    [ "$(in_root bitnetd --version)" = "$version" ] || fail "bitnetd --version"

    echo "== sudo -u bitnetd bitnetd pull, as the README says (from a server on this machine: the reference model)"
    as_bitnetd bitnetd pull "http://127.0.0.1:$port/$(basename "$ref")" --sha256 "$(sha256sum "$ref" | cut -d' ' -f1)" || fail "bitnetd pull"
    cmp "$ref" "$root/var/lib/bitnetd/models/ggml-model-i2_s.gguf" || fail "the pulled model differs"

    echo "== bitnetd info (the system's Node is $(in_root node --version))"
    info=$(in_root bitnetd info -m /var/lib/bitnetd/models/ggml-model-i2_s.gguf | sed -n '/^metadata/q;p')
    echo "$info"
    grep -qx "kernel *$kernel" <<<"$info" || fail "expected the $kernel kernels"
    grep -q "^engine *prebuild /usr/lib/bitnetd/prebuilds/" <<<"$info" || fail "not the packaged engine"
    grep -q "^node *v20\.[0-9.]* /usr/lib/bitnetd/node/bin/node$" <<<"$info" || fail "not on the Node runtime the package brings"

    echo "== the daemon, as user bitnetd, answering over its socket"
    in_root install -d -o bitnetd -g bitnetd -m 0750 /run/bitnetd
    # chroot itself in the background, not as_bitnetd (a function would be a subshell): $! must be the
    # process that becomes the daemon, for the SIGTERM below.
    chroot --userspec=bitnetd:bitnetd "$root" /usr/bin/env -i PATH=/usr/bin:/bin QEMU_CPU="$cpu" \
        RUNTIME_DIRECTORY=/run/bitnetd STATE_DIRECTORY=/var/lib/bitnetd BITNETD_MQTT_URL= BITNETD_HTTP_PORT=0 \
        BITNETD_WYOMING_PORT=0 BITNETD_LOG_FORMAT=text /usr/bin/bitnetd serve &
    pid=$!
    socket=$root/run/bitnetd/bitnetd.sock waited=0
    until [ -S "$socket" ]; do
        kill -0 "$pid" 2>/dev/null || fail "the daemon exited"
        [ $((waited += 1)) -le 300 ] || fail "no socket after 300 s"
        sleep 1
    done
    answer=$(printf '%s\n' '{"id":"deb","prompt":"Turn on the kitchen light","max_tokens":8,"temperature":0}' |
        socat -t 300 - "UNIX-CONNECT:$socket" | tail -1)
    echo "$answer"
    grep -q '"id":"deb","type":"done"' <<<"$answer" || fail "no answer over the socket"
    kill -TERM "$pid"
    wait "$pid" || fail "the daemon did not stop cleanly"
    pid=""

    echo "== apt-get remove: the configuration and the models stay"
    in_root apt-get remove -y bitnetd || fail "apt-get remove"
    [ ! -e "$root/usr/bin/bitnetd" ] || fail "/usr/bin/bitnetd is still there"
    [ -f "$root/etc/bitnetd/config.json" ] && [ -f "$root/var/lib/bitnetd/models/ggml-model-i2_s.gguf" ] || fail "remove took the config or the model"
    echo "== apt-get purge: they go"
    in_root apt-get purge -y bitnetd || fail "apt-get purge"
    [ ! -e "$root/etc/bitnetd" ] && [ ! -e "$root/var/lib/bitnetd" ] || fail "purge left /etc/bitnetd or /var/lib/bitnetd"
    [ ! -e "$root/etc/systemd/system/multi-user.target.wants/bitnetd.service" ] || fail "purge left the unit enabled"
    echo "== passed"
)

run_suite() {  # run_suite SUITE ARCH CPU KERNEL: install_test into its log, a summary line out
    local log=.cache/deb-test/$1-$2.log start=$SECONDS status=0
    install_test "$@" >"$log" 2>&1 || status=$?
    echo "test:deb: $1 $2 on $3: $([ $status -eq 0 ] && echo passed || echo FAILED) in $((SECONDS - start)) s (log $log)"
    grep -E '^(kernel|engine|node) ' "$log" | sed 's/^/    /'
    [ $status -eq 0 ] || tail -15 "$log" | sed 's/^/    | /'
    return $status
}

# The model comes over HTTP, as from Hugging Face: the reference file, served on loopback (the chroots
# share this machine's network).
port=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
python3 -m http.server --bind 127.0.0.1 --directory "$(dirname "$ref")" "$port" >.cache/deb-test/http.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null' EXIT

pids=()
for s in "${SUITES[@]}"; do
    # shellcheck disable=SC2086
    run_suite $s "$port" &
    pids+=($!)
done
failed=0
for p in "${pids[@]}"; do wait "$p" || failed=1; done
[ $failed -eq 0 ] || { echo "test:deb: FAILED" >&2; exit 1; }
echo "test:deb: the packages install, run and go away on both userlands"

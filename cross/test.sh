#!/usr/bin/env bash
# npm run test:cross: builds the prebuilds (build.sh, which checks each binary), checks that the packed
# tarball installs without a compiler (pack-test.sh), then runs the kernel tests, the engine oracle
# tests on ../shared/ref and a daemon smoke test under qemu-user with an emulated Node, for each
# Raspberry Pi CPU model, asserting the kernels each must choose:
#   arm64 on a Cortex-A72 (Pi 4: no dotprod) -> neon      arm64 on a Cortex-A76 (Pi 5) -> dotprod
#   arm   on a Cortex-A15 and a Cortex-A7 (32-bit ARMv7 with NEON) -> neon
# Emulated timings mean nothing; this is about correctness. Logs: .cache/cross/<arch>-<cpu>.log.
set -euo pipefail
cd "$(dirname "$0")/.."
source cross/targets.sh
need_commands "qemu-user-static binfmt-support" qemu-aarch64-static qemu-arm-static update-binfmts

SUITES=("arm64 cortex-a72 neon" "arm64 cortex-a76 dotprod" "arm cortex-a15 neon" "arm cortex-a7 neon")
TESTS=(dist/test/native/kernels.test.js dist/test/engine/oracle.test.js dist/test/cross/daemon-smoke.test.js)

run_suite() {  # run_suite ARCH CPU KERNEL NODE: ava under qemu, the output in the suite's log
    local arch=$1 cpu=$2 kernel=$3 node=$4 log=.cache/cross/$1-$2.log
    local start=$SECONDS status=0
    env QEMU_LD_PREFIX="/usr/${TRIPLET[$arch]}" QEMU_CPU="$cpu" BITNETD_ADDON="prebuilds/linux-$arch/bitnetd.node" \
        BITNETD_TEST_EMULATED=1 BITNETD_EXPECT_KERNEL="$kernel" \
        "$node" node_modules/ava/entrypoints/cli.mjs --timeout 10m "${TESTS[@]}" >"$log" 2>&1 || status=$?
    local summary
    summary=$(grep -E '^\s+[0-9]+ tests? (passed|failed)|known failure|uncaught|timed out' "$log" | tr -s ' ' | tr '\n' ';')
    echo "test:cross: linux-$arch on $cpu, expecting $kernel kernels: ${summary:-no summary} ($((SECONDS - start)) s, log $log)"
    grep -hE 'kernels on this CPU|kernel [a-z0-9]+, head' "$log" | sed 's/^ *ℹ/    /' | sort -u
    return $status
}

cross/build.sh
cross/pack-test.sh
npx tsc -p .
# ava runs each test file in a child process and the loader probes the addon in another: an emulated
# Node starting an ARM binary needs the kernel's binfmt_misc entries for qemu.
enable_binfmt
mkdir -p .cache/cross
ulimit -c 0  # qemu would drop a core file into the working folder for every crash
declare -A NODE=([arm64]=$(cross/fetch-node.sh arm64) [arm]=$(cross/fetch-node.sh arm))

# Two suites at a time (one per core; a suite is mostly one emulated thread). One 64-bit and one 32-bit.
failed=0
for pair in "0 2" "1 3"; do
    pids=()
    for i in $pair; do
        read -r arch cpu kernel <<<"${SUITES[$i]}"
        run_suite "$arch" "$cpu" "$kernel" "${NODE[$arch]}" &
        pids+=($!)
    done
    for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
done
[ $failed -eq 0 ] || { echo "test:cross: FAILED (see the logs above)" >&2; exit 1; }
echo "test:cross: all emulated suites passed"

#!/usr/bin/env bash
# check-binary.sh ADDON ARCH: fails unless the addon is built for ARCH, contains its SIMD kernels and
# needs nothing newer than Raspberry Pi OS bullseye has: glibc 2.31, GCC 10's libstdc++ (GLIBCXX
# 3.4.28, CXXABI 1.3.12), and no shared library beyond the C and C++ runtimes.
set -euo pipefail
cd "$(dirname "$0")/.."
source cross/targets.sh
addon=$1 arch=$2

objdump=objdump
[ "$arch" = "$(host_arch)" ] || objdump=${TRIPLET[$arch]}-objdump
fail() { echo "check-binary: $addon: $*" >&2; exit 1; }
machine=$(readelf -h "$addon" | sed -n 's/^ *Machine: *//p')
declare -A MACHINE=([arm64]=AArch64 [arm]=ARM [x64]="Advanced Micro Devices X86-64")
[ "$machine" = "${MACHINE[$arch]}" ] || fail "built for $machine, not $arch"

disassembly=$($objdump -d --no-show-raw-insn "$addon")
counts=()
for insn in ${REQUIRED_INSNS[$arch]}; do
    n=$(grep -cE "[[:space:]]$insn[[:space:]]" <<<"$disassembly" || true)
    [ "$n" -gt 0 ] || fail "no $insn instruction: its SIMD kernels were not compiled in"
    counts+=("$insn x$n")
done

symbols=$($objdump -T "$addon")
newest() { grep -oE "\($1[0-9.]+\)|[[:space:]]$1[0-9.]+[[:space:]]" <<<"$symbols" | tr -d '() \t' | sed "s/^$1//" | sort -V | tail -1; }
too_new() { [ -n "$1" ] && [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | tail -1)" != "$2" ]; }
glibc=$(newest GLIBC_) glibcxx=$(newest GLIBCXX_) cxxabi=$(newest CXXABI_)
too_new "$glibc" 2.31 && fail "needs GLIBC_$glibc (bullseye has 2.31): $(grep "GLIBC_$glibc" <<<"$symbols" | awk '{print $NF}' | tr '\n' ' ')"
too_new "$glibcxx" 3.4.28 && fail "needs GLIBCXX_$glibcxx (bullseye has 3.4.28): $(grep "GLIBCXX_$glibcxx" <<<"$symbols" | awk '{print $NF}' | tr '\n' ' ')"
too_new "$cxxabi" 1.3.12 && fail "needs CXXABI_$cxxabi (bullseye has 1.3.12)"

needed=$($objdump -p "$addon" | awk '/NEEDED/ {print $2}' | tr '\n' ' ')
for lib in $needed; do
    [[ $lib =~ ^(libc|libm|libstdc\+\+|libgcc_s|ld-linux.*)\.so ]] || fail "needs $lib, which a plain Raspberry Pi OS may lack"
done
echo "check-binary: $addon: $arch, ${counts[*]}, GLIBC_${glibc:-none} GLIBCXX_${glibcxx:-none} CXXABI_${cxxabi:-none}, needs $needed"

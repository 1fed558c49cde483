#!/usr/bin/env bash
# rootfs.sh SUITE ARCH: prints the path of a Debian SUITE root file system for ARCH (arm64, armhf),
# the userland Raspberry Pi OS is built from, with Debian's own (older) Node.js in it as Raspberry Pi OS
# has, made once with debootstrap under qemu-user and kept as a tarball in .cache/rootfs/ (2-3 minutes
# to make, seconds to unpack). Each call unpacks a fresh copy into .cache/rootfs/SUITE-ARCH/, so a test
# never sees what an earlier one installed.
# Needs root (debootstrap and chroot), debootstrap, and qemu-user-static with its binfmt entries.
set -euo pipefail
cd "$(dirname "$0")/../.."
source cross/targets.sh
suite=$1 arch=$2
mirror=${BITNETD_DEBIAN_MIRROR:-http://deb.debian.org/debian}
cache=$PWD/.cache/rootfs
tarball=$cache/$suite-$arch.tar
dir=$cache/$suite-$arch
mkdir -p "$cache"

if [ ! -f "$tarball" ]; then
    need_commands debootstrap debootstrap
    enable_binfmt
    tmp=$cache/$suite-$arch.making
    rm -rf --one-file-system "$tmp"
    # minbase: dpkg, apt and the essential set, as a stripped-down Raspberry Pi OS Lite; the second
    # stage runs the ARCH binaries under qemu through binfmt_misc.
    debootstrap --foreign --variant=minbase --include=nodejs --arch="$arch" "$suite" "$tmp" "$mirror" >"$cache/$suite-$arch.log" 2>&1 ||
        { tail -20 "$cache/$suite-$arch.log" >&2; exit 1; }
    chroot "$tmp" /debootstrap/debootstrap --second-stage >>"$cache/$suite-$arch.log" 2>&1 ||
        { tail -20 "$cache/$suite-$arch.log" >&2; exit 1; }
    echo "deb $mirror $suite main" >"$tmp/etc/apt/sources.list"
    # Package lists, so that installing a .deb can fetch what it depends on, as on a real system.
    chroot "$tmp" /usr/bin/apt-get update >>"$cache/$suite-$arch.log" 2>&1 ||
        { tail -20 "$cache/$suite-$arch.log" >&2; exit 1; }
    tar -C "$tmp" -cf "$tarball.part" . && mv "$tarball.part" "$tarball"
    rm -rf --one-file-system "$tmp"
fi
# A test that died may have left /proc mounted in the old copy: unmount it, and never delete across
# a mount point.
{ findmnt -rno TARGET | grep "^$dir/" || true; } | sort -r | xargs -r umount -l
rm -rf --one-file-system "$dir"
mkdir -p "$dir"
tar -C "$dir" -xf "$tarball"
echo "$dir"

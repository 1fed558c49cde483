// Picks the kernel set at run time from what the CPU reports, never from build flags, so one binary
// serves every CPU of its architecture. BITNETD_KERNEL=<name> forces a set (for tests and benchmarks).
#include <cstdlib>
#if defined(__aarch64__) || defined(__arm__)
#include <sys/auxv.h>
#endif
#include <cstring>
#include <stdexcept>
#include <string>

#include "kernels.h"

namespace {

bool supported(const Kernels* k) {
    if (k == &kKernelsScalar) return true;
#if defined(__x86_64__)
    __builtin_cpu_init();
    const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
    if (k == &kKernelsAvx2) return avx2;
    if (k == &kKernelsAvx512Vnni)
        return avx2 && __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vl") &&
               __builtin_cpu_supports("avx512bw");
#endif
#if defined(__aarch64__)
    const unsigned long hwcap = getauxval(AT_HWCAP);
    if (k == &kKernelsNeon) return hwcap & (1UL << 1);         // HWCAP_ASIMD (always on AArch64)
    if (k == &kKernelsDotprod) return hwcap & (1UL << 20);     // HWCAP_ASIMDDP
#elif defined(__arm__)
    const unsigned long hwcap = getauxval(AT_HWCAP);
    if (k == &kKernelsNeon) return (hwcap & (1UL << 12)) && (hwcap & (1UL << 16));  // HWCAP_NEON, HWCAP_VFPv4
#endif
    return false;
}

// Best first.
const Kernels* const kAll[] = {
#if defined(__x86_64__)
    &kKernelsAvx512Vnni,
    &kKernelsAvx2,
#endif
#if defined(__aarch64__)
    &kKernelsDotprod,
#endif
#if defined(__aarch64__) || defined(__arm__)
    &kKernelsNeon,
#endif
    &kKernelsScalar,
};

const Kernels& choose() {
    if (const char* forced = std::getenv("BITNETD_KERNEL"); forced && *forced) {
        if (const Kernels* k = kernels_find(forced)) return *k;
        std::string names;
        for (const Kernels* k : kernels_available()) names += std::string(names.empty() ? "" : ", ") + k->name;
        throw std::runtime_error(std::string("BITNETD_KERNEL=") + forced + " is not a kernel this CPU runs (available: " + names + ")");
    }
    for (const Kernels* k : kAll)
        if (supported(k)) return *k;
    return kKernelsScalar;
}

}  // namespace

const Kernels* kernels_find(const char* name) {
    for (const Kernels* k : kAll)
        if (std::strcmp(k->name, name) == 0 && supported(k)) return k;
    return nullptr;
}

std::vector<const Kernels*> kernels_available() {
    std::vector<const Kernels*> out{&kKernelsScalar};
    for (const Kernels* k : kAll)
        if (k != &kKernelsScalar && supported(k)) out.push_back(k);
    return out;
}

const Kernels& kernels_active() {
    static const Kernels& active = choose();
    return active;
}

// Picks the kernel set at run time from what the CPU reports (each set's cpu_supports, beside its
// kernels), never from build flags, so one binary serves every CPU of its architecture.
// BITNETD_KERNEL=<name> forces a set (for tests and benchmarks).
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

#include "kernels.h"

namespace {

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
        if (k->cpu_supports()) return *k;
    return kKernelsScalar;
}

}  // namespace

const Kernels* kernels_find(const char* name) {
    for (const Kernels* k : kAll)
        if (std::strcmp(k->name, name) == 0 && k->cpu_supports()) return k;
    return nullptr;
}

std::vector<const Kernels*> kernels_available() {
    std::vector<const Kernels*> out{&kKernelsScalar};
    for (const Kernels* k : kAll)
        if (k != &kKernelsScalar && k->cpu_supports()) out.push_back(k);
    return out;
}

const Kernels& kernels_active() {
    static const Kernels& active = choose();
    return active;
}

#include "weight_arena.h"

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <sys/mman.h>
#include <unistd.h>
#include <utility>

namespace {
constexpr size_t kHugePage = 2u << 20;
}

WeightArena::WeightArena(size_t bytes) {
    size = (bytes + kHugePage - 1) / kHugePage * kHugePage;
    void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        throw std::runtime_error("cannot reserve " + std::to_string(size >> 20) + " MB for the weights (" + std::strerror(errno) + ")");
    base = static_cast<uint8_t*>(p);
#ifdef MADV_HUGEPAGE
    madvise(base, size, MADV_HUGEPAGE);  // advice only: without transparent huge pages it still works
#endif
}

WeightArena::~WeightArena() {
    if (base) munmap(base, size);
}

WeightArena::WeightArena(WeightArena&& o) noexcept
    : base(std::exchange(o.base, nullptr)), size(std::exchange(o.size, 0)), used(std::exchange(o.used, 0)) {}

WeightArena& WeightArena::operator=(WeightArena&& o) noexcept {
    if (this != &o) {
        if (base) munmap(base, size);
        base = std::exchange(o.base, nullptr);
        size = std::exchange(o.size, 0);
        used = std::exchange(o.used, 0);
    }
    return *this;
}

uint8_t* WeightArena::take(size_t bytes) {
    const size_t at = (used + 63) & ~size_t(63);
    if (at + bytes > size) throw std::logic_error("weight arena overflow");
    used = at + bytes;
    return base + at;
}

void release_mapped_range(const void* p, size_t bytes) {
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);
    uintptr_t lo = ((uintptr_t)p + page - 1) / page * page;  // only whole pages inside the range
    const uintptr_t hi = ((uintptr_t)p + bytes) / page * page;
    if (hi > lo) madvise((void*)lo, hi - lo, MADV_DONTNEED);
}

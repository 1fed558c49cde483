// std::vector whose data starts on a cache line. The SIMD kernels read activations 64 bytes at a time,
// and a load that straddles two cache lines costs about two: a 16-byte-aligned activation buffer, as
// malloc may hand out, made one-thread decoding 1.75x slower than a 64-byte-aligned one.
#pragma once
#include <cstddef>
#include <new>
#include <vector>

template <typename T>
struct CacheLineAllocator {
    using value_type = T;
    static constexpr std::align_val_t kAlign{64};
    CacheLineAllocator() = default;
    template <typename U>
    CacheLineAllocator(const CacheLineAllocator<U>&) {}
    T* allocate(size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), kAlign)); }
    void deallocate(T* p, size_t) { ::operator delete(p, kAlign); }
    template <typename U>
    bool operator==(const CacheLineAllocator<U>&) const { return true; }
    template <typename U>
    bool operator!=(const CacheLineAllocator<U>&) const { return false; }
};

template <typename T>
using AlignedVector = std::vector<T, CacheLineAllocator<T>>;

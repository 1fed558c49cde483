// Zero-filled memory whose pages become resident only when first written, in small pages: the KV cache
// reserves room for the whole context, but costs memory only for the positions actually used. (A
// std::vector would write every zero up front; huge pages would make each first touch cost 2 MB.)
#pragma once
#include <sys/mman.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <new>
#include <utility>

template <typename T>
class LazyPages {
public:
    LazyPages() = default;
    explicit LazyPages(size_t count) : count_(count) {
        if (count == 0) return;
        void* p = mmap(nullptr, bytes(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) throw std::bad_alloc();
#ifdef MADV_NOHUGEPAGE
        madvise(p, bytes(), MADV_NOHUGEPAGE);
#endif
        data_ = static_cast<T*>(p);
    }
    ~LazyPages() {
        if (data_) munmap(data_, bytes());
    }
    LazyPages(LazyPages&& o) noexcept : data_(std::exchange(o.data_, nullptr)), count_(std::exchange(o.count_, 0)) {}
    LazyPages& operator=(LazyPages&& o) noexcept {
        std::swap(data_, o.data_);
        std::swap(count_, o.count_);
        return *this;
    }
    LazyPages(const LazyPages&) = delete;
    LazyPages& operator=(const LazyPages&) = delete;

    T* data() { return data_; }
    const T* data() const { return data_; }
    size_t size() const { return count_; }
    T& operator[](size_t i) { return data_[i]; }
    const T& operator[](size_t i) const { return data_[i]; }

    // Gives elements [from, from + n) back to the system, whole pages only: they read as zeros again
    // and cost no memory until written (a KV cache cut back to a shorter prefix).
    void release(size_t from, size_t n) {
        const uintptr_t page = 4096;
        const uintptr_t lo = ((uintptr_t)(data_ + from) + page - 1) / page * page;
        const uintptr_t hi = (uintptr_t)(data_ + std::min(count_, from + n)) / page * page;
        if (hi > lo) madvise((void*)lo, hi - lo, MADV_DONTNEED);
    }

private:
    size_t bytes() const { return count_ * sizeof(T); }
    T* data_ = nullptr;
    size_t count_ = 0;
};

// Anonymous memory for the weights the forward pass streams every token, backed by huge pages where
// the kernel allows: reading 1 GB per token through 4 KB file pages costs a TLB miss every 4 KB.
#pragma once
#include <cstddef>
#include <cstdint>

struct WeightArena {
    uint8_t* base = nullptr;
    size_t size = 0;
    size_t used = 0;

    WeightArena() = default;
    explicit WeightArena(size_t bytes);  // throws std::runtime_error when the memory is not there
    ~WeightArena();
    WeightArena(WeightArena&& other) noexcept;
    WeightArena& operator=(WeightArena&& other) noexcept;
    WeightArena(const WeightArena&) = delete;
    WeightArena& operator=(const WeightArena&) = delete;

    // The next `bytes`, 64-byte aligned (the caller reserved enough in the constructor).
    uint8_t* take(size_t bytes);
};

// Drops a read-only file mapping's pages for [p, p + bytes) from this process (they stay in the page
// cache for the kernel to reclaim), so that copied weights are not resident twice.
void release_mapped_range(const void* p, size_t bytes);

// Runs a kernel body with the tile's token count as a compile-time constant, so the kernel's per-token
// accumulators can live in registers: with_tile(n, [&](auto T) { kernel<decltype(T)::value>(...); }).
#pragma once
#include <cstdint>
#include <type_traits>

#include "kernels.h"

// with_constant<Max>(n, body) calls body with n (1..Max; more counts as Max) as a compile-time constant.
template <uint32_t Max, typename Body>
inline void with_constant(uint32_t n, Body body) {
    if constexpr (Max > 1) {
        if (n < Max) return with_constant<Max - 1>(n, body);
    }
    body(std::integral_constant<uint32_t, Max>{});
}

template <typename Body>
inline void with_tile(uint32_t n_tokens, Body body) {
    with_constant<kMaxTileTokens>(n_tokens, body);
}

// A multi-row call (I2sDotFn) for kernels that compute one row at a time: row_tile(row, dots) fills
// dots[t] for the call's tokens, and the results are scattered into out's [token][row] layout.
template <typename RowTile>
inline void for_each_row(const uint8_t* rows, uint32_t n_rows, uint32_t k, uint32_t n_tokens, int32_t* out, size_t out_stride,
                         RowTile row_tile) {
    int32_t dots[kMaxTileTokens];
    for (uint32_t r = 0; r < n_rows; ++r) {
        row_tile(rows + (size_t)r * (k / 4), dots);
        for (uint32_t t = 0; t < n_tokens; ++t) out[t * out_stride + r] = dots[t];
    }
}

// Runs a kernel body with the tile's token count as a compile-time constant, so the kernel's per-token
// accumulators can live in registers: with_tile(n, [&](auto T) { kernel<decltype(T)::value>(...); }).
#pragma once
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "../fp16.h"
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

// The attention scores' blocking (AttnScoresFn), shared by the SIMD sets: up to 4 query rows by 8 / rows
// keys a tile, so that a decoding step (one row) takes 8 keys at once. tile(R, K, i0, j0) gets the
// tile's rows and keys as compile-time constants and its first row and key.
template <typename Tile>
inline void for_each_score_tile(uint32_t n_q, uint32_t n_k, Tile tile) {
    for (uint32_t i0 = 0; i0 < n_q; i0 += 4)
        with_constant<4>(n_q - i0, [&](auto R) {
            constexpr uint32_t kKeys = 8 / decltype(R)::value;
            for (uint32_t j0 = 0; j0 < n_k; j0 += kKeys) with_constant<kKeys>(n_k - j0, [&](auto K) { tile(R, K, i0, j0); });
        });
}

// The attention values' blocking (AttnValuesFn): up to 4 rows by 16 / rows chunks of Lanes dimensions a
// tile; tile(R, C, i0, d) as above. Dimensions past the last whole chunk are summed here, in key order
// like the tiles, so that every element takes the same sequence of FMAs.
template <uint32_t Lanes, typename Tile>
inline void for_each_value_tile(const float* p, size_t p_stride, const uint32_t* n_keys, uint32_t n_q, const uint16_t* v, size_t v_stride,
                                uint32_t dim, float* out, Tile tile) {
    const uint32_t whole = dim / Lanes * Lanes;
    for (uint32_t i0 = 0; i0 < n_q; i0 += 4)
        with_constant<4>(n_q - i0, [&](auto R) {
            constexpr uint32_t kChunks = 16 / decltype(R)::value;
            for (uint32_t d = 0; d < whole; d += Lanes * kChunks) with_constant<kChunks>((dim - d) / Lanes, [&](auto C) { tile(R, C, i0, d); });
        });
    for (uint32_t i = 0; i < n_q; ++i)
        for (uint32_t j = 0; j < n_keys[i]; ++j)
            for (uint32_t e = whole; e < dim; ++e)
                out[(size_t)i * dim + e] = std::fma(p[i * p_stride + j], fp16_to_fp32(v[j * v_stride + e]), out[(size_t)i * dim + e]);
}

// Runs a kernel body with the tile's token count as a compile-time constant, so the kernel's per-token
// accumulators can live in registers: with_tile(n, [&](auto T) { kernel<decltype(T)::value>(...); }).
#pragma once
#include <cstdint>
#include <type_traits>

#include "kernels.h"

template <typename Body>
inline void with_tile(uint32_t n_tokens, Body body) {
    static_assert(kMaxTileTokens == 8, "one case per tile size");
    switch (n_tokens) {
        case 1: return body(std::integral_constant<uint32_t, 1>{});
        case 2: return body(std::integral_constant<uint32_t, 2>{});
        case 3: return body(std::integral_constant<uint32_t, 3>{});
        case 4: return body(std::integral_constant<uint32_t, 4>{});
        case 5: return body(std::integral_constant<uint32_t, 5>{});
        case 6: return body(std::integral_constant<uint32_t, 6>{});
        case 7: return body(std::integral_constant<uint32_t, 7>{});
        default: return body(std::integral_constant<uint32_t, 8>{});
    }
}

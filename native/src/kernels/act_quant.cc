#include <algorithm>
#include <cmath>

#include "act_quant.h"

void acts_resize(QuantizedActs& out, uint32_t n_tokens, uint32_t k) {
    out.n_tokens = n_tokens;
    out.k = k;
    out.q.resize((size_t)n_tokens * k);
    out.scale.resize(n_tokens);
    out.qsum.resize(n_tokens);
}

// Rounds half to even in the default rounding mode, like nearbyint and ggml's nearest_int, for
// |v| < 2^22: the sum with 1.5 * 2^23 (even) has no fraction bits left, so the addition itself rounds.
// Baseline x86-64 has no rounding instruction: nearbyint was a library call per element.
static inline float round_half_even(float v) {
    constexpr float kMagic = 12582912.0f;
    return (v + kMagic) - kMagic;
}

// max |x[i]|, in eight running maxima side by side (n is a multiple of 32 in every model): one chain
// waited 4 cycles per element. The maximum is exact in any order.
static float abs_max(const float* x, uint32_t n) {
    float lane_max[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    uint32_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; ++j) lane_max[j] = std::max(lane_max[j], std::fabs(x[i + j]));
    float amax = 0;
    for (; i < n; ++i) amax = std::max(amax, std::fabs(x[i]));
    for (float m : lane_max) amax = std::max(amax, m);
    return amax;
}

void quantize_activation_row(const float* x, uint32_t t, QuantizedActs& out) {
    const uint32_t k = out.k;
    const float* xt = x + (size_t)t * k;
    int8_t* qt = out.q.data() + (size_t)t * k;
    // The float maximum converts exactly: the same s as a maximum taken in double.
    const float s = (float)(127.0 / std::max((double)abs_max(xt, k), 1e-5));
    int32_t sum = 0;
    for (uint32_t i = 0; i < k; ++i) {
        const float r = round_half_even(xt[i] * s);
        qt[i] = (int8_t)std::min(127.0f, std::max(-128.0f, r));
        sum += qt[i];
    }
    out.scale[t] = s;
    out.qsum[t] = sum;
}

void quantize_q8_blocks(const float* x, uint32_t n_tokens, uint32_t k, int8_t* q, float* scale, float* sum) {
    for (uint32_t t = 0; t < n_tokens; ++t) {
        int8_t* qt = q + (size_t)t * 2 * k;
        int8_t* rt = qt + k;
        for (uint32_t b = 0; b < k / 32; ++b) {
            const float* xb = x + (size_t)t * k + b * 32;
            const float s = abs_max(xb, 32) / 127.0f;
            const float inv = s > 0 ? 1.0f / s : 0.0f;
            for (int i = 0; i < 32; ++i) {
                const float v = std::nearbyint(xb[i] * inv);
                qt[b * 32 + i] = (int8_t)v;
                // The residual lies in [-s/2, s/2]: 254 steps of s/254 cover it.
                rt[b * 32 + i] = (int8_t)std::max(-127.0f, std::min(127.0f, std::nearbyint((xb[i] * inv - v) * 254.0f)));
            }
            scale[(size_t)t * (k / 32) + b] = s / 254.0f;
        }
    }
    q8_block_sums(q, scale, n_tokens, k, sum);
}

void q8_block_sums(const int8_t* q, const float* scale, uint32_t n_tokens, uint32_t k, float* sum) {
    for (uint32_t t = 0; t < n_tokens; ++t) {
        const int8_t* qt = q + (size_t)t * 2 * k;
        for (uint32_t b = 0; b < k / 32; ++b) {
            int32_t sq = 0, sr = 0;
            for (uint32_t i = b * 32; i < b * 32 + 32; ++i) {
                sq += qt[i];
                sr += qt[k + i];
            }
            const size_t at = (size_t)t * (k / 32) + b;
            sum[at] = scale[at] * (float)(254 * sq + sr);
        }
    }
}

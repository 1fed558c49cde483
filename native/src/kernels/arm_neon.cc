// ARM Advanced SIMD (NEON) kernels, for AArch64 and for 32-bit ARMv7 with NEON and VFPv4 (Raspberry Pi
// 2 and later running 32-bit Raspberry Pi OS). The intrinsics are the same on both; the few AArch64-only
// ones are behind __aarch64__. Chosen when getauxval(AT_HWCAP) reports NEON (always on AArch64).
#include <arm_neon.h>
#include <sys/auxv.h>

#include <algorithm>
#include <cmath>

#include "arm_shared.h"
#include "kernels.h"
#include "tile.h"

namespace {

// lo += low halves of a * b, hi += high halves (int8 products widened into int16). AArch64's SMLAL2
// reads the high halves in place; spelled with vget_high there, GCC copies each one out first (a DUP
// per product, and spills in the 8-token tile). ARMv7 addresses the halves as d registers: no copy.
static inline void mlal_halves(int16x8_t& lo, int16x8_t& hi, int8x16_t a, int8x16_t b) {
    lo = vmlal_s8(lo, vget_low_s8(a), vget_low_s8(b));
#if defined(__aarch64__)
    hi = vmlal_high_s8(hi, a, b);
#else
    hi = vmlal_s8(hi, vget_high_s8(a), vget_high_s8(b));
#endif
}

// The same without the accumulators: lo = low halves of a * b, hi = high halves.
static inline void mull_halves(int16x8_t& lo, int16x8_t& hi, int8x16_t a, int8x16_t b) {
    lo = vmull_s8(vget_low_s8(a), vget_low_s8(b));
#if defined(__aarch64__)
    hi = vmull_high_s8(a, b);
#else
    hi = vmull_s8(vget_high_s8(a), vget_high_s8(b));
#endif
}

// Per 128-element block: eight vectors of 16 biased codes (arm_shared.h) times the activations with
// widening multiply-accumulates into int16 lanes, widened into int32 once per block. A lane gathers 8
// products of at most 2 * 128 per block, far from int16's limit.
template <uint32_t T>
void i2s_dot_tile(const uint8_t* row, const int8_t* q, size_t q_stride, const int32_t* qsum, uint32_t k, int32_t* out) {
    int32x4_t acc[T];
    for (uint32_t t = 0; t < T; ++t) acc[t] = vdupq_n_s32(0);
    for (uint32_t b = 0; b < k / 128; ++b) {
        int8x16_t c[8];
        decode_block_neon(row + b * 32, c);
        for (uint32_t t = 0; t < T; ++t) {
            const int8_t* qb = q + t * q_stride + b * 128;
            int16x8_t lo = vdupq_n_s16(0), hi = vdupq_n_s16(0);
            for (int v = 0; v < 8; ++v) mlal_halves(lo, hi, c[v], vld1q_s8(qb + 16 * v));
            acc[t] = vpadalq_s16(vpadalq_s16(acc[t], lo), hi);
        }
    }
    for (uint32_t t = 0; t < T; ++t) out[t] = hsum_s32(acc[t]) - qsum[t];
}

void i2s_dot(const uint8_t* rows, uint32_t n_rows, const int8_t* q, size_t q_stride, const int32_t* qsum, uint32_t k,
             uint32_t n_tokens, int32_t* out, size_t out_stride) {
    with_tile(n_tokens, [&](auto T) {
        for_each_row(rows, n_rows, k, n_tokens, out, out_stride,
                     [&](const uint8_t* row, int32_t* dots) { i2s_dot_tile<decltype(T)::value>(row, q, q_stride, qsum, k, dots); });
    });
}

// Per block of 32: int8 products of at most 127 * 127, two per int16 lane (vmull then vmlal) before
// widening, which stays below 32767. 254 * w.q + w.r then scales the block in float.
void q8_dot(const int8_t* w, const float* ws, const int8_t* xq, const float* xs, const float*, uint32_t k, uint32_t n_tokens, float* out) {
    auto dot32 = [](int8x16_t w0, int8x16_t w1, const int8_t* x) {
        const int8x16_t x0 = vld1q_s8(x), x1 = vld1q_s8(x + 16);
        int16x8_t p0, p1;
        mull_halves(p0, p1, w0, x0);
        mlal_halves(p0, p1, w1, x1);
        return vpadalq_s16(vpaddlq_s16(p0), p1);
    };
    q8_dot_blocks_neon(w, ws, xq, xs, k, n_tokens, out, [&](int8x16_t w0, int8x16_t w1, const int8_t* qb, const int8_t* rb) {
        return vmlaq_n_s32(dot32(w0, w1, rb), dot32(w0, w1, qb), 254);
    });
}

bool cpu_supports() {
#if defined(__aarch64__)
    return getauxval(AT_HWCAP) & (1UL << 1);  // HWCAP_ASIMD (always on AArch64)
#else
    const unsigned long hwcap = getauxval(AT_HWCAP);
    return (hwcap & (1UL << 12)) && (hwcap & (1UL << 16));  // HWCAP_NEON, HWCAP_VFPv4
#endif
}

}  // namespace

// F16 rows: widen four halves at a time to float and fuse the multiply-add (VFPv4 on ARMv7). Two
// accumulators per token hide the FMA latency; the tail is scalar.
void f16_dot_neon(const uint16_t* e, const float* x, size_t x_stride, uint32_t k, uint32_t n_tokens, float* out) {
    for (uint32_t t = 0; t < n_tokens; ++t) {
        const float* xt = x + t * x_stride;
        float32x4_t acc0 = vdupq_n_f32(0), acc1 = vdupq_n_f32(0);
        uint32_t i = 0;
        for (; i + 8 <= k; i += 8) {
            acc0 = vfmaq_f32(acc0, half_to_float4(e + i), vld1q_f32(xt + i));
            acc1 = vfmaq_f32(acc1, half_to_float4(e + i + 4), vld1q_f32(xt + i + 4));
        }
        float sum = hsum_f32(vaddq_f32(acc0, acc1));
        for (; i < k; ++i) sum += half_to_float(e[i]) * xt[i];
        out[t] = sum;
    }
}

// Attention scores, a tile of R query rows by K keys (R * K <= 8 chains); each converted K chunk serves
// the tile's rows. A pair's sum is one 4-lane accumulator over the dimension in order, hsum_f32, then a
// fused scalar tail: the same sequence whatever the tile.
template <uint32_t R, uint32_t K>
static void scores_tile(const float* q, uint32_t dim, const uint16_t* k, size_t k_stride, float* s, size_t s_stride) {
    float32x4_t acc[R][K];
    for (uint32_t r = 0; r < R; ++r)
        for (uint32_t j = 0; j < K; ++j) acc[r][j] = vdupq_n_f32(0);
    uint32_t d = 0;
    for (; d + 4 <= dim; d += 4) {
        float32x4_t kc[K];
        for (uint32_t j = 0; j < K; ++j) kc[j] = half_to_float4(k + j * k_stride + d);
        for (uint32_t r = 0; r < R; ++r) {
            const float32x4_t qc = vld1q_f32(q + (size_t)r * dim + d);
            for (uint32_t j = 0; j < K; ++j) acc[r][j] = vfmaq_f32(acc[r][j], qc, kc[j]);
        }
    }
    for (uint32_t r = 0; r < R; ++r)
        for (uint32_t j = 0; j < K; ++j) {
            float sum = hsum_f32(acc[r][j]);
            for (uint32_t e = d; e < dim; ++e) sum = std::fma(q[(size_t)r * dim + e], half_to_float(k[j * k_stride + e]), sum);
            s[r * s_stride + j] = sum;
        }
}

void attn_scores_neon(const float* q, uint32_t n_q, const uint16_t* k, size_t k_stride, uint32_t n_k, uint32_t dim, float* s, size_t s_stride) {
    for_each_score_tile(n_q, n_k, [&](auto R, auto K, uint32_t i0, uint32_t j0) {
        scores_tile<decltype(R)::value, decltype(K)::value>(q + (size_t)i0 * dim, dim, k + j0 * k_stride, k_stride, s + i0 * s_stride + j0, s_stride);
    });
}

// Attention's weighted sum of values, a tile of R rows by C chunks of 4 dimensions (R * C <= 16
// accumulators); each converted V chunk serves the tile's rows. Element d of row i takes its products
// in key order, one FMA each: the same sequence whatever the tile.
template <uint32_t R, uint32_t C>
static void values_tile(const float* p, size_t p_stride, const uint32_t* n_keys, const uint16_t* v, size_t v_stride, uint32_t dim,
                        float* out) {
    float32x4_t acc[R][C];
    uint32_t most = 0;
    for (uint32_t r = 0; r < R; ++r) {
        most = std::max(most, n_keys[r]);
        for (uint32_t c = 0; c < C; ++c) acc[r][c] = vld1q_f32(out + (size_t)r * dim + 4 * c);
    }
    for (uint32_t j = 0; j < most; ++j) {
        float32x4_t vc[C];
        for (uint32_t c = 0; c < C; ++c) vc[c] = half_to_float4(v + j * v_stride + 4 * c);
        for (uint32_t r = 0; r < R; ++r) {
            if (j >= n_keys[r]) continue;  // rows of earlier tokens see fewer keys
            const float32x4_t a = vdupq_n_f32(p[r * p_stride + j]);
            for (uint32_t c = 0; c < C; ++c) acc[r][c] = vfmaq_f32(acc[r][c], a, vc[c]);
        }
    }
    for (uint32_t r = 0; r < R; ++r)
        for (uint32_t c = 0; c < C; ++c) vst1q_f32(out + (size_t)r * dim + 4 * c, acc[r][c]);
}

void attn_values_neon(const float* p, size_t p_stride, const uint32_t* n_keys, uint32_t n_q, const uint16_t* v, size_t v_stride,
                      uint32_t dim, float* out) {
    for_each_value_tile<4>(p, p_stride, n_keys, n_q, v, v_stride, dim, out, [&](auto R, auto C, uint32_t i0, uint32_t d) {
        values_tile<decltype(R)::value, decltype(C)::value>(p + i0 * p_stride, p_stride, n_keys + i0, v + d, v_stride, dim, out + (size_t)i0 * dim + d);
    });
}

// The file's ternary layout serves as it is: its 32-byte blocks split into two 16-byte vectors.
const Kernels kKernelsNeon = {"neon", cpu_supports, nullptr, i2s_dot, f16_dot_neon, attn_scores_neon, attn_values_neon, q8_dot};

// ARM Advanced SIMD (NEON) kernels, for AArch64 and for 32-bit ARMv7 with NEON and VFPv4 (Raspberry Pi
// 2 and later running 32-bit Raspberry Pi OS). The intrinsics are the same on both; the few AArch64-only
// ones are behind __aarch64__. Chosen when getauxval(AT_HWCAP) reports NEON (always on AArch64).
#include <arm_neon.h>

#include "arm_shared.h"
#include "kernels.h"
#include "tile.h"

namespace {

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
            for (int v = 0; v < 8; ++v) {
                const int8x16_t x = vld1q_s8(qb + 16 * v);
                lo = vmlal_s8(lo, vget_low_s8(c[v]), vget_low_s8(x));
                hi = vmlal_s8(hi, vget_high_s8(c[v]), vget_high_s8(x));
            }
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
        const int16x8_t p0 = vmlal_s8(vmull_s8(vget_low_s8(w0), vget_low_s8(x0)), vget_high_s8(w0), vget_high_s8(x0));
        const int16x8_t p1 = vmlal_s8(vmull_s8(vget_low_s8(w1), vget_low_s8(x1)), vget_high_s8(w1), vget_high_s8(x1));
        return vpadalq_s16(vpaddlq_s16(p0), p1);
    };
    q8_dot_blocks_neon(w, ws, xq, xs, k, n_tokens, out, [&](int8x16_t w0, int8x16_t w1, const int8_t* qb, const int8_t* rb) {
        return vmlaq_n_s32(dot32(w0, w1, rb), dot32(w0, w1, qb), 254);
    });
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

void f16_axpy_neon(float a, const uint16_t* v, float* y, uint32_t k) {
    const float32x4_t va = vdupq_n_f32(a);
    uint32_t i = 0;
    for (; i + 4 <= k; i += 4) vst1q_f32(y + i, vfmaq_f32(vld1q_f32(y + i), va, half_to_float4(v + i)));
    for (; i < k; ++i) y[i] += a * half_to_float(v[i]);
}

// The file's ternary layout serves as it is: its 32-byte blocks split into two 16-byte vectors.
const Kernels kKernelsNeon = {"neon", nullptr, i2s_dot, f16_dot_neon, f16_axpy_neon, q8_dot};

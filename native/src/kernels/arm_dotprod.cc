// AArch64 dot-product kernels (SDOT, Armv8.2 FEAT_DotProd: Raspberry Pi 5's Cortex-A76; not the Pi 4's
// A72). Built with -march=armv8.2-a+dotprod and only called when getauxval(AT_HWCAP) has HWCAP_ASIMDDP.
#include <arm_neon.h>
#include <sys/auxv.h>

#include "arm_shared.h"
#include "kernels.h"
#include "tile.h"

namespace {

// SDOT multiplies four int8 pairs and adds them into an int32 lane in one instruction: the biased codes
// (0..2) against the activations, 16 multiply-adds per instruction, no int16 stage to overflow.
template <uint32_t T>
void i2s_dot_tile(const uint8_t* row, const int8_t* q, size_t q_stride, const int32_t* qsum, uint32_t k, int32_t* out) {
    int32x4_t acc[T][2];
    for (uint32_t t = 0; t < T; ++t) acc[t][0] = acc[t][1] = vdupq_n_s32(0);
    for (uint32_t b = 0; b < k / 128; ++b) {
        int8x16_t c[8];
        decode_block_neon(row + b * 32, c);
        for (uint32_t t = 0; t < T; ++t) {
            const int8_t* qb = q + t * q_stride + b * 128;
            for (int v = 0; v < 8; ++v) acc[t][v & 1] = vdotq_s32(acc[t][v & 1], c[v], vld1q_s8(qb + 16 * v));
        }
    }
    for (uint32_t t = 0; t < T; ++t) out[t] = vaddvq_s32(vaddq_s32(acc[t][0], acc[t][1])) - qsum[t];
}

void i2s_dot(const uint8_t* rows, uint32_t n_rows, const int8_t* q, size_t q_stride, const int32_t* qsum, uint32_t k,
             uint32_t n_tokens, int32_t* out, size_t out_stride) {
    with_tile(n_tokens, [&](auto T) {
        for_each_row(rows, n_rows, k, n_tokens, out, out_stride,
                     [&](const uint8_t* row, int32_t* dots) { i2s_dot_tile<decltype(T)::value>(row, q, q_stride, qsum, k, dots); });
    });
}

void q8_dot(const int8_t* w, const float* ws, const int8_t* xq, const float* xs, const float*, uint32_t k, uint32_t n_tokens, float* out) {
    q8_dot_blocks_neon(w, ws, xq, xs, k, n_tokens, out, [](int8x16_t w0, int8x16_t w1, const int8_t* qb, const int8_t* rb) {
        const int32x4_t dq = vdotq_s32(vdotq_s32(vdupq_n_s32(0), w0, vld1q_s8(qb)), w1, vld1q_s8(qb + 16));
        const int32x4_t dr = vdotq_s32(vdotq_s32(vdupq_n_s32(0), w0, vld1q_s8(rb)), w1, vld1q_s8(rb + 16));
        return vmlaq_n_s32(dr, dq, 254);
    });
}

bool cpu_supports() { return getauxval(AT_HWCAP) & (1UL << 20); }  // HWCAP_ASIMDDP

}  // namespace

// The F16 work is bound by memory, not by the multiply: the NEON versions serve.
const Kernels kKernelsDotprod = {"dotprod", cpu_supports, nullptr, i2s_dot, f16_dot_neon, attn_scores_neon, attn_values_neon, q8_dot};

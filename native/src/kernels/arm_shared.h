// Helpers shared by the ARM kernel files (NEON, dotprod). `static` keeps each copy private to the file
// that includes it, compiled for that file's instruction set.
#pragma once
#include <arm_neon.h>

#include <cstddef>
#include <cstdint>

#include "../fp16.h"

// One 128-element block of the file's layout: byte p holds the codes of elements p, p+32, p+64, p+96 in
// bits 7:6, 5:4, 3:2, 1:0. Out: c[2g + h] = codes of elements 32g + 16h .. 32g + 16h + 15, as int8 (0..2).
static inline void decode_block_neon(const uint8_t* p, int8x16_t c[8]) {
    const uint8x16_t mask = vdupq_n_u8(3);
    for (int h = 0; h < 2; ++h) {
        const uint8x16_t b = vld1q_u8(p + 16 * h);
        c[0 + h] = vreinterpretq_s8_u8(vshrq_n_u8(b, 6));  // the top two bits need no mask
        c[2 + h] = vreinterpretq_s8_u8(vandq_u8(vshrq_n_u8(b, 4), mask));
        c[4 + h] = vreinterpretq_s8_u8(vandq_u8(vshrq_n_u8(b, 2), mask));
        c[6 + h] = vreinterpretq_s8_u8(vandq_u8(b, mask));
    }
}

static inline int32_t hsum_s32(int32x4_t v) {
#if defined(__aarch64__)
    return vaddvq_s32(v);
#else
    const int32x2_t s = vadd_s32(vget_low_s32(v), vget_high_s32(v));
    return vget_lane_s32(vpadd_s32(s, s), 0);
#endif
}

static inline float hsum_f32(float32x4_t v) {
#if defined(__aarch64__)
    return vaddvq_f32(v);
#else
    const float32x2_t s = vadd_f32(vget_low_f32(v), vget_high_f32(v));
    return vget_lane_f32(vpadd_f32(s, s), 0);
#endif
}

// Four IEEE halves to floats with the hardware conversion (VCVT.F32.F16, part of VFPv4's NEON).
static inline float32x4_t half_to_float4(const uint16_t* p) {
    return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p)));
}

static inline float half_to_float(uint16_t h) { return g_fp16.v[h]; }

// The int8 head's loop (kernels.h, Q8DotFn) around one instruction set's block product:
// block(w0, w1, q, r) returns 4 int32 lanes summing to 254 * w.q + w.r over 32 weights (w0, w1).
template <typename BlockDot>
static inline void q8_dot_blocks_neon(const int8_t* w, const float* ws, const int8_t* xq, const float* xs, uint32_t k,
                                      uint32_t n_tokens, float* out, BlockDot block) {
    for (uint32_t t = 0; t < n_tokens; ++t) {
        const int8_t* q = xq + (size_t)t * 2 * k;
        const int8_t* r = q + k;
        const float* s = xs + (size_t)t * (k / 32);
        float32x4_t acc0 = vdupq_n_f32(0), acc1 = vdupq_n_f32(0);
        for (uint32_t b = 0; b < k / 32; ++b) {
            const int32x4_t p = block(vld1q_s8(w + b * 32), vld1q_s8(w + b * 32 + 16), q + b * 32, r + b * 32);
            float32x4_t& acc = (b & 1) ? acc1 : acc0;
            acc = vfmaq_f32(acc, vcvtq_f32_s32(p), vdupq_n_f32(ws[b] * s[b]));
        }
        out[t] = hsum_f32(vaddq_f32(acc0, acc1));
    }
}

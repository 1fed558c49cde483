// The activation quantizers the kernels consume (spec §4) and the reference ternary dot product (§3).
//
// File layout of one weight row: cols/128 blocks of 32 bytes. Byte p of a block holds the 2-bit
// biased codes (w + 1) of elements p, p+32, p+64 and p+96, in bits 7:6, 5:4, 3:2 and 1:0.
#pragma once
#include <cstdint>
#include <vector>

#include "aligned_vector.h"

// Per-token absmax int8 quantization: s = 127 / max(|x|max, 1e-5), q = clamp(round_half_even(x * s)).
struct QuantizedActs {
    AlignedVector<int8_t> q;    // [n_tokens][k], each token on a cache line (k is a multiple of 128)
    std::vector<float> scale;   // [n_tokens] the s of each token
    std::vector<int32_t> qsum;  // [n_tokens] sum of each token's q (the SIMD kernels need it)
    uint32_t n_tokens = 0;
    uint32_t k = 0;
};

// Sizes out for n_tokens rows of k (allocates only when it grows), then quantize_activation_row fills
// each token's row; rows are independent, so threads can share them.
void acts_resize(QuantizedActs& out, uint32_t n_tokens, uint32_t k);
void quantize_activation_row(const float* x, uint32_t t, QuantizedActs& out);

// For the int8 output head: blocks of 32 values as x ~ s * (254 * q + r), q and r in [-127, 127]
// (r is the rounding residual of q, quantized again). q gets, per token, k values of q then k values of
// r (2 * n_tokens * k in all); scale gets s / 254 per block (n_tokens * k / 32), and sum each block's
// sum (q8_block_sums). k a multiple of 32.
void quantize_q8_blocks(const float* x, uint32_t n_tokens, uint32_t k, int8_t* q, float* scale, float* sum);
// sum[t][b] = scale[t][b] * (254 * sum q + sum r) over block b of token t's planes (Q8DotFn's xsum).
void q8_block_sums(const int8_t* q, const float* scale, uint32_t n_tokens, uint32_t k, float* sum);

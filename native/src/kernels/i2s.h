// Ternary (I2_S) matrix kernels and the int8 activation quantizer they consume (spec §3, §4).
//
// File layout of one weight row: cols/128 blocks of 32 bytes. Byte p of a block holds the 2-bit
// biased codes (w + 1) of elements p, p+32, p+64 and p+96, in bits 7:6, 5:4, 3:2 and 1:0.
#pragma once
#include <cstdint>
#include <vector>

// Per-token absmax int8 quantization: s = 127 / max(|x|max, 1e-5), q = clamp(round_half_even(x * s)).
struct QuantizedActs {
    std::vector<int8_t> q;      // [n_tokens][k]
    std::vector<float> scale;   // [n_tokens] the s of each token
    uint32_t n_tokens = 0;
    uint32_t k = 0;
};

void quantize_activations(const float* x, uint32_t n_tokens, uint32_t k, QuantizedActs& out);

// Exact signed dot product sum(w_t * q) of one packed ternary row with int8 activations.
// |result| <= 128 * k, so 32-bit accumulation is exact for every k below 2^24.
int32_t i2s_dot_scalar(const uint8_t* row, const int8_t* q, uint32_t k);

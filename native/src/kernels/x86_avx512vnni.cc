// x86-64 AVX-512 VNNI kernels (256-bit vpdpbusd, AVX512VL). Built with -mavx512f -mavx512bw
// -mavx512vl -mavx512vnni; only called when cpuid says so.
#include <immintrin.h>

#include "kernels.h"
#include "x86_shared.h"

namespace {

// vpdpbusd multiplies 4 unsigned codes by 4 signed activations and adds them into an int32 lane in one
// instruction. Its latency is several cycles, so each token keeps independent accumulators: four for a
// single token (decode), two each in a tile of up to 4, one each beyond (about eight chains cover the
// latency without spilling registers; AVX512VL gives 32 of them).
template <uint32_t T>
void i2s_dot_tile(const uint8_t* row, const int8_t* q, size_t q_stride, const int32_t* qsum, uint32_t k, int32_t* out) {
    constexpr int A = T == 1 ? 4 : T <= 4 ? 2 : 1;
    __m256i acc[T][A];
    for (uint32_t t = 0; t < T; ++t)
        for (int a = 0; a < A; ++a) acc[t][a] = _mm256_setzero_si256();
    for (uint32_t b = 0; b < k / 128; ++b) {
        __m256i c[4];
        decode_block(row + b * 32, c);
        for (uint32_t t = 0; t < T; ++t) {
            const int8_t* qb = q + t * q_stride + b * 128;
            for (int g = 0; g < 4; ++g)
                acc[t][g % A] = _mm256_dpbusd_epi32(acc[t][g % A], c[g], _mm256_loadu_si256((const __m256i*)(qb + 32 * g)));
        }
    }
    for (uint32_t t = 0; t < T; ++t) {
        __m256i sum = acc[t][0];
        for (int a = 1; a < A; ++a) sum = _mm256_add_epi32(sum, acc[t][a]);
        out[t] = hsum_epi32(sum) - qsum[t];
    }
}

void i2s_dot(const uint8_t* row, const int8_t* q, size_t q_stride, const int32_t* qsum, uint32_t k, uint32_t n_tokens, int32_t* out) {
    switch (n_tokens) {
        case 1: return i2s_dot_tile<1>(row, q, q_stride, qsum, k, out);
        case 2: return i2s_dot_tile<2>(row, q, q_stride, qsum, k, out);
        case 3: return i2s_dot_tile<3>(row, q, q_stride, qsum, k, out);
        case 4: return i2s_dot_tile<4>(row, q, q_stride, qsum, k, out);
        case 5: return i2s_dot_tile<5>(row, q, q_stride, qsum, k, out);
        case 6: return i2s_dot_tile<6>(row, q, q_stride, qsum, k, out);
        case 7: return i2s_dot_tile<7>(row, q, q_stride, qsum, k, out);
        default: return i2s_dot_tile<8>(row, q, q_stride, qsum, k, out);
    }
}

// Per block of 32: vpdpbusd needs an unsigned operand, so |w| times x carrying w's sign; the two
// activation planes are weighed 254 : 1.
void q8_dot(const int8_t* w, const float* ws, const int8_t* xq, const float* xs, uint32_t k, uint32_t n_tokens, float* out) {
    const __m256i k254 = _mm256_set1_epi32(254);
    for (uint32_t t = 0; t < n_tokens; ++t) {
        const int8_t* q = xq + (size_t)t * 2 * k;
        const int8_t* r = q + k;
        const float* s = xs + (size_t)t * (k / 32);
        __m256 acc[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
        for (uint32_t b = 0; b < k / 32; ++b) {
            const __m256i wv = _mm256_loadu_si256((const __m256i*)(w + b * 32));
            const __m256i aw = _mm256_sign_epi8(wv, wv);
            const __m256i pq = _mm256_dpbusd_epi32(_mm256_setzero_si256(), aw, _mm256_sign_epi8(_mm256_loadu_si256((const __m256i*)(q + b * 32)), wv));
            const __m256i p = _mm256_dpbusd_epi32(_mm256_mullo_epi32(pq, k254), aw, _mm256_sign_epi8(_mm256_loadu_si256((const __m256i*)(r + b * 32)), wv));
            acc[b & 1] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(ws[b] * s[b]), acc[b & 1]);
        }
        out[t] = hsum_ps(_mm256_add_ps(acc[0], acc[1]));
    }
}

}  // namespace

// The F16 work is bound by memory, not by the multiply: the AVX2 versions serve (every VNNI CPU has AVX2).
const Kernels kKernelsAvx512Vnni = {"avx512vnni", i2s_dot, f16_dot_avx2, f16_axpy_avx2, q8_dot};

// x86-64 AVX-512 VNNI kernels (512-bit vpdpbusd on repacked ternary rows). Built with -mavx512f
// -mavx512bw -mavx512vl -mavx512vnni; only called when cpuid says so.
// GCC 12 warns about its own _mm256_undefined_* inside the AVX-512 extract intrinsics (GCC bug 105593).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstring>

#include "kernels.h"
#include "tile.h"
#include "x86_shared.h"

namespace {

// Layout: the file packs 128 elements in 32 bytes (byte p: elements p, p+32, p+64, p+96). This set
// repacks each pair of blocks, 256 elements, into 64 bytes whose byte p holds elements p, p+64, p+128
// and p+192 (bits 7:6, 5:4, 3:2, 1:0), so that one 512-bit load and four shifts give four vectors of
// 64 codes matching 64 consecutive activations. A trailing odd block keeps the file's layout.
void repack(uint8_t* row, uint32_t k) {
    uint8_t codes[256], out[64];
    for (uint32_t pair = 0; pair + 1 < k / 128; pair += 2) {
        uint8_t* p = row + pair * 32;
        for (int blk = 0; blk < 2; ++blk)
            for (int i = 0; i < 32; ++i)
                for (int g = 0; g < 4; ++g) codes[blk * 128 + g * 32 + i] = (p[blk * 32 + i] >> (6 - 2 * g)) & 3;
        for (int i = 0; i < 64; ++i)
            out[i] = (uint8_t)(codes[i] << 6 | codes[i + 64] << 4 | codes[i + 128] << 2 | codes[i + 192]);
        std::memcpy(p, out, 64);
    }
}

// vpdpbusd multiplies 4 unsigned codes by 4 signed activations and adds them into an int32 lane in one
// instruction: 64 multiply-adds per 512-bit instruction. Its latency is several cycles, so a single
// token keeps four accumulators; a tile keeps one per token (T chains of four each per step).
template <uint32_t T>
void i2s_dot_tile(const uint8_t* row, const int8_t* q, size_t q_stride, const int32_t* qsum, uint32_t k, int32_t* out) {
    constexpr int A = T == 1 ? 4 : 1;
    const __m512i mask = _mm512_set1_epi8(3);
    __m512i acc[T][A];
    for (uint32_t t = 0; t < T; ++t)
        for (int a = 0; a < A; ++a) acc[t][a] = _mm512_setzero_si512();
    const uint32_t pairs = k / 256;
    for (uint32_t pr = 0; pr < pairs; ++pr) {
        const __m512i b = _mm512_loadu_si512((const void*)(row + pr * 64));
        const __m512i c[4] = {_mm512_and_si512(_mm512_srli_epi16(b, 6), mask), _mm512_and_si512(_mm512_srli_epi16(b, 4), mask),
                              _mm512_and_si512(_mm512_srli_epi16(b, 2), mask), _mm512_and_si512(b, mask)};
        for (uint32_t t = 0; t < T; ++t) {
            const int8_t* qp = q + t * q_stride + pr * 256;
            for (int g = 0; g < 4; ++g)
                acc[t][g % A] = _mm512_dpbusd_epi32(acc[t][g % A], c[g], _mm512_loadu_si512((const void*)(qp + 64 * g)));
        }
    }
    for (uint32_t t = 0; t < T; ++t) {
        __m512i sum = acc[t][0];
        for (int a = 1; a < A; ++a) sum = _mm512_add_epi32(sum, acc[t][a]);
        int32_t total = hsum_epi32(_mm256_add_epi32(_mm512_castsi512_si256(sum), _mm512_extracti64x4_epi64(sum, 1)));
        if (k % 256) {  // the odd trailing block, in the file's layout
            __m256i cb[4];
            decode_block(row + pairs * 64, cb);
            const int8_t* qb = q + t * q_stride + pairs * 256;
            __m256i s = _mm256_setzero_si256();
            for (int g = 0; g < 4; ++g) s = _mm256_dpbusd_epi32(s, cb[g], _mm256_loadu_si256((const __m256i*)(qb + 32 * g)));
            total += hsum_epi32(s);
        }
        out[t] = total - qsum[t];
    }
}

void i2s_dot(const uint8_t* row, const int8_t* q, size_t q_stride, const int32_t* qsum, uint32_t k, uint32_t n_tokens, int32_t* out) {
    with_tile(n_tokens, [&](auto T) { i2s_dot_tile<decltype(T)::value>(row, q, q_stride, qsum, k, out); });
}

// Per block of 32: vpdpbusd needs an unsigned operand, so |w| times x carrying w's sign; the two
// activation planes are weighed 254 : 1.
void q8_dot(const int8_t* w, const float* ws, const int8_t* xq, const float* xs, uint32_t k, uint32_t n_tokens, float* out) {
    const __m256i k254 = _mm256_set1_epi32(254);
    q8_dot_blocks(w, ws, xq, xs, k, n_tokens, out, [&](__m256i wv, const int8_t* q, const int8_t* r) {
        const __m256i aw = _mm256_sign_epi8(wv, wv);
        const __m256i pq = _mm256_dpbusd_epi32(_mm256_setzero_si256(), aw, _mm256_sign_epi8(_mm256_loadu_si256((const __m256i*)q), wv));
        return _mm256_dpbusd_epi32(_mm256_mullo_epi32(pq, k254), aw, _mm256_sign_epi8(_mm256_loadu_si256((const __m256i*)r), wv));
    });
}

}  // namespace

// The F16 work is bound by memory, not by the multiply: the AVX2 versions serve (every VNNI CPU has AVX2).
const Kernels kKernelsAvx512Vnni = {"avx512vnni", repack, i2s_dot, f16_dot_avx2, f16_axpy_avx2, q8_dot};

// x86-64 AVX-512 VNNI kernels (512-bit vpdpbusd on repacked ternary rows). Built with -mavx512f
// -mavx512bw -mavx512vl -mavx512vnni; only called when cpuid says so.
// GCC 12 warns about its own _mm256_undefined_* inside the AVX-512 extract intrinsics (GCC bug 105593).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
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
// instruction: 64 multiply-adds per 512-bit instruction. It multiplies the biased codes (w + 1), so the
// dot products subtract the token's qsum.

// The odd trailing 128-element block of a row (k % 256 == 128), in the file's layout.
int32_t tail_sum(const uint8_t* row, const int8_t* q, uint32_t k) {
    if (k % 256 == 0) return 0;
    __m256i c[4];
    decode_block(row + k / 256 * 64, c);
    const int8_t* qb = q + k / 256 * 256;
    __m256i s = _mm256_setzero_si256();
    for (int g = 0; g < 4; ++g) s = _mm256_dpbusd_epi32(s, c[g], _mm256_loadu_si256((const __m256i*)(qb + 32 * g)));
    return hsum_epi32(s);
}

int32_t reduce(__m512i v) { return hsum_epi32(_mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1))); }

// One row against one token (decoding): four accumulators hide vpdpbusd's latency.
int32_t row_sum(const uint8_t* row, const int8_t* q, uint32_t k) {
    const __m512i mask = _mm512_set1_epi8(3);
    __m512i acc[4] = {_mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512()};
    for (uint32_t pr = 0; pr < k / 256; ++pr) {
        const __m512i b = _mm512_loadu_si512((const void*)(row + pr * 64));
        for (int g = 0; g < 4; ++g) {
            const __m512i c = _mm512_and_si512(_mm512_srli_epi16(b, 6 - 2 * g), mask);
            acc[g] = _mm512_dpbusd_epi32(acc[g], c, _mm512_loadu_si512((const void*)(q + pr * 256 + 64 * g)));
        }
    }
    return reduce(_mm512_add_epi32(_mm512_add_epi32(acc[0], acc[1]), _mm512_add_epi32(acc[2], acc[3]))) + tail_sum(row, q, k);
}

// R rows against T tokens (prefill), R, T <= 4: each decoded code vector serves T tokens and each
// activation load R rows, so per 16 vpdpbusd there are only 8 loads and 8 decode operations; the 16
// accumulators are independent chains. Twice the throughput of a one-row tile of 8 tokens here.
template <uint32_t R, uint32_t T>
void block_dots(const uint8_t* rows, const int8_t* q, size_t q_stride, const int32_t* qsum, uint32_t k, int32_t* out, size_t out_stride) {
    const __m512i mask = _mm512_set1_epi8(3);
    const size_t row_bytes = k / 4;
    __m512i acc[R][T];
    for (uint32_t r = 0; r < R; ++r)
        for (uint32_t t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_si512();
    for (uint32_t pr = 0; pr < k / 256; ++pr) {
        for (int g = 0; g < 4; ++g) {
            __m512i c[R];
            for (uint32_t r = 0; r < R; ++r) {
                const __m512i b = _mm512_loadu_si512((const void*)(rows + r * row_bytes + pr * 64));
                c[r] = _mm512_and_si512(_mm512_srli_epi16(b, 6 - 2 * g), mask);
            }
            for (uint32_t t = 0; t < T; ++t) {
                const __m512i a = _mm512_loadu_si512((const void*)(q + t * q_stride + pr * 256 + 64 * g));
                for (uint32_t r = 0; r < R; ++r) acc[r][t] = _mm512_dpbusd_epi32(acc[r][t], c[r], a);
            }
        }
    }
    for (uint32_t r = 0; r < R; ++r)
        for (uint32_t t = 0; t < T; ++t)
            out[t * out_stride + r] = reduce(acc[r][t]) + tail_sum(rows + r * row_bytes, q + t * q_stride, k) - qsum[t];
}

void i2s_dot(const uint8_t* rows, uint32_t n_rows, const int8_t* q, size_t q_stride, const int32_t* qsum, uint32_t k,
             uint32_t n_tokens, int32_t* out, size_t out_stride) {
    const size_t row_bytes = k / 4;
    if (n_tokens == 1) {
        for (uint32_t r = 0; r < n_rows; ++r) out[r] = row_sum(rows + r * row_bytes, q, k) - qsum[0];
        return;
    }
    for (uint32_t t0 = 0; t0 < n_tokens; t0 += 4) {
        const uint32_t nt = std::min(4u, n_tokens - t0);
        for (uint32_t r0 = 0; r0 < n_rows; r0 += 4) {
            with_constant<4>(n_rows - r0, [&](auto R) {
                with_constant<4>(nt, [&](auto T) {
                    block_dots<decltype(R)::value, decltype(T)::value>(rows + r0 * row_bytes, q + t0 * q_stride, q_stride, qsum + t0, k,
                                                                       out + t0 * out_stride + r0, out_stride);
                });
            });
        }
    }
}

// The int8 head. vpdpbusd needs an unsigned operand, so |w| times x carrying w's sign; the two activation
// planes are weighed 254 : 1. This is the 256-bit form for one block of 32: 8 int32 lanes.
__m256i q8_block(__m256i wv, const int8_t* q, const int8_t* r) {
    const __m256i aw = _mm256_sign_epi8(wv, wv);
    const __m256i pq = _mm256_dpbusd_epi32(_mm256_setzero_si256(), aw, _mm256_sign_epi8(_mm256_loadu_si256((const __m256i*)q), wv));
    return _mm256_dpbusd_epi32(_mm256_mullo_epi32(pq, _mm256_set1_epi32(254)), aw,
                               _mm256_sign_epi8(_mm256_loadu_si256((const __m256i*)r), wv));
}

// How far ahead of the row being read the head prefetches its weights. One thread reads them at about
// half the memory's speed without it (the work between loads keeps too few misses in flight); 4 KB
// ahead measured best, 1.7 times as fast, on an EPYC (Zen 4). The ternary rows gain nothing from it.
constexpr size_t kPrefetchAhead = 4096;

// Two blocks per 512-bit step: AVX-512 has no byte sign instruction, so x is negated under the mask of
// w's sign bits. The 16 lanes hold two blocks, each scaled by its own ws * xs: the products of 16
// blocks are made once and spread over the lanes by a permute.
template <uint32_t T>
void q8_tile(const int8_t* w, const float* ws, const int8_t* xq, const float* xs, uint32_t k, float* out) {
    const __m512i zero = _mm512_setzero_si512(), k254 = _mm512_set1_epi32(254);
    const __m512i lane_block = _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
    const uint32_t nb = k / 32;
    __m512 acc[T];
    for (uint32_t t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
    for (uint32_t b0 = 0; b0 + 2 <= nb; b0 += 16) {
        const uint32_t n = std::min(16u, nb - b0) & ~1u;  // whole pairs of blocks in this group
        const __mmask16 live = (__mmask16)((1u << n) - 1);
        const __m512 wsc = _mm512_maskz_loadu_ps(live, ws + b0);
        __m512 sc[T];
        for (uint32_t t = 0; t < T; ++t) sc[t] = _mm512_mul_ps(wsc, _mm512_maskz_loadu_ps(live, xs + (size_t)t * nb + b0));
        for (uint32_t j = 0; j < n; j += 2) {
            const int8_t* wp = w + (size_t)(b0 + j) * 32;
            _mm_prefetch((const char*)wp + kPrefetchAhead, _MM_HINT_T0);
            const __m512i wv = _mm512_loadu_si512((const void*)wp);
            const __m512i aw = _mm512_abs_epi8(wv);
            const __mmask64 neg = _mm512_movepi8_mask(wv);
            const __m512i idx = _mm512_add_epi32(lane_block, _mm512_set1_epi32((int)j));
            for (uint32_t t = 0; t < T; ++t) {
                const int8_t* q = xq + (size_t)t * 2 * k + (b0 + j) * 32;
                const __m512i qv = _mm512_loadu_si512((const void*)q), rv = _mm512_loadu_si512((const void*)(q + k));
                const __m512i pq = _mm512_dpbusd_epi32(zero, aw, _mm512_mask_sub_epi8(qv, neg, zero, qv));
                const __m512i p = _mm512_dpbusd_epi32(_mm512_mullo_epi32(pq, k254), aw, _mm512_mask_sub_epi8(rv, neg, zero, rv));
                acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), _mm512_permutexvar_ps(idx, sc[t]), acc[t]);
            }
        }
    }
    for (uint32_t t = 0; t < T; ++t) {
        float total = _mm512_reduce_add_ps(acc[t]);
        if (nb % 2) {  // an odd trailing block
            const uint32_t b = nb - 1;
            const int8_t* q = xq + (size_t)t * 2 * k + b * 32;
            const __m256i p = q8_block(_mm256_loadu_si256((const __m256i*)(w + b * 32)), q, q + k);
            total += hsum_ps(_mm256_cvtepi32_ps(p)) * (ws[b] * xs[(size_t)t * nb + b]);
        }
        out[t] = total;
    }
}

void q8_dot(const int8_t* w, const float* ws, const int8_t* xq, const float* xs, uint32_t k, uint32_t n_tokens, float* out) {
    with_tile(n_tokens, [&](auto T) { q8_tile<decltype(T)::value>(w, ws, xq, xs, k, out); });
}

}  // namespace

// The F16 work is bound by memory, not by the multiply: the AVX2 versions serve (every VNNI CPU has AVX2).
const Kernels kKernelsAvx512Vnni = {"avx512vnni", repack, i2s_dot, f16_dot_avx2, f16_axpy_avx2, q8_dot};

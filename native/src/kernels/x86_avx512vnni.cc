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

// How far ahead of the bytes being read the decoding kernels prefetch. One thread decodes slower than
// memory delivers, and the work between its loads keeps too few misses in flight; 4 KB ahead measured
// best on an EPYC (Zen 5), for the ternary rows and the head alike.
constexpr size_t kPrefetchAhead = 4096;

// One row against one token (decoding). The 2-bit fields are masked in place, not shifted down: group
// g's vpdpbusd then multiplies code * 4^(3-g), so its accumulator holds 4^(3-g) times its sum and is
// shifted back once per row, exactly (every term is a multiple). Four instructions fewer per 64 bytes
// than shift-and-mask; with the prefetch, one thread decodes 1.7x as fast from memory.
int32_t row_sum(const uint8_t* row, const int8_t* q, uint32_t k) {
    const __m512i field[4] = {_mm512_set1_epi8((char)0xc0), _mm512_set1_epi8(0x30), _mm512_set1_epi8(0x0c), _mm512_set1_epi8(0x03)};
    __m512i acc[4] = {_mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512()};
    for (uint32_t pr = 0; pr < k / 256; ++pr) {
        _mm_prefetch((const char*)(row + pr * 64) + kPrefetchAhead, _MM_HINT_T0);
        const __m512i b = _mm512_loadu_si512((const void*)(row + pr * 64));
        for (int g = 0; g < 4; ++g)
            acc[g] = _mm512_dpbusd_epi32(acc[g], _mm512_and_si512(b, field[g]), _mm512_loadu_si512((const void*)(q + pr * 256 + 64 * g)));
    }
    const __m512i sum = _mm512_add_epi32(_mm512_add_epi32(_mm512_srai_epi32(acc[0], 6), _mm512_srai_epi32(acc[1], 4)),
                                         _mm512_add_epi32(_mm512_srai_epi32(acc[2], 2), acc[3]));
    return reduce(sum) + tail_sum(row, q, k);
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

// One token's running sums in q8_tile.
struct Q8Sums {
    __m512 q = _mm512_setzero_ps(), r = _mm512_setzero_ps(), offset = _mm512_setzero_ps();
};

// Blocks [b0, b0 + n) of a row, n <= 16; Full: n == 16, the common case, with a constant trip count.
template <uint32_t T, bool Full>
inline void q8_group(const int8_t* w, const float* ws, const int8_t* xq, const float* xs, const float* xsum, uint32_t k, uint32_t b0,
                     uint32_t n, Q8Sums* sums) {
    const __m512i flip = _mm512_set1_epi8((char)0x80), two = _mm512_set1_epi32(2);
    const uint32_t nb = k / 32;
    if (Full) n = 16;
    const __mmask16 live = (__mmask16)((1u << n) - 1);
    const __m512 wsc = _mm512_maskz_loadu_ps(live, ws + b0);
    __m512 sc[T];
    for (uint32_t t = 0; t < T; ++t) {
        sc[t] = _mm512_mul_ps(wsc, _mm512_maskz_loadu_ps(live, xs + (size_t)t * nb + b0));
        sums[t].offset = _mm512_fmadd_ps(wsc, _mm512_maskz_loadu_ps(live, xsum + (size_t)t * nb + b0), sums[t].offset);
    }
    // Lanes 0-7 take the first block's scale of a pair, lanes 8-15 the second's.
    __m512i pair = _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
    for (uint32_t j = 0; j < n; j += 2, pair = _mm512_add_epi32(pair, two)) {
        const int8_t* wp = w + (size_t)(b0 + j) * 32;
        const __mmask64 bytes = Full || j + 1 < n ? ~0ull : 0xffffffffull;  // a trailing odd block: its half
        _mm_prefetch((const char*)wp + kPrefetchAhead, _MM_HINT_T0);
        const __m512i wv = _mm512_xor_si512(_mm512_maskz_loadu_epi8(bytes, wp), flip);
        for (uint32_t t = 0; t < T; ++t) {
            const int8_t* q = xq + (size_t)t * 2 * k + (b0 + j) * 32;
            const __m512i pq = _mm512_dpbusd_epi32(_mm512_setzero_si512(), wv, _mm512_maskz_loadu_epi8(bytes, q));
            const __m512i pr = _mm512_dpbusd_epi32(_mm512_setzero_si512(), wv, _mm512_maskz_loadu_epi8(bytes, q + k));
            const __m512 s = _mm512_permutexvar_ps(pair, sc[t]);
            sums[t].q = _mm512_fmadd_ps(_mm512_cvtepi32_ps(pq), s, sums[t].q);
            sums[t].r = _mm512_fmadd_ps(_mm512_cvtepi32_ps(pr), s, sums[t].r);
        }
    }
}

// The int8 head. vpdpbusd multiplies unsigned by signed bytes: the weights are read as w ^ 0x80, which
// is w + 128 unsigned, and the 128 * sum(x) that adds is taken off once per row through the blocks'
// sums (xsum): a few FMAs a row instead of four sign operations every 64 bytes. The q and r planes
// accumulate apart in float and are weighed 254 : 1 at the end, so no integer multiply sits in the loop.
// Two blocks per 512-bit step; each block's scale ws * xs reaches its 8 lanes by one permute of the 16
// scales of a group. Against the sign-trick version: 1.45x as fast on one thread from memory.
template <uint32_t T>
void q8_tile(const int8_t* w, const float* ws, const int8_t* xq, const float* xs, const float* xsum, uint32_t k, float* out) {
    const uint32_t nb = k / 32;
    Q8Sums sums[T];
    uint32_t b0 = 0;
    for (; b0 + 16 <= nb; b0 += 16) q8_group<T, true>(w, ws, xq, xs, xsum, k, b0, 16, sums);
    if (b0 < nb) q8_group<T, false>(w, ws, xq, xs, xsum, k, b0, nb - b0, sums);
    for (uint32_t t = 0; t < T; ++t)
        out[t] = _mm512_reduce_add_ps(_mm512_fmadd_ps(sums[t].q, _mm512_set1_ps(254.0f), sums[t].r)) - 128.0f * _mm512_reduce_add_ps(sums[t].offset);
}

void q8_dot(const int8_t* w, const float* ws, const int8_t* xq, const float* xs, const float* xsum, uint32_t k, uint32_t n_tokens,
            float* out) {
    with_tile(n_tokens, [&](auto T) { q8_tile<decltype(T)::value>(w, ws, xq, xs, xsum, k, out); });
}

bool cpu_supports() {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c") &&
           __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw");
}

}  // namespace

// The F16 work is bound by memory, not by the multiply: the AVX2 versions serve (every VNNI CPU has AVX2).
const Kernels kKernelsAvx512Vnni = {"avx512vnni", cpu_supports, repack, i2s_dot, f16_dot_avx2, attn_scores_avx2, attn_values_avx2, q8_dot};

// x86-64 AVX2 (+FMA, F16C) kernels. Built with -mavx2 -mfma -mf16c; only called when cpuid says so.
#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "kernels.h"
#include "tile.h"
#include "x86_shared.h"

namespace {

// How far ahead of the bytes being read the decoding kernels prefetch. Without it one thread keeps
// too few misses in flight to read at the memory's speed: on a Xeon (Emerald Rapids), 2
// threads, the ternary rows went from 15 to 26 GB/s and the int8 head from 18 to 28.
constexpr size_t kPrefetchAhead = 4096;

// maddubs multiplies the unsigned codes (0..2) by the signed activations and adds pairs into int16:
// |pair| <= 2 * 2 * 128, so a 128-element block adds at most 2048 to a lane and the sums of 16 blocks
// fit int16 ([-32768, 32512]). They are widened (madd by ones) once per 16 blocks, which leaves one add
// per maddubs: the least any maddubs kernel does (npm run bench prints that ceiling).
constexpr uint32_t kBlocksPerWiden = 16;

// An empty asm that claims to change v. Without it GCC reassociates the int16 sums (adding a block's
// maddubs results together first), which needs more registers than AVX2 has and spills the sums.
// It takes v by value: asm on an element of an array of vectors keeps the whole array in memory.
static inline __m256i pinned(__m256i v) {
    __asm__("" : "+x"(v));
    return v;
}

// R rows against T tokens: each decoded code vector serves T tokens and each activation load R rows.
// One row and one token is decoding, which prefetches the row (under `if constexpr`: a plain `if` on
// the constants left GCC spilling every other shape's sums). Not inlined: inside i2s_dot, among the
// other shapes, GCC's register allocation spilled them too.
template <uint32_t R, uint32_t T>
[[gnu::noinline]] void block_dots(const uint8_t* rows, const int8_t* q, size_t q_stride, const int32_t* qsum, uint32_t k, int32_t* out, size_t out_stride) {
    const __m256i mask = _mm256_set1_epi8(3), ones = _mm256_set1_epi16(1);
    const size_t row_bytes = k / 4;
    __m256i acc[R][T];
    for (uint32_t r = 0; r < R; ++r)
        for (uint32_t t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_si256();
    for (uint32_t b0 = 0; b0 < k / 128; b0 += kBlocksPerWiden) {
        __m256i sum16[R][T];
        for (uint32_t r = 0; r < R; ++r)
            for (uint32_t t = 0; t < T; ++t) sum16[r][t] = _mm256_setzero_si256();
        for (uint32_t b = b0; b < std::min(k / 128, b0 + kBlocksPerWiden); ++b) {
            if constexpr (R == 1 && T == 1) _mm_prefetch((const char*)(rows + b * 32) + kPrefetchAhead, _MM_HINT_T0);
            __m256i w[R];
            for (uint32_t r = 0; r < R; ++r) w[r] = _mm256_loadu_si256((const __m256i*)(rows + r * row_bytes + b * 32));
            for (int g = 0; g < 4; ++g) {  // see decode_block: group g's codes sit at bits 7-2g:6-2g
                __m256i c[R];
                for (uint32_t r = 0; r < R; ++r) c[r] = _mm256_and_si256(_mm256_srli_epi16(w[r], 6 - 2 * g), mask);
                for (uint32_t t = 0; t < T; ++t) {
                    const __m256i a = _mm256_loadu_si256((const __m256i*)(q + t * q_stride + b * 128 + 32 * g));
                    for (uint32_t r = 0; r < R; ++r) sum16[r][t] = pinned(_mm256_add_epi16(sum16[r][t], _mm256_maddubs_epi16(c[r], a)));
                }
            }
        }
        for (uint32_t r = 0; r < R; ++r)
            for (uint32_t t = 0; t < T; ++t) acc[r][t] = _mm256_add_epi32(acc[r][t], _mm256_madd_epi16(sum16[r][t], ones));
    }
    for (uint32_t r = 0; r < R; ++r)
        for (uint32_t t = 0; t < T; ++t) out[t * out_stride + r] = hsum_epi32(acc[r][t]) - qsum[t];
}

// The tile's shape: while 8 tokens' activations fit L1 (k <= 4096: 32 KB of 48), one row against all
// the call's tokens, each decoded code vector serving 8; past that, 2 rows x 4 tokens, whose activation
// loads each serve 2 rows and so halve what comes from L2. Forced AVX2 on a Xeon, 2 threads, the
// 2B4T shape's ternary products at 128 tokens, interleaved runs: 160-169 -> 181-197 GMAC/s against the
// one-row 4-token tile that widened its sums every block (kernel harness, not committed).
void i2s_dot(const uint8_t* rows, uint32_t n_rows, const int8_t* q, size_t q_stride, const int32_t* qsum, uint32_t k,
             uint32_t n_tokens, int32_t* out, size_t out_stride) {
    const size_t row_bytes = k / 4;
    if (n_tokens == 1 || k <= 4096) {
        for (uint32_t r = 0; r < n_rows; ++r)
            with_tile(n_tokens, [&](auto T) { block_dots<1, decltype(T)::value>(rows + r * row_bytes, q, q_stride, qsum, k, out + r, out_stride); });
        return;
    }
    for (uint32_t t0 = 0; t0 < n_tokens; t0 += 4)
        for (uint32_t r0 = 0; r0 < n_rows; r0 += 2)
            with_constant<2>(n_rows - r0, [&](auto R) {
                with_constant<4>(n_tokens - t0, [&](auto T) {
                    block_dots<decltype(R)::value, decltype(T)::value>(rows + r0 * row_bytes, q + t0 * q_stride, q_stride, qsum + t0, k,
                                                                       out + t0 * out_stride + r0, out_stride);
                });
            });
}

// Four accumulators, so that the FMA latency never limits the stream, and a prefetch 4 KB ahead, which
// keeps enough misses in flight for the 0.66 GB head (2 threads on Zen 5: 29 -> 33 tok/s in F16 mode;
// 512-bit conversions gained nothing more). Every token goes through the same code (no multi-token
// variant with another summation order), so batched and one-by-one evaluation give bit-identical logits.
float f16_dot_one(const uint16_t* e, const float* x, uint32_t k) {
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    uint32_t i = 0;
    for (; i + 32 <= k; i += 32) {
        _mm_prefetch((const char*)(e + i) + 4096, _MM_HINT_T0);
        for (int u = 0; u < 4; ++u)
            acc[u] = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i*)(e + i + 8 * u))), _mm256_loadu_ps(x + i + 8 * u), acc[u]);
    }
    float sum = hsum_ps(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3])));
    for (; i < k; ++i) sum += _cvtsh_ss(e[i]) * x[i];  // a head size that is not a multiple of 32
    return sum;
}

bool cpu_supports() {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
}

}  // namespace

void f16_dot_avx2(const uint16_t* e, const float* x, size_t x_stride, uint32_t k, uint32_t n_tokens, float* out) {
    for (uint32_t t = 0; t < n_tokens; ++t) out[t] = f16_dot_one(e, x + t * x_stride, k);
}

// Attention scores, a tile of R query rows by K keys: R * K independent FMA chains (8 in all), and each
// converted K chunk serves the tile's rows. A pair's sum is one 8-lane accumulator over the dimension in
// order, hsum_ps, then a fused scalar tail: the same sequence whatever the tile.
template <uint32_t R, uint32_t K>
static void scores_tile(const float* q, uint32_t dim, const uint16_t* k, size_t k_stride, float* s, size_t s_stride) {
    __m256 acc[R][K];
    for (uint32_t r = 0; r < R; ++r)
        for (uint32_t j = 0; j < K; ++j) acc[r][j] = _mm256_setzero_ps();
    uint32_t d = 0;
    for (; d + 8 <= dim; d += 8) {
        __m256 kc[K];
        for (uint32_t j = 0; j < K; ++j) kc[j] = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i*)(k + j * k_stride + d)));
        for (uint32_t r = 0; r < R; ++r) {
            const __m256 qc = _mm256_loadu_ps(q + (size_t)r * dim + d);
            for (uint32_t j = 0; j < K; ++j) acc[r][j] = _mm256_fmadd_ps(qc, kc[j], acc[r][j]);
        }
    }
    for (uint32_t r = 0; r < R; ++r)
        for (uint32_t j = 0; j < K; ++j) {
            float sum = hsum_ps(acc[r][j]);
            for (uint32_t e = d; e < dim; ++e) sum = std::fma(q[(size_t)r * dim + e], _cvtsh_ss(k[j * k_stride + e]), sum);
            s[r * s_stride + j] = sum;
        }
}

void attn_scores_avx2(const float* q, uint32_t n_q, const uint16_t* k, size_t k_stride, uint32_t n_k, uint32_t dim, float* s, size_t s_stride) {
    for_each_score_tile(n_q, n_k, [&](auto R, auto K, uint32_t i0, uint32_t j0) {
        scores_tile<decltype(R)::value, decltype(K)::value>(q + (size_t)i0 * dim, dim, k + j0 * k_stride, k_stride, s + i0 * s_stride + j0, s_stride);
    });
}

// Attention's weighted sum of values, a tile of R rows by C chunks of 8 dimensions (R * C <= 16
// accumulators, kept in registers across all keys); each converted V chunk serves the tile's rows.
// Element d of row i takes its products in key order, one FMA each: the same sequence whatever the tile.
template <uint32_t R, uint32_t C>
static void values_tile(const float* p, size_t p_stride, const uint32_t* n_keys, const uint16_t* v, size_t v_stride, uint32_t dim,
                        float* out) {
    __m256 acc[R][C];
    uint32_t most = 0;
    for (uint32_t r = 0; r < R; ++r) {
        most = std::max(most, n_keys[r]);
        for (uint32_t c = 0; c < C; ++c) acc[r][c] = _mm256_loadu_ps(out + (size_t)r * dim + 8 * c);
    }
    for (uint32_t j = 0; j < most; ++j) {
        __m256 vc[C];
        for (uint32_t c = 0; c < C; ++c) vc[c] = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i*)(v + j * v_stride + 8 * c)));
        for (uint32_t r = 0; r < R; ++r) {
            if (j >= n_keys[r]) continue;  // rows of earlier tokens see fewer keys
            const __m256 a = _mm256_set1_ps(p[r * p_stride + j]);
            for (uint32_t c = 0; c < C; ++c) acc[r][c] = _mm256_fmadd_ps(a, vc[c], acc[r][c]);
        }
    }
    for (uint32_t r = 0; r < R; ++r)
        for (uint32_t c = 0; c < C; ++c) _mm256_storeu_ps(out + (size_t)r * dim + 8 * c, acc[r][c]);
}

void attn_values_avx2(const float* p, size_t p_stride, const uint32_t* n_keys, uint32_t n_q, const uint16_t* v, size_t v_stride,
                      uint32_t dim, float* out) {
    for_each_value_tile<8>(p, p_stride, n_keys, n_q, v, v_stride, dim, out, [&](auto R, auto C, uint32_t i0, uint32_t d) {
        values_tile<decltype(R)::value, decltype(C)::value>(p + i0 * p_stride, p_stride, n_keys + i0, v + d, v_stride, dim, out + (size_t)i0 * dim + d);
    });
}

// The int8 head's loop (kernels.h, Q8DotFn) around one instruction set's block product: block(wv, q, r)
// returns 8 int32 lanes summing to 254 * w.q + w.r over the 32 weights wv and activations q and r. The
// first token's pass prefetches the row.
template <typename BlockDot>
static void q8_dot_blocks(const int8_t* w, const float* ws, const int8_t* xq, const float* xs, uint32_t k,
                                 uint32_t n_tokens, float* out, BlockDot block) {
    for (uint32_t t = 0; t < n_tokens; ++t) {
        const int8_t* q = xq + (size_t)t * 2 * k;
        const int8_t* r = q + k;
        const float* s = xs + (size_t)t * (k / 32);
        __m256 acc[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
        for (uint32_t b = 0; b < k / 32; ++b) {
            if (t == 0) _mm_prefetch((const char*)(w + b * 32) + kPrefetchAhead, _MM_HINT_T0);
            const __m256i p = block(_mm256_loadu_si256((const __m256i*)(w + b * 32)), q + b * 32, r + b * 32);
            acc[b & 1] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(ws[b] * s[b]), acc[b & 1]);
        }
        out[t] = hsum_ps(_mm256_add_ps(acc[0], acc[1]));
    }
}

// Per block of 32: maddubs needs an unsigned operand, so it multiplies |w| by x carrying w's sign
// (pairs stay below 2 * 127 * 127, no saturation); madd by 254 or 1 weighs the two activation planes.
static void q8_dot(const int8_t* w, const float* ws, const int8_t* xq, const float* xs, const float*, uint32_t k, uint32_t n_tokens,
                   float* out) {
    const __m256i ones = _mm256_set1_epi16(1), w254 = _mm256_set1_epi16(254);
    q8_dot_blocks(w, ws, xq, xs, k, n_tokens, out, [&](__m256i wv, const int8_t* q, const int8_t* r) {
        const __m256i aw = _mm256_sign_epi8(wv, wv);
        const __m256i pq = _mm256_maddubs_epi16(aw, _mm256_sign_epi8(_mm256_loadu_si256((const __m256i*)q), wv));
        const __m256i pr = _mm256_maddubs_epi16(aw, _mm256_sign_epi8(_mm256_loadu_si256((const __m256i*)r), wv));
        return _mm256_add_epi32(_mm256_madd_epi16(pq, w254), _mm256_madd_epi16(pr, ones));
    });
}

const Kernels kKernelsAvx2 = {"avx2", cpu_supports, nullptr, i2s_dot, f16_dot_avx2, attn_scores_avx2, attn_values_avx2, q8_dot};

// Helpers shared by the x86 kernel files. Each includer compiles them for its own instruction set:
// `static` keeps every copy private to its file, so an AVX-512 build of a helper can never be linked
// into the AVX2 kernels.
#pragma once
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

// The 32 bytes of one 128-element block hold element p's code in byte p % 32, bits 7:6 for p < 32,
// 5:4 for p < 64, 3:2 for p < 96, 1:0 for the rest: four shifts give four vectors of 32 codes.
static inline void decode_block(const uint8_t* p, __m256i c[4]) {
    const __m256i mask = _mm256_set1_epi8(3);
    const __m256i b = _mm256_loadu_si256((const __m256i*)p);
    c[0] = _mm256_and_si256(_mm256_srli_epi16(b, 6), mask);
    c[1] = _mm256_and_si256(_mm256_srli_epi16(b, 4), mask);
    c[2] = _mm256_and_si256(_mm256_srli_epi16(b, 2), mask);
    c[3] = _mm256_and_si256(b, mask);
}

static inline int32_t hsum_epi32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
}

static inline float hsum_ps(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

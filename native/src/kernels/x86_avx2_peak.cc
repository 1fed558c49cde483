// See x86_avx2_peak.h. Built with -mavx2; only called when cpuid reports AVX2.
#include "x86_avx2_peak.h"

#include <immintrin.h>

int32_t avx2_maddubs_add_rounds(uint64_t rounds) {
    alignas(32) int8_t act[256];
    for (int i = 0; i < 256; ++i) act[i] = (int8_t)(i * 37);
    const __m256i c0 = _mm256_set1_epi8(1), c1 = _mm256_set1_epi8(2);
    // Eight chains in named variables: GCC keeps an array of vectors in memory once asm touches it.
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    for (uint64_t i = 0; i < rounds; ++i) {
        const int8_t* p = act + (i & 1) * 128;
        const auto pair = [p](__m256i& acc, __m256i codes, int offset) {
            acc = _mm256_add_epi16(acc, _mm256_maddubs_epi16(codes, _mm256_load_si256((const __m256i*)(p + offset))));
            __asm__("" : "+x"(acc));  // kept in its register, each chain on its own: no reassociation
        };
        pair(a0, c0, 0), pair(a1, c0, 32), pair(a2, c0, 64), pair(a3, c0, 96);
        pair(a4, c1, 0), pair(a5, c1, 32), pair(a6, c1, 64), pair(a7, c1, 96);
    }
    const __m256i s = _mm256_add_epi16(_mm256_add_epi16(_mm256_add_epi16(a0, a1), _mm256_add_epi16(a2, a3)),
                                       _mm256_add_epi16(_mm256_add_epi16(a4, a5), _mm256_add_epi16(a6, a7)));
    return _mm256_extract_epi16(s, 0);
}

// The reference kernel: plain C++, exact, and the oracle every SIMD kernel is tested against.
#include "i2s.h"

int32_t i2s_dot_scalar(const uint8_t* row, const int8_t* q, uint32_t k) {
    int32_t sum = 0;
    for (uint32_t b = 0; b < k / 128; ++b) {
        const uint8_t* block = row + b * 32;
        const int8_t* qb = q + b * 128;
        for (uint32_t p = 0; p < 32; ++p) {
            const uint8_t byte = block[p];
            sum += ((int32_t)(byte >> 6) - 1) * qb[p];
            sum += ((int32_t)((byte >> 4) & 3) - 1) * qb[p + 32];
            sum += ((int32_t)((byte >> 2) & 3) - 1) * qb[p + 64];
            sum += ((int32_t)(byte & 3) - 1) * qb[p + 96];
        }
    }
    return sum;
}

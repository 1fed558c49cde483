// The reference kernels: plain C++, exact for the ternary dot, and the oracle every SIMD kernel is
// tested against.
#include "act_quant.h"
#include "kernels.h"
#include "../fp16.h"

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

namespace {

void i2s_dot(const uint8_t* rows, uint32_t n_rows, const int8_t* q, size_t q_stride, const int32_t*, uint32_t k, uint32_t n_tokens,
             int32_t* out, size_t out_stride) {
    for (uint32_t r = 0; r < n_rows; ++r)
        for (uint32_t t = 0; t < n_tokens; ++t) out[t * out_stride + r] = i2s_dot_scalar(rows + (size_t)r * (k / 4), q + t * q_stride, k);
}

void f16_dot(const uint16_t* e, const float* x, size_t x_stride, uint32_t k, uint32_t n_tokens, float* out) {
    for (uint32_t t = 0; t < n_tokens; ++t) {
        const float* xt = x + t * x_stride;
        float acc[4] = {0, 0, 0, 0};
        uint32_t i = 0;
        for (; i + 4 <= k; i += 4)
            for (uint32_t u = 0; u < 4; ++u) acc[u] += g_fp16.v[e[i + u]] * xt[i + u];
        for (; i < k; ++i) acc[0] += g_fp16.v[e[i]] * xt[i];
        out[t] = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    }
}

void attn_scores(const float* q, uint32_t n_q, const uint16_t* k, size_t k_stride, uint32_t n_k, uint32_t dim, float* s, size_t s_stride) {
    for (uint32_t i = 0; i < n_q; ++i)
        for (uint32_t j = 0; j < n_k; ++j) {
            const float* qi = q + (size_t)i * dim;
            const uint16_t* kj = k + j * k_stride;
            float sum = 0;
            for (uint32_t d = 0; d < dim; ++d) sum += qi[d] * g_fp16.v[kj[d]];
            s[i * s_stride + j] = sum;
        }
}

void attn_values(const float* p, size_t p_stride, const uint32_t* n_keys, uint32_t n_q, const uint16_t* v, size_t v_stride, uint32_t dim,
                 float* out) {
    for (uint32_t i = 0; i < n_q; ++i)
        for (uint32_t j = 0; j < n_keys[i]; ++j) {
            const float a = p[i * p_stride + j];
            const uint16_t* vj = v + j * v_stride;
            for (uint32_t d = 0; d < dim; ++d) out[(size_t)i * dim + d] += a * g_fp16.v[vj[d]];
        }
}

void q8_dot(const int8_t* w, const float* ws, const int8_t* xq, const float* xs, const float*, uint32_t k, uint32_t n_tokens, float* out) {
    for (uint32_t t = 0; t < n_tokens; ++t) {
        const int8_t* q = xq + (size_t)t * 2 * k;
        const int8_t* r = q + k;
        const float* s = xs + (size_t)t * (k / 32);
        float sum = 0;
        for (uint32_t b = 0; b < k / 32; ++b) {
            int32_t dq = 0, dr = 0;
            for (uint32_t i = b * 32; i < b * 32 + 32; ++i) {
                dq += w[i] * q[i];
                dr += w[i] * r[i];
            }
            sum += ws[b] * s[b] * (float)(254 * dq + dr);
        }
        out[t] = sum;
    }
}

// The reference runs everywhere.
bool cpu_supports() { return true; }

}  // namespace

const Kernels kKernelsScalar = {"scalar", cpu_supports, nullptr, i2s_dot, f16_dot, attn_scores, attn_values, q8_dot};

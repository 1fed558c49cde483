// The compute kernels of one instruction set, chosen once at run time (cpuid; getauxval on ARM).
// Every SIMD kernel has a scalar reference in kernels_scalar.cc and is tested against it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

// out[t * out_stride + r] = sum_i w_r[i] * q[t * q_stride + i] exactly, for r < n_rows and t < n_tokens
// (1..kMaxTileTokens), over n_rows packed ternary rows of k elements (k a multiple of 128, row r at
// rows + r * k / 4) in this set's layout (see i2s_repack). Rows come many to a call, so the call's cost
// is spread over them and a kernel can share each activation load among several rows.
// qsum[t] = sum_i q[t][i], precomputed by the quantizer: SIMD kernels multiply the biased codes (w + 1)
// and subtract it.
using I2sDotFn = void (*)(const uint8_t* rows, uint32_t n_rows, const int8_t* q, size_t q_stride, const int32_t* qsum,
                          uint32_t k, uint32_t n_tokens, int32_t* out, size_t out_stride);

// out[t] = sum_i f16(e[i]) * x[t * x_stride + i] in float, for t < n_tokens (1..kMaxTileTokens), any k.
// Summation order differs between kernels (results agree to float rounding) but not between tokens.
using F16DotFn = void (*)(const uint16_t* e, const float* x, size_t x_stride, uint32_t k, uint32_t n_tokens, float* out);

// Attention over F16 keys and values (the KV cache), many query rows a call so that each converted K or
// V row serves them all. Each (row, key) sum is made in one fixed order whatever the call's row and key
// counts, so a token evaluated alone gets the bits it gets in a batch. Rows are dim floats each.
// s[i * s_stride + j] = sum_d q[i][d] * f16(k[j * k_stride + d]) for i < n_q, j < n_k; any dim.
using AttnScoresFn = void (*)(const float* q, uint32_t n_q, const uint16_t* k, size_t k_stride, uint32_t n_k, uint32_t dim, float* s,
                              size_t s_stride);
// out[i][d] += p[i * p_stride + j] * f16(v[j * v_stride + d]) for j = 0, 1, ... n_keys[i] - 1 in that
// order, for i < n_q; any dim.
using AttnValuesFn = void (*)(const float* p, size_t p_stride, const uint32_t* n_keys, uint32_t n_q, const uint16_t* v, size_t v_stride,
                              uint32_t dim, float* out);

// The int8 output head. Activations come as two int8 planes per token (xq[t][0..k) and, after it, a
// residual plane xq[t][k..2k)) with x ~ xs[b] * (254 * q + r) per block of 32 (q8 activation rounding
// alone would add as much error as the weights' own). out[t] = sum_b ws[b] * xs[t][b] *
// (254 * sum_i w[i] q[i] + sum_i w[i] r[i]); token t's planes start at t * 2k, its scales at t * k / 32.
// xsum[t][b] = xs[t][b] * (254 * sum q + sum r), each block's sum in the same units, serves kernels
// that read the weights offset by 128 (q8_block_sums). All values are in [-127, 127].
using Q8DotFn = void (*)(const int8_t* w, const float* ws, const int8_t* xq, const float* xs, const float* xsum, uint32_t k,
                         uint32_t n_tokens, float* out);

// Rewrites one packed ternary row of k elements, in place, into the layout this set's i2s_dot reads
// (done once at load; nullptr: the file's layout as it is).
using I2sRepackFn = void (*)(uint8_t* row, uint32_t k);

// Whether this CPU runs a set: cpuid on x86, getauxval(AT_HWCAP) on ARM. Each set's check sits in its
// own file, beside its kernels; it is integer code only, so the file's instruction-set flags put no
// instruction the CPU may lack into it.
using CpuSupportsFn = bool (*)();

struct Kernels {
    const char* name;
    CpuSupportsFn cpu_supports;
    I2sRepackFn i2s_repack;
    I2sDotFn i2s_dot;
    F16DotFn f16_dot;
    AttnScoresFn attn_scores;
    AttnValuesFn attn_values;
    Q8DotFn q8_dot;
};

// Most tokens one kernel call handles (the tile a row's decoded weights are reused over).
constexpr uint32_t kMaxTileTokens = 8;

// The best kernels this CPU runs, or those named by BITNETD_KERNEL (an error if this CPU lacks them).
const Kernels& kernels_active();
// Every kernel set this CPU can run, the scalar reference first.
std::vector<const Kernels*> kernels_available();
// A kernel set by name, or nullptr when unknown or unsupported here.
const Kernels* kernels_find(const char* name);

// Per-ISA sets (defined in their own translation units; absent from builds for other architectures),
// and the F16 functions the VNNI and dotprod sets reuse.
extern const Kernels kKernelsScalar;
#if defined(__x86_64__)
extern const Kernels kKernelsAvx2;
extern const Kernels kKernelsAvx512Vnni;
void f16_dot_avx2(const uint16_t* e, const float* x, size_t x_stride, uint32_t k, uint32_t n_tokens, float* out);
void attn_scores_avx2(const float* q, uint32_t n_q, const uint16_t* k, size_t k_stride, uint32_t n_k, uint32_t dim, float* s, size_t s_stride);
void attn_values_avx2(const float* p, size_t p_stride, const uint32_t* n_keys, uint32_t n_q, const uint16_t* v, size_t v_stride,
                      uint32_t dim, float* out);
#endif
#if defined(__aarch64__) || defined(__arm__)
extern const Kernels kKernelsNeon;
void f16_dot_neon(const uint16_t* e, const float* x, size_t x_stride, uint32_t k, uint32_t n_tokens, float* out);
void attn_scores_neon(const float* q, uint32_t n_q, const uint16_t* k, size_t k_stride, uint32_t n_k, uint32_t dim, float* s, size_t s_stride);
void attn_values_neon(const float* p, size_t p_stride, const uint32_t* n_keys, uint32_t n_q, const uint16_t* v, size_t v_stride,
                      uint32_t dim, float* out);
#endif
#if defined(__aarch64__)
extern const Kernels kKernelsDotprod;
#endif

// The kernels' own entry points, for the kernel tests (each SIMD set against the scalar reference)
// and the bench's bandwidth probe: not used by the engine.
#include <napi.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <vector>

#include "addon_args.h"
#include "addon_kernels.h"
#include "kernels/act_quant.h"
#include "kernels/kernels.h"
#if defined(__x86_64__)
#include "kernels/x86_avx2_peak.h"
#endif
#include "threadpool.h"
#include "weight_arena.h"

namespace {

// The optional nTokens argument of the kernel test functions (1 when absent).
uint32_t tile_tokens(Napi::Env env, const Napi::Value& v) {
    return v.IsUndefined() ? 1 : checked_uint(env, v, "nTokens", 1, kMaxTileTokens);
}

template <typename T>
Napi::Array to_array(Napi::Env env, const T* values, uint32_t n) {
    Napi::Array out = Napi::Array::New(env, n);
    for (uint32_t i = 0; i < n; ++i) out.Set(i, Napi::Number::New(env, values[i]));
    return out;
}

// The typed array argument i of a kernel test function, or a TypeError showing its signature.
template <typename Array>
Array typed_arg(const Napi::CallbackInfo& info, size_t i, napi_typedarray_type type, const char* signature) {
    if (!info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != type)
        throw Napi::TypeError::New(info.Env(), signature);
    return info[i].As<Array>();
}

// i2sDot(packedRows, q, nTokens = 1, kernel?): a kernel's exact sums of packed rows (laid end to end,
// each k / 4 bytes) with nTokens activation rows of k elements laid end to end in q, for the kernel
// tests: result[t * nRows + r].
Napi::Value I2sDot(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const char* sig = "i2sDot(packedRows: Uint8Array, q: Int8Array, nTokens?: number, kernel?: string)";
    Napi::Uint8Array w = typed_arg<Napi::Uint8Array>(info, 0, napi_uint8_array, sig);
    Napi::Int8Array q = typed_arg<Napi::Int8Array>(info, 1, napi_int8_array, sig);
    const uint32_t n = tile_tokens(env, info[2]);
    const Kernels& kern = kernels_named(env, info[3]);
    const size_t k = q.ElementLength() / n;
    if (k == 0 || k % 128 != 0 || q.ElementLength() != k * n || w.ElementLength() == 0 || w.ElementLength() % (k / 4) != 0)
        throw Napi::RangeError::New(env, "i2sDot: q must hold nTokens rows of a multiple of 128 elements and packedRows whole rows of a quarter that many bytes");
    const size_t n_rows = w.ElementLength() / (k / 4);
    int32_t qsum[kMaxTileTokens] = {0};
    for (uint32_t t = 0; t < n; ++t)
        for (size_t i = 0; i < k; ++i) qsum[t] += q.Data()[t * k + i];
    std::vector<uint8_t> rows(w.Data(), w.Data() + w.ElementLength());  // in the file's layout, as given
    if (kern.i2s_repack)
        for (size_t r = 0; r < n_rows; ++r) kern.i2s_repack(rows.data() + r * (k / 4), (uint32_t)k);
    std::vector<int32_t> out(n * n_rows);
    kern.i2s_dot(rows.data(), (uint32_t)n_rows, q.Data(), k, qsum, (uint32_t)k, n, out.data(), n_rows);
    return to_array(env, out.data(), (uint32_t)out.size());
}

// f16Dot(e: Uint16Array, x: Float32Array, nTokens = 1, kernel?): a kernel's F16 row dot products.
Napi::Value F16Dot(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const char* sig = "f16Dot(e: Uint16Array, x: Float32Array, nTokens?: number, kernel?: string)";
    Napi::Uint16Array e = typed_arg<Napi::Uint16Array>(info, 0, napi_uint16_array, sig);
    Napi::Float32Array x = typed_arg<Napi::Float32Array>(info, 1, napi_float32_array, sig);
    const uint32_t n = tile_tokens(env, info[2]);
    const Kernels& kern = kernels_named(env, info[3]);
    const size_t k = e.ElementLength();
    if (k == 0 || x.ElementLength() != k * n) throw Napi::RangeError::New(env, "f16Dot: x must be nTokens times as long as e");
    float out[kMaxTileTokens];
    kern.f16_dot(e.Data(), x.Data(), k, (uint32_t)k, n, out);
    return to_array(env, out, n);
}

// q8Dot(w, ws, xq, xs, nTokens = 1, kernel?): a kernel's int8-head dot products of one row (w with a
// scale per 32 in ws) with nTokens activations (kernels.h, Q8DotFn: planes xq, block scales xs).
Napi::Value Q8Dot(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const char* sig = "q8Dot(w: Int8Array, ws: Float32Array, xq: Int8Array, xs: Float32Array, nTokens?: number, kernel?: string)";
    Napi::Int8Array w = typed_arg<Napi::Int8Array>(info, 0, napi_int8_array, sig);
    Napi::Float32Array ws = typed_arg<Napi::Float32Array>(info, 1, napi_float32_array, sig);
    Napi::Int8Array xq = typed_arg<Napi::Int8Array>(info, 2, napi_int8_array, sig);
    Napi::Float32Array xs = typed_arg<Napi::Float32Array>(info, 3, napi_float32_array, sig);
    const uint32_t n = tile_tokens(env, info[4]);
    const Kernels& kern = kernels_named(env, info[5]);
    const size_t k = w.ElementLength();
    if (k == 0 || k % 32 != 0 || ws.ElementLength() != k / 32 || xq.ElementLength() != 2 * k * n || xs.ElementLength() != n * k / 32)
        throw Napi::RangeError::New(env, "q8Dot: w needs a multiple of 32 values, ws one scale per 32, xq 2 * nTokens rows and xs nTokens * k / 32 scales");
    std::vector<float> xsum(xs.ElementLength());
    q8_block_sums(xq.Data(), xs.Data(), n, (uint32_t)k, xsum.data());
    float out[kMaxTileTokens];
    kern.q8_dot(w.Data(), ws.Data(), xq.Data(), xs.Data(), xsum.data(), (uint32_t)k, n, out);
    return to_array(env, out, n);
}

// attnScores(q, k, dim, kernel?): a kernel's attention scores of q.length / dim query rows against
// k.length / dim F16 keys, row-major (kernels.h, AttnScoresFn).
Napi::Value AttnScores(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const char* sig = "attnScores(q: Float32Array, k: Uint16Array, dim: number, kernel?: string)";
    Napi::Float32Array q = typed_arg<Napi::Float32Array>(info, 0, napi_float32_array, sig);
    Napi::Uint16Array k = typed_arg<Napi::Uint16Array>(info, 1, napi_uint16_array, sig);
    const uint32_t dim = checked_uint(env, info[2], "dim", 1, 1 << 16);
    const Kernels& kern = kernels_named(env, info[3]);
    if (q.ElementLength() % dim != 0 || k.ElementLength() % dim != 0 || q.ElementLength() == 0 || k.ElementLength() == 0)
        throw Napi::RangeError::New(env, "attnScores: q and k must hold whole rows of dim values");
    const uint32_t n_q = (uint32_t)(q.ElementLength() / dim), n_k = (uint32_t)(k.ElementLength() / dim);
    Napi::Float32Array s = Napi::Float32Array::New(env, (size_t)n_q * n_k);
    kern.attn_scores(q.Data(), n_q, k.Data(), dim, n_k, dim, s.Data(), n_k);
    return s;
}

// attnValues(p, nKeys, v, out, kernel?): out + the weighted sums of F16 value rows, as a new array, for
// nKeys.length rows (kernels.h, AttnValuesFn); p holds a weight per row and value row.
Napi::Value AttnValues(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const char* sig = "attnValues(p: Float32Array, nKeys: Uint32Array, v: Uint16Array, out: Float32Array, kernel?: string)";
    Napi::Float32Array p = typed_arg<Napi::Float32Array>(info, 0, napi_float32_array, sig);
    Napi::Uint32Array n_keys = typed_arg<Napi::Uint32Array>(info, 1, napi_uint32_array, sig);
    Napi::Uint16Array v = typed_arg<Napi::Uint16Array>(info, 2, napi_uint16_array, sig);
    Napi::Float32Array out = typed_arg<Napi::Float32Array>(info, 3, napi_float32_array, sig);
    const Kernels& kern = kernels_named(env, info[4]);
    const size_t n_q = n_keys.ElementLength();
    if (n_q == 0 || out.ElementLength() % n_q != 0 || out.ElementLength() == 0)
        throw Napi::RangeError::New(env, "attnValues: out must hold one row of dim values per entry of nKeys");
    const size_t dim = out.ElementLength() / n_q;
    if (v.ElementLength() % dim != 0 || p.ElementLength() != n_q * (v.ElementLength() / dim))
        throw Napi::RangeError::New(env, "attnValues: v must hold whole rows and p one weight per row and value row");
    const size_t n_v = v.ElementLength() / dim;
    for (size_t i = 0; i < n_q; ++i)
        if (n_keys[i] > n_v) throw Napi::RangeError::New(env, "attnValues: a row sees more keys than v holds");
    Napi::Float32Array result = Napi::Float32Array::New(env, out.ElementLength());
    std::memcpy(result.Data(), out.Data(), out.ElementLength() * sizeof(float));
    kern.attn_values(p.Data(), n_v, n_keys.Data(), (uint32_t)n_q, v.Data(), dim, (uint32_t)dim, result.Data());
    return result;
}

// probeBandwidth(megabytes, threads): the best of five timed reads of a buffer, in GB/s. glibc's
// memchr is vectorized for the CPU it runs on, so it reads at the memory's speed on every architecture.
Napi::Value ProbeBandwidth(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const uint32_t mb = checked_uint(env, info[0], "megabytes", 16, 1 << 16);
    const int threads = (int)checked_uint(env, info[1], "threads", 1, 256);
    const size_t bytes = (size_t)mb << 20;
    WeightArena buf(bytes);
    std::memset(buf.base, 1, bytes);
    ThreadPool pool(threads);
    double best = 0;
    for (int rep = 0; rep < 5; ++rep) {
        std::atomic<size_t> found{0};  // memchr's result is used, so the reads cannot be optimized away
        const auto t0 = std::chrono::steady_clock::now();
        pool.run([&](int ith, int nth) {
            const size_t per = bytes / nth;
            if (std::memchr(buf.base + per * ith, 0xff, per)) found++;
        });
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        best = std::max(best, bytes / s / 1e9);
    }
    return Napi::Number::New(env, best);
}

#if defined(__x86_64__)
// probeAvx2Peak(threads): the AVX2 multiply-add ceiling (kernels/x86_avx2_peak.h) over that many
// threads, in billions of maddubs + add pairs a second (the best of five runs of 800 M pairs a thread,
// about 0.2 s each); null when this CPU lacks AVX2.
Napi::Value ProbeAvx2Peak(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const int threads = (int)checked_uint(env, info[0], "threads", 1, 256);
    if (!kernels_find("avx2")) return env.Null();
    constexpr uint64_t kRounds = 100'000'000;
    ThreadPool pool(threads);
    std::atomic<int32_t> sink{0};  // the loops' checksums are used, so they cannot be optimized away
    double best = 0;
    for (int rep = 0; rep < 5; ++rep) {
        const auto t0 = std::chrono::steady_clock::now();
        pool.run([&](int, int) { sink += avx2_maddubs_add_rounds(kRounds); });
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        best = std::max(best, (double)kRounds * kAvx2PeakPairsPerRound * threads / s / 1e9);
    }
    return Napi::Number::New(env, best);
}
#endif

}  // namespace

void export_kernel_probes(Napi::Env env, Napi::Object exports) {
    Napi::Array names = Napi::Array::New(env);
    for (const Kernels* k : kernels_available()) names.Set(names.Length(), Napi::String::New(env, k->name));
    exports.Set("kernels", names);
    exports.Set("i2sDot", Napi::Function::New(env, I2sDot));
    exports.Set("f16Dot", Napi::Function::New(env, F16Dot));
    exports.Set("q8Dot", Napi::Function::New(env, Q8Dot));
    exports.Set("attnScores", Napi::Function::New(env, AttnScores));
    exports.Set("attnValues", Napi::Function::New(env, AttnValues));
    exports.Set("probeBandwidth", Napi::Function::New(env, ProbeBandwidth));
#if defined(__x86_64__)
    exports.Set("probeAvx2Peak", Napi::Function::New(env, ProbeAvx2Peak));
#endif
}

#include "forward.h"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <stdexcept>
#include <string>

#include "fp16.h"

const Fp16Table g_fp16;

namespace {

// y = x / sqrt(mean(x^2) + eps) * w, with the sum of squares in double as in ggml. Four partial sums
// (n is a multiple of 4 in every model) break the chain of dependent additions; in double the order
// changes nothing a float result can show.
void rmsnorm(float* y, const float* x, const float* w, uint32_t n, float eps) {
    double part[4] = {0, 0, 0, 0};
    uint32_t i = 0;
    for (; i + 4 <= n; i += 4)
        for (int j = 0; j < 4; ++j) part[j] += (double)x[i + j] * x[i + j];
    double ss = (part[0] + part[1]) + (part[2] + part[3]);
    for (; i < n; ++i) ss += (double)x[i] * x[i];
    const float scale = 1.0f / std::sqrt((float)(ss / n) + eps);
    for (uint32_t i = 0; i < n; ++i) y[i] = x[i] * scale * w[i];
}

void rmsnorm_rows(float* y, const float* x, const float* w, uint32_t n_rows, uint32_t n, float eps) {
    for (uint32_t t = 0; t < n_rows; ++t) rmsnorm(y + (size_t)t * n, x + (size_t)t * n, w, n, eps);
}

void add_row(float* y, const float* x, uint32_t n) {
    for (uint32_t i = 0; i < n; ++i) y[i] += x[i];
}

// The input of every BitLinear: token t's row of k, normalized into scratch, then quantized.
void norm_quantize(float* scratch, const float* x, const float* w, uint32_t t, uint32_t k, float eps, QuantizedActs& acts) {
    rmsnorm(scratch + (size_t)t * k, x + (size_t)t * k, w, k, eps);
    quantize_activation_row(scratch, t, acts);
}

// Runs fn(t) for every token t < n: spread over the pool in a prefill, where this per-token work would
// otherwise leave the other threads idle between matrix products; on this thread for a few tokens,
// where a handoff would cost more than the work.
template <typename Fn>
void for_each_token(ThreadPool& pool, uint32_t n, Fn fn) {
    if (n < 4 || pool.threads() == 1) {
        for (uint32_t t = 0; t < n; ++t) fn(t);
        return;
    }
    pool.run([&](int ith, int nth) {
        int t0, t1;
        split_range((int)n, ith, nth, t0, t1);
        for (int t = t0; t < t1; ++t) fn((uint32_t)t);
    });
}

// One BitLinear output: y[t][r] = sum_k w[r][k] * q[t][k] / s[t] * beta.
struct BitLinearOut {
    const I2SMatrix* w;
    float* y;
};

// BitLinears that read the same activations (Q, K and V; gate and up) run as one job: their rows are
// split across threads together, which saves a thread handoff per extra matrix.
// Each kernel call takes a group of rows and a tile of tokens, so a row's weights are decoded once per
// tile, not once per token; the group's weights (20-55 KB) stay in L2 while every token tile of a
// prefill passes over them, and decoding pays one call per group, not per row.
void bitlinear(ThreadPool& pool, const Kernels& kern, std::initializer_list<BitLinearOut> outs, const QuantizedActs& a) {
    constexpr int kRowGroup = 32;
    int total = 0;
    for (const BitLinearOut& o : outs) total += (int)o.w->rows;
    pool.run([&](int ith, int nth) {
        int r0, r1;
        split_range(total, ith, nth, r0, r1);
        int32_t dots[kMaxTileTokens * kRowGroup];
        int base = 0;  // first global row of the current matrix
        for (const BitLinearOut& o : outs) {
            const I2SMatrix& w = *o.w;
            const int lo = std::max(r0, base) - base, hi = std::min(r1, base + (int)w.rows) - base;
            base += (int)w.rows;
            for (int g0 = lo; g0 < hi; g0 += kRowGroup) {
                const uint32_t nr = (uint32_t)(std::min(hi, g0 + kRowGroup) - g0);
                for (uint32_t t0 = 0; t0 < a.n_tokens; t0 += kMaxTileTokens) {
                    const uint32_t nt = std::min(kMaxTileTokens, a.n_tokens - t0);
                    kern.i2s_dot(w.packed + (size_t)g0 * (w.cols / 4), nr, a.q.data() + (size_t)t0 * a.k, a.k, a.qsum.data() + t0, a.k, nt,
                                 dots, nr);
                    for (uint32_t t = 0; t < nt; ++t) {
                        const float s = a.scale[t0 + t];
                        float* y = o.y + (size_t)(t0 + t) * w.rows + g0;
                        for (uint32_t r = 0; r < nr; ++r) y[r] = (float)dots[t * nr + r] / s * w.scale;
                    }
                }
            }
        }
    });
}

// NEOX ("rotate half") RoPE: dimension i pairs with i + n_rot/2 inside each head.
void rope(float* v, uint32_t n_heads, uint32_t head_dim, uint32_t n_rot, const std::vector<double>& inv_freq, uint32_t pos) {
    const uint32_t half = n_rot / 2;
    for (uint32_t i = 0; i < half; ++i) {
        const double theta = pos * inv_freq[i];
        const float c = (float)std::cos(theta), s = (float)std::sin(theta);
        for (uint32_t h = 0; h < n_heads; ++h) {
            float* hv = v + (size_t)h * head_dim;
            const float x0 = hv[i], x1 = hv[i + half];
            hv[i] = x0 * c - x1 * s;
            hv[i + half] = x0 * s + x1 * c;
        }
    }
}

// Causal attention for tokens [pos0, pos0 + n) against the cache; query head h reads KV head h / group.
// A task is one KV head, a block of tokens and some of the heads that share that KV head: the kernels
// take its query rows together, so each K and V row is read and converted once per task, not once per
// query row. A prefill gives whole groups to a task; a decoding step, one token with too few tasks to
// share, one head each. Each score and each output element is summed in a fixed order, so the bits do
// not depend on how rows were grouped.
constexpr uint32_t kAttnTokens = 8;

void attention(Context& ctx, Workspace& ws, ThreadPool& pool, uint32_t layer, uint32_t pos0, uint32_t n) {
    const HParams& hp = ctx.model->hp;
    const uint32_t hd = hp.head_dim, group = hp.n_head / hp.n_head_kv, kvd = hp.kv_dim();
    const float scale = 1.0f / std::sqrt((float)hd);
    const Kernels& kern = *ctx.kernels;
    const uint32_t n_blocks = (n + kAttnTokens - 1) / kAttnTokens;
    const uint32_t heads_per_task = n_blocks * hp.n_head_kv >= 2u * (uint32_t)pool.threads() ? group : 1;
    const uint32_t tasks_per_kv = group / heads_per_task;
    const int n_tasks = (int)(hp.n_head_kv * n_blocks * tasks_per_kv);
    const uint32_t max_rows = kAttnTokens * heads_per_task;
    const uint32_t n_keys_max = pos0 + n;
    const size_t per_thread = (size_t)max_rows * (n_keys_max + 2 * hd);
    ws.attn_scratch.resize(pool.threads() * per_thread);
    ws.attn_keys.resize(pool.threads() * max_rows);
    pool.run([&](int ith, int nth) {
        float* scores = ws.attn_scratch.data() + ith * per_thread;
        float* q_rows = scores + (size_t)max_rows * n_keys_max;
        float* out_rows = q_rows + (size_t)max_rows * hd;
        uint32_t* n_keys = ws.attn_keys.data() + (size_t)ith * max_rows;
        int j0, j1;
        split_range(n_tasks, ith, nth, j0, j1);
        for (int j = j0; j < j1; ++j) {
            const uint32_t kvh = j / (n_blocks * tasks_per_kv), block = j / tasks_per_kv % n_blocks;
            const uint32_t h0 = kvh * group + j % tasks_per_kv * heads_per_task;
            const uint32_t t0 = block * kAttnTokens, nt = std::min(kAttnTokens, n - t0);
            const uint32_t rows = nt * heads_per_task, keys = pos0 + t0 + nt;
            for (uint32_t r = 0; r < rows; ++r) {
                const uint32_t t = t0 + r / heads_per_task, h = h0 + r % heads_per_task;
                std::copy_n(ws.q.data() + (size_t)t * hp.n_embd + h * hd, hd, q_rows + (size_t)r * hd);
                n_keys[r] = pos0 + t + 1;
            }
            kern.attn_scores(q_rows, rows, ctx.kv.k_at(layer, 0) + kvh * hd, kvd, keys, hd, scores, keys);
            for (uint32_t r = 0; r < rows; ++r) {
                float* sc = scores + (size_t)r * keys;
                float mx = -INFINITY;
                for (uint32_t p = 0; p < n_keys[r]; ++p) {
                    sc[p] *= scale;
                    mx = std::max(mx, sc[p]);
                }
                double sum = 0;
                for (uint32_t p = 0; p < n_keys[r]; ++p) {
                    sc[p] = std::exp(sc[p] - mx);
                    sum += sc[p];
                }
                const float inv = (float)(1.0 / sum);
                for (uint32_t p = 0; p < n_keys[r]; ++p) sc[p] *= inv;
            }
            std::fill(out_rows, out_rows + (size_t)rows * hd, 0.0f);
            kern.attn_values(scores, keys, n_keys, rows, ctx.kv.v_at(layer, 0) + kvh * hd, kvd, hd, out_rows);
            for (uint32_t r = 0; r < rows; ++r) {
                const uint32_t t = t0 + r / heads_per_task, h = h0 + r % heads_per_task;
                std::copy_n(out_rows + (size_t)r * hd, hd, ws.att.data() + (size_t)t * hp.n_embd + h * hd);
            }
        }
    });
}

// logits[row][v] = dot(E[v], x[row]) for the output matrix, vocabulary split across threads: F16 as in
// the file, or int8 rows against int8 blocks of x.
void output_logits(Context& ctx, Workspace& ws, ThreadPool& pool, const float* x, uint32_t n_rows, float* logits) {
    const Model& m = *ctx.model;
    const Kernels& kern = *ctx.kernels;
    const uint32_t d = m.hp.n_embd, nv = m.hp.n_vocab;
    const bool q8 = m.head == HeadMode::Q8;
    if (q8) {
        ws.head_q.resize((size_t)n_rows * d * 2);
        ws.head_s.resize((size_t)n_rows * d / 32);
        ws.head_sum.resize((size_t)n_rows * d / 32);
        quantize_q8_blocks(x, n_rows, d, ws.head_q.data(), ws.head_s.data(), ws.head_sum.data());
    }
    pool.run([&](int ith, int nth) {
        int v0, v1;
        split_range((int)nv, ith, nth, v0, v1);
        float dots[kMaxTileTokens];
        for (int v = v0; v < v1; ++v) {
            for (uint32_t r0 = 0; r0 < n_rows; r0 += kMaxTileTokens) {
                const uint32_t nr = std::min(kMaxTileTokens, n_rows - r0);
                if (q8) {
                    kern.q8_dot(m.output_q8 + (size_t)v * d, m.output_q8_scale + (size_t)v * d / 32, ws.head_q.data() + (size_t)r0 * d * 2,
                                ws.head_s.data() + (size_t)r0 * d / 32, ws.head_sum.data() + (size_t)r0 * d / 32, d, nr, dots);
                    for (uint32_t r = 0; r < nr; ++r) logits[(size_t)(r0 + r) * nv + v] = dots[r];
                } else {
                    kern.f16_dot(m.output + (size_t)v * d, x + (size_t)r0 * d, d, d, nr, dots);
                    for (uint32_t r = 0; r < nr; ++r) logits[(size_t)(r0 + r) * nv + v] = dots[r];
                }
            }
        }
    });
}

// The attention block of layer l: q, k, v from norm(x), RoPE, the new keys and values into the cache,
// attention, then wo(subnorm(attention)) into xb2, which feed_forward adds to x.
void attention_block(Context& ctx, Workspace& ws, ThreadPool& pool, uint32_t l, uint32_t n) {
    const HParams& hp = ctx.model->hp;
    const LayerWeights& L = ctx.model->layers[l];
    const uint32_t d = hp.n_embd, kvd = hp.kv_dim(), pos0 = ctx.n_past;
    const float eps = hp.norm_eps;
    const float* x = ws.x.data();
    acts_resize(ws.acts, n, d);
    for_each_token(pool, n, [&](uint32_t t) { norm_quantize(ws.xb.data(), x, L.attn_norm, t, d, eps, ws.acts); });
    bitlinear(pool, *ctx.kernels, {{&L.wq, ws.q.data()}, {&L.wk, ws.k.data()}, {&L.wv, ws.v.data()}}, ws.acts);
    for_each_token(pool, n, [&](uint32_t t) {
        float* qt = ws.q.data() + (size_t)t * d;
        float* kt = ws.k.data() + (size_t)t * kvd;
        rope(qt, hp.n_head, hp.head_dim, hp.n_rot, ctx.rope_inv_freq, pos0 + t);
        rope(kt, hp.n_head_kv, hp.head_dim, hp.n_rot, ctx.rope_inv_freq, pos0 + t);
        uint16_t* kc = ctx.kv.k_at(l, pos0 + t);
        uint16_t* vc = ctx.kv.v_at(l, pos0 + t);
        const float* vt = ws.v.data() + (size_t)t * kvd;
        for (uint32_t i = 0; i < kvd; ++i) {
            kc[i] = fp32_to_fp16(kt[i]);
            vc[i] = fp32_to_fp16(vt[i]);
        }
    });
    attention(ctx, ws, pool, l, pos0, n);
    for_each_token(pool, n, [&](uint32_t t) { norm_quantize(ws.xb.data(), ws.att.data(), L.attn_sub_norm, t, d, eps, ws.acts); });
    bitlinear(pool, *ctx.kernels, {{&L.wo, ws.xb2.data()}}, ws.acts);
}

// BitNet b1.58's feed-forward block, after the attention block's residual (its output, in xb2, is added
// to x here, fused with the norm): x += down(subnorm(relu(gate(n))^2 * up(n))), n = norm(x). A variant
// with another FFN changes this function and the layer's tensors (model.h).
void feed_forward(Context& ctx, Workspace& ws, ThreadPool& pool, const LayerWeights& L, uint32_t n) {
    const HParams& hp = ctx.model->hp;
    const uint32_t d = hp.n_embd, ff = hp.n_ff;
    const float eps = hp.norm_eps;
    float* x = ws.x.data();
    for_each_token(pool, n, [&](uint32_t t) {
        add_row(x + (size_t)t * d, ws.xb2.data() + (size_t)t * d, d);
        norm_quantize(ws.xb.data(), x, L.ffn_norm, t, d, eps, ws.acts);
    });
    bitlinear(pool, *ctx.kernels, {{&L.gate, ws.hb.data()}, {&L.up, ws.hb2.data()}}, ws.acts);
    acts_resize(ws.acts, n, ff);
    for_each_token(pool, n, [&](uint32_t t) {
        float* g = ws.hb.data() + (size_t)t * ff;
        const float* u = ws.hb2.data() + (size_t)t * ff;
        for (uint32_t i = 0; i < ff; ++i) {
            const float r = std::max(g[i], 0.0f);
            g[i] = r * r * u[i];
        }
        norm_quantize(ws.hb.data(), ws.hb.data(), L.ffn_sub_norm, t, ff, eps, ws.acts);
    });
    bitlinear(pool, *ctx.kernels, {{&L.down, ws.xb2.data()}}, ws.acts);
    for_each_token(pool, n, [&](uint32_t t) { add_row(x + (size_t)t * d, ws.xb2.data() + (size_t)t * d, d); });
}

enum class Logits { None, Last, All };

void eval_chunk(Context& ctx, Workspace& ws, ThreadPool& pool, const int32_t* tokens, uint32_t n, Logits want, uint32_t logit_row0) {
    const Model& m = *ctx.model;
    const HParams& hp = m.hp;
    const uint32_t d = hp.n_embd;
    float* x = ws.x.data();

    std::vector<uint16_t> row(d);
    for (uint32_t t = 0; t < n; ++t) {
        const uint16_t* e = embedding_row(m, tokens[t], row.data());
        for (uint32_t i = 0; i < d; ++i) x[(size_t)t * d + i] = g_fp16.v[e[i]];
    }

    for (uint32_t l = 0; l < hp.n_layer; ++l) {
        attention_block(ctx, ws, pool, l, n);
        feed_forward(ctx, ws, pool, m.layers[l], n);
    }

    ctx.n_past += n;
    if (want == Logits::None) return;
    // Only the rows whose logits are wanted go through the final norm and the (large) output matrix.
    const uint32_t first = want == Logits::All ? 0 : n - 1;
    const uint32_t rows = n - first;
    rmsnorm_rows(ws.xb.data(), x + (size_t)first * d, m.output_norm, rows, d, hp.norm_eps);
    output_logits(ctx, ws, pool, ws.xb.data(), rows, ctx.logits.data() + (size_t)logit_row0 * hp.n_vocab);
}

}  // namespace

Workspace workspace_create(const HParams& hp, uint32_t n_batch) {
    Workspace w;
    w.n_batch = std::max(1u, n_batch);
    const size_t B = w.n_batch;
    w.x = LazyPages<float>(B * hp.n_embd);
    w.xb = LazyPages<float>(B * hp.n_embd);
    w.xb2 = LazyPages<float>(B * hp.n_embd);
    w.q = LazyPages<float>(B * hp.n_embd);
    w.att = LazyPages<float>(B * hp.n_embd);
    w.k = LazyPages<float>(B * hp.kv_dim());
    w.v = LazyPages<float>(B * hp.kv_dim());
    w.hb = LazyPages<float>(B * hp.n_ff);
    w.hb2 = LazyPages<float>(B * hp.n_ff);
    return w;
}

Context context_create(const Model& model, const Kernels& kernels, uint32_t n_ctx) {
    const HParams& hp = model.hp;
    Context c;
    c.model = &model;
    c.kernels = &kernels;
    c.kv.n_ctx = n_ctx;
    c.kv.kv_dim = hp.kv_dim();
    c.kv.k = LazyPages<uint16_t>((size_t)hp.n_layer * n_ctx * hp.kv_dim());
    c.kv.v = LazyPages<uint16_t>((size_t)hp.n_layer * n_ctx * hp.kv_dim());
    for (uint32_t i = 0; i < hp.n_rot / 2; ++i)
        c.rope_inv_freq.push_back(std::pow((double)hp.rope_base, -2.0 * i / hp.n_rot));
    return c;
}

void context_eval(Context& ctx, Workspace& ws, ThreadPool& pool, const int32_t* tokens, uint32_t n, bool all_logits) {
    const HParams& hp = ctx.model->hp;
    if (n == 0) throw std::runtime_error("nothing to evaluate: the token list is empty");
    if (n > ctx.kv.n_ctx - ctx.n_past)
        throw std::runtime_error("context is full: " + std::to_string(ctx.n_past) + " + " + std::to_string(n) +
                                 " tokens exceed the context size " + std::to_string(ctx.kv.n_ctx));
    for (uint32_t t = 0; t < n; ++t)
        if (tokens[t] < 0 || (uint32_t)tokens[t] >= hp.n_vocab)
            throw std::runtime_error("token id " + std::to_string(tokens[t]) + " is outside the vocabulary (0.." +
                                     std::to_string(hp.n_vocab - 1) + ")");
    ctx.n_logit_rows = all_logits ? n : 1;
    ctx.logits.resize((size_t)ctx.n_logit_rows * hp.n_vocab);
    for (uint32_t done = 0; done < n;) {
        const uint32_t chunk = std::min(ws.n_batch, n - done);
        const bool last = done + chunk == n;
        // Without all_logits only the final chunk's last token produces logits (row 0).
        const Logits want = all_logits ? Logits::All : last ? Logits::Last : Logits::None;
        eval_chunk(ctx, ws, pool, tokens + done, chunk, want, all_logits ? done : 0);
        done += chunk;
    }
}

void context_truncate(Context& ctx, uint32_t n_keep) {
    if (n_keep >= ctx.n_past) return;
    ctx.n_past = n_keep;
    const size_t n_ctx = ctx.kv.n_ctx, kvd = ctx.kv.kv_dim;
    for (uint32_t l = 0; l < ctx.model->hp.n_layer; ++l) {
        ctx.kv.k.release((l * n_ctx + n_keep) * kvd, (n_ctx - n_keep) * kvd);
        ctx.kv.v.release((l * n_ctx + n_keep) * kvd, (n_ctx - n_keep) * kvd);
    }
}

size_t context_kv_bytes_used(const Context& ctx) { return (size_t)ctx.n_past * ctx.model->hp.n_layer * ctx.kv.kv_dim * 2 * sizeof(uint16_t); }

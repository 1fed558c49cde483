// One inference context over a model: its KV cache, scratch buffers and the forward pass (spec §1.2).
#pragma once
#include <cstdint>
#include <vector>

#include "kernels/act_quant.h"
#include "kernels/kernels.h"
#include "lazy_pages.h"
#include "model.h"
#include "threadpool.h"

struct KVCache {
    uint32_t n_ctx = 0;
    uint32_t kv_dim = 0;
    LazyPages<uint16_t> k, v;  // F16 [layer][position][kv_dim], like bitnet.cpp's default cache
    uint16_t* k_at(uint32_t layer, uint32_t pos) { return k.data() + ((size_t)layer * n_ctx + pos) * kv_dim; }
    uint16_t* v_at(uint32_t layer, uint32_t pos) { return v.data() + ((size_t)layer * n_ctx + pos) * kv_dim; }
};

// Scratch a forward pass works in, for batches of up to n_batch tokens. A model evaluates one context
// at a time, so all its contexts share one workspace and each holds only its KV cache: a pool of
// cached prompts costs their KV cache, not another batch's worth of buffers each. Resident only as far
// as a batch that long has used it.
struct Workspace {
    uint32_t n_batch = 0;
    LazyPages<float> x, xb, xb2, q, k, v, att, hb, hb2;
    std::vector<float> attn_scratch;     // per thread: an attention task's scores, query and output rows
    std::vector<uint32_t> attn_keys;     // per thread: the keys each of those rows sees
    QuantizedActs acts;
    AlignedVector<int8_t> head_q;           // the final hidden states in int8 blocks, for the Q8 head
    AlignedVector<float> head_s, head_sum;  // their block scales and sums
};

Workspace workspace_create(const HParams& hp, uint32_t n_batch);

struct Context {
    const Model* model = nullptr;
    const Kernels* kernels = nullptr;
    KVCache kv;
    uint32_t n_past = 0;   // positions filled in the cache
    std::vector<double> rope_inv_freq;

    // Logits of the evaluated positions that were asked for: [n_logit_rows][n_vocab].
    std::vector<float> logits;
    uint32_t n_logit_rows = 0;
};

Context context_create(const Model& model, const Kernels& kernels, uint32_t n_ctx);

// Appends tokens at position n_past, in chunks of the workspace's n_batch. all_logits: keep the logits
// of every token, else only the last. Throws std::runtime_error on a bad token id or a full context;
// the cache is then unchanged.
void context_eval(Context& ctx, Workspace& ws, ThreadPool& pool, const int32_t* tokens, uint32_t n_tokens, bool all_logits);

// Forgets every position from n_keep on (the cache keeps its prefix for the next prompt) and gives
// their memory back.
void context_truncate(Context& ctx, uint32_t n_keep);

// Bytes of KV cache the filled positions take.
size_t context_kv_bytes_used(const Context& ctx);

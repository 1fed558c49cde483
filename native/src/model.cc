#include "model.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "fp16.h"

namespace {

[[noreturn]] void fail(const Model& m, const std::string& what) {
    throw std::runtime_error(m.file.path + ": " + what);
}

std::string shape_str(const uint64_t* ne, uint32_t n) {
    std::string s = "{";
    for (uint32_t i = 0; i < n; ++i) s += (i ? ", " : "") + std::to_string(ne[i]);
    return s + "}";
}

const GgufTensor& require(const Model& m, const std::string& name, GgmlType type,
                          std::initializer_list<uint64_t> shape) {
    const GgufTensor* t = m.file.tensor(name);
    if (!t) fail(m, "required tensor " + name + " is missing");
    if (t->type != type)
        fail(m, "tensor " + name + " is " + ggml_type_name(t->type) + ", expected " + ggml_type_name(type));
    uint64_t want[4] = {1, 1, 1, 1};
    uint32_t n = 0;
    for (uint64_t v : shape) want[n++] = v;
    bool ok = true;
    for (uint32_t d = 0; d < 4; ++d) ok = ok && t->ne[d] == want[d];
    if (!ok) fail(m, "tensor " + name + " has shape " + shape_str(t->ne, t->n_dims) + ", expected " + shape_str(want, n));
    return *t;
}

const float* norm_weight(const Model& m, const std::string& name, uint32_t n) {
    return reinterpret_cast<const float*>(require(m, name, GgmlType::F32, {n}).data);
}

I2SMatrix ternary(const Model& m, const std::string& name, uint32_t cols, uint32_t rows) {
    const GgufTensor& t = require(m, name, GgmlType::I2_S, {cols, rows});
    I2SMatrix w;
    w.packed = t.data;
    w.rows = rows;
    w.cols = cols;
    std::memcpy(&w.scale, t.data + (uint64_t)rows * cols / 4, sizeof(float));
    if (!(w.scale > 0.0f) || w.scale > 1e30f)
        fail(m, "tensor " + name + " has an invalid scale " + std::to_string(w.scale));
    return w;
}

uint32_t u32_key(const Model& m, const std::string& key) {
    uint64_t v = m.file.get_uint(key);
    if (v == 0 || v > (1u << 30)) fail(m, "metadata key " + key + " has an absurd value " + std::to_string(v));
    return (uint32_t)v;
}

// Rows [v0, v1) of the F16 output matrix as int8, one absmax scale per block of 32. The file pages
// are dropped as soon as a chunk is converted, so the F16 matrix is never resident beside the int8 one.
void quantize_head_rows(const Model& m, int8_t* q, float* scale, uint32_t v0, uint32_t v1) {
    const size_t d = m.hp.n_embd;
    constexpr uint32_t kChunkRows = 256;
    for (uint32_t c0 = v0; c0 < v1; c0 += kChunkRows) {
        const uint32_t c1 = std::min(v1, c0 + kChunkRows);
        for (size_t b = (size_t)c0 * d / 32; b < (size_t)c1 * d / 32; ++b) {
            const uint16_t* w = m.output + b * 32;
            float amax = 0;
            for (int i = 0; i < 32; ++i) amax = std::max(amax, std::fabs(g_fp16.v[w[i]]));
            const float s = amax > 0 ? amax / 127.0f : 1.0f;
            for (int i = 0; i < 32; ++i) q[b * 32 + i] = (int8_t)std::nearbyint(g_fp16.v[w[i]] / s);
            scale[b] = s;
        }
        release_mapped_range(m.output + (size_t)c0 * d, (size_t)(c1 - c0) * d * 2);
    }
}

// Copies the weights every token reads (ternary matrices, output matrix, norms) into one huge-page arena
// and drops their file pages, so they are resident once. The embedding stays in the file when it is not
// also the F16 output matrix: a token reads one row of it (embedding_row).
void place_weights(Model& m, const Kernels& kernels) {
    const size_t nv = m.hp.n_vocab, d = m.hp.n_embd;
    const size_t out_bytes = nv * d * 2;
    size_t total = (m.head == HeadMode::F16 ? out_bytes : nv * d + nv * d / 32 * sizeof(float)) + 128;
    for (const LayerMatrixSpec& spec : kLayerMatrices) total += m.hp.n_layer * ((size_t)m.hp.size(spec.rows) * m.hp.size(spec.cols) / 4 + 64);
    for (const LayerNormSpec& spec : kLayerNorms) total += m.hp.n_layer * (m.hp.size(spec.size) * sizeof(float) + 64);
    total += d * sizeof(float) + 64;  // the output norm
    m.arena = WeightArena(total);
    // In chunks, each released once copied: a 656 MB matrix is never resident twice.
    auto move = [&](const uint8_t* from, size_t bytes) {
        uint8_t* to = m.arena.take(bytes);
        constexpr size_t kChunk = 32u << 20;
        for (size_t at = 0; at < bytes; at += kChunk) {
            const size_t n = std::min(kChunk, bytes - at);
            std::memcpy(to + at, from + at, n);
            release_mapped_range(from + at, n);
        }
        return to;
    };
    // The norm weights (2 MB) as well, so that inference needs no page of the file map.
    auto move_floats = [&](const float*& w, size_t n) {
        w = reinterpret_cast<const float*>(move(reinterpret_cast<const uint8_t*>(w), n * sizeof(float)));
    };
    for (LayerWeights& L : m.layers)
        for (const LayerNormSpec& spec : kLayerNorms) move_floats(L.*spec.field, m.hp.size(spec.size));
    move_floats(m.output_norm, d);
    for (LayerWeights& L : m.layers)
        for (const LayerMatrixSpec& spec : kLayerMatrices) {
            I2SMatrix& w = L.*spec.field;
            uint8_t* packed = move(w.packed, (size_t)w.rows * w.cols / 4);
            if (kernels.i2s_repack)
                for (uint32_t r = 0; r < w.rows; ++r) kernels.i2s_repack(packed + (size_t)r * w.cols / 4, w.cols);
            w.packed = packed;
        }
    if (m.head == HeadMode::F16) {
        const bool tied = m.output == m.tok_embd;
        m.output = reinterpret_cast<const uint16_t*>(move(reinterpret_cast<const uint8_t*>(m.output), out_bytes));
        if (tied) m.tok_embd = m.output;
        return;
    }
    int8_t* q = reinterpret_cast<int8_t*>(m.arena.take(nv * d));
    float* scale = reinterpret_cast<float*>(m.arena.take(nv * d / 32 * sizeof(float)));
    const unsigned n = std::max(1u, std::min(8u, std::thread::hardware_concurrency()));
    std::vector<std::thread> workers;
    for (unsigned i = 0; i < n; ++i)
        workers.emplace_back(quantize_head_rows, std::cref(m), q, scale, (uint32_t)(nv * i / n), (uint32_t)(nv * (i + 1) / n));
    for (auto& w : workers) w.join();
    m.output_q8 = q;
    m.output_q8_scale = scale;
}

}  // namespace

const uint16_t* embedding_row(const Model& m, int32_t token, uint16_t* buf) {
    const size_t bytes = (size_t)m.hp.n_embd * sizeof(uint16_t);
    const uint8_t* row = reinterpret_cast<const uint8_t*>(m.tok_embd) + (size_t)token * bytes;
    if (row >= m.arena.base && row < m.arena.base + m.arena.size) return reinterpret_cast<const uint16_t*>(row);
    m.file.map.read_at((uint64_t)(row - m.file.map.data), buf, bytes);
    return buf;
}

Model model_load(const std::string& path, const Kernels& kernels, HeadMode head) {
    Model m;
    m.head = head;
    m.file = gguf_open(path);
    HParams& hp = m.hp;
    hp.arch = m.file.get_string("general.architecture");
    if (hp.arch != "bitnet-b1.58" && hp.arch != "bitnet-25")
        fail(m, "architecture '" + hp.arch + "' is not supported (expected bitnet-b1.58 or bitnet-25)");
    const std::string a = hp.arch + ".";

    hp.n_embd = u32_key(m, a + "embedding_length");
    hp.n_layer = u32_key(m, a + "block_count");
    hp.n_ff = u32_key(m, a + "feed_forward_length");
    hp.n_head = u32_key(m, a + "attention.head_count");
    hp.n_head_kv = m.file.has(a + "attention.head_count_kv") ? u32_key(m, a + "attention.head_count_kv") : hp.n_head;
    hp.n_ctx_train = u32_key(m, a + "context_length");
    hp.rope_base = (float)m.file.get_float(a + "rope.freq_base", 10000.0);
    hp.norm_eps = (float)m.file.get_float(a + "attention.layer_norm_rms_epsilon", 1e-5);
    if (hp.n_embd % hp.n_head != 0)
        fail(m, "embedding_length " + std::to_string(hp.n_embd) + " is not a multiple of head_count " + std::to_string(hp.n_head));
    if (hp.n_head % hp.n_head_kv != 0)
        fail(m, "head_count " + std::to_string(hp.n_head) + " is not a multiple of head_count_kv " + std::to_string(hp.n_head_kv));
    hp.head_dim = hp.n_embd / hp.n_head;
    hp.n_rot = m.file.has(a + "rope.dimension_count") ? u32_key(m, a + "rope.dimension_count") : hp.head_dim;
    if (hp.n_rot > hp.head_dim || hp.n_rot % 2 != 0)
        fail(m, "rope.dimension_count " + std::to_string(hp.n_rot) + " must be even and at most the head size " + std::to_string(hp.head_dim));
    if (!(hp.rope_base > 0) || !(hp.norm_eps > 0) || hp.norm_eps > 1)
        fail(m, "rope.freq_base and layer_norm_rms_epsilon must be positive");
    if (hp.n_embd % 128 != 0 || hp.n_ff % 128 != 0)
        fail(m, "embedding_length and feed_forward_length must be multiples of 128 for I2_S rows");

    const GgufTensor* embd = m.file.tensor("token_embd.weight");
    if (!embd) fail(m, "required tensor token_embd.weight is missing");
    hp.n_vocab = m.file.has(a + "vocab_size") ? u32_key(m, a + "vocab_size") : (uint32_t)embd->ne[1];
    m.tok_embd = reinterpret_cast<const uint16_t*>(require(m, "token_embd.weight", GgmlType::F16, {hp.n_embd, hp.n_vocab}).data);
    m.output = m.file.tensor("output.weight")
                   ? reinterpret_cast<const uint16_t*>(require(m, "output.weight", GgmlType::F16, {hp.n_embd, hp.n_vocab}).data)
                   : m.tok_embd;
    m.output_norm = norm_weight(m, "output_norm.weight", hp.n_embd);

    // Every layer has its tensors in the file: a corrupt block_count must not size memory first.
    const size_t per_layer = std::size(kLayerMatrices) + std::size(kLayerNorms);
    if (hp.n_layer > m.file.tensors.size() / per_layer)
        fail(m, "block_count " + std::to_string(hp.n_layer) + " needs " + std::to_string(per_layer) + " tensors per layer, but the file has " +
                    std::to_string(m.file.tensors.size()) + " tensors in all");
    m.layers.resize(hp.n_layer);
    for (uint32_t l = 0; l < hp.n_layer; ++l) {
        const std::string p = "blk." + std::to_string(l) + ".";
        LayerWeights& L = m.layers[l];
        for (const LayerNormSpec& spec : kLayerNorms) L.*spec.field = norm_weight(m, p + spec.name + ".weight", hp.size(spec.size));
        for (const LayerMatrixSpec& spec : kLayerMatrices)
            L.*spec.field = ternary(m, p + spec.name + ".weight", hp.size(spec.cols), hp.size(spec.rows));
    }
    place_weights(m, kernels);
    return m;
}

#include "model.h"

#include <cstring>
#include <stdexcept>

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

}  // namespace

Model model_load(const std::string& path) {
    Model m;
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

    const uint32_t d = hp.n_embd, kv = hp.kv_dim(), ff = hp.n_ff;
    m.layers.resize(hp.n_layer);
    for (uint32_t l = 0; l < hp.n_layer; ++l) {
        const std::string p = "blk." + std::to_string(l) + ".";
        LayerWeights& L = m.layers[l];
        L.attn_norm = norm_weight(m, p + "attn_norm.weight", d);
        L.wq = ternary(m, p + "attn_q.weight", d, d);
        L.wk = ternary(m, p + "attn_k.weight", d, kv);
        L.wv = ternary(m, p + "attn_v.weight", d, kv);
        L.attn_sub_norm = norm_weight(m, p + "attn_sub_norm.weight", d);
        L.wo = ternary(m, p + "attn_output.weight", d, d);
        L.ffn_norm = norm_weight(m, p + "ffn_norm.weight", d);
        L.gate = ternary(m, p + "ffn_gate.weight", d, ff);
        L.up = ternary(m, p + "ffn_up.weight", d, ff);
        L.ffn_sub_norm = norm_weight(m, p + "ffn_sub_norm.weight", ff);
        L.down = ternary(m, p + "ffn_down.weight", ff, d);
    }
    return m;
}

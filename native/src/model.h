// The BitNet b1.58 model: hyper-parameters from the GGUF metadata and views of the weights inside the map.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "gguf.h"
#include "kernels/kernels.h"
#include "weight_arena.h"

// The sizes a layer's tensors are made of.
enum class Dim { Embd, Kv, Ff };

struct HParams {
    std::string arch;     // "bitnet-b1.58" or "bitnet-25"
    uint32_t n_vocab = 0;
    uint32_t n_ctx_train = 0;
    uint32_t n_embd = 0;
    uint32_t n_layer = 0;
    uint32_t n_ff = 0;
    uint32_t n_head = 0;
    uint32_t n_head_kv = 0;
    uint32_t head_dim = 0;
    uint32_t n_rot = 0;   // rotated dimensions per head (NEOX pairs i and i + n_rot/2)
    float rope_base = 10000.0f;
    float norm_eps = 1e-5f;
    uint32_t kv_dim() const { return n_head_kv * head_dim; }
    uint32_t size(Dim d) const { return d == Dim::Embd ? n_embd : d == Dim::Kv ? kv_dim() : n_ff; }
};

// A ternary matrix in the file's I2_S layout: rows = output features, cols = input features.
struct I2SMatrix {
    const uint8_t* packed = nullptr;  // row r at packed + r * cols / 4
    uint32_t rows = 0;
    uint32_t cols = 0;
    float scale = 0;                   // per-tensor beta, stored right after the packed rows
};

struct LayerWeights {
    const float* attn_norm = nullptr;
    I2SMatrix wq, wk, wv, wo;
    const float* attn_sub_norm = nullptr;
    const float* ffn_norm = nullptr;
    I2SMatrix gate, up, down;
    const float* ffn_sub_norm = nullptr;
};

// A layer's tensors, the one list that loading (names, shapes), the weight arena and its size read: a
// BitNet variant with another FFN changes LayerWeights, these two lists and feed_forward (forward.cc).
struct LayerMatrixSpec {
    const char* name;  // blk.<l>.<name>.weight
    I2SMatrix LayerWeights::*field;
    Dim cols, rows;    // input and output features
};
inline constexpr LayerMatrixSpec kLayerMatrices[] = {
    {"attn_q", &LayerWeights::wq, Dim::Embd, Dim::Embd},  {"attn_k", &LayerWeights::wk, Dim::Embd, Dim::Kv},
    {"attn_v", &LayerWeights::wv, Dim::Embd, Dim::Kv},    {"attn_output", &LayerWeights::wo, Dim::Embd, Dim::Embd},
    {"ffn_gate", &LayerWeights::gate, Dim::Embd, Dim::Ff}, {"ffn_up", &LayerWeights::up, Dim::Embd, Dim::Ff},
    {"ffn_down", &LayerWeights::down, Dim::Ff, Dim::Embd},
};
struct LayerNormSpec {
    const char* name;
    const float* LayerWeights::*field;
    Dim size;
};
inline constexpr LayerNormSpec kLayerNorms[] = {
    {"attn_norm", &LayerWeights::attn_norm, Dim::Embd},
    {"attn_sub_norm", &LayerWeights::attn_sub_norm, Dim::Embd},
    {"ffn_norm", &LayerWeights::ffn_norm, Dim::Embd},
    {"ffn_sub_norm", &LayerWeights::ffn_sub_norm, Dim::Ff},
};

// How the output matrix (the largest read of every token) is held: as in the file, or as int8 with one
// scale per block of 32, built at load (about half the bytes; logits differ slightly, see the README).
enum class HeadMode { F16, Q8 };

struct Model {
    GgufFile file;
    WeightArena arena;  // the ternary matrices and the output matrix, copied out of the file map
    HParams hp;
    const uint16_t* tok_embd = nullptr;  // F16 [n_vocab][n_embd]
    HeadMode head = HeadMode::F16;
    const uint16_t* output = nullptr;    // F16 [n_vocab][n_embd]; the embedding when tied (F16 head)
    const int8_t* output_q8 = nullptr;       // int8 [n_vocab][n_embd] (Q8 head)
    const float* output_q8_scale = nullptr;  // [n_vocab][n_embd / 32], one per block of 32
    const float* output_norm = nullptr;
    std::vector<LayerWeights> layers;
};

// Opens, validates and maps a model, then moves the weights read every token into the arena, in the
// layout the kernel set reads (the model then works with that set only).
// Throws std::runtime_error with a message naming the file.
Model model_load(const std::string& path, const Kernels& kernels, HeadMode head = HeadMode::F16);

// A token's F16 embedding row (n_embd values): in place when the embedding is the arena's F16 output
// matrix, else read from the file into buf. A lookup in the map would keep the kernel's fault-around,
// 64 KB per distinct token, resident: tens of MB after a few hundred tokens, up to the whole 656 MB.
const uint16_t* embedding_row(const Model& m, int32_t token, uint16_t* buf);

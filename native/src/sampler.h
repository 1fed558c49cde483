// Token sampling from one row of logits. Order of the steps, as in Hugging Face transformers:
// repetition penalty -> temperature -> top-k -> top-p -> min-p -> draw. Temperature <= 0 is greedy.
#pragma once
#include <cstdint>
#include <deque>
#include <random>
#include <vector>

struct SamplerParams {
    float temperature = 0.8f;
    int32_t top_k = 40;          // <= 0: off
    float top_p = 0.95f;         // >= 1: off
    float min_p = 0.05f;         // <= 0: off
    float repeat_penalty = 1.1f; // 1: off
    int32_t repeat_last_n = 64;  // how many recent tokens the penalty looks at
    uint64_t seed = 0;
};

class Sampler {
public:
    explicit Sampler(const SamplerParams& p);
    // Picks a token from logits[n_vocab]. Does not modify logits.
    int32_t sample(const float* logits, uint32_t n_vocab);
    // The same draw among the given ids only (constrained decoding: no other token may come next).
    int32_t sample_from(const float* logits, uint32_t n_vocab, const int32_t* ids, uint32_t n_ids);
    // The ids of the n most likely tokens after the repetition penalty, most likely first (the
    // candidates constrained decoding checks, best first).
    void rank(const float* logits, uint32_t n_vocab, uint32_t n, std::vector<int32_t>& out);
    // Remembers a token of the context for the repetition penalty (prompt and generated alike).
    void accept(int32_t token);
    // Bytes held in scratch buffers (~1.5 MB for a 128K vocabulary), for the garbage collector's accounting.
    size_t heap_bytes() const { return cand_.capacity() * sizeof(Candidate) + probs_.capacity() * sizeof(float); }

    struct Candidate {
        int32_t id;
        float logit;
    };

private:
    SamplerParams p_;
    std::mt19937_64 rng_;
    std::deque<int32_t> recent_;
    std::vector<Candidate> cand_;
    std::vector<float> probs_;
    double uniform();  // [0, 1) from 53 random bits: the same on every platform for a given seed
    // cand_ = the given ids (all when ids is null) with their logits, the repetition penalty applied.
    void fill(const float* logits, uint32_t n_vocab, const int32_t* ids, uint32_t n_ids);
    // Temperature, top-k, top-p, min-p and the draw over cand_.
    int32_t draw();
};

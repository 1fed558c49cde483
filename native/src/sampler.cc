#include "sampler.h"

#include <algorithm>
#include <cmath>
#include <unordered_set>

Sampler::Sampler(const SamplerParams& p) : p_(p), rng_(p.seed) {}

double Sampler::uniform() { return (double)(rng_() >> 11) * (1.0 / 9007199254740992.0); }

void Sampler::accept(int32_t token) {
    if (p_.repeat_last_n <= 0) return;
    recent_.push_back(token);
    while ((int32_t)recent_.size() > p_.repeat_last_n) recent_.pop_front();
}

namespace {
bool by_logit(const Sampler::Candidate& a, const Sampler::Candidate& b) {
    return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
}
}  // namespace

void Sampler::fill(const float* logits, uint32_t n_vocab, const int32_t* ids, uint32_t n_ids) {
    if (ids) {
        cand_.clear();
        for (uint32_t i = 0; i < n_ids; ++i)
            if (ids[i] >= 0 && (uint32_t)ids[i] < n_vocab) cand_.push_back({ids[i], logits[ids[i]]});
    } else {
        cand_.resize(n_vocab);
        for (uint32_t i = 0; i < n_vocab; ++i) cand_[i] = {(int32_t)i, logits[i]};
    }
    if (p_.repeat_penalty == 1.0f || recent_.empty()) return;
    std::unordered_set<int32_t> seen(recent_.begin(), recent_.end());
    for (Candidate& c : cand_) {
        if (!seen.count(c.id)) continue;
        c.logit = c.logit > 0 ? c.logit / p_.repeat_penalty : c.logit * p_.repeat_penalty;
    }
}

int32_t Sampler::sample(const float* logits, uint32_t n_vocab) {
    fill(logits, n_vocab, nullptr, 0);
    return draw();
}

int32_t Sampler::sample_from(const float* logits, uint32_t n_vocab, const int32_t* ids, uint32_t n_ids) {
    fill(logits, n_vocab, ids, n_ids);
    if (cand_.empty()) return -1;
    return draw();
}

void Sampler::rank(const float* logits, uint32_t n_vocab, uint32_t n, std::vector<int32_t>& out) {
    fill(logits, n_vocab, nullptr, 0);
    n = std::min<uint32_t>(n, (uint32_t)cand_.size());
    std::partial_sort(cand_.begin(), cand_.begin() + n, cand_.end(), by_logit);
    out.resize(n);
    for (uint32_t i = 0; i < n; ++i) out[i] = cand_[i].id;
}

int32_t Sampler::draw() {
    if (p_.temperature <= 0.0f) return std::min_element(cand_.begin(), cand_.end(), by_logit)->id;

    for (auto& c : cand_) c.logit /= p_.temperature;

    // top-k (a partial sort keeps this cheap over a 128K vocabulary); then the survivors sorted.
    size_t keep = cand_.size();
    if (p_.top_k > 0 && (size_t)p_.top_k < keep) keep = (size_t)p_.top_k;
    std::partial_sort(cand_.begin(), cand_.begin() + keep, cand_.end(), by_logit);
    cand_.resize(keep);

    probs_.resize(keep);
    const float mx = cand_[0].logit;
    double sum = 0;
    for (size_t i = 0; i < keep; ++i) sum += probs_[i] = std::exp(cand_[i].logit - mx);
    for (size_t i = 0; i < keep; ++i) probs_[i] = (float)(probs_[i] / sum);

    if (p_.top_p < 1.0f) {
        double cum = 0;
        size_t n = 0;
        while (n < keep) {
            cum += probs_[n++];
            if (cum >= p_.top_p) break;
        }
        keep = std::max<size_t>(1, n);
    }
    if (p_.min_p > 0.0f) {
        const float floor = probs_[0] * p_.min_p;
        size_t n = 1;
        while (n < keep && probs_[n] >= floor) ++n;
        keep = n;
    }

    double total = 0;
    for (size_t i = 0; i < keep; ++i) total += probs_[i];
    double r = uniform() * total;
    for (size_t i = 0; i < keep; ++i) {
        r -= probs_[i];
        if (r < 0) return cand_[i].id;
    }
    return cand_[keep - 1].id;
}

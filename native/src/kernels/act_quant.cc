#include <algorithm>
#include <cmath>

#include "i2s.h"

void quantize_activations(const float* x, uint32_t n_tokens, uint32_t k, QuantizedActs& out) {
    out.n_tokens = n_tokens;
    out.k = k;
    out.q.resize((size_t)n_tokens * k);
    out.scale.resize(n_tokens);
    for (uint32_t t = 0; t < n_tokens; ++t) {
        const float* xt = x + (size_t)t * k;
        int8_t* qt = out.q.data() + (size_t)t * k;
        double amax = 0;
        for (uint32_t i = 0; i < k; ++i) amax = std::max(amax, (double)std::fabs(xt[i]));
        const float s = (float)(127.0 / std::max(amax, 1e-5));
        for (uint32_t i = 0; i < k; ++i) {
            // nearbyint rounds half to even in the default floating-point mode, like ggml's nearest_int.
            float r = std::nearbyint(xt[i] * s);
            qt[i] = (int8_t)std::min(127.0f, std::max(-128.0f, r));
        }
        out.scale[t] = s;
    }
}

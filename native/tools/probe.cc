// bitnetd-probe MODEL [TOKEN...]: loads a model with the engine alone (no Node), optionally evaluates
// tokens and prints the top logit. Used to run the corrupt-file suite under AddressSanitizer.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <vector>

#include "forward.h"
#include "model.h"

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: bitnetd-probe MODEL [TOKEN...]\n");
        return 2;
    }
    try {
        Model m = model_load(argv[1]);
        std::printf("ok %s layers=%u embd=%u vocab=%u\n", m.hp.arch.c_str(), m.hp.n_layer, m.hp.n_embd, m.hp.n_vocab);
        std::vector<int32_t> tokens;
        for (int i = 2; i < argc; ++i) tokens.push_back(std::atoi(argv[i]));
        if (!tokens.empty()) {
            ThreadPool pool(1);
            Context ctx = context_create(m, (uint32_t)tokens.size(), 64);
            context_eval(ctx, pool, tokens.data(), (uint32_t)tokens.size(), false);
            uint32_t best = 0;
            for (uint32_t v = 1; v < m.hp.n_vocab; ++v)
                if (ctx.logits[v] > ctx.logits[best]) best = v;
            std::printf("argmax %u logit %.6f\n", best, ctx.logits[best]);
        }
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
}

// The AVX2 multiply-add ceiling, for npm run bench: how fast this CPU retires the least work any
// maddubs-based ternary product does per 32 weight-activation products (one vpmaddubsw reading its
// activations from L1, and one add to keep the result). Not used by the engine.
#pragma once
#include <cstdint>

// Runs `rounds` rounds of 8 independent maddubs + add pairs over a 256-byte activation buffer in L1;
// returns a checksum, so that the work cannot be optimized away.
int32_t avx2_maddubs_add_rounds(uint64_t rounds);
constexpr uint32_t kAvx2PeakPairsPerRound = 8;

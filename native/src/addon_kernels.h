// The kernels' own entry points on the addon, for the kernel tests and the bench.
#pragma once
#include <napi.h>

// Exports the kernel sets' names and the entry points the tests and the bench call directly (i2sDot,
// f16Dot, q8Dot, attnScores, attnValues, probeBandwidth).
void export_kernel_probes(Napi::Env env, Napi::Object exports);

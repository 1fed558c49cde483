// Argument checks shared by the addon's entry points.
#pragma once
#include <napi.h>

#include <cstdint>

#include "kernels/kernels.h"

// v as an integer in [lo, hi], or a TypeError / RangeError naming `what`.
uint32_t checked_uint(const Napi::Env& env, const Napi::Value& v, const char* what, uint32_t lo, uint32_t hi);

// The kernel set a name stands for ("" or undefined: the best this CPU runs), or an Error.
const Kernels& kernels_named(Napi::Env env, const Napi::Value& v);

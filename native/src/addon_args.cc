#include "addon_args.h"

#include <stdexcept>
#include <string>

uint32_t checked_uint(const Napi::Env& env, const Napi::Value& v, const char* what, uint32_t lo, uint32_t hi) {
    if (!v.IsNumber()) throw Napi::TypeError::New(env, std::string(what) + " must be a number");
    double d = v.As<Napi::Number>().DoubleValue();
    if (!(d >= lo && d <= hi) || d != (double)(uint32_t)d)
        throw Napi::RangeError::New(env, std::string(what) + " must be an integer from " + std::to_string(lo) + " to " + std::to_string(hi));
    return (uint32_t)d;
}

const Kernels& kernels_named(Napi::Env env, const Napi::Value& v) {
    if (v.IsUndefined() || (v.IsString() && v.As<Napi::String>().Utf8Value().empty())) {
        try {
            return kernels_active();
        } catch (const std::exception& ex) {
            throw Napi::Error::New(env, ex.what());
        }
    }
    if (!v.IsString()) throw Napi::TypeError::New(env, "kernel must be a string");
    const std::string name = v.As<Napi::String>().Utf8Value();
    if (const Kernels* k = kernels_find(name.c_str())) return *k;
    throw Napi::Error::New(env, "kernel \"" + name + "\" is unknown or not supported by this CPU");
}

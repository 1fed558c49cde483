// The Node-API surface of the engine, and nothing else: argument checks, async workers, conversions.
#include <napi.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <mutex>

#include "forward.h"
#include "kv_file.h"
#include "model.h"
#include "sampler.h"
#include "sd_notify.h"
#include "threadpool.h"

namespace {

// A loaded model, its thread pool, the workspace its contexts share and the lock that serializes all
// compute on it.
struct Engine {
    std::unique_ptr<Model> model;
    const Kernels* kernels = nullptr;
    ThreadPool pool{1};
    Workspace workspace;  // grown to the largest batch any of its contexts asked for
    std::mutex compute;
    std::atomic<int> wanted_threads{1};
};

class ModelWrap : public Napi::ObjectWrap<ModelWrap> {
public:
    static Napi::FunctionReference ctor;
    static void Init(Napi::Env env, Napi::Object exports);
    explicit ModelWrap(const Napi::CallbackInfo& info);
    std::shared_ptr<Engine> engine;

private:
    Napi::Value Info(const Napi::CallbackInfo& info);
    Napi::Value Vocab(const Napi::CallbackInfo& info);
    Napi::Value SetThreads(const Napi::CallbackInfo& info);
    Napi::Value GetThreads(const Napi::CallbackInfo& info);
};
Napi::FunctionReference ModelWrap::ctor;

class ContextWrap : public Napi::ObjectWrap<ContextWrap> {
public:
    static Napi::FunctionReference ctor;
    static void Init(Napi::Env env, Napi::Object exports);
    explicit ContextWrap(const Napi::CallbackInfo& info);
    std::shared_ptr<Engine> engine;
    std::unique_ptr<Context> ctx;
    bool busy = false;

private:
    Napi::Value Eval(const Napi::CallbackInfo& info);
    Napi::Value Logits(const Napi::CallbackInfo& info);
    Napi::Value Truncate(const Napi::CallbackInfo& info);
    Napi::Value Save(const Napi::CallbackInfo& info);
    Napi::Value Load(const Napi::CallbackInfo& info);
    Napi::Value NPast(const Napi::CallbackInfo& info);
    Napi::Value Size(const Napi::CallbackInfo& info);
    Napi::Value KvBytes(const Napi::CallbackInfo& info);
    Napi::Value KvBytesUsed(const Napi::CallbackInfo& info);
};
Napi::FunctionReference ContextWrap::ctor;

class SamplerWrap : public Napi::ObjectWrap<SamplerWrap> {
public:
    static void Init(Napi::Env env, Napi::Object exports);
    explicit SamplerWrap(const Napi::CallbackInfo& info);
    ~SamplerWrap() override;

private:
    std::unique_ptr<Sampler> sampler;
    // Scratch memory V8 has been told about: without it, V8 sees a tiny object, collects samplers
    // rarely, and a daemon making one per request grows by megabytes per request.
    int64_t reported_bytes = 0;
    Napi::Value Sample(const Napi::CallbackInfo& info);
    Napi::Value SampleFrom(const Napi::CallbackInfo& info);
    Napi::Value Rank(const Napi::CallbackInfo& info);
    Napi::Value Accept(const Napi::CallbackInfo& info);
    void account(Napi::Env env);
};

uint32_t checked_uint(const Napi::Env& env, const Napi::Value& v, const char* what, uint32_t lo, uint32_t hi) {
    if (!v.IsNumber()) throw Napi::TypeError::New(env, std::string(what) + " must be a number");
    double d = v.As<Napi::Number>().DoubleValue();
    if (!(d >= lo && d <= hi) || d != (double)(uint32_t)d)
        throw Napi::RangeError::New(env, std::string(what) + " must be an integer from " + std::to_string(lo) + " to " + std::to_string(hi));
    return (uint32_t)d;
}

void apply_threads(Engine& e) {
    const int n = e.wanted_threads.load();
    if (n != e.pool.threads()) e.pool.set_threads(n);
}

// ---- loading ---------------------------------------------------------------------------------

class LoadWorker : public Napi::AsyncWorker {
public:
    LoadWorker(Napi::Env env, std::string path, int threads, const Kernels* kernels, HeadMode head)
        : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), path_(std::move(path)), threads_(threads), kernels_(kernels), head_(head) {}
    Napi::Promise Promise() { return deferred_.Promise(); }
    void Execute() override {
        try {
            engine_ = std::make_shared<Engine>();
            engine_->model = std::make_unique<Model>(model_load(path_, *kernels_, head_));
            engine_->kernels = kernels_;
            engine_->wanted_threads = threads_;
        } catch (const std::exception& ex) {
            SetError(ex.what());
        }
    }
    void OnOK() override {
        Napi::Object obj = ModelWrap::ctor.New({Napi::External<std::shared_ptr<Engine>>::New(Env(), &engine_)});
        deferred_.Resolve(obj);
    }
    void OnError(const Napi::Error& err) override { deferred_.Reject(err.Value()); }

private:
    Napi::Promise::Deferred deferred_;
    std::string path_;
    int threads_;
    const Kernels* kernels_;
    HeadMode head_;
    std::shared_ptr<Engine> engine_;
};

// The kernel set a name stands for ("" or undefined: the best this CPU runs).
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

Napi::Value LoadModel(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsString()) throw Napi::TypeError::New(env, "loadModel(path, threads): path must be a string");
    uint32_t threads = checked_uint(env, info[1], "threads", 1, 256);
    const Kernels& kernels = kernels_named(env, info[2]);
    HeadMode head = HeadMode::F16;
    if (!info[3].IsUndefined()) {
        const std::string h = info[3].IsString() ? info[3].As<Napi::String>().Utf8Value() : "";
        if (h == "q8") head = HeadMode::Q8;
        else if (h != "f16") throw Napi::TypeError::New(env, "head must be \"f16\" or \"q8\"");
    }
    auto* w = new LoadWorker(env, info[0].As<Napi::String>(), (int)threads, &kernels, head);
    Napi::Promise p = w->Promise();
    w->Queue();
    return p;
}

// ---- model -----------------------------------------------------------------------------------

void ModelWrap::Init(Napi::Env env, Napi::Object exports) {
    Napi::Function f = DefineClass(env, "Model", {
        InstanceMethod("info", &ModelWrap::Info),
        InstanceMethod("vocab", &ModelWrap::Vocab),
        InstanceMethod("setThreads", &ModelWrap::SetThreads),
        InstanceMethod("threads", &ModelWrap::GetThreads),
    });
    ctor = Napi::Persistent(f);
    // A static reference outlives the environment: deleting it at process exit would touch freed memory.
    ctor.SuppressDestruct();
    exports.Set("Model", f);
}

ModelWrap::ModelWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ModelWrap>(info) {
    if (!info[0].IsExternal()) throw Napi::TypeError::New(info.Env(), "models are created by loadModel()");
    engine = *info[0].As<Napi::External<std::shared_ptr<Engine>>>().Data();
}

Napi::Value kv_value(Napi::Env env, const GgufKV& kv) {
    switch (kv.type) {
        case GgufValueType::STRING: return Napi::String::New(env, kv.str);
        case GgufValueType::BOOL: return Napi::Boolean::New(env, kv.u != 0);
        case GgufValueType::F32: case GgufValueType::F64: return Napi::Number::New(env, kv.f);
        case GgufValueType::I8: case GgufValueType::I16: case GgufValueType::I32: case GgufValueType::I64:
            return Napi::Number::New(env, (double)kv.i);
        case GgufValueType::ARRAY: return env.Null();
        default: return Napi::Number::New(env, (double)kv.u);
    }
}

Napi::Value ModelWrap::Info(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const Model& m = *engine->model;
    const HParams& hp = m.hp;
    Napi::Object o = Napi::Object::New(env);
    o.Set("path", m.file.path);
    o.Set("fileSize", (double)m.file.map.size);
    o.Set("ggufVersion", m.file.version);
    o.Set("alignment", (double)m.file.alignment);
    o.Set("kernel", engine->kernels->name);
    o.Set("head", m.head == HeadMode::Q8 ? "q8" : "f16");
    o.Set("weightBytes", (double)m.arena.used);
    Napi::Object h = Napi::Object::New(env);
    h.Set("arch", hp.arch);
    h.Set("nVocab", hp.n_vocab);
    h.Set("nCtxTrain", hp.n_ctx_train);
    h.Set("nEmbd", hp.n_embd);
    h.Set("nLayer", hp.n_layer);
    h.Set("nFf", hp.n_ff);
    h.Set("nHead", hp.n_head);
    h.Set("nHeadKv", hp.n_head_kv);
    h.Set("headDim", hp.head_dim);
    h.Set("nRot", hp.n_rot);
    h.Set("ropeBase", hp.rope_base);
    h.Set("normEps", hp.norm_eps);
    h.Set("tiedOutput", m.output == m.tok_embd);
    o.Set("hparams", h);
    Napi::Array meta = Napi::Array::New(env, m.file.kvs.size());
    for (size_t i = 0; i < m.file.kvs.size(); ++i) {
        const GgufKV& kv = m.file.kvs[i];
        Napi::Object e = Napi::Object::New(env);
        e.Set("key", kv.key);
        e.Set("type", gguf_value_type_name(kv.type));
        if (kv.type == GgufValueType::ARRAY) {
            e.Set("elementType", gguf_value_type_name(kv.arr_type));
            e.Set("length", (double)kv.arr_count);
        } else {
            e.Set("value", kv_value(env, kv));
        }
        meta[i] = e;
    }
    o.Set("metadata", meta);
    Napi::Array tensors = Napi::Array::New(env, m.file.tensors.size());
    for (size_t i = 0; i < m.file.tensors.size(); ++i) {
        const GgufTensor& t = m.file.tensors[i];
        Napi::Object e = Napi::Object::New(env);
        e.Set("name", t.name);
        e.Set("type", ggml_type_name(t.type));
        Napi::Array shape = Napi::Array::New(env, t.n_dims);
        for (uint32_t d = 0; d < t.n_dims; ++d) shape[d] = Napi::Number::New(env, (double)t.ne[d]);
        e.Set("shape", shape);
        e.Set("offset", (double)(m.file.data_offset + t.offset));
        e.Set("bytes", (double)t.nbytes);
        tensors[i] = e;
    }
    o.Set("tensors", tensors);
    return o;
}

// The tokenizer's tables, read from tokenizer.ggml.* (the tokenizer itself lives in TypeScript).
Napi::Value ModelWrap::Vocab(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const GgufFile& f = engine->model->file;
    try {
        Napi::Object o = Napi::Object::New(env);
        auto to_array = [&](const std::vector<std::string>& v) {
            Napi::Array a = Napi::Array::New(env, v.size());
            for (size_t i = 0; i < v.size(); ++i) a[i] = Napi::String::New(env, v[i]);
            return a;
        };
        o.Set("tokens", to_array(f.get_string_array("tokenizer.ggml.tokens")));
        o.Set("merges", f.has("tokenizer.ggml.merges") ? to_array(f.get_string_array("tokenizer.ggml.merges")) : Napi::Array::New(env));
        if (f.has("tokenizer.ggml.token_type")) {
            std::vector<int32_t> tt = f.get_int_array("tokenizer.ggml.token_type");
            Napi::Int32Array a = Napi::Int32Array::New(env, tt.size());
            std::copy(tt.begin(), tt.end(), a.Data());
            o.Set("tokenTypes", a);
        } else {
            o.Set("tokenTypes", env.Null());
        }
        // The header's pages (the tables, megabytes of them) are not read again: let them go from this
        // process, as the weights' pages went at load.
        release_mapped_range(f.map.data, f.data_offset);
        return o;
    } catch (const std::exception& ex) {
        throw Napi::Error::New(env, ex.what());
    }
}

Napi::Value ModelWrap::SetThreads(const Napi::CallbackInfo& info) {
    engine->wanted_threads = (int)checked_uint(info.Env(), info[0], "threads", 1, 256);
    return info.Env().Undefined();
}

Napi::Value ModelWrap::GetThreads(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), engine->wanted_threads.load());
}

// ---- context ---------------------------------------------------------------------------------

void ContextWrap::Init(Napi::Env env, Napi::Object exports) {
    Napi::Function f = DefineClass(env, "Context", {
        InstanceMethod("eval", &ContextWrap::Eval),
        InstanceMethod("logits", &ContextWrap::Logits),
        InstanceMethod("truncate", &ContextWrap::Truncate),
        InstanceMethod("save", &ContextWrap::Save),
        InstanceMethod("load", &ContextWrap::Load),
        InstanceAccessor("nPast", &ContextWrap::NPast, nullptr),
        InstanceAccessor("size", &ContextWrap::Size, nullptr),
        InstanceAccessor("kvBytes", &ContextWrap::KvBytes, nullptr),
        InstanceAccessor("kvBytesUsed", &ContextWrap::KvBytesUsed, nullptr),
    });
    ctor = Napi::Persistent(f);
    // A static reference outlives the environment: deleting it at process exit would touch freed memory.
    ctor.SuppressDestruct();
    exports.Set("Context", f);
}

// new Context(model, nCtx, nBatch)
ContextWrap::ContextWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ContextWrap>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsObject() || !info[0].As<Napi::Object>().InstanceOf(ModelWrap::ctor.Value()))
        throw Napi::TypeError::New(env, "new Context(model, nCtx, nBatch): model must be a loaded Model");
    engine = ModelWrap::Unwrap(info[0].As<Napi::Object>())->engine;
    const HParams& hp = engine->model->hp;
    uint32_t n_ctx = checked_uint(env, info[1], "nCtx", 1, hp.n_ctx_train);
    uint32_t n_batch = checked_uint(env, info[2], "nBatch", 1, 1u << 16);
    try {
        ctx = std::make_unique<Context>(context_create(*engine->model, *engine->kernels, n_ctx));
        const uint32_t batch = std::min(n_batch, n_ctx);
        if (batch > engine->workspace.n_batch) {
            std::lock_guard<std::mutex> lock(engine->compute);  // no evaluation may be using it
            engine->workspace = workspace_create(hp, batch);
        }
    } catch (const std::bad_alloc&) {
        throw Napi::Error::New(env, "not enough memory for a context of " + std::to_string(n_ctx) + " tokens");
    }
}

// A job on one context off the main thread: holds the context alive and marks it busy until done.
class ContextWorker : public Napi::AsyncWorker {
public:
    ContextWorker(Napi::Env env, ContextWrap* owner, Napi::Object self)
        : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), owner_(owner) {
        self_ = Napi::Persistent(self);  // keeps the context alive while we run
    }
    Napi::Promise Promise() { return deferred_.Promise(); }
    void OnError(const Napi::Error& err) override {
        owner_->busy = false;
        deferred_.Reject(err.Value());
    }

protected:
    void resolve(Napi::Value v) {
        owner_->busy = false;
        deferred_.Resolve(v);
    }
    Napi::Promise::Deferred deferred_;
    ContextWrap* owner_;
    Napi::ObjectReference self_;
};

class EvalWorker : public ContextWorker {
public:
    EvalWorker(Napi::Env env, ContextWrap* owner, Napi::Object self, std::vector<int32_t> tokens, bool all_logits)
        : ContextWorker(env, owner, self), tokens_(std::move(tokens)), all_logits_(all_logits) {}
    void Execute() override {
        Engine& e = *owner_->engine;
        std::lock_guard<std::mutex> lock(e.compute);
        try {
            apply_threads(e);
            context_eval(*owner_->ctx, e.workspace, e.pool, tokens_.data(), (uint32_t)tokens_.size(), all_logits_);
        } catch (const std::bad_alloc&) {
            SetError("out of memory while evaluating");
        } catch (const std::exception& ex) {
            SetError(ex.what());
        }
    }
    void OnOK() override { resolve(Env().Undefined()); }

private:
    std::vector<int32_t> tokens_;
    bool all_logits_;
};

// eval(tokens: Int32Array, allLogits: boolean): Promise<void>
Napi::Value ContextWrap::Eval(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
        throw Napi::TypeError::New(env, "eval(tokens, allLogits): tokens must be an Int32Array");
    if (busy) throw Napi::Error::New(env, "this context is already evaluating; await the previous eval()");
    Napi::Int32Array a = info[0].As<Napi::Int32Array>();
    std::vector<int32_t> tokens(a.Data(), a.Data() + a.ElementLength());
    busy = true;
    auto* w = new EvalWorker(env, this, info.This().As<Napi::Object>(), std::move(tokens), info[1].ToBoolean());
    Napi::Promise p = w->Promise();
    w->Queue();
    return p;
}

// logits(row = last): Float32Array copy of one row of the last eval's logits.
Napi::Value ContextWrap::Logits(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (busy) throw Napi::Error::New(env, "logits() called while an eval is running");
    if (ctx->n_logit_rows == 0) throw Napi::Error::New(env, "no logits yet: call eval() first");
    uint32_t row = info[0].IsUndefined() ? ctx->n_logit_rows - 1 : checked_uint(env, info[0], "row", 0, ctx->n_logit_rows - 1);
    const uint32_t nv = engine->model->hp.n_vocab;
    Napi::Float32Array out = Napi::Float32Array::New(env, nv);
    std::copy(ctx->logits.begin() + (size_t)row * nv, ctx->logits.begin() + (size_t)(row + 1) * nv, out.Data());
    return out;
}

Napi::Value ContextWrap::Truncate(const Napi::CallbackInfo& info) {
    if (busy) throw Napi::Error::New(info.Env(), "truncate() called while an eval is running");
    context_truncate(*ctx, checked_uint(info.Env(), info[0], "n", 0, ctx->kv.n_ctx));
    return info.Env().Undefined();
}

// Saving or loading a context's KV cache off the main thread (100+ MB on an SD card takes seconds).
class KvFileWorker : public ContextWorker {
public:
    KvFileWorker(Napi::Env env, ContextWrap* owner, Napi::Object self, std::string path, std::string stamp, std::vector<int32_t> tokens, bool save)
        : ContextWorker(env, owner, self), path_(std::move(path)), stamp_(std::move(stamp)), tokens_(std::move(tokens)), save_(save) {}
    void Execute() override {
        try {
            if (save_) kv_file_save(*owner_->ctx, tokens_, stamp_, path_);
            else tokens_ = kv_file_load(*owner_->ctx, stamp_, path_);
        } catch (const std::bad_alloc&) {
            SetError("out of memory while reading " + path_);
        } catch (const std::exception& ex) {
            SetError(ex.what());
        }
    }
    void OnOK() override {
        if (save_) return resolve(Env().Undefined());
        Napi::Int32Array out = Napi::Int32Array::New(Env(), tokens_.size());
        std::copy(tokens_.begin(), tokens_.end(), out.Data());
        resolve(out);
    }

private:
    std::string path_, stamp_;
    std::vector<int32_t> tokens_;
    bool save_;
};

// save(path, tokens: Int32Array, stamp): Promise<void>: the cache of those tokens (a prefix of what it holds).
Napi::Value ContextWrap::Save(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsString() || !info[2].IsString() || !info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
        throw Napi::TypeError::New(env, "save(path, tokens, stamp): a path, an Int32Array and a string");
    if (busy) throw Napi::Error::New(env, "save() called while an eval is running");
    Napi::Int32Array a = info[1].As<Napi::Int32Array>();
    if (a.ElementLength() > ctx->n_past) throw Napi::RangeError::New(env, "save(): more tokens than the context holds");
    busy = true;
    auto* w = new KvFileWorker(env, this, info.This().As<Napi::Object>(), info[0].As<Napi::String>(), info[2].As<Napi::String>(),
                               std::vector<int32_t>(a.Data(), a.Data() + a.ElementLength()), true);
    Napi::Promise p = w->Promise();
    w->Queue();
    return p;
}

// load(path, stamp): Promise<Int32Array>: replaces the cache with a saved one, returns its tokens.
Napi::Value ContextWrap::Load(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsString() || !info[1].IsString()) throw Napi::TypeError::New(env, "load(path, stamp): a path and a string");
    if (busy) throw Napi::Error::New(env, "load() called while an eval is running");
    busy = true;
    auto* w = new KvFileWorker(env, this, info.This().As<Napi::Object>(), info[0].As<Napi::String>(), info[1].As<Napi::String>(), {}, false);
    Napi::Promise p = w->Promise();
    w->Queue();
    return p;
}

Napi::Value ContextWrap::NPast(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), ctx->n_past); }
Napi::Value ContextWrap::Size(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), ctx->kv.n_ctx); }
Napi::Value ContextWrap::KvBytesUsed(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), (double)context_kv_bytes_used(*ctx));
}
Napi::Value ContextWrap::KvBytes(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), (double)(ctx->kv.k.size() + ctx->kv.v.size()) * sizeof(uint16_t));
}

// ---- sampler ---------------------------------------------------------------------------------

void SamplerWrap::Init(Napi::Env env, Napi::Object exports) {
    Napi::Function f = DefineClass(env, "Sampler", {
        InstanceMethod("sample", &SamplerWrap::Sample),
        InstanceMethod("sampleFrom", &SamplerWrap::SampleFrom),
        InstanceMethod("rank", &SamplerWrap::Rank),
        InstanceMethod("accept", &SamplerWrap::Accept),
    });
    exports.Set("Sampler", f);
}

// new Sampler({temperature, topK, topP, minP, repeatPenalty, repeatLastN, seed})
SamplerWrap::SamplerWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<SamplerWrap>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsObject()) throw Napi::TypeError::New(env, "new Sampler(params): params must be an object");
    Napi::Object o = info[0].As<Napi::Object>();
    SamplerParams p;
    auto num = [&](const char* key, double fallback) {
        Napi::Value v = o.Get(key);
        if (v.IsUndefined()) return fallback;
        if (!v.IsNumber()) throw Napi::TypeError::New(env, std::string("sampler ") + key + " must be a number");
        return v.As<Napi::Number>().DoubleValue();
    };
    p.temperature = (float)num("temperature", p.temperature);
    p.top_k = (int32_t)num("topK", p.top_k);
    p.top_p = (float)num("topP", p.top_p);
    p.min_p = (float)num("minP", p.min_p);
    p.repeat_penalty = (float)num("repeatPenalty", p.repeat_penalty);
    p.repeat_last_n = (int32_t)num("repeatLastN", p.repeat_last_n);
    p.seed = (uint64_t)num("seed", 0);
    if (!(p.repeat_penalty > 0)) throw Napi::RangeError::New(env, "repeatPenalty must be positive");
    sampler = std::make_unique<Sampler>(p);
}

// The last logits row of the Context in info[0], and the vocabulary size; throws for anything else.
std::pair<const float*, uint32_t> last_logits(const Napi::CallbackInfo& info, const char* sig) {
    Napi::Env env = info.Env();
    if (!info[0].IsObject() || !info[0].As<Napi::Object>().InstanceOf(ContextWrap::ctor.Value()))
        throw Napi::TypeError::New(env, std::string(sig) + ": context must be a Context");
    ContextWrap* c = ContextWrap::Unwrap(info[0].As<Napi::Object>());
    if (c->busy) throw Napi::Error::New(env, std::string(sig) + " called while an eval is running");
    if (c->ctx->n_logit_rows == 0) throw Napi::Error::New(env, "no logits yet: call eval() first");
    const uint32_t nv = c->engine->model->hp.n_vocab;
    return {c->ctx->logits.data() + (size_t)(c->ctx->n_logit_rows - 1) * nv, nv};
}

void SamplerWrap::account(Napi::Env env) {
    const int64_t held = (int64_t)sampler->heap_bytes();
    if (held != reported_bytes) {
        Napi::MemoryManagement::AdjustExternalMemory(env, held - reported_bytes);
        reported_bytes = held;
    }
}

// sample(context): the next token id, drawn from the context's last logits row.
Napi::Value SamplerWrap::Sample(const Napi::CallbackInfo& info) {
    auto [row, nv] = last_logits(info, "sample(context)");
    const int32_t token = sampler->sample(row, nv);
    account(info.Env());
    return Napi::Number::New(info.Env(), token);
}

// sampleFrom(context, ids: Int32Array): the same draw among these ids only; -1 when none is a token.
Napi::Value SamplerWrap::SampleFrom(const Napi::CallbackInfo& info) {
    auto [row, nv] = last_logits(info, "sampleFrom(context, ids)");
    if (!info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
        throw Napi::TypeError::New(info.Env(), "sampleFrom(context, ids): ids must be an Int32Array");
    Napi::Int32Array ids = info[1].As<Napi::Int32Array>();
    const int32_t token = sampler->sample_from(row, nv, ids.Data(), (uint32_t)ids.ElementLength());
    account(info.Env());
    return Napi::Number::New(info.Env(), token);
}

// rank(context, n): the n most likely token ids (after the repetition penalty), best first.
Napi::Value SamplerWrap::Rank(const Napi::CallbackInfo& info) {
    auto [row, nv] = last_logits(info, "rank(context, n)");
    const uint32_t n = checked_uint(info.Env(), info[1], "n", 1, nv);
    std::vector<int32_t> ids;
    sampler->rank(row, nv, n, ids);
    account(info.Env());
    Napi::Int32Array out = Napi::Int32Array::New(info.Env(), ids.size());
    std::copy(ids.begin(), ids.end(), out.Data());
    return out;
}

SamplerWrap::~SamplerWrap() {
    if (reported_bytes) Napi::MemoryManagement::AdjustExternalMemory(Env(), -reported_bytes);
}

Napi::Value SamplerWrap::Accept(const Napi::CallbackInfo& info) {
    sampler->accept((int32_t)checked_uint(info.Env(), info[0], "token", 0, 0x7fffffff));
    return info.Env().Undefined();
}

// The optional nTokens argument of the kernel test functions (1 when absent).
uint32_t tile_tokens(Napi::Env env, const Napi::Value& v) {
    return v.IsUndefined() ? 1 : checked_uint(env, v, "nTokens", 1, kMaxTileTokens);
}

template <typename T>
Napi::Array to_array(Napi::Env env, const T* values, uint32_t n) {
    Napi::Array out = Napi::Array::New(env, n);
    for (uint32_t i = 0; i < n; ++i) out.Set(i, Napi::Number::New(env, values[i]));
    return out;
}

// The typed array argument i of a kernel test function, or a TypeError showing its signature.
template <typename Array>
Array typed_arg(const Napi::CallbackInfo& info, size_t i, napi_typedarray_type type, const char* signature) {
    if (!info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != type)
        throw Napi::TypeError::New(info.Env(), signature);
    return info[i].As<Array>();
}

// i2sDot(packedRows, q, nTokens = 1, kernel?): a kernel's exact sums of packed rows (laid end to end,
// each k / 4 bytes) with nTokens activation rows of k elements laid end to end in q, for the kernel
// tests: result[t * nRows + r].
Napi::Value I2sDot(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const char* sig = "i2sDot(packedRows: Uint8Array, q: Int8Array, nTokens?: number, kernel?: string)";
    Napi::Uint8Array w = typed_arg<Napi::Uint8Array>(info, 0, napi_uint8_array, sig);
    Napi::Int8Array q = typed_arg<Napi::Int8Array>(info, 1, napi_int8_array, sig);
    const uint32_t n = tile_tokens(env, info[2]);
    const Kernels& kern = kernels_named(env, info[3]);
    const size_t k = q.ElementLength() / n;
    if (k == 0 || k % 128 != 0 || q.ElementLength() != k * n || w.ElementLength() == 0 || w.ElementLength() % (k / 4) != 0)
        throw Napi::RangeError::New(env, "i2sDot: q must hold nTokens rows of a multiple of 128 elements and packedRows whole rows of a quarter that many bytes");
    const size_t n_rows = w.ElementLength() / (k / 4);
    int32_t qsum[kMaxTileTokens] = {0};
    for (uint32_t t = 0; t < n; ++t)
        for (size_t i = 0; i < k; ++i) qsum[t] += q.Data()[t * k + i];
    std::vector<uint8_t> rows(w.Data(), w.Data() + w.ElementLength());  // in the file's layout, as given
    if (kern.i2s_repack)
        for (size_t r = 0; r < n_rows; ++r) kern.i2s_repack(rows.data() + r * (k / 4), (uint32_t)k);
    std::vector<int32_t> out(n * n_rows);
    kern.i2s_dot(rows.data(), (uint32_t)n_rows, q.Data(), k, qsum, (uint32_t)k, n, out.data(), n_rows);
    return to_array(env, out.data(), (uint32_t)out.size());
}

// f16Dot(e: Uint16Array, x: Float32Array, nTokens = 1, kernel?): a kernel's F16 row dot products.
Napi::Value F16Dot(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const char* sig = "f16Dot(e: Uint16Array, x: Float32Array, nTokens?: number, kernel?: string)";
    Napi::Uint16Array e = typed_arg<Napi::Uint16Array>(info, 0, napi_uint16_array, sig);
    Napi::Float32Array x = typed_arg<Napi::Float32Array>(info, 1, napi_float32_array, sig);
    const uint32_t n = tile_tokens(env, info[2]);
    const Kernels& kern = kernels_named(env, info[3]);
    const size_t k = e.ElementLength();
    if (k == 0 || x.ElementLength() != k * n) throw Napi::RangeError::New(env, "f16Dot: x must be nTokens times as long as e");
    float out[kMaxTileTokens];
    kern.f16_dot(e.Data(), x.Data(), k, (uint32_t)k, n, out);
    return to_array(env, out, n);
}

// q8Dot(w, ws, xq, xs, nTokens = 1, kernel?): a kernel's int8-head dot products of one row (w with a
// scale per 32 in ws) with nTokens activations (kernels.h, Q8DotFn: planes xq, block scales xs).
Napi::Value Q8Dot(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const char* sig = "q8Dot(w: Int8Array, ws: Float32Array, xq: Int8Array, xs: Float32Array, nTokens?: number, kernel?: string)";
    Napi::Int8Array w = typed_arg<Napi::Int8Array>(info, 0, napi_int8_array, sig);
    Napi::Float32Array ws = typed_arg<Napi::Float32Array>(info, 1, napi_float32_array, sig);
    Napi::Int8Array xq = typed_arg<Napi::Int8Array>(info, 2, napi_int8_array, sig);
    Napi::Float32Array xs = typed_arg<Napi::Float32Array>(info, 3, napi_float32_array, sig);
    const uint32_t n = tile_tokens(env, info[4]);
    const Kernels& kern = kernels_named(env, info[5]);
    const size_t k = w.ElementLength();
    if (k == 0 || k % 32 != 0 || ws.ElementLength() != k / 32 || xq.ElementLength() != 2 * k * n || xs.ElementLength() != n * k / 32)
        throw Napi::RangeError::New(env, "q8Dot: w needs a multiple of 32 values, ws one scale per 32, xq 2 * nTokens rows and xs nTokens * k / 32 scales");
    std::vector<float> xsum(xs.ElementLength());
    q8_block_sums(xq.Data(), xs.Data(), n, (uint32_t)k, xsum.data());
    float out[kMaxTileTokens];
    kern.q8_dot(w.Data(), ws.Data(), xq.Data(), xs.Data(), xsum.data(), (uint32_t)k, n, out);
    return to_array(env, out, n);
}

// attnScores(q, k, dim, kernel?): a kernel's attention scores of q.length / dim query rows against
// k.length / dim F16 keys, row-major (kernels.h, AttnScoresFn).
Napi::Value AttnScores(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const char* sig = "attnScores(q: Float32Array, k: Uint16Array, dim: number, kernel?: string)";
    Napi::Float32Array q = typed_arg<Napi::Float32Array>(info, 0, napi_float32_array, sig);
    Napi::Uint16Array k = typed_arg<Napi::Uint16Array>(info, 1, napi_uint16_array, sig);
    const uint32_t dim = checked_uint(env, info[2], "dim", 1, 1 << 16);
    const Kernels& kern = kernels_named(env, info[3]);
    if (q.ElementLength() % dim != 0 || k.ElementLength() % dim != 0 || q.ElementLength() == 0 || k.ElementLength() == 0)
        throw Napi::RangeError::New(env, "attnScores: q and k must hold whole rows of dim values");
    const uint32_t n_q = (uint32_t)(q.ElementLength() / dim), n_k = (uint32_t)(k.ElementLength() / dim);
    Napi::Float32Array s = Napi::Float32Array::New(env, (size_t)n_q * n_k);
    kern.attn_scores(q.Data(), n_q, k.Data(), dim, n_k, dim, s.Data(), n_k);
    return s;
}

// attnValues(p, nKeys, v, out, kernel?): out + the weighted sums of F16 value rows, as a new array, for
// nKeys.length rows (kernels.h, AttnValuesFn); p holds a weight per row and value row.
Napi::Value AttnValues(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const char* sig = "attnValues(p: Float32Array, nKeys: Uint32Array, v: Uint16Array, out: Float32Array, kernel?: string)";
    Napi::Float32Array p = typed_arg<Napi::Float32Array>(info, 0, napi_float32_array, sig);
    Napi::Uint32Array n_keys = typed_arg<Napi::Uint32Array>(info, 1, napi_uint32_array, sig);
    Napi::Uint16Array v = typed_arg<Napi::Uint16Array>(info, 2, napi_uint16_array, sig);
    Napi::Float32Array out = typed_arg<Napi::Float32Array>(info, 3, napi_float32_array, sig);
    const Kernels& kern = kernels_named(env, info[4]);
    const size_t n_q = n_keys.ElementLength();
    if (n_q == 0 || out.ElementLength() % n_q != 0 || out.ElementLength() == 0)
        throw Napi::RangeError::New(env, "attnValues: out must hold one row of dim values per entry of nKeys");
    const size_t dim = out.ElementLength() / n_q;
    if (v.ElementLength() % dim != 0 || p.ElementLength() != n_q * (v.ElementLength() / dim))
        throw Napi::RangeError::New(env, "attnValues: v must hold whole rows and p one weight per row and value row");
    const size_t n_v = v.ElementLength() / dim;
    for (size_t i = 0; i < n_q; ++i)
        if (n_keys[i] > n_v) throw Napi::RangeError::New(env, "attnValues: a row sees more keys than v holds");
    Napi::Float32Array result = Napi::Float32Array::New(env, out.ElementLength());
    std::memcpy(result.Data(), out.Data(), out.ElementLength() * sizeof(float));
    kern.attn_values(p.Data(), n_v, n_keys.Data(), (uint32_t)n_q, v.Data(), dim, (uint32_t)dim, result.Data());
    return result;
}

// probeBandwidth(megabytes, threads): the best of five timed reads of a buffer, in GB/s. glibc's
// memchr is vectorized for the CPU it runs on, so it reads at the memory's speed on every architecture.
Napi::Value ProbeBandwidth(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const uint32_t mb = checked_uint(env, info[0], "megabytes", 16, 1 << 16);
    const int threads = (int)checked_uint(env, info[1], "threads", 1, 256);
    const size_t bytes = (size_t)mb << 20;
    WeightArena buf(bytes);
    std::memset(buf.base, 1, bytes);
    ThreadPool pool(threads);
    double best = 0;
    for (int rep = 0; rep < 5; ++rep) {
        std::atomic<size_t> found{0};  // memchr's result is used, so the reads cannot be optimized away
        const auto t0 = std::chrono::steady_clock::now();
        pool.run([&](int ith, int nth) {
            const size_t per = bytes / nth;
            if (std::memchr(buf.base + per * ith, 0xff, per)) found++;
        });
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        best = std::max(best, bytes / s / 1e9);
    }
    return Napi::Number::New(env, best);
}

// sdNotify(state): true when sent; false outside systemd; throws when NOTIFY_SOCKET is set but unusable.
Napi::Value SdNotify(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsString()) throw Napi::TypeError::New(env, "sdNotify(state: string)");
    std::string error;
    const bool sent = sd_notify_send(info[0].As<Napi::String>().Utf8Value(), &error);
    if (!error.empty()) throw Napi::Error::New(env, "sd_notify: " + error);
    return Napi::Boolean::New(env, sent);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
    ModelWrap::Init(env, exports);
    ContextWrap::Init(env, exports);
    SamplerWrap::Init(env, exports);
    exports.Set("loadModel", Napi::Function::New(env, LoadModel));
    Napi::Array names = Napi::Array::New(env);
    for (const Kernels* k : kernels_available()) names.Set(names.Length(), Napi::String::New(env, k->name));
    exports.Set("kernels", names);
    exports.Set("i2sDot", Napi::Function::New(env, I2sDot));
    exports.Set("f16Dot", Napi::Function::New(env, F16Dot));
    exports.Set("q8Dot", Napi::Function::New(env, Q8Dot));
    exports.Set("attnScores", Napi::Function::New(env, AttnScores));
    exports.Set("attnValues", Napi::Function::New(env, AttnValues));
    exports.Set("sdNotify", Napi::Function::New(env, SdNotify));
    exports.Set("probeBandwidth", Napi::Function::New(env, ProbeBandwidth));
    return exports;
}

}  // namespace

NODE_API_MODULE(bitnetd, Init)

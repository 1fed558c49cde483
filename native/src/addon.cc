// The Node-API surface of the engine (model, context, sampler): argument checks, async workers,
// conversions. The kernels' own entry points, for tests and the bench, are in addon_kernels.cc.
#include <napi.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
#include <mutex>

#include "addon_args.h"
#include "addon_kernels.h"
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
        } catch (const std::bad_alloc&) {
            SetError(path_ + ": not enough memory to load it (is its header corrupt, asking for absurd sizes?)");
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
    export_kernel_probes(env, exports);
    exports.Set("sdNotify", Napi::Function::New(env, SdNotify));
    return exports;
}

}  // namespace

NODE_API_MODULE(bitnetd, Init)

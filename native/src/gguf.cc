#include "gguf.h"

#include <cstring>
#include <stdexcept>
#include <unordered_set>

namespace {

constexpr uint64_t kMaxDims = 4;
constexpr uint64_t kMaxKeyLength = 65535;
// A model has tens of metadata keys and hundreds of tensors (2B4T: 24 and 332). Far more is a corrupt
// count: refused before anything is allocated for it (an entry takes about 120 bytes in memory, ten
// times its smallest size on disk).
constexpr uint64_t kMaxKvs = 1 << 16;
constexpr uint64_t kMaxTensors = 1 << 16;

// A bounds-checked little-endian reader over the mapped header.
struct Cursor {
    const std::string& path;
    const uint8_t* base;
    size_t size;
    size_t pos = 0;

    [[noreturn]] void fail(const std::string& what) const {
        throw std::runtime_error(path + ": " + what);
    }
    void need(uint64_t n, const char* what) const {
        if (n > size - pos)
            fail(std::string("truncated while reading ") + what + " at byte " + std::to_string(pos) +
                 " (needs " + std::to_string(n) + " bytes, file has " + std::to_string(size) + ")");
    }
    template <typename T> T read(const char* what) {
        need(sizeof(T), what);
        T v;
        std::memcpy(&v, base + pos, sizeof(T));
        pos += sizeof(T);
        return v;
    }
    std::string read_string(const char* what, uint64_t max_len) {
        uint64_t n = read<uint64_t>(what);
        if (n > max_len) fail(std::string(what) + " has an absurd length " + std::to_string(n) + " at byte " + std::to_string(pos - 8));
        need(n, what);
        std::string s(reinterpret_cast<const char*>(base + pos), n);
        pos += n;
        return s;
    }
    void skip_string(const char* what) {
        uint64_t n = read<uint64_t>(what);
        need(n, what);
        pos += n;
    }
};

size_t scalar_size(GgufValueType t) {
    switch (t) {
        case GgufValueType::U8: case GgufValueType::I8: case GgufValueType::BOOL: return 1;
        case GgufValueType::U16: case GgufValueType::I16: return 2;
        case GgufValueType::U32: case GgufValueType::I32: case GgufValueType::F32: return 4;
        case GgufValueType::U64: case GgufValueType::I64: case GgufValueType::F64: return 8;
        default: return 0;
    }
}

bool known_value_type(uint32_t t) { return t <= 12; }

void read_scalar(Cursor& c, GgufKV& kv) {
    const char* what = "a metadata value";
    switch (kv.type) {
        case GgufValueType::U8: kv.u = c.read<uint8_t>(what); kv.i = (int64_t)kv.u; break;
        case GgufValueType::I8: kv.i = c.read<int8_t>(what); break;
        case GgufValueType::U16: kv.u = c.read<uint16_t>(what); kv.i = (int64_t)kv.u; break;
        case GgufValueType::I16: kv.i = c.read<int16_t>(what); break;
        case GgufValueType::U32: kv.u = c.read<uint32_t>(what); kv.i = (int64_t)kv.u; break;
        case GgufValueType::I32: kv.i = c.read<int32_t>(what); break;
        case GgufValueType::U64: kv.u = c.read<uint64_t>(what); kv.i = (int64_t)kv.u; break;
        case GgufValueType::I64: kv.i = c.read<int64_t>(what); break;
        case GgufValueType::F32: kv.f = c.read<float>(what); break;
        case GgufValueType::F64: kv.f = c.read<double>(what); break;
        case GgufValueType::BOOL: {
            uint8_t b = c.read<uint8_t>(what);
            if (b > 1) c.fail("metadata key " + kv.key + " holds a bool that is neither 0 nor 1");
            kv.u = b;
            break;
        }
        default: break;
    }
    bool is_signed = kv.type == GgufValueType::I8 || kv.type == GgufValueType::I16 ||
                     kv.type == GgufValueType::I32 || kv.type == GgufValueType::I64;
    if (is_signed) kv.u = kv.i < 0 ? 0 : (uint64_t)kv.i;
}

void read_kv(Cursor& c, GgufKV& kv) {
    kv.key = c.read_string("a metadata key", kMaxKeyLength);
    if (kv.key.empty()) c.fail("empty metadata key at byte " + std::to_string(c.pos - 8));
    uint32_t t = c.read<uint32_t>("a metadata value type");
    if (!known_value_type(t)) c.fail("metadata key " + kv.key + " has unknown value type " + std::to_string(t));
    kv.type = static_cast<GgufValueType>(t);
    if (kv.type == GgufValueType::STRING) {
        kv.str = c.read_string("a metadata string", c.size);
    } else if (kv.type == GgufValueType::ARRAY) {
        uint32_t et = c.read<uint32_t>("an array element type");
        if (!known_value_type(et)) c.fail("metadata array " + kv.key + " has unknown element type " + std::to_string(et));
        kv.arr_type = static_cast<GgufValueType>(et);
        if (kv.arr_type == GgufValueType::ARRAY) c.fail("metadata array " + kv.key + " nests arrays, which is not supported");
        kv.arr_count = c.read<uint64_t>("an array length");
        kv.arr_offset = c.pos;
        if (kv.arr_type == GgufValueType::STRING) {
            // Each string needs at least its 8-byte length: reject absurd counts before looping.
            if (kv.arr_count > (c.size - c.pos) / 8)
                c.fail("metadata array " + kv.key + " claims " + std::to_string(kv.arr_count) + " strings, more than the file can hold");
            for (uint64_t k = 0; k < kv.arr_count; ++k) c.skip_string("a string in an array");
        } else {
            size_t es = scalar_size(kv.arr_type);
            if (kv.arr_count > (c.size - c.pos) / es)
                c.fail("metadata array " + kv.key + " claims " + std::to_string(kv.arr_count) + " elements, more than the file can hold");
            c.pos += kv.arr_count * es;
        }
    } else {
        read_scalar(c, kv);
    }
}

bool known_tensor_type(uint32_t t) { return t == 0 || t == 1 || t == 36; }

}  // namespace

const char* gguf_value_type_name(GgufValueType t) {
    static const char* names[] = {"u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array", "u64", "i64", "f64"};
    uint32_t i = static_cast<uint32_t>(t);
    return i <= 12 ? names[i] : "unknown";
}

const char* ggml_type_name(GgmlType t) {
    switch (t) {
        case GgmlType::F32: return "F32";
        case GgmlType::F16: return "F16";
        case GgmlType::I2_S: return "I2_S";
    }
    return "unknown";
}

uint64_t ggml_tensor_nbytes(GgmlType type, const uint64_t ne[4]) {
    uint64_t n = ne[0] * ne[1] * ne[2] * ne[3];
    switch (type) {
        case GgmlType::F32: return n * 4;
        case GgmlType::F16: return n * 2;
        case GgmlType::I2_S: return n / 4 + 32;  // 2-bit codes, then a 32-byte trailer holding the f32 scale
    }
    return 0;
}

GgufFile gguf_open(const std::string& path) {
    GgufFile f;
    f.path = path;
    f.map = MappedFile(path);
    Cursor c{path, f.map.data, f.map.size};

    c.need(4, "the magic");
    if (std::memcmp(f.map.data, "GGUF", 4) != 0) c.fail("not a GGUF file (bad magic bytes)");
    c.pos = 4;
    f.version = c.read<uint32_t>("the version");
    if (f.version != 2 && f.version != 3)
        c.fail("unsupported GGUF version " + std::to_string(f.version) + " (expected 3)");
    uint64_t n_tensors = c.read<uint64_t>("the tensor count");
    uint64_t n_kv = c.read<uint64_t>("the metadata count");
    // A key/value needs at least 8 + 1 + 4 + 1 bytes and a tensor record 8 + 1 + 4 + 8 + 4 + 8.
    if (n_kv > kMaxKvs || n_kv > (c.size - c.pos) / 14) c.fail("absurd metadata count " + std::to_string(n_kv));
    if (n_tensors > kMaxTensors || n_tensors > (c.size - c.pos) / 33) c.fail("absurd tensor count " + std::to_string(n_tensors));

    std::unordered_set<std::string> seen;
    f.kvs.resize(n_kv);
    for (auto& kv : f.kvs) {
        read_kv(c, kv);
        if (!seen.insert(kv.key).second) c.fail("metadata key " + kv.key + " appears twice");
    }

    if (const GgufKV* a = f.find("general.alignment")) {
        if (a->type != GgufValueType::U32 && a->type != GgufValueType::U64)
            c.fail("general.alignment must be an unsigned integer");
        if (a->u == 0 || (a->u & (a->u - 1)) != 0 || a->u > 65536)
            c.fail("general.alignment " + std::to_string(a->u) + " is not a power of two up to 65536");
        f.alignment = a->u;
    }

    seen.clear();
    f.tensors.resize(n_tensors);
    for (auto& t : f.tensors) {
        t.name = c.read_string("a tensor name", kMaxKeyLength);
        if (!seen.insert(t.name).second) c.fail("tensor " + t.name + " appears twice");
        t.n_dims = c.read<uint32_t>("a tensor's dimension count");
        if (t.n_dims == 0 || t.n_dims > kMaxDims)
            c.fail("tensor " + t.name + " has " + std::to_string(t.n_dims) + " dimensions (1 to 4 allowed)");
        uint64_t elems = 1;
        for (uint32_t d = 0; d < t.n_dims; ++d) {
            t.ne[d] = c.read<uint64_t>("a tensor dimension");
            if (t.ne[d] == 0 || t.ne[d] > (uint64_t(1) << 40) || elems > (uint64_t(1) << 40) / t.ne[d])
                c.fail("tensor " + t.name + " has an absurd dimension " + std::to_string(t.ne[d]));
            elems *= t.ne[d];
        }
        uint32_t type = c.read<uint32_t>("a tensor type");
        if (!known_tensor_type(type))
            c.fail("tensor " + t.name + " has unknown or unsupported type " + std::to_string(type) +
                   " (this engine reads F32 = 0, F16 = 1 and I2_S = 36)");
        t.type = static_cast<GgmlType>(type);
        if (t.type == GgmlType::I2_S && t.ne[0] % 128 != 0)
            c.fail("tensor " + t.name + " is I2_S but its row length " + std::to_string(t.ne[0]) + " is not a multiple of 128");
        t.offset = c.read<uint64_t>("a tensor offset");
        if (t.offset % f.alignment != 0)
            c.fail("tensor " + t.name + " offset " + std::to_string(t.offset) + " is not aligned to " + std::to_string(f.alignment));
        t.nbytes = ggml_tensor_nbytes(t.type, t.ne);
    }

    // The data section starts at the next alignment boundary after the header.
    uint64_t data = (c.pos + f.alignment - 1) / f.alignment * f.alignment;
    if (n_tensors > 0 && data > f.map.size) c.fail("truncated: the file ends before its tensor data begins");
    f.data_offset = data;
    for (auto& t : f.tensors) {
        uint64_t room = f.map.size - data;
        if (t.offset > room || t.nbytes > room - t.offset)
            c.fail("tensor " + t.name + " ends past the end of the file (offset " + std::to_string(data + t.offset) +
                   ", size " + std::to_string(t.nbytes) + ", file size " + std::to_string(f.map.size) + ")");
        t.data = f.map.data + data + t.offset;
    }
    return f;
}

const GgufKV* GgufFile::find(const std::string& key) const {
    for (const auto& kv : kvs)
        if (kv.key == key) return &kv;
    return nullptr;
}

const GgufTensor* GgufFile::tensor(const std::string& name) const {
    for (const auto& t : tensors)
        if (t.name == name) return &t;
    return nullptr;
}

namespace {
[[noreturn]] void type_error(const std::string& path, const GgufKV& kv, const char* wanted) {
    throw std::runtime_error(path + ": metadata key " + kv.key + " is " + gguf_value_type_name(kv.type) + ", expected " + wanted);
}
bool is_integer(GgufValueType t) {
    return t == GgufValueType::U8 || t == GgufValueType::I8 || t == GgufValueType::U16 || t == GgufValueType::I16 ||
           t == GgufValueType::U32 || t == GgufValueType::I32 || t == GgufValueType::U64 || t == GgufValueType::I64;
}
}  // namespace

uint64_t GgufFile::get_uint(const std::string& key) const {
    const GgufKV* kv = find(key);
    if (!kv) throw std::runtime_error(path + ": required metadata key " + key + " is missing");
    if (!is_integer(kv->type)) type_error(path, *kv, "an integer");
    if (kv->i < 0) throw std::runtime_error(path + ": metadata key " + key + " is negative");
    return kv->u;
}

double GgufFile::get_float(const std::string& key) const {
    const GgufKV* kv = find(key);
    if (!kv) throw std::runtime_error(path + ": required metadata key " + key + " is missing");
    if (kv->type == GgufValueType::F32 || kv->type == GgufValueType::F64) return kv->f;
    if (is_integer(kv->type)) return (double)kv->i;
    type_error(path, *kv, "a number");
}

double GgufFile::get_float(const std::string& key, double fallback) const {
    return has(key) ? get_float(key) : fallback;
}

std::string GgufFile::get_string(const std::string& key) const {
    const GgufKV* kv = find(key);
    if (!kv) throw std::runtime_error(path + ": required metadata key " + key + " is missing");
    if (kv->type != GgufValueType::STRING) type_error(path, *kv, "a string");
    return kv->str;
}

uint64_t GgufFile::array_length(const std::string& key) const {
    const GgufKV* kv = find(key);
    if (!kv) throw std::runtime_error(path + ": required metadata key " + key + " is missing");
    if (kv->type != GgufValueType::ARRAY) type_error(path, *kv, "an array");
    return kv->arr_count;
}

std::vector<std::string> GgufFile::get_string_array(const std::string& key) const {
    uint64_t n = array_length(key);
    const GgufKV* kv = find(key);
    if (kv->arr_type != GgufValueType::STRING)
        throw std::runtime_error(path + ": metadata key " + key + " is an array of " + gguf_value_type_name(kv->arr_type) + ", expected strings");
    std::vector<std::string> out;
    out.reserve(n);
    size_t pos = kv->arr_offset;  // already validated by gguf_open
    for (uint64_t k = 0; k < n; ++k) {
        uint64_t len;
        std::memcpy(&len, map.data + pos, 8);
        pos += 8;
        out.emplace_back(reinterpret_cast<const char*>(map.data + pos), len);
        pos += len;
    }
    return out;
}

std::vector<int32_t> GgufFile::get_int_array(const std::string& key) const {
    uint64_t n = array_length(key);
    const GgufKV* kv = find(key);
    std::vector<int32_t> out(n);
    const uint8_t* p = map.data + kv->arr_offset;
    switch (kv->arr_type) {
        case GgufValueType::I32: case GgufValueType::U32: if (n) std::memcpy(out.data(), p, n * 4); break;
        case GgufValueType::I8: for (uint64_t k = 0; k < n; ++k) out[k] = (int8_t)p[k]; break;
        case GgufValueType::U8: for (uint64_t k = 0; k < n; ++k) out[k] = p[k]; break;
        default:
            throw std::runtime_error(path + ": metadata key " + key + " is an array of " + gguf_value_type_name(kv->arr_type) + ", expected integers");
    }
    return out;
}


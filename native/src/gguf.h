// GGUF v2/v3 reader: parses and validates the whole header against the file size before any
// tensor byte is touched. Every failure is a std::runtime_error whose text starts with the path.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "mapped_file.h"

enum class GgufValueType : uint32_t {
    U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, BOOL = 7,
    STRING = 8, ARRAY = 9, U64 = 10, I64 = 11, F64 = 12,
};

// ggml tensor types this engine knows. I2_S is bitnet.cpp's ternary type (spec §3).
enum class GgmlType : uint32_t { F32 = 0, F16 = 1, I2_S = 36 };

const char* gguf_value_type_name(GgufValueType t);
const char* ggml_type_name(GgmlType t);

struct GgufKV {
    std::string key;
    GgufValueType type;
    // Scalars are widened into one of these; strings are copied.
    uint64_t u = 0;
    int64_t i = 0;
    double f = 0;
    std::string str;
    // Arrays are left in the file: element type, count and the byte offset of the first element.
    GgufValueType arr_type = GgufValueType::U8;
    uint64_t arr_count = 0;
    size_t arr_offset = 0;
};

struct GgufTensor {
    std::string name;
    uint32_t n_dims = 0;
    uint64_t ne[4] = {1, 1, 1, 1};  // ne[0] is the contiguous dimension
    GgmlType type = GgmlType::F32;
    uint64_t offset = 0;   // relative to the data section
    uint64_t nbytes = 0;
    const uint8_t* data = nullptr;
};

struct GgufFile {
    std::string path;
    MappedFile map;
    uint32_t version = 0;
    uint64_t alignment = 32;
    size_t data_offset = 0;
    std::vector<GgufKV> kvs;
    std::vector<GgufTensor> tensors;

    const GgufKV* find(const std::string& key) const;
    const GgufTensor* tensor(const std::string& name) const;

    // Typed metadata access; each throws a precise error when the key has another type.
    bool has(const std::string& key) const { return find(key) != nullptr; }
    uint64_t get_uint(const std::string& key) const;                   // any integer type >= 0
    double get_float(const std::string& key) const;                    // f32/f64 (or integer)
    double get_float(const std::string& key, double fallback) const;
    std::string get_string(const std::string& key) const;
    std::vector<std::string> get_string_array(const std::string& key) const;
    std::vector<int32_t> get_int_array(const std::string& key) const;
    uint64_t array_length(const std::string& key) const;
};

// Bytes a tensor of this type and shape occupies in the file.
uint64_t ggml_tensor_nbytes(GgmlType type, const uint64_t ne[4]);

GgufFile gguf_open(const std::string& path);

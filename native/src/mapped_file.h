// A read-only memory map of a whole file. The model's weights are used in place from this map.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

struct MappedFile {
    const uint8_t* data = nullptr;
    size_t size = 0;

    MappedFile() = default;
    explicit MappedFile(const std::string& path);  // throws std::runtime_error("path: reason")
    ~MappedFile();
    MappedFile(MappedFile&& other) noexcept;
    MappedFile& operator=(MappedFile&& other) noexcept;
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;
};

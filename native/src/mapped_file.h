// A read-only memory map of a whole file, and its descriptor for reads that should not map pages in.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

struct MappedFile {
    const uint8_t* data = nullptr;
    size_t size = 0;
    int fd = -1;

    MappedFile() = default;
    explicit MappedFile(const std::string& path);  // throws std::runtime_error("path: reason")
    ~MappedFile();
    MappedFile(MappedFile&& other) noexcept;
    MappedFile& operator=(MappedFile&& other) noexcept;
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    // Copies bytes [offset, offset + n) with pread: through the page cache, but without mapping the
    // file's pages into this process. Throws std::runtime_error when the file cannot be read there.
    void read_at(uint64_t offset, void* dst, size_t n) const;

private:
    void release();
};

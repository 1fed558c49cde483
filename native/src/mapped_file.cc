#include "mapped_file.h"

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

MappedFile::MappedFile(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw std::runtime_error(path + ": cannot open (" + std::strerror(errno) + ")");
    // statx, not fstat: glibc 2.33 turned fstat into a new symbol that Raspberry Pi OS bullseye (2.31)
    // lacks, while statx exists since 2.28.
    struct statx st;
    if (statx(fd, "", AT_EMPTY_PATH, STATX_TYPE | STATX_SIZE, &st) != 0) {
        int e = errno;
        ::close(fd);
        throw std::runtime_error(path + ": cannot stat (" + std::strerror(e) + ")");
    }
    if (!S_ISREG(st.stx_mode)) {
        ::close(fd);
        throw std::runtime_error(path + ": not a regular file");
    }
    if (st.stx_size > SIZE_MAX) {
        ::close(fd);
        throw std::runtime_error(path + ": the file is too large to map in a 32-bit process");
    }
    size = static_cast<size_t>(st.stx_size);
    if (size == 0) {
        ::close(fd);
        throw std::runtime_error(path + ": the file is empty");
    }
    void* p = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    ::close(fd);
    if (p == MAP_FAILED) throw std::runtime_error(path + ": cannot map the file (" + std::strerror(e) + ")");
    data = static_cast<const uint8_t*>(p);
}

MappedFile::~MappedFile() {
    if (data) munmap(const_cast<uint8_t*>(data), size);
}

MappedFile::MappedFile(MappedFile&& o) noexcept : data(o.data), size(o.size) {
    o.data = nullptr;
    o.size = 0;
}

MappedFile& MappedFile::operator=(MappedFile&& o) noexcept {
    if (this != &o) {
        if (data) munmap(const_cast<uint8_t*>(data), size);
        data = o.data;
        size = o.size;
        o.data = nullptr;
        o.size = 0;
    }
    return *this;
}

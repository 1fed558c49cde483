#include "mapped_file.h"

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <utility>

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
    if (p == MAP_FAILED) {
        int e = errno;
        ::close(fd);
        throw std::runtime_error(path + ": cannot map the file (" + std::strerror(e) + ")");
    }
    data = static_cast<const uint8_t*>(p);
    this->fd = fd;
}

MappedFile::~MappedFile() { release(); }

void MappedFile::release() {
    if (data) munmap(const_cast<uint8_t*>(data), size);
    if (fd >= 0) ::close(fd);
    data = nullptr;
    size = 0;
    fd = -1;
}

MappedFile::MappedFile(MappedFile&& o) noexcept : data(o.data), size(o.size), fd(o.fd) {
    o.data = nullptr;
    o.size = 0;
    o.fd = -1;
}

MappedFile& MappedFile::operator=(MappedFile&& o) noexcept {
    if (this != &o) {
        release();
        std::swap(data, o.data);
        std::swap(size, o.size);
        std::swap(fd, o.fd);
    }
    return *this;
}

void MappedFile::read_at(uint64_t offset, void* dst, size_t n) const {
    auto* out = static_cast<uint8_t*>(dst);
    while (n > 0) {
        const ssize_t got = ::pread64(fd, out, n, (off64_t)offset);  // 64-bit offsets on 32-bit ARM too
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0)
            throw std::runtime_error(std::string("cannot read the model file at byte ") + std::to_string(offset) + " (" +
                                     (got < 0 ? std::strerror(errno) : "unexpected end of file") + ")");
        out += got;
        offset += (uint64_t)got;
        n -= (size_t)got;
    }
}

#include "mapped_file.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

MappedFile::MappedFile(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw std::runtime_error(path + ": cannot open (" + std::strerror(errno) + ")");
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        ::close(fd);
        throw std::runtime_error(path + ": cannot stat (" + std::strerror(e) + ")");
    }
    if (!S_ISREG(st.st_mode)) {
        ::close(fd);
        throw std::runtime_error(path + ": not a regular file");
    }
    size = static_cast<size_t>(st.st_size);
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

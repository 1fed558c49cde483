#include "kv_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace {

const char MAGIC[8] = {'B', 'N', 'T', 'K', 'V', '0', '0', '1'};

struct Header {
    char magic[8];
    uint32_t n_layer, kv_dim, n_tokens, stamp_bytes;
};

// 64-bit FNV-style hash over 8-byte words (a file's parts are multiples of 4 bytes; a 4-byte tail is
// padded): fast enough to check 100+ MB at the speed of the disk.
struct Hash {
    uint64_t h = 0xcbf29ce484222325ull;
    void add(const void* p, size_t n) {
        const uint8_t* b = static_cast<const uint8_t*>(p);
        size_t i = 0;
        for (; i + 8 <= n; i += 8) {
            uint64_t w;
            std::memcpy(&w, b + i, 8);
            h = (h ^ w) * 0x100000001b3ull;
        }
        if (i < n) {
            uint64_t w = 0;
            std::memcpy(&w, b + i, n - i);
            h = (h ^ w) * 0x100000001b3ull;
        }
    }
};

[[noreturn]] void fail(const std::string& path, const std::string& what) { throw std::runtime_error(path + ": " + what); }

struct Fd {
    int fd;
    ~Fd() {
        if (fd >= 0) close(fd);
    }
};

void write_all(int fd, const void* p, size_t n, const std::string& path) {
    const char* c = static_cast<const char*>(p);
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) fail(path, std::string("cannot write: ") + std::strerror(errno));
        c += w;
        n -= (size_t)w;
    }
}

void read_all(int fd, void* p, size_t n, const std::string& path) {
    char* c = static_cast<char*>(p);
    while (n > 0) {
        ssize_t r = read(fd, c, n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) fail(path, std::string("cannot read: ") + std::strerror(errno));
        if (r == 0) fail(path, "the file ends early");
        c += r;
        n -= (size_t)r;
    }
}

size_t layer_elems(const Context& ctx, uint32_t n_tokens) { return (size_t)n_tokens * ctx.kv.kv_dim; }

}  // namespace

void kv_file_save(const Context& ctx, const std::vector<int32_t>& tokens, const std::string& stamp, const std::string& path) {
    if (tokens.size() > ctx.n_past) fail(path, "more tokens than the cache holds");
    const uint32_t n = (uint32_t)tokens.size();
    const uint32_t n_layer = ctx.model->hp.n_layer;
    Fd f{open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)};
    if (f.fd < 0) fail(path, std::string("cannot create: ") + std::strerror(errno));
    Header h{};
    std::memcpy(h.magic, MAGIC, sizeof MAGIC);
    h.n_layer = n_layer;
    h.kv_dim = ctx.kv.kv_dim;
    h.n_tokens = n;
    h.stamp_bytes = (uint32_t)stamp.size();
    write_all(f.fd, &h, sizeof h, path);
    write_all(f.fd, stamp.data(), stamp.size(), path);
    Hash hash;
    hash.add(tokens.data(), n * sizeof(int32_t));
    write_all(f.fd, tokens.data(), n * sizeof(int32_t), path);
    // The cache is [layer][position][kv_dim]: a layer's first n positions are one run of memory.
    KVCache& kv = const_cast<KVCache&>(ctx.kv);  // k_at is not const; nothing is written
    const size_t bytes = layer_elems(ctx, n) * sizeof(uint16_t);
    for (uint32_t l = 0; l < n_layer; ++l) {
        for (const uint16_t* rows : {kv.k_at(l, 0), kv.v_at(l, 0)}) {
            hash.add(rows, bytes);
            write_all(f.fd, rows, bytes, path);
        }
    }
    write_all(f.fd, &hash.h, sizeof hash.h, path);
    if (fsync(f.fd) != 0) fail(path, std::string("cannot sync: ") + std::strerror(errno));
}

std::vector<int32_t> kv_file_load(Context& ctx, const std::string& stamp, const std::string& path) {
    context_truncate(ctx, 0);
    Fd f{open(path.c_str(), O_RDONLY | O_CLOEXEC)};
    if (f.fd < 0) fail(path, std::string("cannot open: ") + std::strerror(errno));
    // Its size by seeking, not fstat: glibc 2.33's new fstat symbol is missing on Raspberry Pi OS bullseye.
    const off_t file_size = lseek(f.fd, 0, SEEK_END);
    if (file_size < 0 || lseek(f.fd, 0, SEEK_SET) != 0) fail(path, std::string("cannot seek: ") + std::strerror(errno));
    Header h{};
    if ((uint64_t)file_size < sizeof h) fail(path, "not a saved prompt cache (too short)");
    read_all(f.fd, &h, sizeof h, path);
    if (std::memcmp(h.magic, MAGIC, sizeof MAGIC) != 0) fail(path, "not a saved prompt cache (bad magic)");
    const uint32_t n_layer = ctx.model->hp.n_layer;
    if (h.n_layer != n_layer || h.kv_dim != ctx.kv.kv_dim)
        fail(path, "saved for a model of another shape (" + std::to_string(h.n_layer) + " layers of " + std::to_string(h.kv_dim) +
                       ", this one " + std::to_string(n_layer) + " of " + std::to_string(ctx.kv.kv_dim) + ")");
    if (h.n_tokens > ctx.kv.n_ctx)
        fail(path, std::to_string(h.n_tokens) + " tokens do not fit this context of " + std::to_string(ctx.kv.n_ctx));
    const size_t bytes = layer_elems(ctx, h.n_tokens) * sizeof(uint16_t);
    const uint64_t expected = sizeof h + (uint64_t)h.stamp_bytes + h.n_tokens * sizeof(int32_t) + 2ull * n_layer * bytes + sizeof(uint64_t);
    if ((uint64_t)file_size != expected)
        fail(path, "the file is " + std::to_string(file_size) + " bytes, its header says " + std::to_string(expected) + " (torn write?)");
    std::string saved(h.stamp_bytes, '\0');
    read_all(f.fd, saved.data(), saved.size(), path);
    if (saved != stamp) fail(path, "saved with another model file or engine (" + saved + ")");
    std::vector<int32_t> tokens(h.n_tokens);
    read_all(f.fd, tokens.data(), tokens.size() * sizeof(int32_t), path);
    for (int32_t t : tokens)
        if (t < 0 || (uint32_t)t >= ctx.model->hp.n_vocab) fail(path, "holds token " + std::to_string(t) + ", not of this vocabulary");
    Hash hash;
    hash.add(tokens.data(), tokens.size() * sizeof(int32_t));
    try {
        for (uint32_t l = 0; l < n_layer; ++l) {
            for (uint16_t* rows : {ctx.kv.k_at(l, 0), ctx.kv.v_at(l, 0)}) {
                read_all(f.fd, rows, bytes, path);
                hash.add(rows, bytes);
            }
        }
        uint64_t check = 0;
        read_all(f.fd, &check, sizeof check, path);
        if (check != hash.h) fail(path, "corrupted (its checksum does not match)");
    } catch (...) {
        ctx.n_past = h.n_tokens;  // so that truncating gives back every page written so far
        context_truncate(ctx, 0);
        throw;
    }
    ctx.n_past = h.n_tokens;
    ctx.n_logit_rows = 0;
    return tokens;
}

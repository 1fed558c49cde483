// A context's KV cache on disk, so that a restart does not evaluate a long cached prompt again:
//   header  "BNTKV001", n_layer, kv_dim, n_tokens, stamp_bytes (u32 each, little-endian as the host)
//   stamp   what the keys and values were computed with (model file and engine version), checked on load
//   tokens  int32[n_tokens], the tokens whose keys and values follow
//   layers  for each layer: K then V, f16[n_tokens][kv_dim]
//   check   u64 hash of tokens and layers: a torn or corrupted file is refused, never half-used
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "forward.h"

// Writes the first tokens.size() positions of ctx (at most n_past) to path and fsyncs it. Throws
// std::runtime_error with the path and errno text on failure.
void kv_file_save(const Context& ctx, const std::vector<int32_t>& tokens, const std::string& stamp, const std::string& path);

// Reads a file written by kv_file_save into ctx (replacing what it held) and returns its tokens. Throws
// std::runtime_error saying what does not match (another model or version, a longer context, a short
// or corrupted file); ctx is then empty.
std::vector<int32_t> kv_file_load(Context& ctx, const std::string& stamp, const std::string& path);

// LPM trie keys for paths (struct wg_path_key), as the BPF programs look them up.
#pragma once

#include <linux/types.h>

#include <cstring>
#include <string_view>

#include "records.h"

namespace waggle {

// A key matching paths that start with `bytes`; with `with_nul`, only the path `bytes`
// itself (the terminating NUL must match too). The caller checks the length fits.
inline wg_path_key make_path_key(std::string_view bytes, bool with_nul) {
  wg_path_key key{};
  size_t n = std::min(bytes.size(), sizeof(key.data) - (with_nul ? 1 : 0));
  std::memcpy(key.data, bytes.data(), n);
  key.prefixlen = (n + (with_nul ? 1 : 0)) * 8;
  return key;
}

inline constexpr size_t path_key_capacity(bool with_nul) {
  return sizeof(wg_path_key::data) - (with_nul ? 1 : 0);
}

}  // namespace waggle

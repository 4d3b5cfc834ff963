// The one part of LineWriter built as C++23: room made at the end of a string without zeroing
// it (std::string::resize_and_overwrite). The writer fills what it uses and cuts the rest, so
// the room's bytes are never read before they are written.
#include <string>

#include "export/line_writer.hpp"

namespace waggle {

void LineWriter::resize(std::string& s, size_t n) {
#if defined(__cpp_lib_string_resize_and_overwrite)
  if (n > s.size()) {
    s.resize_and_overwrite(n, [](char*, size_t size) { return size; });
    return;
  }
#endif
  s.resize(n);
}

}  // namespace waggle

// The web UI's static files (ui/), embedded in the binary at build time
// (cmake/embed_assets.cmake): the agent serves them without touching the disk.
#pragma once

#include <string_view>
#include <vector>

namespace waggle {

struct UiAsset {
  std::string_view name;  // "index.html", "app.js", ...
  std::string_view content_type;
  std::string_view bytes;
};

const std::vector<UiAsset>& ui_assets();

}  // namespace waggle

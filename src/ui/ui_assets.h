// The console's pages, scripts and styles (src/ui/assets), built into the binary
// (cmake/embed_assets.cmake), so a page never loads anything from elsewhere.
#pragma once

#include <string_view>
#include <vector>

namespace closedloop {

struct UiAsset {
  std::string_view name;   // file name, e.g. "label.html"
  std::string_view bytes;  // static storage
};

const std::vector<UiAsset>& UiAssets();

}  // namespace closedloop

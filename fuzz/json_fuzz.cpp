// parse_json and has_string_with_prefix: the nesting bound every kcm parser goes through,
// and the string scan kcm-runtime judges unparsable config.json files by. Input:
// prefix\0text.
// Invariants: an accepted document nests at most kMaxJsonDepth deep; on it (when it holds
// no NUL byte), the scan finds a string with the prefix exactly when the parser found one,
// among keys and values.
#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "error.h"
#include "fuzz.h"
#include "json.h"

namespace {

// The deepest nesting of `doc` and whether one of its strings begins with `prefix`,
// walked with a stack of its own.
std::pair<std::size_t, bool> walk(const nlohmann::json& doc, std::string_view prefix) {
  std::size_t deepest = 0;
  bool found = false;
  std::vector<std::pair<const nlohmann::json*, std::size_t>> stack = {{&doc, 0}};
  while (!stack.empty()) {
    auto [value, depth] = stack.back();
    stack.pop_back();
    if (value->is_string()) {
      found = found || value->get_ref<const std::string&>().starts_with(prefix);
    }
    if (!value->is_structured()) continue;
    deepest = std::max(deepest, depth + 1);
    for (auto it = value->begin(); it != value->end(); ++it) {
      if (value->is_object()) found = found || it.key().starts_with(prefix);
      stack.emplace_back(&*it, depth + 1);
    }
  }
  return {deepest, found};
}

bool is_ascii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input = kcm_fuzz::as_text(data, size);
  const std::size_t nul = input.find('\0');
  if (nul == std::string_view::npos) return 0;
  const std::string_view prefix = input.substr(0, nul);
  const std::string_view text = input.substr(nul + 1);
  if (!is_ascii(prefix)) return 0;  // the documented domain of has_string_with_prefix

  const bool scanned = kcm::has_string_with_prefix(text, prefix);
  std::optional<nlohmann::json> doc;
  try {
    doc = kcm::parse_json(text, "fuzz");
  } catch (const kcm::Error&) {
    return 0;
  }
  const auto [deepest, found] = walk(*doc, prefix);
  FUZZ_CHECK(deepest <= kcm::kMaxJsonDepth);
  // nlohmann stops at a NUL byte, as at the end of a C string; the scan reads on.
  if (text.find('\0') == std::string_view::npos) FUZZ_CHECK(scanned == found);
  return 0;
}

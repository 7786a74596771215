// Shared helpers for the libFuzzer targets in fuzz/ (see fuzz/README.md).
//
// The convention of every target: the parser runs inside `try { } catch (const
// kcm::Error&) { return 0; }` — a kcm::Error is the documented way to refuse input —
// and everything after it (the invariant checks) runs outside any try, so any other
// exception escapes LLVMFuzzerTestOneInput, std::terminate aborts, and libFuzzer
// reports a crash. FUZZ_CHECK aborts with a message on a broken invariant.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#define FUZZ_CHECK(cond)                                                                \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)

namespace kcm_fuzz {

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Splits at NUL bytes: "a\0b" -> {"a", "b"}, "" -> {""}, "a\0" -> {"a", ""}. Used for
// inputs that are several strings (argv, key/value pairs, two files).
inline std::vector<std::string> split_nul(std::string_view text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    std::size_t at = text.find('\0', start);
    if (at == std::string_view::npos) {
      out.emplace_back(text.substr(start));
      return out;
    }
    out.emplace_back(text.substr(start, at - start));
    start = at + 1;
  }
}

inline std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t at = text.find('\n', start);
    if (at == std::string_view::npos) at = text.size();
    out.emplace_back(text.substr(start, at - start));
    start = at + 1;
  }
  return out;
}

}  // namespace kcm_fuzz

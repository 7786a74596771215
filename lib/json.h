// JSON as every kcm program reads it: nlohmann's parser behind a bound on nesting.
//
// nlohmann's parser keeps its stack on the heap, but what touches a document afterwards
// recurses once per level: dump(), operator==, copies. A config.json nested 100,000
// levels deep overflowed kcm-runtime's stack. So a document nested deeper than
// kMaxJsonDepth is refused before nlohmann sees it, by one linear scan (no recursion of
// its own). OCI state and config, kcm-runtime's config, owner records and Kubernetes API
// bodies nest a handful of levels (an OCI config 7 at its deepest, in
// linux.seccomp.syscalls[].args[]; the objects kcm reads from the API server, with their
// managedFields, about 10): 64 leaves room for any of them and keeps every walk a few
// hundred stack frames deep at most.
//
// Parsing is pure; read_json_text reads a descriptor. Thread-safe.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "error.h"

namespace kcm {

inline constexpr std::size_t kMaxJsonDepth = 64;

// What the parse functions throw (exit code 1): `parse "<display>": <cause>`, the cause
// being "nested deeper than 64 levels" or "malformed JSON: <nlohmann's message>". cause()
// is for callers whose own messages name the object another way.
class JsonError : public Error {
 public:
  JsonError(const std::string& display, const std::string& cause);
  const std::string& cause() const { return cause_; }

 private:
  std::string cause_;
};

nlohmann::json parse_json(std::string_view text, const std::string& display);
// The same, keeping an object's keys in the order of the text.
nlohmann::ordered_json parse_ordered_json(std::string_view text, const std::string& display);

// Reads all of `fd`, a document from a runtime or an engine, refusing more than
// `max_bytes` so that no writer can make kcm allocate without limit. Throws a usage Error
// `read "<display>": <what> is larger than <max_bytes> bytes`, or an Error with errno.
std::string read_json_text(int fd, std::size_t max_bytes, const std::string& what,
                           const std::string& display);

// Whether some string of `text`, a key or a value, begins with `prefix` (ASCII) once its
// escapes are decoded. For text the parse functions refuse: strings are found the way a
// JSON lexer finds them (from an unescaped '"' to the next), whatever the grammar around
// them, so that any parser that accepts more than nlohmann (deeper nesting, bytes that
// are not UTF-8, data after the document) reads no string this does not see.
bool has_string_with_prefix(std::string_view text, std::string_view prefix);

}  // namespace kcm

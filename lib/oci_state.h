// The OCI runtime state a runtime writes to a hook's stdin (runtime-spec "State"):
//   {"ociVersion": "1.0.2", "id": "...", "status": "creating", "pid": 4242,
//    "bundle": "/path", "annotations": {"k": "v"}}
//
// Only id, pid and annotations matter to kcm, and only they are read: every other field
// is ignored whatever its type, so a runtime's quirk in one kcm does not use cannot refuse
// a container. status is never relied on (runc says "creating" at prestart, crun
// "created"), nor is pid at poststop (runc omits it, crun sends 0). Parsing is pure; reading stdin
// is bounded so a runaway writer cannot make the hook allocate without limit.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace kcm {

inline constexpr std::size_t kMaxStateBytes = 1 << 20;

struct OciState {
  std::string id;  // "" when absent
  pid_t pid = 0;   // 0 when absent
  std::map<std::string, std::string> annotations;
};

// Throws a usage Error for malformed JSON (or nested deeper than json.h allows), a
// non-object document, or a field kcm reads of the wrong type (id must be a string, pid a
// non-negative integer, annotations an object of strings). Missing fields
// are left at their defaults: which ones a stage needs is the caller's decision.
OciState parse_oci_state(std::string_view text);

// The "annotations" member of an OCI document, the state or config.json (runtime-spec gives
// both the same field), or null when it has none: no annotations, or an object of
// strings. The one reading of it for kcm-hook and kcm-runtime, so that the same mistake
// is the same error: a usage Error `"annotations" is not an object` or `annotation "<key>"
// is not a string`, to which the caller adds which document it is.
std::map<std::string, std::string> parse_annotations(const nlohmann::json& member);

// Reads all of `fd` (the hook's stdin). Throws a usage Error naming `display` when it
// holds more than kMaxStateBytes, an Error on a read failure.
std::string read_state(int fd, const std::string& display);

}  // namespace kcm

// pool_request, is_sandbox, container_name: the kcm annotations of a container.
// Input: NUL-separated key, value, key, value, ... (a missing last value is "").
#include <optional>

#include "annotations.h"
#include "error.h"
#include "fuzz.h"
#include "names.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::vector<std::string> parts = kcm_fuzz::split_nul(kcm_fuzz::as_text(data, size));
  std::map<std::string, std::string> annotations;
  for (std::size_t i = 0; i < parts.size(); i += 2) {
    annotations[parts[i]] = i + 1 < parts.size() ? parts[i + 1] : std::string();
  }

  const std::string name = kcm::container_name(annotations);
  const bool sandbox = kcm::is_sandbox(annotations);
  std::optional<kcm::PoolRequest> request;
  try {
    request = kcm::pool_request(annotations);
  } catch (const kcm::Error& e) {
    FUZZ_CHECK(e.exit_code() == kcm::kExitUsage);
    FUZZ_CHECK(!sandbox);
    return 0;
  }
  if (!request) return 0;
  FUZZ_CHECK(!sandbox);
  FUZZ_CHECK(request->count >= 1 && request->count <= kcm::kMaxCores);
  // A pool name is valid by construction; parsing it again throws (and so crashes) if not.
  FUZZ_CHECK(kcm::PoolName::parse(request->pool.str()) == request->pool);
  FUZZ_CHECK(annotations.at(request->pool_annotation) == request->pool);
  // The suffixed key wins: it is the one chosen whenever it exists.
  const std::string specific = std::string(kcm::kPoolAnnotation) + "." + name;
  if (!name.empty() && annotations.count(specific) != 0) {
    FUZZ_CHECK(request->pool_annotation == specific);
  } else {
    FUZZ_CHECK(request->pool_annotation == kcm::kPoolAnnotation);
  }
  return 0;
}

// parse_oci_state: the OCI state JSON a runtime writes to kcm-hook's stdin, then
// pool_request on its annotations, as the hook does at prestart.
#include <optional>

#include "annotations.h"
#include "error.h"
#include "fuzz.h"
#include "oci_state.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = kcm_fuzz::as_text(data, size);
  std::optional<kcm::OciState> state;
  try {
    state = kcm::parse_oci_state(text);
  } catch (const kcm::Error& e) {
    FUZZ_CHECK(e.exit_code() == kcm::kExitUsage);
    return 0;
  }
  FUZZ_CHECK(state->pid >= 0);

  std::optional<kcm::PoolRequest> request;
  try {
    request = kcm::pool_request(state->annotations);
  } catch (const kcm::Error& e) {
    FUZZ_CHECK(e.exit_code() == kcm::kExitUsage);
    return 0;
  }
  if (request) {
    FUZZ_CHECK(request->count >= 1 && request->count <= kcm::kMaxCores);
    FUZZ_CHECK(state->annotations.at(request->pool_annotation) == request->pool);
    FUZZ_CHECK(!kcm::is_sandbox(state->annotations));
  }
  return 0;
}

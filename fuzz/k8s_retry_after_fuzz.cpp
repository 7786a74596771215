// parse_retry_after: the Retry-After header of a 429 or 5xx answer.
#include <optional>

#include "error.h"
#include "fuzz.h"
#include "k8s_client.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view value = kcm_fuzz::as_text(data, size);
  std::optional<std::chrono::seconds> wait;
  try {
    wait = kcm::parse_retry_after(value);
  } catch (const kcm::Error&) {
    return 0;
  }
  if (!wait) return 0;
  FUZZ_CHECK(wait->count() >= 0 && *wait <= kcm::kMaxRetryAfter);
  // Plain short numbers are read exactly (capped).
  if (!value.empty() && value.size() <= 4 &&
      value.find_first_not_of("0123456789") == std::string_view::npos) {
    const long long n = std::stoll(std::string(value));
    FUZZ_CHECK(wait->count() == std::min<long long>(n, kcm::kMaxRetryAfter.count()));
  }
  return 0;
}

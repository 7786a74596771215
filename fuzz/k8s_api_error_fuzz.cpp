// format_api_error: the message kcm prints for a failed API call, built from the
// response body (a Kubernetes Status, HTML from a proxy, anything). Input: two bytes of
// HTTP status, then the body. Also json_pointer_escape, which builds JSON-patch paths
// from label and resource names.
#include <string>

#include "error.h"
#include "fuzz.h"
#include "k8s_client.h"

namespace {

std::string json_pointer_unescape(std::string_view token) {
  std::string out;
  for (std::size_t i = 0; i < token.size(); ++i) {
    if (token[i] == '~' && i + 1 < token.size() && (token[i + 1] == '0' || token[i + 1] == '1')) {
      out += token[i + 1] == '0' ? '~' : '/';
      ++i;
    } else {
      out += token[i];
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const long status = (data[0] | (data[1] << 8)) % 1000;
  const std::string_view body = kcm_fuzz::as_text(data + 2, size - 2);
  std::string message;
  try {
    message = kcm::format_api_error("PATCH", "/api/v1/nodes/n1/status", status, body);
  } catch (const kcm::Error&) {
    return 0;
  }
  const std::string prefix = "PATCH /api/v1/nodes/n1/status: " + std::to_string(status) + " ";
  FUZZ_CHECK(message.compare(0, prefix.size(), prefix) == 0);

  const std::string escaped = kcm::json_pointer_escape(body);
  FUZZ_CHECK(escaped.find('/') == std::string::npos);
  FUZZ_CHECK(json_pointer_unescape(escaped) == body);
  return 0;
}

// parse_server_version: the body of the API server's GET /version, then the resource
// name kcm discover picks from it.
#include <nlohmann/json.hpp>
#include <optional>

#include "error.h"
#include "fuzz.h"
#include "json.h"
#include "k8s_client.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // The client parses the body as every kcm parser does; only a parsed document reaches
  // the version parser.
  std::optional<kcm::ServerVersion> version;
  try {
    version = kcm::parse_server_version(kcm::parse_json(kcm_fuzz::as_text(data, size), "body"));
  } catch (const kcm::Error&) {
    return 0;
  }
  FUZZ_CHECK(version->major >= 0 && version->minor >= 0);
  const std::string name = kcm::dataplane_resource_name(*version);
  FUZZ_CHECK(!name.empty());
  // The same version written as gitVersion reads back.
  const nlohmann::json git = {{"gitVersion", "v" + std::to_string(version->major) + "." +
                                                 std::to_string(version->minor) + ".0"}};
  const kcm::ServerVersion again = kcm::parse_server_version(git);
  FUZZ_CHECK(again.major == version->major && again.minor == version->minor);
  return 0;
}

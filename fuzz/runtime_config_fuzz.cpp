// parse_runtime_config: /etc/kcm-runtime.json (or $KCM_RUNTIME_CONFIG).
#include <nlohmann/json.hpp>
#include <optional>

#include "error.h"
#include "fuzz.h"
#include "runtime_config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = kcm_fuzz::as_text(data, size);
  std::optional<kcm::RuntimeConfig> config;
  try {
    config = kcm::parse_runtime_config(text, "/etc/kcm-runtime.json");
  } catch (const kcm::Error& e) {
    FUZZ_CHECK(e.exit_code() == kcm::kExitUsage);
    return 0;
  }
  FUZZ_CHECK(!config->conf_dir.empty());
  FUZZ_CHECK(config->hook.empty() || config->hook[0] == '/');
  FUZZ_CHECK(config->log_file.empty() || config->log_file[0] == '/');

  // Written back out with the documented keys, it reads the same.
  nlohmann::json doc = {{"confDir", config->conf_dir}};
  if (!config->runtime.empty()) doc["runtime"] = config->runtime;
  if (!config->hook.empty()) doc["hook"] = config->hook;
  if (!config->log_file.empty()) doc["logFile"] = config->log_file;
  const kcm::RuntimeConfig again = kcm::parse_runtime_config(doc.dump(), "rewritten");
  FUZZ_CHECK(again.runtime == config->runtime && again.hook == config->hook &&
             again.conf_dir == config->conf_dir && again.log_file == config->log_file);
  return 0;
}

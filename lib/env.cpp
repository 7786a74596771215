#include "env.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "error.h"

namespace kcm {

std::optional<std::string> process_env(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

Settings read_settings(const EnvLookup& env) {
  auto non_empty = [&](const char* name) -> std::optional<std::string> {
    auto value = env(name);
    if (!value || value->empty()) return std::nullopt;
    return value;
  };
  Settings s;
  if (auto v = non_empty("KCM_PROC_FS")) {
    s.procfs_root = *v;
    s.procfs_root_given = true;
  }
  if (auto v = non_empty("KCM_SYS_FS")) s.sysfs_root = *v;
  if (auto v = non_empty("KCM_KUBELET_CPU_MANAGER_STATE")) s.kubelet_cpu_manager_state = *v;
  if (auto v = non_empty("KCM_LOCK_TIMEOUT")) s.lock_timeout_text = *v;
  if (auto v = non_empty("KCM_LOG_LEVEL")) s.log_level = *v;
  if (auto v = non_empty("KCM_RUNTIME_CONFIG")) s.runtime_config = *v;
  if (auto v = env("PATH")) s.path = *v;
  return s;
}

const std::string& Settings::required_procfs_root(const std::string& subcommand) const {
  if (!procfs_root_given) {
    throw Error("kcm " + subcommand +
                " requires KCM_PROC_FS: set it to the host's procfs (e.g. KCM_PROC_FS=/proc, "
                "or /host/proc inside a container)");
  }
  return procfs_root;
}

std::chrono::milliseconds Settings::lock_timeout() const {
  if (lock_timeout_text.empty()) return std::chrono::seconds(30);
  const char* value = lock_timeout_text.c_str();
  char* end = nullptr;
  errno = 0;
  double seconds = std::strtod(value, &end);
  if (errno != 0 || end == value || *end != '\0' || !std::isfinite(seconds) || seconds <= 0 ||
      seconds > 86400) {
    throw usage_error("KCM_LOCK_TIMEOUT: " + quote(lock_timeout_text) +
                      " is not a number of seconds between 0 and 86400");
  }
  return std::chrono::milliseconds(static_cast<long long>(std::ceil(seconds * 1000)));
}

}  // namespace kcm

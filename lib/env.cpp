#include "env.h"

#include <cstdlib>

#include "error.h"

namespace kcm {
namespace {

std::optional<std::string> non_empty_env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

}  // namespace

std::string sysfs_root_from_env() { return non_empty_env("KCM_SYS_FS").value_or("/sys"); }

std::string procfs_root_from_env() { return non_empty_env("KCM_PROC_FS").value_or("/proc"); }

std::string required_procfs_root_from_env(const std::string& subcommand) {
  auto root = non_empty_env("KCM_PROC_FS");
  if (!root) {
    throw Error("kcm " + subcommand +
                " requires KCM_PROC_FS: set it to the host's procfs (e.g. KCM_PROC_FS=/proc, "
                "or /host/proc inside a container)");
  }
  return *root;
}

}  // namespace kcm

// Every environment variable a kcm program reads, in one place. Each main reads its
// environment once, at the start, into a Settings value and passes the values down; the
// library never calls getenv. The Kubernetes variables (KUBERNETES_SERVICE_HOST, ...) are
// read by k8s_config.h through the same EnvLookup.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

namespace kcm {

// Reads one environment variable; nullopt when unset. process_env is the real one; tests
// pass a map.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
std::optional<std::string> process_env(const std::string& name);

// The configuration directory when --conf-dir is not given (kcm, kcm-hook, and
// kcm-runtime's "confDir").
inline constexpr char kDefaultConfDir[] = "/etc/kcm";

struct Settings {
  // $KCM_PROC_FS, default "/proc"; `procfs_root_given` when set and not empty.
  std::string procfs_root = "/proc";
  bool procfs_root_given = false;
  // $KCM_SYS_FS, default "/sys": the sysfs root for topology.
  std::string sysfs_root = "/sys";
  // $KCM_KUBELET_CPU_MANAGER_STATE, default "/var/lib/kubelet/cpu_manager_state": the
  // kubelet's CPU manager state that node-report's kubelet check reads (docs/audit.md).
  std::string kubelet_cpu_manager_state = "/var/lib/kubelet/cpu_manager_state";
  // $KCM_LOCK_TIMEOUT as given (empty: unset); parsed by lock_timeout() only where a lock
  // is taken, so that a malformed value fails only the commands that use it.
  std::string lock_timeout_text;
  // $KCM_LOG_LEVEL as given (empty: unset, warn); log.h validates it.
  std::string log_level;
  // $KCM_RUNTIME_CONFIG, default "/etc/kcm-runtime.json" (kcm-runtime's configuration).
  std::string runtime_config = "/etc/kcm-runtime.json";
  // $PATH, where kcm-runtime looks for a runtime named without a slash.
  std::string path = "/usr/sbin:/usr/bin:/sbin:/bin";

  // $KCM_PROC_FS for the subcommands whose document says it is required (isolate,
  // reconcile): throws Error (exit 1) naming the variable when it is unset or empty.
  const std::string& required_procfs_root(const std::string& subcommand) const;

  // Seconds, default 30, fractions allowed, (0, 86400]; a usage Error naming the
  // variable otherwise.
  std::chrono::milliseconds lock_timeout() const;
};

// An unset and an empty variable both mean the default.
Settings read_settings(const EnvLookup& env = process_env);

}  // namespace kcm

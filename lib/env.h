// The environment variables every kcm program reads, in one place.
#pragma once

#include <optional>
#include <string>

namespace kcm {

// $KCM_SYS_FS, default "/sys": the sysfs root for topology.
std::string sysfs_root_from_env();

// $KCM_PROC_FS, default "/proc".
std::string procfs_root_from_env();

// $KCM_PROC_FS for the subcommands whose document says it is required (isolate,
// reconcile): throws Error (exit 1) naming the variable when it is unset or empty.
std::string required_procfs_root_from_env(const std::string& subcommand);

}  // namespace kcm

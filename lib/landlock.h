// kcm-hook's file confinement: Landlock, the kernel's unprivileged path-based sandbox
// (Linux 5.13+), limits which files the hook can open, create, remove or rename once it
// knows which container it pins (docs/hook.md "Confinement").
//
// Running as root, the hook could otherwise rewrite any file on the node (a cron entry,
// /etc/ld.so.preload, a cgroup's release_agent): seccomp (seccomp_filter.h) cannot see
// paths. Everything outside the roots below is denied with EACCES. Landlock leaves
// stat, flock, chmod and ioctl alone; the seccomp filter bounds those.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace kcm {

struct HookFileAccess {
  // Read, write, create and remove files, create directories, rename within it.
  std::string conf_dir;
  // Read and write the files already there, create or remove nothing: the container's
  // own cpuset cgroup, never a hierarchy root (whose release_agent runs as root).
  std::optional<std::string> cgroup_dir;
  // Read files and list directories: the procfs and sysfs roots.
  std::vector<std::string> read_only;
};

// The Landlock ABI version the kernel offers; 0 when it has none (not built in, or not
// enabled at boot). Throws Error when the kernel refuses the query otherwise.
int landlock_abi();

// Confines the calling process's file access to `access`, handling every file right the
// kernel's ABI knows (network rights are not handled). A root that cannot be opened as a
// directory gets no rule, so the caller's own later open of it fails with its real
// error. Applies to the calling thread and its future children, so call it before
// starting threads; needs no_new_privs (install_hook_seccomp_filter sets it) or
// CAP_SYS_ADMIN. Irreversible. Returns the ABI applied, or 0 (nothing confined) when the
// kernel has no Landlock. Throws Error when the kernel refuses a step.
int confine_hook_file_access(const HookFileAccess& access);

}  // namespace kcm

// The cpuset cgroup of a process, found and written the way the kernel exposes it.
//
// Discovery is a pure function of two texts, so tests feed it fixtures of v1, v2 and
// hybrid hosts:
//   /proc/<pid>/cgroup      "hierarchy-id:controllers:path" per line; v2 is "0::path"
//   /proc/self/mountinfo    where each hierarchy is mounted, and which part of it (the
//                           mount root, field 4, is not "/" for a bind-mounted subtree)
// A v1 cpuset hierarchy wins when the process is in one (hybrid hosts bind cpuset to v1
// and leave the v2 tree without it); otherwise the v2 tree is used. A process in the
// root cgroup gets no directory: the root cpuset cannot be narrowed, so the caller sets
// affinity only.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "cpuset.h"
#include "procfs.h"

namespace kcm {

struct CpusetCgroup {
  std::string dir;  // absolute path of the cgroup directory, as this mount namespace sees it
  bool v2 = false;
};

// Throws Error naming `display` (the cgroup file) or `mountinfo_display` (the mount
// table; `display` when empty) when a text is malformed, or when the process is in a
// cpuset hierarchy (or the v2 tree) that no mount makes reachable. Returns nullopt for a
// process in the root cgroup.
std::optional<CpusetCgroup> find_cpuset_cgroup(const std::string& proc_cgroup,
                                               const std::string& mountinfo,
                                               const std::string& display,
                                               const std::string& mountinfo_display = {});

// Reads <procfs>/<pid>/cgroup and `mountinfo_path` (normally <procfs>/self/mountinfo).
std::optional<CpusetCgroup> cpuset_cgroup_of(const Procfs& procfs, pid_t pid,
                                             const std::string& mountinfo_path);

// What cpuset.cpus of `cgroup` holds now (v2: empty when nothing was written). Throws
// Error naming the file.
CpuSet read_cpuset_cpus(const CpusetCgroup& cgroup);

// Writes cpuset.cpus and reads it back: v2 checks cpuset.cpus.effective, which the kernel
// narrows to what the parent allows; v1 checks cpuset.cpus. Throws Error naming the file
// when the write fails or the read-back differs.
void write_cpuset(const CpusetCgroup& cgroup, const CpuSet& cpus);

// Writes cpuset.mems (NUMA node numbers, in list format) and reads it back, as
// write_cpuset does cpuset.cpus (v2: cpuset.mems.effective).
void write_cpuset_mems(const CpusetCgroup& cgroup, const CpuSet& nodes);

}  // namespace kcm

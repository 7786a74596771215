// Which CPUs a container asks for, from the annotations of its OCI state or config.json
// (docs/hook.md "Annotations"). Pure functions: no I/O, no config directory.
//
//   kcm.intel.com/pool[.<container-name>]   pool name; the suffixed key wins
//   kcm.intel.com/cores[.<container-name>]  number of CPU lists, 1..64, default 1
//   kcm.intel.com/memory[.<container-name>] "local": cpuset.mems to the CPUs' NUMA nodes
//
// The container name comes from io.kubernetes.cri.container-name (containerd) or
// io.kubernetes.container.name (CRI-O); without one only the unsuffixed keys apply.
// Pod sandboxes (the pause container) never get CPUs. Whether the pool exists and is
// exclusive (cores > 1 needs an exclusive pool) is for the caller to check against the
// config directory.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "names.h"

namespace kcm {

inline constexpr char kPoolAnnotation[] = "kcm.intel.com/pool";
inline constexpr char kCoresAnnotation[] = "kcm.intel.com/cores";
inline constexpr char kMemoryAnnotation[] = "kcm.intel.com/memory";
inline constexpr char kMemoryLocal[] = "local";
inline constexpr int kMaxCores = 64;

struct PoolRequest {
  PoolName pool;
  int count = 1;
  std::string pool_annotation;  // the key that chose the pool
  // kcm.intel.com/memory: local (opt-in, as the kubelet's memory manager is): the key
  // that asked for it, "" when none did.
  std::string memory_local_annotation;
};

// nullopt when the container does not ask for CPUs or is a pod sandbox (a memory
// annotation alone asks for nothing: it applies to the CPUs a pool gives). Throws a usage
// Error naming the annotation and its value when a kcm annotation is invalid.
std::optional<PoolRequest> pool_request(const std::map<std::string, std::string>& annotations);

bool is_sandbox(const std::map<std::string, std::string>& annotations);

// The Kubernetes container name, or "" when the annotations carry none.
std::string container_name(const std::map<std::string, std::string>& annotations);

}  // namespace kcm

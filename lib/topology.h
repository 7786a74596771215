// The host's CPU topology as sysfs describes it.
//
// Read from <sysfs_root>/devices/system/cpu and <sysfs_root>/devices/system/node, where
// sysfs_root is "$KCM_SYS_FS" or "/sys". It copes with what real kernels write: files
// ending in NUL bytes, hex masks on kernels without *_list files, missing global
// online/possible/present files, offline CPUs without topology/, CPU-less NUMA nodes
// and online CPUs that belong to no node. A Topology is an immutable value.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "cpuset.h"

namespace kcm {

struct CpuInfo {
  int id = 0;
  int core = 0;    // index of its physical core, numbered as `lscpu -p` numbers "Core"
  int socket = 0;  // index of its core_siblings group, as `lscpu -p` numbers "Socket"
  int node = -1;   // NUMA node number, -1 when no node lists it
};

class Topology {
 public:
  // Throws Error naming the file when sysfs cannot be read or makes no sense.
  static Topology read(const std::string& sysfs_root);

  // Online CPUs, ascending by id.
  const std::vector<CpuInfo>& cpus() const { return cpus_; }
  CpuSet online() const;
  // Contents of cpu/isolated (isolcpus=), limited to online CPUs; empty when absent.
  const CpuSet& isolated() const { return isolated_; }

  // Physical cores: one entry per thread_siblings group of online CPUs, in lscpu's
  // Core order (by lowest CPU). Each set holds only online CPUs. Core indices can have
  // gaps (an offline CPU that kept its topology/ takes one, as in lscpu), so cores()[i] is
  // not necessarily core index i.
  std::vector<CpuSet> cores() const;

  // NUMA node of an online CPU, -1 when none.
  int node_of(int cpu) const;

 private:
  std::vector<CpuInfo> cpus_;
  CpuSet isolated_;
};

// The CPU -> NUMA node map alone, from <sysfs_root>/devices/system/node/node*/cpulist
// (or cpumap). Cheap enough for the hook's path; empty when the machine has no node
// directory (then every CPU counts as one node).
std::map<int, int> read_node_map(const std::string& sysfs_root);

// The NUMA nodes of `cpus`, ascending, from the nodeN entries of each
// <sysfs_root>/devices/system/cpu/cpuM directory: one small directory read per CPU, not a
// pass over the node tree (the hook's path, for the owner record's reason). Empty on a
// kernel without NUMA (no such entries).
std::vector<int> nodes_of_cpus(const std::string& sysfs_root, const CpuSet& cpus);

// <sysfs_root>/devices/system/cpu/isolated (isolcpus=); empty when absent.
CpuSet read_isolated(const std::string& sysfs_root);

// Whether NUMA node `node` has memory: its number in <sysfs_root>/devices/system/node/
// has_memory, or where that file is absent (kernels before 2.6.35), a MemTotal above 0 in
// node<node>/meminfo. Throws a not-found Error when neither file exists.
bool node_has_memory(const std::string& sysfs_root, int node);

// The NUMA nodes of `cpus` in `node_of_cpu` (read_node_map); an empty map (a kernel
// without NUMA) is node 0 for all. Throws Error "CPU 7 is on no NUMA node".
CpuSet numa_nodes_of(const std::map<int, int>& node_of_cpu, const CpuSet& cpus);

// The NUMA nodes whose memory is local to `cpus`, for kcm.intel.com/memory: local
// (docs/hook.md): numa_nodes_of the node map, each node checked with node_has_memory
// (not on a kernel without NUMA: its one node has the memory). Throws Error naming what cannot be
// done:
//   CPU 7 is on no NUMA node
//   NUMA node 2 of CPUs 4,12 has no memory
CpuSet local_memory_nodes(const std::string& sysfs_root, const CpuSet& cpus);

}  // namespace kcm

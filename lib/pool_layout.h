// `kcm init`'s plan: how a machine's physical cores become the infra, controlplane and
// dataplane pools. A pure function of the topology, so it is tested on real machines'
// sysfs dumps.
//
// Dataplane: `dp_cores` cores, one CPU list each (exclusive). Controlplane: one list of
// `cp_cores` cores (shared). Infra: one list of every other online CPU (shared). Cores
// are taken from the highest-numbered end; dataplane prefers cores whose CPUs are all
// isolated (isolcpus=) and cores of a single NUMA node. Offline CPUs never appear.
#pragma once

#include <string>
#include <vector>

#include "pools.h"
#include "topology.h"

namespace kcm {

struct PoolLayout {
  Config config;
  std::vector<std::string> warnings;  // e.g. dataplane spread over NUMA nodes
};

// Throws a usage Error when the machine has too few cores for the request (infra keeps
// at least one core).
PoolLayout plan_pools(const Topology& topology, int dp_cores, int cp_cores);

}  // namespace kcm

// Choosing CPU lists: a pure function of a pool snapshot (no I/O), so every rule below
// is tested directly (docs/design.md "Allocation").
//
// Exclusive pool: a list is free when its tasks are empty. `count` free lists are taken,
// preferring a single NUMA node: among nodes with enough free lists, the one holding the
// most free lists (ties: the one with the lowest CPU); its lowest lists are taken. When no
// node can hold them all, the lowest free lists are taken across nodes (spans_nodes).
// Shared pool: `count` must be 1; the list with the fewest tasks, ties to the lowest CPU.
#pragma once

#include <map>
#include <vector>

#include "cpuset.h"
#include "names.h"
#include "pools.h"

namespace kcm {

// Which rule chose, as an owner record's reason names it (owner.h AllocationReason).
inline constexpr char kRuleSharedLeastLoaded[] = "shared-least-loaded";
inline constexpr char kRuleLowestFree[] = "exclusive-lowest-free";  // one list: no node map
inline constexpr char kRuleSingleNode[] = "exclusive-single-node";
inline constexpr char kRuleAcrossNodes[] = "exclusive-across-nodes";

struct Choice {
  std::vector<CpuListName> lists;  // ascending by first CPU
  bool spans_nodes = false;
  // Why, from the same snapshot: the rule, the pool's lists without tasks, how many other
  // lists it could have given (exclusive: the free ones not taken; shared: the other
  // lists), and the NUMA nodes of the chosen lists (empty when node_of_cpu was).
  const char* rule = kRuleLowestFree;
  int free_lists = 0;
  int other_candidates = 0;
  std::vector<int> nodes;
};

// node_of_cpu: CPU -> NUMA node (topology.h read_node_map); CPUs it lacks count as node
// 0. Throws Error (exit 1) when the pool cannot satisfy the request, e.g.
//   pool "dataplane" has 0 free CPU lists (4 in use)
Choice choose_lists(const Pool& pool, int count, const std::map<int, int>& node_of_cpu);

// The NUMA node holding most of a list's CPUs (ties: the lowest node).
int node_of_list(const CpuSet& cpus, const std::map<int, int>& node_of_cpu);

}  // namespace kcm

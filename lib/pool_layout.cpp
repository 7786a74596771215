#include "pool_layout.h"

#include <algorithm>
#include <map>

#include "error.h"

namespace kcm {
namespace {

struct Core {
  CpuSet cpus;
  int node;
  bool isolated;
};

// Preference for dataplane: isolated cores first, then the highest-numbered.
bool dataplane_first(const Core* a, const Core* b) {
  if (a->isolated != b->isolated) return a->isolated;
  return a->cpus.first() > b->cpus.first();
}

// A list named canonically after its CPUs, as kcm init names every list it makes.
void add_list(Pool& pool, const CpuSet& cpus) {
  const CpuListName name = list_name_of(cpus);
  pool.lists.emplace(name, CpuList{name, cpus, {}});
}

}  // namespace

PoolLayout plan_pools(const Topology& topology, int dp_cores, int cp_cores) {
  if (dp_cores < 0) throw usage_error("--num-dp-cores must not be negative");
  if (cp_cores < 0) throw usage_error("--num-cp-cores must not be negative");
  std::vector<Core> cores;
  for (const CpuSet& cpus : topology.cores()) {
    cores.push_back({cpus, topology.node_of(cpus.first()), cpus.is_subset_of(topology.isolated())});
  }
  const std::size_t wanted = static_cast<std::size_t>(dp_cores) + cp_cores;
  if (cores.size() < wanted + 1) {
    throw usage_error("not enough physical cores: this machine has " +
                      std::to_string(cores.size()) + " online, " + std::to_string(dp_cores) +
                      " dataplane + " + std::to_string(cp_cores) +
                      " controlplane + at least 1 infra need " + std::to_string(wanted + 1));
  }

  PoolLayout layout;
  std::vector<const Core*> candidates;
  candidates.reserve(cores.size());
  for (const Core& c : cores) candidates.push_back(&c);
  std::sort(candidates.begin(), candidates.end(), dataplane_first);

  // The node whose best dp_cores candidates are the most isolated, then the highest.
  std::map<int, std::vector<const Core*>> per_node;
  for (const Core* c : candidates) per_node[c->node].push_back(c);
  const std::vector<const Core*>* chosen = nullptr;
  auto isolated_count = [&](const std::vector<const Core*>& v) {
    return std::count_if(v.begin(), v.begin() + dp_cores,
                         [](const Core* c) { return c->isolated; });
  };
  for (const auto& [node, node_cores] : per_node) {
    if (node_cores.size() < static_cast<std::size_t>(dp_cores)) continue;
    if (chosen == nullptr || isolated_count(node_cores) > isolated_count(*chosen) ||
        (isolated_count(node_cores) == isolated_count(*chosen) && dp_cores > 0 &&
         node_cores.front()->cpus.first() > chosen->front()->cpus.first())) {
      chosen = &node_cores;
    }
  }
  std::vector<const Core*> dataplane;
  if (chosen != nullptr) {
    dataplane.assign(chosen->begin(), chosen->begin() + dp_cores);
  } else {
    dataplane.assign(candidates.begin(), candidates.begin() + dp_cores);
    layout.warnings.push_back("no NUMA node has " + std::to_string(dp_cores) +
                              " cores; the dataplane pool spans nodes");
  }
  std::size_t isolated_used =
      std::count_if(dataplane.begin(), dataplane.end(), [](const Core* c) { return c->isolated; });
  if (!topology.isolated().empty() && isolated_used < dataplane.size()) {
    layout.warnings.push_back("only " + std::to_string(isolated_used) + " of " +
                              std::to_string(dataplane.size()) +
                              " dataplane cores are isolated (isolcpus=)");
  }

  // Controlplane and infra from what is left, highest-numbered first.
  std::vector<const Core*> rest;
  for (const Core& c : cores) {
    if (std::find(dataplane.begin(), dataplane.end(), &c) == dataplane.end()) rest.push_back(&c);
  }
  std::sort(rest.begin(), rest.end(),
            [](const Core* a, const Core* b) { return a->cpus.first() > b->cpus.first(); });
  CpuSet controlplane, infra;
  for (std::size_t i = 0; i < rest.size(); ++i) {
    (i < static_cast<std::size_t>(cp_cores) ? controlplane : infra).add(rest[i]->cpus);
  }

  Pool dp{"dataplane", true, {}};
  for (const Core* c : dataplane) add_list(dp, c->cpus);
  Pool cp{"controlplane", false, {}};
  if (!controlplane.empty()) add_list(cp, controlplane);
  Pool in{"infra", false, {}};
  add_list(in, infra);
  layout.config.pools.emplace(dp.name, std::move(dp));
  layout.config.pools.emplace(cp.name, std::move(cp));
  layout.config.pools.emplace(in.name, std::move(in));
  return layout;
}

}  // namespace kcm

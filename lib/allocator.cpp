#include "allocator.h"

#include <algorithm>
#include <set>

#include "error.h"

namespace kcm {
namespace {

std::vector<const CpuList*> by_first_cpu(const Pool& pool) {
  std::vector<const CpuList*> lists;
  for (const auto& [name, list] : pool.lists) lists.push_back(&list);
  std::sort(lists.begin(), lists.end(),
            [](const CpuList* a, const CpuList* b) { return a->cpus.first() < b->cpus.first(); });
  return lists;
}

// The nodes of the chosen lists, ascending; none when the map is empty (not read).
void add_nodes(Choice& choice, const std::vector<const CpuList*>& chosen,
               const std::map<int, int>& node_of_cpu) {
  if (node_of_cpu.empty()) return;
  std::set<int> nodes;
  for (const CpuList* l : chosen) {
    for (int cpu : l->cpus.cpus()) {
      if (auto it = node_of_cpu.find(cpu); it != node_of_cpu.end()) nodes.insert(it->second);
    }
  }
  choice.nodes.assign(nodes.begin(), nodes.end());
}

}  // namespace

int node_of_list(const CpuSet& cpus, const std::map<int, int>& node_of_cpu) {
  std::map<int, int> votes;
  for (int cpu : cpus.cpus()) {
    auto it = node_of_cpu.find(cpu);
    ++votes[it == node_of_cpu.end() ? 0 : it->second];
  }
  int best = 0, best_votes = -1;
  for (const auto& [node, n] : votes) {
    if (n > best_votes) {
      best = node;
      best_votes = n;
    }
  }
  return best;
}

Choice choose_lists(const Pool& pool, int count, const std::map<int, int>& node_of_cpu) {
  const std::string who = "pool " + quote(pool.name);
  if (count < 1) throw usage_error("invalid CPU list count " + std::to_string(count));
  if (pool.lists.empty()) throw Error(who + " has no CPU lists");
  const std::vector<const CpuList*> lists = by_first_cpu(pool);
  Choice choice;
  for (const CpuList* l : lists) choice.free_lists += l->tasks.empty() ? 1 : 0;

  if (!pool.exclusive) {
    if (count != 1) {
      throw usage_error(who + " is shared: it gives one CPU list, not " + std::to_string(count));
    }
    const CpuList* best = lists.front();
    for (const CpuList* l : lists) {
      if (l->tasks.size() < best->tasks.size()) best = l;
    }
    choice.lists.push_back(best->name);
    choice.rule = kRuleSharedLeastLoaded;
    choice.other_candidates = static_cast<int>(lists.size()) - 1;
    add_nodes(choice, {best}, node_of_cpu);
    return choice;
  }

  std::vector<const CpuList*> free;
  for (const CpuList* l : lists) {
    if (l->tasks.empty()) free.push_back(l);
  }
  if (free.size() < static_cast<std::size_t>(count)) {
    std::string msg = who + " has " + std::to_string(free.size()) + " free CPU lists";
    if (count > 1) msg += ", " + std::to_string(count) + " requested";
    msg += " (" + std::to_string(lists.size() - free.size()) + " in use)";
    throw Error(msg);
  }

  // Free lists per node, each in CPU order; std::map keeps nodes ordered for ties.
  std::map<int, std::vector<const CpuList*>> per_node;
  for (const CpuList* l : free) per_node[node_of_list(l->cpus, node_of_cpu)].push_back(l);
  const std::vector<const CpuList*>* best = nullptr;
  for (const auto& [node, node_lists] : per_node) {
    if (node_lists.size() < static_cast<std::size_t>(count)) continue;
    if (best == nullptr || node_lists.size() > best->size() ||
        (node_lists.size() == best->size() &&
         node_lists.front()->cpus.first() < best->front()->cpus.first())) {
      best = &node_lists;
    }
  }
  const std::vector<const CpuList*>& source = best != nullptr ? *best : free;
  choice.spans_nodes = best == nullptr;
  choice.rule = node_of_cpu.empty()  ? kRuleLowestFree
                : choice.spans_nodes ? kRuleAcrossNodes
                                     : kRuleSingleNode;
  choice.other_candidates = static_cast<int>(free.size()) - count;
  const std::vector<const CpuList*> chosen(source.begin(), source.begin() + count);
  for (const CpuList* l : chosen) choice.lists.push_back(l->name);
  add_nodes(choice, chosen, node_of_cpu);
  return choice;
}

}  // namespace kcm

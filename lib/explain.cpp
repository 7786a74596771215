#include "explain.h"

#include <spdlog/spdlog.h>

#include "error.h"
#include "topology.h"

namespace kcm {

AllocationReason allocation_reason(const Choice& choice, const CpuSet& cpus,
                                   const std::string& sysfs_root) {
  AllocationReason reason{choice.rule, choice.nodes, false, choice.free_lists,
                          choice.other_candidates};
  // Only an explanation: a sysfs that cannot say leaves it incomplete, never the
  // allocation refused.
  try {
    if (reason.numa_nodes.empty()) reason.numa_nodes = nodes_of_cpus(sysfs_root, cpus);
    reason.isolated = !cpus.empty() && cpus.is_subset_of(read_isolated(sysfs_root));
  } catch (const Error& e) {
    spdlog::debug("allocation reason left incomplete: {}", e.what());
  }
  return reason;
}

OwnerDescription describe_owner(const Config& config, const Owner& record, const Procfs& procfs) {
  OwnerDescription out;
  out.record = record;
  if (auto pool = config.pools.find(record.pool); pool != config.pools.end()) {
    for (const CpuListName& name : record.cpu_lists) {
      if (auto list = pool->second.lists.find(name); list != pool->second.lists.end()) {
        out.lists.emplace(name, list->second.cpus);
        out.cpus.add(list->second.cpus);
      }
    }
  }
  const Procfs::Status status = procfs.status(record.pid);
  out.running =
      status.liveness == Procfs::Liveness::kAlive && status.start_time == record.start_time;
  if (out.running) {
    for (pid_t tid : procfs.threads(record.pid)) {
      out.threads.push_back({tid, procfs.cpus_allowed(tid)});
    }
  }
  return out;
}

nlohmann::json owner_description_json(const OwnerDescription& d) {
  nlohmann::json lists = nlohmann::json::object();
  for (const auto& [name, cpus] : d.lists) lists[name] = cpus.to_string();
  nlohmann::json threads = nlohmann::json::array();
  bool all_match = d.running;
  for (const OwnerDescription::Thread& t : d.threads) {
    if (!t.cpus) continue;  // exited since it was listed
    const bool match = *t.cpus == d.cpus;
    all_match = all_match && match;
    threads.push_back({{"actualCpus", t.cpus->cpus()}, {"match", match}, {"tid", t.tid}});
  }
  nlohmann::json reason = nullptr;
  if (d.record.reason) {
    const AllocationReason& r = *d.record.reason;
    reason = {{"candidates", r.other_candidates},
              {"freeLists", r.free_lists},
              {"isolated", r.isolated},
              {"numaNodes", r.numa_nodes},
              {"rule", r.rule}};
  }
  return {{"cpuLists", lists},           {"cpus", d.cpus.to_string()},
          {"created", d.record.created}, {"masks", {{"match", all_match}, {"threads", threads}}},
          {"owner", d.record.owner},     {"pid", d.record.pid},
          {"pool", d.record.pool},       {"reason", reason},
          {"running", d.running},        {"startTime", d.record.start_time}};
}

}  // namespace kcm

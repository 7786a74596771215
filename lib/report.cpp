#include "report.h"

#include <algorithm>
#include <map>

#include "error.h"
#include "reservation.h"

namespace kcm {
namespace {

using nlohmann::json;

json check_json(const std::vector<std::string>& errors) {
  return {{"errors", errors}, {"ok", errors.empty()}};
}

std::string list_ref(const Pool& pool, const CpuList& list) { return pool.name + ":" + list.name; }

}  // namespace

std::string to_document(const json& j) { return j.dump(2) + "\n"; }

json describe_json(const std::string& path, const Config& config) {
  json pools = json::object();
  for (const auto& [name, pool] : config.pools) {
    json lists = json::object();
    for (const auto& [list_name, list] : pool.lists) {
      lists[list_name] = {{"cpus", list_name}, {"tasks", list.tasks}};
    }
    pools[name] = {{"cpuLists", lists}, {"exclusive", pool.exclusive}, {"name", name}};
  }
  return {{"path", path}, {"pools", pools}};
}

ReconcileReport build_reconcile_report(const Config& config, const std::vector<Owner>& owners,
                                       const Procfs& procfs) {
  std::map<pid_t, std::optional<std::uint64_t>> started;  // procfs is read once per PID
  auto start_time = [&](pid_t pid) {
    auto it = started.find(pid);
    if (it == started.end()) it = started.emplace(pid, procfs.start_time(pid)).first;
    return it->second;
  };
  // A record is stale when its process is dead or the PID now belongs to another
  // process (another start time).
  auto owner_stale = [&](const Owner& o) {
    std::optional<std::uint64_t> t = start_time(o.pid);
    return !t || *t != o.start_time;
  };
  // A task is stale when its process is dead, or when records name it in this list and
  // none of them is the live process. A task no record names (the original format, or
  // written by hand) is judged by liveness alone.
  auto task_stale = [&](const std::string& pool, const std::string& list, pid_t pid) {
    if (!start_time(pid)) return true;
    bool recorded = false;
    for (const Owner& o : owners) {
      if (o.pid != pid || o.pool != pool ||
          std::find(o.cpu_lists.begin(), o.cpu_lists.end(), list) == o.cpu_lists.end()) {
        continue;
      }
      if (!owner_stale(o)) return false;
      recorded = true;
    }
    return recorded;
  };

  ReconcileReport report;
  for (const auto& [pool_name, pool] : config.pools) {
    for (const auto& [list_name, list] : pool.lists) {
      for (pid_t pid : list.tasks) {
        if (task_stale(pool_name, list_name, pid)) {
          report.reclaimed.push_back({pid, pool_name, list_name});
          continue;
        }
        std::optional<CpuSet> allowed = procfs.cpus_allowed(pid);
        if (allowed && *allowed != list.cpus) {
          report.mismatched.push_back({pid, pool_name, list_name, *allowed});
        }
      }
    }
  }
  for (const Owner& o : owners) {
    if (owner_stale(o)) report.stale_owners.push_back(o);
  }
  auto by_pid = [](const auto& a, const auto& b) { return a.pid < b.pid; };
  std::stable_sort(report.reclaimed.begin(), report.reclaimed.end(), by_pid);
  std::stable_sort(report.mismatched.begin(), report.mismatched.end(), by_pid);
  return report;
}

json reconcile_json(const ReconcileReport& report) {
  json reclaimed = json::array();
  for (const auto& r : report.reclaimed) {
    reclaimed.push_back({{"cpus", r.cpus}, {"pid", r.pid}, {"pool", r.pool}});
  }
  json mismatched = json::array();
  for (const auto& m : report.mismatched) {
    mismatched.push_back(
        {{"actualCpus", m.actual.cpus()}, {"cpus", m.cpus}, {"pid", m.pid}, {"pool", m.pool}});
  }
  return {{"mismatchedCpuMasks", mismatched}, {"reclaimedCpuLists", reclaimed}};
}

void apply_reconcile(const ConfigDir& dir, const ReconcileReport& report) {
  std::map<std::string, Pool> pools;
  for (const auto& r : report.reclaimed) {
    auto it = pools.find(r.pool);
    if (it == pools.end()) it = pools.emplace(r.pool, dir.read_pool(r.pool)).first;
    remove_task(dir, it->second, r.cpus, r.pid);
    // Re-read so a PID listed twice in one pool sees the previous removal.
    it->second = dir.read_pool(r.pool);
  }
  for (const Owner& o : report.stale_owners) dir.remove_owner(o.owner);
}

json node_report_json(const ConfigDir* dir, const std::string& path,
                      const std::optional<Topology>& topology, const Procfs* procfs) {
  std::vector<std::string> conf_errors;
  std::optional<Config> config;
  json description = nullptr;
  if (dir == nullptr) {
    conf_errors.push_back("Unable to open the KCM configuration directory " + quote(path));
  } else {
    try {
      config = dir->read();
      description = describe_json(path, *config);
    } catch (const Error& e) {
      conf_errors.push_back(std::string("Unable to read the KCM configuration directory: ") +
                            e.what());
    }
  }
  json checks = json::object();
  if (config) {
    std::vector<std::pair<const Pool*, const CpuList*>> all;
    for (const auto& [pn, pool] : config->pools) {
      if (pool.lists.empty()) conf_errors.push_back("Pool " + quote(pn) + " has no CPU lists");
      for (const auto& [ln, list] : pool.lists) all.emplace_back(&pool, &list);
    }
    for (std::size_t i = 0; i < all.size(); ++i) {
      for (std::size_t j = i + 1; j < all.size(); ++j) {
        CpuSet both = all[i].second->cpus.intersection(all[j].second->cpus);
        if (!both.empty()) {
          conf_errors.push_back(
              "CPU list overlap detected in " + list_ref(*all[i].first, *all[i].second) + " and " +
              list_ref(*all[j].first, *all[j].second) + " (in both: " + both.to_string() + ")");
        }
      }
    }
    if (topology) {
      std::vector<std::string> cpu_errors;
      const CpuSet online = topology->online();
      for (const auto& [pool, list] : all) {
        CpuSet missing = list->cpus.difference(online);
        if (!missing.empty()) {
          cpu_errors.push_back("CPU list " + list_ref(*pool, *list) + " names CPUs that are " +
                               "offline or absent: " + missing.to_string());
        }
      }
      checks["cpus"] = check_json(cpu_errors);
    }
    if (procfs != nullptr) {
      std::vector<std::string> task_errors;
      try {
        ReconcileReport rr = build_reconcile_report(*config, dir->read_owners(), *procfs);
        for (const auto& r : rr.reclaimed) {
          task_errors.push_back("Task " + std::to_string(r.pid) + " in " + r.pool + ":" + r.cpus +
                                " is not running (kcm reconcile would reclaim it)");
        }
      } catch (const Error& e) {
        task_errors.push_back(e.what());
      }
      checks["tasks"] = check_json(task_errors);
    }
  }
  checks["configDirectory"] = check_json(conf_errors);
  return {{"checks", checks}, {"description", description}};
}

}  // namespace kcm

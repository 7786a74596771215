#include "report.h"

namespace kcm {
namespace {

using nlohmann::json;

json check_json(const std::vector<std::string>& errors) {
  return {{"errors", errors}, {"ok", errors.empty()}};
}

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

json node_report_json(const NodeReport& report) {
  json checks = json::object();
  checks["configDirectory"] = check_json(report.config_errors);
  if (report.cpu_errors) checks["cpus"] = check_json(*report.cpu_errors);
  if (report.task_errors) checks["tasks"] = check_json(*report.task_errors);
  if (report.owner_errors) checks["owners"] = check_json(*report.owner_errors);
  if (report.exclusive_cpus) checks["exclusiveCpus"] = check_json(report.exclusive_cpus->errors);
  if (report.irqs) checks["irqs"] = check_json(report.irqs->errors);
  if (report.kubelet) checks["kubelet"] = check_json(report.kubelet->errors);
  if (report.host_slices) checks["hostSlices"] = check_json(report.host_slices->errors);
  json description = nullptr;
  if (report.config) description = describe_json(report.path, *report.config);
  return {{"checks", checks}, {"description", description}};
}

}  // namespace kcm

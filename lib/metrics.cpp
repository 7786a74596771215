#include "metrics.h"

#include <set>

#include "error.h"
#include "fs.h"

namespace kcm {
namespace {

// One metric family being written: HELP and TYPE first, then its samples.
class Family {
 public:
  Family(std::string& out, std::string_view name, std::string_view help) : out_(out), name_(name) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += help;
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += " gauge\n";
  }

  void sample(std::string_view label, std::string_view value, long long number) {
    out_ += name_;
    out_ += '{';
    out_ += label;
    out_ += "=\"";
    out_ += escape_label_value(value);
    out_ += "\"} ";
    out_ += std::to_string(number);
    out_ += '\n';
  }

  void sample(long long number) {
    out_ += name_;
    out_ += ' ';
    out_ += std::to_string(number);
    out_ += '\n';
  }

 private:
  std::string& out_;
  std::string_view name_;
};

// The checks present in the report, in the JSON document's key order.
std::vector<std::pair<std::string, std::size_t>> check_errors(const NodeReport& r) {
  std::vector<std::pair<std::string, std::size_t>> out;
  auto add = [&](const char* name, const auto& errors) {
    if (errors) out.emplace_back(name, errors->size());
  };
  out.emplace_back("configDirectory", r.config_errors.size());
  add("cpus", r.cpu_errors);
  if (r.exclusive_cpus) out.emplace_back("exclusiveCpus", r.exclusive_cpus->errors.size());
  if (r.host_slices) out.emplace_back("hostSlices", r.host_slices->errors.size());
  if (r.irqs) out.emplace_back("irqs", r.irqs->errors.size());
  if (r.kubelet) out.emplace_back("kubelet", r.kubelet->errors.size());
  add("owners", r.owner_errors);
  add("tasks", r.task_errors);
  return out;
}

}  // namespace

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string prometheus_text(const NodeReport& report) {
  std::string out;
  const auto checks = check_errors(report);
  {
    Family f(out, "kcm_check_ok", "Whether a kcm node-report check found nothing (1) or not (0).");
    for (const auto& [name, errors] : checks) f.sample("check", name, errors == 0 ? 1 : 0);
  }
  {
    Family f(out, "kcm_check_errors", "Errors a kcm node-report check found.");
    for (const auto& [name, errors] : checks) {
      f.sample("check", name, static_cast<long long>(errors));
    }
  }
  const std::pair<const char*, const std::optional<AuditCheck>*> audits[] = {
      {"exclusiveCpus", &report.exclusive_cpus},
      {"hostSlices", &report.host_slices},
      {"irqs", &report.irqs},
      {"kubelet", &report.kubelet},
  };
  bool any_audit = false;
  for (const auto& [name, check] : audits) any_audit = any_audit || check->has_value();
  if (any_audit) {
    Family f(out, "kcm_audit_violations",
             "Culprits a kcm isolation audit check names (threads, IRQs, assignments, slices).");
    for (const auto& [name, check] : audits) {
      if (*check) f.sample("check", name, static_cast<long long>((*check)->violations));
    }
  }
  if (report.config && !report.config->pools.empty()) {
    const auto& pools = report.config->pools;
    auto per_pool = [&](std::string_view name, std::string_view help, auto value) {
      Family f(out, name, help);
      for (const auto& [pool_name, pool] : pools) {
        f.sample("pool", pool_name.str(), static_cast<long long>(value(pool)));
      }
    };
    per_pool("kcm_pool_exclusive",
             "Whether a kcm pool's CPU lists are exclusive (1) or shared (0).",
             [](const Pool& p) { return p.exclusive ? 1 : 0; });
    per_pool("kcm_pool_cpus", "CPUs in a kcm pool's CPU lists.", [](const Pool& p) {
      CpuSet cpus;
      for (const auto& [n, list] : p.lists) cpus.add(list.cpus);
      return cpus.size();
    });
    per_pool("kcm_pool_cpu_lists", "CPU lists of a kcm pool.",
             [](const Pool& p) { return p.lists.size(); });
    per_pool("kcm_pool_free_cpu_lists", "CPU lists of a kcm pool whose tasks are empty.",
             [](const Pool& p) {
               std::size_t free = 0;
               for (const auto& [n, list] : p.lists) free += list.tasks.empty() ? 1 : 0;
               return free;
             });
    per_pool("kcm_pool_holders", "Distinct processes named in a kcm pool's tasks files.",
             [](const Pool& p) {
               std::set<pid_t> pids;
               for (const auto& [n, list] : p.lists)
                 pids.insert(list.tasks.begin(), list.tasks.end());
               return pids.size();
             });
  }
  if (report.last_reconcile) {
    Family f(out, "kcm_last_reconcile_timestamp_seconds",
             "When kcm reconcile last finished a round, in seconds since the Unix epoch.");
    f.sample(*report.last_reconcile);
  }
  return out;
}

void write_textfile(const std::string& path, const std::string& text) {
  const std::size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "."
                          : slash == 0               ? "/"
                                                     : path.substr(0, slash);
  const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  if (name.empty() || name == "." || name == "..") {
    throw op_error("write", path, "not a file name");
  }
  UniqueFd fd = open_dir(dir);
  // The textfile collector reads at any time: it must see the old text or the new one.
  // A plain rename(2) over the file (kSurvivesPowerLoss; kThisBoot's renameat2 flags are
  // not on every file system a collector's directory may be on), and one fsync of a few
  // hundred bytes per round.
  write_file_atomic(fd.get(), name, text, path, 0644, Durability::kSurvivesPowerLoss);
}

}  // namespace kcm

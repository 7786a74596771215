// kcm node-report: a JSON report of node-level configuration problems and of the
// isolation audit (docs/audit.md), or its Prometheus metrics; with --interval, again and
// again.
#include <spdlog/spdlog.h>

#include <optional>

#include "audit.h"
#include "commands.h"
#include "config_dir.h"
#include "env.h"
#include "error.h"
#include "interval.h"
#include "k8s_client.h"
#include "lock.h"
#include "metrics.h"
#include "procfs.h"
#include "reconcile.h"
#include "reconcile_stamp.h"
#include "report.h"
#include "topology.h"

namespace kcm::cli {
namespace {

// kcm's extensions of node-report (docs/cli.md).
struct NodeReportOptions {
  std::shared_ptr<ConfDirOptions> dir;
  std::string format = "json";
  std::string textfile;  // "" prints to stdout
};

// One audit check, left out with a warning when it cannot be made (permissions, a
// malformed file): the report describes what it could see.
template <typename Check>
auto audit_or_skip(const char* name, Check&& check) -> std::optional<AuditCheck> {
  try {
    return check();
  } catch (const Error& e) {
    spdlog::warn("skipping the {} check: {}", name, e.what());
    return std::nullopt;
  }
}

// The isolation audit: reads procfs, sysfs and the kubelet's state only, so it runs
// after the directory's lock is released.
void audit(NodeReport& report, const Procfs& procfs, const Settings& settings) {
  if (!report.config) return;
  const Config& config = *report.config;
  std::optional<std::vector<ProcessInfo>> processes;
  try {
    processes = scan_processes(procfs);
  } catch (const Error& e) {
    spdlog::warn("skipping the exclusiveCpus, irqs and hostSlices checks: {}", e.what());
  }
  if (processes) {
    // A few unreadable processes leave the check standing, judged on the rest (a holder
    // or most of them unreadable leaves it out: audit_exclusive_cpus throws).
    std::size_t unreadable = 0;
    const ProcessInfo* first = nullptr;
    for (const ProcessInfo& p : *processes) {
      if (p.unreadable.empty()) continue;
      if (unreadable++ == 0) first = &p;
    }
    if (first != nullptr) {
      spdlog::warn(
          "the isolation audit could not read {} of {} processes, and does not judge "
          "them; the first: {}",
          unreadable, processes->size(), first->unreadable);
    }
    pid_t self = 0;
    try {
      self = procfs.self_pid();
    } catch (const Error&) {
      // A procfs tree without self/ (a fixture): nothing of it is this process.
    }
    report.exclusive_cpus = audit_or_skip(
        "exclusiveCpus", [&] { return audit_exclusive_cpus(config, *processes, self); });
    report.irqs = audit_or_skip("irqs", [&] { return audit_irqs(config, procfs, *processes); });
    // Needs the holders' cgroups: without them it would give a slice's command taking
    // CPUs from the pinned containers inside it.
    report.host_slices = audit_or_skip("hostSlices", [&] {
      return audit_host_slices(config, settings.sysfs_root + "/fs/cgroup", *processes);
    });
  }
  report.kubelet = audit_or_skip(
      "kubelet", [&] { return audit_kubelet(config, settings.kubelet_cpu_manager_state); });
}

void node_report_once(const NodeReportOptions& opts, const Settings& settings) {
  const ConfDirOptions& dir_opts = *opts.dir;
  std::optional<Topology> topology;
  try {
    topology = Topology::read(settings.sysfs_root);
  } catch (const Error& e) {
    spdlog::warn("skipping the CPU check: {}", e.what());
  }
  Procfs procfs(settings.procfs_root);
  // The report describes an unreadable directory instead of failing on it.
  std::optional<ConfigDir> dir;
  std::optional<DirLock> held;
  try {
    dir.emplace(ConfigDir::open(dir_opts.conf_dir));
    held.emplace(dir->lock(LockMode::kShared, lock_options(settings, "kcm node-report")));
  } catch (const Error& e) {
    if (e.is_usage()) throw;
    spdlog::warn("{}", e.what());
    dir.reset();
  }
  NodeReport values = check_node(dir ? &*dir : nullptr, dir_opts.conf_dir, topology, &procfs);
  if (dir && values.config) {
    try {
      values.last_reconcile = read_reconcile_stamp(*dir);
    } catch (const Error& e) {
      spdlog::warn("{}", e.what());
    }
  }
  held.reset();
  audit(values, procfs, settings);
  nlohmann::json report = node_report_json(values);
  if (opts.format == "prometheus") {
    const std::string text = prometheus_text(values);
    if (opts.textfile.empty()) {
      print_document(text);
    } else {
      write_textfile(opts.textfile, text);
    }
  } else {
    print_document(to_document(report));
  }
  if (dir_opts.publish) {
    // The lock is released and the report printed: nothing here to leave half done.
    AbandonableOnStop publishing;
    k8s_publish_report(process_env, "NodeReport", report);
  }
}

}  // namespace

Action add_node_report(CLI::App& app) {
  CLI::App& sub = add_subcommand(app, "node-report", "Report node-level configuration problems");
  auto opts = std::make_shared<NodeReportOptions>();
  opts->dir = add_conf_dir_options(sub, /*with_publish=*/true);
  sub.add_option("--format", opts->format, "json (the default) or prometheus");
  sub.add_option("--textfile", opts->textfile,
                 "With --format=prometheus: write the metrics atomically to this file");
  return [opts](const Settings& settings) {
    if (opts->format != "json" && opts->format != "prometheus") {
      throw usage_error("option --format=" + quote(opts->format) + ": not json or prometheus");
    }
    if (!opts->textfile.empty() && opts->format != "prometheus") {
      throw usage_error("option --textfile needs --format=prometheus");
    }
    return run_rounds(opts->dir->interval, [&] { node_report_once(*opts, settings); });
  };
}

}  // namespace kcm::cli

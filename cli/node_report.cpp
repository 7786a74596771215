// kcm node-report: a JSON report of node-level configuration problems; with --interval,
// again and again.
#include <spdlog/spdlog.h>

#include <optional>

#include "commands.h"
#include "config_dir.h"
#include "env.h"
#include "error.h"
#include "interval.h"
#include "k8s_client.h"
#include "lock.h"
#include "procfs.h"
#include "reconcile.h"
#include "report.h"
#include "topology.h"

namespace kcm::cli {
namespace {

void node_report_once(const ConfDirOptions& opts, const Settings& settings) {
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
    dir.emplace(ConfigDir::open(opts.conf_dir));
    held.emplace(dir->lock(LockMode::kShared, lock_options(settings, "kcm node-report")));
  } catch (const Error& e) {
    if (e.is_usage()) throw;
    spdlog::warn("{}", e.what());
    dir.reset();
  }
  nlohmann::json report =
      node_report_json(check_node(dir ? &*dir : nullptr, opts.conf_dir, topology, &procfs));
  held.reset();
  print_document(to_document(report));
  if (opts.publish) {
    // The lock is released and the report printed: nothing here to leave half done.
    AbandonableOnStop publishing;
    k8s_publish_report(process_env, "NodeReport", report);
  }
}

}  // namespace

Action add_node_report(CLI::App& app) {
  auto opts = add_conf_dir_options(
      add_subcommand(app, "node-report", "Report node-level configuration problems"),
      /*with_publish=*/true);
  return [opts](const Settings& settings) {
    return run_rounds(opts->interval, [&] { node_report_once(*opts, settings); });
  };
}

}  // namespace kcm::cli

// kcm reconcile: remove dead and reused PIDs (and their owner records), report mismatched
// CPU masks (with --repair, kcm's extension, give them their lists' CPUs again),
// optionally publish the report; with --interval, again and again.
#include <spdlog/spdlog.h>

#include <ctime>
#include <memory>
#include <vector>

#include "commands.h"
#include "config_dir.h"
#include "env.h"
#include "interval.h"
#include "k8s_client.h"
#include "lock.h"
#include "procfs.h"
#include "reconcile.h"
#include "reconcile_stamp.h"
#include "report.h"

namespace kcm::cli {
namespace {

void reconcile_once(const ConfDirOptions& opts, bool repair, const Settings& settings) {
  Procfs procfs(settings.required_procfs_root("reconcile"));
  ConfigDir dir = ConfigDir::open(opts.conf_dir);
  nlohmann::json report;
  {
    DirLock held = dir.lock_for_writing(lock_options(settings, "kcm reconcile"));
    const Config config = dir.read();
    const std::vector<Owner> owners = dir.read_owners();
    const Reconciliation found = judge_reconcile(config, owners, procfs);
    report = reconcile_json(found.report);
    if (!repair) {
      print_document(to_document(report));
      apply_reconcile(dir, found);
    } else {
      // The report says what was changed, so it is printed once the repairs are made. The
      // published report keeps the original's shape.
      apply_reconcile(dir, found);
      nlohmann::json printed = report;
      printed["repairedCpuMasks"] =
          repairs_json(repair_masks(config, owners, found, procfs, procfs.path(0, "mountinfo")));
      print_document(to_document(printed));
    }
    if (int removed = dir.remove_stale_temp_files()) {
      spdlog::info("removed {} temp files left by killed writers", removed);
    }
    try {
      write_reconcile_stamp(dir, std::time(nullptr));  // node-report's metric (docs/config.md)
    } catch (const Error& e) {
      spdlog::warn("{}", e.what());  // the round's work is done; only the metric is missed
    }
  }
  if (opts.publish) {
    // The lock is released and the report printed: nothing here to leave half done.
    AbandonableOnStop publishing;
    k8s_publish_report(process_env, "Reconcile", report);
  }
}

}  // namespace

Action add_reconcile(CLI::App& app) {
  auto opts = add_conf_dir_options(
      add_subcommand(app, "reconcile", "Remove invalid PIDs from the config directory"),
      /*with_publish=*/true);
  auto repair = std::make_shared<bool>(false);
  app.get_subcommand("reconcile")
      ->add_flag("--repair", *repair, "Give mismatched CPU masks their lists' CPUs again");
  return [opts, repair](const Settings& settings) {
    return run_rounds(opts->interval, [&] { reconcile_once(*opts, *repair, settings); });
  };
}

}  // namespace kcm::cli

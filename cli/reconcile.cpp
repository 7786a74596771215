// kcm reconcile: remove dead and reused PIDs (and their owner records), report mismatched
// CPU masks, optionally publish the report; with --interval, again and again.
#include <spdlog/spdlog.h>

#include <ctime>

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

void reconcile_once(const ConfDirOptions& opts, const Settings& settings) {
  Procfs procfs(settings.required_procfs_root("reconcile"));
  ConfigDir dir = ConfigDir::open(opts.conf_dir);
  nlohmann::json report;
  {
    DirLock held = dir.lock_for_writing(lock_options(settings, "kcm reconcile"));
    const Reconciliation found = judge_reconcile(dir.read(), dir.read_owners(), procfs);
    report = reconcile_json(found.report);
    print_document(to_document(report));
    apply_reconcile(dir, found);
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
  return [opts](const Settings& settings) {
    return run_rounds(opts->interval, [&] { reconcile_once(*opts, settings); });
  };
}

}  // namespace kcm::cli

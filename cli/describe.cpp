// kcm describe: the config directory as JSON.
#include "commands.h"
#include "config_dir.h"
#include "lock.h"
#include "report.h"

namespace kcm::cli {

Action add_describe(CLI::App& app) {
  auto opts = add_conf_dir_options(
      add_subcommand(app, "describe", "Print a JSON representation of the config directory"),
      /*with_publish=*/false);
  return [opts](const Settings& settings) {
    const Config config = read_under_shared_lock(
        opts->conf_dir, settings, "kcm describe", [&](const ConfigDir& dir) {
          // Processes of an earlier boot are all gone; a power loss may have left their
          // tasks files as anything (docs/config.md "After a power loss").
          return dir.read(dir.records_of_earlier_boot(settings.procfs_root)
                              ? ConfigDir::Tasks::kNone
                              : ConfigDir::Tasks::kAsRecorded);
        });
    print_document(to_document(describe_json(opts->conf_dir, config)));
    return kExitOk;
  };
}

}  // namespace kcm::cli

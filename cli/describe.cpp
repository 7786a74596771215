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
    ConfigDir dir = ConfigDir::open(opts->conf_dir);
    Config config;
    {
      DirLock held = dir.lock(LockMode::kShared, lock_options(settings, "kcm describe"));
      config = dir.read();
    }
    print_document(to_document(describe_json(opts->conf_dir, config)));
    return kExitOk;
  };
}

}  // namespace kcm::cli

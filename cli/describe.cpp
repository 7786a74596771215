// kcm describe: the config directory as JSON.
#include "commands.h"
#include "config_dir.h"
#include "lock.h"
#include "report.h"

namespace kcm::cli {

Action add_describe(CLI::App& app) {
  auto* sub = app.add_subcommand("describe", "Print a JSON representation of the config directory");
  sub->set_help_flag();
  auto conf_dir = std::make_shared<std::string>();
  add_conf_dir_option(*sub, *conf_dir);
  return [conf_dir] {
    ConfigDir dir = ConfigDir::open(*conf_dir);
    Config config;
    {
      DirLock held = dir.lock(LockMode::kShared, "kcm describe", lock_timeout_from_env());
      config = dir.read();
    }
    print_document(to_document(describe_json(*conf_dir, config)));
    return kExitOk;
  };
}

}  // namespace kcm::cli

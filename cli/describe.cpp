// kcm describe: the config directory as JSON; with --owner (kcm's extension), one
// holder's owner record, why it got its lists and whether it still runs on them.
#include <memory>
#include <string>

#include "commands.h"
#include "config_dir.h"
#include "explain.h"
#include "lock.h"
#include "procfs.h"
#include "report.h"

namespace kcm::cli {
namespace {

// `owner`'s description, read under the shared lock; a not-found Error (exit 1) when no
// record holds that id.
nlohmann::json describe_owner_json(const std::string& conf_dir, const std::string& owner,
                                   const Settings& settings) {
  const Procfs procfs(settings.procfs_root);
  return read_under_shared_lock(conf_dir, settings, "kcm describe", [&](const ConfigDir& dir) {
    const std::optional<Owner> record = dir.read_owner(owner);
    if (!record || record->owner != owner) {
      throw Error("describe owner " + quote(owner) + ": no owner record in " +
                      quote(conf_dir + "/owners") +
                      " (a container id, or isolate-<pid> for kcm isolate)",
                  ErrorKind::kNotFound);
    }
    return owner_description_json(describe_owner(dir.read(), *record, procfs));
  });
}

}  // namespace

Action add_describe(CLI::App& app) {
  CLI::App& sub =
      add_subcommand(app, "describe", "Print a JSON representation of the config directory");
  auto opts = add_conf_dir_options(sub, /*with_publish=*/false);
  auto owner = std::make_shared<std::string>();
  sub.add_option("--owner", *owner, "Describe one holder: a container id or isolate-<pid>");
  return [opts, owner](const Settings& settings) {
    if (!owner->empty()) {
      print_document(to_document(describe_owner_json(opts->conf_dir, *owner, settings)));
      return kExitOk;
    }
    const Config config =
        read_under_shared_lock(opts->conf_dir, settings, "kcm describe", [&](const ConfigDir& dir) {
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

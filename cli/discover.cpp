// kcm discover: advertise the dataplane pool's CPU lists as a node resource.
#include "commands.h"
#include "config_dir.h"
#include "error.h"
#include "k8s_client.h"
#include "lock.h"

namespace kcm::cli {

Action add_discover(CLI::App& app) {
  auto opts = add_conf_dir_options(
      add_subcommand(app, "discover", "Advertise dataplane CPU lists on the Kubernetes node"),
      /*with_publish=*/false);
  return [opts](const Settings& settings) {
    const Pool dataplane =
        read_under_shared_lock(opts->conf_dir, settings, "kcm discover",
                               [](const ConfigDir& dir) { return dir.read_pool("dataplane"); });
    if (dataplane.lists.empty()) {
      throw Error("pool \"dataplane\" in " + quote(opts->conf_dir) +
                  " has no CPU lists to advertise");
    }
    k8s_discover(process_env, static_cast<int>(dataplane.lists.size()));
    return kExitOk;
  };
}

}  // namespace kcm::cli

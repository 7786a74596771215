// kcm discover: advertise the dataplane pool's CPU lists as a node resource.
#include "commands.h"
#include "config_dir.h"
#include "error.h"
#include "k8s_client.h"
#include "lock.h"

namespace kcm::cli {

Action add_discover(CLI::App& app) {
  auto* sub = app.add_subcommand("discover", "Advertise dataplane CPU lists on the Kubernetes node");
  sub->set_help_flag();
  auto conf_dir = std::make_shared<std::string>();
  add_conf_dir_option(*sub, *conf_dir);
  return [conf_dir] {
    ConfigDir dir = ConfigDir::open(*conf_dir);
    Pool dataplane;
    {
      DirLock held = dir.lock(LockMode::kShared, "kcm discover", lock_timeout_from_env());
      dataplane = dir.read_pool("dataplane");
    }
    if (dataplane.lists.empty()) {
      throw Error("pool \"dataplane\" in " + quote(*conf_dir) + " has no CPU lists to advertise");
    }
    k8s_discover(static_cast<int>(dataplane.lists.size()));
    return kExitOk;
  };
}

}  // namespace kcm::cli

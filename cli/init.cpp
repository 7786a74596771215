// kcm init: split this machine's cores into the infra, controlplane and dataplane pools.
#include <spdlog/spdlog.h>

#include <filesystem>

#include "commands.h"
#include "config_dir.h"
#include "env.h"
#include "error.h"
#include "fs.h"
#include "pool_layout.h"
#include "topology.h"

namespace kcm::cli {
namespace {

// Hugepages matter to the DPDK-style workloads of the dataplane pool; kcm cannot fix
// their absence, only say so.
void warn_without_free_hugepages(const std::string& sysfs_root) {
  const std::string dir = join_path(sysfs_root, "kernel/mm/hugepages");
  std::error_code ec;
  long free_pages = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    auto text = if_found([&] { return read_file(entry.path().string() + "/free_hugepages"); });
    if (text) free_pages += std::strtol(text->c_str(), nullptr, 10);
  }
  if (free_pages == 0) spdlog::warn("no free hugepages under {}", dir);
}

struct InitOptions {
  std::string conf_dir;
  int dp_cores = 4;
  int cp_cores = 1;
};

}  // namespace

Action add_init(CLI::App& app) {
  CLI::App& sub = add_subcommand(app, "init", "Initialize the config directory");
  auto opts = std::make_shared<InitOptions>();
  add_conf_dir_option(sub, opts->conf_dir);
  sub.add_option("--num-dp-cores", opts->dp_cores, "Number of data plane cores")
      ->check(CLI::NonNegativeNumber);
  sub.add_option("--num-cp-cores", opts->cp_cores, "Number of control plane cores")
      ->check(CLI::NonNegativeNumber);
  return [opts](const Settings& settings) {
    const std::string sysfs = settings.sysfs_root;
    Topology topology = Topology::read(sysfs);
    PoolLayout layout = plan_pools(topology, opts->dp_cores, opts->cp_cores);
    for (const std::string& w : layout.warnings) spdlog::warn("{}", w);
    warn_without_free_hugepages(sysfs);
    ConfigDir::create(opts->conf_dir, layout.config, lock_options(settings, "kcm init"));
    return kExitOk;
  };
}

}  // namespace kcm::cli

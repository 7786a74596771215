// kcm init: split this machine's cores into the infra, controlplane and dataplane pools.
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <cerrno>
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

// --keep-existing (an extension, docs/cli.md): a node daemon runs init at every start,
// from an image without a shell to test the directory first. Whether `conf_dir` holds a
// configuration to keep: false without a pools/ entry (create() then initializes the
// directory, or refuses whatever else it holds), true when pools/ reads as a
// configuration, and an error naming what is wrong otherwise, so that a broken
// configuration is neither kept silently nor overwritten.
bool holds_configuration(const std::string& conf_dir, const Settings& settings) {
  const std::string pools = join_path(conf_dir, "pools");
  struct stat st {};
  if (::lstat(pools.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return false;
    throw sys_error("stat", pools, errno);
  }
  try {
    // Tasks are not judged: after a power loss they may be anything, and they are
    // reconcile's and the hook's business, not init's.
    read_under_shared_lock(conf_dir, settings, "kcm init", [](const ConfigDir& dir) {
      return dir.read(ConfigDir::Tasks::kNone);
    });
  } catch (const Error& e) {
    throw with_context("keep the existing configuration " + quote(conf_dir), e);
  }
  return true;
}

struct InitOptions {
  std::string conf_dir;
  int dp_cores = 4;
  int cp_cores = 1;
  bool keep_existing = false;
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
  sub.add_flag("--keep-existing", opts->keep_existing,
               "Keep a configuration the directory already holds");
  return [opts](const Settings& settings) {
    if (opts->keep_existing && holds_configuration(opts->conf_dir, settings)) {
      spdlog::info("{} already holds a kcm configuration: kept (--keep-existing)",
                   quote(opts->conf_dir));
      return kExitOk;
    }
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

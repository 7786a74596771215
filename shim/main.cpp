// kcm-runtime: the OCI runtime binary an engine (containerd, Docker, podman) is told to
// use. On create/run it adds the kcm hooks to the bundle's config.json when the container
// asks for CPUs; then, for every subcommand, it execs the real runtime with the original
// arguments. It must never be the reason a container that does not ask for CPUs fails,
// and never lets one that asks for CPUs run unpinned (docs/runtime.md, "When something is
// wrong"; the policy is lib/bundle_edit.h).
//
// `kcm-runtime configure|unconfigure --engine=…` registers it with an engine instead
// (lib/engine_config.h); runc has no command of either name, so no engine's call is
// taken for one.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "bundle_edit.h"
#include "engine_config.h"
#include "env.h"
#include "error.h"
#include "fs.h"
#include "log.h"
#include "runtime_config.h"

namespace {

constexpr char kProgram[] = "kcm-runtime";

// "" when /proc is not there: loop detection and the default hook path then find
// nothing, which fails only containers that ask for CPUs.
std::string self_exe_or_none() {
  try {
    return kcm::self_exe_path();
  } catch (const kcm::Error& e) {
    spdlog::warn("{}", e.what());
    return "";
  }
}

// stdout belongs to the real runtime (`runc state` prints JSON the engine parses), so
// every log line goes to stderr, and to the configured file because engines often
// swallow a runtime's stderr.
int run(int argc, char** argv) {
  const kcm::Settings settings = kcm::read_settings();
  if (argc >= 2 && kcm::is_engine_command(argv[1])) {
    return kcm::run_engine_command(argv[1], {argv + 2, argv + argc}, settings.path, std::cout);
  }
  kcm::init_logging_or_default(kProgram, settings.log_level);
  const auto loaded = kcm::load_runtime_config_or_defaults(settings.runtime_config);
  const kcm::RuntimeConfig& config = loaded.config;
  if (!config.log_file.empty()) kcm::add_log_file(kProgram, config.log_file);

  const std::string self = self_exe_or_none();
  const std::string runtime = kcm::resolve_runtime(loaded, settings.path, self);
  const kcm::BundlePolicy policy{{kcm::resolve_hook(config.hook, self, KCM_INSTALLED_HOOK),
                                  config.conf_dir},
                                 loaded.error};
  for (const std::string& bundle :
       kcm::bundles_to_edit({argv + 1, argv + argc}, kcm::working_dir())) {
    kcm::edit_bundle(bundle, policy);
  }

  if (loaded.error) spdlog::error("{}; ran {} with the defaults", *loaded.error, runtime);
  spdlog::default_logger()->flush();
  std::vector<char*> exec_argv(argv, argv + argc + 1);
  exec_argv[0] = const_cast<char*>(runtime.c_str());
  ::execv(runtime.c_str(), exec_argv.data());
  throw kcm::sys_error("exec", runtime, errno);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const kcm::Error& e) {
    kcm::report_error(kProgram, e.what());
    return e.exit_code();
  } catch (const std::exception& e) {
    kcm::report_error(kProgram, e.what());
    return kcm::kExitFailure;
  }
}

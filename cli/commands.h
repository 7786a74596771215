// The `kcm` subcommands: each file adds one to the CLI11 app and returns what runs it.
// Their contract is the CLI contract, docs/cli.md; mains stay thin and every
// decision lives in libkcm.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <string>

#include "config_dir.h"
#include "env.h"
#include "error.h"
#include "lock.h"

namespace kcm::cli {

// Runs a parsed subcommand with the settings main read from the environment; returns the
// process exit code or throws kcm::Error.
using Action = std::function<int(const Settings&)>;

Action add_init(CLI::App& app);
Action add_discover(CLI::App& app);
Action add_describe(CLI::App& app);
Action add_reconcile(CLI::App& app);
Action add_isolate(CLI::App& app);
Action add_install(CLI::App& app);
Action add_node_report(CLI::App& app);

struct CommandEntry {
  const char* name;
  Action (*add)(CLI::App& app);
};

inline constexpr CommandEntry kCommands[] = {
    {"init", add_init},
    {"discover", add_discover},
    {"describe", add_describe},
    {"reconcile", add_reconcile},
    {"isolate", add_isolate},
    {"install", add_install},
    {"node-report", add_node_report},
};

// Adds a subcommand. -h/--help anywhere prints the document's usage block (main does
// that before parsing), so CLI11's own help flag is off.
inline CLI::App& add_subcommand(CLI::App& app, const char* name, const char* description) {
  CLI::App* sub = app.add_subcommand(name, description);
  sub->set_help_flag();
  return *sub;
}

// Adds --conf-dir=<dir> (default /etc/kcm) bound to `dir`.
inline void add_conf_dir_option(CLI::App& sub, std::string& dir) {
  dir = kDefaultConfDir;
  sub.add_option("--conf-dir", dir, "KCM configuration directory");
}

// The options of the subcommands that take only --conf-dir and maybe --publish (and
// with it --interval, kcm's extension: the long-running mode of docs/cli.md).
struct ConfDirOptions {
  std::string conf_dir;
  bool publish = false;
  std::string interval;  // "" without --interval; checked by run_rounds
};

inline std::shared_ptr<ConfDirOptions> add_conf_dir_options(CLI::App& sub, bool with_publish) {
  auto opts = std::make_shared<ConfDirOptions>();
  add_conf_dir_option(sub, opts->conf_dir);
  if (with_publish) {
    sub.add_flag("--publish", opts->publish, "Publish the report to the Kubernetes API server");
    sub.add_option("--interval", opts->interval, "Repeat every this many seconds until stopped");
  }
  return opts;
}

// How `program` ("kcm describe") takes the directory's lock.
inline LockOptions lock_options(const Settings& settings, const std::string& program) {
  return {program, "kcm: error: ", settings.lock_timeout(), settings.procfs_root};
}

// What `read` returns of the directory `conf_dir`, read under the shared lock as
// `program`: describe and discover.
template <typename Read>
auto read_under_shared_lock(const std::string& conf_dir, const Settings& settings,
                            const std::string& program, Read&& read) {
  const ConfigDir dir = ConfigDir::open(conf_dir);
  DirLock held = dir.lock(LockMode::kShared, lock_options(settings, program));
  return read(dir);
}

// Prints a document to stdout and flushes it, so it is out before any later error.
void print_document(const std::string& text);

// Runs `round` once when `interval` is "" (its errors end the command); otherwise checks
// `interval` (a usage error, exit 2, when it is no whole number >= 1) and runs `round`
// every that many seconds until SIGTERM or SIGINT (interval.h), printing a failed round's
// error as `kcm: error: ...` and going on. Returns the exit code: 0.
int run_rounds(const std::string& interval, const std::function<void()>& round);

}  // namespace kcm::cli

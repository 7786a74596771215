// kcm: the command-line tool of the CLI contract (docs/cli.md). Parses arguments, runs one
// subcommand, prints its error once as "kcm: error: ...".
#include <cstdio>
#include <functional>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include "commands.h"
#include "error.h"
#include "interval.h"
#include "log.h"

namespace {

// The usage block of the CLI contract (docs/cli.md), byte for byte.
constexpr std::string_view kUsage = R"(kcm.

Usage:
  kcm (-h | --help)
  kcm --version
  kcm init [--conf-dir=<dir>] [--num-dp-cores=<num>] [--num-cp-cores=<num>]
  kcm discover [--conf-dir=<dir>]
  kcm describe [--conf-dir=<dir>]
  kcm reconcile [--conf-dir=<dir>] [--publish]
  kcm isolate [--conf-dir=<dir>] --pool=<pool> <command> [-- <args> ...]
  kcm install --install-dir=<dir>
  kcm node-report [--conf-dir=<dir>] [--publish]

Options:
  -h --help             Show this screen.
  --version             Show version.
  --conf-dir=<dir>      KCM configuration directory [default: /etc/kcm].
  --install-dir=<dir>   KCM install directory.
  --num-dp-cores=<num>  Number of data plane cores [default: 4].
  --num-cp-cores=<num>  Number of control plane cores [default: 1].
  --pool=<pool>         Pool name: either infra, controlplane or dataplane.
  --publish             Whether to publish reports to the Kubernetes
                        API server.
)";

bool wants_help(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--") return false;
    if (arg == "-h" || arg == "--help") return true;
  }
  return false;
}

// CLI11 reads `--opt=` as `--opt` with its value still to come, and takes the next
// argument for it, whatever that is: `kcm init --conf-dir= --num-dp-cores=1` made a
// directory named "--num-dp-cores=1", and so did `--conf-dir --num-dp-cores=1`. So before
// CLI11 sees the line, an option that takes a value (in any subcommand) is refused when
// the value is empty (`--opt=`, `--opt ""`) or is another option of kcm's. Returns the
// message, or "" when there is none to give.
std::string missing_option_value(const CLI::App& app, int argc, char** argv) {
  std::set<std::string, std::less<>> options;
  std::set<std::string, std::less<>> value_options;
  auto collect = [&](const CLI::App& from) {
    for (const CLI::Option* option : from.get_options()) {
      for (const std::string& name : option->get_lnames()) {
        options.insert("--" + name);
        if (option->get_expected_min() > 0) value_options.insert("--" + name);
      }
    }
  };
  collect(app);
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    collect(*sub);
  }
  auto name_of = [](std::string_view arg) { return arg.substr(0, arg.find('=')); };
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--") break;
    const std::string name(name_of(arg));
    if (!value_options.contains(name)) continue;
    if (arg.size() > name.size()) {
      if (arg.size() == name.size() + 1) return "option " + name + " needs a non-empty value";
      continue;
    }
    if (i + 1 == argc) continue;  // CLI11 says the value is missing
    const std::string_view value = argv[++i];
    if (value.empty()) return "option " + name + " needs a non-empty value";
    if (options.contains(name_of(value))) {
      return "option " + name + " needs a value, not the option " + kcm::quote(value);
    }
  }
  return "";
}

int usage_failure(const std::string& message) {
  std::cerr << "kcm: error: " << message << "\n\n" << kUsage;
  return kcm::kExitUsage;
}

}  // namespace

namespace kcm::cli {

void print_document(const std::string& text) {
  // A closed stdout shows in the exit status of whoever reads it; nothing to add here.
  (void)std::fwrite(text.data(), 1, text.size(), stdout);
  (void)std::fflush(stdout);
}

int run_rounds(const std::string& interval, const std::function<void()>& round) {
  if (interval.empty()) {
    round();
    return kExitOk;
  }
  repeat_until_stopped(
      parse_interval("--interval", interval), round,
      [](const std::string& message) { report_error("kcm", "error: " + message); });
  return kExitOk;
}

}  // namespace kcm::cli

int main(int argc, char** argv) {
  if (wants_help(argc, argv)) {
    std::cout << kUsage;
    return kcm::kExitOk;
  }
  try {
    const kcm::Settings settings = kcm::read_settings();
    kcm::init_logging("kcm", settings.log_level);
    CLI::App app("kcm", "kcm");
    app.set_help_flag();
    bool version = false;
    app.add_flag("--version", version, "Show version");
    std::map<std::string, kcm::cli::Action> actions;
    for (const auto& entry : kcm::cli::kCommands) {
      actions[entry.name] = entry.add(app);
    }
    app.require_subcommand(0, 1);
    if (auto message = missing_option_value(app, argc, argv); !message.empty()) {
      return usage_failure(message);
    }
    try {
      app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
      return usage_failure(e.what());
    }
    if (version) {
      std::cout << "kcm " << KCM_VERSION << "\n";
      return kcm::kExitOk;
    }
    auto used = app.get_subcommands();
    if (used.empty()) return usage_failure("no subcommand given");
    return actions.at(used.front()->get_name())(settings);
  } catch (const kcm::Error& e) {
    std::cerr << "kcm: error: " << e.what() << "\n";
    return e.exit_code();
  } catch (const std::exception& e) {
    std::cerr << "kcm: error: " << e.what() << "\n";
    return kcm::kExitFailure;
  }
}

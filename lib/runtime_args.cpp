#include "runtime_args.h"

#include <algorithm>
#include <array>
#include <optional>
#include <string_view>

#include "error.h"
#include "fs.h"

namespace kcm {

namespace {

// runc 1.1's global flags (main.go). Go's flag package lets a boolean take a value only
// as `--flag=value`, so a boolean never consumes the next argument.
constexpr std::array<std::string_view, 5> kGlobalValueFlags = {"root", "log", "log-format", "criu",
                                                               "rootless"};
constexpr std::array<std::string_view, 2> kGlobalBoolFlags = {"debug", "systemd-cgroup"};
// Global flags runc answers itself, whatever follows them.
constexpr std::array<std::string_view, 4> kGlobalAnswerFlags = {"help", "h", "version", "v"};
// The value flags of runc 1.1's create and run. Their other flags are booleans; a flag
// this list does not know is taken as a boolean too: at worst its value is then read as
// a positional argument, which the wrapper ignores.
constexpr std::array<std::string_view, 5> kCreateValueFlags = {"bundle", "b", "console-socket",
                                                               "pid-file", "preserve-fds"};

template <std::size_t N>
bool contains(const std::array<std::string_view, N>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// A flag as Go's flag package reads it: one or two dashes, a name, optionally `=value`.
struct Flag {
  std::string_view name;
  std::optional<std::string_view> value;
};

std::optional<Flag> as_flag(std::string_view arg) {
  if (arg.size() < 2 || arg[0] != '-' || arg == "--") return std::nullopt;
  std::string_view body = arg.substr(arg[1] == '-' ? 2 : 1);
  if (body.empty() || body[0] == '-') return std::nullopt;
  Flag flag;
  if (auto eq = body.find('='); eq != std::string_view::npos) {
    flag.name = body.substr(0, eq);
    flag.value = body.substr(eq + 1);
  } else {
    flag.name = body;
  }
  return flag;
}

bool is_create(std::string_view subcommand) {
  return subcommand == "create" || subcommand == "run";
}

// Finds --bundle among a create/run's arguments. urfave/cli v1 moves flags written after
// positional arguments to the front, so a flag counts wherever it stands before `--`.
std::optional<std::string> find_bundle(const std::vector<std::string>& args, std::size_t from) {
  std::optional<std::string> bundle;
  for (std::size_t i = from; i < args.size(); ++i) {
    if (args[i] == "--") break;
    auto flag = as_flag(args[i]);
    if (!flag || !contains(kCreateValueFlags, flag->name)) continue;
    std::string value;
    if (flag->value) {
      value = std::string(*flag->value);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      throw usage_error("flag " + quote(args[i]) + " needs a value");
    }
    // Go's flag package keeps the last of repeated flags.
    if (flag->name == "bundle" || flag->name == "b") bundle = std::move(value);
  }
  return bundle;
}

// Reads the global flags from args[i] on and returns the reading that follows them, or
// nullopt at a global flag this does not know written without `=value`, whose index is
// then left in `unknown`.
std::optional<RuntimeCommand> read_from(const std::vector<std::string>& args, std::size_t i,
                                        std::size_t& unknown) {
  for (; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      ++i;
      break;
    }
    auto flag = as_flag(arg);
    if (!flag) break;
    if (contains(kGlobalAnswerFlags, flag->name)) return RuntimeCommand{};
    if (contains(kGlobalBoolFlags, flag->name) || flag->value) continue;
    if (!contains(kGlobalValueFlags, flag->name)) {
      unknown = i;
      return std::nullopt;
    }
    if (i + 1 == args.size()) throw usage_error("flag " + quote(arg) + " needs a value");
    ++i;
  }
  RuntimeCommand command;
  if (i == args.size()) return command;
  command.subcommand = args[i];
  if (is_create(command.subcommand)) command.bundle = find_bundle(args, i + 1);
  return command;
}

}  // namespace

std::vector<RuntimeCommand> parse_runtime_args(const std::vector<std::string>& args) {
  std::vector<RuntimeCommand> readings;
  std::optional<Error> error;
  // Where the global flags of a reading start. An unknown flag at k forks the reading
  // into k + 1 (a boolean) and k + 2 (a flag with a value); each start is read once, so
  // however many such flags there are, the work stays quadratic in the arguments.
  std::vector<std::size_t> starts = {0};
  std::vector<bool> done(args.size() + 1, false);
  while (!starts.empty()) {
    const std::size_t start = starts.back();
    starts.pop_back();
    if (start > args.size() || done[start]) continue;
    done[start] = true;
    std::size_t unknown = 0;
    try {
      if (auto command = read_from(args, start, unknown)) {
        if (std::find(readings.begin(), readings.end(), *command) == readings.end()) {
          readings.push_back(*std::move(command));
        }
      } else {
        starts.push_back(unknown + 2);
        starts.push_back(unknown + 1);
      }
    } catch (const Error& e) {
      if (!error) error = e;
    }
  }
  // The reading that takes every unknown flag as a boolean always ends in a command or
  // an error, so an empty list has an error to report.
  if (readings.empty()) throw error.value();
  return readings;
}

bool creates_container(const RuntimeCommand& command) { return is_create(command.subcommand); }

std::string bundle_dir(const RuntimeCommand& command, const std::string& cwd) {
  // runc chdirs into a non-empty --bundle and otherwise stays where it was started.
  if (!command.bundle || command.bundle->empty()) return cwd;
  if ((*command.bundle)[0] == '/') return *command.bundle;
  return join_path(cwd, *command.bundle);
}

}  // namespace kcm

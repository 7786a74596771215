// The command line of an OCI runtime as kcm-runtime receives it, reduced to the two facts
// the wrapper needs: which subcommand runs and, for `create`/`run`, which bundle.
//
// The grammar is runc's (urfave/cli over Go's flag package): global flags, then the
// subcommand, then its flags and arguments. Flags may be written `-f`, `--f`, `--f=v`;
// value flags also `--f v`. The callers this must understand:
//   containerd (go-runc): --root R --log F --log-format json [--systemd-cgroup]
//                         create --bundle B --pid-file P [--console-socket S] ID
//   podman (conmon):      [--root R] [--systemd-cgroup] [--log-format=json --log=F]
//                         create --bundle B --pid-file P [--no-pivot] [--console-socket S] ID
//   people:               run -b B ID;  --version;  state ID;  …
// Pure: no file-system or process access. Thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace kcm {

struct RuntimeCommand {
  // The first argument after the global flags ("create", "state", …); empty when there
  // is none (`runc --version`, `runc --help`, `runc` alone).
  std::string subcommand;
  // For create and run: the bundle as written after --bundle/-b; nullopt when absent
  // (runc then uses its working directory).
  std::optional<std::string> bundle;

  bool operator==(const RuntimeCommand&) const = default;
};

// `args` excludes argv[0]. Returns every reading of the command line runc may make,
// without repeats: one, unless a global flag this does not know is written without
// `=value` (a newer runc's, say) and so may or may not take the next argument; then the
// readings with the flag taken either way, for each such flag. runc knows which one it
// is, so the wrapper acts on each reading that creates a container: one that asks for
// CPUs must not run unpinned because a flag was new. Throws a usage Error naming the
// argument when no reading is possible (a value flag at the end); the caller passes such
// a line through to the real runtime unchanged, and runc refuses it.
std::vector<RuntimeCommand> parse_runtime_args(const std::vector<std::string>& args);

// True for the subcommands that create a container from a bundle: create and run.
bool creates_container(const RuntimeCommand& command);

// The bundle directory of a create/run command: `bundle` resolved against `cwd` when
// relative, `cwd` when absent; absolute when `cwd` is.
std::string bundle_dir(const RuntimeCommand& command, const std::string& cwd);

}  // namespace kcm

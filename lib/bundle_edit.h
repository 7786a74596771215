// What kcm-runtime does to a bundle before the real runtime reads it (docs/runtime.md,
// "What it does" and "When something is wrong"): on `create` and `run`, add the kcm hooks
// to the bundle's config.json when the container asks for CPUs (oci_spec.h makes the
// edit on the text; this module decides what to do with the file).
//
// The rule: kcm-runtime is never the reason a container that asks for no CPUs fails, and
// never lets one that asks for CPUs run unpinned. So a config.json it cannot open it
// passes through (runc runs with the same credentials and cannot open it either); one it
// cannot read whole (a FIFO, a device, more than kMaxSpecBytes) it refuses, whatever it
// holds; one it cannot or will not edit (unparsable, a symlink) it refuses when the
// container asks for CPUs or may (oci_spec.h may_ask_for_cpus) and passes through
// otherwise, leaving runc to report what else is wrong with it.
//
// Reads and writes the bundle directory it is given, and logs what it did (log.h). A
// refusal is an Error (exit 1) whose message says why.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "oci_spec.h"

namespace kcm {

// What edit_bundle needs besides the bundle.
struct BundlePolicy {
  HookCommand hook;  // what to add to the spec
  // Why kcm-runtime's config file was ignored, when it was (runtime_config.h
  // LoadedRuntimeConfig): a container that asks for CPUs then fails rather than get
  // hooks made from the defaults.
  std::optional<std::string> config_error;
};

// What edit_bundle did with a bundle it did not refuse.
enum class BundleOutcome {
  kPassedThrough,  // left alone with a warning: unopenable, or unusable and asks for none
  kNoRequest,      // asks for no CPUs, or is a pod sandbox: left alone
  kHooksPresent,   // asks for CPUs and has both hooks already: left alone
  kHooksAdded,     // asks for CPUs: config.json replaced atomically, same mode, hooks added
};

// Adds the hooks to <bundle>/config.json when the container asks for CPUs. Throws Error
// for a container that asks for CPUs and cannot get the hooks (the config is broken, the
// hook is not executable, the file cannot be written back), and for a file whose request
// cannot be judged; logs and returns for everything else.
BundleOutcome edit_bundle(const std::string& bundle, const BundlePolicy& policy);

// The bundles that the command line `args` (argv without argv[0]) creates containers
// from, one per reading of the line that does (runtime_args.h), relative ones resolved
// against `cwd`. Logs a warning when the line has no reading at all (runc refuses it and
// creates nothing) or more than one (each is acted on).
std::vector<std::string> bundles_to_edit(const std::vector<std::string>& args,
                                         const std::string& cwd);

// What a relative bundle is relative to. "." when getcwd fails (an unreadable ancestor, a
// path longer than PATH_MAX): the bundle is opened relative to "." all the same, as runc
// opens it.
std::string working_dir();

}  // namespace kcm

#include "bundle_edit.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <string_view>

#include "error.h"
#include "fs.h"
#include "json.h"
#include "runtime_args.h"

namespace kcm {

namespace {

// O_NONBLOCK: a FIFO planted as config.json must not hang the engine's call.
constexpr int kOpenFlags = O_RDONLY | O_CLOEXEC | O_NONBLOCK;

// A bundle's config.json, open for reading.
struct SpecFile {
  UniqueFd dir;  // the bundle, where the edited file is written
  UniqueFd file;
  bool symlink = false;  // config.json is a symlink, followed only to read what runc reads
};

SpecFile open_spec(const std::string& bundle, const std::string& display) {
  SpecFile spec;
  spec.dir = open_dir(bundle);
  spec.file = UniqueFd(::openat(spec.dir.get(), "config.json", kOpenFlags | O_NOFOLLOW));
  if (!spec.file.valid() && errno == ELOOP) {
    spec.symlink = true;
    spec.file = UniqueFd(::openat(spec.dir.get(), "config.json", kOpenFlags));
  }
  if (!spec.file.valid()) throw sys_error("open", display, errno);
  return spec;
}

struct SpecText {
  std::string text;
  mode_t mode = 0;  // kept when the file is replaced
};

// Throws when the file cannot be read whole: a FIFO or a device could give runc a
// container that asks for CPUs, so nothing can be judged from it.
SpecText read_spec(int fd, const std::string& display) {
  try {
    struct stat st;
    if (::fstat(fd, &st) != 0) throw sys_error("stat", display, errno);
    if (!S_ISREG(st.st_mode)) throw op_error("read", display, "is not a regular file");
    return {read_json_text(fd, kMaxSpecBytes, "OCI spec", display), st.st_mode & 07777};
  } catch (const Error& e) {
    throw Error(std::string(e.what()) +
                ": kcm-runtime cannot tell whether the container asks for CPUs; refusing it");
  }
}

// A config.json the wrapper cannot edit, or will not, may still be read by runc, which
// would then run the container unpinned. So a container that asks for CPUs (or may: see
// may_ask_for_cpus) is refused here; any other passes through, and runc reports whatever
// else is wrong with the file.
BundleOutcome refuse_if_it_asks(std::string_view text, const std::string& why) {
  if (may_ask_for_cpus(text)) {
    throw Error(why + "; refusing a container that asks for CPUs");
  }
  spdlog::warn("{}; passing the container through without kcm hooks: it asks for no CPUs", why);
  return BundleOutcome::kPassedThrough;
}

// For a container that asks for CPUs and lacks a hook: writes `edit` back in place of the
// file, or throws why the container cannot get the hooks.
void write_hooks(int dirfd, const SpecEdit& edit, mode_t mode, const BundlePolicy& policy,
                 const std::string& display) {
  if (policy.config_error) {
    throw Error("the container asks for CPUs and the kcm-runtime config is broken: " +
                *policy.config_error);
  }
  if (edit.annotation_error) {
    spdlog::warn("{}: {}; adding the kcm hooks so that kcm-hook rejects it", display,
                 *edit.annotation_error);
  }
  const HookCommand& hook = policy.hook;
  if (::access(hook.path.c_str(), X_OK) != 0) {
    throw with_context("the container asks for CPUs", sys_error("run kcm-hook", hook.path, errno));
  }
  try {
    write_file_atomic(dirfd, "config.json", *edit.content, display, mode);
  } catch (const Error& e) {
    throw with_context("the container asks for CPUs", e);
  }
  spdlog::info("{}: added kcm hooks ({} --conf-dir={})", display, hook.path, hook.conf_dir);
}

}  // namespace

BundleOutcome edit_bundle(const std::string& bundle, const BundlePolicy& policy) {
  const std::string display = join_path(bundle, "config.json");
  SpecFile spec;
  try {
    spec = open_spec(bundle, display);
  } catch (const Error& e) {
    // runc runs with the wrapper's credentials and opens the same path: it cannot read
    // the file either, and fails the container itself.
    spdlog::warn("{}; passing the container through without kcm hooks", e.what());
    return BundleOutcome::kPassedThrough;
  }
  const SpecText spec_text = read_spec(spec.file.get(), display);
  if (spec.symlink) {
    return refuse_if_it_asks(
        spec_text.text, quote(display) + " is a symlink: kcm-runtime will not edit through it");
  }
  SpecEdit edit;
  try {
    edit = edit_spec(spec_text.text, policy.hook, display);
  } catch (const Error& e) {
    return refuse_if_it_asks(spec_text.text, e.what());
  }
  if (!edit.asks_for_cpus) return BundleOutcome::kNoRequest;
  if (!edit.content) {
    spdlog::info("{}: kcm hooks already present", display);
    return BundleOutcome::kHooksPresent;
  }
  write_hooks(spec.dir.get(), edit, spec_text.mode, policy, display);
  return BundleOutcome::kHooksAdded;
}

std::vector<std::string> bundles_to_edit(const std::vector<std::string>& args,
                                         const std::string& cwd) {
  std::vector<RuntimeCommand> readings;
  try {
    readings = parse_runtime_args(args);
  } catch (const Error& e) {
    // No reading of the line creates a container: runc refuses it.
    spdlog::warn("{}; passing the command through unchanged", e.what());
  }
  if (readings.size() > 1) {
    spdlog::warn(
        "a global flag kcm-runtime does not know may or may not take a value: "
        "acting on each of {} readings of the command line",
        readings.size());
  }
  std::vector<std::string> bundles;
  for (const RuntimeCommand& command : readings) {
    if (creates_container(command)) bundles.push_back(bundle_dir(command, cwd));
  }
  return bundles;
}

std::string working_dir() {
  char buf[PATH_MAX];
  return ::getcwd(buf, sizeof buf) != nullptr ? buf : ".";
}

}  // namespace kcm

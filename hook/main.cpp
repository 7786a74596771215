// kcm-hook: the OCI hook that pins a container to the CPU lists its annotations ask for
// (docs/hook.md). A runtime runs it at prestart/createRuntime and poststop with
// the container's state on stdin.
#include <spdlog/spdlog.h>
#include <syslog.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <ctime>
#include <optional>
#include <string>

#include "annotations.h"
#include "cgroup.h"
#include "config_dir.h"
#include "env.h"
#include "error.h"
#include "landlock.h"
#include "lock.h"
#include "log.h"
#include "oci_state.h"
#include "pin.h"
#include "procfs.h"
#include "reservation.h"
#include "seccomp_filter.h"
#include "topology.h"

namespace {

constexpr char kProgram[] = "kcm-hook";
constexpr char kUsage[] =
    "usage: kcm-hook [--conf-dir=DIR] STAGE < state.json\n"
    "  STAGE: prestart or createRuntime (pin the container), poststop (release it)\n";

struct Args {
  std::string conf_dir = kcm::kDefaultConfDir;
  std::string stage;
};

Args parse_args(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.starts_with("--conf-dir=")) {
      args.conf_dir = a.substr(std::strlen("--conf-dir="));
    } else if (a == "--conf-dir" && i + 1 < argc) {
      args.conf_dir = argv[++i];
    } else if (args.stage.empty() && !a.starts_with("-")) {
      args.stage = a;
    } else {
      throw kcm::usage_error("unexpected argument " + kcm::quote(a) + "\n" + kUsage);
    }
  }
  if (args.stage != "prestart" && args.stage != "createRuntime" && args.stage != "poststop") {
    throw kcm::usage_error((args.stage.empty() ? std::string("no STAGE given")
                                               : "unknown STAGE " + kcm::quote(args.stage)) +
                           "\n" + kUsage);
  }
  if (args.conf_dir.empty()) throw kcm::usage_error(std::string("empty --conf-dir\n") + kUsage);
  return args;
}

// What the container asks for; nullopt when nothing. poststop releases by container id
// alone: an annotation that prestart refused must not make the cleanup fail too.
std::optional<kcm::PoolRequest> request_of(const Args& args, const kcm::OciState& state) {
  try {
    return kcm::pool_request(state.annotations);
  } catch (const kcm::Error&) {
    if (args.stage != "poststop") throw;
    return kcm::PoolRequest{};
  }
}

// The container's cpuset cgroup, looked up once, before the sandbox: only its files may be
// written afterwards (confine), and pinning writes the one found here. nullopt on poststop,
// without a pid, or for a process in the root cgroup.
std::optional<kcm::CpusetCgroup> container_cgroup(const Args& args, const kcm::OciState& state,
                                                  const kcm::Procfs& procfs) {
  if (args.stage == "poststop" || state.pid <= 0) return std::nullopt;
  return kcm::cpuset_cgroup_of(procfs, state.pid, procfs.path(0, "mountinfo"));
}

// Landlock: the conf dir, the container's cpuset cgroup, procfs and sysfs to read
// (landlock.h).
void confine(const Args& args, const std::optional<kcm::CpusetCgroup>& cgroup,
             const kcm::Settings& settings) {
  // glibc reads /etc/localtime at its first time conversion (the owner record's stamp,
  // syslog's): now, while the sandbox does not yet shut it out.
  ::tzset();
  std::optional<std::string> cgroup_dir;
  if (cgroup) cgroup_dir = cgroup->dir;
  if (int abi = kcm::confine_hook_file_access(
          {args.conf_dir, cgroup_dir, {settings.procfs_root, settings.sysfs_root}})) {
    spdlog::debug("file access confined by Landlock ABI {}", abi);
  } else {
    spdlog::debug("file access not confined: this kernel has no Landlock");
  }
}

// The NUMA nodes of `cpus` when the container asks for memory: local, nullopt when it does
// not. What cannot be done is refused naming the annotation, and pin() then rolls the
// allocation back.
std::optional<kcm::CpuSet> memory_nodes(const kcm::PoolRequest& request,
                                        const std::optional<kcm::CpusetCgroup>& cgroup,
                                        const kcm::CpuSet& cpus, const std::string& sysfs_root) {
  if (request.memory_local_annotation.empty()) return std::nullopt;
  const std::string asked_by = "annotation " + kcm::quote(request.memory_local_annotation) + "=" +
                               kcm::quote(kcm::kMemoryLocal);
  if (!cgroup) {
    throw kcm::Error(asked_by + ": the container is in the root cpuset cgroup, " +
                     "whose cpuset.mems cannot be narrowed");
  }
  try {
    return kcm::local_memory_nodes(sysfs_root, cpus);
  } catch (const kcm::Error& e) {
    throw kcm::with_context(asked_by, e);
  }
}

// prestart / createRuntime: the container's init process gets the lists it asks for, in
// `cgroup` as container_cgroup found it.
int pin_container(const kcm::ConfigDir& dir, const kcm::OciState& state,
                  const kcm::PoolRequest& request, const std::optional<kcm::CpusetCgroup>& cgroup,
                  const kcm::Procfs& procfs, const kcm::LockOptions& lock,
                  const std::string& sysfs_root) {
  if (state.pid <= 0) throw kcm::usage_error("OCI state has no \"pid\"");
  const kcm::Holder holder = kcm::find_holder(procfs, state.id, state.pid);
  const std::string asked_by =
      "annotation " + kcm::quote(request.pool_annotation) + "=" + kcm::quote(request.pool);
  const kcm::Reservation r = kcm::pin(
      dir, holder, {request.pool, request.count, asked_by},
      [&](const kcm::CpuSet& cpus) {
        kcm::apply_to_container(procfs, state.pid, cgroup, cpus,
                                memory_nodes(request, cgroup, cpus, sysfs_root));
      },
      lock, sysfs_root);
  spdlog::info("pinned pid {} to CPUs {} of pool {}{}", state.pid, r.cpus.to_string(), request.pool,
               r.existing ? " (again)" : "");
  return kcm::kExitOk;
}

// poststop: the state has no pid now, so only a record whose process is gone is released.
int release_container(const kcm::ConfigDir& dir, const kcm::OciState& state,
                      const kcm::LockOptions& lock) {
  if (auto released = kcm::release(dir, state.id, lock, std::nullopt)) {
    spdlog::info("released CPU lists of pool {}", released->pool);
  }
  return kcm::kExitOk;
}

int run(int argc, char** argv) {
  const Args args = parse_args(argc, argv);
  const kcm::Settings settings = kcm::read_settings();
  // The first spdlog call: the statically linked hook has no default logger before this
  // (lib/static_libs.cpp).
  kcm::init_logging(kProgram, settings.log_level, /*also_syslog=*/true);
  kcm::install_hook_seccomp_filter();
  const kcm::OciState state = kcm::parse_oci_state(kcm::read_state(STDIN_FILENO, "stdin"));
  // Containers that ask for nothing return here: no lock, no config directory.
  const std::optional<kcm::PoolRequest> request = request_of(args, state);
  if (!request) return kcm::kExitOk;
  if (state.id.empty()) throw kcm::usage_error("OCI state has no \"id\"");
  try {
    const kcm::Procfs procfs(settings.procfs_root);
    const std::optional<kcm::CpusetCgroup> cgroup = container_cgroup(args, state, procfs);
    confine(args, cgroup, settings);
    const kcm::ConfigDir dir = kcm::ConfigDir::open(args.conf_dir);
    const kcm::LockOptions lock{kProgram, std::string(kProgram) + ": ", settings.lock_timeout(),
                                settings.procfs_root};
    if (args.stage == "poststop") return release_container(dir, state, lock);
    return pin_container(dir, state, *request, cgroup, procfs, lock, settings.sysfs_root);
  } catch (const kcm::Error& e) {
    throw kcm::with_context(args.stage + " container " + kcm::quote(state.id), e);
  }
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const kcm::Error& e) {
    (void)std::fprintf(stderr, "%s: %s\n", kProgram, e.what());
    // crun discards a hook's output; syslog is where an operator finds why.
    ::syslog(LOG_ERR, "%s", e.what());
    return e.exit_code();
  } catch (const std::exception& e) {
    (void)std::fprintf(stderr, "%s: %s\n", kProgram, e.what());
    ::syslog(LOG_ERR, "%s", e.what());
    return kcm::kExitFailure;
  }
}

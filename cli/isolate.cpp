// kcm isolate: run a command on a CPU list of a pool, for runtimes without hooks.
//
// The PID recorded is this process's host PID (first field of $KCM_PROC_FS/self/stat: a
// container with the host's /proc mounted sees its host PID there). kcm pins itself
// before starting the command, so the command and all it forks inherit the affinity.
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "affinity.h"
#include "commands.h"
#include "config_dir.h"
#include "env.h"
#include "error.h"
#include "lock.h"
#include "names.h"
#include "pin.h"
#include "procfs.h"
#include "reservation.h"

namespace kcm::cli {
namespace {

struct IsolateOptions {
  std::string conf_dir;
  std::string pool;
  std::string command;
  std::vector<std::string> args;
};

constexpr int kForwarded[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT};

// Runs `/bin/sh -c <command line>` in its own process group and waits for it, forwarding
// the signals an operator or a container runtime sends to kcm to the whole group (the
// shell does not always exec the command, and its children must not be orphaned).
// When kcm owns the terminal, the group gets it for the command's lifetime, as a shell
// would do. Returns the child's exit status, 128+signal when a signal killed it.
int run_forwarding_signals(const std::string& command_line) {
  sigset_t wait_set, old_set;
  sigemptyset(&wait_set);
  sigaddset(&wait_set, SIGCHLD);
  for (int sig : kForwarded) sigaddset(&wait_set, sig);
  if (::sigprocmask(SIG_BLOCK, &wait_set, &old_set) != 0) {
    throw sys_error("block signals of", "kcm isolate", errno);
  }
  // An ignored SIGCHLD survives exec; with it the kernel reaps the child silently and
  // sigwaitinfo would wait forever.
  struct sigaction default_action = {};
  default_action.sa_handler = SIG_DFL;
  ::sigaction(SIGCHLD, &default_action, nullptr);
  const bool owns_terminal = ::isatty(STDIN_FILENO) && ::tcgetpgrp(STDIN_FILENO) == ::getpgrp();
  pid_t child = ::fork();
  if (child < 0) throw sys_error("fork", "/bin/sh", errno);
  if (child == 0) {
    ::setpgid(0, 0);
    ::sigprocmask(SIG_SETMASK, &old_set, nullptr);
    ::execl("/bin/sh", "sh", "-c", command_line.c_str(), static_cast<char*>(nullptr));
    (void)std::fprintf(stderr, "kcm: error: exec \"/bin/sh\": %s\n", std::strerror(errno));
    ::_exit(127);
  }
  ::setpgid(child, child);  // also here, so the group exists before any signal is forwarded
  auto hand_terminal_to = [&](pid_t group) {
    if (!owns_terminal) return;
    // tcsetpgrp from a background group raises SIGTTOU; kcm must not stop on it.
    struct sigaction ignore = {};
    struct sigaction saved = {};
    ignore.sa_handler = SIG_IGN;
    ::sigaction(SIGTTOU, &ignore, &saved);
    ::tcsetpgrp(STDIN_FILENO, group);
    ::sigaction(SIGTTOU, &saved, nullptr);
  };
  hand_terminal_to(child);
  for (;;) {
    siginfo_t info;
    int sig = ::sigwaitinfo(&wait_set, &info);
    if (sig < 0) {
      if (errno == EINTR) continue;
      throw sys_error("wait for", "/bin/sh", errno);
    }
    if (sig != SIGCHLD) {
      ::kill(-child, sig);
      continue;
    }
    int status = 0;
    pid_t done = ::waitpid(child, &status, WNOHANG);
    if (done == 0) continue;
    if (done < 0) throw sys_error("wait for", "/bin/sh", errno);
    hand_terminal_to(::getpgrp());
    ::sigprocmask(SIG_SETMASK, &old_set, nullptr);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
  }
}

}  // namespace

Action add_isolate(CLI::App& app) {
  CLI::App& sub = add_subcommand(app, "isolate", "Run a command on a CPU list of a pool");
  auto opts = std::make_shared<IsolateOptions>();
  add_conf_dir_option(sub, opts->conf_dir);
  sub.add_option("--pool", opts->pool, "Pool name")->required();
  sub.add_option("command", opts->command, "Command to isolate")->required();
  sub.add_option("args", opts->args, "Command arguments");
  return [opts](const Settings& settings) {
    const PoolName pool = PoolName::parse(opts->pool);
    Procfs procfs(settings.required_procfs_root("isolate"));
    ConfigDir dir = ConfigDir::open(opts->conf_dir);
    const pid_t pid = procfs.self_pid();
    const auto holder =
        if_found([&] { return find_holder(procfs, "isolate-" + std::to_string(pid), pid); });
    if (!holder) {
      throw op_error("read", procfs.path(pid, "stat"),
                     "no such process: is KCM_PROC_FS the host's procfs?");
    }
    const LockOptions lock = lock_options(settings, "kcm isolate");
    // kcm pins its own thread: the command, and all it forks, inherit the affinity.
    const Reservation r = pin(
        dir, *holder, {pool, 1, ""}, [](const CpuSet& cpus) { set_affinity(0, cpus); }, lock,
        settings.sysfs_root);
    std::string command_line = opts->command;
    for (const std::string& arg : opts->args) command_line += " " + arg;
    return while_pinned(dir, *holder, lock, [&] {
      if (::setenv("KCM_CPUS_ASSIGNED", r.cpus.to_string().c_str(), 1) != 0) {
        throw sys_error("set", "KCM_CPUS_ASSIGNED", errno);
      }
      spdlog::info("isolate: pid {} on CPUs {} of pool {}", pid, r.cpus.to_string(), pool);
      return run_forwarding_signals(command_line);
    });
  };
}

}  // namespace kcm::cli

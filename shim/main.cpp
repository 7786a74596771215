// kcm-runtime: the OCI runtime binary an engine (containerd, Docker, podman) is told to
// use. On create/run it adds the kcm hooks to the bundle's config.json when the container
// asks for CPUs; then, for every subcommand, it execs the real runtime with the original
// arguments. It must never be the reason a container that does not ask for CPUs fails:
// whatever it cannot read it logs and passes through (DESIGN.md "kcm-runtime").
#include <fcntl.h>
#include <spdlog/details/null_mutex.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "error.h"
#include "fs.h"
#include "log.h"
#include "oci_spec.h"
#include "runtime_args.h"
#include "runtime_config.h"

namespace {

constexpr char kProgram[] = "kcm-runtime";

// The configured log file alone, for the final error main also prints to stderr.
std::shared_ptr<spdlog::logger> g_file_log;

// stdout belongs to the real runtime (`runc state` prints JSON the engine parses), so
// every log line goes to stderr, and to the configured file because engines often
// swallow a runtime's stderr.
void start_logging() {
  try {
    kcm::init_logging(kProgram);
  } catch (const kcm::Error& e) {
    auto sink = std::make_shared<spdlog::sinks::stderr_sink_st>();
    sink->set_pattern(std::string(kProgram) + ": %l: %v");
    spdlog::set_default_logger(std::make_shared<spdlog::logger>(kProgram, sink));
    spdlog::warn("{}", e.what());
  }
}

// spdlog's file sink opens its file without O_CLOEXEC, so runc, and the hooks runc runs,
// would inherit it; this one appends through an fd that the exec closes.
class AppendFileSink final : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
 public:
  explicit AppendFileSink(const std::string& path)
      : fd_(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640)) {
    if (!fd_.valid()) throw kcm::sys_error("open log file", path, errno);
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t line;
    formatter_->format(msg, line);
    ssize_t ignored = ::write(fd_.get(), line.data(), line.size());
    (void)ignored;  // a log line that cannot be written must not fail the container
  }
  void flush_() override {}

 private:
  kcm::UniqueFd fd_;
};

// The log file records at least what the wrapper did to each bundle (info), whatever
// $KCM_LOG_LEVEL says for stderr: it is the operator's only trace of it.
void add_log_file(const std::string& path) {
  try {
    auto sink = std::make_shared<AppendFileSink>(path);
    sink->set_pattern("%Y-%m-%dT%H:%M:%S%z " + std::string(kProgram) + "[%P]: %l: %v");
    auto logger = spdlog::default_logger();
    const auto level = logger->level();
    for (auto& existing : logger->sinks()) existing->set_level(level);
    sink->set_level(std::min(level, spdlog::level::info));
    logger->set_level(std::min(level, spdlog::level::info));
    logger->sinks().push_back(sink);
    g_file_log = std::make_shared<spdlog::logger>(kProgram, sink);
  } catch (const kcm::Error& e) {
    spdlog::warn("{}", e.what());
  }
}

// "" when /proc is not there: loop detection and the default hook path then find
// nothing, which fails only containers that ask for CPUs.
std::string self_exe() {
  char buf[PATH_MAX];
  if (::realpath("/proc/self/exe", buf) == nullptr) {
    spdlog::warn("{}", kcm::sys_error("resolve", "/proc/self/exe", errno).what());
    return "";
  }
  return buf;
}

std::optional<std::string> working_dir() {
  char buf[PATH_MAX];
  if (::getcwd(buf, sizeof buf) == nullptr) {
    spdlog::warn("{}; passing the container through without kcm hooks",
                 kcm::sys_error("get", "working directory", errno).what());
    return std::nullopt;
  }
  return buf;
}

// Adds the hooks to <bundle>/config.json when the container asks for CPUs. Throws only
// for a container that asks for CPUs and cannot get the hooks; logs and returns for
// everything else.
void edit_bundle(const std::string& bundle, const kcm::RuntimeConfig& config,
                 const std::optional<std::string>& config_error, const std::string& self) {
  const std::string display = kcm::join_path(bundle, "config.json");
  kcm::UniqueFd dir;
  std::string text;
  struct stat st;
  try {
    dir = kcm::open_dir(bundle);
    text = kcm::read_file_at(dir.get(), "config.json", display);
    if (::fstatat(dir.get(), "config.json", &st, AT_SYMLINK_NOFOLLOW) != 0) {
      throw kcm::sys_error("stat", display, errno);
    }
  } catch (const kcm::Error& e) {
    spdlog::warn("{}; passing the container through without kcm hooks", e.what());
    return;
  }
  const kcm::HookCommand hook{kcm::resolve_hook(config.hook, self), config.conf_dir};
  kcm::SpecEdit edit;
  try {
    edit = kcm::edit_spec(text, hook, display);
  } catch (const kcm::Error& e) {
    spdlog::warn("{}; passing the container through without kcm hooks", e.what());
    return;
  }
  if (!edit.asks_for_cpus) return;
  if (!edit.content) {
    spdlog::info("{}: kcm hooks already present", display);
    return;
  }
  if (config_error) {
    throw kcm::Error("the container asks for CPUs and the kcm-runtime config is broken: " +
                     *config_error);
  }
  if (edit.annotation_error) {
    spdlog::warn("{}: {}; adding the kcm hooks so that kcm-hook rejects it", display,
                 *edit.annotation_error);
  }
  if (::access(hook.path.c_str(), X_OK) != 0) {
    throw kcm::with_context("the container asks for CPUs",
                            kcm::sys_error("run kcm-hook", hook.path, errno));
  }
  try {
    kcm::write_file_atomic(dir.get(), "config.json", *edit.content, display, st.st_mode & 07777);
  } catch (const kcm::Error& e) {
    throw kcm::with_context("the container asks for CPUs", e);
  }
  spdlog::info("{}: added kcm hooks ({} --conf-dir={})", display, hook.path, hook.conf_dir);
}

// The one place an error is printed, as `kcm-runtime: <message>`.
void report(const char* message) {
  (void)std::fprintf(stderr, "%s: %s\n", kProgram, message);
  if (g_file_log) {
    g_file_log->error("{}", message);
    g_file_log->flush();
  }
}

int run(int argc, char** argv) {
  start_logging();
  const std::string config_path = kcm::runtime_config_path();
  kcm::RuntimeConfig config;
  std::optional<std::string> config_error;
  try {
    config = kcm::load_runtime_config(config_path);
  } catch (const kcm::Error& e) {
    // DESIGN.md: a broken config must not fail containers that do not ask for CPUs, so
    // they run on the defaults; edit_bundle fails those that do.
    config_error = e.what();
  }
  if (!config.log_file.empty()) add_log_file(config.log_file);

  const std::string self = self_exe();
  const char* path_env = std::getenv("PATH");
  std::string runtime;
  try {
    runtime = kcm::resolve_runtime(
        config.runtime, path_env != nullptr ? path_env : "/usr/sbin:/usr/bin:/sbin:/bin", self);
  } catch (const kcm::Error& e) {
    if (!config_error) throw;
    throw kcm::Error(std::string(e.what()) + " (after ignoring the config: " + *config_error + ")");
  }

  std::optional<kcm::RuntimeCommand> command;
  try {
    command = kcm::parse_runtime_args({argv + 1, argv + argc});
  } catch (const kcm::Error& e) {
    spdlog::warn("{}; passing the command through unchanged", e.what());
  }
  if (command && kcm::creates_container(*command)) {
    if (auto cwd = working_dir()) {
      edit_bundle(kcm::bundle_dir(*command, *cwd), config, config_error, self);
    }
  }

  if (config_error) spdlog::error("{}; ran {} with the defaults", *config_error, runtime);
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
    report(e.what());
    return e.exit_code();
  } catch (const std::exception& e) {
    report(e.what());
    return kcm::kExitFailure;
  }
}

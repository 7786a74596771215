// kcm-runtime: the OCI runtime binary an engine (containerd, Docker, podman) is told to
// use. On create/run it adds the kcm hooks to the bundle's config.json when the container
// asks for CPUs; then, for every subcommand, it execs the real runtime with the original
// arguments. It must never be the reason a container that does not ask for CPUs fails,
// and never lets one that asks for CPUs run unpinned: a bundle it cannot edit it passes
// through only when the container asks for none (docs/runtime.md, "When something is
// wrong").
#include <fcntl.h>
#include <spdlog/details/null_mutex.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "env.h"
#include "error.h"
#include "fs.h"
#include "json.h"
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
void start_logging(const kcm::Settings& settings) {
  try {
    kcm::init_logging(kProgram, settings.log_level);
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

// What a relative bundle is relative to. When getcwd fails (an unreadable ancestor, a
// path longer than PATH_MAX) the bundle is opened relative to "." all the same, as runc
// opens it.
std::string working_dir() {
  char buf[PATH_MAX];
  return ::getcwd(buf, sizeof buf) != nullptr ? buf : ".";
}

// A config.json the wrapper cannot edit, or will not, may still be read by runc, which
// would then run the container unpinned. So a container that asks for CPUs (or may: see
// may_ask_for_cpus) is refused here; any other passes through, and runc reports whatever
// else is wrong with the file.
void refuse_if_it_asks(std::string_view text, const std::string& why) {
  if (kcm::may_ask_for_cpus(text)) {
    throw kcm::Error(why + "; refusing a container that asks for CPUs");
  }
  spdlog::warn("{}; passing the container through without kcm hooks: it asks for no CPUs", why);
}

// Adds the hooks to <bundle>/config.json when the container asks for CPUs. Throws for a
// container that asks for CPUs and cannot get the hooks, and for a file whose request the
// wrapper cannot read; logs and returns for everything else.
void edit_bundle(const std::string& bundle, const kcm::RuntimeConfig& config,
                 const std::optional<std::string>& config_error, const std::string& self) {
  const std::string display = kcm::join_path(bundle, "config.json");
  // O_NONBLOCK: a FIFO planted as config.json must not hang the engine's call.
  constexpr int kOpenFlags = O_RDONLY | O_CLOEXEC | O_NONBLOCK;
  kcm::UniqueFd dir;
  kcm::UniqueFd file;
  bool symlink = false;
  try {
    dir = kcm::open_dir(bundle);
    file = kcm::UniqueFd(::openat(dir.get(), "config.json", kOpenFlags | O_NOFOLLOW));
    if (!file.valid() && errno == ELOOP) {
      symlink = true;
      file = kcm::UniqueFd(::openat(dir.get(), "config.json", kOpenFlags));
    }
    if (!file.valid()) throw kcm::sys_error("open", display, errno);
  } catch (const kcm::Error& e) {
    // runc runs with the wrapper's credentials and opens the same path: it cannot read
    // the file either, and fails the container itself.
    spdlog::warn("{}; passing the container through without kcm hooks", e.what());
    return;
  }
  struct stat st;
  std::string text;
  try {
    if (::fstat(file.get(), &st) != 0) throw kcm::sys_error("stat", display, errno);
    if (!S_ISREG(st.st_mode)) throw kcm::op_error("read", display, "is not a regular file");
    text = kcm::read_json_text(file.get(), kcm::kMaxSpecBytes, "OCI spec", display);
  } catch (const kcm::Error& e) {
    // A FIFO or a device could give runc a container that asks for CPUs.
    throw kcm::Error(std::string(e.what()) +
                     ": kcm-runtime cannot tell whether the container asks for CPUs; refusing it");
  }
  if (symlink) {
    refuse_if_it_asks(text,
                      kcm::quote(display) + " is a symlink: kcm-runtime will not edit through it");
    return;
  }
  const kcm::HookCommand hook{kcm::resolve_hook(config.hook, self), config.conf_dir};
  kcm::SpecEdit edit;
  try {
    edit = kcm::edit_spec(text, hook, display);
  } catch (const kcm::Error& e) {
    refuse_if_it_asks(text, e.what());
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
  const kcm::Settings settings = kcm::read_settings();
  start_logging(settings);
  const std::string& config_path = settings.runtime_config;
  kcm::RuntimeConfig config;
  std::optional<std::string> config_error;
  try {
    config = kcm::load_runtime_config(config_path);
  } catch (const kcm::Error& e) {
    // docs/runtime.md "When something is wrong": a broken config must not fail containers
    // that do not ask for CPUs, so they run on the defaults; edit_bundle fails those that do.
    config_error = e.what();
  }
  if (!config.log_file.empty()) add_log_file(config.log_file);

  const std::string self = self_exe();
  std::string runtime;
  try {
    runtime = kcm::resolve_runtime(config.runtime, settings.path, self);
  } catch (const kcm::Error& e) {
    if (!config_error) throw;
    throw kcm::Error(std::string(e.what()) + " (after ignoring the config: " + *config_error + ")");
  }

  std::vector<kcm::RuntimeCommand> readings;
  try {
    readings = kcm::parse_runtime_args({argv + 1, argv + argc});
  } catch (const kcm::Error& e) {
    // No reading of the line creates a container: runc refuses it.
    spdlog::warn("{}; passing the command through unchanged", e.what());
  }
  if (readings.size() > 1) {
    spdlog::warn(
        "a global flag kcm-runtime does not know may or may not take a value: "
        "acting on each of {} readings of the command line",
        readings.size());
  }
  const std::string cwd = working_dir();
  for (const kcm::RuntimeCommand& command : readings) {
    if (kcm::creates_container(command)) {
      edit_bundle(kcm::bundle_dir(command, cwd), config, config_error, self);
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

#include "log.h"

#include <fcntl.h>
#include <spdlog/details/null_mutex.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/sinks/syslog_sink.h>
#include <spdlog/spdlog.h>
#include <syslog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <memory>

#include "error.h"
#include "fs.h"

namespace kcm {

namespace {

// Every line kcm prints begins "<program>: <level>: ". A file that several processes
// append to also gets the time and the writer's PID in front.
std::string line_pattern(const std::string& program, bool stamped) {
  return stamped ? "%Y-%m-%dT%H:%M:%S%z " + program + "[%P]: %l: %v" : program + ": %l: %v";
}

// spdlog's file sink opens its file without O_CLOEXEC, so a program exec'd afterwards
// (runc, and the hooks runc runs) would inherit it; this one appends through an fd that
// the exec closes.
class AppendFileSink final : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
 public:
  explicit AppendFileSink(const std::string& path)
      : fd_(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640)) {
    if (!fd_.valid()) throw sys_error("open log file", path, errno);
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t line;
    formatter_->format(msg, line);
    ssize_t ignored = ::write(fd_.get(), line.data(), line.size());
    (void)ignored;  // a log line that cannot be written must not fail the program
  }
  void flush_() override {}

 private:
  UniqueFd fd_;
};

// The log file alone, for report_error; null until add_log_file opens one.
std::shared_ptr<spdlog::logger> g_file_log;

}  // namespace

void init_logging(const std::string& program, const std::string& level_name, bool also_syslog) {
  spdlog::level::level_enum level = spdlog::level::warn;
  if (!level_name.empty()) {
    level = spdlog::level::from_str(level_name);
    // from_str answers "off" for anything it does not know.
    if (level == spdlog::level::off && level_name != "off") {
      throw usage_error("KCM_LOG_LEVEL: " + quote(level_name) +
                        " is not one of trace, debug, info, warn, error, off");
    }
  }
  std::vector<spdlog::sink_ptr> sinks;
  auto err = std::make_shared<spdlog::sinks::stderr_sink_st>();
  err->set_pattern(line_pattern(program, false));
  sinks.push_back(err);
  if (also_syslog) {
    // LOG_NDELAY: openlog connects to /dev/log now, not at the first message; glibc's
    // syslog() keeps sending on that connection.
    auto sys = std::make_shared<spdlog::sinks::syslog_sink_st>(program, LOG_PID | LOG_NDELAY,
                                                               LOG_DAEMON, false);
    sys->set_pattern("%v");
    sinks.push_back(sys);
  }
  auto logger = std::make_shared<spdlog::logger>(program, sinks.begin(), sinks.end());
  logger->set_level(level);
  spdlog::set_default_logger(logger);
}

void init_logging_or_default(const std::string& program, const std::string& level) {
  try {
    init_logging(program, level);
  } catch (const Error& e) {
    init_logging(program, "");
    spdlog::warn("{}", e.what());
  }
}

void add_log_file(const std::string& program, const std::string& path) {
  try {
    auto sink = std::make_shared<AppendFileSink>(path);
    sink->set_pattern(line_pattern(program, true));
    auto logger = spdlog::default_logger();
    // The logger passes info on for the file; the other sinks keep the level they had.
    const auto level = logger->level();
    for (auto& existing : logger->sinks()) existing->set_level(level);
    sink->set_level(std::min(level, spdlog::level::info));
    logger->set_level(std::min(level, spdlog::level::info));
    logger->sinks().push_back(sink);
    g_file_log = std::make_shared<spdlog::logger>(program, sink);
  } catch (const Error& e) {
    spdlog::warn("{}", e.what());
  }
}

void report_error(const std::string& program, std::string_view message) {
  (void)std::fprintf(stderr, "%s: %.*s\n", program.c_str(), static_cast<int>(message.size()),
                     message.data());
  if (g_file_log) {
    g_file_log->error("{}", message);
    g_file_log->flush();
  }
}

}  // namespace kcm

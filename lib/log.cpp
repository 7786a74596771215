#include "log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/sinks/syslog_sink.h>
#include <spdlog/spdlog.h>
#include <syslog.h>

#include "error.h"

namespace kcm {

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
  err->set_pattern(program + ": %l: %v");
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

}  // namespace kcm

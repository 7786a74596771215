// Logging for every program: spdlog to stderr as "<program>: <level>: <message>", at the
// level of $KCM_LOG_LEVEL (Settings::log_level: trace, debug, info, warn, error, off;
// default warn), and for
// kcm-hook also to syslog, because crun discards a hook's output. The syslog connection
// is made here, so that syslog() needs no new socket afterwards (the hook's seccomp
// filter denies them).
#pragma once

#include <string>

namespace kcm {

// Call once at the start of main with Settings::log_level ("" is warn). Throws a usage
// Error for an unknown level.
void init_logging(const std::string& program, const std::string& level,
                  bool also_syslog = false);

}  // namespace kcm
